import {
  EventName,
  OrderAction,
  OrderType as IbOrderType,
  TimeInForce as IbTif,
  type CommissionReport,
  type Contract,
  type ContractDetails,
  type Execution,
  type Order as IbOrder,
} from '@stoqey/ib';
import { parseIbTime } from './protocol/time.ts';
import type { AccountFigures, BrokerExecution, BrokerListener, BrokerOrder, BrokerPosition, LiveBroker } from '../core/ports.ts';
import type { ContractTerms, EpochMs, Fill, Order } from '../core/types.ts';
import type { IbConnection } from './connection.ts';
import { bagContract } from './combo-contract.ts';
import { ComboFills } from '../exec/combo-book.ts';
import { ContractIndex, ibContract } from './contracts.ts';

/** What the broker adapter reports beyond order events: broker errors, foreign executions, conflicts. */
export type BrokerNote = { kind: 'error' | 'info' | 'conflict'; message: string };

export interface IbBrokerOptions {
  account: string;
  /** tags every order's orderRef as `tb:<runTag>:<engine order id>`, to find our orders again after a restart */
  runTag: string;
  /** exchange time zone, for IB's execution times without a zone */
  tz: string;
  /** the engine's clock, for events IB does not time-stamp */
  now: () => EpochMs;
  /** the engine's order with this id (orders of an earlier session of the run, found by orderRef) */
  orderById?: (id: number) => Order | undefined;
  /** every broker error and notice worth a person's eye */
  note?: (n: BrokerNote) => void;
  /** how long a request (open orders, positions, executions, account) may take (ms, default 10,000) */
  requestTimeoutMs?: number;
  /**
   * `--session extended`: orders go with outsideRth (except MOO/MOC, auctions IB would ignore it on).
   * Otherwise (rth) without it: IB holds an order sent outside regular hours until the open (message 399).
   */
  outsideRth?: boolean;
  /** whether an instant is in the regular session (for the journal line of an order sent outside it) */
  inSession?: (ts: EpochMs) => boolean;
  /** the run's symbols and the contract terms of those that are not US stocks (config.contracts): their IB contracts */
  symbols?: readonly string[];
  contracts?: Readonly<Record<string, ContractTerms>>;
}

export { stockContract } from './contracts.ts';

const TYPE: Record<Order['type'], IbOrderType> = {
  MKT: IbOrderType.MKT,
  LMT: IbOrderType.LMT,
  STP: IbOrderType.STP,
  'STP LMT': IbOrderType.STP_LMT,
  TRAIL: IbOrderType.TRAIL,
  MOO: IbOrderType.MKT, // with tif OPG
  MOC: IbOrderType.MOC,
};

/** IB's codes that are notices, not errors (farm status, connectivity, order-cancel confirmations are handled elsewhere) */
const NOTICES = new Set([2104, 2106, 2107, 2108, 2119, 2158, 1100, 1101, 1102, 202]);

type Outgoing = { kind: 'place'; order: Order } | { kind: 'cancel'; order: Order };

/** contract-details requests in flight at once when a run's legs' conIds are asked for at connect */
const PREFETCH_PARALLEL = 6;

/** IB's codes that reject an order: 201 rejected, 103 duplicate id, 200 no such contract (a combo leg's too), 320/321 a malformed request */
const REJECTIONS = new Set([201, 103, 200, 320, 321]);

/**
 * The broker port on IB: engine orders become IB orders (ids from nextValidId, orderRef-tagged),
 * fills come from execDetails, once per execId, booked with their commissionReport; orderStatus is
 * advisory (it may repeat and may skip states).
 *
 * Nothing goes out until the runner calls `drain()`, which it does once the journal holds the decision,
 * and nothing goes out while the gateway is disconnected: decisions wait in the outbox (an order
 * stays APPROVED) until the runner has reconciled after the reconnect and chosen to send or drop them.
 * An order is SUBMITTED from the moment its placeOrder is written to the socket.
 */
