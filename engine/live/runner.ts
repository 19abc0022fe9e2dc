import type { SignalBoard } from '../core/signals.ts';
import type { SlotSpec } from '../core/strategy.ts';
import type { AccountFigures } from '../core/ports.ts';
import type { Bar, EpochMs, Order } from '../core/types.ts';
import { IbConnection } from '../ib/connection.ts';
import { IbBroker, type BrokerNote } from '../ib/ib-broker.ts';
import { IbFeed } from '../ib/ib-feed.ts';
import { LiveOptionGreeks } from '../ib/option-greeks-live.ts';
import { MemoryJournal, type LogKind } from '../journal/journal.ts';
import type { FxMarks } from '../portfolio/fx-marks.ts';
import type { JournalEntry, LiveJournal } from '../journal/live-journal.ts';
import type { SafetyState } from '../risk/risk-engine.ts';
import type { BacktestConfig, BacktestResult } from '../run/backtest.ts';
import { BenchmarkRecorder, benchmarkSid } from '../run/benchmark.ts';
import type { Engine } from '../run/engine.ts';
import { buildKernel, type Kernel } from '../run/kernel.ts';
import { optionExpiry, type OptionExpiry } from '../run/option-expiry.ts';
import { LiveHistory } from './live-history.ts';
import { loadSession } from '../journal/session-store.ts';
import { describeEntry, maskAccount, statusLine } from './session-lines.ts';

export interface LiveOptions {
  host: string;
  port: number;
  clientId: number;
  account: string;
  /** lockstep with a replaying gateway (the simulator with --lockstep) */
  lockstep: boolean;
  /** the session's journal: every decision is written to it before its order is sent */
  journal: LiveJournal;
  runId: string;
  /** sector of each symbol (instrument master) for the sector limit */
  sectors?: readonly string[];
  /**
   * the rates into the account's currency (config.baseCurrency) of the other currencies the symbols are in, as
   * openRunData reads them for a backtest: the kernel converts fills and marks with them exactly as it does there
   */
  fx?: FxMarks;
  /** client message pacing (IB allows 50/s) */
  maxReqPerSec?: number;
  /** real time: heartbeat period and the silence that counts as a stall (ms) */
  heartbeatMs?: number;
  stallMs?: number;
  /** how often the journal is reconciled with the broker while running (ms, default 5 minutes) */
  reconcileEveryMs?: number;
  /** a sent order the broker has not acknowledged after this long makes the runner ask the broker (ms, default 5,000) */
  ackTimeoutMs?: number;
  /** how often a status line is printed (ms, default 60,000; 0: never) */
  statusEveryMs?: number;
  /** what a broker position that differs from the journal's does: trip the breaker (default) or only warn */
  onMismatch?: 'halt' | 'warn';
  /** reset a breaker restored as tripped, at start (the operator's command-line choice; journaled with this source) */
  resetBreaker?: string;
  /** runs after every commit, once its entries are written and its orders sent (the embedded simulator journals its state then) */
  onCommitted?: () => void;
  /** the session as a person follows it: a line per order event, fill, risk event, connection change, and status lines */
  print?: (line: string, entry?: JournalEntry) => void;
  /**
   * Model predictions (a StreamingPredictor): filled for each group of bars, awaited, before the
   * strategies see it, and for the journaled bars a restart replays, so its streaming state is where it was.
   */
  signals?: { fill(bars: readonly Bar[], n: number, board: SignalBoard): Promise<void> | void };
  /**
   * ctx.chain's implied volatility and delta from IB's model computations (tickOptionComputation) of the run's
   * options, where IB has sent them (default true when the run has options; false: computed, as in a backtest)
   */
  optionGreeks?: boolean;
}

/** What the runner journals beyond the risk engine's state. */
interface RunnerState {
  risk: SafetyState;
  /** strategy slots an operator paused (a restart keeps them paused) */
  paused?: string[];
}

/**
 * What an observer of the session hears (`LiveRunner.observe`): each commit's journal entries, once written
 * and their orders sent, in journal order; and every change of the gateway connection as it happens.
 */
export type RunnerEvent =
  /** a commit: its entries, written to the journal in `journalWriteMs` (wall time), and its orders sent */
  | { kind: 'committed'; entries: readonly JournalEntry[]; journalWriteMs: number }
  | { kind: 'connection'; state: 'connected' | 'disconnected' | 'lost' | 'restored' | 'dataLost'; message: string };

/** How many bar-to-order latencies the runner keeps (the latest). */
const LATENCY_SAMPLES = 10_000;

