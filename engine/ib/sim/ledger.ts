// Cash and positions of the simulated account, IB's way: a position's average cost includes the
// commissions paid to open it, and realized P&L is net of commissions on both sides. A contract's multiplier
// (100 for an option) scales its cash and values, and its average cost is per contract (IB's: 150 for an option
// bought at 1.50).
//
// Cash is kept per currency, as an IBKR account keeps it (issue 15), with engine/portfolio's conventions for what a
// trade moves: a stock or option pays its value and commission in its own currency (a USD purchase in a GBP account
// leaves a negative USD balance: IB lends it); a pair (CASH, EUR.USD) buys one currency with the other at the price
// (EUR + qty, USD - qty x price) and pays its commission in the quote currency; a future pays only its commission
// at the trade. A future's P&L is variation margin, as IB settles it: its change since the last settlement (or
// since the fill that opened it) is FuturesPNL, counted in TotalCashBalance but not yet in CashBalance, and each
// day's settlement (settleFutures, at the day's close mark) sweeps it into the currency's cash. Every figure in a
// currency stays in it; base-currency totals convert at `rates` (RateSource), NaN where a rate is not known.
import { baseOnly, type RateSource } from './currency-rates.ts';

/** How a symbol moves cash: its security type, the currency its price is in, and a pair's base currency. */
export interface LedgerSymbol {
  secType: string;
  /** the currency of its price (a pair's quote currency: USD of EUR.USD) */
  currency: string;
  /** CASH: the currency a buy receives (EUR of EUR.USD) */
  pairBase?: string;
}

export interface LedgerOptions {
  /** the account's base currency (default USD): starting cash is in it */
  base?: string;
  /** by symbol index (default: US stocks in USD) */
  symbols?: readonly (LedgerSymbol | undefined)[];
  /** the rates into the base (default: none known but the base's own) */
  rates?: RateSource;
  /** the account's marks, which the base-currency totals without marks of their own (realized, commission) convert at */
  marks?: Float64Array;
}

/** One currency's ledger figures, in that currency (IB's $LEDGER rows). */
export interface CurrencyFigures {
  currency: string;
  /** settled cash (CashBalance) */
  cash: number;
  /** futures P&L since the last settlement, not yet in cash (FuturesPNL) */
  futuresPnl: number;
  /** stock (and index) positions at their marks */
  stockValue: number;
  /** option positions at their marks */
  optionValue: number;
  unrealized: number;
  realized: number;
  /** units of the base currency per unit of this one (NaN: not known) */
  rate: number;
}

const STOCK_LIKE = new Set(['STK', 'IND']);

export class Ledger {
  readonly base: string;
  /** the ledger's currencies, the base first (index of `balances`, `ccy`, `pairCcy`) */
  readonly currencies: readonly string[];
  /** settled cash per currency */
  readonly balances: Float64Array;
  /** per currency: futures variation of closed contracts since the last settlement (not yet in `balances`) */
  readonly futuresPnl: Float64Array;
  /** per currency: realized P&L (net of commissions) and commissions paid, in the currency */
  readonly realizedBy: Float64Array;
  readonly commissionBy: Float64Array;
  readonly qty: Float64Array;
  readonly avgCost: Float64Array;
  /** futures: the value per contract (price x multiplier) their open variation counts from (the last settlement or fill) */
  readonly settleRef: Float64Array;
  /** symbols traded at least once (IB keeps reporting a closed position as 0) */
  readonly traded: boolean[];
  /** each symbol's multiplier (default 1 for all) */
  readonly multipliers: Float64Array;
  /** each symbol's currency index, and a pair's base currency index (-1: not a pair) */
  readonly ccy: Int8Array;
  readonly pairCcy: Int8Array;
  readonly secTypes: readonly string[];
  readonly rates: RateSource;
  private readonly marks: Float64Array;

