// Fills against bid/ask quote bars (FX, options): an order takes the side of the book it trades against, a buy
// the ask and a sell the bid, and DESIGN section 3's trade-price rules (fill-model.ts) apply unchanged to that
// side's OHLC: a market buy fills at the ask open, a limit buy when the ask low reaches the limit at
// min(limit, ask open), a stop sell triggers on the bid low, MOO/MOC take the side's open/close, a trailing
// stop follows the side's series. The spread is the cost: no slippage model on top.
// A side with no quote in a bar (NaN prices) cannot fill that bar: the order stays working (an IOC/FOK order,
// whose life is its first bar, is then cancelled as if it found no price).
import type { Order } from '../core/types.ts';
import { fillPrice, updateTrail, type OHLC } from './fill-model.ts';

/** One bar's two quote sides: OHLC of the bid and the ask, and each side's last size at the touch. */
export interface QuoteSides {
  bidOpen: number;
  bidHigh: number;
  bidLow: number;
  bidClose: number;
  /** units (FX) or contracts at the best bid; 0 or NaN: none known */
  bidSize: number;
  askOpen: number;
  askHigh: number;
  askLow: number;
  askClose: number;
  askSize: number;
}

/** An empty quote, to be filled in place (the replay reuses one per run). */
export function emptyQuote(): QuoteSides {
  return { bidOpen: NaN, bidHigh: NaN, bidLow: NaN, bidClose: NaN, bidSize: 0, askOpen: NaN, askHigh: NaN, askLow: NaN, askClose: NaN, askSize: 0 };
}

// the side an order is matched against, rewritten per call (no allocation per bar)
const scratch: OHLC = { open: NaN, high: NaN, low: NaN, close: NaN };

/**
 * Writes the side a `buy` (the ask) or a sell (the bid) trades against into `out`; false when that side has no
 * complete quote in the bar (any of its prices NaN).
 */
export function sideOf(buy: boolean, q: QuoteSides, out: OHLC): boolean {
  if (buy) {
    out.open = q.askOpen;
    out.high = q.askHigh;
    out.low = q.askLow;
    out.close = q.askClose;
  } else {
    out.open = q.bidOpen;
    out.high = q.bidHigh;
    out.low = q.bidLow;
    out.close = q.bidClose;
  }
  return !(Number.isNaN(out.open) || Number.isNaN(out.high) || Number.isNaN(out.low) || Number.isNaN(out.close));
}

/**
 * The price at which `order` fills on a quote bar, or NaN if it does not (no quote on its side, or the
 * trade-price rule on that side says no). Same side effect as fillPrice: a stop-limit reached is marked triggered.
 */
export function quoteFillPrice(order: Order, q: QuoteSides, sessionOpen: boolean, sessionClose: boolean): number {
  if (!sideOf(order.side === 'BUY', q, scratch)) return NaN;
  return fillPrice(order, scratch, sessionOpen, sessionClose);
}

/**
 * The size the volume cap applies to: the order's side's size at the touch when > 0, else 0 (with a cap, no
 * fill: a quote of unknown size gives no room, which is also why a volume cap does not suit FX, whose data has
 * no sizes).
 */
export function quoteSize(buy: boolean, q: QuoteSides): number {
  const size = buy ? q.askSize : q.bidSize;
  if (!(size > 0)) return 0; // NaN too
  return size;
}

/** Moves a trailing stop at a quote bar's close along its side's series (a sell trails the bid's high); unmoved without a quote. */
export function updateQuoteTrail(order: Order, q: QuoteSides): void {
  if (sideOf(order.side === 'BUY', q, scratch)) updateTrail(order, scratch);
}