export class IbBroker implements LiveBroker {
  private listener!: BrokerListener;
  private readonly byIbId = new Map<number, Order>();
  private readonly ibIdOf = new Map<number, number>();
  /** execId -> what it booked, so a reused execId with other content is caught, not dropped */
  private readonly seenExec = new Map<string, string>();
  /** executions waiting for their commissionReport; `leg`: the combo leg it fills (-1: a single-symbol order) */
  private readonly pending = new Map<string, { order: Order; execution: Execution; leg: number }>();
  /** combo legs' executions booked onto their orders */
  private readonly comboFills = new ComboFills();
  /** run symbols' conIds, from reqContractDetails (combo legs name their contracts by conId) */
  private readonly conIds = new Map<string, number>();
  /** symbols whose conId is being asked for */
  private readonly conIdAsks = new Map<string, Promise<number>>();
  /** outbox entries the runner has released (journaled): only these may go out, in order */
  private readonly released = new WeakSet<Outgoing>();
  /** engine ids of orders the broker has acknowledged (openOrder/orderStatus) */
  private readonly acked = new Set<number>();
  /** wall time (performance.now) each unacknowledged order was last sent */
  private readonly sentAt = new Map<Order, number>();
  private outbox: Outgoing[] = [];
  private reqSeq = 60_000;
  private pnlReq = -1;
  /** the run symbol of a contract IB reports */
  private readonly index: ContractIndex;
  /** it sends combo orders as IB's BAG contracts with comboLegs (combo-contract.ts) and books each leg's executions */
  readonly supportsCombos = true;
  /** Today's P&L as IB reports it (reqPnL), kept up to date; NaN until the first report. */
  dailyPnl = NaN;

  /** from a drop until the runner has reconciled and called `release`: nothing is sent */
  holding = false;

  constructor(
    private readonly conn: IbConnection,
    private readonly o: IbBrokerOptions,
  ) {
    this.index = new ContractIndex(o.symbols ?? [], o.contracts);
    conn.on('disconnected', () => (this.holding = true));
    // a run with options may send combos: their legs' conIds are asked for once, as soon as the gateway is there
    conn.on('ready', () => this.prefetchConIds());
    const api = conn.api;
    api.on(EventName.orderStatus, (id: number, status: string) => this.onOrderStatus(id, status));
    api.on(EventName.openOrder, (id: number, _c: Contract, _o: IbOrder, state: { status?: string }) => this.onOrderStatus(id, state?.status ?? ''));
    api.on(EventName.execDetails, (_reqId: number, c: Contract, e: Execution) => this.onExecution(c, e));
    api.on(EventName.commissionReport, (r: CommissionReport) => this.onCommission(r));
    api.on(EventName.error, (err: Error, code: number, id: number) => this.onError(err, code, id));
  }

  setListener(listener: BrokerListener): void {
    this.listener = listener;
  }

  place(order: Order): void {
    if (order.qty.kind !== 'shares')
      throw new Error(`order ${order.id}: live orders need a quantity when sent; all-in sizing is resolved at the fill and is refused live`);
    this.outbox.push({ kind: 'place', order });
  }

  cancel(order: Order, reason: string): void {
    if (order.status === 'PENDING_CANCEL') return;
    if (order.status === 'APPROVED') {
      // never sent: it simply does not go
      this.outbox = this.outbox.filter((x) => x.order !== order);
      this.listener.onStatus(order, 'REJECTED', `cancelled before it was sent: ${reason}`);
      return;
    }
    this.listener.onStatus(order, 'PENDING_CANCEL', reason);
    this.outbox.push({ kind: 'cancel', order });
  }

  modify(order: Order, changes: { qty?: number; limit?: number; stop?: number }): void {
    if (changes.qty !== undefined) order.qty = { kind: 'shares', shares: changes.qty };
    if (changes.limit !== undefined) order.limit = changes.limit;
    if (changes.stop !== undefined) order.stop = changes.stop;
    if (!this.outbox.some((x) => x.kind === 'place' && x.order === order)) this.outbox.push({ kind: 'place', order }); // IB: placeOrder again with the same id
  }

