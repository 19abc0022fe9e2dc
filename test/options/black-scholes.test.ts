import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blackScholes, bsmGreeks, bsmPrice, type Greeks } from '../../engine/options/black-scholes.ts';
import type { OptionRight } from '../../engine/options/contract.ts';
import { PricingInputError, type PricingInputs } from '../../engine/options/inputs.ts';
import { numRuns } from '../setup-fast-check.ts';
import { europeanCases, fixtureAvailable, inputsOf, relErr } from './fixture.ts';

describe.skipIf(!fixtureAvailable)('Black-Scholes-Merton reproduces ../shared/fixtures/option-cases.json to 1e-9 relative', () => {
  for (const c of europeanCases) {
    it(c.case, () => {
      const v = blackScholes(inputsOf(c));
      const got: Record<keyof typeof c.expect, number> = {
        d1: v.d1,
        d2: v.d2,
        call: v.call.price,
        put: v.put.price,
        call_delta: v.call.delta,
        put_delta: v.put.delta,
        gamma: v.call.gamma,
        vega: v.call.vega,
        call_theta: v.call.theta,
        put_theta: v.put.theta,
        call_rho: v.call.rho,
        put_rho: v.put.rho,
      };
      expect(Object.keys(c.expect).sort()).toEqual(Object.keys(got).sort()); // every figure of the case is checked
      for (const [k, want] of Object.entries(c.expect)) expect(relErr(got[k as keyof typeof got], want), k).toBeLessThan(1e-9);
      // gamma and vega are the same for the call and the put
      expect(v.put.gamma).toBe(v.call.gamma);
      expect(v.put.vega).toBe(v.call.vega);
    });
  }
});

// Inputs around the money, within 2.5 standard deviations (|ln S/K| <= 2.5 sigma sqrt(T)), where every greek is far
// from 0, so a relative tolerance is meaningful.
const moderate = fc.record({
  spot: fc.double({ min: 10, max: 1000, noNaN: true }),
  deviations: fc.double({ min: -2.5, max: 2.5, noNaN: true }),
  years: fc.double({ min: 0.05, max: 3, noNaN: true }),
  rate: fc.double({ min: -0.02, max: 0.1, noNaN: true }),
  dividendYield: fc.double({ min: -0.02, max: 0.08, noNaN: true }),
  vol: fc.double({ min: 0.05, max: 1.2, noNaN: true }),
});
const toInputs = (g: { spot: number; moneyness: number; years: number; rate: number; dividendYield: number; vol: number }): PricingInputs => ({
  spot: g.spot,
  strike: g.spot * Math.exp(-g.moneyness),
  years: g.years,
  rate: g.rate,
  dividendYield: g.dividendYield,
  vol: g.vol,
});

/** Each greek as a central finite difference of the price function alone: catches a wrong sign or unit. */
function finiteDifferences(right: OptionRight, p: PricingInputs): Omit<Greeks, 'price'> {
  const price = (q: Partial<PricingInputs>) => bsmPrice(right, { ...p, ...q });
  // steps on the scale the price curves on, S sigma sqrt(T) (a short-dated option bends sharply at the strike)
  const width = p.spot * p.vol * Math.sqrt(p.years);
  const hS = width * 1e-4;
  const hG = width * 2e-3;
  const h = 1e-5;
  const hT = Math.min(1e-5, p.years / 10);
  return {
    delta: (price({ spot: p.spot + hS }) - price({ spot: p.spot - hS })) / (2 * hS),
    gamma: (price({ spot: p.spot + hG }) - 2 * price({}) + price({ spot: p.spot - hG })) / (hG * hG),
    vega: (price({ vol: p.vol + h }) - price({ vol: p.vol - h })) / (2 * h),
    // theta is dV/dt: time passing shortens T
    theta: -(price({ years: p.years + hT }) - price({ years: p.years - hT })) / (2 * hT),
    rho: (price({ rate: p.rate + h }) - price({ rate: p.rate - h })) / (2 * h),
  };
}

