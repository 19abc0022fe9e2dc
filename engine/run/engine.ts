import type { CorporateActionEvent } from '../core/corporate-action.ts';
import type { BarSink, Broker, BrokerListener, Clock } from '../core/ports.ts';
import { SignalBoard } from '../core/signals.ts';
import type { BarHistory, ChainQuery, OptionChain, Strategy, StrategyContext } from '../core/strategy.ts';
import type { Bar, ContractTerms, EpochMs, Fill, Order, OrderRequest, OrderStatus, Trade } from '../core/types.ts';
import { comboRequestError, legSide, legSign, orderLegs } from '../exec/combo-fill.ts';
import { newOrder, requestedOrder } from '../exec/new-order.ts';
import { assertTransition, isWorking } from '../exec/order-state.ts';
import type { JournalSink } from '../journal/journal.ts';
import type { FxMarks } from '../portfolio/fx-marks.ts';
import { Portfolio, type UnitTerms } from '../portfolio/portfolio.ts';
import { Sizer, type Sizing } from '../portfolio/sizing.ts';
import { type Rejection, RiskEngine } from '../risk/risk-engine.ts';
import { type ExternalGreeks, OptionBook } from './option-book.ts';
import { FuturesMargin } from '../portfolio/margin.ts';

/** The tag of the orders a margin call liquidates with. */
const MARGIN_CALL = 'margin-call';

/** One strategy instance of a run, with its sleeve of the capital and its sizing rule. */
export interface StrategySlot {
  name: string;
  strategy: Strategy;
  cash: number;
  sizing: Sizing;
}

export interface EngineOptions {
  symbols: readonly string[];
  /** sector of each symbol (instrument master), '' when unknown */
  sectors?: readonly string[];
  slots: StrategySlot[];
  broker: Broker;
  risk: RiskEngine;
  journal: JournalSink;
  history: BarHistory;
  /** bar length: bars become visible at ts + intervalMs */
  intervalMs: number;
  /** trading-day number of an instant (exchange-local), for daily equity sampling and daily limits */
  dayOf: (ts: EpochMs) => number;
  /** each symbol's contract multiplier, margining and currency (absent: every symbol a stock in the base currency) */
  terms?: UnitTerms;
  /** the rates of the currencies other than the base (absent: one currency), advanced with the engine's time */
  fx?: FxMarks;
  /** each symbol's contract terms (undefined: a US stock); options among them make `ctx.chain` */
  contracts?: readonly (ContractTerms | undefined)[];
  /** a live session's option greeks from IB (option-book.ts); absent in a backtest: ctx.chain computes them */
  greeks?: ExternalGreeks;
}

/**
 * The event-driven core shared by backtest and live: it marks the portfolio, samples equity,
 * runs the risk engine and circuit breaker, calls strategies and routes their orders to the broker.
 * It never reads the wall clock: time is the visibility time of the bars it is given.
 */
export class Engine implements BrokerListener, BarSink, Clock {
  readonly portfolio: Portfolio;
  readonly orders: Order[] = [];
  readonly trades: Trade[] = [];
  private readonly working = new Set<Order>();
  /** model predictions for the current bars, filled by the run's signal source (if any) */
  readonly signals: SignalBoard;
  private readonly contexts: SlotContext[];
  private readonly sizers: Sizer[];
  private readonly sectors: readonly string[];
  /** each run symbol's index (its sid) */
  private readonly sidOf: Map<string, number>;
  private nextId = 1;
  private t: EpochMs = NaN;
  private day = NaN;
  private pending: { ts: EpochMs; equity: number; cash: number; gross: number } | null = null;
  private lastFillTs: EpochMs = NaN;
  /** replaying known bars into the strategies (after a restart): no orders, no journal */
  private warming = false;
  /** slots an operator paused: no onBar, no new orders of their own (working orders stay) */
  private readonly paused = new Set<number>();
  /** creating a filled parent's bracket legs: they go even for a paused slot (they protect its position) */
  private placingLegs = false;
  /** some slot's sizing reads every close (vol-target) */
  private readonly sizersNeedBars: boolean;
  /**
   * The account's equity and gross exposure and each book's equity as sampled at the last onBars, valid while
   * its strategies run (no fill nor mark changes them then): the orders they submit read them, not 2 x N
   * positions again each. Cleared by whatever could change them (fills, corporate actions, the next marks).
   */
  private marked = false;
  private markedEquity = NaN;
  private markedGross = NaN;
  /** each book's equity and gross exposure: [equity 0, gross 0, equity 1, ...] */
  private readonly bookMarks: Float64Array;

