// Streaming indicators: O(1) or O(period) per update, no allocation per bar.
// Each `update` takes the newest value and returns the indicator's value, NaN until it is warm.
// Every mean over a window (SMA, rolling std, the EMA/RSI/ATR seeds) is the true mean rounded once, and
// the rolling std's sum of squared deviations the true sum rounded once (exact-sum.ts): neither depends
// on the order of the values nor on earlier bars.
import { ExactSum, RunningWindow, windowSumSqDev } from './exact-sum.ts';

/**
 * Simple moving average: the true mean of the window (its exact sum / period) rounded once. The sum is
 * kept exactly in Shewchuk's partials (add the new value, subtract the leaving one: no drift, as the
 * partials always hold the exact window sum). Windows with equal true means give bit-identical averages
 * whatever their order, history or length, so a one-ulp artefact of the summation never decides a
 * crossover.
 */
export class SMA {
  private readonly w: RunningWindow;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`SMA period must be a whole number >= 1, got ${period}`);
    this.w = new RunningWindow(period);
  }
  update(x: number): number {
    return (this.value = this.w.push(x) ? this.w.mean() : NaN);
  }
}

/** Exponential moving average seeded with the SMA (true mean rounded once) of the first `period` values. */
export class EMA {
  private readonly k: number;
  private readonly seed = new ExactSum();
  private count = 0;
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new Error(`EMA period must be a whole number >= 1, got ${period}`);
    this.k = 2 / (period + 1);
  }
  update(x: number): number {
    if (this.count < this.period) {
      this.seed.add(x);
      this.count++;
      if (this.count === this.period) this.value = this.seed.mean(this.period);
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
  private readonly gains = new ExactSum();
  private readonly losses = new ExactSum();
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
    const gain = Math.max(d, 0);
    const loss = d < 0 ? -d : 0;
    this.n++;
    if (this.n <= this.period) {
      // seeds: the means of the first `period` gains and losses, each the true mean rounded once
      this.gains.add(gain);
      this.losses.add(loss);
      if (this.n < this.period) return NaN;
      this.avgGain = this.gains.mean(this.period);
      this.avgLoss = this.losses.mean(this.period);
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
  constructor(
    readonly period: number,
    readonly kind: 'max' | 'min',
  ) {
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

/**
 * Sample standard deviation (ddof=1) of the last `period` values: the mean is the true mean rounded once,
 * the sum of squared deviations (each (x - mean)^2 rounded) the true sum rounded once, every update.
 */
export class RollingStd {
  private readonly w: RunningWindow;
  private readonly acc = new ExactSum();
  value = NaN;
  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 2) throw new Error(`std window must be a whole number >= 2, got ${period}`);
    this.w = new RunningWindow(period);
  }
  update(x: number): number {
    if (!this.w.push(x)) return (this.value = NaN);
    const m = this.w.mean();
    const ss = windowSumSqDev(this.w.buf, 0, this.period, m, this.acc);
    return (this.value = Math.sqrt(ss / (this.period - 1)));
  }
}

/**
 * Wilder's average true range: true ranges start at the second bar (they need a previous close, as in
 * TA-Lib and technicalindicators); the mean of the first `period` of them (the true mean rounded once),
 * then Wilder smoothing.
 */
export class ATR {
  private prevClose = NaN;
  private n = 0;
  private readonly sum = new ExactSum();
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
      this.sum.add(tr);
      return (this.value = this.n === this.period ? this.sum.mean(this.period) : NaN);
    }
    return (this.value = (this.value * (this.period - 1) + tr) / this.period);
  }
}
