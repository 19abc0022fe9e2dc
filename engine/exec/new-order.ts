import type { EpochMs, Order, OrderRequest } from '../core/types.ts';

/** What identifies an order; everything else starts at its default (no prices, DAY, nothing filled). */
export type OrderBasics = Pick<Order, 'id' | 'strategy' | 'symbol' | 'sid' | 'side' | 'type' | 'qty'> & Partial<Order>;

/** A new order created at `at`, with the given fields over the defaults. */
export function newOrder(at: EpochMs, o: OrderBasics): Order {
  // Every field in one literal (keys in the order `{ ...defaults, ...o }` gave them), then the given fields
  // over it: an object spread of o built each order property by property, about a microsecond an order.
  const order: Order = {
    limit: NaN,
    stop: NaN,
    trailingPercent: 0,
    trailingAmount: 0,
    tif: 'DAY',
    goodTill: NaN,
    ocaGroup: '',
    parentId: 0,
    tag: '',
    status: 'NEW',
    submittedAt: at,
    eligibleFrom: at,
    filledQty: 0,
    avgFillPrice: 0,
    commission: 0,
    triggered: false,
    firstBarDay: NaN,
    pendingChildren: [],
    reason: '',
    id: o.id,
    strategy: o.strategy,
    symbol: o.symbol,
    sid: o.sid,
    side: o.side,
    type: o.type,
    qty: o.qty,
  };
  return Object.assign(order, o);
}

/**
 * newOrder(at, { id, strategy, symbol, sid, side, type, qty, ...req's fields or their defaults }) in one literal
 * (the same keys in the same order, the same values), for the engine's submissions: no object for the basics.
 */
export function requestedOrder(at: EpochMs, id: number, strategy: string, sid: number, req: OrderRequest): Order {
  return {
    limit: req.limit ?? NaN,
    stop: req.stop ?? NaN,
    trailingPercent: req.trailingPercent ?? 0,
    trailingAmount: req.trailingAmount ?? 0,
    tif: req.tif ?? 'DAY',
    goodTill: req.goodTill ?? NaN,
    ocaGroup: req.ocaGroup ?? '',
    parentId: 0,
    tag: req.tag ?? '',
    status: 'NEW',
    submittedAt: at,
    eligibleFrom: at,
    filledQty: 0,
    avgFillPrice: 0,
    commission: 0,
    triggered: false,
    firstBarDay: NaN,
    pendingChildren: [],
    reason: '',
    id,
    strategy,
    symbol: req.symbol,
    sid,
    side: req.side,
    type: req.type,
    qty: req.qty === 'all-in' ? { kind: 'all-in' } : { kind: 'shares', shares: req.qty },
  };
}
