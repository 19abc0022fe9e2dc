import type { Bar, EpochMs } from '../core/types.ts';

/** A bar being built for one symbol (the symbol is its slot). */
type Bucket = Omit<Bar, 'symbol' | 'sid'>;

/**
 * Builds the strategy's bars from smaller ones (IB's 5-second real-time bars) the way stored bars
 * are built: open of the first, max high, min low, close of the last, summed volume, over buckets
 * aligned on the bar length (minute buckets in exchange time equal UTC ones: offsets are whole hours;
 * daily buckets use `bucketOf`). Groups come out in time order, symbols in run order, each as soon
 * as every symbol's bucket is known complete: its last sub-bar arrived, or time passed its end.
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
  ) {
    this.open = symbols.map(() => null);
    this.ready = symbols.map(() => []);
    this.views = symbols.map((symbol, sid) => ({ symbol, sid, ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 }));
  }

  /**
   * A trade tick: a zero-length sub-bar. It never completes its bucket by itself (a tick cannot
   * know it is the last): the bucket closes when a later one starts or time passes its end.
   */
  addTick(sid: number, ts: EpochMs, price: number, size: number): void {
    const end = this.bucketOf(ts) + this.intervalMs;
    // as a sub-bar ending well before the bucket's end, so `add` does not close the bucket
    this.add(sid, Math.min(ts, end - 2 * this.subMs), price, price, price, price, size);
  }

  /** A sub-bar starting at `ts` (sub-bars of one symbol come in time order). */
  add(sid: number, ts: EpochMs, open: number, high: number, low: number, close: number, volume: number): void {
    const start = this.bucketOf(ts);
    let b = this.open[sid];
    if (b && b.ts !== start) {
      this.ready[sid].push(b); // a later bucket began: the earlier one is over
      b = null;
    }
    if (!b) {
      b = { ts: start, open, high, low, close, volume };
      this.open[sid] = b;
    } else {
      if (high > b.high) b.high = high;
      if (low < b.low) b.low = low;
      b.close = close;
      b.volume += volume;
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
          if (!head || (head === this.open[s] && head.ts === next)) return; // it may still add to `next`
        }
      }
      const group: Bar[] = [];
      for (let s = 0; s < n; s++) {
        let b: Bucket | null | undefined;
        if (this.ready[s][0]?.ts === next) b = this.ready[s].shift();
        else if (this.open[s]?.ts === next) {
          b = this.open[s];
          this.open[s] = null;
        }
        if (!b) continue;
        const v = this.views[s];
        v.ts = b.ts;
        v.open = b.open;
        v.high = b.high;
        v.low = b.low;
        v.close = b.close;
        v.volume = b.volume;
        group.push(v);
      }
      emit(next, group, group.length);
    }
  }
}
