import { ExactSum } from '../exact-sum.ts';
import { checkPeriod, type PriceIndicator } from './indicator.ts';

/** Exponential moving average seeded with the SMA (true mean rounded once) of the first `period` values. */
export class EMA implements PriceIndicator {
  private readonly k: number;
  private readonly seed = new ExactSum();
  private count = 0;
  private v = NaN;
  private pv = NaN;
  constructor(readonly period: number) {
    checkPeriod('EMA period', period);
    this.k = 2 / (period + 1);
  }
  get value(): number {
    return this.v;
  }
  get previous(): number {
    return this.pv;
  }
  get isReady(): boolean {
    return this.count === this.period;
  }
  update(x: number): number {
    this.pv = this.v;
    if (this.count < this.period) {
      this.seed.add(x);
      this.count++;
      if (this.count === this.period) this.v = this.seed.mean(this.period);
      return this.v;
    }
    return (this.v = (x - this.v) * this.k + this.v);
  }
}
