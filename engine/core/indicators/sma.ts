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
    this.io[0] = x;
    this.updateAt(this.io, 0);
    return this.v;
  }
  /**
   * update(src[at]), returning nothing: for a strategy's per-bar path, where a double passed to or returned from
   * a call that is not inlined is boxed (a heap allocation per bar).
   */
  updateAt(src: Float64Array, at: number): void {
    this.pv = this.v;
    if (this.w.pushAt(src, at)) {
      this.w.meanAt(this.io, 0);
      this.v = this.io[0];
    } else this.v = NaN;
  }
  private readonly io = new Float64Array(1);
}
