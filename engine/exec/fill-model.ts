import type { Order } from '../core/types.ts';

/** The part of a bar the fill rules read. */
export interface OHLC {
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * The price at which `order` fills on this bar under DESIGN section 3, or NaN if it does not.
 * Side effect: a stop-limit whose stop is reached is marked `triggered` (it then works as a limit).
 * `sessionOpen`/`sessionClose` tell whether this bar opens or closes its session (for MOO/MOC).
 */
export function fillPrice(order: Order, bar: OHLC, sessionOpen: boolean, sessionClose: boolean): number {
  const buy = order.side === 'BUY';
  const { open, high, low } = bar;
  switch (order.type) {
    case 'MKT':
      return open;
    case 'MOO':
      return sessionOpen ? open : NaN;
    case 'MOC':
      return sessionClose ? bar.close : NaN;
    case 'LMT':
      return limitPrice(buy, order.limit, bar);
    case 'STP':
    case 'TRAIL':
      if (buy) return high >= order.stop ? Math.max(open, order.stop) : NaN;
      return low <= order.stop ? Math.min(open, order.stop) : NaN;
    case 'STP LMT': {
      if (order.triggered) return limitPrice(buy, order.limit, bar);
      const gapped = buy ? open >= order.stop : open <= order.stop;
      if (gapped) {
        order.triggered = true;
        return (buy ? open <= order.limit : open >= order.limit) ? open : NaN;
      }
      const touched = buy ? high >= order.stop : low <= order.stop;
      if (!touched) return NaN;
      order.triggered = true;
      return (buy ? order.stop <= order.limit : order.stop >= order.limit) ? order.stop : NaN;
    }
  }
}

function limitPrice(buy: boolean, limit: number, bar: OHLC): number {
  if (buy) return bar.low <= limit ? Math.min(bar.open, limit) : NaN;
  return bar.high >= limit ? Math.max(bar.open, limit) : NaN;
}

/** Stop orders are the worst case when they compete with a take-profit in one bar. */
export const isStopType = (o: Order): boolean => o.type === 'STP' || o.type === 'TRAIL' || o.type === 'STP LMT';

/** Initial trailing stop, from the last close when the order is submitted. */
export function initialTrail(order: Order, lastClose: number): number {
  return trailFrom(order, lastClose);
}

/** Moves a trailing stop at a bar's close, only in the trader's favour, following the bar's extreme. */
export function updateTrail(order: Order, bar: OHLC): void {
  if (order.side === 'SELL') order.stop = Math.max(order.stop, trailFrom(order, bar.high));
  else order.stop = Math.min(order.stop, trailFrom(order, bar.low));
}

function trailFrom(order: Order, ref: number): number {
  const sell = order.side === 'SELL';
  // ref - ref*pct/100 rather than ref*(1 - pct/100): 105 trailed 2% is then exactly 102.9
  const gap = order.trailingPercent > 0 ? (ref * order.trailingPercent) / 100 : order.trailingAmount;
  return sell ? ref - gap : ref + gap;
}