/**
 * The live runner: the backtest's kernel (engine, strategies, risk engine and circuit breaker, sizing,
 * costs) wired to IB through IbFeed and IbBroker. Decisions are written to the journal before their
 * orders are sent; broker events are journaled as they arrive and deduplicated by execId. The journal
 * is reconciled with the broker at start, after every reconnect and every few minutes.
 */
export class LiveRunner {
  readonly engine: Engine;
  readonly journal = new MemoryJournal();
  readonly conn: IbConnection;
  readonly broker: IbBroker;
  /** the kernel: the engine, its risk engine and breaker, the calendar */
  readonly kernel: Kernel;
  /** IB's greeks of the run's options (undefined: none, or optionGreeks false) */
  readonly greeks: LiveOptionGreeks | undefined;
  private readonly feed: IbFeed;
  private readonly history: LiveHistory;
  private readonly lastBarTs: Float64Array;
  private readonly benchmark: BenchmarkRecorder;
  /** every bar received, in order (outside the session too): journaled, so the session can be replayed */
  readonly barLog: Bar[] = [];
  /** bars the run acted on: in the session, or outside it for strategies that asked for extended hours (a backtest's `bars`) */
  private actedBars = 0;
  private readonly marks = { orders: 0, modified: 0, orderEvents: 0, fills: 0, riskEvents: 0, equity: 0, bars: 0, logs: 0 };
  private lastState = '';
  private running: Promise<void> | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private failure: Error | null = null;
  private failed!: (e: Error) => void;
  /** rejects when the session cannot go on (the journal cannot be written): trading has stopped */
  readonly fatal: Promise<never>;
  /** the account's figures at start (and as last asked) */
  account: AccountFigures | undefined;
  /** whether the journal agrees with the broker: set by a reconciliation without differences, cleared by a drop */
  reconciled = false;
  /** wall-clock ms from a bar group's arrival to the orders it caused being sent (the latest LATENCY_SAMPLES) */
  readonly barToOrderMs: number[] = [];
  /** how many bar groups caused orders that were sent at once (all of them, not only those kept) */
  barToOrderCount = 0;
  private readonly observers = new Set<(e: RunnerEvent) => void>();
  /** the run's options, settled at the close of their last trading day as in a backtest (null: none) */
  private readonly expiry: OptionExpiry | null;
  /** the trading day of the last bar group and its start (for option expiry) */
  private lastDay = NaN;
  private lastTs = -Infinity;
  /** the start of the bar group being handled and when (performance.now) its first bar arrived */
  private groupTs = NaN;
  private groupArrivedAt = NaN;