describe('the greeks are the derivatives of the price (central differences, independent of the fixture)', () => {
  const check = (right: OptionRight, p: PricingInputs) => {
    const g = bsmGreeks(right, p);
    const fd = finiteDifferences(right, p);
    for (const k of ['delta', 'gamma', 'vega', 'theta', 'rho'] as const) {
      // 1e-5 relative, with an absolute floor for a greek near 0 (a deep out-of-the-money delta)
      const scale = { delta: 1, gamma: 1 / p.spot, vega: p.spot, theta: p.spot, rho: p.strike }[k];
      expect(Math.abs(g[k] - fd[k]), `${right} ${k}: ${g[k]} vs ${fd[k]}`).toBeLessThanOrEqual(1e-5 * Math.abs(fd[k]) + 1e-7 * scale);
    }
  };
  it.skipIf(!fixtureAvailable)('at the fixture cases', () => {
    for (const c of europeanCases) for (const right of ['C', 'P'] as const) check(right, inputsOf(c));
  });
  it('over random inputs around the money', () => {
    fc.assert(
      fc.property(moderate, fc.constantFrom<OptionRight>('C', 'P'), ({ deviations, ...g }, right) =>
        check(right, toInputs({ ...g, moneyness: deviations * g.vol * Math.sqrt(g.years) })),
      ),
      { numRuns: numRuns(300) },
    );
  });
});