  /** Decisions waiting to be sent (held while disconnected). */
  get outgoing(): readonly Order[] {
    return this.outbox.map((x) => x.order);
  }

  /**
   * Sends every placed, modified or cancelled order, in the order decided; call after the journal has
   * them. From a drop until `release` (after the reconnect's reconciliation) nothing is sent (returns false).
   */
  drain(): boolean {
    if (!this.conn.ready || this.holding) return false;
    for (const x of this.outbox) this.released.add(x);
    this.send();
    return true;
  }

  /**
   * Sends the released head of the outbox, in order. A combo whose legs' conIds are not known yet stops it there:
   * they are asked for (reqContractDetails) and it goes on once they are, or the combo is refused if they cannot be.
   */
  private send(): void {
    while (this.outbox.length > 0 && this.released.has(this.outbox[0]!) && this.conn.ready && !this.holding) {
      const x = this.outbox[0]!;
      if (x.kind === 'place' && x.order.legs !== undefined && x.order.legs.some((l) => !this.conIds.has(l.symbol))) {
        this.awaitConIds(x);
        return;
      }
      this.outbox.shift();
      if (x.kind === 'cancel') {
        const id = this.ibIdOf.get(x.order.id);
        if (id !== undefined) this.conn.api.cancelOrder(id);
        continue;
      }
      let id = this.ibIdOf.get(x.order.id);
      if (id === undefined) {
        id = this.conn.nextOrderId();
        this.byIbId.set(id, x.order);
        this.ibIdOf.set(x.order.id, id);
      }
      const parent = x.order.parentId ? this.ibIdOf.get(x.order.parentId) : undefined;
      const ib = this.toIb(x.order, parent);
      const now = this.o.now();
      if (x.order.status === 'APPROVED' && !ib.outsideRth && this.o.inSession && Number.isFinite(now) && !this.o.inSession(now))
        this.o.note?.({
          kind: 'info',
          message: `order ${x.order.id} ${x.order.side} ${x.order.symbol} sent at ${new Date(now).toISOString()}, outside regular hours, without outsideRth (--session rth): the broker holds it until the session opens`,
        });
      this.conn.api.placeOrder(id, this.contractOf(x.order), ib);
      if (!this.acked.has(x.order.id)) this.sentAt.set(x.order, performance.now());
      if (x.order.status === 'APPROVED') this.listener.onStatus(x.order, 'SUBMITTED', `sent to IB as order ${id}`);
    }
  }

  /** The IB contract an order goes with: its symbol's, or for a combo the BAG of its legs. */
  private contractOf(o: Order): Contract {
    if (o.legs === undefined) return ibContract(o.symbol, this.o.contracts?.[o.symbol]);
    const currency = this.o.contracts?.[o.legs[0]!.symbol]?.currency ?? 'USD';
    return bagContract(o, currency, (s) => this.conIds.get(s));
  }

  /** Asks for the conIds combo `x` lacks; then sends on, or refuses the combo (REJECTED, never sent) naming the leg. */
  private awaitConIds(x: Outgoing): void {
    const legs = x.order.legs!;
    Promise.all(legs.map((l) => this.conIdOf(l.symbol))).then(
      () => this.send(),
      (e: Error) => {
        // a dropped connection: the combo waits in the outbox, asked for again once the runner releases it
        if (this.outbox[0] !== x || !this.conn.ready || this.holding) return;
        this.outbox.shift();
        this.listener.onStatus(x.order, 'REJECTED', `combo not sent: ${e.message}`);
        this.o.note?.({ kind: 'error', message: `order ${x.order.id} (combo on ${x.order.symbol}) not sent: ${e.message}` });
        this.send();
      },
    );
  }

