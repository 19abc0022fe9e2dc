import { RunningWindow } from '../exact-sum.ts';
import { checkPeriod, type PriceIndicator } from './indicator.ts';

/**
 * Simple moving average: the true mean of the window (its exact sum / period) rounded once. The sum is
 * kept exactly in Shewchuk's partials (add the new value, subtract the leaving one: no drift, as the
 * partials always hold the exact window sum). Windows with equal true means give bit-identical averages
 * whatever their order, history or length, so a one-ulp artefact of the summation never decides a
 * crossover.
 */
export class SMA implements PriceIndicator {
  private readonly w: RunningWindow;
  private v = NaN;
  private pv = NaN;
  constructor(readonly period: number) {
    checkPeriod('SMA period', period);
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
    return (this.v = this.w.push(x) ? this.w.mean() : NaN);
  }
}