  constructor(private readonly o: EngineOptions) {
    this.signals = new SignalBoard(o.symbols.length);
    this.portfolio = new Portfolio(
      o.symbols,
      o.slots.map((s) => ({ name: s.name, cash: s.cash })),
      o.terms,
    );
    this.sizers = o.slots.map((s) => new Sizer(s.sizing, o.symbols.length)); // equal-weight: 1/N of equity, N = the run's symbols
    this.sizersNeedBars = this.sizers.some((s) => s.needsBars);
    this.bookMarks = new Float64Array(2 * o.slots.length);
    this.contexts = o.slots.map((_, i) => new SlotContext(this, i));
    this.sectors = o.sectors ?? o.symbols.map(() => '');
    this.sidOf = new Map();
    o.symbols.forEach((symbol, sid) => {
      if (!this.sidOf.has(symbol)) this.sidOf.set(symbol, sid);
    });
    this.options = o.contracts?.some((c) => c?.secType === 'OPT') ? new OptionBook(o.symbols, o.contracts, o.greeks) : null;
    this.margin = FuturesMargin.of(o.contracts);
    o.broker.setListener(this);
  }

  /** the run's options and their last quotes (null: the run has none) */
  private readonly options: OptionBook | null;
  /** the margins of the run's futures (null: none has margins) */
  private readonly margin: FuturesMargin | null;

  /** The run's options on `underlying` that pass `query` (see StrategyContext.chain). */
  chain(underlying: string, query: ChainQuery = {}): OptionChain {
    const sid = this.sidOf.get(underlying);
    const spot = sid === undefined ? Number.NaN : this.portfolio.marks[sid]!;
    return this.options?.chain(underlying, spot, this.t, query) ?? { spot, options: [] };
  }

  /** The engine is the clock of everything it runs: the time of the bars it was given. */
  now(): EpochMs {
    return this.t;
  }

  /** Sets the engine's time before a broker acts at `ts` (in a backtest: the start of the bar it matches). */
  setTime(ts: EpochMs): void {
    this.t = ts;
    this.o.fx?.advance(ts);
  }

  /**
   * A group of bars with the same start has closed. Fills on them have already been applied by
   * the broker; this marks, samples equity, checks the breaker, then calls the strategies.
   */
  onBars(ts: EpochMs, bars: readonly Bar[], n: number): void {
    this.t = ts + this.o.intervalMs;
    this.o.fx?.advance(this.t);
    this.marked = false;
    const day = this.o.dayOf(ts);
    const marks = this.portfolio.marks;
    for (let k = 0; k < n; k++) {
      const b = bars[k];
      marks[b.sid] = b.close;
      if (this.sizersNeedBars) for (const s of this.sizers) if (s.needsBars) s.onClose(b.sid, b.close);
    }
    if (this.options !== null) this.options.onBars(bars, n);
    this.sampleEquity(ts, day);
    try {
      for (let i = 0; i < this.contexts.length; i++) {
        if (this.paused.size > 0 && this.paused.has(i)) continue;
        const strat = this.o.slots[i].strategy;
        const ctx = this.contexts[i];
        for (let k = 0; k < n; k++) strat.onBar(ctx, bars[k]);
      }
    } finally {
      this.marked = false;
    }
  }

  /**
   * Feeds bars a previous session already acted on into the strategies, so their state (indicators,
   * history) is where it was; orders they would submit are not placed and nothing is journaled.
   */
  warmUp(ts: EpochMs, bars: readonly Bar[], n: number): void {
    this.t = ts + this.o.intervalMs;
    this.day = this.o.dayOf(ts);
    this.marked = false;
    this.warming = true;
    try {
      for (let k = 0; k < n; k++) {
        this.portfolio.marks[bars[k].sid] = bars[k].close;
        for (const s of this.sizers) if (s.needsBars) s.onClose(bars[k].sid, bars[k].close);
      }
      // the option book prices ctx.chain from the last quotes seen, warm-up bars included
      if (this.options !== null) this.options.onBars(bars, n);
      for (let i = 0; i < this.contexts.length; i++) for (let k = 0; k < n; k++) this.o.slots[i].strategy.onBar(this.contexts[i], bars[k]);
    } finally {
      this.warming = false;
    }
  }

  /**
   * Bars outside the regular session (`--session rth`), shown only to the slots in `slots` (those whose
   * strategy asked for `extendedHours`): nothing is marked, sampled or checked by the breaker, and their
   * orders wait for the session at the broker. `warm`: bars of a warm-up or restart (no orders).
   */
  onOutsideBars(ts: EpochMs, bars: readonly Bar[], n: number, slots: readonly number[], warm = false): void {
    this.t = ts + this.o.intervalMs;
    this.marked = false;
    this.warming = warm;
    try {
      for (const i of slots) if (!this.paused.has(i)) for (let k = 0; k < n; k++) this.o.slots[i].strategy.onBar(this.contexts[i], bars[k]);
    } finally {
      this.warming = false;
    }
  }

  /**
   * A corporate action took effect (raw prices; engine/run/corporate-actions.ts has adjusted the books, orders
   * and history): journaled, then shown to the strategies so they can rebuild their indicators.
   */
  corporateAction(action: CorporateActionEvent, message: string): void {
    this.marked = false;
    this.o.journal.log(this.t, message, 'info');
    for (const s of this.sizers) s.rebase(action.sid, action.priceScale);
    for (let i = 0; i < this.contexts.length; i++) this.o.slots[i].strategy.onCorporateAction?.(this.contexts[i], action);
  }

