import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crrPrice } from '../../engine/options/binomial.ts';
import { blackScholes, bsmPrice } from '../../engine/options/black-scholes.ts';
import type { OptionRight } from '../../engine/options/contract.ts';
import { impliedVol, impliedVolFromQuote, type IvResult, quoteMid } from '../../engine/options/implied-vol.ts';
import { PricingInputError, type MarketInputs } from '../../engine/options/inputs.ts';
import { numRuns } from '../setup-fast-check.ts';
import { europeanCases, fixtureAvailable, inputsOf, relErr } from './fixture.ts';

function volOf(r: IvResult): number {
  if (!r.ok) throw new Error(`expected a volatility, got ${r.reason}: ${r.message}`);
  return r.vol;
}

describe.skipIf(!fixtureAvailable)('implied volatility round trip on ../shared/fixtures/option-cases.json (every European case, call and put)', () => {
  for (const c of europeanCases) {
    for (const right of ['C', 'P'] as const) {
      it(`${c.case}, ${right === 'C' ? 'call' : 'put'}`, () => {
        const { vol: sigma, ...market } = inputsOf(c);
        // from the fixture's own price, and from ours: both give sigma back
        for (const price of [right === 'C' ? c.expect.call : c.expect.put, bsmPrice(right, inputsOf(c))]) {
          const vol = volOf(impliedVol({ right, style: 'european' }, price, market));
          expect(Math.abs(vol - sigma)).toBeLessThan(1e-8);
          expect(relErr(bsmPrice(right, { ...market, vol }), price)).toBeLessThan(1e-8);
        }
      });
    }
  }
});

// a grid of inputs whose prices are away from the bounds: vega at least 1e-3 of the spot (per 1.00 of vol)
const grid = fc
  .record({
    spot: fc.double({ min: 1, max: 3000, noNaN: true }),
    moneyness: fc.double({ min: -1, max: 1, noNaN: true }),
    years: fc.double({ min: 1 / 365, max: 5, noNaN: true }),
    rate: fc.double({ min: -0.01, max: 0.12, noNaN: true }),
    dividendYield: fc.double({ min: 0, max: 0.1, noNaN: true }),
    vol: fc.double({ min: 0.02, max: 2.5, noNaN: true }),
    right: fc.constantFrom<OptionRight>('C', 'P'),
  })
  .map(({ moneyness, ...g }) => ({ ...g, strike: g.spot * Math.exp(-moneyness) }))
  .filter((g) => blackScholes(g).call.vega > 1e-3 * g.spot);

describe('implied volatility round trip (fast-check)', () => {
  it('European: sigma back to 1e-8, price to 1e-8 relative', () => {
    fc.assert(
      fc.property(grid, ({ right, vol: sigma, ...market }) => {
        const price = bsmPrice(right, { ...market, vol: sigma });
        const r = impliedVol({ right, style: 'european' }, price, market);
        const vol = volOf(r);
        expect(relErr(bsmPrice(right, { ...market, vol }), price)).toBeLessThan(1e-8);
        expect(Math.abs(vol - sigma)).toBeLessThan(1e-8);
        expect(r.ok && r.iterations).toBeLessThan(40);
      }),
      { numRuns: numRuns(500) },
    );
  });
  it('American on a 60-step tree: sigma back to 1e-7, price to 1e-8 relative', () => {
    fc.assert(
      fc.property(
        grid.filter((g) => g.vol > 0.05),
        ({ right, vol: sigma, ...market }) => {
          const spec = { right, style: 'american' as const, steps: 60 };
          const price = crrPrice(spec, { ...market, vol: sigma });
          const vol = volOf(impliedVol(spec, price, market));
          expect(relErr(crrPrice(spec, { ...market, vol }), price)).toBeLessThan(1e-8);
          // sigma itself comes back only where the price depends on it: not where the tree exercises at once
          // (an in-the-money put at a high rate is worth K - S over a range of vols)
          const treeVega = (crrPrice(spec, { ...market, vol: sigma + 1e-3 }) - crrPrice(spec, { ...market, vol: sigma - 1e-3 })) / 2e-3;
          if (treeVega > 1e-3 * market.spot) expect(Math.abs(vol - sigma)).toBeLessThan(1e-7);
        },
      ),
      { numRuns: numRuns(150) },
    );
  });
});

