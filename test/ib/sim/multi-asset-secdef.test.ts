// The simulator's security definitions (secdef.ts) and option computations (option-data.ts), in process: IB's
// contract matching as properties over generated chains, conIds, chain parameters, and the computation's
// values and units against a hand-computed Black-Scholes case.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BarSeries } from '../../../engine/core/types.ts';
import { type InstrumentRow, instrumentRow } from '../../../engine/data/instruments.ts';
import { futureKey } from '../../../engine/data/lean-future-rows.ts';
import { optionKey } from '../../../engine/data/lean-options.ts';
import type { IbContract } from '../../../engine/ib/protocol/contract.ts';
import { conIdFor, derivativeConIdFor } from '../../../engine/ib/sim/contracts.ts';
import { lastCloseAt, optionComputation } from '../../../engine/ib/sim/option-data.ts';
import { SecDefs } from '../../../engine/ib/sim/secdef.ts';
import { futureContract, idealproPair, usEquityOption } from '../../../engine/instruments/specs.ts';
import { crrPrice } from '../../../engine/options/binomial.ts';
import { expiryCloseMs } from '../../../engine/options/contract.ts';

const NY = 'America/New_York';
const EMPTY: IbContract = {
  conId: 0,
  symbol: '',
  secType: '',
  lastTradeDateOrContractMonth: '',
  strike: '',
  right: '',
  multiplier: '',
  exchange: '',
  primaryExch: '',
  currency: '',
  localSymbol: '',
  tradingClass: '',
};
const req = (k: Partial<IbContract>): IbContract => ({ ...EMPTY, ...k });

function optionRow(underlying: string, expiry: string, strike: number, right: 'C' | 'P'): InstrumentRow {
  const inst = usEquityOption({ underlying, expiry, strike, right });
  return instrumentRow(optionKey(inst), inst, NY);
}
function futureRow(root: string, month: string): InstrumentRow {
  return instrumentRow(futureKey(root, month), futureContract(root, month), 'America/Chicago');
}
const pairRow = (pair: string) => instrumentRow(pair, idealproPair(pair), 'UTC');

const UNDERLYINGS = ['GOOG', 'AAPL', 'SPY'];
const EXPIRIES = ['2015-12-24', '2015-12-31', '2016-01-15', '2014-06-21']; // 2014-06-21: a Saturday (OCC date), last trading day the 20th
const STRIKES = [90, 92.5, 100, 745, 750, 752.5];

/** A generated chain: distinct contracts of a few underlyings. */
const chains = fc.uniqueArray(
  fc.record({
    u: fc.constantFrom(...UNDERLYINGS),
    e: fc.constantFrom(...EXPIRIES),
    k: fc.constantFrom(...STRIKES),
    r: fc.constantFrom<'C' | 'P'>('C', 'P'),
  }),
  { minLength: 1, maxLength: 40, selector: (c) => `${c.u}|${c.e}|${c.k}|${c.r}` },
);