  constructor(
    readonly config: BacktestConfig,
    slots: SlotSpec[],
    private readonly o: LiveOptions,
  ) {
    if (config.sizing.kind === 'all-in')
      throw new Error(
        'live orders need their quantity when sent: all-in sizing is resolved at the fill, so the live runner refuses it; use --sizing fixed, percent or vol-target',
      );
    this.fatal = new Promise<never>((_, reject) => (this.failed = reject));
    this.fatal.catch(() => {});
    this.conn = new IbConnection({ host: o.host, port: o.port, clientId: o.clientId, maxReqPerSec: o.maxReqPerSec, log: (m) => this.note('connection', m) });
    this.broker = new IbBroker(this.conn, {
      account: o.account,
      runTag: o.runId,
      tz: config.tz,
      now: () => this.engine.now(),
      orderById: (id) => this.engine.orders[id - 1],
      note: (n) => this.onBrokerNote(n),
      outsideRth: config.session === 'extended',
      inSession: (ts) => this.kernel.inSession(ts),
      symbols: config.symbols,
      contracts: config.contracts,
    });
    this.history = new LiveHistory(config.symbols.length);
    const options = Object.values(config.contracts ?? {}).some((c) => c.secType === 'OPT');
    this.greeks = options && o.optionGreeks !== false ? new LiveOptionGreeks(this.conn.api) : undefined;
    this.kernel = buildKernel(config, slots, {
      broker: this.broker,
      history: this.history,
      journal: this.journal,
      sectors: o.sectors,
      fx: o.fx,
      ...(this.greeks ? { greeks: this.greeks } : {}),
    });
    this.engine = this.kernel.engine;
    this.expiry = optionExpiry(config, this.engine);
    this.lastBarTs = new Float64Array(config.symbols.length).fill(NaN);
    const bsid = benchmarkSid(config);
    this.benchmark = new BenchmarkRecorder(config.symbols[bsid], bsid);
    this.feed = new IbFeed(this.conn, {
      symbols: config.symbols,
      contracts: config.contracts,
      intervalMs: this.kernel.intervalMs,
      lockstep: o.lockstep,
      heartbeatMs: o.heartbeatMs,
      stallMs: o.stallMs,
      onStall: (ms) => this.conn.recycle(`the gateway has not answered the heartbeat for ${(ms / 1000).toFixed(1)} s: treated as a dropped connection`),
      onPartial: (symbol, p) =>
        this.note('info', `partial bar not traded: ${symbol} ${iso(p.ts)} (5-second bars received from ${iso(p.first)} to ${iso(p.last)})`),
      onRefused: (ts, bars, last) =>
        this.note('info', `bars refused: ${bars.map((b) => b.symbol).join(',')} ${iso(ts)} is not after the last bar acted on (${iso(last)})`),
      onBar: (b: Bar, inSession: boolean) => {
        // as the backtest's replay: bars outside the session count for expiry only where strategies see them
        if (inSession || this.kernel.extendedSlots.length > 0) this.expire(b.ts);
        if (b.ts !== this.groupTs) {
          this.groupTs = b.ts;
          this.groupArrivedAt = performance.now();
        }
        this.see(b, inSession);
        this.barLog.push({ ...b });
      },
      // --session rth: bars outside the regular session reach only the strategies that ask for them (or none)
      inSession: (ts) => this.kernel.inSession(ts),
      outside: this.kernel.extendedSlots.length > 0 ? (ts, bars) => this.onOutside(ts, bars) : undefined,
      beforeBars: o.signals ? (bars) => this.predict(bars) : undefined,
      afterBars: () => this.commit(),
    });
    const told = (state: Extract<RunnerEvent, { kind: 'connection' }>['state'], message: string) => this.tell({ kind: 'connection', state, message });
    this.conn.on('lost', (m: string) => {
      this.note('connection', `gateway: ${m}`);
      told('lost', m);
    });
    this.conn.on('restored', (m: string) => {
      this.note('connection', `gateway: ${m}`);
      told('restored', m);
    });
    this.conn.on('dataLost', (m: string) => {
      this.note('connection', `gateway: ${m} (re-subscribing)`);
      told('dataLost', m);
      this.greeks?.resubscribe();
    });
    this.conn.on('replayEnded', (m: string) => this.note('connection', `gateway notice 2900: ${m}; the session ends`));
    this.conn.on('disconnected', () => {
      this.reconciled = false;
      this.note('connection', 'gateway connection dropped: reconnecting; decisions wait unsent');
      told('disconnected', 'gateway connection dropped');
    });
    this.conn.on('ready', (again: boolean) => {
      told('connected', again ? 'reconnected to the gateway' : 'connected to the gateway');
      if (again) void this.afterReconnect();
      if (again) this.greeks?.resubscribe();
    });
  }

  /**
   * Listens to the session: every commit's journal entries (after they are written and their orders sent) and
   * every connection change. Returns the unsubscribe. A listener's error is swallowed: the session goes on.
   */
  observe(listener: (e: RunnerEvent) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private tell(e: RunnerEvent): void {
    for (const f of this.observers) {
      try {
        f(e);
      } catch {
        // an observer's failure must never stop trading
      }
    }
  }

  /** The run's id (the journal's key). */
  get runId(): string {
    return this.o.runId;
  }

  /** The sector of each run symbol ('' when unknown). */
  get sectors(): readonly string[] {
    return this.o.sectors ?? this.config.symbols.map(() => '');
  }

  /** Why trading stopped for good (the journal could not be written), or null. */
  get failureReason(): string | null {
    return this.failure?.message ?? null;
  }

  /** The session's clock: the engine's time (the bars'), else the gateway's, else the wall clock. */
  now(): EpochMs {
    return this.eventTime();
  }

  /** A line in the journal (and on the console): connection changes, reconciliation findings, notices. */
  private note(kind: LogKind, message: string): void {
    this.journal.log(this.eventTime(), message, kind);
  }

  /**
   * Option expiry as the backtest's replay does it (engine/run/option-expiry.ts): the first bar of a later day
   * settles the options whose last trading day has ended, before anything of that day reaches the strategies;
   * `ts` Infinity: the session has ended, its last day is over. A settlement that fails halts new orders.
   */
  private expire(ts: EpochMs): void {
    if (this.expiry === null) return;
    const day = ts === Infinity ? NaN : this.kernel.dayOf(ts);
    if (day !== this.lastDay && !Number.isNaN(this.lastDay)) {
      try {
        this.expiry.dayEnded(this.lastDay, this.lastTs);
      } catch (e) {
        const msg = `option expiry failed: ${(e as Error).message}`;
        this.note('strategy', msg);
        this.engine.halt('strategyError', msg);
      }
    }
    this.lastDay = day;
    this.lastTs = ts;
  }

  /**
   * A closed bar enters the strategies' history (outside the session only when a strategy asked for those
   * bars) and, in the session, the last-bar marks and the benchmark.
   */
  private see(b: Bar, inSession = true): void {
    if (!inSession && this.kernel.extendedSlots.length === 0) return;
    this.actedBars++;
    this.history.push(b);
    if (!inSession) return;
    this.lastBarTs[b.sid] = b.ts;
    if (b.sid === this.benchmark.sid) this.benchmark.record(b.ts, this.kernel.dayOf(b.ts), b.close);
  }

  /** Bars outside the session (`--session rth`) for the strategies that asked for them; their orders wait for the session at the broker. */
  private onOutside(ts: EpochMs, bars: readonly Bar[]): void {
    try {
      this.engine.onOutsideBars(ts, bars, bars.length, this.kernel.extendedSlots);
    } catch (e) {
      const msg = `error while handling the bars at ${iso(ts)}: ${(e as Error).stack ?? e}`;
      this.note('strategy', msg);
      this.engine.halt('strategyError', msg.split('\n')[0]);
    }
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
      this.note('info', `prediction failed for the bars at ${iso(bars[0].ts)}: ${(e as Error).message}; no signal for them`);
    }
  }

