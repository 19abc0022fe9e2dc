import type { Broker, BrokerListener } from '../core/ports.ts';
import type { EpochMs, Fill, Order } from '../core/types.ts';
import { ComboQuotes, legSide } from './combo-fill.ts';
import { applySlippage, type CommissionModel, type SlippageSpec } from './costs.ts';
import { fillPrice, initialTrail, isStopType, updateTrail, type OHLC } from './fill-model.ts';
import { quoteFillPrice, quoteSize, updateQuoteTrail, type QuoteSides } from './quote-fill.ts';

export interface SimBrokerOptions {
  commission: CommissionModel;
  slippage: SlippageSpec;
  /** fill at most this fraction of a bar's volume; the rest stays working. 0 or undefined: no cap */
  volumeCap?: number;
  /** when a bracket's stop-loss and take-profit are both reachable in one bar: 'stop' (worst case, default) or 'target' */
  bracketTie?: 'stop' | 'target';
  /** bar length in ms: with daily or longer bars a DAY order lives for one bar */
  intervalMs: number;
}

/** The bar SimBroker matches against, with where it sits in its session. */
export interface SimBar extends OHLC {
  sid: number;
  ts: EpochMs;
  volume: number;
  /** trading day number (days since the epoch, exchange-local) */
  day: number;
  sessionOpen: boolean;
  sessionClose: boolean;
  /** the bar ends at or before the regular session's close */
  beforeClose: boolean;
  /** month number, for tiered commissions */
  month: number;
  /**
   * A quoted symbol's bid and ask sides (FX, options): orders fill against them (quote-fill.ts), with no
   * slippage and the volume cap on the side's size. Absent or null: the trade-price fill model on the OHLC.
   */
  quote?: QuoteSides | null;
}

const NONE: readonly Order[] = [];

/** The simulated broker: fills working orders against bars with the fill model of DESIGN section 3 (quoted symbols: against their bid or ask, quote-fill.ts). */
export class SimBroker implements Broker {
  private listener!: BrokerListener;
  private working: Order[][] = [];
  private lastClose: number[] = [];
  /** quoted symbols' last closing bid and ask: a trailing stop starts from its side's */
  private lastBid: number[] = [];
  private lastAsk: number[] = [];
  private execSeq = 0;
  /** working combo orders' legs as last seen (combo-fill.ts); created with the first combo */
  private combos: ComboQuotes | null = null;
  /** it fills combo orders (engine/exec/combo-fill.ts): the engine sends them only to a broker that says so */
  readonly supportsCombos = true;

  constructor(private readonly opts: SimBrokerOptions) {}

  setListener(listener: BrokerListener): void {
    this.listener = listener;
  }

  /** Marks used to start trailing stops; the engine keeps them current. */
  setLastClose(sid: number, close: number): void {
    this.lastClose[sid] = close;
  }

  /** A quoted symbol's last closing bid and ask (the replay keeps them current). */
  setLastQuote(sid: number, bid: number, ask: number): void {
    this.lastBid[sid] = bid;
    this.lastAsk[sid] = ask;
  }

  place(order: Order): void {
    if (order.type === 'TRAIL') order.stop = initialTrail(order, this.trailStart(order));
    if (order.legs !== undefined) {
      // a combo works in each leg's list: every leg's bar reaches the broker, its last leg's bar matches it
      (this.combos ??= new ComboQuotes(this.opts.volumeCap ?? 0, this.opts.slippage)).add(order);
      for (const leg of order.legs) (this.working[leg.sid] ??= []).push(order);
    } else (this.working[order.sid] ??= []).push(order);
    this.listener.onStatus(order, 'SUBMITTED', '');
  }

  /** The last close, or for a quoted symbol the last closing quote of the side the stop would trade (a sell: the bid). */
  private trailStart(order: Order): number {
    const q = order.side === 'SELL' ? this.lastBid[order.sid] : this.lastAsk[order.sid];
    return q === undefined || Number.isNaN(q) ? this.lastClose[order.sid] : q;
  }

  cancel(order: Order, reason: string): void {
    if (!this.remove(order)) return;
    this.listener.onStatus(order, 'PENDING_CANCEL', reason);
    this.listener.onStatus(order, 'CANCELLED', reason);
  }

  modify(order: Order, changes: { qty?: number; limit?: number; stop?: number }): void {
    if (changes.qty !== undefined) order.qty = { kind: 'shares', shares: changes.qty };
    if (changes.limit !== undefined) order.limit = changes.limit;
    if (changes.stop !== undefined) order.stop = changes.stop;
  }

  workingOrders(sid: number): readonly Order[] {
    return this.working[sid] ?? NONE;
  }

