// Implied volatility: the sigma at which the model's price equals a market price. European options use
// Black-Scholes-Merton (safeguarded Newton on vega, bisection when a step leaves the bracket); American options the
// CRR tree (Brent's method: the tree gives no vega for free).
//
// Decision: a price no volatility can give is a RESULT, not an exception, because market quotes produce it all
// the time (stale or wide quotes, a mid below intrinsic on a deep in-the-money American put) and a chain must go
// on to the next contract. The result says which bound was broken and by how much. Inputs that are not numbers,
// or negative where they cannot be, still throw a PricingInputError naming the field (inputs.ts).
//
// Bounds checked first (F = S e^-qT, Kd = K e^-rT):
//   European call: max(F - Kd, 0) <= price < F         European put: max(Kd - F, 0) <= price < Kd
//   American call: max(S - K, F - Kd, 0) <= price < max(S, F)
//   American put:  max(K - S, Kd - F, 0) <= price < max(K, Kd)   (S and K unless a rate or yield is negative)
// A price equal to the European lower bound has volatility 0. The solver stops when the price matches to
// 1e-12 relative (or 1e-15 of the upper bound for tiny prices), far inside the 1e-8 round trip it promises.

import { crrPrice, minTreeVol } from './binomial.ts';
import { blackScholes } from './black-scholes.ts';
import type { ExerciseStyle, OptionRight } from './contract.ts';
import { checkMarketInputs, checkRight, PricingInputError, type MarketInputs } from './inputs.ts';

export type IvFailure =
  /** below the no-arbitrage lower bound (for an American: below intrinsic value) */
  | 'below-lower-bound'
  /** at or above the upper bound (the underlying for a call, the strike for a put) */
  | 'above-upper-bound'
  /** inside the bounds but below what the tree gives at its lowest volatility (American only) */
  | 'below-model-range'
  /** inside the bounds but above the model's price at the highest volatility searched (maxVol) */
  | 'above-model-range'
  /** at expiry (T = 0) the price is the intrinsic value whatever the volatility */
  | 'expired'
  /** no two-sided quote to take a mid from (quoteMid) */
  | 'one-sided-quote'
  /** bid above ask */
  | 'crossed-quote';

export type IvResult = { ok: true; vol: number; iterations: number } | { ok: false; reason: IvFailure; message: string };

export interface IvSpec {
  right: OptionRight;
  style: ExerciseStyle;
  /** tree steps for an American option (default 200) */
  steps?: number;
}

export interface IvOptions {
  /** the highest volatility searched (default 10 = 1000%) */
  maxVol?: number;
  /** iterations at most (default 200) */
  maxIterations?: number;
}

const DEFAULT_STEPS = 200;
const DEFAULT_MAX_VOL = 10;
const DEFAULT_MAX_ITER = 200;
/** the tree's search starts here at the lowest (0.01%), or at the vol where its up probability leaves [0, 1] */
const TREE_MIN_VOL = 1e-4;

function fail(reason: IvFailure, message: string): IvResult {
  return { ok: false, reason, message };
}

const fmt = (x: number) => Number(x.toPrecision(10)).toString();

/** |model - price| small enough to stop: 1e-12 relative, or 1e-15 of the upper bound for a tiny price. */
function tolerance(price: number, upper: number): number {
  return Math.max(1e-12 * price, 1e-15 * upper);
}

/**
 * The implied volatility of a European or American option's price. Throws a PricingInputError for an input
 * that is not a price (NaN, negative) or a market input it cannot price; returns { ok: false, reason } for a
 * price no volatility gives (see the bounds above).
 */
