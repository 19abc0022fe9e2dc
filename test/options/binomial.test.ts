import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crrGreeks, crrPrice, crrTree, minTreeVol } from '../../engine/options/binomial.ts';
import { blackScholes } from '../../engine/options/black-scholes.ts';
import type { OptionRight } from '../../engine/options/contract.ts';
import { PricingInputError, type PricingInputs } from '../../engine/options/inputs.ts';
import { numRuns } from '../setup-fast-check.ts';
import { crrCases, fixtureAvailable, inputsOf, relErr } from './fixture.ts';

describe.skipIf(!fixtureAvailable)('CRR tree reproduces ../shared/fixtures/option-cases.json to 1e-9 relative', () => {
  for (const c of crrCases) {
    it(c.case, () => {
      const price = crrPrice({ right: c.put ? 'P' : 'C', style: 'american', steps: c.steps }, inputsOf(c));
      expect(relErr(price, c.expect)).toBeLessThan(1e-9);
    });
  }
});

describe('CRR tree, checked by hand', () => {
  it('a 2-step American put written out node by node', () => {
    // S = 50, K = 52, r = 5%, sigma = 30%, T = 2, N = 2: dt = 1, u = e^0.3, d = e^-0.3,
    // p = (e^0.05 - d) / (u - d), one step's discount e^-0.05
    const [S, K, r] = [50, 52, 0.05];
    const u = Math.exp(0.3);
    const d = 1 / u;
    const p = (Math.exp(r) - d) / (u - d);
    const disc = Math.exp(-r);
    const put = (s: number) => Math.max(K - s, 0);
    // layer 2 (expiry): S u^2 = 67.49, S = 50, S d^2 = 27.44
    const [v22, v21, v20] = [put(S * u * u), put(S), put(S * d * d)];
    // layer 1: hold or exercise; at S d = 37.04 exercising (14.96) beats holding (14.42): early exercise
    const v11 = Math.max(disc * (p * v22 + (1 - p) * v21), put(S * u));
    const v10 = Math.max(disc * (p * v21 + (1 - p) * v20), put(S * d));
    expect(put(S * d)).toBeGreaterThan(disc * (p * v21 + (1 - p) * v20));
    const v00 = Math.max(disc * (p * v11 + (1 - p) * v10), put(S));
    const inputs = { spot: S, strike: K, years: 2, rate: r, dividendYield: 0, vol: 0.3 };
    const t = crrTree({ right: 'P', style: 'american', steps: 2 }, inputs);
    expect(t.price).toBeCloseTo(v00, 13);
    expect(t.delta).toBeCloseTo((v11 - v10) / (S * u - S * d), 13);
    expect(t.theta).toBeCloseTo((v21 - v00) / 2, 13); // (f21 - f00) / (2 dt)
    // European: no exercise at layer 1, so less
    const e = crrPrice({ right: 'P', style: 'european', steps: 2 }, inputs);
    const e11 = disc * (p * v22 + (1 - p) * v21);
    const e10 = disc * (p * v21 + (1 - p) * v20);
    expect(e).toBeCloseTo(disc * (p * e11 + (1 - p) * e10), 13);
    expect(e).toBeLessThan(t.price);
  });

  it('a 1-step tree: the replicating portfolio (delta = (Vu - Vd) / (S u - S d))', () => {
    // S = 100, K = 100, r = 4%, q = 1%, sigma = 20%, T = 0.25: u = e^0.1
    const u = Math.exp(0.2 * 0.5);
    const p = (Math.exp(0.03 * 0.25) - 1 / u) / (u - 1 / u);
    const [vu, vd] = [100 * u - 100, 0];
    const t = crrTree({ right: 'C', style: 'european', steps: 1 }, { spot: 100, strike: 100, years: 0.25, rate: 0.04, dividendYield: 0.01, vol: 0.2 });
    expect(t.price).toBeCloseTo(Math.exp(-0.04 * 0.25) * (p * vu + (1 - p) * vd), 13);
    expect(t.delta).toBeCloseTo((vu - vd) / (100 * u - 100 / u), 14);
    expect(t.gamma).toBeNaN(); // needs two layers
  });

  it("Hull's 5-step American put greeks (S = K = 50, r = 10%, sigma = 40%, 5 months): delta -0.41, gamma 0.03, theta -4.30 per year", () => {
    // Hull, Options, Futures and Other Derivatives, the worked tree of "Estimating delta and other Greek letters",
    // to his two decimals
    const t = crrTree({ right: 'P', style: 'american', steps: 5 }, { spot: 50, strike: 50, years: 5 / 12, rate: 0.1, dividendYield: 0, vol: 0.4 });
    expect(Math.abs(t.delta - -0.41)).toBeLessThan(0.005);
    expect(Math.abs(t.gamma - 0.03)).toBeLessThan(0.005);
    expect(Math.abs(t.theta - -4.3)).toBeLessThan(0.005);
  });

  it('a European tree converges to Black-Scholes, greeks included (1000 steps)', () => {
    for (const p of [
      { spot: 42, strike: 40, years: 0.5, rate: 0.1, dividendYield: 0, vol: 0.2 },
      { spot: 100, strike: 100, years: 1, rate: 0.05, dividendYield: 0.02, vol: 0.25 },
    ]) {
      const bs = blackScholes(p);
      for (const right of ['C', 'P'] as const) {
        const tree = crrTree({ right, style: 'european', steps: 1000 }, p);
        const want = right === 'C' ? bs.call : bs.put;
        // the CRR error is O(1/N): a few thousandths here
        expect(Math.abs(tree.price - want.price)).toBeLessThan(5e-3);
        expect(Math.abs(tree.delta - want.delta)).toBeLessThan(2e-3);
        expect(Math.abs(tree.gamma - want.gamma)).toBeLessThan(2e-3 * want.gamma + 1e-4);
        expect(Math.abs(tree.theta - want.theta)).toBeLessThan(1e-2 * Math.abs(want.theta));
        const g = crrGreeks({ right, style: 'european', steps: 1000 }, p);
        expect(Math.abs(g.vega - want.vega)).toBeLessThan(1e-2 * want.vega);
        expect(Math.abs(g.rho - want.rho)).toBeLessThan(1e-2 * Math.abs(want.rho));
      }
    }
  });

  it('T = 0 gives the intrinsic value', () => {
    const p = { spot: 55, strike: 50, years: 0, rate: 0.05, dividendYield: 0, vol: 0.3 };
    expect(crrTree({ right: 'C', style: 'american', steps: 50 }, p)).toEqual({ price: 5, delta: 1, gamma: 0, theta: 0 });
    expect(crrTree({ right: 'P', style: 'american', steps: 50 }, p)).toEqual({ price: 0, delta: 0, gamma: 0, theta: 0 });
    expect(crrTree({ right: 'P', style: 'american', steps: 50 }, { ...p, spot: 50 }).delta).toBe(-0.5);
  });

  it('rejects what it cannot price, naming the field', () => {
    const p: PricingInputs = { spot: 50, strike: 50, years: 1, rate: 0.3, dividendYield: 0, vol: 0.01 };
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(PricingInputError);
        return (e as PricingInputError).field;
      }
      return 'no error';
    };
    // sigma sqrt(dt) = 0.01 * 0.1 < (r - q) dt = 0.003: the up probability leaves [0, 1]
    expect(minTreeVol(p, 100)).toBeCloseTo(0.03, 15);
    expect(field(() => crrPrice({ right: 'P', style: 'american', steps: 100 }, p))).toBe('vol');
    expect(() => crrPrice({ right: 'P', style: 'american', steps: 100 }, p)).toThrow(/need vol >= 0\.03/);
    expect(field(() => crrPrice({ right: 'P', style: 'american', steps: 100 }, { ...p, vol: 0.031 }))).toBe('no error');
    expect(field(() => crrPrice({ right: 'P', style: 'american', steps: 0 }, p))).toBe('steps');
    expect(field(() => crrPrice({ right: 'P', style: 'american', steps: 2.5 }, p))).toBe('steps');
    expect(field(() => crrGreeks({ right: 'P', style: 'american', steps: 1 }, p))).toBe('steps');
    expect(field(() => crrPrice({ right: 'P', style: 'bermudan' as 'american', steps: 10 }, p))).toBe('style');
    expect(field(() => crrPrice({ right: 'P', style: 'american', steps: 10 }, { ...p, strike: Number.NaN }))).toBe('strike');
  });
});

