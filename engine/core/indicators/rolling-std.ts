import { ExactSum, RunningWindow, windowSumSqDev } from '../exact-sum.ts';
import { checkPeriod, type PriceIndicator } from './indicator.ts';

/**
 * Sample standard deviation (ddof=1) of the last `period` values: the mean is the true mean rounded once,
 * the sum of squared deviations (each (x - mean)^2 rounded) the true sum rounded once, every update.
 */
export class RollingStd implements PriceIndicator {
  private readonly w: RunningWindow;
  private readonly acc = new ExactSum();
  private v = NaN;
  private pv = NaN;
  constructor(readonly period: number) {
    checkPeriod('std window', period, 2);
    this.w = new RunningWindow(period);
  }
  get value(): number {
    return this.v;
  }
  get previous(): number {
    return this.pv;
  }
  get isReady(): boolean {
    return this.w.count === this.period;
  }
  update(x: number): number {
    this.pv = this.v;
    if (!this.w.push(x)) return (this.v = NaN);
    const m = this.w.mean();
    const ss = windowSumSqDev(this.w.buf, 0, this.period, m, this.acc);
    return (this.v = Math.sqrt(ss / (this.period - 1)));
  }
}
