// buildChain and analyzeQuote on hand-made quotes: grouping, the filters (each case's expected set written with
// its rule), quote problems, pricing round trips, and fast-check properties of the strike filters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localToUtcExact } from '../../engine/core/timezone.ts';
import type { Right } from '../../engine/instruments/instrument.ts';
import { usEquityOption } from '../../engine/instruments/specs.ts';
import { crrGreeks, crrPrice } from '../../engine/options/binomial.ts';
import { bsmGreeks, bsmPrice } from '../../engine/options/black-scholes.ts';
import { yearsToExpiry } from '../../engine/options/contract.ts';
import { analyzeQuote, buildChain, ChainFilterError, chainEntries, expiryRange, type OptionQuote } from '../../engine/options/chain.ts';
import { optionStoreSymbol } from '../../engine/options/chain-store.ts';

const et = (dateTime: string) => localToUtcExact('America/New_York', Date.parse(`${dateTime.replace(' ', 'T')}:00Z`));
const NOW = et('2015-12-24 11:00');

function quote(expiry: string, strike: number, right: Right, bid: number | null, ask: number | null, extra: Partial<OptionQuote> = {}): OptionQuote {
  const contract = usEquityOption({ underlying: 'GOOG', expiry, strike, right });
  return { symbol: optionStoreSymbol(contract), contract, bid, ask, bidSize: bid === null ? 0 : 5, askSize: ask === null ? 0 : 5, time: NOW, ...extra };
}

/** Calls and puts at every strike of every expiry, two-sided, given in a shuffled order. */
function grid(expiries: string[], strikes: number[]): OptionQuote[] {
  const out: OptionQuote[] = [];
  for (const e of expiries) for (const k of strikes) for (const r of ['P', 'C'] as const) out.push(quote(e, k, r, 1, 1.2));
  return out.reverse();
}

const strikesBy = (c: ReturnType<typeof buildChain>) => c.expiries.map((e) => [e.expiry, e.strikes.map((s) => s.strike)]);

