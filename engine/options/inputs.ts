// What a pricing model is given, and the check every model runs on it first.

import type { OptionRight } from './contract.ts';

/**
 * One option's pricing inputs. Rates are continuously compounded annual rates; time is in years
 * (`yearsToExpiry` in contract.ts gives it from a contract and a clock).
 */
export interface PricingInputs {
  /** underlying price (S) */
  spot: number;
  /** strike (K) */
  strike: number;
  /** time to expiry in years (T); 0 = at expiry */
  years: number;
  /** risk-free rate (r); may be negative (EUR and JPY rates were, 2015-2022) */
  rate: number;
  /** continuous dividend yield (q), or the foreign rate for an FX option; may be negative */
  dividendYield: number;
  /** annual volatility (sigma), 0.2 = 20%; 0 = a deterministic forward */
  vol: number;
}

/** A model's inputs without the volatility: what implied volatility solves from. */
export type MarketInputs = Omit<PricingInputs, 'vol'>;

export class PricingInputError extends RangeError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PricingInputError';
  }
}

function need(ok: boolean, field: string, value: unknown, rule: string): void {
  if (!ok) throw new PricingInputError(field, `option pricing: ${field} = ${String(value)}: ${rule}`);
}

/**
 * Throws a PricingInputError naming the field and the rule when an input cannot be priced: NaN or infinite
 * anything, spot or strike not above 0, a negative time or volatility. Rates and yields may be negative.
 */
export function checkMarketInputs(m: MarketInputs): void {
  need(Number.isFinite(m.spot) && m.spot > 0, 'spot', m.spot, 'must be a finite number above 0');
  need(Number.isFinite(m.strike) && m.strike > 0, 'strike', m.strike, 'must be a finite number above 0');
  need(Number.isFinite(m.years) && m.years >= 0, 'years', m.years, 'must be a finite number >= 0 (time to expiry in years)');
  need(Number.isFinite(m.rate), 'rate', m.rate, 'must be a finite number (continuous annual rate)');
  need(Number.isFinite(m.dividendYield), 'dividendYield', m.dividendYield, 'must be a finite number (continuous annual yield)');
}

export function checkPricingInputs(p: PricingInputs): void {
  checkMarketInputs(p);
  need(Number.isFinite(p.vol) && p.vol >= 0, 'vol', p.vol, 'must be a finite number >= 0 (annual volatility, 0.2 = 20%)');
}

export function checkRight(right: OptionRight): void {
  need(right === 'C' || right === 'P', 'right', right, "must be 'C' (call) or 'P' (put)");
}
