// The simulated account: IB orders mapped onto engine Orders and matched by a SimBroker against the
// 5-second bars (so fills follow the backtest's fill model), executions, cash and positions. It
// belongs to the simulator, not to a connection: it survives reconnects and gateway restarts.
// Order ids are per client id, as at IB: an order is (clientId, orderId).
import { ExchangeCalendar } from '../../core/calendar.ts';
import type { BrokerListener } from '../../core/ports.ts';
import type { Fill, Order, OrderLeg, OrderStatus, OrderType, TimeInForce } from '../../core/types.ts';
import { makeCommission, type CommissionModel, type CommissionSpec, type SlippageSpec } from '../../exec/costs.ts';
import { initialTrail } from '../../exec/fill-model.ts';
import { SimBroker, type SimBar } from '../../exec/sim-broker.ts';
import { CODE, TEXT } from '../protocol/ids.ts';
import type { IbOrder, PlaceOrder } from '../protocol/place-order.ts';
import type { Contracts } from './contracts.ts';
import { accountLedger } from './cash-ledger.ts';
import type { Ledger } from './ledger.ts';
import type { FxMarks } from '../../portfolio/fx-marks.ts';
import type { SubBar } from './replay.ts';
import { newOrder } from '../../exec/new-order.ts';
import { parseIbTime } from '../protocol/time.ts';
import { dayNumber } from '../../instruments/iso-date.ts';
import { fromJsonNumbers, jsonNumbers, nanIfNull, nullIfNaN, type AccountSnapshot, type SnapshotOrder } from './snapshot.ts';

export type IbStatus = 'PreSubmitted' | 'Submitted' | 'Filled' | 'Cancelled' | 'Inactive';

export interface SimOrder {
  id: number;
  clientId: number;
  permId: number;
  sid: number;
  /** the order as last placed (echoed in openOrder) */
  ib: IbOrder;
  status: IbStatus;
  /** false while IB would hold it in TWS (transmit=0) */
  transmitted: boolean;
  /** the engine order SimBroker matches */
  engine: Order;
  inBroker: boolean;
  lastFillPrice: number;
  parent: SimOrder | null;
  children: SimOrder[];
}

export interface Execution {
  execId: string;
  orderId: number;
  clientId: number;
  permId: number;
  sid: number;
  side: 'BOT' | 'SLD';
  shares: number;
  price: number;
  /** the 5-second bar it filled on (its start) */
  ts: number;
  cumQty: number;
  avgPrice: number;
  orderRef: string;
  commission: number;
  /** P&L realized by a closing fill, net of commissions; undefined for an opening fill */
  realized: number | undefined;
  /** 1 added liquidity (limit), 2 removed (market, stop) */
  liquidity: number;
}

/** What the account reports, in order; the simulator turns each into messages for the order's client. */
export interface AccountEvents {
  openOrder(o: SimOrder): void;
  orderStatus(o: SimOrder): void;
  /** execDetails → orderStatus → commissionReport */
  execution(e: Execution, o: SimOrder): void;
  orderError(clientId: number, orderId: number, code: number, text: string): void;
  positionChanged(sid: number): void;
}

export interface AccountOptions {
  account: string;
  cash: number;
  commission: CommissionSpec;
  slippage?: SlippageSpec;
  /** stored bar length */
  intervalMs: number;
  /** replayed (sub-)bar length */
  subMs: number;
  tz: string;
  /** first part of every execId, unique to the simulator's lifetime */
  execPrefix: string;
  /** the account's base currency (default USD): `cash` is in it, and every total is converted into it */
  baseCurrency?: string;
  /** daily rates into the base currency for currencies no replayed pair converts (the account's own: it advances them) */
  fx?: FxMarks;
  /** the simulator's clock (epoch ms), which the daily rates are taken at (default: the last batch's end) */
  clock?: () => number;
}

const LIVE: ReadonlySet<IbStatus> = new Set(['PreSubmitted', 'Submitted']);
export const isLive = (o: SimOrder): boolean => LIVE.has(o.status);

const DAY_MS = 86_400_000;

/** IB's order message 399: an order the exchange will only get at the next open (no outsideRth outside regular hours). */
export const HELD_UNTIL_OPEN = 399;
/** IB's warning 2109: outsideRth set where it cannot apply (here: the opening and closing auctions). */
export const OUTSIDE_RTH_IGNORED = 2109;
const OUTSIDE_RTH_IGNORED_TEXT =
  "Order Event Warning: Attribute 'Outside Regular Trading Hours' is ignored based on the order type and destination. PlaceOrder is now being processed.";

/** Whether the order trades in regular hours only: no outsideRth, or an auction order (MOO, MOC), which ignores it. */
export const rthOnly = (so: SimOrder): boolean => !so.ib.outsideRth || so.engine.type === 'MOO' || so.engine.type === 'MOC';

const orderKey = (clientId: number, orderId: number) => `${clientId}:${orderId}`;

/** A BAG order's combo as the simulator fills it: the BAG's symbol, the order's symbol index and the legs. */
interface ComboSpec {
  symbol: string;
  sid: number;
  legs: OrderLeg[];
}

const isBag = (p: PlaceOrder): boolean => p.contract.secType.toUpperCase() === 'BAG';

/** Whether two combos have the same legs: symbols, actions and ratios in the same order. */
const sameLegs = (a: readonly OrderLeg[], b: readonly OrderLeg[]): boolean =>
  a.length === b.length && a.every((l, k) => l.sid === b[k].sid && l.side === b[k].side && l.ratio === b[k].ratio);

/** OCC's exercise-by-exception threshold (as engine/run/option-expiry.ts): options this far in the money are exercised. */
const EXERCISE_THRESHOLD = 0.01;

