import { EventName, type Contract } from '@stoqey/ib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ExchangeCalendar } from '../core/calendar.ts';
import type { SignalBoard } from '../core/signals.ts';
import type { SlotSpec } from '../core/strategy.ts';
import { INTERVAL_MS, type Bar } from '../core/types.ts';
import { IbConnection } from '../ib/connection.ts';
import { IbBroker } from '../ib/ib-broker.ts';
import { IbFeed } from '../ib/ib-feed.ts';
import { MemoryJournal } from '../journal/journal.ts';
import { appendBars, appendEvents, appendOrders, closeAppenders, ensureJournalTables, type AppenderCache, type JournalMark } from '../journal/journal-store.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import type { BacktestConfig, BacktestResult } from '../run/backtest.ts';
import { BenchmarkRecorder, benchmarkSid } from '../run/benchmark.ts';
import { Engine } from '../run/engine.ts';
import { LiveHistory } from './live-history.ts';
import { loadSession } from './session-store.ts';

export interface LiveOptions {
  host: string;
  port: number;
  clientId: number;
  account: string;
  /** lockstep with a replaying gateway (the simulator at 'max' speed) */
  lockstep: boolean;
  /** the journal database connection; every decision is in it before it is sent */
  journal: DuckDBConnection;
  runId: string;
  /** client message pacing (IB allows 50/s; a simulator may allow more) */
  maxReqPerSec?: number;
  log?: (message: string) => void;
  /**
   * Model predictions (a StreamingPredictor): filled for each group of bars, awaited, before the
   * strategies see it, and for the journaled bars a restart replays, so its streaming state is where it was.
   */
  signals?: { fill(bars: readonly Bar[], n: number, board: SignalBoard): Promise<void> | void };
}

/**
 * The live runner: the backtest's engine, strategies, risk engine and circuit breaker, wired to
 * IB through IbFeed and IbBroker. Decisions are appended to the DuckDB journal before their orders
 * are sent; broker events are journaled as they arrive and deduplicated by execId.
 */
export class LiveRunner {
  readonly engine: Engine;
  readonly journal = new MemoryJournal();
  readonly conn: IbConnection;
  private readonly broker: IbBroker;
  private readonly feed: IbFeed;
  private readonly history: LiveHistory;
  private readonly lastBarTs: Float64Array;
  private readonly benchmark: BenchmarkRecorder;
  private readonly dayOf: (ts: number) => number;
  private mark: JournalMark = { orderEvents: 0, fills: 0, riskEvents: 0, equity: 0 };
  private writing: Promise<void> = Promise.resolve();
  private readonly appenders: AppenderCache = new Map();
  /** every bar the strategies saw, in order: journaled, so the session can be replayed */
  readonly barLog: Bar[] = [];
  private barsJournaled = 0;
  private ordersJournaled = 0;
  private running: Promise<void> | undefined;
  private readonly log: (message: string) => void;

  constructor(readonly config: BacktestConfig, slots: SlotSpec[], private readonly o: LiveOptions) {
    if (config.sizing.kind === 'all-in') throw new Error('live orders need their quantity when sent: all-in sizing is resolved at the fill, so the live runner refuses it; use --sizing fixed, percent or vol-target');
    const intervalMs = INTERVAL_MS[config.interval];
    const cal = new ExchangeCalendar(intervalMs >= INTERVAL_MS['1d'] ? 'UTC' : config.tz);
    const log = (m: string) => {
      this.journal.log(this.engine?.now() ?? NaN, m);
      o.log?.(m);
    };
    this.log = log;
    this.conn = new IbConnection({ host: o.host, port: o.port, clientId: o.clientId, maxReqPerSec: o.maxReqPerSec, log });
    this.broker = new IbBroker(this.conn, { account: o.account, runTag: o.runId, tz: config.tz, now: () => this.engine.now(), orderById: (id) => this.engine.orders[id - 1], log });
    this.history = new LiveHistory(config.symbols.length);
    this.lastBarTs = new Float64Array(config.symbols.length).fill(NaN);
    const bsid = benchmarkSid(config);
    this.benchmark = new BenchmarkRecorder(config.symbols[bsid], bsid);
    this.dayOf = (ts) => cal.day(ts);
    const totalWeight = slots.reduce((s, x) => s + x.weight, 0);
    this.engine = new Engine({
      symbols: config.symbols,
      slots: slots.map((s) => ({ name: s.name, strategy: s.strategy, cash: (config.cash * s.weight) / totalWeight, sizing: config.sizing })),
      broker: this.broker,
      risk: new RiskEngine(config.risk.limits, config.risk.breaker),
      journal: this.journal,
      history: this.history,
      intervalMs,
      dayOf: this.dayOf,
    });
    this.feed = new IbFeed(this.conn, {
      symbols: config.symbols,
      intervalMs,
      lockstep: o.lockstep,
      onBar: (b: Bar) => {
        this.see(b);
        this.barLog.push({ ...b });
      },
      beforeBars: o.signals ? (bars) => this.predict(bars) : undefined,
      afterBars: () => this.commit(),
      log,
    });
    this.conn.on('lost', (m: string) => log(`gateway: ${m}`));
    this.conn.on('restored', (m: string) => log(`gateway: ${m}`));
    this.conn.on('dataLost', (m: string) => log(`gateway: ${m} (re-subscribing)`));
    this.conn.on('disconnected', () => log('gateway connection dropped: reconnecting'));
    this.conn.on('ready', (again: boolean) => {
      if (again) {
        log('reconnected: checking executions missed while away');
        this.conn.api.reqExecutions(9_001, {});
      }
    });
  }

