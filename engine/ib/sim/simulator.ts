// The IB Gateway simulator: a TCP server speaking the TWS API socket protocol at server version 193.
// It replays stored bars as 5-second bars and ticks on a virtual clock (real time by default, N x
// real time, or lockstep with the clients), fills orders with the backtest's fill model (one
// SimBroker), keeps order ids per client id as IB does, enforces IB's 50 messages/s per connection,
// keeps the account across reconnects and restarts, resumes from a snapshot, and injects faults on
// command.
//
// Regular trading hours as at IB: an order without outsideRth placed outside 09:30-16:00 exchange time
// (13:00 on US half days) is accepted, stays PreSubmitted with IB's message 399 ("your order will not be
// placed at the exchange until ... 09:30:00"), and goes to the exchange at the open; on a 5-second bar
// outside regular hours only orders with outsideRth match. IB would also ignore outsideRth on market
// orders (warning 2109) and trade only limit orders outside regular hours; the simulator ignores it (2109)
// only on MOO/MOC and otherwise fills every order type with outsideRth on every replayed bar, as backtests
// under --session extended do. `session: 'rth'` replays only the regular session's bars.
//
// Cash per currency (`baseCurrency`, `fx`): the account keeps a balance per currency as IBKR does, pairs moving two
// of them, futures settling their P&L daily into cash (variation margin); reqAccountSummary reports the base-currency
// tags converted at the replayed pairs' marks or the daily rates, and IB's $LEDGER blocks per currency (summary.ts).
//
// Options, futures and FX pairs (`derivatives`): contract details, reqSecDefOptParams, and market data from their
// quote bars (bid/ask ticks, option computations); see secdef.ts and option-data.ts.
// Historical bars (historical.ts) follow whatToShow: BID and ASK from the quote columns, MIDPOINT and an option's
// TRADES the mid; a pair's TRADES is refused (error 162) as IB has none; BID_ASK is not served.
// Trading them: a series with bid/ask columns (a pair's or an option's quote bars, OHLC the mid, as openRunData
// loads them) and its contract terms (`contracts`) is replayed like a stock's bars (real-time bars of the mid,
// whatever whatToShow asks), and its orders fill on each 5-second bar against the side they take (split from the
// stored bid and ask bars: replay.ts), with the backtest's commission for its type and its multiplier in the
// account's cash and values (ledger.ts).
//
// Not modelled: stock quotes (bid = ask = last), margin checks and rejections other than on command, what-if, conditional,
// algo-specific and combo behaviour, account updates (reqAccountUpdates), periodic account-summary
// updates, market-data line limits. In real time the clock starts with the first subscription and
// then runs whoever listens (drops, restarts and stalls lose data, not time); in lockstep it stands
// still while no client takes market data.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ExchangeCalendar, type SessionMode } from '../../core/calendar.ts';
import { INTERVAL_MS, type BarSeries, type ContractTerms } from '../../core/types.ts';
import type { CommissionSpec, SlippageSpec } from '../../exec/costs.ts';
import { ParseError } from '../protocol/fields.ts';
import { CODE, IN, TEXT } from '../protocol/ids.ts';
import * as msg from '../protocol/messages.ts';
import type { Fields } from '../protocol/messages.ts';
import type { IbContract } from '../protocol/contract.ts';
import { messageId, parseRequest, type ClientRequest } from '../protocol/requests.ts';
import { Account, type Execution, type SimOrder } from './account.ts';
import { ClientConnection, type ConnectionHandler } from './connection.ts';
import { conIdFor, Contracts } from './contracts.ts';
import { history, IB_PACING, Pacing, type PacingLimits } from './historical.ts';
import { MarketDataFeed } from './market-data.ts';
import { lastCloseAt, QUOTE_SID, QuoteFeed, type SimDerivatives } from './option-data.ts';
import { MAX_RATE_CODE, maxRateText, MessageRate } from './msg-rate.ts';
import { commissionReportMsg, execDetailsMsg, openOrderMsg, orderStatusMsg } from './order-messages.ts';
import { Replay } from './replay.ts';
import { BatchScheduler } from './scheduler.ts';
import type { SimSnapshot } from './snapshot.ts';
import { accountSummary, missingRates } from './summary.ts';
import { NO_RATE_CODE, noRateText } from './currency-rates.ts';
import type { FxMarks } from '../../portfolio/fx-marks.ts';
import { formatIbTime, parseIbTime } from '../protocol/time.ts';