  /**
   * Takes back the orders and fills of a previous session of this run (from its journal): order ids
   * continue after them, working orders are tracked again, fills rebuild cash, positions and trades. A fill
   * without an order (orderId 0: an option settled at expiry, option-expiry.ts) goes to its strategy's book.
   */
  restore(orders: readonly Order[], fills: readonly Fill[]): void {
    this.marked = false;
    for (const o of orders) {
      this.orders[o.id - 1] = o;
      if (isWorking(o.status) || o.status === 'APPROVED') this.working.add(o);
      this.nextId = Math.max(this.nextId, o.id + 1);
    }
    for (const f of fills) {
      const slot = f.orderId > 0 ? this.slotOf(this.orders[f.orderId - 1]!) : this.o.slots.findIndex((s) => s.name === f.strategy);
      if (slot < 0) throw new Error(`the journal's fill ${f.execId} (${f.symbol}, no order) is of ${f.strategy}, not a strategy of this run`);
      this.portfolio.books[slot].apply(f, this.trades);
    }
  }

  /** Writes the last pending equity sample; call once when the run ends. */
  finish(): void {
    if (this.pending) this.o.journal.equity(this.pending);
    this.pending = null;
  }

  private sampleEquity(ts: EpochMs, day: number): void {
    // Portfolio.equity() and grossExposure(), with each book's equity kept (the same sums in the same order)
    const { books, marks } = this.portfolio;
    const eg = this.bookMarks;
    let equity = 0;
    let gross = 0;
    for (let i = 0; i < books.length; i++) {
      books[i].equityAndGross(marks, eg, 2 * i);
      equity += eg[2 * i];
      gross += eg[2 * i + 1];
    }
    this.markedEquity = equity;
    this.markedGross = gross;
    this.marked = true;
    const point = { ts, equity, cash: this.portfolio.cash, gross };
    // The first point is the first bar's close (the starting capital); then each trading day's last close.
    if (Number.isNaN(this.day)) this.o.journal.equity(point);
    else {
      if (day !== this.day && this.pending) this.o.journal.equity(this.pending);
      this.pending = point;
    }
    this.day = day;
    if (this.margin !== null) this.checkMaintenance(equity);
    const trip = this.o.risk.onEquity(day, equity);
    if (trip) this.tripBreaker(trip);
  }

  /**
   * Equity below the maintenance margin of the futures held: the broker liquidates them (IBKR does, without a
   * call), with market orders that skip the pre-trade checks, once (not again while they work).
   */
  private checkMaintenance(equity: number): void {
    const need = this.margin!.maintenanceOf(this.portfolio);
    if (!(equity < need)) return;
    for (const o of this.working) if (o.tag === MARGIN_CALL) return;
    const message = `equity ${equity.toFixed(2)} is below the futures' maintenance margin ${need.toFixed(2)}: their positions are liquidated`;
    this.o.journal.riskEvent({ ts: this.t, orderId: 0, check: 'maintenanceMargin', value: equity, limit: need, message });
    this.portfolio.books.forEach((book, slot) => {
      book.qty.forEach((q, sid) => {
        if (q === 0 || !this.margin!.has(sid)) return;
        const side = q > 0 ? 'SELL' : 'BUY';
        const order = this.submit(slot, { symbol: this.o.symbols[sid]!, side, type: 'MKT', qty: Math.abs(q), tif: 'GTC', tag: MARGIN_CALL }, true);
        this.o.journal.log(this.t, `margin call liquidates ${order.symbol} with order ${order.id}`, 'order');
      });
    });
  }

  // ---- orders -------------------------------------------------------------------------------

  /** `system` orders (the breaker's flattening) skip the pre-trade checks, and say so in the journal. */
  submit(slot: number, req: OrderRequest, system = false): Order {
    const sid = this.sidOf.get(req.symbol) ?? -1;
    if (this.warming) return warmUpPlaceholder(req, sid, this.t, this.o.slots[slot].name);
    const order = requestedOrder(this.t, this.nextId++, this.o.slots[slot].name, sid, req);
    if (req.bracket) order.pendingChildren = bracketLegs(order, req.bracket);
    if (req.legs !== undefined) order.legs = orderLegs(req, (s) => this.sidOf.get(s) ?? -1);
    this.orders.push(order);
    this.o.journal.orderEvent({ ts: this.t, orderId: order.id, from: '', to: 'NEW', reason: '' });
    this.transition(order, 'RISK_CHECK', '');
    if (!system && !this.placingLegs && this.paused.size > 0 && this.paused.has(slot)) {
      // an operator's pause, not an error: refused without counting towards the breaker
      const message = `order ${order.id} ${req.side} ${req.symbol} refused: strategy ${this.o.slots[slot].name} is paused`;
      this.o.journal.riskEvent({ ts: this.t, orderId: order.id, check: 'strategyPaused', value: 0, limit: 0, message });
      this.transition(order, 'REJECTED', message);
      return order;
    }
    const rejection =
      (order.legs === undefined ? requestError(order, req, sid, this.o.symbols) : this.comboError(order, req)) ??
      this.noCash(slot, order) ??
      (system ? null : order.legs === undefined ? this.o.risk.check(this.checkInput(slot, order), this.t) : this.comboRisk(slot, order));
    if (rejection) {
      this.o.journal.riskEvent({ ts: this.t, orderId: order.id, ...rejection });
      this.transition(order, 'REJECTED', rejection.message);
      const trip = this.o.risk.recordError(this.t);
      if (trip) this.tripBreaker(trip);
      return order;
    }
    this.transition(order, 'APPROVED', system ? 'system order: pre-trade checks skipped' : '');
    this.working.add(order);
    this.o.broker.place(order);
    return order;
  }