  /** A closed bar enters the strategies' history, the last-bar marks and the benchmark. */
  private see(b: Bar): void {
    this.history.push(b);
    this.lastBarTs[b.sid] = b.ts;
    if (b.sid === this.benchmark.sid) this.benchmark.record(b.ts, this.dayOf(b.ts), b.close);
  }

  /**
   * The model's predictions for a group of bars. A failure leaves them NaN (the strategies do nothing on
   * these bars) and is journaled; the runner trades on.
   */
  private async predict(bars: readonly Bar[]): Promise<void> {
    try {
      await this.o.signals!.fill(bars, bars.length, this.engine.signals);
    } catch (e) {
      for (const b of bars) this.engine.signals.set(b.sid, b.ts, NaN);
      this.log(`prediction failed for the bars at ${new Date(bars[0].ts).toISOString()}: ${(e as Error).message}; no signal for them`);
    }
  }

  /** Connects, reconciles with the broker, subscribes; resolves once bars are flowing in. */
  async start(): Promise<void> {
    await ensureJournalTables(this.o.journal);
    await this.resume();
    await this.conn.start();
    await this.reconcile();
    await this.commit();
    this.running = this.feed.run(this.engine);
  }

  /**
   * A restart of this run (same run id): takes back the journaled orders and fills, then replays
   * the journaled bars into the strategies (no orders) so they continue where they were.
   */
  private async resume(): Promise<void> {
    const prev = await loadSession(this.o.journal, this.o.runId, this.config.symbols);
    if (prev.orders.length === 0 && prev.bars.length === 0) return;
    this.journal.orderEvents.push(...prev.orderEvents);
    this.journal.fills.push(...prev.fills);
    this.journal.riskEvents.push(...prev.riskEvents);
    this.journal.equityCurve.push(...prev.equity);
    this.mark = { orderEvents: prev.orderEvents.length, fills: prev.fills.length, riskEvents: prev.riskEvents.length, equity: prev.equity.length };
    this.engine.restore(prev.orders, prev.fills);
    this.ordersJournaled = prev.orders.length;
    for (const f of prev.fills) this.broker.markSeen(f.execId);
    for (let i = 0; i < prev.bars.length; ) {
      let j = i;
      while (j < prev.bars.length && prev.bars[j].ts === prev.bars[i].ts) j++;
      const group = prev.bars.slice(i, j);
      for (const b of group) this.see(b);
      if (this.o.signals) await this.predict(group);
      this.engine.warmUp(group[0].ts, group, group.length);
      i = j;
    }
    this.barLog.push(...prev.bars);
    this.barsJournaled = prev.bars.length;
    this.journal.log(this.engine.now(), `restarted: ${prev.orders.length} orders, ${prev.fills.length} fills and ${prev.bars.length} bars taken back from the journal`);
    this.o.log?.(`resuming run ${this.o.runId}: ${prev.orders.length} orders, ${prev.fills.length} fills, ${prev.bars.length} bars from the journal`);
  }

