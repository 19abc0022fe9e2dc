// The exchange rates the simulated account converts its currencies at (issue 15): units of the account's base
// currency per unit of each currency it holds. From the replayed pairs first (the current mark of EUR.USD makes
// 1 EUR worth that many USD, either way round, and chains through known rates: EUR into GBP via EUR.USD and
// GBP.USD), then, for a currency no replayed pair reaches, the daily rates a run passes (FxMarks, engine/portfolio's
// convention: a rate is in force from its bar's close), then the pairs again. A currency reached by neither has no
// rate (NaN): the account reports it, never takes it as 1.
import type { FxMarks } from '../../portfolio/fx-marks.ts';

/** The simulator's own notice (in IB's 2100-2999 warning range, next to 2900): a currency held has no rate into the base. */
export const NO_RATE_CODE = 2901;

/** Notice 2901's text: which currencies, and what to do. */
export function noRateText(currencies: readonly string[], base: string, at: number): string {
  const list = currencies.join(', ');
  return `Tradebench simulator: no ${currencies.map((c) => `${c}/${base}`).join(', ')} rate known at ${new Date(at).toISOString()}: the account holds ${list}, so the ${base} totals that need it (NetLiquidation, TotalCashValue, ...) are not reported; replay a ${currencies[0]} pair with ${base} or give the simulator daily rates (fx)`;
}

/** What the ledger converts with: the rate into the base currency of each of its currencies (index 0: the base). */
export interface RateSource {
  /** units of the base per unit of currency index i (NaN: no rate known), at the marks given */
  toBase(marks: ArrayLike<number>): Float64Array;
}

/** A replayed pair: one unit of currency `base` is worth `marks[sid]` units of currency `quote` (indices). */
export interface PairLeg {
  sid: number;
  base: number;
  quote: number;
}

/** Every currency in the base currency: the base at 1, any other without a rate. */
export function baseOnly(n: number): RateSource {
  const out = new Float64Array(n);
  return {
    toBase() {
      out.fill(Number.NaN);
      out[0] = 1;
      return out;
    },
  };
}

export class CurrencyRates implements RateSource {
  private readonly out: Float64Array;

  /**
   * `currencies`: the ledger's, the account's base first; `daily`: rates into the base (its own FxMarks: advancing
   * it moves its rates forward for good, so a runner's may not be shared) and the simulator's clock.
   */
  constructor(
    readonly currencies: readonly string[],
    private readonly pairs: readonly PairLeg[],
    private readonly daily?: { fx: FxMarks; clock: () => number },
  ) {
    if (daily && daily.fx.base !== currencies[0])
      throw new Error(
        `the daily FX rates are into ${daily.fx.base}, the simulated account's base currency is ${currencies[0]}: pass rates into ${currencies[0]}`,
      );
    this.out = new Float64Array(currencies.length);
  }

  toBase(marks: ArrayLike<number>): Float64Array {
    const r = this.out;
    r.fill(Number.NaN);
    r[0] = 1;
    this.chain(marks);
    if (this.daily && r.some((x) => Number.isNaN(x))) {
      const { fx, clock } = this.daily;
      const t = clock();
      if (Number.isFinite(t)) fx.advance(t);
      for (let i = 1; i < r.length; i++) {
        if (!Number.isNaN(r[i])) continue;
        const j = fx.currencies.indexOf(this.currencies[i]);
        if (j >= 0 && fx.rate[j]! > 0) r[i] = fx.rate[j]!;
      }
      this.chain(marks);
    }
    return r;
  }

  /** Spreads known rates through the replayed pairs until nothing changes (at most one pass per currency). */
  private chain(marks: ArrayLike<number>): void {
    const r = this.out;
    for (let pass = 0; pass < r.length; pass++) {
      let changed = false;
      for (const p of this.pairs) {
        const m = marks[p.sid];
        if (!(m > 0)) continue;
        if (Number.isNaN(r[p.base]) && !Number.isNaN(r[p.quote])) {
          r[p.base] = m * r[p.quote];
          changed = true;
        } else if (Number.isNaN(r[p.quote]) && !Number.isNaN(r[p.base])) {
          r[p.quote] = r[p.base] / m;
          changed = true;
        }
      }
      if (!changed) return;
    }
  }
}
