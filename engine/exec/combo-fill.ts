// Combo orders (IB's BAG contract: a vertical, a straddle, an iron condor) in the simulator. The rules:
// - All legs fill together or not at all, on the same bar, `ratio` x combos units each.
// - Each leg takes the side of its own action (BUY leg of a BUY combo, SELL leg of a SELL combo: the ask; the
//   other way: the bid), at that side's open, as a single market order does (quote-fill.ts). A leg without
//   quotes (a stock leg) takes its bar's open, with the run's slippage for a MKT combo.
// - A LMT combo is checked at those opening prices: it fills when their net (sum of +1 for a BUY leg, -1 for a
//   SELL leg, x ratio x price) is at or better than the limit (a BUY combo: net <= limit; a SELL combo:
//   net >= limit), at those prices. The legs' intrabar highs and lows are not combined: they need not happen at
//   the same instant, so the net's extreme within a bar is unknown.
// - A leg with no quote on its side that bar (or no bar at that instant) means no fill: the combo stays working.
// - The combo's bar is its last leg's (in the run's symbol order, the order bars reach the broker): the other
//   legs' bars of the same instant have been recorded by then. Its time in force is counted on those bars.
// - With a volume cap, a bar fills at most min over legs of floor(cap x size / ratio) combos (partial fills keep
//   every leg at ratio x the combos filled).
import type { ContractTerms, Order, OrderLeg, OrderRequest, Side } from '../core/types.ts';
import { applySlippage, type SlippageSpec } from './costs.ts';
import { quoteSize, type QuoteSides } from './quote-fill.ts';

/** What a combo reads of one leg's bar (SimBar's fields). */
export interface LegBar {
  sid: number;
  ts: number;
  open: number;
  high: number;
  low: number;
  volume: number;
  quote?: QuoteSides | null;
}

/** The side leg `leg` of `order` trades: its own action for a BUY combo, the opposite for a SELL combo. */
export function legSide(order: Pick<Order, 'side'>, leg: { side: Side }): Side {
  if (order.side === 'BUY') return leg.side;
  return leg.side === 'BUY' ? 'SELL' : 'BUY';
}

/** +1 for a leg bought per combo as defined, -1 for one sold: the sign of its price in the combo's net. */
export const legSign = (leg: { side: Side }): number => (leg.side === 'BUY' ? 1 : -1);

/** The net price per combo as defined (debit positive, credit negative) of leg prices in the legs' order. */
export function comboNet(legs: readonly { side: Side; ratio: number }[], prices: ArrayLike<number>): number {
  let net = 0;
  for (let k = 0; k < legs.length; k++) net += legSign(legs[k]!) * legs[k]!.ratio * prices[k]!;
  return net;
}

/** Doubles add leg prices with rounding noise (1.2 - 3.4 + 0.9): a net within this of the limit is at it. */
export const NET_EPSILON = 1e-9;

/** Whether a combo whose legs' prices net `net` may fill: MKT always; LMT at or better than its limit. */
export function netWithinLimit(order: Pick<Order, 'side' | 'type' | 'limit'>, net: number): boolean {
  if (order.type !== 'LMT') return true;
  return order.side === 'BUY' ? net <= order.limit + NET_EPSILON : net >= order.limit - NET_EPSILON;
}

/**
 * The price leg `sid` of a combo takes on `bar` when it trades `side` (NaN: no price that side this bar): the
 * quote side's open, or for a leg without quotes the bar's open (with `slippage` when given: MKT combos).
 */
export function legOpenPrice(side: Side, bar: LegBar, slippage: SlippageSpec | null): number {
  const buy = side === 'BUY';
  if (bar.quote) return buy ? bar.quote.askOpen : bar.quote.bidOpen;
  return slippage === null ? bar.open : applySlippage(slippage, bar.open, buy, bar.high, bar.low);
}

/** The units a leg may trade on `bar` under a volume cap: the size at the touch of its side, or the bar's volume. */
export function legRoom(side: Side, bar: LegBar, cap: number): number {
  return Math.floor(cap * (bar.quote ? quoteSize(side === 'BUY', bar.quote) : bar.volume));
}

/** Each working combo's legs as last seen by the broker: the bar start, the price the leg would take, its room. */
export class ComboQuotes {
  private readonly seen = new Map<Order, { ts: Float64Array; price: Float64Array; room: Float64Array; last: number }>();

  /** `cap`: the run's volume cap (0: none); `slippage`: the run's, for legs without quotes in MKT combos */
  constructor(
    private readonly cap: number,
    private readonly slippage: SlippageSpec,
  ) {}

  /** Starts tracking a combo placed at the broker. */
  add(order: Order): void {
    const n = order.legs!.length;
    let last = -1;
    for (const leg of order.legs!) last = Math.max(last, leg.sid);
    this.seen.set(order, { ts: new Float64Array(n).fill(Number.NaN), price: new Float64Array(n), room: new Float64Array(n), last });
  }