  /** A run symbol's conId: known, or asked of the gateway (reqContractDetails with its contract), once. */
  private conIdOf(symbol: string): Promise<number> {
    const known = this.conIds.get(symbol);
    if (known !== undefined) return Promise.resolve(known);
    let ask = this.conIdAsks.get(symbol);
    if (ask === undefined) {
      const reqId = this.reqSeq++;
      const contract = ibContract(symbol, this.o.contracts?.[symbol]);
      ask = this.collect<number>(`the contract details of ${symbol}`, (api, done) => {
        let conId = 0;
        let count = 0;
        const onDetails = (id: number, d: ContractDetails) => {
          if (id !== reqId) return;
          count++;
          conId = d.contract?.conId ?? 0;
        };
        const onEnd = (id: number) => id === reqId && done(count === 1 && conId > 0 ? conId : -count);
        const onError = (_err: Error, code: number, id: number) => id === reqId && done(-1_000_000 - code);
        api.on(EventName.contractDetails, onDetails);
        api.on(EventName.contractDetailsEnd, onEnd);
        api.on(EventName.error, onError);
        api.reqContractDetails(reqId, contract);
        return () => {
          api.off(EventName.contractDetails, onDetails);
          api.off(EventName.contractDetailsEnd, onEnd);
          api.off(EventName.error, onError);
        };
      }).then(
        (conId) => {
          this.conIdAsks.delete(symbol);
          if (conId > 0) {
            this.conIds.set(symbol, conId);
            return conId;
          }
          const why = conId <= -1_000_000 ? `IB error ${-conId - 1_000_000}` : conId === 0 ? 'no contract matched' : `${-conId} contracts matched, not one`;
          throw new Error(`the conId of ${symbol} (a combo leg) could not be found: reqContractDetails answered ${why}; check the instrument's terms`);
        },
        (e: Error) => {
          this.conIdAsks.delete(symbol);
          throw e;
        },
      );
      this.conIdAsks.set(symbol, ask);
    }
    return ask;
  }

  /** At connect, in a run with options: the conIds of its options and their underlyings, for the combos it may send. */
  private prefetchConIds(): void {
    const c = this.o.contracts;
    const symbols = this.o.symbols ?? [];
    if (!c || !symbols.some((s) => c[s]?.secType === 'OPT')) return;
    const legs = new Set(symbols.filter((s) => c[s]?.secType === 'OPT'));
    for (const s of symbols) if (legs.has(s) === false && symbols.some((o) => c[o]?.underlying === s)) legs.add(s);
    // a few requests at a time: each watches the connection for a drop while it waits
    const queue = [...legs].filter((s) => !this.conIds.has(s));
    const next = (): Promise<void> => {
      const s = queue.shift();
      if (s === undefined) return Promise.resolve();
      return this.conIdOf(s).then(
        () => next(),
        (e: Error) => {
          this.o.note?.({ kind: 'info', message: `${e.message} (asked at connect; asked again when a combo needs it)` });
          return next();
        },
      );
    };
    for (let k = 0; k < PREFETCH_PARALLEL; k++) void next();
  }

  /**
   * After a reconnect and reconciliation: orders held in the outbox are sent if `stillValid` says so,
   * otherwise dropped with its reason (REJECTED: they never reached the broker).
   */
  release(stillValid: (order: Order) => string | null): void {
    for (const x of [...this.outbox]) {
      if (x.kind !== 'place' || x.order.status !== 'APPROVED') continue;
      const why = stillValid(x.order);
      if (why === null) continue;
      this.outbox = this.outbox.filter((y) => y !== x);
      this.listener.onStatus(x.order, 'REJECTED', why);
    }
    this.holding = false;
    this.drain();
  }

  /** Sends a working order again (it was lost in flight: the broker never acknowledged nor listed it). */
  resend(order: Order): void {
    this.outbox.push({ kind: 'place', order });
  }

  /** Working orders sent at least `ms` ago that the broker has not acknowledged yet. */
  unacknowledged(ms: number): Order[] {
    const now = performance.now();
    const out: Order[] = [];
    for (const [order, at] of this.sentAt) {
      if (this.acked.has(order.id) || order.status !== 'SUBMITTED') this.sentAt.delete(order);
      else if (now - at >= ms) out.push(order);
    }
    return out;
  }

