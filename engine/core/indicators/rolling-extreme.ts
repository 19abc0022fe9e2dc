import { checkPeriod, type PriceIndicator } from './indicator.ts';

/** Highest (or lowest) of the last `period` values, with a monotonic deque. */
export class RollingExtreme implements PriceIndicator {
  private vals: Float64Array;
  private idx: Float64Array;
  private head = 0;
  private tail = 0;
  private t = 0;
  private v = NaN;
  private pv = NaN;
  constructor(
    readonly period: number,
    readonly kind: 'max' | 'min',
  ) {
    checkPeriod('window', period);
    this.vals = new Float64Array(period + 1);
    this.idx = new Float64Array(period + 1);
  }
  get value(): number {
    return this.v;
  }
  get previous(): number {
    return this.pv;
  }
  get isReady(): boolean {
    return this.t >= this.period;
  }
  update(x: number): number {
    this.pv = this.v;
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
    return (this.v = this.t >= this.period ? this.vals[this.head] : NaN);
  }
}

/** The highest of the last `period` values (a Donchian channel's upper band of highs). */
export class Highest extends RollingExtreme {
  constructor(period: number) {
    super(period, 'max');
  }
}

/** The lowest of the last `period` values (a Donchian channel's lower band of lows). */
export class Lowest extends RollingExtreme {
  constructor(period: number) {
    super(period, 'min');
  }
}
