import { EventName, OrderAction, OrderType as IbOrderType, SecType, TimeInForce as IbTif, type CommissionReport, type Contract, type Execution, type Order as IbOrder } from '@stoqey/ib';
import { parseIbTime } from './protocol/time.ts';
import type { Broker, BrokerListener } from '../core/ports.ts';
import type { EpochMs, Fill, Order } from '../core/types.ts';
import type { IbConnection } from './connection.ts';

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
  log?: (message: string) => void;
}

export const stockContract = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });

const TYPE: Record<Order['type'], IbOrderType> = {
  MKT: IbOrderType.MKT,
  LMT: IbOrderType.LMT,
  STP: IbOrderType.STP,
  'STP LMT': IbOrderType.STP_LMT,
  TRAIL: IbOrderType.TRAIL,
  MOO: IbOrderType.MKT, // with tif OPG
  MOC: IbOrderType.MOC,
};

type Outgoing = { kind: 'place'; order: Order } | { kind: 'cancel'; order: Order };

/**
 * The broker port on IB: engine orders become IB orders (ids from nextValidId, orderRef-tagged),
 * fills come from execDetails, once per execId, booked with their commissionReport; orderStatus is
 * advisory (it may repeat and may skip states). Nothing goes out until the runner calls `drain()`,
 * which it does after the journal holds the decision.
 */
export class IbBroker implements Broker {
  private listener!: BrokerListener;
  private readonly byIbId = new Map<number, Order>();
  private readonly ibIdOf = new Map<number, number>();
  private readonly seenExec = new Set<string>();
  private readonly pending = new Map<string, { order: Order; execution: Execution }>();
  private outbox: Outgoing[] = [];

  constructor(private readonly conn: IbConnection, private readonly o: IbBrokerOptions) {
    const api = conn.api;
    api.on(EventName.orderStatus, (id: number, status: string) => this.onOrderStatus(id, status));
    api.on(EventName.openOrder, (id: number, _c: Contract, _o: IbOrder, state: { status?: string }) => this.onOrderStatus(id, state?.status ?? ''));
    api.on(EventName.execDetails, (_reqId: number, _c: Contract, e: Execution) => this.onExecution(e));
    api.on(EventName.commissionReport, (r: CommissionReport) => this.onCommission(r));
    api.on(EventName.error, (err: Error, code: number, id: number) => this.onError(err, code, id));
  }

  setListener(listener: BrokerListener): void {
    this.listener = listener;
  }

  place(order: Order): void {
    if (order.qty.kind !== 'shares') throw new Error(`order ${order.id}: live orders need a quantity when sent; all-in sizing is resolved at the fill and is refused live`);
    this.outbox.push({ kind: 'place', order });
  }

  cancel(order: Order, reason: string): void {
    if (order.status === 'PENDING_CANCEL') return;
    this.listener.onStatus(order, 'PENDING_CANCEL', reason);
    this.outbox.push({ kind: 'cancel', order });
  }

  modify(order: Order, changes: { qty?: number; limit?: number; stop?: number }): void {
    if (changes.qty !== undefined) order.qty = { kind: 'shares', shares: changes.qty };
    if (changes.limit !== undefined) order.limit = changes.limit;
    if (changes.stop !== undefined) order.stop = changes.stop;
    this.outbox.push({ kind: 'place', order }); // IB: placeOrder again with the same id
  }

  /** Whether decisions wait to be sent. */
  get hasOutgoing(): boolean {
    return this.outbox.length > 0;
  }

  /** Sends every placed, modified or cancelled order; call after the journal has them. */
  drain(): void {
    const out = this.outbox;
    this.outbox = [];
    for (const x of out) {
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
      this.conn.api.placeOrder(id, stockContract(x.order.symbol), this.toIb(x.order, parent));
    }
  }

  /** IB's id of an engine order, if sent. */
  ibId(orderId: number): number | undefined {
    return this.ibIdOf.get(orderId);
  }

