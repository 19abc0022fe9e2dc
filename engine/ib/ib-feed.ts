import { EventName, WhatToShow } from '@stoqey/ib';
import type { BarSink, Feed } from '../core/ports.ts';
import type { Bar, ContractTerms, EpochMs } from '../core/types.ts';
import { BarAggregator, type PartialBar } from './aggregator.ts';
import type { IbConnection } from './connection.ts';
import { ibContract, isQuoted, realTimeBarsOf } from './contracts.ts';

export interface IbFeedOptions {
  symbols: readonly string[];
  /** the contract terms of the symbols that are not US stocks (config.contracts): pairs and options take MIDPOINT bars */
  contracts?: Readonly<Record<string, ContractTerms>>;
  intervalMs: number;
  /**
   * Lockstep with a replaying gateway (the simulator with --lockstep): after each batch of 5-second
   * bars the gateway answers our reqCurrentTime; that answer marks the batch complete, and our next
   * reqCurrentTime (sent once the bars are handled and the resulting orders sent) releases the next batch.
   */
  lockstep: boolean;
  /** real time: a reqCurrentTime (the heartbeat) goes out this often (ms, default 2,000) */
  heartbeatMs?: number;
  /** a reqCurrentTime unanswered for this long means the gateway stalled (ms, default 10,000) */
  stallMs?: number;
  /** the gateway stalled: the connection must be treated as dropped */
  onStall?: (silentMs: number) => void;
  /** a group that starts at or before the last one delivered (or `refuseUpTo`): never shown to the strategies */
  onRefused?: (ts: EpochMs, bars: readonly Bar[], lastTs: EpochMs) => void;
  /** a bucket that was not received whole (see BarAggregator): never shown to the strategies */
  onPartial?: (symbol: string, p: PartialBar) => void;
  /** runs after each group of bars was given to the sink, before the next batch is released */
  afterBars?: () => Promise<void>;
  /** every bar of every group (for the journal and the live history); `inSession` false outside the session */
  onBar?: (bar: Bar, inSession: boolean) => void;
  /**
   * `--session rth`: whether a group starting at ts is in the regular session. A group outside it never
   * reaches the sink: it goes to `outside` (the strategies that asked for extended hours), if given; onBar,
   * beforeBars (the model, which sees every bar, as its batch features do) and afterBars run as for any group.
   */
  inSession?: (ts: EpochMs) => boolean;
  outside?: (ts: EpochMs, bars: readonly Bar[]) => void;
  /** awaited after onBar and before the sink gets the group (model predictions for these very bars) */
  beforeBars?: (bars: readonly Bar[]) => Promise<void>;
}

const REQ_BASE = 7_000;
/** BID and ASK real-time bars of the quoted symbols (pairs, options): request ids BID_BASE + sid, ASK_BASE + sid */
const BID_BASE = 200_000;
const ASK_BASE = 300_000;
const SUB_MS = 5_000;

/**
 * The feed port on IB: 5-second real-time bars per symbol, aggregated into the strategy's bars the way
 * stored bars are built, re-subscribed after every reconnection and after 1101.
 *
 * A bar closes on the gateway's time, never on the local clock: when its last 5-second bar arrives,
 * or when the gateway shows that time has passed its end (a 5-second bar of a later start for any
 * symbol, or the answer to reqCurrentTime). So what the strategies see does not depend on the replay
 * speed or the machine's load. The wall clock only paces the heartbeat and detects a stall.
 */
export class IbFeed implements Feed {
  private readonly agg: BarAggregator;
  private sink: BarSink | undefined;
  private stopped: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  /** wall time (performance.now) our oldest unanswered reqCurrentTime went out; NaN: none in flight */
  private askedAt = NaN;
  private lastDelivered: EpochMs = -Infinity;
  private pendingTime: ((t: EpochMs) => void)[] = [];
  /** the gateway's clock as far as we know it (epoch ms): the latest reqCurrentTime answer or 5-second bar end */
  gatewayTime: EpochMs = -Infinity;
  /** per symbol: a pair or an option, whose bars carry the closing bid and ask (BID and ASK real-time bars) */
  private readonly quoted: boolean[];
  /** [bid, ask] per symbol: the last close of that side's 5-second bars by bucket start, until its bar is delivered */
  private readonly sideCloses: [Map<EpochMs, number>[], Map<EpochMs, number>[]];