/** An option of the account's symbols, settled at the close of its last trading day. */
interface Expiring {
  sid: number;
  /** the last trading day, days since the epoch */
  day: number;
  strike: number;
  right: 'C' | 'P';
  multiplier: number;
  /** the underlying's index among the symbols, -1 when it is not replayed */
  underSid: number;
  underMultiplier: number;
}

export class Account {
  readonly ledger: Ledger;
  /** last price of every symbol (NaN before its first bar) */
  readonly marks: Float64Array;
  /** last price of every symbol in regular trading hours: the close options settle against (NaN before one) */
  private readonly sessionMarks: Float64Array;
  /** every order placed, by orderKey(clientId, orderId) */
  readonly orders = new Map<string, SimOrder>();
  readonly executions: Execution[] = [];
  /** the next new order gets error 201 with this reason */
  rejectNext: string | null = null;
  private readonly broker: SimBroker;
  private readonly byEngine = new Map<Order, SimOrder>();
  private readonly commission: CommissionModel;
  /** tiered commissions depend on the month's volume: kept here so that a snapshot can carry it */
  private readonly monthVolume = { month: -1, volume: 0 };
  private readonly cal: ExchangeCalendar;
  private readonly daily: boolean;
  private readonly sessionDay: Float64Array;
  /** orders held until the open (PreSubmitted): placed outside regular hours without outsideRth */
  private readonly waiting = new Set<SimOrder>();
  /** on a bar outside regular hours, only orders with outsideRth may match */
  private readonly outsideRthOnly = (o: Order): boolean => {
    const so = this.byEngine.get(o);
    return so !== undefined && !rthOnly(so);
  };
  /** after a stored bar's first sub-bar: combos sit out (their legs' opens were matched there; the path between is not the backtest's) */
  private readonly singleOnly = (o: Order): boolean => o.legs === undefined;
  private readonly singleOutsideRthOnly = (o: Order): boolean => o.legs === undefined && this.outsideRthOnly(o);
  /** the highest order id used, by client id */
  private readonly maxIds = new Map<number, number>();
  private permSeq = 0;
  private execSeq = 0;
  /** a stock's index (-1: none), for restoring the month's stock volume of tiered commissions */
  private readonly stockSid: number;
  /** the options among the symbols by last trading day; those before `nextExpiry` are settled */
  private readonly expiring: Expiring[];
  private nextExpiry = 0;
  private storedTs = NaN;
  private now = NaN;
  private day = NaN;
  private dayStartNetLiq: number;
  private dayStartRealized = 0;

  constructor(
    private readonly contracts: Contracts,
    private readonly o: AccountOptions,
    private readonly events: AccountEvents,
  ) {
    const n = contracts.symbols.length;
    this.marks = new Float64Array(n).fill(NaN);
    this.ledger = accountLedger(contracts, o, this.marks, o.clock ?? (() => this.now));
    this.sessionMarks = new Float64Array(n).fill(NaN);
    this.dayStartNetLiq = o.cash;
    // the backtest's commission per contract type (engine/exec/costs.ts): IDEALPRO's on pairs, per contract on options
    const terms = contracts.terms.length > 0 ? contracts.symbols.map((_, sid) => contracts.terms[sid]) : undefined;
    const base = makeCommission(o.commission, terms);
    const stock = (sid: number) => terms?.[sid] === undefined || terms[sid]!.secType === 'STK';
    this.commission = {
      commission: base.commission,
      record: (q, m, sid = 0) => {
        if (!stock(sid)) return base.record(q, m, sid);
        if (m !== this.monthVolume.month) Object.assign(this.monthVolume, { month: m, volume: 0 });
        this.monthVolume.volume += q;
        base.record(q, m, sid);
      },
    };
    this.stockSid = contracts.symbols.findIndex((_, sid) => stock(sid));
    this.expiring = expiringOptions(contracts);
    this.daily = o.intervalMs >= DAY_MS;
    this.cal = new ExchangeCalendar(this.daily ? 'UTC' : o.tz);
    this.sessionDay = new Float64Array(n).fill(NaN);
    this.broker = new SimBroker({ commission: this.commission, slippage: o.slippage ?? { model: 'none' }, bracketTie: 'stop', intervalMs: o.subMs });
    this.broker.setListener(this.listener());
  }

  get account(): string {
    return this.o.account;
  }

  /** net liquidation at the start of the current exchange day (the previous day's close) */
  get dayStartNetLiquidation(): number {
    return this.dayStartNetLiq;
  }

  /** The id a new order of this client should use: one more than the highest it used. */
  nextValidId(clientId: number): number {
    return (this.maxIds.get(clientId) ?? 0) + 1;
  }

  order(clientId: number, orderId: number): SimOrder | undefined {
    return this.orders.get(orderKey(clientId, orderId));
  }

  setMark(sid: number, price: number): void {
    this.marks[sid] = price;
    this.broker.setLastClose(sid, price);
  }

  /** A quoted symbol's last closing bid and ask (a trailing stop starts from its side's). */
  setQuote(sid: number, bid: number, ask: number): void {
    this.broker.setLastQuote(sid, bid, ask);
  }

  // ---- orders -------------------------------------------------------------------------------

