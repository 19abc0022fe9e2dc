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
 */
export function splitBar(bar: OHLCV, parts: number, tick = 0.01): OHLCV[] {
  const { open: O, high: H, low: L, close: C, volume: V } = bar;
  if (!(parts > 1)) return [{ open: O, high: H, low: L, close: C, volume: V }];
  const n = Math.floor(parts);

  // vertices (time in sub-bar units, price)
  const lowFirst = Math.abs(O - L) < Math.abs(H - O) || (Math.abs(O - L) === Math.abs(H - O) && C >= O);
  const x1 = lowFirst ? L : H;
  const x2 = lowFirst ? H : L;
  const d1 = Math.abs(O - x1);
  const d2 = Math.abs(x1 - x2);
  const d3 = Math.abs(x2 - C);
  const total = d1 + d2 + d3;
  let p1 = total > 0 ? (n * d1) / total : 0;
  let p2 = total > 0 ? (n * (d1 + d2)) / total : 0;
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
    for (let i = 0; i < 4; i++) if (t === vt[i]) return vp[i];
    let s = 0;
    while (s < 2 && t > vt[s + 1]) s++;
    const a = vp[s];
    const b = vp[s + 1];
    const span = vt[s + 1] - vt[s];
    let x = span > 0 ? a + ((b - a) * (t - vt[s])) / span : b;
    if (tick > 0) x = Math.round(x / tick) * tick;
    return Math.min(Math.max(x, L), H);
  };

  const out: OHLCV[] = [];
  let prevClose = at(0);
  for (let k = 0; k < n; k++) {
    const open = prevClose;
    const close = at(k + 1);
    let hi = Math.max(open, close);
    let lo = Math.min(open, close);
    for (let i = 1; i < 3; i++) {
      if (vt[i] > k && vt[i] < k + 1) {
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
  if (Number.isInteger(V) && V >= 0) {
    const base = Math.floor(V / n);
    const extra = V - base * n;
    for (let k = 0; k < n; k++) out[k].volume = base + (k < extra ? 1 : 0);
    return;
  }
  const whole = Number.isFinite(V) && V > 0 ? Math.floor(V) : 0;
  const base = Math.floor(whole / n);
  let sum = 0;
  for (let k = 0; k < n - 1; k++) {
    out[k].volume = base;
    sum += base;
  }
  out[n - 1].volume = V - sum;
  if (sum + out[n - 1].volume !== V) {
    for (let k = 0; k < n - 1; k++) out[k].volume = 0;
    out[n - 1].volume = V;
  }
}

/** Aggregates sub-bars back into one bar (the inverse of splitBar). */
export function aggregateBars(bars: readonly OHLCV[]): OHLCV {
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  for (const b of bars) {
    if (b.high > high) high = b.high;
    if (b.low < low) low = b.low;
    volume += b.volume;
  }
  return { open: bars[0].open, high, low, close: bars[bars.length - 1].close, volume };
}
