// Booking a combo's fills leg by leg: IB's executions (one per leg, the leg's contract under the combo's orderId,
// possibly in parts, legs interleaved) and a restarted session's journaled fills (engine/journal/session-store.ts)
// both come this way. Each books on its leg as the backtest's SimBroker books it (signed units, the average
// price); the combo's own filled count is its complete combos (the fewest, over the legs, of units filled /
// ratio), and its average price the net per combo (combo-fill.ts comboNet: debit positive, credit negative) of the
// legs' latest prices, weighted by the combos each completion adds, as SimBroker's one-bar fills give it.
import type { Fill, Order } from '../core/types.ts';
import { comboNet } from './combo-fill.ts';

export class ComboFills {
  /** each working combo's legs' latest fill prices */
  private readonly last = new WeakMap<Order, Float64Array>();

  /**
   * Books `units` (signed: negative sold) of leg `k` of combo `order` at `price`; returns the combos this
   * execution completed (0: the combo waits for its other legs).
   */
  book(order: Order, k: number, units: number, price: number): number {
    const legs = order.legs!;
    const leg = legs[k]!;
    let last = this.last.get(order);
    if (last === undefined) {
      // a combo this book has not seen (taken back from the journal by a restart): a leg's latest price is taken
      // as its average, exact for a leg filled in one go (SimBroker fills every leg of a combo on one bar)
      last = Float64Array.from(legs, (l) => (l.filledQty !== 0 ? l.avgFillPrice : Number.NaN));
      this.last.set(order, last);
    }
    last[k] = price;
    const n = Math.abs(units);
    const before = Math.abs(leg.filledQty);
    leg.avgFillPrice = (leg.avgFillPrice * before + price * n) / (before + n);
    leg.filledQty += units;
    let complete = Infinity;
    for (const l of legs) complete = Math.min(complete, Math.floor(Math.abs(l.filledQty) / l.ratio));
    const added = complete - order.filledQty;
    if (!(added > 0)) return 0;
    const net = comboNet(legs, last);
    order.avgFillPrice = (order.avgFillPrice * order.filledQty + net * added) / (order.filledQty + added);
    order.filledQty = complete;
    return added;
  }

  /** The index of the leg of `order` in `symbol` (-1: none). */
  static legOf(order: Order, symbol: string): number {
    return order.legs?.findIndex((l) => l.symbol === symbol) ?? -1;
  }
}

/**
 * Combo `order`'s filled combos, average net price and legs from its fills alone (`fills`: the order's, in the
 * order they happened): every leg and the combo start at nothing filled and each fill books onto the leg in its
 * symbol. Returns the order with new legs (the given one is not changed). A fill in a symbol none of the legs has
 * is refused, naming the order, the fill and the legs.
 */
export function comboFromFills(order: Order, fills: readonly Fill[]): Order {
  const o: Order = { ...order, filledQty: 0, avgFillPrice: 0, legs: order.legs!.map((l) => ({ ...l, filledQty: 0, avgFillPrice: 0 })) };
  const book = new ComboFills();
  for (const f of fills) {
    const k = ComboFills.legOf(o, f.symbol);
    if (k < 0)
      throw new Error(
        `combo order ${o.id} (${o.symbol}) has a fill ${f.execId} in ${f.symbol}, which is none of its legs (${o.legs!.map((l) => l.symbol).join(', ')}): a combo's fills are its legs'; the journal's fills of this order do not match its spec`,
      );
    book.book(o, k, f.qty, f.price);
  }
  return o;
}