  /** Whether the broker has acknowledged this order (openOrder or orderStatus). */
  acknowledged(order: Order): boolean {
    return this.acked.has(order.id);
  }

  /** IB's id of an engine order, if sent. */
  ibId(orderId: number): number | undefined {
    return this.ibIdOf.get(orderId);
  }

  /** Takes over an order found at the broker (reconciliation after a restart). */
  adopt(ibId: number, order: Order): void {
    this.byIbId.set(ibId, order);
    this.ibIdOf.set(order.id, ibId);
    this.acked.add(order.id);
  }

  /** An execution already booked (from the journal): never booked twice. */
  markSeen(f: Fill): void {
    this.seenExec.set(f.execId, execKey(f.symbol, f.qty, f.price));
  }

  orderRef(order: Order): string {
    return `tb:${this.o.runTag}:${order.id}`;
  }

  /** The engine order id in one of our orderRefs (undefined: not ours). */
  ourOrderId(orderRef: string): number | undefined {
    const m = /^tb:([^:]+):(\d+)$/.exec(orderRef);
    return m && m[1] === this.o.runTag ? Number(m[2]) : undefined;
  }

  // ---- what the broker holds (reconciliation) ------------------------------------------------

  openOrders(): Promise<BrokerOrder[]> {
    const out: BrokerOrder[] = [];
    return this.collect('open orders', (api, done) => {
      const onOpen = (id: number, c: Contract, order: IbOrder, state: { status?: string }) => {
        out.push({
          brokerId: id,
          ref: order.orderRef ?? '',
          symbol: this.index.symbolOf(c),
          side: order.action === OrderAction.BUY ? 'BUY' : 'SELL',
          qty: Number(order.totalQuantity ?? 0),
          status: state?.status ?? '',
        });
      };
      const onEnd = () => done(out);
      api.on(EventName.openOrder, onOpen);
      api.once(EventName.openOrderEnd, onEnd);
      api.reqAllOpenOrders();
      return () => {
        api.off(EventName.openOrder, onOpen);
        api.off(EventName.openOrderEnd, onEnd);
      };
    });
  }

  positions(): Promise<BrokerPosition[]> {
    const out: BrokerPosition[] = [];
    return this.collect('positions', (api, done) => {
      const onPos = (account: string, c: Contract, pos: number, avgCost?: number) => {
        if (!this.o.account || account === this.o.account) out.push({ symbol: this.index.symbolOf(c), qty: pos, avgCost: avgCost ?? NaN });
      };
      const onEnd = () => {
        api.cancelPositions();
        done(out);
      };
      api.on(EventName.position, onPos);
      api.once(EventName.positionEnd, onEnd);
      api.reqPositions();
      return () => {
        api.off(EventName.position, onPos);
        api.off(EventName.positionEnd, onEnd);
      };
    });
  }

  executions(): Promise<BrokerExecution[]> {
    const reqId = this.reqSeq++;
    const out: BrokerExecution[] = [];
    return this.collect('executions', (api, done) => {
      const onExec = (id: number, c: Contract, e: Execution) => {
        // a combo's own execution is not a position's: its legs' executions are listed
        if (id === reqId && String(c?.secType ?? '').toUpperCase() !== 'BAG')
          out.push({
            execId: e.execId ?? '',
            ref: e.orderRef ?? '',
            symbol: this.index.symbolOf(c),
            qty: (e.side === 'SLD' ? -1 : 1) * (e.shares ?? 0),
            price: e.price ?? NaN,
          });
      };
      const onEnd = (id: number) => id === reqId && done(out);
      api.on(EventName.execDetails, onExec);
      api.on(EventName.execDetailsEnd, onEnd);
      api.reqExecutions(reqId, { acctCode: this.o.account });
      return () => {
        api.off(EventName.execDetails, onExec);
        api.off(EventName.execDetailsEnd, onEnd);
      };
    });
  }

