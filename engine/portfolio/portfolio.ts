import type { EpochMs, Fill, Trade } from '../core/types.ts';
import type { FxMarks } from './fx-marks.ts';

/** The average of `avg` over `n` units and `price` over `q` more; exactly `price` when n is 0. */
function runningAverage(avg: number, n: number, price: number, q: number): number {
  return n === 0 ? price : avg + ((price - avg) * q) / (n + q);
}

/** A round trip in progress: from flat to flat on one symbol in one book. */
interface OpenTrip {
  side: 'LONG' | 'SHORT';
  entryTime: EpochMs;
  entryQty: number;
  /** quantity-weighted average prices, kept incrementally so a single fill's price stays exact */
  entryPrice: number;
  exitQty: number;
  exitPrice: number;
  commission: number;
  realized: number;
}

/**
 * Per symbol: the contract multiplier, 1 where the contract is margined (futures) else 0, and the index of its
 * currency in `fx` (-1: the account's base currency); `fx`: the rates in force into the base currency, per
 * currency index (see FxMarks), which the run updates as its clock advances.
 */
export interface UnitTerms {
  mult: Float64Array;
  margined: Uint8Array;
  ccy: Int8Array;
  fx: Float64Array;
  /** the name of each currency index of `fx` */
  currencies: readonly string[];
}

/** Every symbol a stock in the base currency: multiplier 1, paid in full. */
export function stockTerms(n: number): UnitTerms {
  return { mult: new Float64Array(n).fill(1), margined: new Uint8Array(n), ccy: new Int8Array(n).fill(-1), fx: new Float64Array(0), currencies: [] };
}

/**
 * The unit terms of a run's symbols from their contract terms (undefined: a US stock, in USD), in an account
 * whose base currency is `base`, with `fx` for every other currency they are in.
 */
export function unitTerms(
  contracts: readonly ({ secType: string; multiplier: number; currency: string } | undefined)[],
  base = 'USD',
  fx?: FxMarks,
): UnitTerms {
  const ccy = Int8Array.from(contracts, (c) => {
    const currency = c?.currency ?? 'USD';
    if (currency === base) return -1;
    if (!fx) throw new Error(`a symbol is in ${currency} and the account in ${base}: the run needs ${currency}/${base} rates`);
    return fx.indexOf(currency);
  });
  return {
    mult: Float64Array.from(contracts, (c) => c?.multiplier ?? 1),
    margined: Uint8Array.from(contracts, (c) => (c?.secType === 'FUT' ? 1 : 0)),
    ccy,
    fx: fx?.rate ?? new Float64Array(0),
    currencies: fx?.currencies ?? [],
  };
}

/**
 * One strategy's sleeve of the account: its own cash, positions and P&L. Per-strategy attribution
 * is the books' figures; the account is their sum. Positions are indexed by the run's symbol index.
 */
export class Book {
  cash: number;
  readonly qty: Float64Array;
  readonly avgCost: Float64Array;
  realized = 0;
  commission = 0;
  /** dividends received (paid, for shorts) on ex-dates: part of `realized` and of `cash` */
  dividends = 0;
  /** cash in each currency other than the base (index as `terms.fx`); `cash` is the base currency's */
  readonly foreign: Float64Array;
  private trips: (OpenTrip | null)[];

  /**
   * `terms`: each symbol's contract multiplier (money per unit of price per unit held: every amount a position
   * makes is qty x price x mult, 1 for stocks) and whether it is margined (futures: a trade pays no price, only
   * its commission; the position is worth its open P&L, which the cash receives as the position closes)
   */
  constructor(
    readonly name: string,
    readonly startingCash: number,
    nSymbols: number,
    readonly terms: UnitTerms = stockTerms(nSymbols),
  ) {
    this.cash = startingCash;
    this.qty = new Float64Array(nSymbols);
    this.avgCost = new Float64Array(nSymbols);
    this.foreign = new Float64Array(terms.fx.length);
    this.trips = new Array(nSymbols).fill(null);
  }