  constructor(
    private readonly conn: IbConnection,
    private readonly o: IbFeedOptions,
  ) {
    this.agg = new BarAggregator(o.symbols, o.intervalMs, SUB_MS, undefined, (p) => o.onPartial?.(o.symbols[p.sid], p));
    this.quoted = o.symbols.map((sym) => isQuoted(o.contracts?.[sym]));
    this.sideCloses = [o.symbols.map(() => new Map()), o.symbols.map(() => new Map())];
    const api = conn.api;
    api.on(EventName.realtimeBar, (reqId: number, date: number, open: number, high: number, low: number, close: number, volume: number) => {
      const ts = date * 1000;
      if (reqId >= BID_BASE && reqId < ASK_BASE + o.symbols.length) {
        // a side's closes by bucket: the bar of that bucket takes the last one as its bid or ask
        const side = reqId >= ASK_BASE ? 1 : 0;
        const ssid = reqId - (side === 1 ? ASK_BASE : BID_BASE);
        if (ssid < 0 || ssid >= o.symbols.length || !this.sink) return;
        this.sideCloses[side][ssid].set(this.bucketOf(ts), close);
        return;
      }
      const sid = reqId - REQ_BASE;
      if (sid < 0 || sid >= o.symbols.length || !this.sink) return;
      this.gatewayTime = Math.max(this.gatewayTime, ts + SUB_MS);
      this.agg.add(sid, ts, open, high, low, close, volume);
      // the gateway sends 5-second bars in time order: every bar starting before this one has arrived
      void this.deliver(ts);
    });
    api.on(EventName.currentTime, (seconds: number) => {
      const t = seconds * 1000;
      this.askedAt = NaN;
      this.gatewayTime = Math.max(this.gatewayTime, t);
      for (const resolve of this.pendingTime.splice(0)) resolve(t);
      if (!this.sink) return;
      // lockstep: the answer comes after the whole batch ending at t; a real gateway's bars may trail its clock by a bar
      void this.deliver(this.o.lockstep ? t : t - SUB_MS).then(() => this.o.lockstep && this.requestTime());
    });
    conn.on('ready', () => {
      this.askedAt = NaN; // a new connection: nothing of ours is in flight on it
      this.subscribe();
    });
    conn.on('dataLost', () => this.subscribe());
  }

  run(sink: BarSink): Promise<void> {
    this.sink = sink;
    if (this.conn.ready) this.subscribe();
    this.heartbeat = setInterval(() => this.beat(), this.o.heartbeatMs ?? 2_000);
    return new Promise((resolve) => (this.stopped = resolve));
  }

  /** Groups starting at or before `ts` were acted on already (a restart: the journal's last): refused if they come again. */
  refuseUpTo(ts: EpochMs): void {
    this.lastDelivered = Math.max(this.lastDelivered, ts);
  }

  /** The gateway's current time, asked now (resolves with the answer). */
  syncTime(): Promise<EpochMs> {
    // in lockstep a reqCurrentTime is the batch signal: do not spend one (and the replay waited for us)
    if (this.o.lockstep) return Promise.resolve(this.gatewayTime);
    return new Promise((resolve) => {
      this.pendingTime.push(resolve);
      this.ask();
    });
  }