export interface SimulatorOptions {
  /** 0 or undefined: an ephemeral port (read `sim.port`) */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** the bars to replay, one series per symbol, all of one interval */
  series: BarSeries[];
  /** N: N x real time (default 1, real time); 'max': lockstep with the clients */
  speed?: 'max' | number;
  /** default DU1234567 */
  account?: string;
  /** default 100000, in the base currency */
  cash?: number;
  /**
   * The account's base currency (default USD; a resumed snapshot keeps its own). Cash is kept per currency (a USD
   * purchase in a GBP account leaves a negative USD balance) and the account's totals are converted into the base at
   * the replayed pairs' marks, else at `fx`.
   */
  baseCurrency?: string;
  /**
   * Daily rates into `baseCurrency` for currencies no replayed pair converts (openRunData's `fx` for that base). The
   * simulator advances it on its own clock: pass an FxMarks of its own, not a live runner's.
   */
  fx?: FxMarks;
  /** default ibkr-fixed */
  commission?: CommissionSpec;
  /** default none */
  slippage?: SlippageSpec;
  /** exchange time zone, default America/New_York */
  tz?: string;
  /** the replay starts at the first bar at or after this instant; earlier bars serve history only */
  from?: number;
  /** price grid of the points between the vertices of split bars (default 0.01) */
  tick?: number;
  /**
   * Lockstep: a client that has just subscribed and not yet sent reqCurrentTime is waited for this
   * long (real ms) before the replay goes on without its signal (default 250; 0: wait for it).
   */
  joinGraceMs?: number;
  /**
   * false: the replay waits for `begin()` instead of starting with the first subscription (tests that
   * need every symbol subscribed before the first bar). Default true.
   */
  autoStart?: boolean;
  /** historical-data pacing limits (default IB's) */
  pacing?: Partial<PacingLimits>;
  /**
   * IB's limit on client messages per second and connection (default 50; 0: not enforced). Lockstep
   * runs faster than real time, so there the default is 0.
   */
  maxMsgPerSec?: number;
  /** a client with this many message-rate violations within `withinMs` is disconnected (default 3 within 10 s) */
  msgRateDisconnect?: { violations: number; withinMs: number };
  /** continue from `sim.snapshot()` of an earlier simulator over the same series (its account, orders, ids and clock) */
  resume?: SimSnapshot;
  /**
   * Which stored intraday bars are replayed: 'extended' (default) every one (pre- and post-market too), 'rth'
   * only those of the regular session (the clock goes from each close to the next open). Either way an order
   * without outsideRth trades in regular hours only. Historical requests see every stored bar.
   */
  session?: SessionMode;
  /**
   * Options, futures and FX pairs (issue 15; `loadSimDerivatives(store, ...)` in option-data.ts): their contract
   * details and option chains (secdef.ts), and their quote bars replayed as bid/ask ticks and, for options,
   * tickOptionComputation. Stocks stay the replayed series; an option's underlying price is its series' last close.
   */
  derivatives?: SimDerivatives;
  /**
   * The contract terms of the replayed symbols that are not US stocks (a run's `contracts`, from the instruments
   * table): their IB contracts (a pair on IDEALPRO, an option with its expiry, strike and right), multipliers and
   * commissions. Their series should be quote bars (bid/ask columns) to fill against.
   */
  contracts?: Readonly<Record<string, ContractTerms>>;
}

export interface SimulatorStats {
  /** client messages received, by message id */
  received: Record<number, number>;
  /** messages that did not parse (answered with 320) */
  parseErrors: number;
  /** well-formed messages the simulator does not model */
  unsupported: number;
  /** connections accepted */
  connections: number;
  /** 5-second batches emitted */
  batches: number;
  /** IB's 50 messages/s: messages over the limit (answered with error 100, not acted on), connections closed for repeating it */
  pacing: { violations: number; disconnects: number };
}

/** Start instants of the lifetimes in this process, strictly increasing: part of every execId. */
let lastLifetime = 0;
function newLifetime(after = 0): number {
  lastLifetime = Math.max(Date.now(), lastLifetime + 1, after + 1);
  return lastLifetime;
}

export class IbGatewaySimulator implements ConnectionHandler {
  readonly stats: SimulatorStats = { received: {}, parseErrors: 0, unsupported: 0, connections: 0, batches: 0, pacing: { violations: 0, disconnects: 0 } };
  /** 'batch' (after each batch), 'pacingViolation' (clientId, count), 'pacingDisconnect' (clientId): for tests and tools to wait on */
  readonly events = new EventEmitter();
  /** resolves after the last batch (in lockstep: once the clients have acknowledged it), or on close */
  readonly finished: Promise<void>;
  readonly account: Account;
  readonly contracts: Contracts;
  private readonly replay: Replay;
  private readonly scheduler: BatchScheduler;
  private readonly feed: MarketDataFeed;
  private readonly quoteFeed: QuoteFeed | undefined;
  private readonly conns = new Set<ClientConnection>();
  private readonly tz: string;
  private readonly accountId: string;
  private readonly pacing: Pacing;
  private readonly maxMsgPerSec: number;
  private readonly msgRates = new WeakMap<ClientConnection, MessageRate>();
  /** start instant of this simulator's lifetime (epoch ms): execIds of different lifetimes never collide */
  private readonly lifetime: number;
  private server: Server;
  private host: string;
  private _port = 0;
  private connSeq = 0;
  private resolveFinished!: () => void;
  private started = false;
  private closing = false;
  private lost = false;
  private down = false;
  private stalledUntil = 0;
  private pacingNext = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private wakeRestart: () => void = () => {};
  private pacingClock = { virtual: NaN, realAt: 0, last: -Infinity };
  private readonly lastPnl = new Map<string, string>();
  /** notice 2900 once announceEnd() was called: sent to every client connecting after it too */
  private endNotice: Fields | undefined;