describe('buildChain: grouping and filters', () => {
  it('groups by expiry (nearest first), sorts strikes, and puts the call and the put of a strike side by side', () => {
    const chain = buildChain(grid(['2016-01-15', '2015-12-31'], [760, 740, 750]), 749.23, NOW);
    expect(strikesBy(chain)).toEqual([
      ['2015-12-31', [740, 750, 760]],
      ['2016-01-15', [740, 750, 760]],
    ]);
    const row = chain.expiries[0]!.strikes[1]!;
    expect([row.call!.symbol, row.put!.symbol]).toEqual(['GOOG151231C00750000', 'GOOG151231P00750000']);
    expect(chainEntries(chain).map((e) => e.symbol.slice(4, 11))).toEqual([
      '151231C',
      '151231P',
      '151231C',
      '151231P',
      '151231C',
      '151231P',
      '160115C',
      '160115P',
      '160115C',
      '160115P',
      '160115C',
      '160115P',
    ]);
    expect(chain.underlying).toBe('GOOG');
    expect(chain.expiries.map((e) => e.days)).toEqual([7, 22]); // from Thursday 2015-12-24
  });

  it('N strikes around the money: the N nearest, the lower strike first on a tie', () => {
    const q = grid(['2016-01-15'], [740, 745, 750, 755]);
    // spot 747.5 is 2.5 from 745 and from 750, 7.5 from 740 and from 755
    expect(strikesBy(buildChain(q, 747.5, NOW, { strikes: 1 }))).toEqual([['2016-01-15', [745]]]);
    expect(strikesBy(buildChain(q, 747.5, NOW, { strikes: 2 }))).toEqual([['2016-01-15', [745, 750]]]);
    expect(strikesBy(buildChain(q, 747.5, NOW, { strikes: 3 }))).toEqual([['2016-01-15', [740, 745, 750]]]);
    expect(strikesBy(buildChain(q, 747.5, NOW, { strikes: 9 }))).toEqual([['2016-01-15', [740, 745, 750, 755]]]);
  });

  it('a moneyness band keeps lo <= K / S <= hi, edges included; then strikes picks within it', () => {
    const q = grid(['2016-01-15'], [90, 94, 95, 100, 105, 106, 110]);
    expect(strikesBy(buildChain(q, 100, NOW, { moneyness: [0.95, 1.05] }))).toEqual([['2016-01-15', [95, 100, 105]]]);
    expect(strikesBy(buildChain(q, 100, NOW, { moneyness: [1, 1.1], strikes: 2 }))).toEqual([['2016-01-15', [100, 105]]]);
    expect(buildChain(q, 100, NOW, { moneyness: [1.2, 1.3] }).expiries).toEqual([]); // an expiry with no strike left is dropped
  });

  it('right: calls or puts only', () => {
    const calls = buildChain(grid(['2016-01-15'], [740, 750]), 749, NOW, { right: 'C' });
    expect(chainEntries(calls).map((e) => e.contract.right)).toEqual(['C', 'C']);
    expect(calls.expiries[0]!.strikes.every((s) => s.put === null)).toBe(true);
  });

  it('expiry ranges by date and by days count in New York dates; expired series are left out; the nearest N expiries', () => {
    const expiries = ['2015-12-23', '2015-12-24', '2015-12-31', '2016-01-15', '2016-02-19'];
    const q = grid(expiries, [750]);
    // 23:30 in New York is already 2015-12-25 in UTC: the day count is from the New York date, 2015-12-24
    const late = et('2015-12-24 23:30');
    expect(new Date(late).toISOString().slice(0, 10)).toBe('2015-12-25');
    const all = buildChain(q, 750, late);
    expect(all.expiries.map((e) => [e.expiry, e.days])).toEqual([
      ['2015-12-24', 0],
      ['2015-12-31', 7],
      ['2016-01-15', 22],
      ['2016-02-19', 57],
    ]);
    expect(buildChain(q, 750, late, { maxDays: 0 }).expiries.map((e) => e.expiry)).toEqual(['2015-12-24']);
    expect(buildChain(q, 750, late, { minDays: 8, maxDays: 57 }).expiries.map((e) => e.expiry)).toEqual(['2016-01-15', '2016-02-19']);
    expect(buildChain(q, 750, late, { expiryFrom: '2015-12-25', expiryTo: '2016-01-31' }).expiries.map((e) => e.expiry)).toEqual(['2015-12-31', '2016-01-15']);
    // both given: the narrower bound of each side wins
    expect(expiryRange({ expiryFrom: '2015-12-20', minDays: 7, expiryTo: '2016-03-01', maxDays: 30 }, late)).toEqual({ from: '2015-12-31', to: '2016-01-23' });
    expect(buildChain(q, 750, late, { expiries: 2 }).expiries.map((e) => e.expiry)).toEqual(['2015-12-24', '2015-12-31']);
  });

  it('groups a pre-2015 monthly by its OCC Saturday and reports its last trading day (the Friday)', () => {
    const june = usEquityOption({ underlying: 'AAPL', expiry: '2014-06-21', strike: 92.86, right: 'C' });
    const q: OptionQuote = { symbol: optionStoreSymbol(june), contract: june, bid: 1, ask: 1.1, bidSize: 1, askSize: 1, time: et('2014-06-09 11:00') };
    const chain = buildChain([q], 92.62, q.time, { maxDays: 11 }); // 2014-06-09 + 11 = 06-20, the last trading day
    expect(chain.expiries.map((e) => [e.expiry, e.occExpiry, e.days])).toEqual([['2014-06-20', '2014-06-21', 11]]);
    expect(q.symbol).toBe('AAPL140621C00092860');
  });

  it('refuses a bad filter, naming the field; a bad spot; two underlyings; a contract quoted twice', () => {
    const q = grid(['2016-01-15'], [750]);
    const bad: [object, RegExp][] = [
      [{ strikes: 0 }, /strikes must be a whole number >= 1, got 0/],
      [{ strikes: 2.5 }, /strikes/],
      [{ expiries: -1 }, /expiries/],
      [{ minDays: -1 }, /minDays must be a whole number of days >= 0/],
      [{ maxDays: Number.NaN }, /maxDays/],
      [{ expiryFrom: '2016-02-30' }, /expiryFrom must be a date YYYY-MM-DD, got '2016-02-30'/],
      [{ moneyness: [1.1, 0.9] }, /moneyness must be \[lo, hi\] with 0 < lo <= hi/],
      [{ moneyness: [0, 1] }, /moneyness/],
      [{ right: 'X' }, /right must be 'C' or 'P'/],
    ];
    for (const [f, msg] of bad) {
      expect(() => buildChain(q, 750, NOW, f)).toThrow(ChainFilterError);
      expect(() => buildChain(q, 750, NOW, f)).toThrow(msg);
    }
    expect(() => buildChain(q, 0, NOW)).toThrow(/spot = 0/);
    expect(() => buildChain(q, Number.NaN, NOW)).toThrow(/spot = NaN/);
    const aapl = usEquityOption({ underlying: 'AAPL', expiry: '2016-01-15', strike: 95, right: 'C' });
    const mixed = [...q, { ...q[0]!, symbol: optionStoreSymbol(aapl), contract: aapl }];
    expect(() => buildChain(mixed, 750, NOW)).toThrow(/AAPL160115C00095000 is on AAPL, the chain on GOOG/);
    expect(() => buildChain([...q, q[0]!], 750, NOW)).toThrow(/GOOG160115C00750000 is quoted twice/);
    expect(() => buildChain(q, 750, NOW, {}, { rate: Number.NaN })).toThrow(/rate = NaN/);
    expect(() => buildChain(q, 750, NOW, {}, { rate: 0, steps: 1 })).toThrow(/steps = 1/);
    expect(buildChain([], 750, NOW)).toEqual({ underlying: null, spot: 750, now: NOW, expiries: [] });
  });
});