  /** A placeOrder from client `clientId` at virtual time `now`: a new order, or a modify of a live one. */
  place(clientId: number, p: PlaceOrder, now: number): void {
    this.now = now;
    const id = p.orderId;
    const existing = this.order(clientId, id);
    if (existing) {
      if (isLive(existing) && (existing.engine.legs !== undefined || isBag(p))) this.modifyCombo(existing, p);
      else if (isLive(existing)) this.modify(existing, p);
      else this.events.orderError(clientId, id, CODE.DUPLICATE_ORDER_ID, TEXT.DUPLICATE_ORDER_ID);
      return;
    }
    if (id < this.nextValidId(clientId)) {
      this.events.orderError(clientId, id, CODE.DUPLICATE_ORDER_ID, TEXT.DUPLICATE_ORDER_ID);
      return;
    }
    this.maxIds.set(clientId, id);
    const combo = isBag(p) ? this.comboOf(p) : null;
    if (combo !== null && 'code' in combo) {
      this.events.orderError(clientId, id, combo.code, combo.text);
      return;
    }
    const sid = combo !== null ? combo.sid : this.contracts.resolve(p.contract);
    if (sid < 0) {
      this.events.orderError(clientId, id, CODE.NO_SECURITY_DEFINITION, TEXT.NO_SECURITY_DEFINITION);
      return;
    }
    const parent = p.order.parentId > 0 ? (this.order(clientId, p.order.parentId) ?? null) : null;
    const permId = 1_000_000 + ++this.permSeq;
    const built = this.buildEngineOrder(permId, clientId, sid, p.order, parent, combo ?? undefined);
    const so: SimOrder = {
      id,
      clientId,
      permId,
      sid,
      ib: p.order,
      status: 'PreSubmitted',
      transmitted: false,
      engine: typeof built === 'string' ? this.placeholder(permId, sid) : built,
      inBroker: false,
      lastFillPrice: 0,
      parent,
      children: [],
    };
    this.orders.set(orderKey(clientId, id), so);
    let problem = typeof built === 'string' ? built : null;
    if (!problem && p.order.parentId > 0 && (!parent || (!isLive(parent) && parent.status !== 'Filled')))
      problem = `parent order ${p.order.parentId} is not a working order`;
    if (!problem && this.rejectNext !== null) problem = this.rejectNext;
    this.rejectNext = null;
    if (problem) {
      so.status = 'Inactive';
      this.events.orderError(clientId, id, CODE.ORDER_REJECTED, TEXT.ORDER_REJECTED + problem);
      this.events.orderStatus(so);
      return;
    }
    parent?.children.push(so);
    this.byEngine.set(so.engine, so);
    if (p.order.outsideRth && (so.engine.type === 'MOO' || so.engine.type === 'MOC'))
      this.events.orderError(clientId, id, OUTSIDE_RTH_IGNORED, OUTSIDE_RTH_IGNORED_TEXT);
    this.events.openOrder(so);
    this.events.orderStatus(so);
    if (p.order.transmit) this.transmit(so);
  }

  /** Cancels a live order (and its held children). */
  cancel(clientId: number, orderId: number, reason = ''): void {
    const so = this.order(clientId, orderId);
    if (!so) {
      this.events.orderError(clientId, orderId, CODE.CANCEL_NOT_FOUND, `OrderId ${orderId} that needs to be cancelled is not found.`);
      return;
    }
    if (!isLive(so)) {
      this.events.orderError(
        clientId,
        orderId,
        CODE.CANCEL_NOT_CANCELLABLE,
        `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${so.status}.`,
      );
      return;
    }
    this.cancelOrder(so, reason);
  }

  /** reqGlobalCancel: every live order of every client. */
  cancelAll(): void {
    for (const so of [...this.orders.values()]) if (isLive(so)) this.cancelOrder(so, 'global cancel');
  }

  liveOrders(clientId?: number): SimOrder[] {
    const out: SimOrder[] = [];
    for (const so of this.orders.values()) if (isLive(so) && (clientId === undefined || so.clientId === clientId)) out.push(so);
    return out;
  }

  private cancelOrder(so: SimOrder, reason: string): void {
    if (so.inBroker) this.broker.cancel(so.engine, reason);
    else this.cancelled(so, reason);
  }

  private cancelled(so: SimOrder, reason: string): void {
    if (!isLive(so)) return;
    so.status = 'Cancelled';
    so.inBroker = false;
    this.events.orderStatus(so);
    this.events.orderError(so.clientId, so.id, CODE.ORDER_CANCELLED, TEXT.ORDER_CANCELLED + reason);
    for (const child of so.children) if (isLive(child)) this.cancelOrder(child, `parent order ${so.id} cancelled`);
  }

  /**
   * Transmitting a child of a working parent transmits the bracket (the parent and its held children:
   * IB's idiom is transmit=0 on all but the last leg); the children then wait for the parent's fill.
   */
  private transmit(so: SimOrder): void {
    const parent = so.parent;
    const root = parent && isLive(parent) ? parent : so;
    root.transmitted = true;
    for (const child of root.children) if (isLive(child)) child.transmitted = true;
    this.activate(root, this.now);
  }

  private activate(so: SimOrder, eligibleFrom: number): void {
    if (so.inBroker || !isLive(so)) return;
    so.engine.submittedAt = this.now;
    so.engine.eligibleFrom = eligibleFrom;
    so.inBroker = true;
    this.broker.place(so.engine);
    if (so.engine.type === 'TRAIL' && so.ib.trailStopPrice !== undefined) so.engine.stop = so.ib.trailStopPrice;
  }