describe('SecDefs: IB matching over the instruments rows', () => {
  it('each option is found alone by its full description, its local symbol (padded or compact) and its conId; the symbol alone finds its chain', () => {
    fc.assert(
      fc.property(chains, (cs) => {
        const rows = cs.map((c) => optionRow(c.u, c.e, c.k, c.r));
        const defs = new SecDefs(rows);
        for (const r of rows) {
          const expiry = r.expiry!.replaceAll('-', '');
          const full = req({
            secType: 'OPT',
            symbol: r.underlying!,
            lastTradeDateOrContractMonth: expiry,
            strike: String(r.strike),
            right: r.right!,
            exchange: 'SMART',
            currency: 'USD',
          });
          expect(defs.match(full)).toEqual([r]);
          expect(defs.match(req({ secType: 'OPT', localSymbol: r.localSymbol }))).toEqual([r]);
          expect(defs.match(req({ secType: 'OPT', localSymbol: r.symbol }))).toEqual([r]);
          expect(defs.match(req({ secType: 'OPT', conId: defs.conId(r) }))).toEqual([r]);
          // IB's right may be spelled out
          expect(defs.match({ ...full, right: r.right === 'C' ? 'CALL' : 'PUT' })).toEqual([r]);
          // the wrong security type finds nothing
          expect(defs.match({ ...full, secType: 'FUT' })).toEqual([]);
        }
        for (const u of UNDERLYINGS) {
          const chain = rows.filter((r) => r.underlying === u);
          expect(new Set(defs.match(req({ secType: 'OPT', symbol: u })))).toEqual(new Set(chain));
          // a month finds every expiry in it (IB's YYYYMM on options)
          expect(new Set(defs.match(req({ secType: 'OPT', symbol: u, lastTradeDateOrContractMonth: '201512' })))).toEqual(
            new Set(chain.filter((r) => r.expiry!.startsWith('2015-12'))),
          );
        }
      }),
    );
  });

  it('conIds: distinct, in their own range, the same whatever the order of the rows', () => {
    fc.assert(
      fc.property(chains, fc.integer(), (cs, seed) => {
        const rows = cs.map((c) => optionRow(c.u, c.e, c.k, c.r));
        const a = new SecDefs(rows);
        const shuffled = [...rows].sort((x, y) => (conIdFor(x.symbol + seed) - conIdFor(y.symbol + seed)) | 0 || 0);
        const b = new SecDefs(shuffled);
        const ids = rows.map((r) => a.conId(r));
        expect(new Set(ids).size).toBe(rows.length);
        expect(rows.map((r) => b.conId(r))).toEqual(ids);
        for (const id of ids) {
          expect(id).toBeGreaterThanOrEqual(1_000_100_000);
          expect(id).toBeLessThan(2 ** 31); // IB's conId is a 32-bit int
        }
      }),
    );
    // without a collision the conId is the key's hash
    expect(new SecDefs([futureRow('ES', '201312')]).conId(futureRow('ES', '201312'))).toBe(derivativeConIdFor('ESZ13'));
  });

  it('optionParams: per underlying, the distinct expiries (YYYYMMDD last trading days) and strikes, ascending', () => {
    fc.assert(
      fc.property(chains, (cs) => {
        const defs = new SecDefs(cs.map((c) => optionRow(c.u, c.e, c.k, c.r)));
        for (const u of UNDERLYINGS) {
          const mine = cs.filter((c) => c.u === u);
          const params = defs.optionParams(u, 42);
          if (mine.length === 0) {
            expect(params).toEqual([]);
            continue;
          }
          // the Saturday OCC date 2014-06-21 lists as its last trading day, Friday 2014-06-20
          const expiries = [...new Set(mine.map((c) => (c.e === '2014-06-21' ? '20140620' : c.e.replaceAll('-', ''))))].sort();
          const strikes = [...new Set(mine.map((c) => c.k))].sort((x, y) => x - y);
          expect(params).toEqual([{ exchange: 'SMART', underlyingConId: 42, tradingClass: u, multiplier: '100', expirations: expiries, strikes }]);
        }
      }),
    );
  });

  it('futures by root and month, by last trading day, by local symbol (IB one-digit year or store key), on CME or GLOBEX; pairs by base and quote currency', () => {
    const z3 = futureRow('ES', '201312');
    const h4 = futureRow('ES', '201403');
    const gc = futureRow('GC', '201312');
    const gbp = pairRow('GBP.USD');
    const eur = pairRow('EUR.USD');
    const defs = new SecDefs([z3, h4, gc, gbp, eur, optionRow('GOOG', '2015-12-24', 750, 'C')]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'ES', lastTradeDateOrContractMonth: '201312' }))).toEqual([z3]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'ES', lastTradeDateOrContractMonth: '20140321' }))).toEqual([h4]); // 3rd Friday of March 2014
    expect(defs.match(req({ secType: 'FUT', localSymbol: 'ESZ3' }))).toEqual([z3]);
    expect(defs.match(req({ secType: 'FUT', localSymbol: 'ESH14' }))).toEqual([h4]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'ES', exchange: 'GLOBEX', multiplier: '50' }))).toEqual([z3, h4]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'ES', exchange: 'COMEX' }))).toEqual([]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'ES', multiplier: '100' }))).toEqual([]);
    expect(defs.match(req({ secType: 'FUT', symbol: 'GC', exchange: 'COMEX' }))).toEqual([gc]);
    expect(defs.match(req({ secType: 'CASH', symbol: 'GBP', currency: 'USD', exchange: 'IDEALPRO' }))).toEqual([gbp]);
    expect(defs.match(req({ secType: 'CASH', localSymbol: 'EUR.USD' }))).toEqual([eur]);
    expect(defs.match(req({ secType: 'CASH', symbol: 'GBP', currency: 'EUR' }))).toEqual([]);
    // stocks are not served here, and a request naming nothing matches nothing
    expect(defs.match(req({ secType: 'STK', symbol: 'GOOG' }))).toEqual([]);
    expect(defs.match(req({ secType: 'OPT' }))).toEqual([]);
  });

  it("details: IB's fields per type (expiry, contract month, multiplier, underlying)", () => {
    const z3 = futureRow('ES', '201312');
    const call = optionRow('AAPL', '2014-06-21', 92.5, 'C');
    const gbp = pairRow('GBP.USD');
    const defs = new SecDefs([z3, call, gbp]);
    const f = defs.details(z3);
    expect(f.contract).toMatchObject({
      symbol: 'ES',
      secType: 'FUT',
      lastTradeDateOrContractMonth: '20131220',
      multiplier: '50',
      localSymbol: 'ESZ3',
      exchange: 'CME',
    });
    expect(f).toMatchObject({
      contractMonth: '201312',
      lastTradeDate: '20131220',
      realExpirationDate: '20131220',
      minTick: 0.25,
      underSymbol: 'ES',
      underSecType: 'IND',
      timeZoneId: 'US/Central',
    });
    const o = defs.details(call, () => 7);
    // a monthly of 2014: OCC expiration Saturday 2014-06-21, last trading day Friday the 20th
    expect(o.contract).toMatchObject({
      symbol: 'AAPL',
      secType: 'OPT',
      lastTradeDateOrContractMonth: '20140620',
      strike: 92.5,
      right: 'C',
      multiplier: '100',
      localSymbol: 'AAPL  140621C00092500',
    });
    expect(o).toMatchObject({
      realExpirationDate: '20140621',
      contractMonth: '201406',
      underConId: 7,
      underSymbol: 'AAPL',
      underSecType: 'STK',
      timeZoneId: 'US/Eastern',
    });
    const c = defs.details(gbp);
    expect(c.contract).toMatchObject({
      symbol: 'GBP',
      secType: 'CASH',
      currency: 'USD',
      localSymbol: 'GBP.USD',
      multiplier: '',
      lastTradeDateOrContractMonth: '',
    });
    expect(c.minTick).toBe(0.00005);
  });
});