describe('prices no volatility gives', () => {
  const m: MarketInputs = { spot: 449.17, strike: 470, years: 0.08, rate: 0.053, dividendYield: 0 };
  it('an American put below intrinsic value: below-lower-bound, with the numbers and the rule', () => {
    const r = impliedVol({ right: 'P', style: 'american', steps: 100 }, 20.8, m);
    expect(r).toEqual({
      ok: false,
      reason: 'below-lower-bound',
      message: 'implied volatility: price 20.8 of an American put is below its lower bound 20.83 = max(K - S, K e^-rT - S e^-qT, 0): no volatility gives it',
    });
    // the same price as a European put is above its own lower bound K e^-rT - S e^-qT = 18.84 and has a volatility
    expect(volOf(impliedVol({ right: 'P', style: 'european' }, 20.8, m))).toBeGreaterThan(0.1);
  });
  it('at or above the upper bound: above-upper-bound', () => {
    expect(impliedVol({ right: 'C', style: 'european' }, 449.17, m)).toMatchObject({ ok: false, reason: 'above-upper-bound' });
    expect(impliedVol({ right: 'P', style: 'american', steps: 50 }, 470, m)).toMatchObject({ ok: false, reason: 'above-upper-bound' });
  });
  it('a negative rate lifts an American put above its strike (the bound is max(K, K e^-rT)), and it is solved', () => {
    // K e^-rT = 110.5; at 150% vol the put is worth about 106.6
    const neg: MarketInputs = { spot: 5, strike: 100, years: 2, rate: -0.05, dividendYield: 0 };
    const spec = { right: 'P' as const, style: 'american' as const, steps: 100 };
    const price = crrPrice(spec, { ...neg, vol: 1.5 });
    expect(price).toBeGreaterThan(100);
    expect(Math.abs(volOf(impliedVol(spec, price, neg)) - 1.5)).toBeLessThan(1e-7);
  });
  it('a European price at the lower bound has volatility 0', () => {
    const F = m.spot;
    const Kd = m.strike * Math.exp(-m.rate * m.years);
    expect(impliedVol({ right: 'P', style: 'european' }, Kd - F, m)).toEqual({ ok: true, vol: 0, iterations: 0 });
  });
  it('inside the bounds but beyond the model: below-model-range (tree) and above-model-range', () => {
    // at the forward (r = q) the tree at its lowest vol (1e-4) is worth ~ S 1e-4 sqrt(T) n(0) = 0.004
    const atm: MarketInputs = { spot: 100, strike: 100, years: 1, rate: 0.02, dividendYield: 0.02 };
    expect(impliedVol({ right: 'C', style: 'american', steps: 100 }, 0.001, atm)).toMatchObject({ ok: false, reason: 'below-model-range' });
    // a call worth all but 1e-9 of its upper bound needs more than 1000% volatility
    const upper = 100 * Math.exp(-0.02);
    expect(impliedVol({ right: 'C', style: 'european' }, upper - 1e-9, atm)).toMatchObject({ ok: false, reason: 'above-model-range' });
    expect(volOf(impliedVol({ right: 'C', style: 'european' }, upper - 1e-9, atm, { maxVol: 40 }))).toBeGreaterThan(10);
  });
  it('at expiry: expired', () => {
    expect(impliedVol({ right: 'C', style: 'european' }, 1, { ...m, years: 0 })).toMatchObject({ ok: false, reason: 'expired' });
  });
  it('a price that is not a number throws, naming the field', () => {
    expect(() => impliedVol({ right: 'C', style: 'european' }, Number.NaN, m)).toThrow(PricingInputError);
    expect(() => impliedVol({ right: 'C', style: 'european' }, -1, m)).toThrow(/price = -1: must be a finite number >= 0/);
    expect(() => impliedVol({ right: 'C', style: 'european' }, 1, { ...m, spot: -5 })).toThrow(/spot = -5/);
    expect(() => impliedVol({ right: 'C', style: 'european' }, 1, m, { maxVol: 0 })).toThrow(/maxVol = 0/);
    expect(() => impliedVol({ right: 'C', style: 'american', steps: 0 }, 1, m)).toThrow(/steps = 0/);
  });
});

describe('quotes', () => {
  it('the mid of a two-sided quote; a locked quote is its own mid', () => {
    expect(quoteMid(2.2, 2.5)).toEqual({ ok: true, mid: 2.35 });
    expect(quoteMid(1.4, 1.4)).toEqual({ ok: true, mid: 1.4 });
  });
  it('refuses one-sided quotes (a side missing, NaN or 0) and crossed ones, saying why', () => {
    for (const [bid, ask] of [
      [null, 1.2],
      [1.1, undefined],
      [Number.NaN, 1.2],
      [0, 0.05],
    ] as const) {
      expect(quoteMid(bid, ask)).toMatchObject({ ok: false, reason: 'one-sided-quote' });
    }
    expect(quoteMid(1.3, 1.2)).toEqual({ ok: false, reason: 'crossed-quote', message: 'quote mid: bid 1.3 is above ask 1.2 (crossed quote)' });
  });
  it('implied volatility from a quote uses its mid, or passes the refusal on', () => {
    const m: MarketInputs = { spot: 42, strike: 40, years: 0.5, rate: 0.1, dividendYield: 0 };
    const price = bsmPrice('C', { ...m, vol: 0.2 });
    const r = impliedVolFromQuote({ right: 'C', style: 'european' }, { bid: price - 0.05, ask: price + 0.05 }, m);
    expect(Math.abs(volOf(r) - 0.2)).toBeLessThan(1e-8);
    expect(impliedVolFromQuote({ right: 'C', style: 'european' }, { bid: null, ask: 5 }, m)).toMatchObject({ ok: false, reason: 'one-sided-quote' });
  });
});