  private modify(so: SimOrder, p: PlaceOrder): void {
    const next = p.order;
    const built = this.buildEngineOrder(so.permId, so.clientId, so.sid, next, so.parent);
    let problem = typeof built === 'string' ? built : null;
    if (!problem && this.contracts.resolve(p.contract) !== so.sid) problem = 'a working order cannot change its contract';
    if (!problem && typeof built !== 'string') {
      if (built.side !== so.engine.side || built.type !== so.engine.type) problem = 'a working order cannot change its side or order type';
      else if (built.qty.kind === 'shares' && built.qty.shares <= so.engine.filledQty)
        problem = `the quantity must stay above the ${so.engine.filledQty} shares filled`;
    }
    if (problem || typeof built === 'string') {
      this.events.orderError(so.clientId, so.id, CODE.ORDER_REJECTED, TEXT.ORDER_REJECTED + problem);
      return;
    }
    const e = so.engine;
    const shares = built.qty.kind === 'shares' ? built.qty.shares : 0;
    if (so.inBroker) this.broker.modify(e, { qty: shares, limit: built.limit, stop: e.type === 'TRAIL' ? undefined : built.stop });
    else {
      e.qty = { kind: 'shares', shares };
      e.limit = built.limit;
      e.stop = built.stop;
    }
    e.tif = built.tif;
    e.goodTill = built.goodTill;
    e.tag = built.tag;
    if (e.type === 'TRAIL' && (e.trailingPercent !== built.trailingPercent || e.trailingAmount !== built.trailingAmount)) {
      e.trailingPercent = built.trailingPercent;
      e.trailingAmount = built.trailingAmount;
      if (so.inBroker) e.stop = next.trailStopPrice ?? initialTrail(e, this.marks[so.sid]);
    }
    so.ib = next;
    this.events.openOrder(so);
    this.events.orderStatus(so);
    if (!so.transmitted && next.transmit) this.transmit(so);
  }

  /**
   * The engine order for an IB order, or why the simulator refuses it. Its id is the permId: unique
   * across clients, and in placement order (SimBroker matches ties by id).
   */
  private buildEngineOrder(id: number, clientId: number, sid: number, ib: IbOrder, parent: SimOrder | null, combo?: ComboSpec): Order | string {
    const action = ib.action.toUpperCase();
    if (action !== 'BUY' && action !== 'SELL' && action !== 'SSHORT') return `action '${ib.action}' is not BUY or SELL`;
    const qty = ib.totalQuantity;
    if (ib.cashQty !== undefined && !(qty !== undefined && qty > 0)) return 'cash quantity orders are not modelled';
    if (qty === undefined || !(qty > 0) || !Number.isInteger(qty)) return `totalQuantity must be a whole number of shares > 0, got ${qty ?? 'none'}`;
    if (ib.whatIf) return 'what-if orders are not modelled';
    if (ib.conditionCount > 0) return 'conditional orders are not modelled';
    if (ib.account !== '' && ib.account !== this.o.account) return `account ${ib.account} is not managed by this login (${this.o.account})`;
    const orderType = ib.orderType.toUpperCase();
    const tifIn = (ib.tif || 'DAY').toUpperCase();
    let type: OrderType;
    if (orderType === 'MKT' && tifIn === 'OPG') type = 'MOO';
    else if (
      orderType === 'MOO' ||
      orderType === 'MOC' ||
      orderType === 'MKT' ||
      orderType === 'LMT' ||
      orderType === 'STP' ||
      orderType === 'STP LMT' ||
      orderType === 'TRAIL'
    )
      type = orderType;
    else return `order type ${ib.orderType}${tifIn === 'OPG' ? ' with tif OPG' : ''} is not modelled by the simulator`;
    if (tifIn === 'OPG' && type !== 'MOO') return `tif OPG is modelled for MKT orders only`;
    if (combo !== undefined) {
      // the backtest's combo rules (engine/exec/combo-fill.ts): MKT or LMT, the limit a net price of either sign
      if (type !== 'MKT' && type !== 'LMT') return `a combo (BAG) order must be MKT or LMT (the backtest's combos), got ${type}`;
      if (type === 'LMT' && !(ib.lmtPrice !== undefined && Number.isFinite(ib.lmtPrice)))
        return 'a LMT combo needs lmtPrice: the net price per combo (negative: a credit)';
      if (ib.parentId > 0 || ib.ocaGroup !== '') return 'a combo (BAG) order takes no parent order or OCA group in the simulator';
    }
    let tif: TimeInForce;
    if (tifIn === 'OPG') tif = 'DAY';
    else if (tifIn === 'DAY' || tifIn === 'GTC' || tifIn === 'IOC' || tifIn === 'GTD' || tifIn === 'FOK') tif = tifIn;
    else return `tif ${ib.tif} is not modelled by the simulator`;
    let goodTill = NaN;
    if (tif === 'GTD') {
      goodTill = parseIbTime(ib.goodTillDate, this.o.tz);
      if (Number.isNaN(goodTill)) return `GTD needs goodTillDate as 'YYYYMMDD HH:MM:SS [zone]', got '${ib.goodTillDate}'`;
    }
    const positive = (x: number | undefined) => x !== undefined && Number.isFinite(x) && x > 0;
    if ((type === 'LMT' || type === 'STP LMT') && combo === undefined && !positive(ib.lmtPrice)) return `${type} needs lmtPrice > 0`;
    if ((type === 'STP' || type === 'STP LMT') && !positive(ib.auxPrice)) return `${type} needs auxPrice (the stop price) > 0`;
    let trailingPercent = 0;
    let trailingAmount = 0;
    if (type === 'TRAIL') {
      if (positive(ib.trailingPercent)) trailingPercent = ib.trailingPercent!;
      else if (positive(ib.auxPrice)) trailingAmount = ib.auxPrice!;
      else return 'TRAIL needs trailingPercent or auxPrice (the trailing amount) > 0';
      if (ib.trailStopPrice === undefined && Number.isNaN(this.marks[sid])) return 'TRAIL without trailStopPrice needs a last price: wait for the first bar';
    }
    return newOrder(this.now, {
      id,
      strategy: `client ${clientId}`,
      symbol: combo !== undefined ? combo.symbol : this.contracts.symbols[sid],
      sid,
      side: action === 'BUY' ? 'BUY' : 'SELL',
      type,
      qty: { kind: 'shares', shares: qty },
      limit: type === 'LMT' || type === 'STP LMT' ? ib.lmtPrice! : NaN,
      stop: type === 'STP' || type === 'STP LMT' ? ib.auxPrice! : NaN,
      trailingPercent,
      trailingAmount,
      tif,
      goodTill,
      // IB makes the children of one parent one-cancels-all
      ocaGroup: ib.ocaGroup !== '' ? ib.ocaGroup : parent ? `bracket ${parent.permId}` : '',
      parentId: ib.parentId,
      tag: ib.orderRef,
      ...(combo !== undefined ? { legs: combo.legs.map((l) => ({ ...l, filledQty: 0, avgFillPrice: 0 })) } : {}),
    });
  }