  /** Closes every bar still open (the session or the replay ended) and stops. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.deliver(Infinity);
    if (this.conn.ready)
      for (let sid = 0; sid < this.o.symbols.length; sid++) {
        this.conn.api.cancelRealTimeBars(REQ_BASE + sid);
        if (this.quoted[sid]) {
          this.conn.api.cancelRealTimeBars(BID_BASE + sid);
          this.conn.api.cancelRealTimeBars(ASK_BASE + sid);
        }
      }
    this.sink = undefined;
    this.stopped?.();
  }

  private subscribe(): void {
    if (!this.sink) return;
    this.o.symbols.forEach((symbol, sid) => {
      const terms = this.o.contracts?.[symbol];
      const contract = ibContract(symbol, terms);
      // a quoted symbol's sides first: the simulator then sends each 5-second bid and ask before the mid that may close the bar
      if (this.quoted[sid]) {
        this.conn.api.reqRealTimeBars(BID_BASE + sid, contract, 5, WhatToShow.BID, false);
        this.conn.api.reqRealTimeBars(ASK_BASE + sid, contract, 5, WhatToShow.ASK, false);
      }
      this.conn.api.reqRealTimeBars(REQ_BASE + sid, contract, 5, realTimeBarsOf(terms), false);
    });
    if (this.o.lockstep) this.requestTime();
  }

  /** Heartbeat: real time asks the time when nothing is in flight; in both modes, an answer overdue is a stall. */
  private beat(): void {
    if (!this.conn.ready) return;
    const silent = performance.now() - this.askedAt;
    if (silent > (this.o.stallMs ?? 10_000)) {
      this.askedAt = NaN;
      this.o.onStall?.(silent);
      return;
    }
    if (!this.o.lockstep && Number.isNaN(this.askedAt)) this.ask();
  }

  private ask(): void {
    if (!this.conn.ready) return;
    if (Number.isNaN(this.askedAt)) this.askedAt = performance.now();
    this.conn.api.reqCurrentTime();
  }

  /** lockstep: our one reqCurrentTime in flight (two would release batches before we handled them) */
  private requestTime(): void {
    if (!this.sink || !Number.isNaN(this.askedAt)) return;
    this.ask();
  }

  /** The start of the bar holding a 5-second bar (the aggregator's buckets: aligned on the bar length in UTC). */
  private bucketOf(ts: EpochMs): EpochMs {
    const m = this.o.intervalMs;
    return ts - (((ts % m) + m) % m);
  }

  /** A quoted symbol's bar gets its bucket's closing bid and ask (NaN: no such side that bar), as a backtest's quote bar does. */
  private withQuote(b: Bar): Bar {
    if (!this.quoted[b.sid]) return b;
    const [bids, asks] = [this.sideCloses[0][b.sid], this.sideCloses[1][b.sid]];
    b.bid = bids.get(b.ts) ?? Number.NaN;
    b.ask = asks.get(b.ts) ?? Number.NaN;
    for (const m of [bids, asks]) for (const t of m.keys()) if (t <= b.ts) m.delete(t);
    return b;
  }

  /** Hands complete groups to the sink, one at a time, each preceded by beforeBars and followed by afterBars. */
  private deliver(knownUpTo: EpochMs): Promise<void> {
    this.busy = this.busy.then(async () => {
      const groups: { ts: EpochMs; bars: Bar[] }[] = [];
      this.agg.flush(knownUpTo, (ts, bars, n) => groups.push({ ts, bars: bars.slice(0, n).map((b) => this.withQuote({ ...b })) }));
      for (const g of groups) {
        if (!this.sink) return;
        if (g.ts <= this.lastDelivered) {
          this.o.onRefused?.(g.ts, g.bars, this.lastDelivered);
          continue;
        }
        this.lastDelivered = g.ts;
        const inSession = this.o.inSession?.(g.ts) ?? true;
        for (const b of g.bars) this.o.onBar?.(b, inSession);
        await this.o.beforeBars?.(g.bars);
        if (inSession) this.sink.onBars(g.ts, g.bars, g.bars.length);
        else this.o.outside?.(g.ts, g.bars);
        await this.o.afterBars?.();
      }
    });
    return this.busy;
  }
}