  private constructor(private readonly o: SimulatorOptions) {
    this.tz = o.tz ?? 'America/New_York';
    const speed = o.speed ?? 1;
    if (speed !== 'max' && !(speed > 0)) throw new Error(`speed must be 'max' or a number > 0, got ${speed}`);
    this.maxMsgPerSec = o.maxMsgPerSec ?? (speed === 'max' ? 0 : 50);
    const resume = o.resume;
    if (resume) checkSnapshot(resume, o);
    this.accountId = resume?.account ?? o.account ?? 'DU1234567';
    this.lifetime = newLifetime(resume?.lifetime);
    this.pacing = new Pacing({ ...IB_PACING, ...o.pacing });
    const replayed = o.session === 'rth' ? o.series.map((s) => regularSession(s, this.tz)) : o.series;
    this.replay = new Replay(replayed, { from: o.from, tick: o.tick });
    this.feed = new MarketDataFeed(o.series, this.replay.intervalMs, this.tz);
    this.contracts = new Contracts(
      o.series.map((s) => s.symbol.toUpperCase()),
      this.tz,
      o.contracts ? o.series.map((s) => o.contracts![s.symbol] ?? o.contracts![s.symbol.toUpperCase()]) : [],
    );
    if (o.derivatives) {
      const bySymbol = new Map(o.series.map((s) => [s.symbol.toUpperCase(), s]));
      const price = (symbol: string, at: number) => {
        const s = bySymbol.get(symbol);
        return s ? lastCloseAt(s, at) : NaN;
      };
      this.quoteFeed = new QuoteFeed(o.derivatives.quotes ?? new Map(), price, o.derivatives.pricing);
    }
    const replay = this.replay;
    this.scheduler = new BatchScheduler(
      {
        connections: this.conns,
        halted: () => !this.started || this.lost || this.down || this.stalledUntil > 0,
        idle: () => !this.started,
        nextBatchTs: () => replay.peekTs(),
        now: () => replay.now(),
        batchMs: replay.subMs,
        emitBatch: () => this.emitBatch(),
        onEnd: () => {
          this.account.endOfReplay();
          this.resolveFinished();
        },
      },
      speed,
      o.joinGraceMs ?? 250,
    );
    this.account = new Account(
      this.contracts,
      {
        account: this.accountId,
        cash: resume?.state.startingCash ?? o.cash ?? 100_000,
        commission: o.commission ?? { model: 'ibkr-fixed' },
        slippage: o.slippage,
        intervalMs: this.replay.intervalMs,
        subMs: this.replay.subMs,
        tz: this.tz,
        execPrefix: `${conIdFor(this.accountId).toString(16).padStart(8, '0')}.${this.lifetime.toString(36)}`,
        baseCurrency: o.baseCurrency ?? resume?.state.base,
        fx: o.fx,
        clock: () => this.replay.now(),
      },
      {
        openOrder: (so) => this.toClient(so.clientId, openOrderMsg(so, this.contracts, this.accountId)),
        orderStatus: (so) => this.toClient(so.clientId, orderStatusMsg(so)),
        execution: (e, so) => this.onExecution(e, so),
        orderError: (clientId, orderId, code, text) => this.toClient(clientId, msg.error(orderId, code, text)),
        positionChanged: (sid) => this.onPositionChanged(sid),
      },
    );
    if (resume) {
      try {
        this.replay.resume(resume.clock, resume.batches);
      } catch (e) {
        throw new Error(`cannot resume from this snapshot: ${(e as Error).message}`);
      }
      this.account.restore(resume.state, resume.clock);
      this.feed.dayVolume.set(resume.dayVolume);
      this.feed.volumeDay.set(resume.volumeDay.map((d) => d ?? NaN));
    } else {
      replayed.forEach((s, sid) => {
        const i = this.replay.startIndex[sid];
        if (i > 0) this.account.setMark(sid, s.close[i - 1]);
      });
    }
    this.host = o.host ?? '127.0.0.1';
    this.server = this.makeServer();
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  static async start(o: SimulatorOptions): Promise<IbGatewaySimulator> {
    const sim = new IbGatewaySimulator(o);
    await sim.listen(o.port ?? 0);
    return sim;
  }

  get port(): number {
    return this._port;
  }

  /** The virtual clock, epoch ms: the end of the last batch (the first batch's start before the replay). */
  now(): number {
    return this.replay.now();
  }

  /**
   * Everything a new simulator needs to continue from here (`SimulatorOptions.resume`), as a plain
   * JSON-serializable object. Take it between batches (any time outside the simulator's own calls).
   */
  snapshot(): SimSnapshot {
    return structuredClone({
      version: 1,
      symbols: [...this.contracts.symbols],
      interval: this.o.series[0].interval,
      account: this.accountId,
      clock: this.replay.now(),
      batches: this.replay.nextSeq,
      lifetime: this.lifetime,
      dayVolume: [...this.feed.dayVolume],
      volumeDay: [...this.feed.volumeDay].map((d) => (Number.isNaN(d) ? null : d)),
      state: this.account.snapshot(),
    });
  }

  /** Starts the replay of a simulator created with `autoStart: false`. */
  begin(): void {
    this.started = true;
    this.scheduler.pump();
  }

  /** real-time-bar subscriptions of the connected clients */
  get realTimeBarSubscriptions(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === 'ready') n += c.rtBars.size;
    return n;
  }