  /**
   * A BAG placeOrder's combo: its comboLegs' conIds as replayed symbols, in the message's order, each with its
   * action and ratio; the order's symbol is the BAG's (the legs' underlying), its index that symbol's when it is
   * replayed, else the first leg's. An IB-style error when a leg names no replayed contract (200) or is malformed (321).
   */
  private comboOf(p: PlaceOrder): ComboSpec | { code: number; text: string } {
    const legs = p.comboLegs;
    const invalid = (why: string) => ({ code: CODE.VALIDATION_ERROR, text: `${TEXT.VALIDATION}'combo order ${p.orderId}' : cause - ${why}` });
    if (legs.length < 2) return invalid(`a BAG order needs at least 2 comboLegs, got ${legs.length}`);
    const out: OrderLeg[] = [];
    for (let k = 0; k < legs.length; k++) {
      const l = legs[k];
      const sid = this.contracts.sidOfConId(l.conId);
      if (sid < 0)
        return {
          code: CODE.NO_SECURITY_DEFINITION,
          text: `${TEXT.NO_SECURITY_DEFINITION}: combo leg ${k + 1} conId ${l.conId} is not a contract this simulator replays (combo legs must be replayed symbols; ask reqContractDetails for their conIds)`,
        };
      const action = l.action.toUpperCase();
      if (action !== 'BUY' && action !== 'SELL') return invalid(`combo leg ${k + 1} (conId ${l.conId}) action must be BUY or SELL, got '${l.action}'`);
      if (!(Number.isSafeInteger(l.ratio) && l.ratio >= 1))
        return invalid(`combo leg ${k + 1} (conId ${l.conId}) ratio must be a whole number >= 1, got ${l.ratio}`);
      if (out.some((o) => o.sid === sid)) return invalid(`conId ${l.conId} is in the combo twice`);
      out.push({ symbol: this.contracts.symbols[sid], sid, side: action, ratio: l.ratio, filledQty: 0, avgFillPrice: 0 });
    }
    const symbol = p.contract.symbol.trim().toUpperCase();
    const own = this.contracts.symbols.indexOf(symbol);
    return { symbol: symbol || this.contracts.contract(out[0].sid).symbol, sid: own >= 0 ? own : out[0].sid, legs: out };
  }

  /** A placeOrder again for a working combo: its quantity, limit, time in force and orderRef may change; its legs, side and type may not. */
  private modifyCombo(so: SimOrder, p: PlaceOrder): void {
    const combo = isBag(p) ? this.comboOf(p) : null;
    let problem: string | null = null;
    if (combo === null || 'code' in combo || so.engine.legs === undefined)
      problem = combo !== null && 'code' in combo ? combo.text : 'a working order cannot change its contract';
    else if (!sameLegs(combo.legs, so.engine.legs)) problem = 'a working combo order cannot change its legs, their actions or ratios';
    const built = problem === null ? this.buildEngineOrder(so.permId, so.clientId, so.sid, p.order, null, combo as ComboSpec) : problem;
    if (typeof built === 'string') problem = built;
    else if (built.side !== so.engine.side || built.type !== so.engine.type) problem = 'a working order cannot change its side or order type';
    else if (built.qty.kind === 'shares' && built.qty.shares <= so.engine.filledQty)
      problem = `the quantity must stay above the ${so.engine.filledQty} combos filled`;
    if (problem !== null || typeof built === 'string') {
      this.events.orderError(so.clientId, so.id, CODE.ORDER_REJECTED, TEXT.ORDER_REJECTED + problem);
      return;
    }
    const e = so.engine;
    const combos = built.qty.kind === 'shares' ? built.qty.shares : 0;
    if (so.inBroker) this.broker.modify(e, { qty: combos, limit: built.limit });
    else {
      e.qty = { kind: 'shares', shares: combos };
      e.limit = built.limit;
    }
    e.tif = built.tif;
    e.goodTill = built.goodTill;
    e.tag = built.tag;
    so.ib = p.order;
    this.events.openOrder(so);
    this.events.orderStatus(so);
    if (!so.transmitted && p.order.transmit) this.transmit(so);
  }

  private placeholder(id: number, sid: number): Order {
    return newOrder(this.now, {
      id,
      strategy: '',
      symbol: this.contracts.symbols[sid],
      sid,
      side: 'BUY',
      type: 'MKT',
      qty: { kind: 'shares', shares: 0 },
      status: 'REJECTED',
    });
  }

  /** Whether an instant is in regular trading hours (09:30-16:00 exchange time, 13:00 on US half days). */
  inRth(ts: number): boolean {
    return this.daily || this.cal.inSession(ts);
  }

  /** IB's message 399 for an order held until the open, with the open it waits for. */
  private heldText(so: SimOrder): string {
    let day = this.cal.day(this.now);
    const weekday = (d: number) => new Date(d * DAY_MS).getUTCDay();
    if (this.cal.minuteOfDay(this.now) >= this.cal.sessionOpenMin || weekday(day) === 0 || weekday(day) === 6) {
      do day++;
      while (weekday(day) === 0 || weekday(day) === 6);
    }
    const zone = this.o.tz === 'America/New_York' ? 'US/Eastern' : this.o.tz;
    const qty = so.engine.qty.kind === 'shares' ? so.engine.qty.shares : 0;
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    const open = `${String(Math.floor(this.cal.sessionOpenMin / 60)).padStart(2, '0')}:${String(this.cal.sessionOpenMin % 60).padStart(2, '0')}:00`;
    return `Order Message:\n${so.ib.action} ${qty} ${this.contracts.symbols[so.sid]} SMART\nWarning: your order will not be placed at the exchange until ${date} ${open} ${zone}`;
  }