describe("optionComputation: IB's units from engine/options", () => {
  // T = 1 year exactly (365 days before the expiry close), r = q = 0, S = K = 100, sigma = 0.2:
  // d1 = sigma sqrt(T) / 2 = 0.1, d2 = -0.1; N(0.1) = 0.539827837277029, n(0.1) = 0.396952547477012
  const row = optionRow('XYZ', '2016-01-15', 100, 'C');
  const put = optionRow('XYZ', '2016-01-15', 100, 'P');
  const at = expiryCloseMs('2016-01-15') - 365 * 86_400_000;
  const callPrice = 100 * (2 * 0.539827837277029 - 1); // S N(d1) - K N(d2) = 100 (2 N(0.1) - 1) = 7.9655674554058
  const putPrice = callPrice; // parity with r = q = 0 and S = K

  it('a call: the vol that gives its price, delta N(d1), gamma n(d1)/(S sigma sqrtT), vega per vol point, theta per day', () => {
    const c = optionComputation(row, callPrice, 100, at);
    expect(c.impliedVol).toBeCloseTo(0.2, 10);
    expect(c.delta).toBeCloseTo(0.539827837277029, 9);
    expect(c.gamma).toBeCloseTo(0.396952547477012 / 20, 9); // n(d1) / (100 x 0.2 x 1)
    expect(c.vega).toBeCloseTo((100 * 0.396952547477012) / 100, 9); // S n(d1) sqrtT per 1.00, / 100: 0.3970 per vol point
    expect(c.theta).toBeCloseTo((-100 * 0.396952547477012 * 0.2) / 2 / 365, 9); // -S n(d1) sigma / (2 sqrtT) per year, / 365: -0.01088 a day
    expect(c).toMatchObject({ optPrice: callPrice, undPrice: 100, pvDividend: 0 });
  });

  it('a put: delta N(d1) - 1, the same gamma, vega and theta (r = 0)', () => {
    const p = optionComputation(put, putPrice, 100, at);
    expect(p.impliedVol).toBeCloseTo(0.2, 10);
    expect(p.delta).toBeCloseTo(0.539827837277029 - 1, 9);
    expect(p.vega).toBeCloseTo(0.396952547477012, 9);
    expect(p.theta).toBeCloseTo((-100 * 0.396952547477012 * 0.2) / 2 / 365, 9);
  });

  it("IB's not-computed markers for a price no volatility gives, no underlying price, or an expired option", () => {
    const markers = { impliedVol: -1, delta: -2, optPrice: -1, pvDividend: -1, gamma: -2, vega: -2, theta: -2 };
    expect(optionComputation(row, 0.5, 110, at)).toEqual({ ...markers, undPrice: 110 }); // below intrinsic 110 - 100
    expect(optionComputation(row, callPrice, Number.NaN, at)).toEqual({ ...markers, undPrice: -1 });
    expect(optionComputation(row, callPrice, 100, expiryCloseMs('2016-01-15') + 1)).toEqual({ ...markers, undPrice: 100 });
  });

  it("model 'crr': the American tree's vol re-prices an American put to 1e-8", () => {
    const price = 9.5; // in the money: S = 92, K = 100, intrinsic 8
    const c = optionComputation(put, price, 92, at, { model: 'crr', rate: 0.05 });
    expect(c.impliedVol).toBeGreaterThan(0);
    const tree = crrPrice({ right: 'P', style: 'american', steps: 100 }, { spot: 92, strike: 100, years: 1, rate: 0.05, dividendYield: 0, vol: c.impliedVol });
    expect(Math.abs(tree - price)).toBeLessThan(1e-8);
    expect(c.delta).toBeLessThan(0);
  });
});