  cancel(orderId: number, reason = 'cancelled by strategy'): void {
    const order = this.orders[orderId - 1];
    if (order && this.working.has(order)) this.o.broker.cancel(order, reason);
  }

  modify(orderId: number, changes: { qty?: number; limit?: number; stop?: number }): void {
    const order = this.orders[orderId - 1];
    if (!order || !this.working.has(order)) return;
    const before = { qty: order.qty.kind === 'shares' ? order.qty.shares : NaN, limit: order.limit, stop: order.stop };
    this.o.broker.modify(order, changes);
    const after = { qty: order.qty.kind === 'shares' ? order.qty.shares : NaN, limit: order.limit, stop: order.stop };
    const diff = (Object.keys(before) as (keyof typeof before)[]).filter((k) => !Object.is(before[k], after[k])).map((k) => `${k} ${before[k]} -> ${after[k]}`);
    this.o.journal.orderModified(this.t, order, `modify order ${orderId} ${order.side} ${order.symbol}: ${diff.join(', ') || 'no change'}`);
  }

  /**
   * Signed shares still to fill on a slot's unconditional orders in `sid` (market, MOO, MOC; working, or
   * approved and not yet sent). Limit and stop orders (a bracket's legs) are conditional: not counted.
   */
  pendingQty(slot: number, sid: number): number {
    const name = this.o.slots[slot].name;
    let q = 0;
    for (const o of this.working) {
      if (o.sid !== sid || o.strategy !== name || o.qty.kind !== 'shares' || o.status === 'PENDING_CANCEL') continue;
      if ((o.type !== 'MKT' && o.type !== 'MOO' && o.type !== 'MOC') || o.legs !== undefined) continue;
      q += (o.side === 'BUY' ? 1 : -1) * (o.qty.shares - o.filledQty);
    }
    return q;
  }

  /** Whether the slot has a working order in `sid` (openOrders of its context, without building the list). */
  hasOpenOrders(slot: number, sid: number): boolean {
    const name = this.portfolio.books[slot].name;
    for (const o of this.working) if ((o.sid === sid || (o.legs !== undefined && hasLeg(o, sid))) && o.strategy === name) return true;
    return false;
  }

  openOrders(sid?: number): Order[] {
    const out: Order[] = [];
    for (const o of this.working) if (sid === undefined || o.sid === sid || (o.legs !== undefined && hasLeg(o, sid))) out.push(o);
    return out;
  }

  /**
   * The manual kill switch: trips the breaker (cancel all, block until reset) and flattens every position
   * if `flatten` says so (default: as the breaker is configured).
   */
  kill(reason?: string, flatten?: boolean): void {
    this.tripBreaker(this.o.risk.kill(reason), flatten);
  }

  /** The strategy slots' names, in slot order. */
  get slotNames(): string[] {
    return this.o.slots.map((s) => s.name);
  }

  /** Pauses a strategy slot: no onBar calls, no new orders of its own; its working orders stay. False: no slot has that name. */
  pause(name: string): boolean {
    const i = this.o.slots.findIndex((s) => s.name === name);
    if (i < 0) return false;
    this.paused.add(i);
    return true;
  }

  /** Resumes a paused slot (false: no slot has that name). */
  resume(name: string): boolean {
    const i = this.o.slots.findIndex((s) => s.name === name);
    if (i < 0) return false;
    this.paused.delete(i);
    return true;
  }

  isPaused(name: string): boolean {
    const i = this.o.slots.findIndex((s) => s.name === name);
    return i >= 0 && this.paused.has(i);
  }

  /** Trips the breaker for a reason found outside the engine (reconciliation, the broker); no-op if already tripped. */
  halt(check: string, message: string): void {
    const trip = this.o.risk.halt(check, message);
    if (trip) this.tripBreaker(trip);
  }