  // ---- replay -------------------------------------------------------------------------------

  /** Matches the live orders against one batch of sub-bars, then marks the symbols at their closes. */
  onBatch(bars: readonly SubBar[], end: number): void {
    if (bars.length === 0) return;
    const ts = bars[0].ts;
    this.storedTs = bars[0].storedTs;
    const day = this.cal.day(ts);
    if (day !== this.day) {
      if (!Number.isNaN(this.day)) {
        this.settleExpired(this.day);
        this.dayStartNetLiq = this.ledger.netLiquidation(this.marks);
        this.dayStartRealized = this.ledger.realized;
      }
      this.day = day;
    }
    const minute = this.daily ? 0 : this.cal.minuteOfDay(ts);
    const subMin = this.o.subMs / 60_000;
    const open = this.cal.sessionOpenMin;
    const close = this.daily ? this.cal.sessionCloseMin : this.cal.closeMin(ts);
    const rth = this.inRth(ts);
    if (rth && this.waiting.size > 0) {
      // the open: orders held for it go to the exchange
      for (const so of this.waiting) {
        if (!isLive(so) || so.status !== 'PreSubmitted') continue;
        so.status = 'Submitted';
        this.events.orderStatus(so);
      }
      this.waiting.clear();
    }
    for (const b of bars) {
      this.now = b.ts;
      if (this.broker.workingOrders(b.sid).length > 0) {
        const sim: SimBar = {
          sid: b.sid,
          ts: b.ts,
          open: b.open,
          high: b.high,
          low: b.low,
          close: b.close,
          volume: b.volume,
          day,
          month: this.cal.month(ts),
          sessionOpen: this.daily || (minute >= open && this.sessionDay[b.sid] !== day),
          sessionClose: this.daily || Math.abs(minute + subMin - close) < 1e-9,
          beforeClose: this.daily || minute + subMin <= close + 1e-9,
          quote: b.quote ?? null,
        };
        // a combo is matched at the stored bar's opens only, as the backtest matches it (combo-fill.ts)
        this.broker.onBar(sim, b.ts === b.storedTs ? (rth ? undefined : this.outsideRthOnly) : rth ? this.singleOnly : this.singleOutsideRthOnly);
      }
      if (!this.daily && rth && minute >= open) this.sessionDay[b.sid] = day;
    }
    for (const b of bars) {
      if (rth) this.sessionMarks[b.sid] = b.close;
      this.setMark(b.sid, b.close);
      if (b.quote) this.setQuote(b.sid, b.quote.bidClose, b.quote.askClose);
    }
    this.now = end;
  }

  /**
   * Option expiry, as IB does it at the close of an option's last trading day and as the backtest does
   * (engine/run/option-expiry.ts): every option whose last trading day is `day` or before has its working orders
   * cancelled and its position settled against the underlying's close S (its last price in regular hours; without
   * one, its last price): at least 0.01 in the money, exercised
   * (long) or assigned (short) into qty x multiplier / the underlying's multiplier units of the underlying at the
   * strike (bought for a long call or a short put, sold otherwise), the option closed at 0; otherwise it expires
   * worthless, closed at 0. An underlying that is not replayed: the option is closed at its own last price (its
   * value then, cash-settled). No commission. Called at the first batch of a later day and when the replay ends.
   * Then the futures' daily settlement (Ledger.settleFutures): their P&L since the last one goes into cash, as IB
   * sweeps variation margin at each day's settlement.
   */
  settleExpired(day: number): void {
    const l = this.ledger;
    while (this.nextExpiry < this.expiring.length && this.expiring[this.nextExpiry].day <= day) {
      const o = this.expiring[this.nextExpiry++];
      for (const so of this.liveOrders()) {
        if (so.sid === o.sid) this.cancelOrder(so, 'the option expired');
        // a combo cannot fill once one of its legs has expired (IB cancels it with the leg)
        else if (so.engine.legs?.some((l) => l.sid === o.sid)) this.cancelOrder(so, `its combo leg ${this.contracts.symbols[o.sid]} expired`);
      }
      const q = l.qty[o.sid];
      if (q === 0) continue;
      // the official close: the last price in regular hours (post-market trades do not count), else the last one
      const s = o.underSid < 0 ? NaN : Number.isNaN(this.sessionMarks[o.underSid]) ? this.marks[o.underSid] : this.sessionMarks[o.underSid];
      if (Number.isNaN(s)) {
        const last = this.marks[o.sid];
        l.apply(o.sid, -q, Number.isNaN(last) ? 0 : last, 0);
        this.events.positionChanged(o.sid);
        continue;
      }
      const intrinsic = o.right === 'C' ? s - o.strike : o.strike - s;
      l.apply(o.sid, -q, 0, 0);
      this.events.positionChanged(o.sid);
      if (intrinsic < EXERCISE_THRESHOLD - 1e-9) continue;
      const units = (q * o.multiplier * (o.right === 'C' ? 1 : -1)) / o.underMultiplier;
      l.apply(o.underSid, units, o.strike / o.underMultiplier, 0);
      this.events.positionChanged(o.underSid);
    }
    // futures: the day's variation margin, at its settlement price (the last in regular hours, else the last) into cash
    l.settleFutures(this.marks.map((m, sid) => (Number.isNaN(this.sessionMarks[sid]) ? m : this.sessionMarks[sid])));
  }

