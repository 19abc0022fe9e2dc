import { ExactSum } from '../exact-sum.ts';
import { type BarIndicator, checkPeriod } from './indicator.ts';

/**
 * Wilder's average true range: true ranges start at the second bar (they need a previous close, as in
 * TA-Lib and technicalindicators); the mean of the first `period` of them (the true mean rounded once),
 * then Wilder smoothing. `update(high, low, close)` takes one bar.
 */
export class ATR implements BarIndicator {
  private prevClose = NaN;
  private n = 0;
  private readonly sum = new ExactSum();
  private v = NaN;
  private pv = NaN;
  constructor(readonly period: number) {
    checkPeriod('ATR period', period);
  }
  get value(): number {
    return this.v;
  }
  get previous(): number {
    return this.pv;
  }
  /** after `period` true ranges, i.e. `period + 1` bars */
  get isReady(): boolean {
    return this.n >= this.period;
  }
  update(high: number, low: number, close: number): number {
    this.pv = this.v;
    const prev = this.prevClose;
    this.prevClose = close;
    if (Number.isNaN(prev)) return NaN;
    const tr = Math.max(high - low, Math.abs(high - prev), Math.abs(low - prev));
    this.n++;
    if (this.n <= this.period) {
      this.sum.add(tr);
      return (this.v = this.n === this.period ? this.sum.mean(this.period) : NaN);
    }
    return (this.v = (this.v * (this.period - 1) + tr) / this.period);
  }
}