  /** All the book's cash in the base currency, at the rates in force. */
  cashInBase(): number {
    let c = this.cash;
    // a currency not held yet may have no rate yet (NaN)
    for (let i = 0; i < this.foreign.length; i++) if (this.foreign[i] !== 0) c += this.foreign[i]! * this.terms.fx[i]!;
    return c;
  }

  /** the positions' worth in the base currency: their market value (a future's: its open P&L) */
  marketValue(marks: Float64Array): number {
    let mv = 0;
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) mv += this.valueOf(s, marks[s]);
    return mv;
  }

  /** the notional of every position, long or short, in the base currency: |qty x mark x mult| */
  grossExposure(marks: Float64Array): number {
    let g = 0;
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) g += this.notionalOf(s, marks[s]);
    return g;
  }

  private valueOf(s: number, mark: number): number {
    const { mult, margined, ccy } = this.terms;
    const v = margined[s] === 1 ? this.qty[s] * (mark - this.avgCost[s]) * mult[s] : this.qty[s] * mark * mult[s];
    return ccy[s] < 0 ? v : v * this.terms.fx[ccy[s]]!;
  }

  private notionalOf(s: number, mark: number): number {
    const { mult, ccy } = this.terms;
    const g = Math.abs(this.qty[s] * mark * mult[s]);
    return ccy[s] < 0 ? g : g * this.terms.fx[ccy[s]]!;
  }

  equity(marks: Float64Array): number {
    return this.cashInBase() + this.marketValue(marks);
  }

  /**
   * equity(marks) into out[at] and grossExposure(marks) into out[at + 1], in one pass over the positions (the
   * same sums in the same order): the engine samples both after every group of bars.
   */
  equityAndGross(marks: Float64Array, out: Float64Array, at: number): void {
    let mv = 0;
    let g = 0;
    for (let s = 0; s < this.qty.length; s++) {
      if (this.qty[s] === 0) continue;
      mv += this.valueOf(s, marks[s]);
      g += this.notionalOf(s, marks[s]);
    }
    out[at] = (this.foreign.length === 0 ? this.cash : this.cashInBase()) + mv;
    out[at + 1] = g;
  }

  /** open P&L in the base currency (a foreign position's in its own currency, at the rate in force) */
  unrealized(marks: Float64Array): number {
    const { mult, ccy, fx } = this.terms;
    let u = 0;
    for (let s = 0; s < this.qty.length; s++) {
      if (this.qty[s] === 0) continue;
      const v = this.qty[s] * (marks[s] - this.avgCost[s]) * mult[s];
      u += ccy[s] < 0 ? v : v * fx[ccy[s]]!;
    }
    return u;
  }

  /** Books a fill; returns the round trips it closes (two when a fill reverses the position: none close twice). */
  apply(fill: Fill, out: Trade[]): void {
    const s = fill.sid;
    const c = this.terms.ccy[s];
    if (c >= 0) {
      // in its own currency; the book's commission and P&L figures are the base currency's, at this fill's rate
      if (this.terms.margined[s] === 1) this.foreign[c] -= fill.commission;
      else this.foreign[c] -= fill.qty * fill.price * this.terms.mult[s] + fill.commission;
    } else if (this.terms.margined[s] === 1) this.cash -= fill.commission;
    else this.cash -= fill.qty * fill.price * this.terms.mult[s] + fill.commission;
    this.commission += c < 0 ? fill.commission : fill.commission * this.terms.fx[c]!;
    let remaining = fill.qty;
    let commissionLeft = fill.commission;
    while (remaining !== 0) {
      const pos = this.qty[s];
      const closing = pos !== 0 && Math.sign(pos) !== Math.sign(remaining);
      const part = closing ? Math.sign(remaining) * Math.min(Math.abs(remaining), Math.abs(pos)) : remaining;
      const partCommission = remaining === part ? commissionLeft : (commissionLeft * part) / remaining;
      commissionLeft -= partCommission;
      remaining -= part;
      if (closing) this.reduce(s, part, fill, partCommission, out);
      else this.increase(s, part, fill, partCommission);
    }
  }

  private increase(s: number, q: number, fill: Fill, commission: number): void {
    const pos = this.qty[s];
    const c = this.terms.ccy[s];
    if (c >= 0) commission *= this.terms.fx[c]!;
    this.avgCost[s] = runningAverage(this.avgCost[s], Math.abs(pos), fill.price, Math.abs(q));
    this.qty[s] = pos + q;
    let trip = this.trips[s];
    if (!trip) {
      trip = { side: q > 0 ? 'LONG' : 'SHORT', entryTime: fill.ts, entryQty: 0, entryPrice: 0, exitQty: 0, exitPrice: 0, commission: 0, realized: 0 };
      this.trips[s] = trip;
    }
    trip.entryPrice = runningAverage(trip.entryPrice, trip.entryQty, fill.price, Math.abs(q));
    trip.entryQty += Math.abs(q);
    trip.commission += commission;
  }

  private reduce(s: number, q: number, fill: Fill, commission: number, out: Trade[]): void {
    const c = this.terms.ccy[s];
    let pnl = -q * (fill.price - this.avgCost[s]) * this.terms.mult[s];
    if (c >= 0) {
      // the P&L is made in the symbol's currency (a future's is settled in it); in the base it is worth it at
      // this fill's rate: what the round trip added to the account then (the currency's later moves show in
      // the equity, on the cash left in it)
      if (this.terms.margined[s] === 1) this.foreign[c] += pnl;
      const rate = this.terms.fx[c]!;
      pnl *= rate;
      commission *= rate;
    } else if (this.terms.margined[s] === 1) this.cash += pnl;
    this.realized += pnl;
    this.qty[s] += q;
    const trip = this.trips[s]!;
    trip.exitPrice = runningAverage(trip.exitPrice, trip.exitQty, fill.price, Math.abs(q));
    trip.exitQty += Math.abs(q);
    trip.commission += commission;
    trip.realized += pnl;
    if (this.qty[s] === 0) this.closeTrip(s, fill.ts, fill.symbol, out);
  }

  /**
   * A split of symbol `s` (`ratio` new shares per old share, e.g. 7; 0.1 for 1-for-10): the position is
   * multiplied by the ratio and the average cost divided by it, so its cost and value are unchanged. The
   * fraction of a share the ratio leaves (a long 3 shares in a 3-for-2 split: 4.5) is paid as cash in lieu at
   * `prevClose / ratio` (the last close before the ex-date, per new share), booked as a sale of it: realized
   * P&L against the average cost, part of the open round trip. An open round trip's quantities and prices
   * go on the new basis too. Returns the cash in lieu (signed: a short pays it).
   */
  applySplit(s: number, ratio: number, prevClose: number, ts: EpochMs, symbol: string, out: Trade[]): number {
    const pos = this.qty[s];
    if (pos === 0) return 0;
    const exact = pos * ratio;
    // a whole product stays exact; otherwise round toward zero (1e-9: 0.1 * 30 is 3.0000000000000004)
    const near = Math.round(exact);
    const whole = Math.abs(exact - near) < 1e-9 ? near : Math.trunc(exact);
    const fraction = exact - whole;
    const avg = this.avgCost[s] / ratio;
    this.qty[s] = whole;
    this.avgCost[s] = avg;
    const trip = this.trips[s];
    if (trip) {
      trip.entryQty *= ratio;
      trip.entryPrice /= ratio;
      trip.exitQty *= ratio;
      trip.exitPrice /= ratio;
    }
    if (fraction === 0) return 0;
    const price = prevClose / ratio;
    const cash = fraction * price;
    const pnl = fraction * (price - avg);
    this.cash += cash;
    this.realized += pnl;
    if (trip) {
      trip.exitPrice = runningAverage(trip.exitPrice, trip.exitQty, price, Math.abs(fraction));
      trip.exitQty += Math.abs(fraction);
      trip.realized += pnl;
    }
    if (whole === 0) this.closeTrip(s, ts, symbol, out);
    return cash;
  }

  /**
   * A cash dividend of `amount` per share of symbol `s`, on its ex-date: a long is paid position x amount, a
   * short pays it. Booked as realized P&L of the open round trip (an adjusted series has it in the price).
   * Returns the cash (signed).
   */
  applyDividend(s: number, amount: number): number {
    const pos = this.qty[s];
    if (pos === 0) return 0;
    const cash = pos * amount;
    this.cash += cash;
    this.realized += cash;
    this.dividends += cash;
    const trip = this.trips[s];
    if (trip) trip.realized += cash;
    return cash;
  }

  private closeTrip(s: number, ts: EpochMs, symbol: string, out: Trade[]): void {
    const trip = this.trips[s];
    this.avgCost[s] = 0;
    this.trips[s] = null;
    if (!trip) return;
    out.push({
      symbol,
      side: trip.side,
      entryTime: trip.entryTime,
      exitTime: ts,
      entryPrice: trip.entryPrice,
      exitPrice: trip.exitPrice,
      quantity: trip.entryQty,
      pnl: trip.realized - trip.commission,
      commission: trip.commission,
      strategy: this.name,
    });
  }

  /** Entry time of the round trip open on symbol `s`, or NaN. */
  openSince(s: number): EpochMs {
    return this.trips[s]?.entryTime ?? NaN;
  }
}

