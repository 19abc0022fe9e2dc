// Black-Scholes-Merton for European options on an underlying with a continuous dividend yield q.
// Units (as ../shared/fixtures/option-cases.json): theta per year of calendar time (dV/dt = -dV/dT),
// vega per 1.00 of volatility, rho per 1.00 of rate. Divide by 365 / 100 / 100 for per-day and per-point.

import type { OptionRight } from './contract.ts';
import { checkPricingInputs, checkRight, type PricingInputs } from './inputs.ts';
import { normCdf, normPdf } from './normal.ts';

/** A price with its sensitivities. */
export interface Greeks {
  price: number;
  /** dV/dS */
  delta: number;
  /** d2V/dS2 */
  gamma: number;
  /** dV/dsigma, per 1.00 of volatility */
  vega: number;
  /** dV/dt, per year (negative when the option loses value as time passes) */
  theta: number;
  /** dV/dr, per 1.00 of rate */
  rho: number;
}

export interface BlackScholes {
  d1: number;
  d2: number;
  call: Greeks;
  put: Greeks;
}

const ONE_OVER_SQRT_2PI = 0.3989422804014327;

/**
 * The call and the put with every greek. Throws a PricingInputError naming the field for an input it cannot
 * price (inputs.ts).
 *
 * When sigma*sqrt(T) is 0 (at expiry, T = 0, or no volatility, sigma = 0) the value is the discounted payoff of
 * the forward, max(S e^-qT - K e^-rT, 0) for a call (the intrinsic value at T = 0), and the greeks are its
 * derivatives, which are also the limits of the BSM greeks away from the strike: d1 = d2 = +-Infinity, N(d) is
 * 1 or 0, gamma 0, theta -rK e^-rT N(d2) + qS e^-qT N(d1) (a call). Exactly at the kink (S e^-qT = K e^-rT)
 * d1 = d2 = 0 and N(d) = 1/2, the average of both sides (delta 1/2 e^-qT); gamma is reported as 0 although its
 * limit is infinite there, and vega is S e^-qT sqrt(T) n(0), the exact one-sided derivative of the price at
 * sigma = 0 (the price rises linearly in sigma from there).
 */
export function blackScholes(p: PricingInputs): BlackScholes {
  checkPricingInputs(p);
  const { spot: S, strike: K, years: T, rate: r, dividendYield: q, vol } = p;
  const growth = Math.exp(-q * T); // e^-qT
  const discount = Math.exp(-r * T); // e^-rT
  const forward = S * growth; // S e^-qT: the underlying delivered at T, valued today
  const strikePv = K * discount; // K e^-rT
  const volRootT = vol * Math.sqrt(T);

  let d1: number;
  let d2: number;
  let gamma: number;
  let vega: number;
  let decay: number; // the volatility term of theta, -S e^-qT n(d1) sigma / (2 sqrt T), the same for call and put
  if (volRootT > 0) {
    d1 = (Math.log(S / K) + (r - q + 0.5 * vol * vol) * T) / volRootT;
    d2 = d1 - volRootT;
    const density = normPdf(d1);
    // far from the money the density underflows to 0 while S * sigma * sqrt(T) may too (0 / 0): gamma is 0 there
    gamma = density === 0 ? 0 : (growth * density) / (S * volRootT);
    vega = forward * density * Math.sqrt(T);
    decay = (-forward * density * vol) / (2 * Math.sqrt(T));
  } else {
    d1 = d2 = forward > strikePv ? Number.POSITIVE_INFINITY : forward < strikePv ? Number.NEGATIVE_INFINITY : 0;
    gamma = 0;
    vega = d1 === 0 ? forward * Math.sqrt(T) * ONE_OVER_SQRT_2PI : 0;
    decay = 0;
  }
  // N(d) at the kink of the sigma*sqrt(T) = 0 case is 1/2 by the rule above, as normCdf(0) gives
  const nd1 = normCdf(d1);
  const nd2 = normCdf(d2);
  const nMinusD1 = normCdf(-d1);
  const nMinusD2 = normCdf(-d2);

  const call: Greeks = {
    price: Math.max(forward * nd1 - strikePv * nd2, 0),
    delta: growth * nd1,
    gamma,
    vega,
    theta: decay - r * strikePv * nd2 + q * forward * nd1,
    rho: K * T * discount * nd2,
  };
  const put: Greeks = {
    price: Math.max(strikePv * nMinusD2 - forward * nMinusD1, 0),
    delta: -growth * nMinusD1,
    gamma,
    vega,
    theta: decay + r * strikePv * nMinusD2 - q * forward * nMinusD1,
    rho: -K * T * discount * nMinusD2,
  };
  return { d1, d2, call, put };
}

/** One side's price and greeks (see blackScholes). */
export function bsmGreeks(right: OptionRight, p: PricingInputs): Greeks {
  checkRight(right);
  const v = blackScholes(p);
  return right === 'C' ? v.call : v.put;
}

/** One side's price (see blackScholes). */
export function bsmPrice(right: OptionRight, p: PricingInputs): number {
  return bsmGreeks(right, p).price;
}