  /** Takes back the journal, connects, checks the account, reconciles, subscribes; resolves once bars are flowing in. */
  async start(): Promise<void> {
    const actedUpTo = await this.resume();
    if (this.o.resetBreaker) this.resetBreaker(this.o.resetBreaker);
    this.feed.refuseUpTo(actedUpTo);
    await this.conn.start();
    this.note('connection', `connected to the gateway at ${this.o.host}:${this.o.port} as client ${this.o.clientId}`);
    await this.checkAccount();
    await this.reconcile('start');
    this.broker.watchPnl();
    await this.commit();
    this.running = this.feed.run({
      setTime: (ts) => this.engine.setTime(ts),
      onBars: (ts, bars, n) => {
        try {
          this.engine.onBars(ts, bars, n);
        } catch (e) {
          // a strategy that throws must not take the session down with its working orders: halt new risk and say so
          const msg = `error while handling the bars at ${iso(ts)}: ${(e as Error).stack ?? e}`;
          this.note('strategy', msg);
          this.engine.halt('strategyError', msg.split('\n')[0]);
        }
      },
    });
    // after the feed's bar subscriptions: a simulator starts its replay on the first subscription
    if (this.greeks && this.config.contracts) this.greeks.subscribe(this.config.contracts);
    const every = (ms: number | undefined, dflt: number, f: () => void) => {
      const period = ms ?? dflt;
      if (period > 0) this.timers.push(setInterval(f, period));
    };
    every(this.o.reconcileEveryMs, 300_000, () => {
      // decisions still held after a reconnect whose reconciliation failed: try that again first
      if (this.broker.holding && this.conn.ready) return void this.afterReconnect();
      void this.reconcile('periodic').catch((e) => this.note('reconcile', `periodic reconciliation failed: ${(e as Error).message}`));
    });
    every(this.o.statusEveryMs, 60_000, () => this.o.print?.(this.status()));
    const ack = this.o.ackTimeoutMs ?? 5_000;
    every(ack / 2, ack / 2, () => {
      const late = this.broker.unacknowledged(ack);
      if (late.length > 0 && this.conn.ready)
        void this.reconcile(`order ${late.map((x) => x.id).join(', ')} not acknowledged by the broker within ${ack / 1000} s`).catch(() => {});
    });
  }