  /** A person resets the tripped breaker: journaled with who did it. Returns what was reset (null: it was not tripped). */
  resetBreaker(source: string): string | null {
    const was = this.o.risk.tripped;
    if (!was) return null;
    this.o.risk.reset();
    this.o.journal.riskEvent({
      ts: this.t,
      orderId: 0,
      check: 'circuitBreaker.reset',
      value: 0,
      limit: 0,
      message: `circuit breaker reset by ${source} (it was: ${was.message})`,
    });
    return was.message;
  }

  /** A combo request's own fields, and whether the broker fills combos at all (the backtest's SimBroker and IbBroker, as BAG orders, do). */
  private comboError(order: Order, req: OrderRequest): Rejection | null {
    if (this.o.broker.supportsCombos !== true) return badRequest(order, req, 'legs', 'combo orders: this broker does not fill them');
    const e = comboRequestError(req, (s) => this.sidOf.get(s) ?? -1, this.o.contracts);
    return e === null ? null : badRequest(order, req, e.field, e.rule);
  }

  /** the position, leverage and sector limits, checked for each leg of a combo without counting it as an order */
  private legRisk: RiskEngine | null = null;

  /**
   * The pre-trade checks of a combo. Each leg is checked as an order of combos x ratio units of its symbol at its
   * last mark, against its book position, with the gross exposure the earlier legs add (the allowed-symbols,
   * long-only, position %, leverage and sector limits; a leg that only reduces its position passes, as any order).
   * Then the combo once, as one order of `qty` combos at its net price (the limit, or the legs' marks' net for
   * MKT) x the multiplier: the breaker, rate, order value and quantity, loss and drawdown limits, and the position,
   * leverage and sector limits on that net value.
   */
  private comboRisk(slot: number, order: Order): Rejection | null {
    const risk = this.o.risk;
    const legs = order.legs!;
    const combos = order.qty.kind === 'shares' ? order.qty.shares : 0;
    const p = this.portfolio;
    const book = p.books[slot];
    const equity = this.marked ? this.markedEquity : p.equity();
    const gross0 = this.marked ? this.markedGross : p.grossExposure();
    let gross = gross0;
    if (!risk.tripped) {
      const L = risk.limits;
      this.legRisk ??= new RiskEngine(
        { allowedSymbols: L.allowedSymbols, longOnly: L.longOnly, maxPositionPct: L.maxPositionPct, maxLeverage: L.maxLeverage, maxSectorPct: L.maxSectorPct },
        {},
      );
      for (let k = 0; k < legs.length; k++) {
        const leg = legs[k]!;
        const side = legSide(order, leg);
        const qty = combos * leg.ratio;
        const price = p.marks[leg.sid]!;
        const unit = p.unitValue(leg.sid);
        const position = book.qty[leg.sid] ?? 0;
        const sector = this.sectors[leg.sid] ?? '';
        let sectorGross = 0;
        if (sector !== '')
          for (let s = 0; s < this.o.symbols.length; s++) if (this.sectors[s] === sector) sectorGross += Math.abs(p.position(s) * p.marks[s] * p.unitValue(s));
        const r = this.legRisk.check(
          { orderId: order.id, symbol: leg.symbol, sector, side, qty, price, multiplier: unit, position, equity, gross, sectorGross },
          this.t,
        );
        if (r) return { ...r, message: `combo leg ${k + 1} (${side} ${qty} ${leg.symbol}): ${r.message}` };
        const after = position + (side === 'BUY' ? qty : -qty);
        gross += (Math.abs(after) - Math.abs(position)) * price * unit;
      }
    }
    let net = 0;
    if (order.type === 'LMT') net = order.limit;
    else for (const leg of legs) net += legSign(leg) * leg.ratio * p.marks[leg.sid]!;
    // as a BUY of its net value: the direction is the legs' (checked above), so long-only never refuses a SELL combo here
    const r = risk.check(
      {
        orderId: order.id,
        symbol: order.symbol,
        sector: this.sectors[order.sid] ?? '',
        side: 'BUY',
        qty: combos,
        price: Math.abs(net),
        multiplier: p.unitValue(legs[0]!.sid),
        position: 0,
        equity,
        gross: gross0,
        sectorGross: 0,
      },
      this.t,
    );
    return r === null ? null : { ...r, message: `combo ${order.side} ${combos} ${order.symbol} at its net value: ${r.message}` };
  }

  /** An all-in buy whose book cannot pay for one share at the last close. */
  private noCash(slot: number, order: Order): Rejection | null {
    if (order.qty.kind !== 'all-in' || order.side !== 'BUY') return null;
    const cash = this.portfolio.books[slot].cashInBase();
    const last = this.portfolio.marks[order.sid] * this.portfolio.unitValue(order.sid);
    if (cash >= last) return null;
    return {
      check: 'cashAvailable',
      value: cash,
      limit: last,
      message: `order ${order.id} BUY all-in ${order.symbol}: cash ${cash.toFixed(2)} does not cover one share at the last close ${last}`,
    };
  }