  /**
   * Appends what happened since the last commit to the journal, then sends the orders it decided.
   * Serialized: one commit at a time, in order.
   */
  commit(): Promise<void> {
    this.writing = this.writing.then(async () => {
      this.ordersJournaled = await appendOrders(this.o.journal, this.o.runId, this.engine.orders, this.ordersJournaled, this.appenders);
      this.barsJournaled = await appendBars(this.o.journal, this.o.runId, this.barLog, this.barsJournaled, this.appenders);
      this.mark = await appendEvents(this.o.journal, this.o.runId, this.journal, this.mark, this.appenders);
      this.broker.drain();
    });
    return this.writing;
  }

  /** The kill switch: the circuit breaker trips (cancels everything, flattens if configured) and blocks new orders. */
  async kill(reason = 'kill switch'): Promise<void> {
    this.engine.kill(reason);
    await this.commit();
  }

  /** Closes open bars, stops the feed, commits, disconnects. */
  async stop(): Promise<BacktestResult> {
    await this.feed.stop();
    await this.running;
    this.engine.finish();
    await this.commit();
    closeAppenders(this.appenders);
    this.conn.stop();
    return { config: this.config, engine: this.engine, journal: this.journal, bars: this.barLog.length, lastBarTs: this.lastBarTs, benchmark: this.benchmark.closes };
  }

  /**
   * Before trading: the broker's open orders and positions. Ours (orderRef tb:<runId>:...) are
   * reported as adopted; anything else is flagged in the journal and left alone.
   */
  private async reconcile(): Promise<void> {
    const api = this.conn.api;
    const open: { id: number; ref: string; symbol: string }[] = [];
    const positions: { symbol: string; qty: number }[] = [];
    await new Promise<void>((resolve) => {
      const onOpen = (id: number, c: Contract, order: { orderRef?: string }) => open.push({ id, ref: order.orderRef ?? '', symbol: c.symbol ?? '' });
      const onEnd = () => {
        api.off(EventName.openOrder, onOpen);
        resolve();
      };
      api.on(EventName.openOrder, onOpen);
      api.once(EventName.openOrderEnd, onEnd);
      api.reqAllOpenOrders();
    });
    await new Promise<void>((resolve) => {
      const onPos = (_a: string, c: Contract, pos: number) => positions.push({ symbol: c.symbol ?? '', qty: pos });
      api.on(EventName.position, onPos);
      api.once(EventName.positionEnd, () => {
        api.off(EventName.position, onPos);
        api.cancelPositions();
        resolve();
      });
      api.reqPositions();
    });
    const now = this.engine.now();
    const atBroker = new Set<number>();
    for (const o of open) {
      const id = this.broker.ourOrderId(o.ref);
      const order = id === undefined ? undefined : this.engine.orders[id - 1];
      if (order) {
        atBroker.add(order.id);
        this.broker.adopt(o.id, order);
        if (order.status === 'APPROVED') this.engine.onStatus(order, 'SUBMITTED', 'found at the broker after a restart');
        this.journal.log(now, `reconcile: open order ${o.id} ${o.symbol} is our order ${order.id}: adopted`);
      } else this.journal.log(now, `reconcile: open order ${o.id} ${o.symbol} ${o.ref || '(no orderRef)'} was not placed by this run: left alone`);
    }
    // executions the journal does not have yet (fills while we were down) are booked once, by execId
    await new Promise<void>((resolve) => {
      api.once(EventName.execDetailsEnd, () => resolve());
      api.reqExecutions(9_000, {});
    });
    await new Promise((r) => setImmediate(r)); // commission reports follow their executions
    for (const order of this.engine.openOrders()) {
      if (atBroker.has(order.id) || order.status === 'FILLED') continue;
      // decided and journaled but not at the broker: never sent, or done there; it is not sent again
      this.engine.onStatus(order, order.status === 'APPROVED' ? 'REJECTED' : 'CANCELLED', 'not at the broker after a restart: not sent again');
    }
    for (const p of positions) {
      const sid = this.config.symbols.indexOf(p.symbol);
      const ours = sid < 0 ? 0 : this.engine.portfolio.position(sid);
      if (p.qty !== ours) this.journal.log(now, `reconcile: broker position ${p.symbol} ${p.qty} differs from the journal's ${ours}${sid < 0 ? ' (not a symbol of this run)' : ''}`);
    }
    this.o.log?.(`reconciled: ${open.length} open orders, ${positions.filter((p) => p.qty !== 0).length} positions at the broker`);
  }
}
