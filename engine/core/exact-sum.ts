// Exactly rounded sums of doubles (Shewchuk's non-overlapping partials, the algorithm of Python's
// math.fsum): the result is the true sum of the inputs rounded once, to nearest with ties to even, so it
// does not depend on the order of the inputs, and two windows with equal true sums give bit-identical
// sums. Used by every windowed sum and mean (SMA, rolling std, EMA/ATR/RSI seeds, ML feature moments).

/** Finite doubles need at most about 2098/53 + 1 = 41 non-overlapping partials. */
const MAX_PARTIALS = 64;

/** An exact accumulator: add values one at a time, read the exactly rounded sum at any point. */
export class ExactSum {
  readonly p = new Float64Array(MAX_PARTIALS);
  n = 0;
  private readonly io = new Float64Array(1);
  /** the plain sum, used only when a value is not finite or an intermediate overflows */
  naive = 0;
  special = false;

  reset(): void {
    this.n = 0;
    this.naive = 0;
    this.special = false;
  }

  add(x: number): void {
    this.io[0] = x;
    this.addAt(this.io, 0);
  }

  /**
   * Adds src[i]. The hot paths pass an index, not the value: a double passed to a call that is not inlined
   * is boxed (a heap allocation per call).
   */
  addAt(src: Float64Array, at: number): void {
    let x = src[at];
    this.naive += x;
    if (this.special) return;
    if (!Number.isFinite(x)) {
      this.special = true;
      return;
    }
    const p = this.p;
    let i = 0;
    for (let j = 0; j < this.n; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    if (!Number.isFinite(x)) {
      this.special = true; // overflow of an intermediate: fall back to the plain sum (inf or NaN)
      return;
    }
    if (x !== 0) p[i++] = x;
    this.n = i;
  }

  /** The true sum of the values added since the last reset, rounded once (half to even). */
  value(): number {
    if (this.special) return this.naive;
    return roundPartials(this.p, this.n);
  }

  /**
   * The true mean (true sum / n) rounded once, half to even: not round(round(sum) / n), which can be one
   * ulp off, so equal true means give equal doubles even for different n (a 10- and a 30-bar average).
   * Exact for n <= 2^26 and |mean| >= 2^-1000 (below: the exactly rounded sum / n). A mean above 2^996, where
   * q*n could overflow in the residual, is taken of the partials scaled down by 2^-64 and scaled back up (exact,
   * unless a partial is below 2^-1010 and loses bits: it could then only decide a tie exactly half-way).
   */
  mean(n: number): number {
    // kept small so that it inlines: a double returned from a call that is not inlined is boxed (allocated)
    return !this.special && this.fastMean(n) ? this.out[0] : this.exactMean(n);
  }

  /** mean(n) written to dst[at]: nothing returned, so nothing boxed when the call is not inlined. */
  meanAt(n: number, dst: Float64Array, at: number): void {
    dst[at] = !this.special && this.fastMean(n) ? this.out[0] : this.exactMean(n);
  }

  private exactMean(n: number): number {
    if (this.special) return this.naive / n;
    const s = roundPartials(this.p, this.n);
    let q = s / n;
    if (n === 1 || s === 0 || !(n <= MAX_N) || Math.abs(q) < MIN_Q) return q;
    if (!(Math.abs(q) <= MAX_Q)) {
      const scaled = this.scratch;
      scaled.reset();
      for (let i = 0; i < this.n; i++) scaled.add(this.p[i] * 2 ** -64);
      return scaled.mean(n) * 2 ** 64;
    }
    // q is within an ulp or two of the true mean. r = the residual sum - q*n rounded once; rounding is
    // monotonic, so r strictly inside (-halfDown, halfUp) proves the exact residual is too: q is nearest.
    for (let guard = 0; guard < 8; guard++) {
      const up = nextAfter(q, 1);
      const down = nextAfter(q, -1);
      const halfUp = ((up - q) * n) / 2; // exact: a power of two times a small whole number
      const halfDown = ((q - down) * n) / 2;
      const r = this.residual(q, n, 0);
      if (r < halfUp && r > -halfDown) return q;
      if (r > halfUp) {
        q = up;
        continue;
      }
      if (r < -halfDown) {
        q = down;
        continue;
      }
      // r sits on a half-way point: decide with the exact sign of the residual minus it
      const h = r > 0 ? halfUp : -halfDown;
      const c = this.residual(q, n, h);
      if (c === 0) return isEven(q) ? q : r > 0 ? up : down;
      if (r > 0) return c > 0 ? up : q;
      return c < 0 ? down : q;
    }
    return q;
  }

  /**
   * mean(n) without the scratch partials, for nearly every window: true with the mean in out[0], false when
   * it cannot decide (exactMean then does). With s the partials summed from the top until a sum is inexact,
   * the true residual R = S - q*n (S the exact sum) is (s - qh*n) + (-ql*n) + (S - s): s - qh*n is exact
   * (Sterbenz: qh*n is within 2^-25 of s), qh*n and ql*n are exact (Veltkamp split, as in residual), and
   * S - s is the TwoSum error of the last sum plus the partials left over. When each of these sums is exact
   * (checked with TwoSum), r = R and ties are decided here. Otherwise r adds at most 66 terms and errs by
   * less than 2^-46 * A (A the sum of their magnitudes), plus 2^-1075 per operation rounding to a
   * subnormal: the margin 2^-40 * A + 2^-1060 covers that, and as rounding is monotonic and halfUp,
   * halfDown are doubles, r + margin < halfUp in floating point implies R < halfUp exactly. q is then the
   * correctly rounded mean, the one exactMean finds.
   */
  private fastMean(n: number): boolean {
    const p = this.p;
    let k = this.n;
    if (k === 0 || n === 1 || !(n <= MAX_N)) return false;
    const out = this.out; // written here, not through a call: a double passed to a call that is not inlined is boxed
    if (k === 1) {
      out[0] = p[0] / n; // the sum is a double: IEEE division rounds its mean once, to even
      return true;
    }
    // s = the partials summed from the top until a sum is inexact; S - s = its error (TwoSum, exact) + the rest
    let s = p[--k];
    let err = 0;
    while (k > 0) {
      const x = s;
      const y = p[--k];
      s = x + y;
      const yv = s - x;
      err = x - (s - yv) + (y - yv);
      if (err !== 0) break;
    }
    let q = s / n;
    const aq = Math.abs(q);
    if (s === 0 || aq < MIN_Q || !(aq <= MAX_Q)) return false;
    // err is exactly S - s when adding the partials left over was exact; r below is exact when its two sums are
    let restExact = true;
    let a = Math.abs(err);
    for (let i = 0; i < k; i++) {
      const e = err + p[i];
      const ev = e - err;
      if (err - (e - ev) + (p[i] - ev) !== 0) restExact = false;
      err = e;
      a += Math.abs(p[i]);
    }
    // q = round(s / n) is within an ulp or two of the true mean: step towards it while the residual says so
    for (let step = 0; step < 3; step++) {
      const c = SPLIT * q;
      const qh = c - (c - q);
      const ql = q - qh;
      const t1 = s - qh * n;
      const t2 = -ql * n;
      const d = t1 + t2;
      const r = d + err;
      const dv = d - t1;
      const rv = r - d;
      const exact = restExact && t1 - (d - dv) + (t2 - dv) === 0 && d - (r - rv) + (err - rv) === 0;
      const margin = exact ? 0 : (a + Math.abs(t1) + Math.abs(t2)) * 2 ** -40 + 2 ** -1060;
      // the gaps to q's neighbours: its ulp, and half of it towards zero from a power of two
      f64[0] = q;
      const top = u32[1 - LO];
      const ulp = ULP[(top >>> 20) & 0x7ff];
      const inner = (top & 0xfffff) === 0 && u32[LO] === 0 ? ulp / 2 : ulp;
      const gapUp = q > 0 ? ulp : inner;
      const gapDown = q > 0 ? inner : ulp;
      const halfUp = (gapUp * n) / 2;
      const halfDown = (gapDown * n) / 2;
      if (r + margin < halfUp && r - margin > -halfDown) {
        out[0] = q;
        return true;
      }
      if (r - margin > halfUp) q += gapUp;
      else if (r + margin < -halfDown) q -= gapDown;
      else if (exact) {
        out[0] = isEven(q) ? q : r > 0 ? q + gapUp : q - gapDown; // exactly half-way: ties to even
        return true;
      } else return false;
    }
    return false;
  }

  /** fastMean's result (not returned: see mean) */
  private readonly out = new Float64Array(1);

  /** (exact sum - q*n - h) rounded once (so its sign is exact), computed in the scratch partials. */
  private residual(q: number, n: number, h: number): number {
    const c = SPLIT * q; // Veltkamp split: q = qh + ql, each at most 26 significant bits, so qh*n, ql*n are exact
    const qh = c - (c - q);
    const ql = q - qh;
    const sc = this.scratch;
    sc.n = this.n;
    for (let i = 0; i < this.n; i++) sc.p[i] = this.p[i];
    sc.naive = 0;
    sc.special = false;
    sc.add(-qh * n);
    sc.add(-ql * n);
    if (h !== 0) sc.add(-h);
    return sc.value();
  }

  private get scratch(): ExactSum {
    return (this._scratch ??= new ExactSum());
  }
  private _scratch: ExactSum | undefined;
}

const SPLIT = 134217729; // 2^27 + 1
const MAX_N = 2 ** 26;
const MAX_Q = 2 ** 996;
const MIN_Q = 2 ** -1000;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // little-endian: low word first

/** ULP[e]: the gap above a normal double of biased exponent e (2^(e - 1075)) */
const ULP = new Float64Array(2048);
for (let e = 1; e < 2047; e++) ULP[e] = 2 ** (e - 1075);

/** The next double after finite nonzero q towards +Infinity (dir 1) or -Infinity (dir -1). */
function nextAfter(q: number, dir: 1 | -1): number {
  f64[0] = q;
  const away = q > 0 === dir > 0; // magnitude grows
  const lo = u32[LO];
  if (away) {
    if (lo === 0xffffffff) {
      u32[LO] = 0;
      u32[1 - LO]++;
    } else u32[LO] = lo + 1;
  } else if (lo === 0) {
    u32[LO] = 0xffffffff;
    u32[1 - LO]--;
  } else u32[LO] = lo - 1;
  return f64[0];
}

function isEven(q: number): boolean {
  f64[0] = q;
  return (u32[LO] & 1) === 0;
}

/** Rounds the exact sum of the non-overlapping partials p[0..n) (increasing magnitude) once. */
function roundPartials(p: Float64Array, n: number): number {
  if (n === 0) return 0;
  let hi = p[--n];
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n];
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Half-way cases: make the rounding go the right way when the remaining partials pull past the tie.
  if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

/**
 * The mean of the last `period` values pushed, kept as an exact running sum (add the new value, subtract
 * the leaving one, both exactly) and rounded once per read: O(partials) per bar instead of O(period). The
 * partials always hold the exact window sum, so the value does not depend on the history. A non-finite
 * value (or an intermediate overflow) switches to summing the window afresh until it has left.
 */
export class RunningWindow {
  readonly buf: Float64Array;
  /** index of the oldest value once full (the next slot to overwrite) */
  i = 0;
  count = 0;
  private readonly acc = new ExactSum();
  /** the value entering and the one leaving, negated (see ExactSum.addAt) */
  private readonly io = new Float64Array(2);
  constructor(readonly period: number) {
    this.buf = new Float64Array(period);
  }
  /** Pushes x; returns true once the window is full. */
  push(x: number): boolean {
    this.io[0] = x;
    return this.pushAt(this.io, 0);
  }
  /** Pushes src[at] (an index, not the value: see ExactSum.addAt); returns true once the window is full. */
  pushAt(src: Float64Array, at: number): boolean {
    const x = src[at];
    const old = this.buf[this.i];
    const full = this.count === this.period;
    this.buf[this.i] = x;
    this.i = this.i + 1 === this.period ? 0 : this.i + 1;
    if (!full) this.count++;
    const acc = this.acc;
    if (acc.special || !Number.isFinite(x) || !Number.isFinite(old)) {
      addWindow(this.buf, full ? this.i : 0, this.count, acc);
    } else {
      const io = this.io;
      io[0] = x;
      io[1] = -old;
      acc.addAt(io, 0);
      if (full) acc.addAt(io, 1);
      if (acc.special) addWindow(this.buf, this.i, this.count, acc);
    }
    return this.count === this.period;
  }
  /** The true mean of the window, rounded once. */
  mean(): number {
    return this.acc.mean(this.count);
  }
  /** mean() written to dst[at] (see ExactSum.meanAt). */
  meanAt(dst: Float64Array, at: number): void {
    this.acc.meanAt(this.count, dst, at);
  }
}

/** Accumulates the n values buf[start..] read circularly (wrapping at buf.length) into `acc` (reset first). */
function addWindow(buf: Float64Array, start: number, n: number, acc: ExactSum): ExactSum {
  const cap = buf.length;
  acc.reset();
  for (let i = 0, j = start; i < n; i++, j++) acc.addAt(buf, j < cap ? j : j - cap);
  return acc;
}

/**
 * The exactly rounded sum of the n values buf[start..] read circularly (wrapping at buf.length).
 * `acc` is the caller's scratch accumulator (reset here), so no allocation per call.
 */
export function windowSum(buf: Float64Array, start: number, n: number, acc: ExactSum): number {
  return addWindow(buf, start, n, acc).value();
}

/** The correctly rounded mean (true sum / n, rounded once) of the same window. */
export function windowMean(buf: Float64Array, start: number, n: number, acc: ExactSum): number {
  return addWindow(buf, start, n, acc).mean(n);
}

/** The exactly rounded sum of the squared deviations (buf[j] - mean)^2 of the same window (each square rounded). */
export function windowSumSqDev(buf: Float64Array, start: number, n: number, mean: number, acc: ExactSum): number {
  const cap = buf.length;
  acc.reset();
  for (let i = 0, j = start; i < n; i++, j++) {
    const d = buf[j < cap ? j : j - cap] - mean;
    acc.add(d * d);
  }
  return acc.value();
}

/** The exactly rounded sum of an array (math.fsum). */
export function fsum(xs: ArrayLike<number>): number {
  const acc = new ExactSum();
  for (let i = 0; i < xs.length; i++) acc.add(xs[i]);
  return acc.value();
}