describe('no-arbitrage relations (fast-check)', () => {
  const wide = fc.record({
    spot: fc.double({ min: 0.5, max: 5000, noNaN: true }),
    moneyness: fc.double({ min: -2, max: 2, noNaN: true }),
    years: fc.double({ min: 0, max: 10, noNaN: true }),
    rate: fc.double({ min: -0.05, max: 0.2, noNaN: true }),
    dividendYield: fc.double({ min: -0.05, max: 0.2, noNaN: true }),
    vol: fc.double({ min: 0, max: 3, noNaN: true }),
  });
  it('put-call parity: C - P = S e^-qT - K e^-rT, and the same for every greek', () => {
    fc.assert(
      fc.property(wide, (g) => {
        const p = toInputs(g);
        const { call, put } = blackScholes(p);
        const F = p.spot * Math.exp(-p.dividendYield * p.years);
        const Kd = p.strike * Math.exp(-p.rate * p.years);
        const scale = Math.max(p.spot, p.strike);
        expect(Math.abs(call.price - put.price - (F - Kd))).toBeLessThanOrEqual(1e-9 * scale);
        expect(Math.abs(call.delta - put.delta - Math.exp(-p.dividendYield * p.years))).toBeLessThanOrEqual(1e-12);
        expect(put.gamma).toBe(call.gamma);
        expect(put.vega).toBe(call.vega);
        // d/dt (S e^-qT - K e^-rT) = q S e^-qT - r K e^-rT; d/dr = K T e^-rT
        // theta's volatility term, the same on both sides, grows as 1/sqrt(T) and absorbs the rest near expiry
        const absorbed = 4 * Number.EPSILON * Math.abs(call.theta);
        expect(Math.abs(call.theta - put.theta - (p.dividendYield * F - p.rate * Kd))).toBeLessThanOrEqual(1e-9 * scale + absorbed);
        expect(Math.abs(call.rho - put.rho - p.strike * p.years * Math.exp(-p.rate * p.years))).toBeLessThanOrEqual(1e-9 * scale * Math.max(1, p.years));
      }),
      { numRuns: numRuns(500) },
    );
  });
  it('prices sit inside their bounds: max(F - Kd, 0) <= C <= F and max(Kd - F, 0) <= P <= Kd', () => {
    fc.assert(
      fc.property(wide, (g) => {
        const p = toInputs(g);
        const { call, put } = blackScholes(p);
        const F = p.spot * Math.exp(-p.dividendYield * p.years);
        const Kd = p.strike * Math.exp(-p.rate * p.years);
        const eps = 1e-12 * Math.max(F, Kd);
        expect(call.price).toBeGreaterThanOrEqual(Math.max(F - Kd, 0) - eps);
        expect(call.price).toBeLessThanOrEqual(F + eps);
        expect(put.price).toBeGreaterThanOrEqual(Math.max(Kd - F, 0) - eps);
        expect(put.price).toBeLessThanOrEqual(Kd + eps);
        for (const v of [call, put]) {
          expect(v.gamma).toBeGreaterThanOrEqual(0);
          expect(v.vega).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: numRuns(500) },
    );
  });
});

describe('edge cases: at expiry (T = 0) and without volatility (sigma = 0)', () => {
  const base: PricingInputs = { spot: 105, strike: 100, years: 0.5, rate: 0.05, dividendYield: 0.01, vol: 0.3 };

  it('T = 0: intrinsic value, delta the payoff slope, no gamma, vega or rho', () => {
    const itm = blackScholes({ ...base, years: 0 });
    expect(itm.call).toEqual({ price: 5, delta: 1, gamma: 0, vega: 0, theta: 0.01 * 105 - 0.05 * 100, rho: 0 });
    expect(itm.put).toEqual({ price: 0, delta: -0, gamma: 0, vega: 0, theta: 0, rho: -0 });
    const otm = blackScholes({ ...base, spot: 95, years: 0 });
    expect(otm.call.price).toBe(0);
    expect(otm.call.delta).toBe(0);
    expect(otm.put.price).toBe(5);
    expect(otm.put.delta).toBe(-1);
    // at the strike: the average of the two sides
    const atm = blackScholes({ ...base, spot: 100, years: 0 });
    expect([atm.d1, atm.call.price, atm.call.delta, atm.put.delta, atm.call.gamma]).toEqual([0, 0, 0.5, -0.5, 0]);
  });

  it('T = 0 is the limit of T -> 0 away from the strike (theta = q S - r K for an in-the-money call)', () => {
    for (const spot of [90, 110]) {
      const at = blackScholes({ ...base, spot, years: 0 });
      const near = blackScholes({ ...base, spot, years: 1e-9 });
      for (const side of ['call', 'put'] as const) {
        for (const k of ['price', 'delta', 'gamma', 'vega', 'theta', 'rho'] as const) {
          expect(Math.abs(at[side][k] - near[side][k]), `${spot} ${side} ${k}`).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('sigma = 0: the discounted payoff of the forward, the limit of sigma -> 0', () => {
    const v = blackScholes({ ...base, vol: 0 });
    const F = 105 * Math.exp(-0.01 * 0.5);
    const Kd = 100 * Math.exp(-0.05 * 0.5);
    expect(v.call.price).toBeCloseTo(F - Kd, 12);
    expect(v.put.price).toBe(0);
    expect(v.call.delta).toBeCloseTo(Math.exp(-0.01 * 0.5), 15);
    expect(v.call.rho).toBeCloseTo(100 * 0.5 * Math.exp(-0.05 * 0.5), 12);
    expect(v.call.theta).toBeCloseTo(0.01 * F - 0.05 * Kd, 12);
    const near = blackScholes({ ...base, vol: 1e-7 });
    for (const side of ['call', 'put'] as const) {
      for (const k of ['price', 'delta', 'gamma', 'vega', 'theta', 'rho'] as const)
        expect(Math.abs(v[side][k] - near[side][k]), `${side} ${k}`).toBeLessThan(1e-9);
    }
  });

  it('sigma = 0 at the forward (S e^-qT = K e^-rT): price 0, vega the one-sided slope S e^-qT sqrt(T) n(0)', () => {
    const p = { spot: 100, strike: 100, years: 1, rate: 0.03, dividendYield: 0.03, vol: 0 };
    const v = blackScholes(p);
    expect(v.call.price).toBe(0);
    expect(v.call.delta).toBeCloseTo(0.5 * Math.exp(-0.03), 15);
    const slope = (100 * Math.exp(-0.03)) / Math.sqrt(2 * Math.PI);
    expect(v.call.vega).toBeCloseTo(slope, 12);
    // the price rises linearly from there: V(h) / h -> the vega
    expect(bsmPrice('C', { ...p, vol: 1e-8 }) / 1e-8).toBeCloseTo(slope, 6);
  });

  it('rejects inputs it cannot price, naming the field', () => {
    const bad: [Partial<PricingInputs>, string][] = [
      [{ spot: Number.NaN }, 'spot'],
      [{ spot: -1 }, 'spot'],
      [{ spot: 0 }, 'spot'],
      [{ strike: -100 }, 'strike'],
      [{ years: -0.1 }, 'years'],
      [{ years: Number.POSITIVE_INFINITY }, 'years'],
      [{ vol: -0.2 }, 'vol'],
      [{ vol: Number.NaN }, 'vol'],
      [{ rate: Number.NaN }, 'rate'],
      [{ dividendYield: Number.NEGATIVE_INFINITY }, 'dividendYield'],
    ];
    for (const [patch, field] of bad) {
      let caught: unknown;
      try {
        blackScholes({ ...base, ...patch });
      } catch (e) {
        caught = e;
      }
      expect(caught, field).toBeInstanceOf(PricingInputError);
      expect((caught as PricingInputError).field).toBe(field);
      expect((caught as Error).message).toContain(`${field} = `);
    }
    expect(() => bsmPrice('X' as OptionRight, base)).toThrow(/right = X: must be 'C' \(call\) or 'P' \(put\)/);
    // negative rates and yields are real (EUR 2015-2022) and priced
    expect(bsmPrice('C', { ...base, rate: -0.005, dividendYield: -0.01 })).toBeGreaterThan(0);
  });
});