  private checkInput(slot: number, order: Order) {
    const book = this.portfolio.books[slot];
    const last = this.portfolio.marks[order.sid];
    const price = order.type === 'LMT' || order.type === 'STP LMT' ? order.limit : order.type === 'STP' ? order.stop : last;
    const p = this.portfolio;
    const qty =
      order.qty.kind === 'shares'
        ? order.qty.shares
        : order.side === 'BUY'
          ? Math.floor(book.cashInBase() / (last * p.unitValue(order.sid)))
          : Math.max(book.qty[order.sid], 0);
    const sector = this.sectors[order.sid] ?? '';
    let sectorGross = 0;
    if (sector !== '') {
      for (let s = 0; s < this.o.symbols.length; s++) if (this.sectors[s] === sector) sectorGross += Math.abs(p.position(s) * p.marks[s] * p.unitValue(s));
    }
    return {
      orderId: order.id,
      symbol: order.symbol,
      sector,
      side: order.side,
      qty,
      price,
      multiplier: p.unitValue(order.sid),
      ...(this.margin?.has(order.sid) ? { margin: this.margin.initialWith(p, order.sid, p.position(order.sid) + (order.side === 'BUY' ? qty : -qty)) } : {}),
      position: book.qty[order.sid] ?? 0,
      equity: this.marked ? this.markedEquity : this.portfolio.equity(),
      gross: this.marked ? this.markedGross : this.portfolio.grossExposure(),
      sectorGross,
    };
  }

  private tripBreaker(trip: Rejection, flatten = this.o.risk.breaker.flattenOnTrip ?? false): void {
    this.o.journal.riskEvent({ ts: this.t, orderId: 0, ...trip });
    for (const order of [...this.working]) this.o.broker.cancel(order, trip.message);
    if (!flatten) return;
    // Flattening orders come from the breaker itself and bypass the (now blocking) pre-trade checks.
    this.portfolio.books.forEach((book, slot) => {
      book.qty.forEach((q, sid) => {
        if (q === 0) return;
        const order = this.submit(
          slot,
          { symbol: this.o.symbols[sid], side: q > 0 ? 'SELL' : 'BUY', type: 'MKT', qty: Math.abs(q), tif: 'GTC', tag: 'flatten' },
          true,
        );
        this.o.journal.log(this.t, `breaker flattens ${order.symbol} with order ${order.id}`, 'order');
      });
    });
  }

  private transition(order: Order, to: OrderStatus, reason: string): void {
    assertTransition(order.id, order.status, to);
    this.o.journal.orderEvent({ ts: this.t, orderId: order.id, from: order.status, to, reason });
    order.status = to;
    if (reason) order.reason = reason;
    if (!isWorking(to) && to !== 'APPROVED' && to !== 'RISK_CHECK') this.working.delete(order);
  }

  // ---- broker listener ---------------------------------------------------------------------

  onStatus(order: Order, to: OrderStatus, reason: string): void {
    if (order.status === to && to !== 'PARTIALLY_FILLED') return;
    this.transition(order, to, reason);
  }

  onFill(order: Order, fill: Fill): void {
    this.o.fx?.check(this.portfolio.terms.ccy[fill.sid]!, fill.ts);
    this.marked = false;
    this.o.journal.fill(fill);
    this.lastFillTs = fill.ts;
    const slot = this.slotOf(order);
    this.portfolio.books[slot].apply(fill, this.trades);
    this.o.slots[slot].strategy.onFill?.(this.contexts[slot], fill);
  }

  /**
   * Fills no order made, in one slot's book: an option exercised, assigned or expiring worthless (the backtest's
   * option expiry, engine/run/option-expiry.ts). Journaled after `message`, booked, and shown to the strategy.
   */
  settle(slot: number, fills: readonly Fill[], message: string): void {
    this.marked = false;
    this.o.journal.log(this.t, message, 'info');
    for (const fill of fills) {
      this.o.fx?.check(this.portfolio.terms.ccy[fill.sid]!, fill.ts);
      this.o.journal.fill(fill);
      this.portfolio.books[slot].apply(fill, this.trades);
      this.o.slots[slot].strategy.onFill?.(this.contexts[slot], fill);
    }
    // the day's equity point (not yet written) is its close after the settlement
    if (this.pending) this.sampleEquity(this.pending.ts, this.day);
  }

  resolveAllIn(order: Order, price: number): number {
    const book = this.portfolio.books[this.slotOf(order)];
    if (order.side === 'SELL') return Math.max(book.qty[order.sid], 0);
    const sid = order.sid;
    const fx = this.portfolio.fxOf(sid);
    return allInShares(book.cashInBase(), price * this.portfolio.unitValue(sid), (q) => this.commissionFor(q, price, sid) * fx);
  }

  /** set by the runner: the commission a fill of q units of symbol sid at price would pay (for all-in sizing) */
  commissionFor: (qty: number, price: number, sid: number) => number = () => 0;

