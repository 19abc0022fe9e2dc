// Cash in several currencies, valued in one base currency (issue 15: a GBP account that trades USD stocks and
// FX pairs). Each trade's cash is booked in the currency it settles in; its base-currency value is taken at the
// rate of the trade's own time, and balances are marked at the rates given for a mark (daily, for reports).
import type { EpochMs } from '../core/types.ts';

/** An ISO 4217 currency code, e.g. 'USD', 'GBP', 'EUR'. */
export type Currency = string;

/** Exchange rates: units of `quote` for one unit of `base` at a time (GBPUSD = 1.25 is rate('GBP', 'USD') = 1.25). */
export interface FxRates {
  /** whether the source quotes this pair, this way round */
  has(base: Currency, quote: Currency): boolean;
  /** a missing or stale rate throws, naming the pair and the time */
  rate(base: Currency, quote: Currency, at: EpochMs): number;
}

const CODE = /^[A-Z]{3}$/;

export function checkCurrency(code: string, what: string): Currency {
  if (!CODE.test(code)) throw new Error(`${what}: '${code}' is not a currency code (three capital letters, e.g. USD, GBP, EUR)`);
  return code;
}

/**
 * Converts `amount` of `from` into `to` at `at`: directly when the rate source quotes the pair either way round,
 * else through USD (EURGBP from EURUSD and GBPUSD). A missing or non-positive rate is an error naming the pair.
 */
export function convert(rates: FxRates, amount: number, from: Currency, to: Currency, at: EpochMs): number {
  if (from === to || amount === 0) return amount;
  return amount * crossRate(rates, from, to, at);
}

/** Units of `to` for one unit of `from` at `at` (see convert). */
export function crossRate(rates: FxRates, from: Currency, to: Currency, at: EpochMs): number {
  if (from === to) return 1;
  const direct = tryRate(rates, from, to, at);
  if (direct !== undefined) return direct;
  const inverse = tryRate(rates, to, from, at);
  if (inverse !== undefined) return 1 / inverse;
  if (from !== 'USD' && to !== 'USD') return crossRate(rates, from, 'USD', at) * crossRate(rates, 'USD', to, at);
  throw new Error(`no ${from}/${to} rate: give the rates of ${from}${to} or ${to}${from} (or both against USD)`);
}

function tryRate(rates: FxRates, base: Currency, quote: Currency, at: EpochMs): number | undefined {
  if (!rates.has(base, quote)) return undefined;
  const r = rates.rate(base, quote, at);
  if (!(r > 0) || !Number.isFinite(r)) throw new Error(`the ${base}${quote} rate at ${new Date(at).toISOString()} is ${r}: a rate must be positive`);
  return r;
}

/** Rates from fixed values, for tests and for a run that states its rates: `{ GBPUSD: 1.25 }`. */
export function fixedRates(table: Record<string, number>): FxRates {
  return {
    has: (base, quote) => `${base}${quote}` in table,
    rate(base, quote) {
      const r = table[`${base}${quote}`];
      if (r === undefined) throw new Error(`no ${base}${quote} rate`);
      return r;
    },
  };
}

/** Cash per currency, valued in `base`. */
export class CurrencyLedger {
  readonly base: Currency;
  private readonly cash = new Map<Currency, number>();

  constructor(base: Currency) {
    this.base = checkCurrency(base, 'base currency');
  }

  /** Adds (or, negative, takes) cash in `currency`: a deposit, a trade's settlement, a commission, a dividend. */
  book(currency: Currency, amount: number): void {
    if (!Number.isFinite(amount)) throw new Error(`ledger: amount ${amount} in ${currency} is not a finite number`);
    checkCurrency(currency, 'ledger');
    this.cash.set(currency, (this.cash.get(currency) ?? 0) + amount);
  }

  /**
   * An FX trade: buys `qty` of the pair's base currency at `price` units of its quote currency (a negative `qty`
   * sells), paying `commission` in `commissionCurrency` (IBKR charges IDEALPRO commissions in USD).
   */
  exchange(pair: { base: Currency; quote: Currency }, qty: number, price: number, commission = 0, commissionCurrency: Currency = pair.quote): void {
    if (!(price > 0)) throw new Error(`ledger: ${pair.base}.${pair.quote} price ${price} must be positive`);
    this.book(pair.base, qty);
    this.book(pair.quote, -qty * price);
    if (commission !== 0) this.book(commissionCurrency, -commission);
  }

  /** The balance of one currency (0 when never booked). */
  balance(currency: Currency): number {
    return this.cash.get(currency) ?? 0;
  }

  /** Every currency's balance, in the order they were first booked. */
  balances(): ReadonlyMap<Currency, number> {
    return this.cash;
  }

  /** All cash in the base currency at `at`'s rates. */
  cashInBase(rates: FxRates, at: EpochMs): number {
    let total = 0;
    for (const [currency, amount] of this.cash) total += convert(rates, amount, currency, this.base, at);
    return total;
  }

  /**
   * Exposure per currency in the base currency at `at`: each currency's cash plus the market value of the
   * positions held in it (`holdings`: market value in the instrument's own currency).
   */
  exposure(rates: FxRates, at: EpochMs, holdings: readonly { currency: Currency; marketValue: number }[] = []): Map<Currency, number> {
    const local = new Map(this.cash);
    for (const h of holdings) local.set(h.currency, (local.get(h.currency) ?? 0) + h.marketValue);
    const out = new Map<Currency, number>();
    for (const [currency, amount] of local) out.set(currency, convert(rates, amount, currency, this.base, at));
    return out;
  }
}