describe('CRR tree properties (fast-check)', () => {
  const inputs = fc.record({
    spot: fc.double({ min: 5, max: 500, noNaN: true }),
    moneyness: fc.double({ min: -0.8, max: 0.8, noNaN: true }),
    years: fc.double({ min: 0.01, max: 3, noNaN: true }),
    rate: fc.double({ min: -0.01, max: 0.12, noNaN: true }),
    dividendYield: fc.double({ min: 0, max: 0.08, noNaN: true }),
    vol: fc.double({ min: 0.1, max: 1, noNaN: true }),
    steps: fc.integer({ min: 2, max: 150 }),
    right: fc.constantFrom<OptionRight>('C', 'P'),
  });
  // the tree refuses a volatility below minTreeVol (tested above): keep clear of it
  const treeable = (p: PricingInputs, steps: number) => fc.pre(p.vol > 1.01 * minTreeVol(p, steps));
  const toInputs = (g: { spot: number; moneyness: number; years: number; rate: number; dividendYield: number; vol: number }): PricingInputs => ({
    spot: g.spot,
    strike: g.spot * Math.exp(-g.moneyness),
    years: g.years,
    rate: g.rate,
    dividendYield: g.dividendYield,
    vol: g.vol,
  });

  it('American >= European on the same tree, and American >= intrinsic value', () => {
    fc.assert(
      fc.property(inputs, ({ steps, right, ...g }) => {
        const p = toInputs(g);
        treeable(p, steps);
        const american = crrPrice({ right, style: 'american', steps }, p);
        const european = crrPrice({ right, style: 'european', steps }, p);
        const intrinsic = Math.max(right === 'C' ? p.spot - p.strike : p.strike - p.spot, 0);
        expect(american).toBeGreaterThanOrEqual(european - 1e-12 * p.spot);
        expect(american).toBeGreaterThanOrEqual(intrinsic);
      }),
      { numRuns: numRuns(300) },
    );
  });

  it('a European tree keeps put-call parity exactly (its expected growth is e^(r-q)T by construction)', () => {
    fc.assert(
      fc.property(inputs, ({ steps, ...g }) => {
        const p = toInputs(g);
        treeable(p, steps);
        const c = crrPrice({ right: 'C', style: 'european', steps }, p);
        const pu = crrPrice({ right: 'P', style: 'european', steps }, p);
        const parity = p.spot * Math.exp(-p.dividendYield * p.years) - p.strike * Math.exp(-p.rate * p.years);
        expect(Math.abs(c - pu - parity)).toBeLessThan(1e-10 * Math.max(p.spot, p.strike));
      }),
      { numRuns: numRuns(300) },
    );
  });

  it('an American call without dividends (q = 0, r >= 0) is never exercised early: it equals the European', () => {
    fc.assert(
      fc.property(inputs, ({ steps, ...g }) => {
        const p = { ...toInputs(g), dividendYield: 0, rate: Math.abs(g.rate) };
        treeable(p, steps);
        const a = crrPrice({ right: 'C', style: 'american', steps }, p);
        const e = crrPrice({ right: 'C', style: 'european', steps }, p);
        expect(Math.abs(a - e)).toBeLessThan(1e-12 * p.spot);
      }),
      { numRuns: numRuns(200) },
    );
  });
});