  /**
   * A restart of this run (same run id): takes back the journaled orders, fills, events and safety
   * state, then replays the journaled bars into the strategies (no orders) so they continue where they
   * were. Returns the start of the last group acted on (-Infinity for a new run).
   */
  private async resume(): Promise<EpochMs> {
    const prev = await this.o.journal.use((conn) => loadSession(conn, this.o.runId, this.config.symbols));
    const j = this.journal;
    j.orderEvents.push(...prev.orderEvents);
    j.fills.push(...prev.fills);
    j.riskEvents.push(...prev.riskEvents);
    j.equityCurve.push(...prev.equity);
    j.logs.push(...prev.logs.map((l) => ({ ts: l.ts, kind: l.kind as LogKind, message: l.message })));
    this.marks.orderEvents = prev.orderEvents.length;
    this.marks.fills = prev.fills.length;
    this.marks.riskEvents = prev.riskEvents.length;
    this.marks.equity = prev.equity.length;
    this.marks.logs = j.logs.length;
    this.engine.restore(prev.orders, prev.fills);
    this.marks.orders = prev.orders.length;
    for (const f of prev.fills) this.broker.markSeen(f);
    for (let i = 0; i < prev.bars.length; ) {
      let k = i;
      while (k < prev.bars.length && prev.bars[k].ts === prev.bars[i].ts) k++;
      const group = prev.bars.slice(i, k);
      const inSession = this.kernel.inSession(group[0].ts);
      for (const b of group) this.see(b, inSession);
      if (this.o.signals) await this.predict(group);
      if (inSession) this.engine.warmUp(group[0].ts, group, group.length);
      else if (this.kernel.extendedSlots.length > 0) this.engine.onOutsideBars(group[0].ts, group, group.length, this.kernel.extendedSlots, true);
      if (inSession || this.kernel.extendedSlots.length > 0) {
        // option expiry goes on from the journal's last day (settlements before the crash are among its fills; an
        // option settled again holds no position and is left alone)
        this.lastDay = this.kernel.dayOf(group[0].ts);
        this.lastTs = group[0].ts;
      }
      i = k;
    }
    this.barLog.push(...prev.bars);
    this.marks.bars = prev.bars.length;
    const state = prev.state as RunnerState | undefined;
    if (state?.risk) {
      this.kernel.risk.restoreSafetyState(state.risk);
      this.lastState = JSON.stringify(state);
    }
    for (const name of state?.paused ?? []) if (this.engine.pause(name)) this.note('control', `strategy ${name} is still paused (restored from the journal)`);
    if (prev.orders.length === 0 && prev.bars.length === 0 && !state) return -Infinity;
    const tripped = this.kernel.risk.tripped;
    this.note(
      'info',
      `restarted: ${prev.orders.length} orders, ${prev.fills.length} fills and ${prev.bars.length} bars taken back from the journal${tripped ? `; the circuit breaker is still tripped (${tripped.message}): no new orders until a person resets it` : ''}`,
    );
    this.o.print?.(`resuming run ${this.o.runId}: ${prev.orders.length} orders, ${prev.fills.length} fills, ${prev.bars.length} bars from the journal`);
    return prev.bars.length ? prev.bars[prev.bars.length - 1].ts : -Infinity;
  }

  /** The account's figures; refuses to start when the capital allotted is more than the account is worth. */
  private async checkAccount(): Promise<void> {
    const a = await this.broker.account();
    this.account = a;
    const money = (x: number) => `${x.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${a.currency}`.trim();
    const resumed = this.engine.orders.length > 0;
    this.note(
      'info',
      `account ${maskAccount(a.account)}: net liquidation ${money(a.netLiquidation)}, total cash ${money(a.totalCashValue)}, available funds ${money(a.availableFunds)}; capital allotted to ${this.config.strategy}: ${money(this.config.cash)}`,
    );
    // the allotment is checked when a run starts; a resumed run's capital has moved with its own P&L since
    if (!resumed && !(a.netLiquidation >= this.config.cash)) {
      throw new Error(
        `the account ${maskAccount(a.account)} cannot cover the capital allotted: --cash ${this.config.cash} is more than its net liquidation ${Number.isNaN(a.netLiquidation) ? '(not reported)' : money(a.netLiquidation)}; lower --cash`,
      );
    }
  }

  /**
   * Writes what happened since the last commit to the journal (synchronously: once it returns, a kill -9
   * loses none of it), then sends the orders it decided. If the journal cannot be written, nothing is
   * sent and the session stops.
   */
  commit(): Promise<void> {
    if (this.failure) return Promise.resolve();
    const ordersBefore = this.marks.orders;
    const entries = this.pendingEntries();
    const writeStart = performance.now();
    try {
      if (entries.length > 0) this.o.journal.write(entries);
    } catch (e) {
      this.fail(e as Error);
      return Promise.resolve();
    }
    const journalWriteMs = performance.now() - writeStart;
    const sent = this.broker.drain();
    // bar-to-order latency: the group's first bar in, its orders out (commits of other causes are not counted)
    if (sent && this.marks.orders > ordersBefore && Number.isFinite(this.groupArrivedAt)) {
      this.barToOrderMs.push(performance.now() - this.groupArrivedAt);
      if (this.barToOrderMs.length > LATENCY_SAMPLES) this.barToOrderMs.splice(0, this.barToOrderMs.length - LATENCY_SAMPLES);
      this.barToOrderCount++;
    }
    this.groupArrivedAt = NaN;
    this.o.onCommitted?.();
    if (entries.length > 0 && this.observers.size > 0) this.tell({ kind: 'committed', entries, journalWriteMs });
    if (this.o.print)
      for (const x of entries) {
        const line = describeEntry(x, this.engine.orders);
        if (line) this.o.print(line, x);
      }
    return Promise.resolve();
  }