export function impliedVol(spec: IvSpec, price: number, m: MarketInputs, opts: IvOptions = {}): IvResult {
  checkRight(spec.right);
  checkMarketInputs(m);
  if (!Number.isFinite(price) || price < 0) throw new PricingInputError('price', `implied volatility: price = ${price}: must be a finite number >= 0`);
  if (spec.style !== 'american' && spec.style !== 'european') {
    throw new PricingInputError('style', `implied volatility: style = ${String(spec.style)}: must be 'american' or 'european'`);
  }
  const maxVol = opts.maxVol ?? DEFAULT_MAX_VOL;
  const maxIter = opts.maxIterations ?? DEFAULT_MAX_ITER;
  if (!(Number.isFinite(maxVol) && maxVol > 0))
    throw new PricingInputError('maxVol', `implied volatility: maxVol = ${maxVol}: must be a finite number above 0`);
  if (!(Number.isInteger(maxIter) && maxIter > 0)) {
    throw new PricingInputError('maxIterations', `implied volatility: maxIterations = ${maxIter}: must be a whole number above 0`);
  }
  if (m.years === 0) return fail('expired', 'implied volatility: T = 0 (at expiry) the price is the intrinsic value whatever the volatility');

  const call = spec.right === 'C';
  const { spot: S, strike: K } = m;
  const F = S * Math.exp(-m.dividendYield * m.years);
  const Kd = K * Math.exp(-m.rate * m.years);
  const american = spec.style === 'american';
  const europeanLower = Math.max(call ? F - Kd : Kd - F, 0);
  const lower = american ? Math.max(europeanLower, call ? S - K : K - S) : europeanLower;
  // an American is worth at least the European, so with a negative rate (or yield) its bound is the European's
  const upper = american ? (call ? Math.max(S, F) : Math.max(K, Kd)) : call ? F : Kd;
  const what = `${american ? 'an American' : 'a European'} ${call ? 'call' : 'put'}`;
  const lowerRule = american
    ? call
      ? 'max(S - K, S e^-qT - K e^-rT, 0)'
      : 'max(K - S, K e^-rT - S e^-qT, 0)'
    : call
      ? 'max(S e^-qT - K e^-rT, 0)'
      : 'max(K e^-rT - S e^-qT, 0)';
  if (price < lower) {
    return fail(
      'below-lower-bound',
      `implied volatility: price ${fmt(price)} of ${what} is below its lower bound ${fmt(lower)} = ${lowerRule}: no volatility gives it`,
    );
  }
  if (price >= upper) {
    return fail(
      'above-upper-bound',
      `implied volatility: price ${fmt(price)} of ${what} is at or above its upper bound ${fmt(upper)} (${american ? (call ? 'max(S, S e^-qT)' : 'max(K, K e^-rT)') : call ? 'S e^-qT' : 'K e^-rT'})`,
    );
  }
  const tol = tolerance(price, upper);

  if (!american) {
    if (price - europeanLower <= tol) return { ok: true, vol: 0, iterations: 0 };
    const model = (vol: number) => {
      const v = blackScholes({ ...m, vol });
      const side = call ? v.call : v.put;
      return { value: side.price, slope: side.vega };
    };
    // Newton from the inflection point of price(sigma), sqrt(2 |ln(F/Kd)| / T), moves monotonically to the root
    // (Manaster and Koehler, 1982); an at-the-forward option starts at 20% instead
    const inflection = Math.sqrt((2 * Math.abs(Math.log(F / Kd))) / m.years);
    return newtonBisect(model, price, tol, 0, maxVol, inflection > 0 ? Math.min(inflection, maxVol / 2) : 0.2, maxIter);
  }

  const steps = spec.steps ?? DEFAULT_STEPS;
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new PricingInputError('steps', `implied volatility: steps = ${steps}: the tree needs a whole number of steps >= 1`);
  const tree = { right: spec.right, style: spec.style, steps };
  const lo = Math.max(TREE_MIN_VOL, minTreeVol(m, steps) * (1 + 1e-9));
  if (lo >= maxVol) return fail('above-model-range', `implied volatility: the ${steps}-step tree needs vol >= ${fmt(lo)}, above maxVol ${maxVol}`);
  return brent((vol) => crrPrice(tree, { ...m, vol }), price, tol, lo, maxVol, maxIter, `a ${steps}-step tree`);
}

type Model = (vol: number) => { value: number; slope: number };

function outOfRange(price: number, at: number, vol: number, low: boolean, modelName: string): IvResult {
  return low
    ? fail('below-model-range', `implied volatility: price ${fmt(price)} is below ${modelName}'s ${fmt(at)} at its lowest volatility ${fmt(vol)}`)
    : fail('above-model-range', `implied volatility: price ${fmt(price)} is above ${modelName}'s ${fmt(at)} at the highest volatility searched, ${fmt(vol)}`);
}