  account(): Promise<AccountFigures> {
    const reqId = this.reqSeq++;
    const fig: AccountFigures = { account: this.o.account, currency: '', netLiquidation: NaN, totalCashValue: NaN, availableFunds: NaN, dailyPnl: NaN };
    return this.collect('the account summary', (api, done) => {
      const onRow = (id: number, account: string, tag: string, value: string, currency: string) => {
        if (id !== reqId || (this.o.account && account !== this.o.account)) return;
        if (tag === 'NetLiquidation') fig.netLiquidation = Number(value);
        else if (tag === 'TotalCashValue') fig.totalCashValue = Number(value);
        else if (tag === 'AvailableFunds') fig.availableFunds = Number(value);
        if (currency) fig.currency = currency;
      };
      const onEnd = (id: number) => {
        if (id !== reqId) return;
        api.cancelAccountSummary(reqId);
        done(fig);
      };
      api.on(EventName.accountSummary, onRow);
      api.on(EventName.accountSummaryEnd, onEnd);
      api.reqAccountSummary(reqId, 'All', 'NetLiquidation,TotalCashValue,AvailableFunds');
      return () => {
        api.off(EventName.accountSummary, onRow);
        api.off(EventName.accountSummaryEnd, onEnd);
      };
    });
  }

  /** Subscribes to the account's daily P&L (again after a reconnect). */
  watchPnl(): void {
    const api = this.conn.api;
    if (this.pnlReq < 0) api.on(EventName.pnl, (id: number, daily: number) => id === this.pnlReq && (this.dailyPnl = daily));
    this.pnlReq = this.reqSeq++;
    api.reqPnL(this.pnlReq, this.o.account);
  }