  /**
   * The account's margin in the base currency: futures at their terms' initial and maintenance margin per contract
   * (as the backtest's portfolio margins them), stocks and options under Reg T on `gross`, their gross position value
   * (futures have none; a pair is cash in two currencies, which IB's GrossPositionValue leaves out).
   */
  margins(): { gross: number; futuresInitial: number; futuresMaintenance: number } {
    const l = this.ledger;
    const rates = l.rates.toBase(this.marks);
    let futuresInitial = 0;
    let futuresMaintenance = 0;
    for (let sid = 0; sid < l.qty.length; sid++) {
      const q = l.qty[sid];
      const t = this.contracts.terms[sid];
      if (q === 0 || t?.secType !== 'FUT' || t.initialMargin === undefined) continue;
      // per contract in the contract's currency
      const rate = rates[l.ccy[sid]];
      futuresInitial += Math.abs(q) * t.initialMargin * rate;
      futuresMaintenance += Math.abs(q) * (t.maintenanceMargin ?? t.initialMargin) * rate;
    }
    return { gross: l.grossValue(this.marks), futuresInitial, futuresMaintenance };
  }

  /** The replay has ended: its last day is over, so the options expiring that day settle (settleExpired). */
  endOfReplay(): void {
    if (!Number.isNaN(this.day)) this.settleExpired(this.day);
  }

  /** Daily P&L since the first batch of the current exchange day, unrealized and realized (today). */
  pnl(): { daily: number; unrealized: number; realized: number } {
    const realized = this.ledger.realized - this.dayStartRealized;
    return { daily: this.ledger.netLiquidation(this.marks) - this.dayStartNetLiq, unrealized: this.ledger.unrealized(this.marks), realized };
  }

  // ---- snapshot -----------------------------------------------------------------------------

  /** The account as plain data: the ledger, the replay-side state, the id sequences, working orders (and their parents), executions. */
  snapshot(): AccountSnapshot {
    const l = this.ledger;
    const keep = new Set<SimOrder>();
    for (const so of this.orders.values()) {
      if (!isLive(so)) continue;
      keep.add(so);
      if (so.parent) keep.add(so.parent);
    }
    const orders = [...this.orders.values()]
      .filter((so) => keep.has(so))
      .map(
        (so): SnapshotOrder => ({
          id: so.id,
          clientId: so.clientId,
          permId: so.permId,
          sid: so.sid,
          ib: so.ib,
          status: so.status,
          transmitted: so.transmitted,
          inBroker: so.inBroker,
          lastFillPrice: so.lastFillPrice,
          parentPermId: so.parent?.permId ?? 0,
          engine: jsonNumbers(so.engine),
        }),
      );
    const byCurrency = (a: Float64Array) => Object.fromEntries(l.currencies.map((c, i) => [c, a[i]]));
    return {
      startingCash: l.startingCash,
      cash: l.cash,
      realized: nullIfNaN(l.realized) ?? 0,
      commission: nullIfNaN(l.commission) ?? 0,
      base: l.base,
      balances: byCurrency(l.balances),
      futuresPnl: byCurrency(l.futuresPnl),
      realizedBy: byCurrency(l.realizedBy),
      commissionBy: byCurrency(l.commissionBy),
      settleRef: [...l.settleRef],
      qty: [...l.qty],
      avgCost: [...l.avgCost],
      traded: [...l.traded],
      marks: [...this.marks].map(nullIfNaN),
      day: nullIfNaN(this.day),
      dayStartNetLiq: this.dayStartNetLiq,
      dayStartRealized: this.dayStartRealized,
      sessionDay: [...this.sessionDay].map(nullIfNaN),
      storedTs: nullIfNaN(this.storedTs),
      commissionMonth: this.monthVolume.month,
      commissionVolume: this.monthVolume.volume,
      maxOrderIds: Object.fromEntries(this.maxIds),
      permSeq: this.permSeq,
      execSeq: this.execSeq,
      orders,
      executions: this.executions,
    };
  }

  /** Takes over a snapshot's state (on a fresh account, before any client connects); working orders go back to the broker. */
  restore(s: AccountSnapshot, now: number): void {
    const l = this.ledger;
    l.qty.set(s.qty);
    l.avgCost.set(s.avgCost);
    restoreBalances(l, s);
    s.traded.forEach((t, sid) => (l.traded[sid] = t));
    s.marks.forEach((m, sid) => m !== null && this.setMark(sid, m));
    this.day = nanIfNull(s.day);
    this.dayStartNetLiq = s.dayStartNetLiq;
    this.dayStartRealized = s.dayStartRealized;
    this.sessionDay.set(s.sessionDay.map(nanIfNull));
    this.storedTs = nanIfNull(s.storedTs);
    if (s.commissionMonth >= 0 && this.stockSid >= 0) this.commission.record(s.commissionVolume, s.commissionMonth, this.stockSid);
    for (const [clientId, id] of Object.entries(s.maxOrderIds)) this.maxIds.set(Number(clientId), id);
    this.permSeq = s.permSeq;
    this.execSeq = s.execSeq;
    this.executions.push(...s.executions);
    this.now = now;
    const byPerm = new Map<number, SimOrder>();
    for (const o of s.orders) {
      const { parentPermId, engine, ...rest } = o;
      const parent = byPerm.get(parentPermId) ?? null;
      const so: SimOrder = { ...rest, engine: fromJsonNumbers(engine), inBroker: false, parent, children: [] };
      parent?.children.push(so);
      byPerm.set(so.permId, so);
      this.orders.set(orderKey(so.clientId, so.id), so);
      if (!isLive(so)) continue; // a filled parent that a working child refers to
      this.byEngine.set(so.engine, so);
      if (o.inBroker) {
        const stop = so.engine.stop; // place() would start a trailing stop afresh
        so.inBroker = true;
        this.broker.place(so.engine);
        so.engine.stop = stop;
        if (so.status === 'PreSubmitted' && so.transmitted) this.waiting.add(so);
      }
    }
  }