describe('lastCloseAt', () => {
  it("the close of the last bar ended by the instant, NaN before the first bar's end", () => {
    const s = { symbol: 'X', interval: '1m', ts: Float64Array.of(0, 60_000, 180_000), close: Float64Array.of(1, 2, 3) } as unknown as BarSeries;
    expect(lastCloseAt(s, 59_999)).toBeNaN();
    expect(lastCloseAt(s, 60_000)).toBe(1); // the 0 bar ends at 60 s
    expect(lastCloseAt(s, 239_999)).toBe(2); // no bar at 120 s: the 60 s bar's close stands
    expect(lastCloseAt(s, 240_000)).toBe(3);
  });
});

describe('SecDefs: conIds of keys that hash alike', () => {
  it('the first key (in key order) keeps its hash, the next probes, whatever the order of the rows', () => {
    // two OCC-like keys whose derivativeConIdFor collide: the birthday bound gives ~45 pairs among 300,000 keys
    // (this scan finds its first within it; keys as regular as 'K0', 'K1', ... hash without collisions)
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; i < 300_000 && !pair; i++) {
      const key = `GOOG${String(150_000 + (i % 9999)).padStart(6, '0')}${i % 2 ? 'C' : 'P'}${String(i).padStart(8, '0')}`;
      const id = derivativeConIdFor(key);
      const other = seen.get(id);
      if (other) pair = [other, key];
      else seen.set(id, key);
    }
    expect(pair).toBeDefined();
    const [a, b] = [...pair!].sort();
    const rowOf = (symbol: string) => ({ ...pairRow('GBP.USD'), symbol });
    for (const rows of [
      [rowOf(a), rowOf(b)],
      [rowOf(b), rowOf(a)],
    ]) {
      const defs = new SecDefs(rows);
      expect(defs.conId(rowOf(a))).toBe(derivativeConIdFor(a));
      expect(defs.conId(rowOf(b))).toBe(derivativeConIdFor(b, 1));
      expect(defs.conId(rowOf(b))).not.toBe(defs.conId(rowOf(a)));
    }
  });
});

describe('SecDefs: expired contracts', () => {
  it('a contract is listed through its last trading day (in its zone), later only with includeExpired', () => {
    const z3 = futureRow('ES', '201312'); // last trading day Friday 2013-12-20, Chicago
    const call = optionRow('GOOG', '2015-12-24', 750, 'C');
    const gbp = pairRow('GBP.USD');
    const defs = new SecDefs([z3, call, gbp]);
    const es = req({ secType: 'FUT', symbol: 'ES' });
    // 2013-12-20 23:59 Chicago (CST, UTC-6) = 2013-12-21 05:59 UTC: still that day there
    expect(defs.match(es, { now: Date.UTC(2013, 11, 21, 5, 59) })).toEqual([z3]);
    expect(defs.match(es, { now: Date.UTC(2013, 11, 21, 6, 0) })).toEqual([]);
    expect(defs.match(es, { now: Date.UTC(2013, 11, 21, 6, 0), includeExpired: true })).toEqual([z3]);
    expect(defs.match(req({ secType: 'OPT', conId: defs.conId(call) }), { now: Date.UTC(2016, 0, 4) })).toEqual([]);
    expect(defs.optionParams('GOOG', 1, Date.UTC(2015, 11, 24, 12))).toHaveLength(1);
    expect(defs.optionParams('GOOG', 1, Date.UTC(2015, 11, 26))).toEqual([]);
    // a pair has no expiry
    expect(defs.match(req({ secType: 'CASH', symbol: 'GBP' }), { now: Date.UTC(2030, 0, 1) })).toEqual([gbp]);
  });
});