  constructor(
    readonly startingCash: number,
    nSymbols: number,
    multipliers?: ArrayLike<number>,
    o: LedgerOptions = {},
  ) {
    this.base = o.base ?? 'USD';
    const syms = Array.from({ length: nSymbols }, (_, s): LedgerSymbol => o.symbols?.[s] ?? { secType: 'STK', currency: 'USD' });
    const currencies = [this.base];
    const indexOf = (c: string) => {
      let i = currencies.indexOf(c);
      if (i < 0) i = currencies.push(c) - 1;
      return i;
    };
    this.ccy = Int8Array.from(syms, (s) => indexOf(s.currency));
    this.pairCcy = Int8Array.from(syms, (s) => {
      if (s.secType !== 'CASH') return -1;
      if (!s.pairBase) throw new Error(`a CASH pair in ${s.currency} needs the currency it buys (pairBase)`);
      return indexOf(s.pairBase);
    });
    this.currencies = currencies;
    this.secTypes = syms.map((s) => s.secType);
    this.rates = o.rates ?? baseOnly(currencies.length);
    this.marks = o.marks ?? new Float64Array(nSymbols).fill(Number.NaN);
    this.multipliers = multipliers ? Float64Array.from(multipliers) : new Float64Array(nSymbols).fill(1);
    this.balances = new Float64Array(currencies.length);
    this.balances[0] = startingCash;
    this.futuresPnl = new Float64Array(currencies.length);
    this.realizedBy = new Float64Array(currencies.length);
    this.commissionBy = new Float64Array(currencies.length);
    this.qty = new Float64Array(nSymbols);
    this.avgCost = new Float64Array(nSymbols);
    this.settleRef = new Float64Array(nSymbols);
    this.traded = new Array(nSymbols).fill(false);
  }

  /** the base currency's settled cash */
  get cash(): number {
    return this.balances[0];
  }

  set cash(x: number) {
    this.balances[0] = x;
  }

  /** Whether symbol `sid` is margined (a future: its trades move no price, only variation). */
  isFuture(sid: number): boolean {
    return this.secTypes[sid] === 'FUT';
  }

  /** Books a fill of `q` shares (negative sells); returns the P&L it realizes (in the symbol's currency), or undefined if it only opens. */
  apply(sid: number, q: number, unitPrice: number, commission: number): number | undefined {
    const price = unitPrice * this.multipliers[sid];
    const c = this.ccy[sid];
    if (this.isFuture(sid)) {
      this.balances[c] -= commission;
      this.vary(sid, q, price);
    } else {
      this.balances[c] -= q * price + commission;
      const pc = this.pairCcy[sid];
      if (pc >= 0) this.balances[pc] += q * this.multipliers[sid];
    }
    this.commissionBy[c] += commission;
    this.traded[sid] = true;
    const pos = this.qty[sid];
    const buy = q > 0;
    if (pos === 0 || pos > 0 === buy) {
      const n = Math.abs(pos);
      const m = Math.abs(q);
      // a long's cost adds the commission; a short's proceeds lose it
      this.avgCost[sid] = (this.avgCost[sid] * n + price * m + (buy ? commission : -commission)) / (n + m);
      this.qty[sid] = pos + q;
      return undefined;
    }
    const closing = Math.min(Math.abs(q), Math.abs(pos));
    const opening = Math.abs(q) - closing;
    const closeCommission = (commission * closing) / Math.abs(q);
    const realized = (pos > 0 ? closing * (price - this.avgCost[sid]) : closing * (this.avgCost[sid] - price)) - closeCommission;
    this.realizedBy[c] += realized;
    this.qty[sid] = pos + (buy ? closing : -closing);
    if (this.qty[sid] === 0) this.avgCost[sid] = 0;
    if (opening > 0) {
      const openCommission = commission - closeCommission;
      this.qty[sid] = buy ? opening : -opening;
      this.avgCost[sid] = (price * opening + (buy ? openCommission : -openCommission)) / opening;
    }
    return realized;
  }

  /**
   * A future's fill of `q` at `price` (per contract, multiplied): what it closes adds its variation since the
   * reference to the day's futures P&L; what it opens counts from the fill (the reference a quantity-weighted average).
   */
  private vary(sid: number, q: number, price: number): void {
    const pos = this.qty[sid];
    if (pos === 0 || pos > 0 === q > 0) {
      this.settleRef[sid] = (this.settleRef[sid] * Math.abs(pos) + price * Math.abs(q)) / (Math.abs(pos) + Math.abs(q));
      return;
    }
    const closing = Math.min(Math.abs(q), Math.abs(pos));
    this.futuresPnl[this.ccy[sid]] += Math.sign(pos) * closing * (price - this.settleRef[sid]);
    if (Math.abs(q) > closing) this.settleRef[sid] = price;
    else if (closing === Math.abs(pos)) this.settleRef[sid] = 0;
  }

