// Splitting a stored bar into sub-bars (a minute into twelve 5-second bars) such that aggregating
// them gives back the stored bar exactly: open of the first, close of the last, max high, min low,
// sum of volumes (summed first to last), bit for bit.

export interface OHLCV {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * The sub-bars follow a piecewise-linear path O → nearer extreme → other extreme → C, with the
 * extremes on sub-bar boundaries (when parts >= 3), so each sub-bar is a monotone piece of the path
 * and opens where the previous one closed. Points between vertices are rounded to `tick` (0: no
 * rounding) and kept inside [low, high]; the vertices themselves are the stored values, untouched.
 * The continuous path is what makes limit and stop fills on the sub-bars equal those on the stored
 * bar. Volumes are whole numbers spread evenly (a fractional stored volume keeps its fraction in
 * the last sub-bar, or the whole volume goes there if that sum would not be exact).
 *
 * Holds for any finite prices with low <= open, close <= high. With fewer than 3 parts the vertex
 * times are fractions and may coincide in floating point (a leg far shorter than the others has
 * no duration: time n can be both the other extreme and C); the path still starts at O and ends
 * at C, and a vertex on a sub-bar boundary counts in the range of the sub-bars on both sides.
 */
export function splitBar(bar: OHLCV, parts: number, tick = 0.01): OHLCV[] {
  const { open: O, high: H, low: L, close: C, volume: V } = bar;
  if (!(parts > 1)) return [{ open: O, high: H, low: L, close: C, volume: V }];
  const n = Math.floor(parts);

  // vertices (time in sub-bar units, price)
  const lowFirst = Math.abs(O - L) < Math.abs(H - O) || (Math.abs(O - L) === Math.abs(H - O) && C >= O);
  const x1 = lowFirst ? L : H;
  const x2 = lowFirst ? H : L;
  let d1 = Math.abs(O - x1);
  let d2 = Math.abs(x1 - x2);
  let d3 = Math.abs(x2 - C);
  let total = d1 + d2 + d3;
  if (!Number.isFinite(total)) {
    // prices near ±Number.MAX_VALUE: only the ratios matter, so measure at 1/8 scale (the sum of
    // three legs then stays finite)
    const dist = (a: number, b: number): number => Math.abs(a / 8 - b / 8);
    [d1, d2, d3] = [dist(O, x1), dist(x1, x2), dist(x2, C)];
    total = d1 + d2 + d3;
  }
  const position = (d: number): number => {
    const p = (n * d) / total;
    return Number.isFinite(p) ? p : n * (d / total);
  };
  let p1 = total > 0 ? position(d1) : 0;
  let p2 = total > 0 ? position(d1 + d2) : 0;
  if (n >= 3 && total > 0) {
    // whole positions: a leg of non-zero length needs at least one sub-bar
    const lo1 = d1 > 0 ? 1 : 0;
    const hi2 = d3 > 0 ? n - 1 : n;
    p1 = Math.min(Math.max(Math.round(p1), lo1), d2 > 0 ? hi2 - 1 : hi2);
    p2 = Math.min(Math.max(Math.round(p2), d2 > 0 ? p1 + 1 : p1), hi2);
  }
  const vt = [0, p1, p2, n];
  const vp = [O, x1, x2, C];

  const at = (t: number): number => {
    // the ends first: when a vertex time rounds onto 0 or n, the path still starts at O and ends at C
    if (t === 0) return O;
    if (t === n) return C;
    for (let i = 1; i < 3; i++) if (t === vt[i]) return vp[i];
    let s = 0;
    while (s < 2 && t > vt[s + 1]) s++;
    const a = vp[s];
    const b = vp[s + 1];
    const span = vt[s + 1] - vt[s];
    let x = b;
    if (span > 0) {
      const f = (t - vt[s]) / span;
      x = a + (b - a) * f;
      if (!Number.isFinite(x)) x = a * (1 - f) + b * f; // b - a overflowed
    }
    if (tick > 0) {
      const r = Math.round(x / tick) * tick;
      if (Number.isFinite(r)) x = r; // (beyond ~1e306 there is nothing to round anyway)
    }
    return Math.min(Math.max(x, L), H);
  };

  const out: OHLCV[] = [];
  let prevClose = at(0);
  for (let k = 0; k < n; k++) {
    const open = prevClose;
    const close = at(k + 1);
    let hi = Math.max(open, close);
    let lo = Math.min(open, close);
    // the extremes inside this sub-bar, or on its boundaries (where at() may give another vertex
    // of the same time)
    for (let i = 1; i < 3; i++) {
      if (vt[i] >= k && vt[i] <= k + 1) {
        hi = Math.max(hi, vp[i]);
        lo = Math.min(lo, vp[i]);
      }
    }
    out.push({ open, high: Math.min(hi, H), low: Math.max(lo, L), close, volume: 0 });
    prevClose = close;
  }
  spreadVolume(out, V);
  return out;
}

function spreadVolume(out: OHLCV[], V: number): void {
  const n = out.length;
  if (Number.isSafeInteger(V) && V > 0) {
    const base = Math.floor(V / n);
    const extra = V - base * n;
    for (let k = 0; k < n; k++) out[k].volume = base + (k < extra ? 1 : 0);
    return;
  }
  // a fraction, a volume beyond 2^53 (whole numbers no longer sum exactly), zero, negative or not finite
  const whole = Number.isSafeInteger(Math.floor(V)) && V > 0 ? Math.floor(V) : 0;
  const base = Math.floor(whole / n);
  for (let k = 0; k < n - 1; k++) out[k].volume = base;
  out[n - 1].volume = V - base * (n - 1);
  if (!Object.is(sumVolumes(out), V)) {
    // everything in the last sub-bar (zeros of V's sign, so that -0 sums to -0)
    for (let k = 0; k < n - 1; k++) out[k].volume = V === 0 ? V : 0;
    out[n - 1].volume = V;
  }
}

/** The volumes summed first to last, as aggregateBars sums them. */
function sumVolumes(bars: readonly OHLCV[]): number {
  let volume = bars[0].volume;
  for (let k = 1; k < bars.length; k++) volume += bars[k].volume;
  return volume;
}

/**
 * Aggregates sub-bars back into one bar (the inverse of splitBar). Math.max/Math.min order -0 below
 * +0, so a stored -0 low (or +0 high) comes back bit for bit too.
 */
export function aggregateBars(bars: readonly OHLCV[]): OHLCV {
  let high = -Infinity;
  let low = Infinity;
  for (const b of bars) {
    high = Math.max(high, b.high);
    low = Math.min(low, b.low);
  }
  return { open: bars[0].open, high, low, close: bars[bars.length - 1].close, volume: sumVolumes(bars) };
}