  /**
   * Matches the working orders of one symbol against its bar. With `mayMatch`, the orders it refuses sit
   * this bar out entirely (no fill, no expiry, no trail update): the simulator's orders without outsideRth
   * on a bar outside regular hours.
   */
  onBar(bar: SimBar, mayMatch?: (o: Order) => boolean): void {
    const list = this.working[bar.sid];
    if (!list || list.length === 0) return;
    if (list.length === 1) {
      this.step(list[0], list, bar, mayMatch); // one order: no snapshot of the list to make
      return;
    }
    for (const o of this.matchOrder(list)) this.step(o, list, bar, mayMatch);
  }

  /** One working order of `list` (its symbol's) on the bar. */
  private step(o: Order, list: Order[], bar: SimBar, mayMatch?: (o: Order) => boolean): void {
    if (!list.includes(o)) return; // cancelled by an OCA sibling earlier in this bar
    if (bar.ts < o.eligibleFrom) return; // not visible to the broker yet
    if (o.legs !== undefined && !this.combos!.record(o, bar)) return; // a combo acts on its last leg's bar
    if (mayMatch && !mayMatch(o)) return;
    // MOO/MOC submitted after their auction wait for the next session's: their day starts there
    const auctionAhead = (o.type === 'MOO' && bar.sessionOpen) || (o.type === 'MOC' && bar.beforeClose) || (o.type !== 'MOO' && o.type !== 'MOC');
    if (Number.isNaN(o.firstBarDay) && auctionAhead) o.firstBarDay = bar.day;
    if (o.tif === 'DAY' && !Number.isNaN(o.firstBarDay) && bar.day !== o.firstBarDay) {
      this.finish(o, 'EXPIRED', 'DAY order not filled in its session');
      return;
    }
    if (o.tif === 'GTD' && bar.ts > o.goodTill) {
      this.finish(o, 'EXPIRED', 'GTD time passed');
      return;
    }
    if (o.legs !== undefined) this.matchCombo(o, bar);
    else this.match(o, bar);
    if (!list.includes(o)) return;
    if (o.tif === 'IOC' || o.tif === 'FOK') this.finish(o, 'CANCELLED', `${o.tif}: not filled on its first bar`);
    else if (o.tif === 'DAY' && this.opts.intervalMs >= 86_400_000 && !Number.isNaN(o.firstBarDay))
      this.finish(o, 'EXPIRED', 'DAY order not filled in its session');
    else if (o.tif === 'GTD' && o.goodTill < bar.ts + this.opts.intervalMs) this.finish(o, 'EXPIRED', 'GTD time reached');
    else if (o.type === 'TRAIL') {
      if (bar.quote) updateQuoteTrail(o, bar.quote);
      else updateTrail(o, bar);
    }
  }

  /** Matching order within a bar: competing legs of one OCA group resolve by the tie rule; otherwise by id. */
  private matchOrder(list: Order[]): Order[] {
    const stopFirst = (this.opts.bracketTie ?? 'stop') === 'stop';
    const rank = (o: Order) => (o.ocaGroup === '' ? 1 : isStopType(o) === stopFirst ? 0 : 2);
    return list.slice().sort((a, b) => rank(a) - rank(b) || a.id - b.id);
  }

  private match(o: Order, bar: SimBar): void {
    const quote = bar.quote;
    const raw = quote ? quoteFillPrice(o, quote, bar.sessionOpen, bar.sessionClose) : fillPrice(o, bar, bar.sessionOpen, bar.sessionClose);
    if (Number.isNaN(raw)) return;
    const buy = o.side === 'BUY';
    // against quotes the spread is the cost: no slippage on top
    const slips = !quote && (o.type === 'MKT' || o.type === 'MOO' || o.type === 'MOC' || o.type === 'STP' || o.type === 'TRAIL');
    const price = slips ? applySlippage(this.opts.slippage, raw, buy, bar.high, bar.low) : raw;
    if (o.qty.kind === 'all-in') {
      const shares = this.listener.resolveAllIn(o, price);
      if (!(shares > 0)) {
        this.finish(o, 'CANCELLED', `all-in: the cash covers no whole share at ${price}`);
        return;
      }
      if (!Number.isSafeInteger(shares)) {
        this.finish(o, 'CANCELLED', `all-in: the cash buys more than 2^53 - 1 shares at ${price}, more than a double counts exactly`);
        return;
      }
      o.qty = { kind: 'shares', shares };
    }
    let qty = o.qty.shares - o.filledQty;
    const cap = this.opts.volumeCap ?? 0;
    if (cap > 0) {
      // a quoted symbol's cap is on the size at the touch of the side it takes (none known: no room)
      const room = Math.floor(cap * (quote ? quoteSize(buy, quote) : bar.volume));
      if (o.tif === 'FOK' && room < qty) return;
      qty = Math.min(qty, room);
    }
    if (qty <= 0) return;
    const commission = this.opts.commission.commission(qty, price, o.sid);
    this.opts.commission.record(qty, bar.month, o.sid);
    const signed = buy ? qty : -qty;
    o.avgFillPrice = (o.avgFillPrice * o.filledQty + price * qty) / (o.filledQty + qty);
    o.filledQty += qty;
    o.commission += commission;
    const fill: Fill = {
      orderId: o.id,
      strategy: o.strategy,
      symbol: o.symbol,
      sid: o.sid,
      ts: bar.ts,
      qty: signed,
      price,
      commission,
      execId: `sim.${++this.execSeq}`,
    };
    const done = o.filledQty >= o.qty.shares;
    if (done) this.remove(o);
    this.listener.onFill(o, fill);
    this.listener.onStatus(o, done ? 'FILLED' : 'PARTIALLY_FILLED', '');
    if (o.ocaGroup !== '') this.settleOca(o, qty, done);
    if (done && o.pendingChildren.length > 0) this.listener.onParentFilled(o);
  }