  /**
   * The day's settlement of futures (IB's daily mark-to-market): every open future's variation to its settlement
   * price `settle[sid]` (per unit; a NaN price leaves it unsettled) joins the day's futures P&L, which is swept
   * into each currency's cash; the settlement price becomes the reference.
   */
  settleFutures(settle: ArrayLike<number>): void {
    for (let s = 0; s < this.qty.length; s++) {
      if (!this.isFuture(s) || this.qty[s] === 0 || Number.isNaN(settle[s])) continue;
      const v = settle[s] * this.multipliers[s];
      this.futuresPnl[this.ccy[s]] += this.qty[s] * (v - this.settleRef[s]);
      this.settleRef[s] = v;
    }
    for (let c = 0; c < this.balances.length; c++) {
      this.balances[c] += this.futuresPnl[c];
      this.futuresPnl[c] = 0;
    }
  }

  /** Every currency's figures in that currency at `marks`, with its rate into the base. */
  byCurrency(marks: ArrayLike<number>): CurrencyFigures[] {
    const rates = this.rates.toBase(marks);
    const out = this.currencies.map(
      (currency, c): CurrencyFigures => ({
        currency,
        cash: this.balances[c],
        futuresPnl: this.futuresPnl[c],
        stockValue: 0,
        optionValue: 0,
        unrealized: 0,
        realized: this.realizedBy[c],
        rate: rates[c],
      }),
    );
    for (let s = 0; s < this.qty.length; s++) {
      const q = this.qty[s];
      if (q === 0) continue;
      const f = out[this.ccy[s]];
      const v = marks[s] * this.multipliers[s];
      f.unrealized += q * (v - this.avgCost[s]);
      if (this.isFuture(s)) f.futuresPnl += q * (v - this.settleRef[s]);
      else if (this.secTypes[s] === 'OPT') f.optionValue += q * v;
      else if (STOCK_LIKE.has(this.secTypes[s])) f.stockValue += q * v;
      // a pair's position is its currencies' cash
    }
    return out;
  }

  /** the positions' worth in the base currency: stocks and options at their marks, futures their unsettled variation (pairs: in cash) */
  marketValue(marks: Float64Array): number {
    const rates = this.rates.toBase(marks);
    let mv = 0;
    for (let s = 0; s < this.qty.length; s++) {
      const q = this.qty[s];
      if (q === 0 || this.pairCcy[s] >= 0) continue;
      const v = marks[s] * this.multipliers[s];
      mv += (this.isFuture(s) ? q * (v - this.settleRef[s]) : q * v) * rates[this.ccy[s]];
    }
    return mv;
  }

  /** the notional of stock and option positions, long or short, in the base currency (IB's GrossPositionValue) */
  grossValue(marks: Float64Array): number {
    const rates = this.rates.toBase(marks);
    let g = 0;
    for (let s = 0; s < this.qty.length; s++) {
      if (this.qty[s] === 0 || this.isFuture(s) || this.pairCcy[s] >= 0) continue;
      g += Math.abs(this.qty[s] * marks[s] * this.multipliers[s]) * rates[this.ccy[s]];
    }
    return g;
  }

  /** open P&L in the base currency */
  unrealized(marks: Float64Array): number {
    return sumInBase(this.byCurrency(marks), (f) => f.unrealized);
  }

  /** realized P&L in the base currency, at the current rates */
  get realized(): number {
    return this.inBase(this.realizedBy);
  }

  /** commissions paid in the base currency, at the current rates */
  get commission(): number {
    return this.inBase(this.commissionBy);
  }

  /** all cash in the base currency, futures P&L not yet settled included (IB's TotalCashValue) */
  totalCash(marks: Float64Array): number {
    return sumInBase(this.byCurrency(marks), (f) => f.cash + f.futuresPnl);
  }

  /** cash, futures P&L and positions, in the base currency (NaN when a currency held has no rate) */
  netLiquidation(marks: Float64Array): number {
    return sumInBase(this.byCurrency(marks), netLiquidationOf);
  }

  private inBase(perCurrency: Float64Array): number {
    let x = perCurrency[0];
    if (perCurrency.length === 1) return x;
    const rates = this.rates.toBase(this.marks);
    for (let c = 1; c < perCurrency.length; c++) if (perCurrency[c] !== 0) x += perCurrency[c] * rates[c];
    return x;
  }
}

/** A currency's net liquidation in it (IB's NetLiquidationByCurrency): cash, unsettled futures P&L, stocks and options. */
export const netLiquidationOf = (f: CurrencyFigures): number => f.cash + f.futuresPnl + f.stockValue + f.optionValue;

/** The sum in the base currency of a figure of every currency; a currency without a rate counts only when its figure is 0. */
export function sumInBase(figures: readonly CurrencyFigures[], get: (f: CurrencyFigures) => number): number {
  let x = 0;
  for (const f of figures) {
    const v = get(f);
    if (v !== 0) x += v * f.rate;
  }
  return x;
}
