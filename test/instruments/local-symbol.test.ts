import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf } from '../../engine/instruments/iso-date.ts';
import {
  cashLocalSymbol,
  futuresLocalSymbol,
  instrumentKey,
  LocalSymbolError,
  localSymbol,
  occSymbol,
  parseCashLocalSymbol,
  parseFuturesLocalSymbol,
  parseOccSymbol,
} from '../../engine/instruments/local-symbol.ts';
import { futureContract, idealproPair, usEquityOption } from '../../engine/instruments/specs.ts';

describe('OCC option symbols', () => {
  it('examples from the sample data', () => {
    // option/goog/20151224_trade.csv: "2015-12-24 09:30:00,C,750,2015-12-24,..." (a Thursday weekly: no Saturday)
    const goog = usEquityOption({ underlying: 'GOOG', expiry: '2015-12-24', strike: 750, right: 'C' });
    expect(localSymbol(goog)).toBe('GOOG  151224C00750000');
    expect(goog.occExpiry).toBeUndefined();
    // option/aapl/20140606_trade.csv: "C,645,2014-06-21" is the June monthly: OCC date the Saturday, last trade Friday 06-20
    const aapl = usEquityOption({ underlying: 'AAPL', expiry: '2014-06-21', strike: 645, right: 'C' });
    expect(aapl.expiry).toBe('2014-06-20');
    expect(aapl.occExpiry).toBe('2014-06-21');
    expect(localSymbol(aapl)).toBe('AAPL  140621C00645000');
    // option/aapl/20140609_trade.csv: split-adjusted strike 92.86 (650 / 7 as LEAN writes it)
    expect(localSymbol(usEquityOption({ underlying: 'AAPL', expiry: '2014-06-21', strike: 92.86, right: 'C' }))).toBe('AAPL  140621C00092860');
    // the example
    expect(occSymbol({ root: 'AAPL', expiry: '2014-06-13', right: 'C', strike: 645 })).toBe('AAPL  140613C00645000');
    expect(occSymbol({ root: 'SPY', expiry: '2023-09-01', right: 'P', strike: 430 })).toBe('SPY   230901P00430000');
  });
  it('parses the padded and the collapsed form', () => {
    expect(parseOccSymbol('GOOG  151224C00750000')).toEqual({ root: 'GOOG', expiry: '2015-12-24', right: 'C', strike: 750 });
    expect(parseOccSymbol('AAPL140621C00092860')).toEqual({ root: 'AAPL', expiry: '2014-06-21', right: 'C', strike: 92.86 });
    expect(parseOccSymbol('SPXW  231215P04500500').strike).toBe(4500.5);
  });
  it('rejects what is not an OCC symbol, saying the format', () => {
    for (const bad of ['AAPL 140613C00645000', 'AAPL  141313C00645000', 'AAPL  140613X00645000', 'AAPL  140613C0064500', 'AAPL  140613C00000000']) {
      expect(() => parseOccSymbol(bad), bad).toThrow(LocalSymbolError);
    }
    expect(() => occSymbol({ root: 'TOOLONG', expiry: '2014-06-13', right: 'C', strike: 1 })).toThrow(/1-6 characters/);
    expect(() => occSymbol({ root: 'AAPL', expiry: '2014-06-13', right: 'C', strike: 0.0005 })).toThrow(/multiple of 0.001/);
    expect(() => occSymbol({ root: 'AAPL', expiry: '2014-06-13', right: 'C', strike: 100_000 })).toThrow(/below 100000/);
  });
  it('round trip: parse(build(x)) = x for every root, date, right and strike', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z][A-Z0-9]{0,5}$/),
        fc.integer({ min: 2000, max: 2099 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.constantFrom('C' as const, 'P' as const),
        fc.integer({ min: 1, max: 99_999_999 }),
        (root, y, m, d, right, milli) => {
          const parts = { root, expiry: isoOf(y, m, d), right, strike: milli / 1000 };
          const s = occSymbol(parts);
          expect(s).toHaveLength(21);
          expect(parseOccSymbol(s)).toEqual(parts);
          expect(occSymbol(parseOccSymbol(s))).toBe(s);
        },
      ),
    );
  });
});