  delete(order: Order): void {
    this.seen.delete(order);
  }

  /** Records leg `bar.sid`'s bar of `order`; true when it is the combo's last leg (the combo may fill now). */
  record(order: Order, bar: LegBar): boolean {
    const s = this.seen.get(order);
    if (s === undefined) return false;
    const legs = order.legs!;
    const k = legs.findIndex((l) => l.sid === bar.sid);
    if (k < 0) return false;
    const side = legSide(order, legs[k]!);
    s.ts[k] = bar.ts;
    s.price[k] = legOpenPrice(side, bar, order.type === 'MKT' ? this.slippage : null);
    s.room[k] = this.cap > 0 ? legRoom(side, bar, this.cap) : Infinity;
    return bar.sid === s.last;
  }

  /**
   * The leg prices `order` fills at on the bar starting at `ts` and how many combos the legs' room allows, or null
   * when a leg has no bar at `ts`, no price on its side, or the net is worse than the limit.
   */
  fillable(order: Order, ts: number): { prices: Float64Array; net: number; room: number } | null {
    const s = this.seen.get(order);
    if (s === undefined) return null;
    const legs = order.legs!;
    let room = Infinity;
    for (let k = 0; k < legs.length; k++) {
      if (s.ts[k] !== ts || !Number.isFinite(s.price[k]!)) return null;
      room = Math.min(room, Math.floor(s.room[k]! / legs[k]!.ratio));
    }
    const net = comboNet(legs, s.price);
    if (!netWithinLimit(order, net)) return null;
    return { prices: s.price, net, room };
  }
}

/** A combo request's own fields checked against the run: the rule broken ({ field, rule }), or null. */
export function comboRequestError(
  req: OrderRequest,
  sidOf: (symbol: string) => number,
  contracts?: readonly (ContractTerms | undefined)[],
): { field: string; rule: string } | null {
  const legs = req.legs ?? [];
  if (req.type !== 'MKT' && req.type !== 'LMT') return { field: 'type', rule: `must be MKT or LMT for a combo, got ${req.type}` };
  if (!(Number.isSafeInteger(req.qty) && (req.qty as number) > 0)) return { field: 'qty', rule: `must be a whole number of combos > 0, got ${req.qty}` };
  if (req.type === 'LMT' && !Number.isFinite(req.limit))
    return { field: 'limit', rule: 'must be the net price per combo (negative: a credit) for a LMT combo' };
  if (req.bracket || req.ocaGroup || req.stop !== undefined || req.trailingPercent !== undefined || req.trailingAmount !== undefined)
    return { field: 'legs', rule: 'a combo takes no bracket, OCA group, stop or trail' };
  if (sidOf(req.symbol) < 0) return { field: 'symbol', rule: `'${req.symbol}' (the legs' underlying) is not in this run` };
  if (legs.length < 2) return { field: 'legs', rule: `a combo needs at least 2 legs, got ${legs.length}` };
  const seen = new Set<string>();
  let mult = Number.NaN;
  let ccy = '';
  for (let k = 0; k < legs.length; k++) {
    const leg = legs[k]!;
    const where = `legs[${k}]`;
    const sid = sidOf(leg.symbol);
    if (sid < 0) return { field: `${where}.symbol`, rule: `'${leg.symbol}' is not in this run` };
    if (seen.has(leg.symbol)) return { field: `${where}.symbol`, rule: `'${leg.symbol}' is in the combo twice` };
    seen.add(leg.symbol);
    if (leg.side !== 'BUY' && leg.side !== 'SELL') return { field: `${where}.side`, rule: `must be BUY or SELL, got ${leg.side}` };
    if (!(Number.isSafeInteger(leg.ratio) && leg.ratio >= 1)) return { field: `${where}.ratio`, rule: `must be a whole number >= 1, got ${leg.ratio}` };
    const c = contracts?.[sid];
    const under = c?.underlying ?? leg.symbol;
    if (under !== req.symbol) return { field: `${where}.symbol`, rule: `'${leg.symbol}' is on ${under}, not on the combo's underlying ${req.symbol}` };
    const m = c?.multiplier ?? 1;
    const cur = c?.currency ?? 'USD';
    if (k > 0 && (m !== mult || cur !== ccy))
      return {
        field: `${where}.symbol`,
        rule: `'${leg.symbol}' is ${m} x ${cur} a unit, the first leg ${mult} x ${ccy}: a combo's legs share one multiplier and currency`,
      };
    mult = m;
    ccy = cur;
  }
  return null;
}

/** The engine's legs of a checked combo request. */
export function orderLegs(req: OrderRequest, sidOf: (symbol: string) => number): OrderLeg[] {
  return (req.legs ?? []).map((l) => ({ symbol: l.symbol, sid: sidOf(l.symbol), side: l.side, ratio: l.ratio, filledQty: 0, avgFillPrice: 0 }));
}