  /** One request: listens, asks, resolves on its end message; rejects on a timeout or a dropped connection. */
  private collect<T>(what: string, start: (api: IbConnection['api'], done: (x: T) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.conn.ready) return reject(new Error(`cannot ask the gateway for ${what}: not connected`));
      let stopListening = () => {};
      const finish = (err: Error | null, x?: T) => {
        clearTimeout(timer);
        this.conn.off('disconnected', onDrop);
        stopListening();
        if (err) reject(err);
        else resolve(x as T);
      };
      const onDrop = () => finish(new Error(`the gateway connection dropped while asking for ${what}`));
      const ms = this.o.requestTimeoutMs ?? 10_000;
      const timer = setTimeout(() => finish(new Error(`the gateway did not send ${what} within ${ms / 1000} s`)), ms);
      this.conn.on('disconnected', onDrop);
      stopListening = start(this.conn.api, (x) => finish(null, x));
    });
  }

  // ---- events from IB --------------------------------------------------------------------------

  private toIb(o: Order, parentIbId: number | undefined): IbOrder {
    const qty = o.qty.kind === 'shares' ? o.qty.shares : 0;
    const ib: IbOrder = {
      action: o.side === 'BUY' ? OrderAction.BUY : OrderAction.SELL,
      totalQuantity: qty,
      orderType: TYPE[o.type],
      tif: o.type === 'MOO' ? IbTif.OPG : (o.tif as IbTif),
      orderRef: this.orderRef(o),
      account: this.o.account,
      transmit: true,
    };
    if (Number.isFinite(o.limit)) ib.lmtPrice = o.limit;
    if (o.type === 'STP' || o.type === 'STP LMT') ib.auxPrice = o.stop;
    if (o.type === 'TRAIL') {
      if (o.trailingPercent > 0) ib.trailingPercent = o.trailingPercent;
      else ib.auxPrice = o.trailingAmount;
    }
    if (o.ocaGroup) ib.ocaGroup = o.ocaGroup;
    if (parentIbId !== undefined) ib.parentId = parentIbId;
    if (this.o.outsideRth && o.type !== 'MOO' && o.type !== 'MOC') ib.outsideRth = true;
    if (o.tif === 'GTD' && Number.isFinite(o.goodTill))
      ib.goodTillDate = `${new Date(o.goodTill).toISOString().replace(/[-:]/g, '').replace('T', ' ').slice(0, 17)} UTC`;
    return ib;
  }

  private onOrderStatus(ibId: number, status: string): void {
    const order = this.byIbId.get(ibId);
    if (!order) return;
    this.acked.add(order.id);
    if ((status === 'PreSubmitted' || status === 'Submitted') && order.status === 'APPROVED') this.listener.onStatus(order, 'SUBMITTED', '');
    else if (
      (status === 'Cancelled' || status === 'ApiCancelled') &&
      (order.status === 'SUBMITTED' || order.status === 'PARTIALLY_FILLED' || order.status === 'PENDING_CANCEL')
    ) {
      this.listener.onStatus(order, 'CANCELLED', order.status === 'PENDING_CANCEL' ? order.reason : 'cancelled at the broker');
    }
  }

  private onExecution(c: Contract, e: Execution): void {
    const execId = e.execId ?? '';
    if (!execId || this.pending.has(execId)) return;
    // a combo's own execution (IB may report the BAG beside its legs): its legs' executions book it
    if (String(c?.secType ?? '').toUpperCase() === 'BAG') return;
    const order = this.byIbId.get(e.orderId ?? -1) ?? this.byRef(e);
    const leg = order?.legs !== undefined ? this.legOf(order, c) : -1;
    if (order?.legs !== undefined && leg < 0) {
      this.o.note?.({
        kind: 'error',
        message: `execution ${execId} of combo order ${order.id} (${order.symbol}) is on ${this.index.symbolOf(c)} (conId ${c?.conId ?? 'none'}), none of its legs: not booked, the books need checking`,
      });
      return;
    }
    const booked = this.seenExec.get(execId);
    if (booked !== undefined) {
      const now = order
        ? leg >= 0
          ? execKey(order.legs![leg]!.symbol, (e.side === 'SLD' ? -1 : 1) * (e.shares ?? 0), e.price ?? NaN)
          : execKey(order.symbol, (order.side === 'BUY' ? 1 : -1) * (e.shares ?? 0), e.price ?? NaN)
        : `foreign ${e.orderRef ?? ''} ${e.shares} @ ${e.price}`;
      if (now !== booked)
        this.o.note?.({
          kind: 'conflict',
          message: `execution id ${execId} was booked as ${booked} and now comes as ${now}: the broker reused an execution id; not booked, the books need checking`,
        });
      return;
    }
    if (!order) {
      this.o.note?.({
        kind: 'info',
        message: `execution ${execId} of order ${e.orderId} (${e.orderRef || 'no orderRef'}) is not ours: left to reconciliation`,
      });
      return;
    }
    this.acked.add(order.id);
    this.pending.set(execId, { order, execution: e, leg });
  }

  /** The leg of combo `order` an execution's contract is: by conId, else by the run symbol it maps to (-1: none). */
  private legOf(order: Order, c: Contract): number {
    const legs = order.legs!;
    if (c?.conId) {
      const k = legs.findIndex((l) => this.conIds.get(l.symbol) === c.conId);
      if (k >= 0) return k;
    }
    return c ? ComboFills.legOf(order, this.index.symbolOf(c)) : -1;
  }

  private byRef(e: Execution): Order | undefined {
    const id = this.ourOrderId(e.orderRef ?? '');
    const order = id === undefined ? undefined : this.o.orderById?.(id);
    if (order && e.orderId !== undefined) this.adopt(e.orderId, order);
    return order;
  }

  private onCommission(r: CommissionReport): void {
    const p = this.pending.get(r.execId ?? '');
    if (!p) return;
    this.pending.delete(r.execId!);
    const { order, execution: e } = p;
    const shares = e.shares ?? 0;
    const price = e.price ?? NaN;
    const ts = parseIbTime(e.time ?? '', this.o.tz);
    if (p.leg >= 0) return this.onLegCommission(order, p.leg, e, r, Number.isFinite(ts) ? ts : this.o.now());
    const fill: Fill = {
      orderId: order.id,
      strategy: order.strategy,
      symbol: order.symbol,
      sid: order.sid,
      ts: Number.isFinite(ts) ? ts : this.o.now(),
      qty: order.side === 'BUY' ? shares : -shares,
      price,
      commission: r.commission ?? 0,
      execId: r.execId!,
    };
    this.markSeen(fill);
    order.avgFillPrice = (order.avgFillPrice * order.filledQty + price * shares) / (order.filledQty + shares);
    order.filledQty += shares;
    order.commission += fill.commission;
    const done = order.qty.kind === 'shares' && order.filledQty >= order.qty.shares;
    if (order.status === 'APPROVED') this.listener.onStatus(order, 'SUBMITTED', ''); // IB may skip straight to the fill
    this.listener.onFill(order, fill);
    this.listener.onStatus(order, done ? 'FILLED' : 'PARTIALLY_FILLED', '');
    if (done && order.pendingChildren.length > 0) this.listener.onParentFilled(order);
  }

  /**
   * A combo leg's execution, booked as the backtest books it (SimBroker.matchCombo): a fill in the leg's symbol,
   * its commission; the combo's status moves once the legs complete more combos.
   */
  private onLegCommission(order: Order, k: number, e: Execution, r: CommissionReport, ts: EpochMs): void {
    const leg = order.legs![k]!;
    const shares = e.shares ?? 0;
    const price = e.price ?? NaN;
    const units = e.side === 'SLD' ? -shares : shares;
    const fill: Fill = {
      orderId: order.id,
      strategy: order.strategy,
      symbol: leg.symbol,
      sid: leg.sid,
      ts,
      qty: units,
      price,
      commission: r.commission ?? 0,
      execId: r.execId!,
    };
    this.markSeen(fill);
    order.commission += fill.commission;
    const completed = this.comboFills.book(order, k, units, price);
    if (order.status === 'APPROVED') this.listener.onStatus(order, 'SUBMITTED', '');
    this.listener.onFill(order, fill);
    if (completed === 0) return;
    const done = order.qty.kind === 'shares' && order.filledQty >= order.qty.shares;
    this.listener.onStatus(order, done ? 'FILLED' : 'PARTIALLY_FILLED', '');
  }

  private onError(err: Error, code: number, ibId: number): void {
    const text = err?.message ?? String(err);
    const order = this.byIbId.get(ibId);
    if (!order) {
      if (!NOTICES.has(code) && code !== 505) this.o.note?.({ kind: 'error', message: `IB error ${code}${ibId >= 0 ? ` (request ${ibId})` : ''}: ${text}` });
      return;
    }
    this.acked.add(order.id);
    if (REJECTIONS.has(code) && (order.status === 'APPROVED' || order.status === 'SUBMITTED')) {
      this.listener.onStatus(order, 'REJECTED', `IB error ${code}: ${text}`);
      this.o.note?.({ kind: 'error', message: `order ${order.id} ${order.side} ${order.symbol} rejected by IB: error ${code}: ${text}` });
    } else if (code === 202 && (order.status === 'SUBMITTED' || order.status === 'PARTIALLY_FILLED' || order.status === 'PENDING_CANCEL')) {
      this.listener.onStatus(order, 'CANCELLED', `IB error 202: ${text}`);
    } else if (code === 399 || code === 2109) {
      // held until the open (no outsideRth outside regular hours), or outsideRth ignored: the order works on
      this.o.note?.({ kind: 'info', message: `IB message ${code} on order ${order.id} ${order.side} ${order.symbol}: ${text.replace(/\n/g, ' ')}` });
    } else if (code !== 202) this.o.note?.({ kind: 'error', message: `IB error ${code} on order ${order.id} ${order.side} ${order.symbol}: ${text}` });
  }
}

/** What an execution booked, to tell a replayed execution from a reused id. */
const execKey = (symbol: string, qty: number, price: number) => `${symbol} ${qty} @ ${price}`;