  // ---- SimBroker's reports ------------------------------------------------------------------

  private listener(): BrokerListener {
    return {
      onStatus: (order: Order, to: OrderStatus, reason: string) => {
        const so = this.byEngine.get(order);
        if (!so) return;
        if (to === 'SUBMITTED') {
          if (rthOnly(so) && !this.inRth(this.now)) {
            // as at IB: accepted, PreSubmitted, and sent to the exchange at the open (message 399)
            this.waiting.add(so);
            this.events.orderError(so.clientId, so.id, HELD_UNTIL_OPEN, this.heldText(so));
            return;
          }
          so.status = 'Submitted';
          this.events.orderStatus(so);
        } else if (to === 'FILLED') {
          so.inBroker = false;
          this.events.openOrder(so);
          this.events.orderStatus(so);
          // the bracket's legs start working with the next stored bar: the path inside this one is unknown
          for (const child of so.children) if (child.transmitted) this.activate(child, this.storedTs + this.o.intervalMs);
        } else if (to === 'CANCELLED' || to === 'EXPIRED') {
          this.cancelled(so, reason);
        }
      },
      onFill: (order: Order, fill: Fill) => {
        const so = this.byEngine.get(order)!;
        const done = order.qty.kind === 'shares' && order.filledQty >= order.qty.shares;
        if (done) so.status = 'Filled';
        // a combo's fill comes one per leg, in the leg's symbol; its status reports combos at the net price
        const leg = order.legs?.find((l) => l.sid === fill.sid);
        so.lastFillPrice = leg ? order.avgFillPrice : fill.price;
        const realized = this.ledger.apply(fill.sid, fill.qty, fill.price, fill.commission);
        const e: Execution = {
          execId: `${this.o.execPrefix}.${(++this.execSeq).toString(16).padStart(8, '0')}.01.01`,
          orderId: so.id,
          clientId: so.clientId,
          permId: so.permId,
          sid: fill.sid,
          side: fill.qty > 0 ? 'BOT' : 'SLD',
          shares: Math.abs(fill.qty),
          price: fill.price,
          ts: fill.ts,
          cumQty: leg ? Math.abs(leg.filledQty) : order.filledQty,
          avgPrice: leg ? leg.avgFillPrice : order.avgFillPrice,
          orderRef: so.ib.orderRef,
          commission: fill.commission,
          realized,
          liquidity: order.type === 'LMT' || (order.type === 'STP LMT' && order.triggered) ? 1 : 2,
        };
        this.executions.push(e);
        this.events.execution(e, so);
        this.events.positionChanged(fill.sid);
      },
      resolveAllIn: () => 0,
      onParentFilled: () => {},
    };
  }
}

/**
 * A snapshot's cash into the ledger (its positions already in): per currency; or, from a snapshot older than
 * currencies (a USD account that paid futures at full value), `cash` in USD with each open future's cost given back
 * to the cash and its variation counted from that cost (the same net liquidation).
 */
function restoreBalances(l: Ledger, s: AccountSnapshot): void {
  if (!s.balances) {
    if (l.base !== 'USD')
      throw new Error(
        `cannot resume from this snapshot: it is of a USD account (it has no cash per currency), this simulator's base currency is ${l.base}: start it in USD`,
      );
    l.cash = s.cash;
    l.realizedBy[0] = s.realized;
    l.commissionBy[0] = s.commission;
    for (let sid = 0; sid < l.qty.length; sid++) {
      if (!l.isFuture(sid) || l.qty[sid] === 0) continue;
      l.balances[l.ccy[sid]] += l.qty[sid] * l.avgCost[sid];
      l.settleRef[sid] = l.avgCost[sid];
    }
    return;
  }
  if (s.base !== undefined && s.base !== l.base)
    throw new Error(
      `cannot resume from this snapshot: its account's base currency is ${s.base}, this simulator's is ${l.base}: start it with base currency ${s.base}`,
    );
  const put = (into: Float64Array, from: Record<string, number> | undefined, what: string) => {
    for (const [currency, x] of Object.entries(from ?? {})) {
      const c = l.currencies.indexOf(currency);
      if (c >= 0) into[c] = x;
      else if (x !== 0)
        throw new Error(
          `cannot resume from this snapshot: its ${what} in ${currency} (${x}) is in no currency of this simulator's symbols (${l.currencies.join(', ')})`,
        );
    }
  };
  put(l.balances, s.balances, 'cash');
  put(l.futuresPnl, s.futuresPnl, 'futures P&L');
  put(l.realizedBy, s.realizedBy, 'realized P&L');
  put(l.commissionBy, s.commissionBy, 'commissions');
  if (s.settleRef) l.settleRef.set(s.settleRef);
}

/** The options among the contracts' symbols with what settling them needs, by last trading day. */
function expiringOptions(contracts: Contracts): Expiring[] {
  const out: Expiring[] = [];
  contracts.symbols.forEach((_, sid) => {
    const t = contracts.terms[sid];
    if (t?.secType !== 'OPT' || !t.expiry || t.strike === undefined || (t.right !== 'C' && t.right !== 'P')) return;
    const underSid = t.underlying ? contracts.symbols.indexOf(t.underlying) : -1;
    out.push({
      sid,
      day: dayNumber(t.expiry),
      strike: t.strike,
      right: t.right,
      multiplier: t.multiplier,
      underSid,
      underMultiplier: underSid >= 0 ? contracts.multipliers[underSid] : 1,
    });
  });
  return out.sort((a, b) => a.day - b.day || a.sid - b.sid);
}