  onParentFilled(parent: Order): void {
    const slot = this.slotOf(parent);
    for (const leg of parent.pendingChildren) {
      this.placingLegs = true;
      let child: Order;
      try {
        child = this.submit(slot, { ...leg, qty: parent.filledQty });
      } finally {
        this.placingLegs = false;
      }
      child.parentId = parent.id;
      // the legs exist from the parent's fill on; the intrabar path is unknown, so they match from the next bar
      child.eligibleFrom = Math.max(child.eligibleFrom, this.lastFillTs + this.o.intervalMs);
    }
    parent.pendingChildren = [];
  }

  private slotOf(order: Order): number {
    const slots = this.o.slots;
    for (let i = 0; i < slots.length; i++) if (slots[i].name === order.strategy) return i;
    return -1;
  }

  logFromStrategy(slot: number, message: string): void {
    this.o.journal.log(this.t, `${this.o.slots[slot].name}: ${message}`, 'strategy');
  }

  // ---- for SlotContext ----------------------------------------------------------------------

  bookOf(slot: number) {
    return this.portfolio.books[slot];
  }
  sizerOf(slot: number) {
    return this.sizers[slot];
  }
  /** The slot's book equity at the current marks. */
  equityOf(slot: number): number {
    return this.marked ? this.bookMarks[2 * slot] : this.portfolio.books[slot].equity(this.portfolio.marks);
  }
  /**
   * The most shares a buy of the slot can take at `price`: what the book's cash covers, commission
   * included, after the working buys of the book (at the last close) have taken theirs (equal-weight sizing).
   */
  affordableShares(slot: number, sid: number, price: number): number {
    const name = this.o.slots[slot].name;
    const p = this.portfolio;
    let cash = p.books[slot].cashInBase();
    for (const o of this.working) {
      // combos are left out: a combo's cost is its legs' net, not qty x a mark
      if (o.strategy !== name || o.side !== 'BUY' || o.qty.kind !== 'shares' || o.status === 'PENDING_CANCEL' || o.legs !== undefined) continue;
      const q = o.qty.shares - o.filledQty;
      cash -= q * p.marks[o.sid] * p.unitValue(o.sid) + this.commissionFor(q, p.marks[o.sid], o.sid) * p.fxOf(o.sid);
    }
    const fx = p.fxOf(sid);
    return allInShares(cash, price * p.unitValue(sid), (q) => this.commissionFor(q, price, sid) * fx);
  }
  get history(): BarHistory {
    return this.o.history;
  }
  get symbols(): readonly string[] {
    return this.o.symbols;
  }
}

/** What a strategy gets back for an order it submits while warming up: never placed. */
function warmUpPlaceholder(req: OrderRequest, sid: number, t: EpochMs, strategy: string): Order {
  const qty = req.qty === 'all-in' ? ({ kind: 'all-in' } as const) : ({ kind: 'shares', shares: req.qty } as const);
  return newOrder(t, {
    id: 0,
    strategy,
    symbol: req.symbol,
    sid,
    side: req.side,
    type: req.type,
    qty,
    tif: req.tif ?? 'DAY',
    status: 'REJECTED',
    reason: 'warm-up: replaying bars already acted on',
  });
}