/** Newton's method on an increasing model, kept inside a bracket [lo, hi] that shrinks with every evaluation. */
function newtonBisect(model: Model, price: number, tol: number, lo: number, hi: number, start: number, maxIter: number): IvResult {
  const top = model(hi).value;
  if (top - price < -tol) return outOfRange(price, top, hi, false, 'Black-Scholes');
  let vol = start;
  for (let i = 1; i <= maxIter; i++) {
    const { value, slope } = model(vol);
    const err = value - price;
    if (Math.abs(err) <= tol) return { ok: true, vol, iterations: i };
    if (err > 0) hi = vol;
    else lo = vol;
    let next = vol - err / slope;
    // a step out of the bracket (or a vega of 0 far from the money) falls back to bisection
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next === vol || hi - lo <= 4 * Number.EPSILON * hi) return { ok: true, vol: next, iterations: i }; // the bracket is one float wide
    vol = next;
  }
  return { ok: true, vol, iterations: maxIter };
}

/**
 * Brent's method (inverse quadratic interpolation, secant, bisection) for f(vol) = model(vol) - price on an
 * increasing model over [lo, hi].
 */
function brent(model: (vol: number) => number, price: number, tol: number, lo: number, hi: number, maxIter: number, modelName: string): IvResult {
  let a = lo;
  let b = hi;
  let fa = model(a) - price;
  let fb = model(b) - price;
  if (fa > tol) return outOfRange(price, fa + price, a, true, modelName);
  if (fb < -tol) return outOfRange(price, fb + price, b, false, modelName);
  if (Math.abs(fa) <= tol) return { ok: true, vol: a, iterations: 0 };
  if (Math.abs(fb) <= tol) return { ok: true, vol: b, iterations: 0 };
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let i = 1; i <= maxIter; i++) {
    if (Math.sign(fb) === Math.sign(fc)) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      [a, b, c] = [b, c, b];
      [fa, fb, fc] = [fb, fc, fb];
    }
    const xTol = 2 * Number.EPSILON * Math.abs(b);
    const half = 0.5 * (c - b);
    if (Math.abs(fb) <= tol || Math.abs(half) <= xTol) return { ok: true, vol: b, iterations: i };
    if (Math.abs(e) >= xTol && Math.abs(fa) > Math.abs(fb)) {
      // interpolate: secant when only two points differ, inverse quadratic otherwise
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * half * s;
        q = 1 - s;
      } else {
        const qa = fa / fc;
        const r = fb / fc;
        p = s * (2 * half * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * half * q - Math.abs(xTol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = half;
        e = d;
      }
    } else {
      d = half;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > xTol ? d : half > 0 ? xTol : -xTol;
    fb = model(b) - price;
  }
  return { ok: true, vol: b, iterations: maxIter };
}

export type MidResult = { ok: true; mid: number } | { ok: false; reason: 'one-sided-quote' | 'crossed-quote'; message: string };

/**
 * The mid of a two-sided quote. A side that is missing (null, undefined, NaN) or not above 0 counts as absent:
 * an option bid of 0 says only that nobody bids, so a mid of (0 + ask)/2 would be a guess. A crossed quote
 * (bid > ask) is refused; a locked one (bid = ask) is its own mid.
 */
export function quoteMid(bid: number | null | undefined, ask: number | null | undefined): MidResult {
  const has = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (!has(bid) || !has(ask)) {
    return { ok: false, reason: 'one-sided-quote', message: `quote mid: bid ${bid ?? 'none'} / ask ${ask ?? 'none'}: needs a bid and an ask above 0` };
  }
  if (bid > ask) return { ok: false, reason: 'crossed-quote', message: `quote mid: bid ${bid} is above ask ${ask} (crossed quote)` };
  return { ok: true, mid: (bid + ask) / 2 };
}

/** The implied volatility of a quote's mid (quoteMid), or why there is none. */
export function impliedVolFromQuote(
  spec: IvSpec,
  quote: { bid: number | null | undefined; ask: number | null | undefined },
  m: MarketInputs,
  opts: IvOptions = {},
): IvResult {
  const mid = quoteMid(quote.bid, quote.ask);
  if (!mid.ok) return fail(mid.reason, mid.message);
  return impliedVol(spec, mid.mid, m, opts);
}
