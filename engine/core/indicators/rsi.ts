import { ExactSum } from '../exact-sum.ts';
import { checkPeriod, type PriceIndicator } from './indicator.ts';

/** Wilder's RSI (the definition technicalindicators and most charting tools use). */
export class RSI implements PriceIndicator {
  private last = NaN;
  private n = 0;
  private avgGain = 0;
  private avgLoss = 0;
  private readonly gains = new ExactSum();
  private readonly losses = new ExactSum();
  private v = NaN;
  private pv = NaN;
  constructor(readonly period: number) {
    checkPeriod('RSI period', period);
  }
  get value(): number {
    return this.v;
  }
  get previous(): number {
    return this.pv;
  }
  /** after `period` price changes, i.e. `period + 1` prices */
  get isReady(): boolean {
    return this.n >= this.period;
  }
  update(x: number): number {
    this.pv = this.v;
    if (Number.isNaN(this.last)) {
      this.last = x;
      return NaN;
    }
    const d = x - this.last;
    this.last = x;
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
    if (this.avgLoss === 0) return (this.v = this.avgGain === 0 ? 50 : 100);
    return (this.v = 100 - 100 / (1 + this.avgGain / this.avgLoss));
  }
}