  /** connected clients (past the handshake) */
  get clients(): number {
    let n = 0;
    for (const c of this.conns) if (c.state === 'ready') n++;
    return n;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.scheduler.stop();
    for (const t of [this.stallTimer, this.restartTimer]) clearTimeout(t);
    this.wakeRestart();
    for (const c of [...this.conns]) c.close();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    this.resolveFinished();
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Closes every client socket (the account and the replay position stay). */
  dropConnections(): void {
    for (const c of [...this.conns]) c.close();
  }

  /** Notice 1100 to every client; market data stops (the replay pauses) until connectivityRestored. */
  connectivityLost(): void {
    this.lost = true;
    this.broadcast(msg.error(-1, CODE.CONNECTIVITY_LOST, TEXT.CONNECTIVITY_LOST));
    this.scheduler.pump();
  }

  /** 1101 (data lost: every market-data subscription is dropped and must be requested again) or 1102. */
  connectivityRestored(dataLost: boolean): void {
    this.lost = false;
    if (dataLost) {
      this.broadcast(msg.error(-1, CODE.RESTORED_DATA_LOST, TEXT.RESTORED_DATA_LOST));
      for (const c of this.conns) {
        c.mktData.clear();
        c.rtBars.clear();
        c.histUpdates.clear();
        c.joinedAt = null;
      }
    } else {
      this.broadcast(msg.error(-1, CODE.RESTORED_DATA_KEPT, TEXT.RESTORED_DATA_KEPT));
    }
    this.scheduler.pump();
  }

  /** A gateway restart: closes every socket, refuses connections for `downMs`, then listens again on the same port. */
  async restart(downMs: number): Promise<void> {
    this.down = true;
    const closed = new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    this.dropConnections();
    await closed;
    await new Promise<void>((resolve) => {
      this.restartTimer = setTimeout(resolve, downMs);
      this.wakeRestart = resolve;
    });
    if (this.closing) return;
    this.server = this.makeServer();
    await this.listen(this._port);
    this.down = false;
    this.scheduler.pump();
  }

  /**
   * Tells every client, and every client that connects later, that the replay has ended: notice 2900
   * with id -1 (`Tradebench simulator: the replay has ended at <ISO>: ...`). A real gateway never sends
   * it; the live runner stops gracefully on it. `npm run ib-sim` calls it when its replay is over.
   */
  announceEnd(): void {
    this.endNotice = msg.error(-1, CODE.REPLAY_ENDED, `${TEXT.REPLAY_ENDED} at ${new Date(this.now()).toISOString()}: no more market data will come`);
    this.broadcast(this.endNotice);
  }

  /** The next new order gets error 201 with this reason and orderStatus Inactive. */
  rejectNextOrder(reason: string): void {
    this.account.rejectNext = reason;
  }

  /** The next historical-data request gets error 162 (pacing violation). */
  pacingViolationNext(): void {
    this.pacingNext = true;
  }

  /** Sends nothing for `ms` (requests are still read; answers and data wait), then carries on. */
  stall(ms: number): void {
    this.stalledUntil = performance.now() + ms;
    clearTimeout(this.stallTimer);
    this.scheduler.pump();
    this.stallTimer = setTimeout(() => {
      this.stalledUntil = 0;
      for (const c of this.conns) c.release();
      this.scheduler.pump();
    }, ms);
  }

  stalled(): boolean {
    return this.stalledUntil > 0;
  }

  // ---- connections --------------------------------------------------------------------------

  private makeServer(): Server {
    return createServer((socket: Socket) => {
      if (this.down || this.closing) {
        socket.destroy();
        return;
      }
      this.stats.connections++;
      this.conns.add(new ClientConnection(++this.connSeq, socket, this));
    });
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this._port = typeof addr === 'object' && addr ? addr.port : port;
        resolve();
      });
    });
  }

  onVersion(conn: ClientConnection, range: { min: number; max: number } | null): void {
    // 193 is the only layout spoken: a client that cannot speak it is closed
    if (!range || range.max < 193 || range.min > 193) {
      conn.close();
      return;
    }
    conn.state = 'awaiting-start';
    conn.send(msg.serverVersion(formatIbTime(this.now(), this.tz, true)));
  }

  onClose(conn: ClientConnection): void {
    this.conns.delete(conn);
    for (const key of this.lastPnl.keys()) if (key.startsWith(`${conn.id}:`)) this.lastPnl.delete(key);
    this.scheduler.pump();
  }

  onMessage(conn: ClientConnection, fields: string[]): void {
    let id: number;
    try {
      id = messageId(fields);
    } catch (e) {
      this.badMessage(conn, fields, e);
      return;
    }
    this.stats.received[id] = (this.stats.received[id] ?? 0) + 1;
    if (!this.withinMsgRate(conn)) return;
    if (conn.state === 'awaiting-start' && id !== IN.START_API) return; // IB ignores requests before startApi
    let req: ClientRequest;
    try {
      req = parseRequest(fields);
    } catch (e) {
      this.badMessage(conn, fields, e);
      return;
    }
    this.handle(conn, req);
  }

  /** Counts the message against IB's rate limit: false when it is over (error 100; a repeat offender is disconnected). */
  private withinMsgRate(conn: ClientConnection): boolean {
    if (this.maxMsgPerSec <= 0) return true;
    let rate = this.msgRates.get(conn);
    if (!rate) this.msgRates.set(conn, (rate = new MessageRate(this.maxMsgPerSec, this.o.msgRateDisconnect ?? { violations: 3, withinMs: 10_000 })));
    const v = rate.admit(performance.now());
    if (!v) return true;
    this.stats.pacing.violations++;
    // IB's error carries the violation count as its id (observed: "Id: 1 ... rec=651 (1)")
    conn.send(msg.error(v.violations, MAX_RATE_CODE, maxRateText(this.maxMsgPerSec, v.received, v.violations)));
    this.events.emit('pacingViolation', conn.clientId, v.violations);
    if (v.disconnect) {
      this.stats.pacing.disconnects++;
      conn.end();
      this.events.emit('pacingDisconnect', conn.clientId);
    }
    return false;
  }

  private badMessage(conn: ClientConnection, fields: string[], e: unknown): void {
    if (!(e instanceof ParseError)) throw e;
    this.stats.parseErrors++;
    conn.send(msg.error(requestIdOf(fields), CODE.BAD_MESSAGE, TEXT.BAD_MESSAGE + e.message));
  }

  private toClient(clientId: number, fields: Fields): void {
    for (const c of this.conns) if (c.state === 'ready' && c.clientId === clientId) c.send(fields);
  }

  private broadcast(fields: Fields): void {
    for (const c of this.conns) if (c.state === 'ready') c.send(fields);
  }

  // ---- requests -----------------------------------------------------------------------------

  private handle(conn: ClientConnection, req: ClientRequest): void {
    switch (req.type) {
      case 'startApi':
        return this.startApi(conn, req.clientId);
      case 'reqIds':
        return conn.send(msg.nextValidId(this.account.nextValidId(conn.clientId)));
      case 'reqCurrentTime':
        return this.currentTime(conn);
      case 'reqMarketDataType':
        conn.marketDataType = req.marketDataType;
        conn.send(msg.marketDataType(-1, req.marketDataType));
        for (const reqId of conn.mktData.keys()) conn.send(msg.marketDataType(reqId, req.marketDataType));
        return;
      case 'reqMktData':
        return this.subscribeMktData(conn, req.reqId, req.contract, req.snapshot || req.regulatorySnapshot);
      case 'cancelMktData':
        conn.mktData.delete(req.reqId); // a quote subscription (QUOTE_SID) ends with it
        return this.scheduler.left(conn);
      case 'reqRealTimeBars': {
        const sid = this.contracts.resolve(req.contract);
        if (sid < 0) return conn.send(msg.error(req.reqId, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION));
        this.scheduler.join(conn);
        const what = req.whatToShow.trim().toUpperCase();
        conn.rtBars.set(req.reqId, { sid, useRTH: req.useRTH, ...(what === 'BID' || what === 'ASK' ? { side: what } : {}) });
        if (this.o.autoStart !== false) this.started = true;
        return this.scheduler.pump();
      }
      case 'cancelRealTimeBars':
        conn.rtBars.delete(req.reqId);
        return this.scheduler.left(conn);
      case 'reqHistoricalData':
        return this.historical(conn, req);
      case 'cancelHistoricalData':
        conn.histUpdates.delete(req.reqId);
        return;
      case 'reqContractDetails': {
        const sid = this.contracts.resolve(req.contract);
        if (sid < 0 && this.o.derivatives) return this.derivativeDetails(conn, req.reqId, req.contract, req.includeExpired);
        if (sid < 0) return conn.send(msg.error(req.reqId, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION));
        conn.send(msg.contractDetails(req.reqId, this.contracts.details(sid)));
        return conn.send(msg.contractDetailsEnd(req.reqId));
      }
      case 'reqSecDefOptParams':
        for (const p of this.o.derivatives?.secDefs.optionParams(req.underlyingSymbol, conIdFor(req.underlyingSymbol.trim().toUpperCase()), this.now()) ?? []) {
          conn.send(msg.securityDefinitionOptionParameter(req.reqId, p.exchange, p.underlyingConId, p.tradingClass, p.multiplier, p.expirations, p.strikes));
        }
        return conn.send(msg.securityDefinitionOptionParameterEnd(req.reqId));
      case 'placeOrder':
        return this.account.place(conn.clientId, req.order, this.now());
      case 'cancelOrder':
        return this.account.cancel(conn.clientId, req.orderId);
      case 'reqGlobalCancel':
        return this.account.cancelAll();
      case 'reqOpenOrders':
      case 'reqAllOpenOrders':
        for (const so of this.account.liveOrders(req.type === 'reqOpenOrders' ? conn.clientId : undefined)) {
          conn.send(openOrderMsg(so, this.contracts, this.accountId));
          conn.send(orderStatusMsg(so));
        }
        return conn.send(msg.openOrderEnd());
      case 'reqAutoOpenOrders':
        return;
      case 'reqManagedAccts':
        return conn.send(msg.managedAccounts(this.accountId));
      case 'reqPositions':
        conn.positions = true;
        this.account.ledger.traded.forEach((traded, sid) => {
          if (traded) conn.send(this.positionMsg(sid));
        });
        return conn.send(msg.positionEnd());
      case 'cancelPositions':
        conn.positions = false;
        return;
      case 'reqAccountSummary': {
        const tags = req.tags.split(',');
        conn.accountSummaries.set(req.reqId, tags);
        for (const r of accountSummary(this.account, tags)) conn.send(msg.accountSummary(req.reqId, this.accountId, r.tag, r.value, r.currency));
        const missing = missingRates(this.account);
        if (missing.length > 0) conn.send(msg.error(req.reqId, NO_RATE_CODE, noRateText(missing, this.account.ledger.base, this.now())));
        return conn.send(msg.accountSummaryEnd(req.reqId));
      }
      case 'cancelAccountSummary':
        conn.accountSummaries.delete(req.reqId);
        return;
      case 'reqPnL':
        conn.pnlRequests.add(req.reqId);
        return this.sendPnl(conn, req.reqId, true);
      case 'cancelPnL':
        conn.pnlRequests.delete(req.reqId);
        return;
      case 'reqExecutions':
        for (const e of this.filterExecutions(req.filter)) {
          conn.send(execDetailsMsg(req.reqId, e, this.contracts, this.accountId, this.tz));
          conn.send(commissionReportMsg(e));
        }
        return conn.send(msg.execDetailsEnd(req.reqId));
      case 'unsupported':
        this.stats.unsupported++;
        return conn.send(msg.error(-1, CODE.BAD_MESSAGE, `${TEXT.BAD_MESSAGE}The simulator does not model message id ${req.msgId}.`));
    }
  }

  private startApi(conn: ClientConnection, clientId: number): void {
    if (conn.state !== 'awaiting-start') return;
    for (const c of this.conns) {
      if (c !== conn && c.state === 'ready' && c.clientId === clientId) {
        conn.send(msg.error(-1, CODE.CLIENT_ID_IN_USE, TEXT.CLIENT_ID_IN_USE));
        conn.end();
        return;
      }
    }
    conn.clientId = clientId;
    conn.state = 'ready';
    conn.send(msg.managedAccounts(this.accountId));
    conn.send(msg.nextValidId(this.account.nextValidId(clientId)));
    conn.send(msg.error(-1, CODE.MARKET_DATA_FARM_OK, TEXT.MARKET_DATA_FARM_OK));
    conn.send(msg.error(-1, CODE.HMDS_FARM_OK, TEXT.HMDS_FARM_OK));
    conn.send(msg.error(-1, CODE.SEC_DEF_FARM_OK, TEXT.SEC_DEF_FARM_OK));
    if (this.endNotice) conn.send(this.endNotice);
    // like TWS, the client's working orders come with the connection
    for (const so of this.account.liveOrders(clientId)) {
      conn.send(openOrderMsg(so, this.contracts, this.accountId));
      conn.send(orderStatusMsg(so));
    }
  }

  private currentTime(conn: ClientConnection): void {
    if (!this.scheduler.signal(conn)) conn.sendCurrentTime(this.now());
  }

  private subscribeMktData(conn: ClientConnection, reqId: number, contract: IbContract, snapshot: boolean): void {
    const sid = this.contracts.resolve(contract);
    // an option replayed as a series (a run's --chain) still gets an option's market data from its quote bars:
    // bid/ask ticks and tickOptionComputation, as IB sends for any option
    const quotedOption = sid >= 0 && this.contracts.contract(sid).secType === 'OPT' && this.quoteFeed?.has(this.contracts.symbols[sid]);
    if ((sid < 0 || quotedOption) && this.quoteFeed) return this.subscribeQuotes(conn, reqId, contract, snapshot);
    if (sid < 0) return conn.send(msg.error(reqId, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION));
    if (conn.marketDataType !== 1) conn.send(msg.marketDataType(reqId, conn.marketDataType));
    conn.send(msg.tickReqParams(reqId, 0.01, '9c0001', 3));
    const last = this.account.marks[sid];
    const sec = Math.floor(this.now() / 1000);
    if (snapshot) {
      if (!Number.isNaN(last)) this.feed.ticks(conn, reqId, sid, last, 0, sec);
      return conn.send(msg.tickSnapshotEnd(reqId));
    }
    this.scheduler.join(conn);
    conn.mktData.set(reqId, { sid });
    if (!Number.isNaN(last) && this.replay.nextSeq > 0) this.feed.ticks(conn, reqId, sid, last, 0, sec);
    if (this.o.autoStart !== false) this.started = true;
    this.scheduler.pump();
  }

  /** contractDetails of every option, future or pair the contract names (IB's matching: secdef.ts; expired ones only with includeExpired), or error 200. */
  private derivativeDetails(conn: ClientConnection, reqId: number, contract: IbContract, includeExpired: boolean): void {
    const secDefs = this.o.derivatives!.secDefs;
    const rows = secDefs.match(contract, { now: this.now(), includeExpired });
    if (rows.length === 0) return conn.send(msg.error(reqId, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION));
    const stockConId = (symbol: string) => {
      const sid = this.contracts.symbols.indexOf(symbol);
      return sid >= 0 ? this.contracts.conIds[sid] : conIdFor(symbol);
    };
    for (const r of rows) conn.send(msg.derivativeContractDetails(reqId, secDefs.details(r, stockConId)));
    conn.send(msg.contractDetailsEnd(reqId));
  }

  /** Market data of one option, future or pair from its quote bars (option-data.ts); error 200 unless exactly one contract matches. */
  private subscribeQuotes(conn: ClientConnection, reqId: number, contract: IbContract, snapshot: boolean): void {
    const rows = this.o.derivatives!.secDefs.match(contract, { now: this.now() });
    if (rows.length !== 1) {
      return conn.send(msg.error(reqId, CODE.NO_SECURITY_DEFINITION, rows.length === 0 ? TEXT.NO_SECURITY_DEFINITION : TEXT.AMBIGUOUS_CONTRACT));
    }
    const row = rows[0];
    const feed = this.quoteFeed!;
    if (conn.marketDataType !== 1) conn.send(msg.marketDataType(reqId, conn.marketDataType));
    conn.send(msg.tickReqParams(reqId, row.tickSize ?? 0.01, '9c0001', 3));
    if (snapshot) {
      feed.subscribe(conn, reqId, row, this.now(), true);
      return conn.send(msg.tickSnapshotEnd(reqId));
    }
    this.scheduler.join(conn);
    conn.mktData.set(reqId, { sid: QUOTE_SID });
    feed.subscribe(conn, reqId, row, this.now(), this.replay.nextSeq > 0);
    if (this.o.autoStart !== false) this.started = true;
    this.scheduler.pump();
  }

  private historical(conn: ClientConnection, req: Extract<ClientRequest, { type: 'reqHistoricalData' }>): void {
    const sid = this.contracts.resolve(req.contract);
    if (sid < 0) return conn.send(msg.error(req.reqId, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION));
    const symbol = this.contracts.symbols[sid];
    const contract = this.contracts.contract(sid);
    if (contract.secType === 'CASH' && req.whatToShow.trim().toUpperCase() === 'TRADES') {
      // IB disseminates no trades of a cash pair: its error 162 (the pair's quotes are MIDPOINT, BID and ASK)
      const text = `Historical Market Data Service error message:No historical market data for ${contract.symbol}/CASH@${contract.exchange} TRADES: a CASH pair has no trades; ask MIDPOINT, BID or ASK`;
      return conn.send(msg.error(req.reqId, CODE.HMDS_ERROR, text));
    }
    const key = JSON.stringify([symbol, req.endDateTime, req.barSize, req.duration, req.useRTH, req.whatToShow, req.formatDate, req.keepUpToDate]);
    const violation = this.pacingNext ? 'injected' : this.pacing.admit(this.pacingNow(), key, `${symbol}|${req.whatToShow}`);
    this.pacingNext = false;
    if (violation) return conn.send(msg.error(req.reqId, CODE.HMDS_ERROR, TEXT.PACING));
    const r = history(this.o.series[sid], req, this.now(), this.tz);
    if (!r.ok) return conn.send(msg.error(req.reqId, r.code, r.message));
    conn.send(msg.historicalData(req.reqId, r.start, r.end, r.bars));
    if (req.keepUpToDate) conn.histUpdates.set(req.reqId, { sid, barSize: req.barSize, useRTH: req.useRTH, formatDate: req.formatDate });
  }

  /** Pacing windows run on the virtual clock, plus the real time that passes while it stands still. */
  private pacingNow(): number {
    const v = this.now();
    const r = performance.now();
    const pc = this.pacingClock;
    if (v !== pc.virtual) {
      pc.virtual = v;
      pc.realAt = r;
    }
    pc.last = Math.max(pc.last, v + (r - pc.realAt));
    return pc.last;
  }

  private filterExecutions(f: Extract<ClientRequest, { type: 'reqExecutions' }>['filter']): Execution[] {
    const since = f.time.trim() === '' ? -Infinity : parseIbTime(f.time, this.tz);
    const side = f.side.toUpperCase();
    return this.account.executions.filter(
      (e) =>
        (f.clientId === 0 || e.clientId === f.clientId) &&
        (f.account === '' || f.account === this.accountId) &&
        !(e.ts < since) &&
        (f.symbol === '' || f.symbol.toUpperCase() === this.contracts.symbols[e.sid] || f.symbol.toUpperCase() === this.contracts.contract(e.sid).symbol) &&
        (f.secType === '' || f.secType.toUpperCase() === this.contracts.contract(e.sid).secType) &&
        (side === '' || (side === 'BUY' ? 'BOT' : side === 'SELL' ? 'SLD' : side) === e.side),
    );
  }

  private positionMsg(sid: number): Fields {
    const l = this.account.ledger;
    return msg.position(this.accountId, this.contracts.contract(sid), l.qty[sid], l.avgCost[sid]);
  }

  private onExecution(e: Execution, so: SimOrder): void {
    this.toClient(so.clientId, execDetailsMsg(-1, e, this.contracts, this.accountId, this.tz));
    this.toClient(so.clientId, orderStatusMsg(so));
    this.toClient(so.clientId, commissionReportMsg(e));
  }

  private onPositionChanged(sid: number): void {
    for (const c of this.conns) if (c.state === 'ready' && c.positions) c.send(this.positionMsg(sid));
  }

  private sendPnl(conn: ClientConnection, reqId: number, always: boolean): void {
    const p = this.account.pnl();
    const fields = msg.pnl(reqId, p.daily, p.unrealized, p.realized);
    const key = `${conn.id}:${reqId}`;
    const text = fields.join('|');
    if (!always && this.lastPnl.get(key) === text) return;
    this.lastPnl.set(key, text);
    conn.send(fields);
  }

  // ---- replay -------------------------------------------------------------------------------

  /** One batch: fills first (orders received before it are eligible), then bars and ticks, then the lockstep answers. */
  private emitBatch(): void {
    const batch = this.replay.next();
    if (!batch) return;
    this.stats.batches++;
    this.account.onBatch(batch.bars, batch.end);
    // no market data while connectivity is lost or the gateway is down (in real time the replay goes on regardless)
    const ready = this.lost || this.down ? [] : [...this.conns].filter((c) => c.state === 'ready');
    this.feed.publish(batch, ready);
    this.quoteFeed?.publish(batch.end, ready);
    for (const c of ready) for (const reqId of c.pnlRequests) this.sendPnl(c, reqId, false);
    this.scheduler.afterBatch();
    this.events.emit('batch', batch.seq);
  }
}