  /** Takes over an order found at the broker (reconciliation after a restart). */
  adopt(ibId: number, order: Order): void {
    this.byIbId.set(ibId, order);
    this.ibIdOf.set(order.id, ibId);
  }

  /** An execution already booked (from the journal): never booked twice. */
  markSeen(execId: string): void {
    this.seenExec.add(execId);
  }

  orderRef(order: Order): string {
    return `tb:${this.o.runTag}:${order.id}`;
  }

  /** The engine order id in one of our orderRefs (undefined: not ours). */
  ourOrderId(orderRef: string): number | undefined {
    const m = /^tb:([^:]+):(\d+)$/.exec(orderRef);
    return m && m[1] === this.o.runTag ? Number(m[2]) : undefined;
  }

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
    if (o.tif === 'GTD' && Number.isFinite(o.goodTill)) ib.goodTillDate = new Date(o.goodTill).toISOString().replace(/[-:]/g, '').replace('T', ' ').slice(0, 17) + ' UTC';
    return ib;
  }

  private onOrderStatus(ibId: number, status: string): void {
    const order = this.byIbId.get(ibId);
    if (!order) return;
    if ((status === 'PreSubmitted' || status === 'Submitted') && order.status === 'APPROVED') this.listener.onStatus(order, 'SUBMITTED', '');
    else if ((status === 'Cancelled' || status === 'ApiCancelled') && (order.status === 'SUBMITTED' || order.status === 'PARTIALLY_FILLED' || order.status === 'PENDING_CANCEL')) {
      this.listener.onStatus(order, 'CANCELLED', order.status === 'PENDING_CANCEL' ? order.reason : 'cancelled at the broker');
    }
  }

  private onExecution(e: Execution): void {
    const execId = e.execId ?? '';
    if (!execId || this.seenExec.has(execId) || this.pending.has(execId)) return;
    const order = this.byIbId.get(e.orderId ?? -1) ?? this.byRef(e);
    if (!order) {
      this.o.log?.(`execution ${execId} of order ${e.orderId} (${e.orderRef ?? 'no orderRef'}) is not ours: left to reconciliation`);
      return;
    }
    this.pending.set(execId, { order, execution: e });
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
    this.seenExec.add(r.execId!);
    const { order, execution: e } = p;
    const shares = e.shares ?? 0;
    const price = e.price ?? NaN;
    const ts = parseIbTime(e.time ?? '', this.o.tz);
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
    order.avgFillPrice = (order.avgFillPrice * order.filledQty + price * shares) / (order.filledQty + shares);
    order.filledQty += shares;
    order.commission += fill.commission;
    const done = order.qty.kind === 'shares' && order.filledQty >= order.qty.shares;
    if (order.status === 'APPROVED') this.listener.onStatus(order, 'SUBMITTED', ''); // IB may skip straight to the fill
    this.listener.onFill(order, fill);
    this.listener.onStatus(order, done ? 'FILLED' : 'PARTIALLY_FILLED', '');
    if (done && order.pendingChildren.length > 0) this.listener.onParentFilled(order);
  }

  private onError(err: Error, code: number, ibId: number): void {
    const order = this.byIbId.get(ibId);
    if (!order) return;
    const text = err?.message ?? String(err);
    if ((code === 201 || code === 103 || code === 200 || code === 320) && (order.status === 'APPROVED' || order.status === 'SUBMITTED')) {
      this.listener.onStatus(order, 'REJECTED', `IB error ${code}: ${text}`);
    } else if (code === 202 && (order.status === 'SUBMITTED' || order.status === 'PARTIALLY_FILLED' || order.status === 'PENDING_CANCEL')) {
      this.listener.onStatus(order, 'CANCELLED', `IB error 202: ${text}`);
    } else this.o.log?.(`IB error ${code} on order ${order.id}: ${text}`);
  }
}
