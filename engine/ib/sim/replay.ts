// The replay timeline and the virtual clock: stored bars of all symbols merged in time order (series
// order at equal times), each split into 5-second sub-bars; one batch = every symbol's sub-bar at one time.
// A quoted series (bid/ask columns: FX pairs, options; its OHLC the mid) has its bid and its ask split the same
// way, so orders fill on each 5-second bar against the side they take, as the backtest fills them on the stored
// bar (engine/exec/quote-fill.ts); their points between vertices are not rounded to a tick.
import { INTERVAL_MS, type BarSeries } from '../../core/types.ts';
import { lowerBound } from '../../core/search.ts';
import type { QuoteSides } from '../../exec/quote-fill.ts';
import { splitBar, type OHLCV } from './split.ts';

export const SUB_BAR_MS = 5_000;

export interface SubBar extends OHLCV {
  sid: number;
  /** sub-bar start, epoch ms */
  ts: number;
  /** start of the stored bar it belongs to */
  storedTs: number;
  /** index of the stored bar in its series */
  index: number;
  /** the last sub-bar of its stored bar: the stored bar is complete after it */
  last: boolean;
  /** a quoted series: this sub-bar's bid and ask (each side's size the stored bar's) */
  quote?: QuoteSides;
}

export interface Batch {
  /** 0, 1, 2, ... */
  seq: number;
  ts: number;
  /** ts + the sub-bar length: the virtual clock after this batch */
  end: number;
  bars: SubBar[];
}

export class Replay {
  readonly intervalMs: number;
  /** sub-bars per stored bar: intraday bars split into 5-second bars, daily bars emitted whole */
  readonly parts: number;
  readonly subMs: number;
  /** index of the first replayed bar of each series (earlier bars are history only) */
  readonly startIndex: number[];
  private readonly cursor: number[];
  private group: { sid: number; index: number; parts: OHLCV[]; quotes: QuoteSides[] | null }[] = [];
  private groupTs = NaN;
  private part = 0;
  private seq = 0;
  private clock: number;
  private readonly tick: number;

  constructor(
    private readonly series: readonly BarSeries[],
    opts: { from?: number; tick?: number } = {},
  ) {
    if (series.length === 0) throw new Error('the simulator needs at least one series');
    const interval = series[0].interval;
    for (const s of series)
      if (s.interval !== interval) throw new Error(`all series must share one interval: ${s.symbol} is ${s.interval}, ${series[0].symbol} is ${interval}`);
    this.intervalMs = INTERVAL_MS[interval];
    this.parts = this.intervalMs < INTERVAL_MS['1d'] ? Math.max(1, Math.round(this.intervalMs / SUB_BAR_MS)) : 1;
    this.subMs = this.intervalMs / this.parts;
    this.tick = opts.tick ?? 0.01;
    const from = opts.from ?? -Infinity;
    this.startIndex = series.map((s) => {
      let i = 0;
      while (i < s.ts.length && s.ts[i] < from) i++;
      return i;
    });
    this.cursor = this.startIndex.slice();
    const first = this.nextStoredTs();
    this.clock = Number.isFinite(first) ? first : Number.isFinite(from) ? from : 0;
  }

  /** The virtual clock (ms): the end of the last batch, or the start of the first one before any. */
  now(): number {
    return this.clock;
  }

  /** No batch left. */
  get done(): boolean {
    return (this.group.length === 0 || this.part >= this.parts) && !Number.isFinite(this.nextStoredTs());
  }

  /** Start of the next batch (Infinity at the end). */
  peekTs(): number {
    if (this.group.length > 0 && this.part < this.parts) return this.groupTs + this.part * this.subMs;
    return this.nextStoredTs();
  }

  /** Sequence number the next batch will carry. */
  get nextSeq(): number {
    return this.seq;
  }

  /** The next batch, or null at the end. Advances the clock to the batch's end. */
  next(): Batch | null {
    if (this.group.length === 0 || this.part >= this.parts) {
      if (!this.loadGroup()) return null;
    }
    const k = this.part++;
    const ts = this.groupTs + k * this.subMs;
    const bars: SubBar[] = this.group.map((g) => {
      const b: SubBar = { ...g.parts[k], sid: g.sid, ts, storedTs: this.groupTs, index: g.index, last: k === this.parts - 1 };
      if (g.quotes) b.quote = g.quotes[k];
      return b;
    });
    const end = ts + this.subMs;
    this.clock = end;
    return { seq: this.seq++, ts, end, bars };
  }