  /**
   * A combo on its last leg's bar: every leg fills at its side's open, ratio x the combos, or none does
   * (combo-fill.ts). One fill per leg, booked in the leg's symbol, execIds 'combo.N.legK'.
   */
  private matchCombo(o: Order, bar: SimBar): void {
    const at = this.combos!.fillable(o, bar.ts);
    if (at === null || o.qty.kind !== 'shares') return;
    const legs = o.legs!;
    let qty = o.qty.shares - o.filledQty;
    if (at.room < qty) {
      if (o.tif === 'FOK') return;
      qty = at.room;
    }
    if (qty <= 0) return;
    const seq = ++this.execSeq;
    const fills: Fill[] = [];
    let commission = 0;
    for (let k = 0; k < legs.length; k++) {
      const leg = legs[k]!;
      const units = qty * leg.ratio;
      const price = at.prices[k]!;
      const c = this.opts.commission.commission(units, price, leg.sid);
      this.opts.commission.record(units, bar.month, leg.sid);
      commission += c;
      const signed = legSide(o, leg) === 'BUY' ? units : -units;
      const before = Math.abs(leg.filledQty);
      leg.avgFillPrice = (leg.avgFillPrice * before + price * units) / (before + units);
      leg.filledQty += signed;
      fills.push({
        orderId: o.id,
        strategy: o.strategy,
        symbol: leg.symbol,
        sid: leg.sid,
        ts: bar.ts,
        qty: signed,
        price,
        commission: c,
        execId: `combo.${seq}.leg${k + 1}`,
      });
    }
    o.avgFillPrice = (o.avgFillPrice * o.filledQty + at.net * qty) / (o.filledQty + qty);
    o.filledQty += qty;
    o.commission += commission;
    const done = o.filledQty >= o.qty.shares;
    if (done) this.remove(o);
    for (const f of fills) this.listener.onFill(o, f);
    this.listener.onStatus(o, done ? 'FILLED' : 'PARTIALLY_FILLED', '');
  }

  /** An OCA fill cancels the group's other orders, or reduces them by the partial fill. */
  private settleOca(filled: Order, qty: number, done: boolean): void {
    for (const other of (this.working[filled.sid] ?? []).slice()) {
      if (other === filled || other.ocaGroup !== filled.ocaGroup) continue;
      if (done || other.qty.kind !== 'shares' || other.qty.shares - qty <= other.filledQty) {
        this.finish(other, 'CANCELLED', `OCA group ${filled.ocaGroup}: order ${filled.id} filled`);
      } else {
        other.qty = { kind: 'shares', shares: other.qty.shares - qty };
      }
    }
  }

  private finish(o: Order, to: 'CANCELLED' | 'EXPIRED', reason: string): void {
    this.remove(o);
    this.listener.onStatus(o, to, reason);
  }

  private remove(o: Order): boolean {
    if (o.legs !== undefined) return this.removeCombo(o);
    const list = this.working[o.sid];
    const i = list ? list.indexOf(o) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  private removeCombo(o: Order): boolean {
    let found = false;
    for (const leg of o.legs!) {
      const list = this.working[leg.sid];
      const i = list ? list.indexOf(o) : -1;
      if (i >= 0) {
        list!.splice(i, 1);
        found = true;
      }
    }
    this.combos?.delete(o);
    return found;
  }
}
