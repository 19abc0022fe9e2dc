// The exchange rates a multi-currency run values its foreign money at (issue 15): per currency other than the
// account's base, a series of rates into the base currency, and the rate in force as the run's clock advances.
// A rate is in force from its bar's close (start + bar length): a fill or a mark at time t uses the last rate
// whose bar had closed by t, never one from the future.
import type { EpochMs } from '../core/types.ts';

/** Units of the base currency for one unit of `currency`, from the close of each rate bar on. */
export interface FxSeries {
  currency: string;
  /** when each rate is known: its bar's close time, ascending */
  closeAt: Float64Array;
  /** units of base per unit of `currency` (GBP base, USD currency: 1 / GBPUSD) */
  toBase: Float64Array;
  /** where the rates come from, for the report and errors ('GBP.USD 1d, inverted') */
  source: string;
}

export class FxMarks {
  /** the rate in force per currency index (NaN before its first rate) */
  readonly rate: Float64Array;
  readonly currencies: readonly string[];
  private readonly at: Int32Array;

  constructor(
    readonly base: string,
    private readonly series: readonly FxSeries[],
  ) {
    this.currencies = series.map((s) => s.currency);
    this.rate = new Float64Array(series.length).fill(Number.NaN);
    this.at = new Int32Array(series.length).fill(-1);
    for (const s of series) {
      if (s.closeAt.length === 0) throw new Error(`no ${s.currency}/${base} rates (${s.source})`);
      for (let i = 0; i < s.toBase.length; i++) {
        if (!(s.toBase[i]! > 0)) throw new Error(`${s.source}: rate ${s.toBase[i]} at ${new Date(s.closeAt[i]!).toISOString()} is not a positive number`);
        if (i > 0 && !(s.closeAt[i]! > s.closeAt[i - 1]!))
          throw new Error(`${s.source}: rate times are not increasing at ${new Date(s.closeAt[i]!).toISOString()}`);
      }
    }
  }

  /** Puts in force, for each currency, the last rate known at `t` (NaN while none is: see check). */
  advance(t: EpochMs): void {
    for (let c = 0; c < this.series.length; c++) {
      const s = this.series[c]!;
      let i = this.at[c]!;
      while (i + 1 < s.closeAt.length && s.closeAt[i + 1]! <= t) i++;
      this.at[c] = i;
      if (i >= 0) this.rate[c] = s.toBase[i]!;
    }
  }

  /** Fails, saying why, when currency index `c` has no rate in force at `t` (before money moves in it). */
  check(c: number, t: EpochMs): void {
    if (c < 0 || !Number.isNaN(this.rate[c])) return;
    const s = this.series[c]!;
    throw new Error(
      `no ${s.currency}/${this.base} rate known at ${new Date(t).toISOString()}: the first (${s.source}) is from ${new Date(s.closeAt[0]!).toISOString()}; start the run later or import earlier rates`,
    );
  }

  /** The index of `currency` in `rate` (-1: the base currency). */
  indexOf(currency: string): number {
    if (currency === this.base) return -1;
    const i = this.currencies.indexOf(currency);
    if (i < 0)
      throw new Error(
        `no ${currency}/${this.base} rates given: the run holds ${currency} but has rates only for ${this.currencies.join(', ') || 'no currency'}`,
      );
    return i;
  }
}