const QUOTE_COLS = ['bidOpen', 'bidHigh', 'bidLow', 'bidClose', 'bidSize', 'askOpen', 'askHigh', 'askLow', 'askClose', 'askSize'] as const;

/** The bars of an intraday series that start in the regular session (daily series whole). */
function regularSession(s: BarSeries, tz: string): BarSeries {
  if (INTERVAL_MS[s.interval] >= INTERVAL_MS['1d']) return s;
  const cal = new ExchangeCalendar(tz);
  const keep: number[] = [];
  for (let i = 0; i < s.ts.length; i++) if (cal.inSession(s.ts[i])) keep.push(i);
  const col = (a: Float64Array) => Float64Array.from(keep, (i) => a[i]);
  const out: BarSeries = { ...s, ts: col(s.ts), open: col(s.open), high: col(s.high), low: col(s.low), close: col(s.close), volume: col(s.volume) };
  for (const c of QUOTE_COLS) if (s[c] !== undefined) out[c] = col(s[c]);
  return out;
}

/** The id an error about an unparseable message should carry: the order id or request id when readable. */
function requestIdOf(fields: readonly string[]): number {
  const id = Number(fields[0]);
  // placeOrder, cancelOrder, reqHistoricalData, reqPnL and cancelPnL carry it first; versioned requests second
  const pos =
    id === IN.PLACE_ORDER || id === IN.CANCEL_ORDER || id === IN.REQ_HISTORICAL_DATA || id === IN.REQ_PNL || id === IN.CANCEL_PNL
      ? 1
      : [1, 2, 7, 9, 25, 50, 51, 62, 63].includes(id)
        ? 2
        : -1;
  const v = pos > 0 ? fields[pos] : undefined;
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : -1;
}

/** Throws unless the snapshot fits these options: the same symbols (in the same order), interval and account. */
function checkSnapshot(snap: SimSnapshot, o: SimulatorOptions): void {
  const symbols = o.series.map((s) => s.symbol.toUpperCase());
  const why =
    snap.version !== 1
      ? `version ${snap.version} is not 1`
      : snap.symbols.join(',') !== symbols.join(',')
        ? `it is of the symbols ${snap.symbols.join(',')}, the series are ${symbols.join(',')}`
        : snap.interval !== o.series[0].interval
          ? `it is of ${snap.interval} bars, the series are ${o.series[0].interval}`
          : o.account !== undefined && o.account !== snap.account
            ? `it is of account ${snap.account}, not ${o.account}`
            : null;
  if (why) throw new Error(`cannot resume from this snapshot: ${why}`);
}