  /** Everything not yet journaled, as journal entries, and the marks moved past it. */
  private pendingEntries(): JournalEntry[] {
    const runId = this.o.runId;
    const j = this.journal;
    const m = this.marks;
    const out: JournalEntry[] = [];
    const orders = this.engine.orders;
    for (; m.orders < orders.length; m.orders++) out.push({ t: 'order', runId, order: orders[m.orders] });
    for (; m.modified < j.modified.length; m.modified++) out.push({ t: 'order', runId, order: j.modified[m.modified] });
    for (; m.bars < this.barLog.length; m.bars++) out.push({ t: 'bar', runId, seq: m.bars, b: this.barLog[m.bars] });
    for (; m.orderEvents < j.orderEvents.length; m.orderEvents++) out.push({ t: 'orderEvent', runId, seq: m.orderEvents, e: j.orderEvents[m.orderEvents] });
    for (; m.fills < j.fills.length; m.fills++) out.push({ t: 'fill', runId, seq: m.fills, f: j.fills[m.fills] });
    for (; m.riskEvents < j.riskEvents.length; m.riskEvents++) out.push({ t: 'risk', runId, seq: m.riskEvents, e: j.riskEvents[m.riskEvents] });
    for (; m.equity < j.equityCurve.length; m.equity++) out.push({ t: 'equity', runId, p: j.equityCurve[m.equity] });
    for (; m.logs < j.logs.length; m.logs++) {
      const l = j.logs[m.logs];
      out.push({ t: 'log', runId, seq: m.logs, ts: l.ts, kind: l.kind, message: l.message });
    }
    const paused = this.engine.slotNames.filter((n) => this.engine.isPaused(n));
    const now: RunnerState = paused.length > 0 ? { risk: this.kernel.risk.safetyState(), paused } : { risk: this.kernel.risk.safetyState() };
    const state = JSON.stringify(now, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    if (state !== this.lastState) {
      this.lastState = state;
      out.push({ t: 'state', runId, ts: this.engine.now(), state: now });
    }
    return out;
  }

  /** The journal cannot be written: nothing more is sent, the session stops and says why. */
  private fail(e: Error): void {
    this.failure = e;
    const held = this.broker.outgoing.length;
    this.o.print?.(`TRADING STOPPED: ${e.message}${held ? ` (${held} decisions not sent)` : ''}`);
    this.failed(e);
  }

  /**
   * The kill switch: the circuit breaker trips (cancels everything) and blocks new orders; with `flatten`
   * every position is closed with market orders through the broker (without it, only if the breaker is
   * configured to flatten on a trip: a kill never does less than a trip). With `source`, the operator's
   * command is journaled (kind 'control') with who gave it.
   */
  async kill(reason = 'kill switch', o: { flatten?: boolean; source?: string } = {}): Promise<void> {
    if (o.source) this.note('control', `kill switch by ${o.source}${o.flatten ? ', flattening every position' : ''}: ${reason}`);
    this.engine.kill(reason, o.flatten ? true : undefined);
    await this.commit();
  }

  /** An operator pauses a strategy slot (no onBar, no new orders; its working orders stay), journaled with `source`. */
  pauseStrategy(name: string, source: string): Promise<void> {
    return this.pauseOrResume(name, source, true);
  }

  /** An operator resumes a paused strategy slot, journaled with `source`. */
  resumeStrategy(name: string, source: string): Promise<void> {
    return this.pauseOrResume(name, source, false);
  }

  private async pauseOrResume(name: string, source: string, pause: boolean): Promise<void> {
    const verb = pause ? 'pause' : 'resume';
    const names = this.engine.slotNames;
    if (!names.includes(name)) {
      const why = `unknown strategy '${name}' (this session runs ${names.join(', ')})`;
      this.note('control', `${verb} asked by ${source} refused: ${why}`);
      await this.commit();
      throw new Error(why);
    }
    const was = this.engine.isPaused(name);
    if (pause) this.engine.pause(name);
    else this.engine.resume(name);
    this.note(
      'control',
      `strategy ${name} ${pause ? 'paused' : 'resumed'} by ${source}${was === pause ? ` (it was already ${pause ? 'paused' : 'running'})` : ''}`,
    );
    await this.commit();
  }

  /**
   * An operator cancels a working order at the broker, journaled with `source`. Refuses (throws, and
   * journals the refusal) an order that is unknown, final, or already being cancelled.
   */
  async cancelOrder(orderId: number, source: string): Promise<void> {
    const order = Number.isSafeInteger(orderId) && orderId > 0 ? this.engine.orders[orderId - 1] : undefined;
    const why = !order
      ? `order ${orderId} is unknown (this session has orders 1 to ${this.engine.orders.length})`
      : order.status === 'PENDING_CANCEL'
        ? `order ${orderId} is already being cancelled`
        : !this.engine.openOrders().includes(order)
          ? `order ${orderId} is already ${order.status}: nothing to cancel`
          : null;
    if (why) {
      this.note('control', `cancel asked by ${source} refused: ${why}`);
      await this.commit();
      throw new Error(why);
    }
    this.note('control', `order ${orderId} ${order!.side} ${order!.symbol} cancelled by ${source}`);
    this.engine.cancel(orderId, `cancelled by ${source}`);
    await this.commit();
  }

  /** A person resets the tripped breaker (journaled with `source`). */
  resetBreaker(source: string): void {
    const was = this.engine.resetBreaker(source);
    this.note('control', was ? `circuit breaker reset by ${source}` : `reset asked by ${source}: the circuit breaker was not tripped`);
    void this.commit();
  }

  /** The gateway's clock as far as the runner has heard it (epoch ms). */
  get gatewayTime(): EpochMs {
    return this.feed.gatewayTime;
  }

  /** A one-line picture of the session: equity, P&L today, positions, open orders, connection. */
  status(): string {
    return statusLine({
      engine: this.engine,
      dayStartEquity: this.kernel.risk.safetyState().dayStartEquity,
      brokerDailyPnl: this.broker.dailyPnl,
      connected: this.conn.ready,
      tripped: this.kernel.risk.tripped?.message ?? null,
    });
  }

  /** Closes open bars, stops the feed, commits, disconnects. */
  async stop(): Promise<BacktestResult> {
    for (const t of this.timers) clearInterval(t);
    await this.feed.stop();
    await this.running;
    await this.reconciling.catch(() => {});
    this.expire(Infinity);
    this.engine.finish();
    await this.commit();
    this.greeks?.stop();
    this.conn.stop();
    await this.o.journal.flush();
    return {
      config: this.config,
      engine: this.engine,
      journal: this.journal,
      bars: this.actedBars,
      lastBarTs: this.lastBarTs,
      benchmark: this.benchmark.closes,
    };
  }

  private onBrokerNote(n: BrokerNote): void {
    this.note('broker', n.message);
    if (n.kind === 'conflict') {
      this.engine.halt('broker', n.message);
      void this.commit();
    }
  }

  /** After a reconnect: reconcile, then send what waited if it is still valid, or drop it with the reason. */
  private async afterReconnect(): Promise<void> {
    this.note('connection', 'reconnected: reconciling before anything is sent');
    try {
      await this.reconcile('reconnect');
    } catch (e) {
      this.note('reconcile', `reconciliation after the reconnect failed (${(e as Error).message}): decisions keep waiting`);
      return;
    }
    const now = await this.feed.syncTime();
    this.broker.release((order) => this.staleness(order, now));
    this.broker.watchPnl();
    await this.commit();
  }

  /** Why a decision can no longer be sent (null: it can). In lockstep the replay waited for us. */
  private staleness(order: Order, gatewayNow: EpochMs): string | null {
    if (this.o.lockstep || !(gatewayNow >= order.submittedAt + this.kernel.intervalMs)) return null;
    return `decided at ${iso(order.submittedAt)} while the gateway was out of reach; it is now ${iso(gatewayNow)}, past the bar it was meant for: not sent`;
  }

  /**
   * Compares the journal with the broker: our open orders are adopted, foreign ones shown and left alone,
   * executions missed while away booked once, orders no longer at the broker closed, and positions
   * compared; a difference is a journaled risk event that trips the breaker (or warns, if so configured).
   * One at a time.
   */
  reconcile(why: string): Promise<void> {
    const run = this.reconciling.then(() => this.reconcileNow(why));
    this.reconciling = run.catch(() => {});
    return run;
  }

  private async reconcileNow(why: string): Promise<void> {
    const { engine, broker } = this;
    const atStart = why === 'start';
    const open = await broker.openOrders();
    const atBroker = new Set<number>();
    let foreign = 0;
    for (const o of open) {
      const id = broker.ourOrderId(o.ref);
      const order = id === undefined ? undefined : engine.orders[id - 1];
      if (order) {
        atBroker.add(order.id);
        broker.adopt(o.brokerId, order);
        if (order.status === 'APPROVED') engine.onStatus(order, 'SUBMITTED', 'found at the broker');
        continue;
      }
      foreign++;
      const mine = this.config.symbols.includes(o.symbol);
      this.note(
        'reconcile',
        `open order ${o.brokerId} ${o.side} ${o.qty} ${o.symbol} ${o.ref ? `(${o.ref}) ` : ''}was not placed by this run: left alone${mine ? '; it trades a symbol of this run' : ''}`,
      );
      if (mine)
        this.riskEvent(
          'reconcile.foreignOrder',
          0,
          0,
          `a foreign order ${o.brokerId} ${o.side} ${o.qty} ${o.symbol} works at the broker on a symbol of this run`,
        );
    }
    await broker.executions(); // ours are booked by the broker adapter as they come, once each
    const held = new Set(broker.outgoing);
    for (const order of engine.openOrders()) {
      if (atBroker.has(order.id) || held.has(order)) continue;
      if (order.status === 'APPROVED') {
        // decided by an earlier session that stopped before sending it (or before hearing back), and not at the broker
        engine.onStatus(order, 'REJECTED', 'decided before a restart and not at the broker: not sent again');
        continue;
      }
      if (atStart || broker.acknowledged(order)) {
        // done at the broker (cancelled, expired) while we were not looking
        engine.onStatus(order, 'CANCELLED', atStart ? 'not at the broker after a restart: not sent again' : 'no longer at the broker: cancelled there');
        continue;
      }
      // sent but never acknowledged nor listed: lost in flight
      const stale = this.staleness(order, this.feed.gatewayTime);
      if (stale) engine.onStatus(order, 'REJECTED', `lost in flight (the broker never had it) and ${stale}`);
      else {
        this.note('reconcile', `order ${order.id} was lost in flight (the broker never had it): sent again`);
        broker.resend(order);
      }
    }
    const mismatches = await this.positionMismatches();
    this.reconciled = mismatches.length === 0 && this.conn.ready;
    for (const m of mismatches) this.riskEvent('reconcile.position', m.broker, m.ours, m.message);
    if (mismatches.length > 0) {
      if ((this.o.onMismatch ?? 'halt') === 'halt')
        engine.halt('reconcile', `the broker's positions differ from the journal's (${mismatches.map((m) => m.symbol).join(', ')})`);
    }
    this.note(
      'reconcile',
      `reconciled (${why}): ${open.length} open orders at the broker (${foreign} not ours), ${mismatches.length ? `${mismatches.length} position differences` : 'positions agree'}`,
    );
    await this.commit();
  }

  /** Positions that differ between the broker and the journal (asked twice: a fill on its way settles between). */
  private async positionMismatches(): Promise<{ symbol: string; broker: number; ours: number; message: string }[]> {
    const diff = async () => {
      const held = new Map((await this.broker.positions()).map((p) => [p.symbol, p.qty]));
      return this.config.symbols.flatMap((symbol, sid) => {
        const ours = this.engine.portfolio.position(sid);
        const broker = held.get(symbol) ?? 0;
        return broker === ours ? [] : [{ symbol, broker, ours, message: `the broker holds ${symbol} ${signed(broker)}, the journal ${signed(ours)}` }];
      });
    };
    const first = await diff();
    if (first.length === 0) return first;
    await this.broker.executions();
    return diff();
  }

  private riskEvent(check: string, value: number, limit: number, message: string): void {
    this.journal.riskEvent({ ts: this.eventTime(), orderId: 0, check, value, limit, message });
  }

  /**
   * When a runner event happens: the engine's time (the bars'), or before the first bar (the start's
   * reconciliation) the gateway's clock as far as it is known, else the wall clock; never NaN, which no
   * report or journal reader could place.
   */
  private eventTime(): EpochMs {
    const t = this.engine?.now() ?? NaN;
    if (Number.isFinite(t)) return t;
    return Number.isFinite(this.feed?.gatewayTime) ? this.feed.gatewayTime : Date.now();
  }
}

const iso = (ts: EpochMs) => (Number.isFinite(ts) ? new Date(ts).toISOString().replace('.000Z', 'Z') : String(ts));
const signed = (q: number) => (q > 0 ? `+${q}` : String(q));