describe('buildChain: strike filter properties', () => {
  const strikeSet = fc.uniqueArray(
    fc.integer({ min: 1, max: 400 }).map((k) => k * 2.5),
    { minLength: 1, maxLength: 40 },
  );
  it('strikes: N keeps min(N, all) strikes, none of the dropped nearer the spot than a kept one', () => {
    fc.assert(
      fc.property(strikeSet, fc.double({ min: 1, max: 1100, noNaN: true }), fc.integer({ min: 1, max: 50 }), (ks, spot, n) => {
        const kept = buildChain(grid(['2016-01-15'], ks), spot, NOW, { strikes: n }).expiries[0]!.strikes.map((s) => s.strike);
        expect(kept).toHaveLength(Math.min(n, ks.length));
        expect(kept).toEqual([...kept].sort((a, b) => a - b));
        const far = Math.max(...kept.map((k) => Math.abs(k - spot)));
        for (const k of ks) if (!kept.includes(k)) expect(Math.abs(k - spot)).toBeGreaterThanOrEqual(far);
      }),
    );
  });
  it('moneyness [lo, hi] keeps exactly the strikes with lo <= K / S <= hi', () => {
    fc.assert(
      fc.property(
        strikeSet,
        fc.double({ min: 1, max: 1100, noNaN: true }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 1.5, noNaN: true }),
        (ks, spot, lo, hi) => {
          const chain = buildChain(grid(['2016-01-15'], ks), spot, NOW, { moneyness: [lo, hi] });
          const kept = chain.expiries[0]?.strikes.map((s) => s.strike) ?? [];
          expect(kept).toEqual(ks.filter((k) => k / spot >= lo && k / spot <= hi).sort((a, b) => a - b));
        },
      ),
    );
  });
});

