// Streaming indicators: O(1) or O(period) per update, no allocation per bar.
// Each `update` takes the newest value and returns the indicator's value, NaN until it is warm.

/**
 * Simple moving average. The value is the window summed afresh, oldest to newest, then divided by
 * the period: no running-sum drift, so two identical windows always give bit-identical averages
 * (this is what decides exact ties in crossover rules).
 */
export class SMA {
  private buf: Float64Array;
  private i = 0;
  private count = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`SMA period must be a whole number >= 1, got ${period}`);
    this.buf = new Float64Array(period);
  }
  update(x: number): number {
    this.buf[this.i] = x;
    this.i = (this.i + 1) % this.period;
    if (this.count < this.period) this.count++;
    if (this.count < this.period) return (this.value = NaN);
    let s = 0;
    for (let k = 0, j = this.i; k < this.period; k++) {
      s += this.buf[j];
      if (++j === this.period) j = 0;
    }
    return (this.value = s / this.period);
  }
}

/** Exponential moving average seeded with the SMA of the first `period` values. */
export class EMA {
  private readonly k: number;
  private seed = 0;
  private count = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`EMA period must be a whole number >= 1, got ${period}`);
    this.k = 2 / (period + 1);
  }
  update(x: number): number {
    if (this.count < this.period) {
      this.seed += x;
      this.count++;
      if (this.count === this.period) this.value = this.seed / this.period;
      return this.value;
    }
    return (this.value = (x - this.value) * this.k + this.value);
  }
}

/** Wilder's RSI (the definition technicalindicators and most charting tools use). */
export class RSI {
  private prev = NaN;
  private n = 0;
  private avgGain = 0;
  private avgLoss = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`RSI period must be a whole number >= 1, got ${period}`);
  }
  update(x: number): number {
    if (Number.isNaN(this.prev)) {
      this.prev = x;
      return NaN;
    }
    const d = x - this.prev;
    this.prev = x;
    const gain = d > 0 ? d : 0;
    const loss = d < 0 ? -d : 0;
    this.n++;
    if (this.n <= this.period) {
      this.avgGain += gain / this.period;
      this.avgLoss += loss / this.period;
      if (this.n < this.period) return NaN;
    } else {
      this.avgGain = (this.avgGain * (this.period - 1) + gain) / this.period;
      this.avgLoss = (this.avgLoss * (this.period - 1) + loss) / this.period;
    }
    if (this.avgLoss === 0) return (this.value = this.avgGain === 0 ? 50 : 100);
    return (this.value = 100 - 100 / (1 + this.avgGain / this.avgLoss));
  }
}

/** Highest (or lowest) of the last `period` values, with a monotonic deque. */
export class RollingExtreme {
  private vals: Float64Array;
  private idx: Float64Array;
  private head = 0;
  private tail = 0;
  private t = 0;
  value = NaN;
  constructor(readonly period: number, readonly kind: 'max' | 'min') {
    if (!Number.isInteger(period) || period < 1) throw new Error(`window must be a whole number >= 1, got ${period}`);
    this.vals = new Float64Array(period + 1);
    this.idx = new Float64Array(period + 1);
  }
  update(x: number): number {
    const cap = this.vals.length;
    const better = this.kind === 'max' ? (a: number, b: number) => a >= b : (a: number, b: number) => a <= b;
    while (this.head !== this.tail) {
      const last = (this.tail - 1 + cap) % cap;
      if (!better(x, this.vals[last])) break;
      this.tail = last;
    }
    this.vals[this.tail] = x;
    this.idx[this.tail] = this.t;
    this.tail = (this.tail + 1) % cap;
    if (this.idx[this.head] <= this.t - this.period) this.head = (this.head + 1) % cap;
    this.t++;
    return (this.value = this.t >= this.period ? this.vals[this.head] : NaN);
  }
}

/** Sample standard deviation (ddof=1) of the last `period` values, summed afresh each update. */
export class RollingStd {
  private buf: Float64Array;
  private i = 0;
  private count = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 2) throw new Error(`std window must be a whole number >= 2, got ${period}`);
    this.buf = new Float64Array(period);
  }
  update(x: number): number {
    this.buf[this.i] = x;
    this.i = (this.i + 1) % this.period;
    if (this.count < this.period) this.count++;
    if (this.count < this.period) return (this.value = NaN);
    let s = 0;
    for (let k = 0; k < this.period; k++) s += this.buf[k];
    const m = s / this.period;
    let ss = 0;
    for (let k = 0; k < this.period; k++) ss += (this.buf[k] - m) ** 2;
    return (this.value = Math.sqrt(ss / (this.period - 1)));
  }
}

/**
 * Wilder's average true range: true ranges start at the second bar (they need a previous close, as in
 * TA-Lib and technicalindicators); the mean of the first `period` of them, then Wilder smoothing.
 */
export class ATR {
  private prevClose = NaN;
  private n = 0;
  private sum = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`ATR period must be a whole number >= 1, got ${period}`);
  }
  update(high: number, low: number, close: number): number {
    const prev = this.prevClose;
    this.prevClose = close;
    if (Number.isNaN(prev)) return NaN;
    const tr = Math.max(high - low, Math.abs(high - prev), Math.abs(low - prev));
    this.n++;
    if (this.n <= this.period) {
      this.sum += tr;
      return (this.value = this.n === this.period ? this.sum / this.period : NaN);
    }
    return (this.value = (this.value * (this.period - 1) + tr) / this.period);
  }
}
