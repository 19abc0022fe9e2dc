// Cash and positions of the simulated account, IB's way: a position's average cost includes the
// commissions paid to open it, and realized P&L is net of commissions on both sides. A contract's multiplier
// (100 for an option) scales its cash and values, and its average cost is per contract (IB's: 150 for an option
// bought at 1.50). Cash is one number: the simulator keeps no balance per currency.

export class Ledger {
  cash: number;
  readonly qty: Float64Array;
  readonly avgCost: Float64Array;
  /** symbols traded at least once (IB keeps reporting a closed position as 0) */
  readonly traded: boolean[];
  realized = 0;
  commission = 0;

  /** each symbol's multiplier (default 1 for all) */
  readonly multipliers: Float64Array;

  constructor(
    readonly startingCash: number,
    nSymbols: number,
    multipliers?: ArrayLike<number>,
  ) {
    this.multipliers = multipliers ? Float64Array.from(multipliers) : new Float64Array(nSymbols).fill(1);
    this.cash = startingCash;
    this.qty = new Float64Array(nSymbols);
    this.avgCost = new Float64Array(nSymbols);
    this.traded = new Array(nSymbols).fill(false);
  }

  /** Books a fill of `q` shares (negative sells); returns the P&L it realizes, or undefined if it only opens. */
  apply(sid: number, q: number, unitPrice: number, commission: number): number | undefined {
    const price = unitPrice * this.multipliers[sid];
    this.cash -= q * price + commission;
    this.commission += commission;
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
    this.realized += realized;
    this.qty[sid] = pos + (buy ? closing : -closing);
    if (this.qty[sid] === 0) this.avgCost[sid] = 0;
    if (opening > 0) {
      const openCommission = commission - closeCommission;
      this.qty[sid] = buy ? opening : -opening;
      this.avgCost[sid] = (price * opening + (buy ? openCommission : -openCommission)) / opening;
    }
    return realized;
  }

  marketValue(marks: Float64Array): number {
    let mv = 0;
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) mv += this.qty[s] * marks[s] * this.multipliers[s];
    return mv;
  }

  grossValue(marks: Float64Array): number {
    let g = 0;
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) g += Math.abs(this.qty[s] * marks[s] * this.multipliers[s]);
    return g;
  }

  unrealized(marks: Float64Array): number {
    let u = 0;
    for (let s = 0; s < this.qty.length; s++) if (this.qty[s] !== 0) u += this.qty[s] * (marks[s] * this.multipliers[s] - this.avgCost[s]);
    return u;
  }

  netLiquidation(marks: Float64Array): number {
    return this.cash + this.marketValue(marks);
  }
}