describe('analyzeQuote: mids, quote problems and pricing', () => {
  const market = (q: OptionQuote, S: number) => ({
    spot: S,
    strike: q.contract.strike,
    years: yearsToExpiry(q.contract.expiry, q.time),
    rate: 0.01,
    dividendYield: 0,
  });

  it('mid and spread of a two-sided quote; a missing or zero side is one-sided, bid above ask crossed; a locked quote has its mid', () => {
    expect(analyzeQuote(quote('2016-01-15', 750, 'C', 13.4, 13.8))).toMatchObject({ mid: 13.600000000000001, reason: null, iv: null });
    expect(analyzeQuote(quote('2016-01-15', 750, 'C', 13.4, 13.8)).spread).toBeCloseTo(0.4, 12);
    expect(analyzeQuote(quote('2016-01-15', 600, 'P', null, 0.5))).toMatchObject({ mid: null, spread: null, reason: 'one-sided-quote' });
    // an option bid of 0 only says nobody bids: no mid (quoteMid's rule)
    expect(analyzeQuote(quote('2016-01-15', 600, 'P', 0, 0.5))).toMatchObject({ mid: null, spread: 0.5, reason: 'one-sided-quote' });
    const crossed = analyzeQuote(quote('2016-01-15', 600, 'P', 0.02, 0.01), { rate: 0 }, 750);
    expect(crossed).toMatchObject({ mid: null, iv: null, greeks: null, reason: 'crossed-quote' });
    expect(crossed.spread).toBeCloseTo(-0.01, 12);
    expect(crossed.message).toMatch(/^GOOG160115P00600000: .*crossed/);
    expect(analyzeQuote(quote('2016-01-15', 805, 'C', 0.4, 0.4))).toMatchObject({ mid: 0.4, spread: 0, reason: null });
  });

  it('BSM: the IV of a mid made at 25% is 25%, with the closed-form greeks', () => {
    const q0 = quote('2016-01-15', 740, 'P', 1, 1);
    const p = { ...market(q0, 749.23), vol: 0.25 };
    const price = bsmPrice('P', p);
    const a = analyzeQuote({ ...q0, bid: price, ask: price }, { rate: 0.01, model: 'bsm' }, 749.23);
    expect(Math.abs(a.iv! - 0.25)).toBeLessThan(1e-9);
    const g = bsmGreeks('P', { ...p, vol: a.iv! });
    expect(a.greeks).toEqual(g);
  });

  it('CRR (the default, 100 steps): the IV of a mid made on the same tree at 30% is 30%, with the tree greeks', () => {
    const q0 = quote('2016-01-15', 760, 'P', 1, 1);
    const p = { ...market(q0, 749.23), vol: 0.3 };
    const tree = { right: 'P' as const, style: 'american' as const, steps: 100 };
    const price = crrPrice(tree, p);
    const a = analyzeQuote({ ...q0, bid: price, ask: price }, { rate: 0.01 }, 749.23);
    expect(Math.abs(a.iv! - 0.3)).toBeLessThan(1e-8);
    expect(a.greeks).toEqual(crrGreeks(tree, { ...p, vol: a.iv! }));
    // 200 steps is another tree: a slightly different IV for the same price
    const a200 = analyzeQuote({ ...q0, bid: price, ask: price }, { rate: 0.01, steps: 200 }, 749.23);
    expect(Math.abs(a200.iv! - 0.3)).toBeGreaterThan(1e-6);
    expect(Math.abs(a200.iv! - 0.3)).toBeLessThan(5e-3);
  });

  it("prices against the quote's own underlying price before the chain's spot, and says when there is none", () => {
    const q0 = quote('2016-01-15', 750, 'C', 13.4, 13.8);
    const own = analyzeQuote({ ...q0, underlyingPrice: 749 }, { rate: 0.0025 }, 760);
    const spot = analyzeQuote(q0, { rate: 0.0025 }, 760);
    expect(own.underlyingPrice).toBe(749);
    expect(spot.underlyingPrice).toBe(760);
    expect(own.iv!).toBeGreaterThan(spot.iv!); // the same price is a higher vol when the call is further out of the money
    expect(analyzeQuote(q0, { rate: 0.0025 })).toMatchObject({ mid: 13.600000000000001, iv: null, reason: 'no-underlying' });
  });

  it("years to expiry are contract.ts's yearsToExpiry at the quote's time, to the bit", () => {
    for (const [expiry, time] of [
      ['2016-01-15', NOW],
      ['2015-12-24', et('2015-12-24 12:59')], // Christmas Eve: the half day closes at 13:00
      ['2015-12-24', et('2015-12-24 16:00')],
      ['2014-06-21', et('2014-06-09 11:00')], // a Saturday OCC date: the Friday's close
    ] as const) {
      const q = quote(expiry, 750, 'C', 1, 2, { time });
      expect(analyzeQuote(q).years).toBe(yearsToExpiry(expiry, time));
    }
    expect(() => analyzeQuote(quote('2016-01-15', 750, 'C', 1, 2, { time: Number.NaN }))).toThrow(/GOOG160115C00750000: time = NaN/);
  });

  it('a mid below intrinsic has no IV and says why; at expiry the reason is expired', () => {
    const deep = analyzeQuote(quote('2016-01-15', 600, 'C', 140, 141), { rate: 0.0025 }, 749.23); // mid 140.5 < 149.23
    expect(deep).toMatchObject({ iv: null, greeks: null, reason: 'below-lower-bound' });
    const expired = analyzeQuote(quote('2015-12-24', 750, 'C', 0.1, 0.2, { time: et('2015-12-24 13:00') }), { rate: 0.0025 }, 749.23);
    expect(expired).toMatchObject({ years: 0, iv: null, reason: 'expired' });
  });
});