describe('IB futures local symbols', () => {
  it('ES Dec 2013 is ESZ3; the other month codes', () => {
    expect(futuresLocalSymbol('ES', '201312')).toBe('ESZ3');
    expect(localSymbol(futureContract('ES', '201403'))).toBe('ESH4');
    expect(localSymbol(futureContract('GC', '201402'))).toBe('GCG4');
    expect(
      ['201401', '201402', '201403', '201404', '201405', '201406', '201407', '201408', '201409', '201410', '201411', '201412']
        .map((m) => futuresLocalSymbol('GC', m).slice(2, 3))
        .join(' '),
    ).toBe('F G H J K M N Q U V X Z');
  });
  it('a one-digit year is read as the first contract month at or after the reference date', () => {
    expect(parseFuturesLocalSymbol('ESZ3', '2013-10-07')).toEqual({ root: 'ES', contractMonth: '201312' });
    expect(parseFuturesLocalSymbol('ESH4', '2013-12-13')).toEqual({ root: 'ES', contractMonth: '201403' });
    // read in 2020: Z3 is December 2023 (December 2013 expired long before)
    expect(parseFuturesLocalSymbol('ESZ3', '2020-01-06')).toEqual({ root: 'ES', contractMonth: '202312' });
    // in the contract month itself, the contract is still the current one
    expect(parseFuturesLocalSymbol('ESZ3', '2013-12-20').contractMonth).toBe('201312');
    expect(parseFuturesLocalSymbol('ESZ3', '2014-01-02').contractMonth).toBe('202312');
    expect(parseFuturesLocalSymbol('ESZ13')).toEqual({ root: 'ES', contractMonth: '201312' });
    expect(() => parseFuturesLocalSymbol('ESZ3')).toThrow(/one-digit year: give the date/);
    expect(() => parseFuturesLocalSymbol('ES13')).toThrow(/month code/);
  });
  it('round trip: parse(build(root, month), any date in the 10 years up to the contract month) = (root, month)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z]{1,3}$/),
        fc.integer({ min: 2001, max: 2090 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 119 }),
        (root, y, m, monthsBefore) => {
          const cm = `${y}${String(m).padStart(2, '0')}`;
          const refIdx = y * 12 + (m - 1) - monthsBefore;
          const ref = isoOf(Math.floor(refIdx / 12), (refIdx % 12) + 1, 15);
          expect(parseFuturesLocalSymbol(futuresLocalSymbol(root, cm), ref)).toEqual({ root, contractMonth: cm });
        },
      ),
    );
  });
});

describe('IB cash pair symbols', () => {
  it('GBP.USD and the sample pairs', () => {
    expect(cashLocalSymbol('GBP', 'USD')).toBe('GBP.USD');
    expect(parseCashLocalSymbol('EUR.GBP')).toEqual({ baseCurrency: 'EUR', quoteCurrency: 'GBP' });
    expect(localSymbol(idealproPair('NZD.USD'))).toBe('NZD.USD');
    expect(() => parseCashLocalSymbol('GBPUSD')).toThrow(/BASE.QUOTE/);
    expect(() => parseCashLocalSymbol('USD.USD')).toThrow(LocalSymbolError);
  });
  it('round trip', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z]{3}$/), fc.stringMatching(/^[A-Z]{3}$/), (b, q) => {
        fc.pre(b !== q);
        expect(parseCashLocalSymbol(cashLocalSymbol(b, q))).toEqual({ baseCurrency: b, quoteCurrency: q });
      }),
    );
  });
});

describe('instrument keys', () => {
  it('name each instrument for ever: a future by root and contract month, not by its per-decade local symbol', () => {
    expect(instrumentKey(futureContract('ES', '201312'))).toBe('ES 201312');
    expect(instrumentKey(usEquityOption({ underlying: 'GOOG', expiry: '2015-12-24', strike: 750, right: 'C' }))).toBe('GOOG  151224C00750000');
    expect(instrumentKey(idealproPair('GBP.USD'))).toBe('GBP.USD');
  });
});