/** The account: one book per strategy and the last mark (close) of every symbol. */
export class Portfolio {
  readonly marks: Float64Array;
  readonly books: Book[];

  /** each symbol's contract multiplier (see Book) */
  readonly mult: Float64Array;
  readonly terms: UnitTerms;

  constructor(
    readonly symbols: readonly string[],
    sleeves: { name: string; cash: number }[],
    terms?: UnitTerms,
  ) {
    this.marks = new Float64Array(symbols.length).fill(NaN);
    this.terms = terms ?? stockTerms(symbols.length);
    this.mult = this.terms.mult;
    this.books = sleeves.map((b) => new Book(b.name, b.cash, symbols.length, this.terms));
  }

  /** all cash in the base currency */
  get cash(): number {
    let c = 0;
    for (const b of this.books) c += b.foreign.length === 0 ? b.cash : b.cashInBase();
    return c;
  }

  /** cash + market value of every position at its last mark */
  equity(): number {
    let e = 0;
    for (const b of this.books) e += b.equity(this.marks);
    return e;
  }

  grossExposure(): number {
    let g = 0;
    for (const b of this.books) g += b.grossExposure(this.marks);
    return g;
  }

  /**
   * A split of symbol `s` in every book (see Book.applySplit), and its mark put on the new basis
   * (`prevClose / ratio`). Returns the cash in lieu paid across books.
   */
  applySplit(s: number, ratio: number, prevClose: number, ts: EpochMs, out: Trade[]): number {
    let cash = 0;
    for (const b of this.books) cash += b.applySplit(s, ratio, prevClose, ts, this.symbols[s]!, out);
    this.marks[s] = prevClose / ratio;
    return cash;
  }

  /** A cash dividend of symbol `s` in every book (see Book.applyDividend); returns the cash paid across books. */
  applyDividend(s: number, amount: number): number {
    let cash = 0;
    for (const b of this.books) cash += b.applyDividend(s, amount);
    return cash;
  }

  /** The base currency one unit of `s`'s currency is worth now (1 for the base currency). */
  fxOf(s: number): number {
    const c = this.terms.ccy[s]!;
    return c < 0 ? 1 : this.terms.fx[c]!;
  }

  /** The base currency one unit held of `s` makes per unit of price: its multiplier at the rate in force. */
  unitValue(s: number): number {
    const c = this.terms.ccy[s]!;
    return c < 0 ? this.mult[s]! : this.mult[s]! * this.terms.fx[c]!;
  }

  /** Net position of symbol `s` across books. */
  position(s: number): number {
    let q = 0;
    for (const b of this.books) q += b.qty[s];
    return q;
  }
}