  /**
   * Continues a replay that had emitted `batches` batches and stood at `clock` (the end of the last
   * one). Throws when the clock is not a batch boundary of these series.
   */
  resume(clock: number, batches: number): void {
    const outside = (why: string) => new Error(`the snapshot's clock ${new Date(clock).toISOString()} is ${why}`);
    this.group = [];
    this.part = 0;
    this.seq = batches;
    this.clock = clock;
    if (batches === 0) {
      // nothing replayed yet: the replay starts at the first bar at or after the clock
      for (let s = 0; s < this.series.length; s++) this.cursor[s] = lowerBound(this.series[s].ts, clock);
      if (this.nextStoredTs() !== clock) throw outside('not the start of a stored bar of these series');
      return;
    }
    // the stored bars whose sub-bar ended at `clock`: the latest start at or before that sub-bar's start
    const last = clock - this.subMs;
    let g = -Infinity;
    for (const s of this.series) {
      const i = lowerBound(s.ts, last + 1) - 1;
      if (i >= 0 && s.ts[i] > g) g = s.ts[i];
    }
    if (!Number.isFinite(g) || last - g >= this.intervalMs || (last - g) % this.subMs !== 0) {
      const first = Math.min(...this.series.map((s) => s.ts[0] ?? Infinity));
      const end = Math.max(...this.series.map((s) => (s.ts[s.ts.length - 1] ?? -Infinity) + this.intervalMs));
      throw outside(
        `outside the series (${new Date(first).toISOString()} to ${new Date(end).toISOString()}) or not on a ${this.subMs / 1000}-second boundary of its bars`,
      );
    }
    for (let s = 0; s < this.series.length; s++) this.cursor[s] = lowerBound(this.series[s].ts, g);
    this.loadGroup();
    this.part = (last - g) / this.subMs + 1;
  }

  /** Bar i of a quoted series as `parts` sub-bar quotes: each side split like a bar (a side without a quote: NaN throughout). */
  private splitQuote(x: BarSeries, i: number): QuoteSides[] {
    const side = (o: number, h: number, l: number, c: number): OHLCV[] =>
      Number.isNaN(o) || Number.isNaN(h) || Number.isNaN(l) || Number.isNaN(c)
        ? Array.from({ length: this.parts }, () => ({ open: NaN, high: NaN, low: NaN, close: NaN, volume: 0 }))
        : splitBar({ open: o, high: h, low: l, close: c, volume: 0 }, this.parts, 0);
    const bid = side(x.bidOpen![i], x.bidHigh![i], x.bidLow![i], x.bidClose![i]);
    const ask = side(x.askOpen![i], x.askHigh![i], x.askLow![i], x.askClose![i]);
    return bid.map((b, k) => ({
      bidOpen: b.open,
      bidHigh: b.high,
      bidLow: b.low,
      bidClose: b.close,
      bidSize: x.bidSize![i],
      askOpen: ask[k].open,
      askHigh: ask[k].high,
      askLow: ask[k].low,
      askClose: ask[k].close,
      askSize: x.askSize![i],
    }));
  }

  private nextStoredTs(): number {
    let t = Infinity;
    for (let s = 0; s < this.series.length; s++) {
      const i = this.cursor[s];
      if (i < this.series[s].ts.length && this.series[s].ts[i] < t) t = this.series[s].ts[i];
    }
    return t;
  }

  private loadGroup(): boolean {
    const t = this.nextStoredTs();
    this.group = [];
    this.part = 0;
    if (!Number.isFinite(t)) return false;
    this.groupTs = t;
    for (let s = 0; s < this.series.length; s++) {
      const x = this.series[s];
      const i = this.cursor[s];
      if (i >= x.ts.length || x.ts[i] !== t) continue;
      const bar = { open: x.open[i], high: x.high[i], low: x.low[i], close: x.close[i], volume: x.volume[i] };
      const quoted = x.bidOpen !== undefined;
      this.group.push({ sid: s, index: i, parts: splitBar(bar, this.parts, quoted ? 0 : this.tick), quotes: quoted ? this.splitQuote(x, i) : null });
      this.cursor[s] = i + 1;
    }
    return true;
  }
}
