import { EventName, WhatToShow } from '@stoqey/ib';
import type { BarSink, Feed } from '../core/ports.ts';
import type { Bar, EpochMs } from '../core/types.ts';
import { BarAggregator } from '../live/aggregator.ts';
import type { IbConnection } from './connection.ts';
import { stockContract } from './ib-broker.ts';

export interface IbFeedOptions {
  symbols: readonly string[];
  intervalMs: number;
  /**
   * Lockstep with a replaying gateway (the simulator at 'max' speed): after each batch of 5-second
   * bars the gateway answers our reqCurrentTime; that answer marks the batch complete, and our next
   * reqCurrentTime (sent once the bars are handled and the resulting orders sent) releases the next batch.
   */
  lockstep: boolean;
  /** real-time: how long after a bar's end to wait for late 5-second bars before closing it */
  graceMs?: number;
  /** runs after each group of bars was given to the sink, before the next batch is released */
  afterBars?: () => Promise<void>;
  /** bars handed to the sink (for the live history) */
  onBar?: (bar: Bar) => void;
  /** awaited after onBar and before the sink gets the group (model predictions for these very bars) */
  beforeBars?: (bars: readonly Bar[]) => Promise<void>;
  log?: (message: string) => void;
}

const REQ_BASE = 7_000;

/**
 * The feed port on IB: 5-second real-time bars per symbol, aggregated into the strategy's bars
 * the way stored bars are built, re-subscribed after every reconnection and after 1101.
 */
export class IbFeed implements Feed {
  private readonly agg: BarAggregator;
  private sink: BarSink | undefined;
  private stopped: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  /** lockstep: our one reqCurrentTime in flight (two would release batches before we handled them) */
  private awaitingTime = false;
  lastBarEnd: EpochMs = -Infinity;

  constructor(private readonly conn: IbConnection, private readonly o: IbFeedOptions) {
    this.agg = new BarAggregator(o.symbols, o.intervalMs);
    const api = conn.api;
    api.on(EventName.realtimeBar, (reqId: number, date: number, open: number, high: number, low: number, close: number, volume: number) => {
      const sid = reqId - REQ_BASE;
      if (sid < 0 || sid >= o.symbols.length || !this.sink) return;
      const ts = date * 1000;
      this.lastBarEnd = Math.max(this.lastBarEnd, ts + 5_000);
      this.agg.add(sid, ts, open, high, low, close, volume);
      if (!o.lockstep) this.deliver(-Infinity);
    });
    api.on(EventName.currentTime, (seconds: number) => {
      if (!o.lockstep || !this.sink) return;
      this.awaitingTime = false;
      void this.deliver(Math.max(seconds * 1000, this.lastBarEnd)).then(() => this.requestTime());
    });
    conn.on('ready', () => {
      this.awaitingTime = false; // a new connection: nothing of ours is in flight on it
      this.subscribe();
    });
    conn.on('dataLost', () => this.subscribe());
  }

  run(sink: BarSink): Promise<void> {
    this.sink = sink;
    if (this.conn.ready) this.subscribe();
    if (!this.o.lockstep) {
      const grace = this.o.graceMs ?? 2_000;
      // the wall clock only decides when a quiet symbol's bar is given up on, never a bar's content
      this.timer = setInterval(() => void this.deliver(Date.now() - grace), 1_000);
    }
    return new Promise((resolve) => (this.stopped = resolve));
  }

  /** Closes every bar still open (the session or the replay ended) and stops. */
  async stop(): Promise<void> {
    await this.deliver(Infinity);
    clearInterval(this.timer);
    for (let sid = 0; sid < this.o.symbols.length; sid++) this.conn.api.cancelRealTimeBars(REQ_BASE + sid);
    this.sink = undefined;
    this.stopped?.();
  }

  private subscribe(): void {
    if (!this.sink) return;
    this.o.symbols.forEach((symbol, sid) => this.conn.api.reqRealTimeBars(REQ_BASE + sid, stockContract(symbol), 5, WhatToShow.TRADES, false));
    this.requestTime();
  }

  private requestTime(): void {
    if (!this.o.lockstep || !this.sink || this.awaitingTime) return;
    this.awaitingTime = true;
    this.conn.api.reqCurrentTime();
  }

  /** Hands complete groups to the sink, one at a time, each preceded by beforeBars and followed by afterBars. */
  private deliver(knownUpTo: EpochMs): Promise<void> {
    this.busy = this.busy.then(async () => {
      const groups: { ts: EpochMs; bars: Bar[] }[] = [];
      this.agg.flush(knownUpTo, (ts, bars, n) => groups.push({ ts, bars: bars.slice(0, n).map((b) => ({ ...b })) }));
      for (const g of groups) {
        if (!this.sink) return;
        for (const b of g.bars) this.o.onBar?.(b);
        await this.o.beforeBars?.(g.bars);
        this.sink.onBars(g.ts, g.bars, g.bars.length);
        await this.o.afterBars?.();
      }
    });
    return this.busy;
  }
}