/** The largest whole number of shares whose cost plus commission fits in `cash`. */
export function allInShares(cash: number, price: number, commission: (qty: number) => number): number {
  const most = Math.floor(cash / price);
  if (!(most > 0)) return 0;
  if (most > Number.MAX_SAFE_INTEGER) return Infinity; // not countable in whole shares: the caller refuses it
  // The cost q * price + commission(q) never decreases in q (rounding is monotone), so the largest
  // affordable q is found by bisection, in at most 53 steps; stepping q-- from the top took
  // billions of steps for large books and never ended above 2^53, where q - 1 === q.
  let lo = 0;
  let hi = most;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (mid * price + commission(mid) <= cash) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Whether combo `o` has a leg in symbol `sid`. */
function hasLeg(o: Order, sid: number): boolean {
  for (const leg of o.legs!) if (leg.sid === sid) return true;
  return false;
}

/** Checks a request's own fields; the rejection names the order, the field and the rule. */
function requestError(order: Order, req: OrderRequest, sid: number, symbols: readonly string[]): Rejection | null {
  if (sid < 0) return badRequest(order, req, 'symbol', `'${req.symbol}' is not in this run (${symbols.join(', ')})`);
  if (req.qty !== 'all-in' && !(Number.isSafeInteger(req.qty) && req.qty > 0))
    return badRequest(order, req, 'qty', `must be a whole number > 0 (at most 2^53 - 1, the largest a double counts exactly) or 'all-in', got ${req.qty}`);
  if ((req.type === 'LMT' || req.type === 'STP LMT') && !isPrice(req.limit)) return badRequest(order, req, 'limit', `must be a price > 0 for ${req.type}`);
  if ((req.type === 'STP' || req.type === 'STP LMT') && !isPrice(req.stop)) return badRequest(order, req, 'stop', `must be a price > 0 for ${req.type}`);
  if (req.type === 'TRAIL' && !((req.trailingPercent ?? 0) > 0 || (req.trailingAmount ?? 0) > 0))
    return badRequest(order, req, 'trailingPercent', 'or trailingAmount must be > 0 for TRAIL');
  if (req.tif === 'GTD' && !Number.isFinite(req.goodTill)) return badRequest(order, req, 'goodTill', 'must be set for GTD');
  return null;
}

const isPrice = (x: number | undefined) => Number.isFinite(x) && (x as number) > 0;

function badRequest(order: Order, req: OrderRequest, field: string, rule: string): Rejection {
  return { check: 'validOrder', value: 0, limit: 0, message: `order ${order.id} ${req.side} ${req.symbol}: ${field} ${rule}` };
}

/** The take-profit and stop-loss of a bracket, an OCA pair on the opposite side. */
function bracketLegs(parent: Order, b: { takeProfit?: number; stopLoss?: number }): Order['pendingChildren'] {
  const side = parent.side === 'BUY' ? 'SELL' : 'BUY';
  const oca = `bracket-${parent.id}`;
  const legs: Order['pendingChildren'] = [];
  if (b.takeProfit !== undefined) legs.push({ symbol: parent.symbol, side, type: 'LMT', limit: b.takeProfit, tif: 'GTC', ocaGroup: oca, tag: 'take-profit' });
  if (b.stopLoss !== undefined) legs.push({ symbol: parent.symbol, side, type: 'STP', stop: b.stopLoss, tif: 'GTC', ocaGroup: oca, tag: 'stop-loss' });
  return legs;
}

/** The context one strategy slot sees. */
class SlotContext implements StrategyContext {
  constructor(
    private readonly e: Engine,
    private readonly slot: number,
  ) {}
  get now() {
    return this.e.now();
  }
  get symbols() {
    return this.e.symbols;
  }
  get cash() {
    return this.e.bookOf(this.slot).cash;
  }
  get equity() {
    return this.e.equityOf(this.slot);
  }
  position(sid: number) {
    return this.e.bookOf(this.slot).qty[sid];
  }
  avgCost(sid: number) {
    return this.e.bookOf(this.slot).avgCost[sid];
  }
  count(sid: number) {
    return this.e.history.count(sid);
  }
  open(sid: number, ago = 0) {
    return this.e.history.open(sid, ago);
  }
  high(sid: number, ago = 0) {
    return this.e.history.high(sid, ago);
  }
  low(sid: number, ago = 0) {
    return this.e.history.low(sid, ago);
  }
  close(sid: number, ago = 0) {
    return this.e.history.close(sid, ago);
  }
  volume(sid: number, ago = 0) {
    return this.e.history.volume(sid, ago);
  }
  submit(req: OrderRequest) {
    return this.e.submit(this.slot, req);
  }
  cancel(orderId: number) {
    this.e.cancel(orderId);
  }
  modify(orderId: number, changes: { qty?: number; limit?: number; stop?: number }) {
    this.e.modify(orderId, changes);
  }
  openOrders(sid?: number) {
    return this.e.openOrders(sid).filter((o) => o.strategy === this.e.bookOf(this.slot).name);
  }
  signal(sid: number) {
    return this.e.signals.get(sid);
  }
  buy(sid: number, extra?: Partial<OrderRequest>) {
    return this.enter(sid, 'BUY', extra);
  }
  sellShort(sid: number, extra?: Partial<OrderRequest>) {
    return this.enter(sid, 'SELL', extra);
  }
  private enter(sid: number, side: 'BUY' | 'SELL', extra?: Partial<OrderRequest>) {
    const sizer = this.e.sizerOf(this.slot);
    const price = this.close(sid);
    const affordable = sizer.needsCash && side === 'BUY' ? this.e.affordableShares(this.slot, sid, price) : Infinity;
    // sized by the value of one unit in the base currency: price x the contract multiplier x the exchange rate
    const qty = sizer.quantity(sid, price * this.e.portfolio.unitValue(sid), this.equity, affordable);
    if (qty === 0) return null;
    const symbol = this.e.symbols[sid];
    return this.submit(extra === undefined ? { symbol, side, type: 'MKT', qty } : { symbol, side, type: 'MKT', qty, ...extra });
  }
  pending(sid: number) {
    return this.e.pendingQty(this.slot, sid);
  }
  closePosition(sid: number) {
    // what working orders will already do counts: a close still on its way is not sent twice
    const q = this.position(sid) + this.pending(sid);
    if (q === 0) return null;
    return this.submit({ symbol: this.e.symbols[sid], side: q > 0 ? 'SELL' : 'BUY', type: 'MKT', qty: Math.abs(q) });
  }
  isFlat(sid: number) {
    return this.position(sid) === 0 && !this.e.hasOpenOrders(this.slot, sid);
  }
  chain(underlying: string, query?: ChainQuery) {
    return this.e.chain(underlying, query);
  }
  log(message: string) {
    this.e.logFromStrategy(this.slot, message);
  }
}
