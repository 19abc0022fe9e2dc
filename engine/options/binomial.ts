// The Cox-Ross-Rubinstein binomial tree, for American (and European) options with a continuous dividend yield.
// Up factor u = e^(sigma sqrt(dt)), down d = 1/u, up probability p = (e^((r-q)dt) - d) / (u - d), discount e^(-r dt)
// per step; an American option is worth the larger of holding and exercising at every node. One array of the
// last layer's N+1 values is rolled back in place: O(N) memory, O(N^2) time.
// Units as black-scholes.ts: theta per year, vega per 1.00 of volatility, rho per 1.00 of rate.

import type { Greeks } from './black-scholes.ts';
import type { ExerciseStyle, OptionRight } from './contract.ts';
import { checkPricingInputs, checkRight, PricingInputError, type PricingInputs } from './inputs.ts';

export interface TreeSpec {
  right: OptionRight;
  style: ExerciseStyle;
  /** number of time steps N (>= 1; the tree greeks need >= 2) */
  steps: number;
}

/** The tree's value and the greeks read off its first layers (Hull's tree greeks). */
export interface TreeValue {
  price: number;
  delta: number;
  gamma: number;
  theta: number;
}

function checkSpec(spec: TreeSpec, minSteps: number): void {
  checkRight(spec.right);
  if (spec.style !== 'american' && spec.style !== 'european') {
    throw new PricingInputError('style', `option pricing: style = ${String(spec.style)}: must be 'american' or 'european'`);
  }
  if (!Number.isInteger(spec.steps) || spec.steps < minSteps || spec.steps > 1e6) {
    throw new PricingInputError('steps', `option pricing: steps = ${spec.steps}: the tree needs a whole number of steps in [${minSteps}, 1000000]`);
  }
}

/**
 * The lowest volatility the tree can take for these inputs and steps: p lies in [0, 1] only while
 * sigma sqrt(dt) >= |r - q| dt, i.e. sigma >= |r - q| sqrt(dt).
 */
export function minTreeVol(p: Omit<PricingInputs, 'vol'>, steps: number): number {
  return Math.abs(p.rate - p.dividendYield) * Math.sqrt(p.years / steps);
}

/**
 * Price and tree greeks (delta, gamma, theta) on a CRR tree. Throws a PricingInputError for inputs it cannot
 * price, including a volatility too low for the steps (`minTreeVol`: more steps, or Black-Scholes for a
 * European). At T = 0 the value is the intrinsic value, delta the payoff's slope (1/2 at the strike), gamma and
 * theta 0.
 */
export function crrTree(spec: TreeSpec, p: PricingInputs): TreeValue {
  checkSpec(spec, 1);
  checkPricingInputs(p);
  const { spot: S, strike: K, years: T, rate: r, dividendYield: q, vol } = p;
  const sign = spec.right === 'C' ? 1 : -1; // payoff = max(sign (S - K), 0)
  if (T === 0) {
    const delta = S === K ? sign / 2 : sign * (S - K) > 0 ? sign : 0;
    return { price: Math.max(sign * (S - K), 0), delta, gamma: 0, theta: 0 };
  }
  const N = spec.steps;
  const dt = T / N;
  const step = vol * Math.sqrt(dt); // ln u
  const u = Math.exp(step);
  const d = 1 / u;
  const up = (Math.exp((r - q) * dt) - d) / (u - d);
  if (!(up >= 0 && up <= 1)) {
    throw new PricingInputError(
      'vol',
      `option pricing: vol = ${vol} is too low for a ${N}-step tree with r - q = ${r - q} (the up probability would be ${up}): ` +
        `need vol >= ${minTreeVol(p, N)}; use more steps, or Black-Scholes for a European option`,
    );
  }
  const disc = Math.exp(-r * dt);
  const pu = disc * up;
  const pd = disc * (1 - up);
  const american = spec.style === 'american';

  // spotAt[k + N] = S u^k, k = -N..N: node j of layer i (j up moves of i) is S u^(2j - i)
  const spotAt = new Float64Array(2 * N + 1);
  for (let k = -N; k <= N; k++) spotAt[k + N] = S * Math.exp(k * step);
  const v = new Float64Array(N + 1);
  for (let j = 0; j <= N; j++) v[j] = Math.max(sign * (spotAt[2 * j] - K), 0);

  // the values of layers 2 and 1, kept for the greeks as the roll-back passes them (or the expiry layer, N = 1 or 2)
  let [f20, f21, f22] = N === 2 ? [v[0], v[1], v[2]] : [0, 0, 0];
  let [f10, f11] = N === 1 ? [v[0], v[1]] : [0, 0];
  for (let i = N - 1; i >= 0; i--) {
    const base = N - i; // index of S u^(-i) in spotAt
    for (let j = 0; j <= i; j++) {
      const hold = pu * v[j + 1] + pd * v[j];
      v[j] = american ? Math.max(hold, sign * (spotAt[base + 2 * j] - K)) : hold;
    }
    if (i === 2) [f20, f21, f22] = [v[0], v[1], v[2]];
    if (i === 1) [f10, f11] = [v[0], v[1]];
  }
  const price = v[0];
  if (N < 2) return { price, delta: (f11 - f10) / (S * u - S * d), gamma: Number.NaN, theta: Number.NaN };
  const [su, sd, suu, sdd] = [S * u, S * d, S * u * u, S * d * d];
  // Hull (Options, Futures and Other Derivatives, "Estimating delta and other Greek letters"): differences across
  // the layers 1 and 2; the middle node of layer 2 is S again, two steps (2 dt) later
  const delta = (f11 - f10) / (su - sd);
  const gamma = ((f22 - f21) / (suu - S) - (f21 - f20) / (S - sdd)) / (0.5 * (suu - sdd));
  const theta = (f21 - price) / (2 * dt);
  return { price, delta, gamma, theta };
}

/** The tree's value alone (see crrTree). */
export function crrPrice(spec: TreeSpec, p: PricingInputs): number {
  return crrTree(spec, p).price;
}

/** Bumps (absolute) for the tree's vega and rho, large enough to step over the tree's node-crossing noise. */
const VOL_BUMP = 1e-3;
const RATE_BUMP = 1e-4;

/**
 * Every greek from the tree: price, delta, gamma and theta from crrTree, vega and rho by central differences
 * of the tree price (sigma +- 0.001, r +- 0.0001, each the same N; one-sided at the edge of the tree's range).
 * Five trees in all.
 */
export function crrGreeks(spec: TreeSpec, p: PricingInputs): Greeks {
  checkSpec(spec, 2);
  const t = crrTree(spec, p);
  const floor = minTreeVol(p, spec.steps);
  const volDown = Math.max(p.vol - VOL_BUMP, floor);
  const vega = p.years === 0 ? 0 : (crrPrice(spec, { ...p, vol: p.vol + VOL_BUMP }) - crrPrice(spec, { ...p, vol: volDown })) / (p.vol + VOL_BUMP - volDown);
  const rho = p.years === 0 ? 0 : (crrPrice(spec, { ...p, rate: p.rate + RATE_BUMP }) - crrPrice(spec, { ...p, rate: p.rate - RATE_BUMP })) / (2 * RATE_BUMP);
  return { price: t.price, delta: t.delta, gamma: t.gamma, vega, theta: t.theta, rho };
}
