import type { Bar, EpochMs } from '../core/types.ts';

/** A bar being built for one symbol (the symbol is its slot). */
type Bucket = Omit<Bar, 'symbol' | 'sid'> & {
  /** start of its first sub-bar, and of the sub-bar that would continue it without a gap */
  first: EpochMs;
  expect: EpochMs;
  /** some of its sub-bars were never received: it is not the bar the exchange made */
  partial: boolean;
};

/** Why a bucket was given up on instead of emitted. */
export interface PartialBar {
  sid: number;
  ts: EpochMs;
  /** start of the first and the end of the last sub-bar it received */
  first: EpochMs;
  last: EpochMs;
}

/**
 * Builds the strategy's bars from smaller ones (IB's 5-second real-time bars) the way stored bars
 * are built: open of the first, max high, min low, close of the last, summed volume, over buckets
 * aligned on the bar length (minute buckets in exchange time equal UTC ones: offsets are whole hours;
 * daily buckets use `bucketOf`). Groups come out in time order, symbols in run order, each as soon
 * as every symbol's bucket is known complete: its last sub-bar arrived, or time passed its end.
 *
 * The partial-bar rule: a bucket is whole only if its sub-bars cover it without a gap, from its start
 * to its end. One that began mid-bar (a subscription, a reconnect, a restart) or lost sub-bars (a drop)
 * is never emitted as a bar: it goes to `onPartial` instead.
 */
export class BarAggregator {
  private readonly open: (Bucket | null)[];
  private readonly ready: Bucket[][]; // finished buckets per symbol, oldest first
  private readonly views: Bar[];

  constructor(
    readonly symbols: readonly string[],
    readonly intervalMs: number,
    readonly subMs = 5_000,
    /** start of the bucket holding `ts` (default: aligned on intervalMs in UTC) */
    private readonly bucketOf: (ts: EpochMs) => EpochMs = (ts) => ts - (((ts % intervalMs) + intervalMs) % intervalMs),
    private readonly onPartial: (p: PartialBar) => void = () => {},
  ) {
    this.open = symbols.map(() => null);
    this.ready = symbols.map(() => []);
    this.views = symbols.map((symbol, sid) => ({ symbol, sid, ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 }));
  }

  /** A sub-bar starting at `ts` (sub-bars of one symbol come in time order). */
  add(sid: number, ts: EpochMs, open: number, high: number, low: number, close: number, volume: number): void {
    const start = this.bucketOf(ts);
    let b = this.open[sid];
    if (b && b.ts !== start) {
      // a later bucket began: the earlier one is over, whole only if it reached its end
      if (b.expect < b.ts + this.intervalMs) b.partial = true;
      this.ready[sid].push(b);
      b = null;
    }
    if (!b) {
      b = { ts: start, open, high, low, close, volume, first: ts, expect: ts + this.subMs, partial: ts !== start };
      this.open[sid] = b;
    } else {
      if (ts !== b.expect) b.partial = true;
      if (high > b.high) b.high = high;
      if (low < b.low) b.low = low;
      b.close = close;
      b.volume += volume;
      b.expect = ts + this.subMs;
    }
    if (ts + this.subMs >= start + this.intervalMs) {
      this.ready[sid].push(b);
      this.open[sid] = null;
    }
  }

  /**
   * Emits every group that is known complete, oldest first: each symbol has finished its bucket or
   * moved past it, or all bars starting before `knownUpTo` have arrived (-Infinity: nothing known).
   */
  flush(knownUpTo: EpochMs, emit: (ts: EpochMs, bars: readonly Bar[], n: number) => void): void {
    const n = this.symbols.length;
    for (;;) {
      let next = Infinity;
      for (let s = 0; s < n; s++) {
        const head = this.ready[s][0] ?? this.open[s];
        if (head && head.ts < next) next = head.ts;
      }
      if (next === Infinity) return;
      if (knownUpTo < next + this.intervalMs) {
        for (let s = 0; s < n; s++) {
          const head = this.ready[s][0] ?? this.open[s];
          // a symbol with nothing yet for `next` has no bar there once a later sub-bar has arrived
          if (!head ? knownUpTo <= next : head === this.open[s] && head.ts === next) return; // it may still add to `next`
        }
      }
      const group: Bar[] = [];
      for (let s = 0; s < n; s++) {
        let b: Bucket | null | undefined;
        if (this.ready[s][0]?.ts === next) b = this.ready[s].shift();
        else if (this.open[s]?.ts === next) {
          b = this.open[s]!;
          this.open[s] = null;
          if (b.expect < b.ts + this.intervalMs) b.partial = true; // time passed its end before its last sub-bar came
        }
        if (!b) continue;
        if (b.partial) {
          this.onPartial({ sid: s, ts: b.ts, first: b.first, last: b.expect });
          continue;
        }
        const v = this.views[s];
        v.ts = b.ts;
        v.open = b.open;
        v.high = b.high;
        v.low = b.low;
        v.close = b.close;
        v.volume = b.volume;
        group.push(v);
      }
      if (group.length > 0) emit(next, group, group.length);
    }
  }
}
