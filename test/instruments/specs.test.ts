import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFuturesOpenInterest, readFuturesTrades } from '../../engine/data/lean-futures.ts';
import { easterSunday, thirdFriday, thirdLastBusinessDay, usExchangeHolidays } from '../../engine/instruments/expiry-rules.ts';
import { InstrumentError } from '../../engine/instruments/instrument.ts';
import { weekday } from '../../engine/instruments/iso-date.ts';
import { localSymbol, parseOccSymbol } from '../../engine/instruments/local-symbol.ts';
import {
  FUTURE_SPECS,
  FUTURES_MARGINS,
  futureContract,
  futuresMargin,
  IDEALPRO_PAIRS,
  idealproPair,
  positionMargin,
  usEquityOption,
} from '../../engine/instruments/specs.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const FUT = 'data/lean-sample/future';
const OPT = 'data/lean-sample/option';

describe('expiry rules', () => {
  it('3rd Friday: hand cases', () => {
    // Dec 2013 starts on a Sunday: Fridays 6, 13, 20 -> the 20th
    expect(thirdFriday(2013, 12)).toBe('2013-12-20');
    // Mar 2014 starts on a Saturday: Fridays 7, 14, 21
    expect(thirdFriday(2014, 3)).toBe('2014-03-21');
    // Mar 2020 starts on a Sunday: Fridays 6, 13, 20
    expect(thirdFriday(2020, 3)).toBe('2020-03-20');
    // a month starting on a Friday: Nov 2013 -> 1, 8, 15
    expect(thirdFriday(2013, 11)).toBe('2013-11-15');
  });
  it('3rd-last business day: hand cases', () => {
    // Oct 2013 ends Thursday 31: 31, 30, 29 -> the 29th
    expect(thirdLastBusinessDay(2013, 10)).toBe('2013-10-29');
    // Nov 2013 ends Saturday 30: Friday 29, (Thanksgiving 28 skipped), 27, 26 -> the 26th
    expect(thirdLastBusinessDay(2013, 11)).toBe('2013-11-26');
    // without the holiday it would be the 27th
    expect(thirdLastBusinessDay(2013, 11, new Set())).toBe('2013-11-27');
  });
  it('US exchange holidays by rule', () => {
    expect(easterSunday(2014)).toBe('2014-04-20');
    expect(easterSunday(2016)).toBe('2016-03-27');
    const h2013 = usExchangeHolidays(2013);
    for (const d of ['2013-01-01', '2013-01-21', '2013-02-18', '2013-03-29', '2013-05-27', '2013-07-04', '2013-09-02', '2013-11-28', '2013-12-25'])
      expect(h2013.has(d), d).toBe(true);
    expect(h2013.size).toBe(9);
    // 2015-07-04 is a Saturday: observed Friday the 3rd; 2022-01-01 is a Saturday: not moved to 2021-12-31
    expect(usExchangeHolidays(2015).has('2015-07-03')).toBe(true);
    expect(usExchangeHolidays(2021).has('2021-12-31')).toBe(false);
    expect(usExchangeHolidays(2022).has('2022-06-20')).toBe(true); // Juneteenth on a Sunday -> Monday
  });
  it.runIf(sharedAvailable(FUT))('ES (3rd Friday) and GC (3rd-last business day) reproduce every expiry of the sample data', () => {
    for (const root of ['es', 'gc'] as const) {
      const spec = FUTURE_SPECS[root.toUpperCase() as 'ES' | 'GC'];
      const expiries = new Map<string, string>();
      for (const f of ['daily_trade.csv', 'hour_trade.csv'])
        for (const r of readFuturesTrades(path.join(SHARED, FUT, root, f))) expiries.set(r.contractMonth, r.expiry);
      for (const r of readFuturesOpenInterest(path.join(SHARED, FUT, root, 'daily_openinterest.csv'))) expiries.set(r.contractMonth, r.expiry);
      expect(expiries.size).toBeGreaterThanOrEqual(root === 'es' ? 10 : 20);
      for (const [cm, exp] of expiries) {
        expect(spec.expiry(+cm.slice(0, 4), +cm.slice(4, 6)), `${root} ${cm}`).toBe(exp);
        expect(futureContract(spec.root, cm).expiry).toBe(exp);
      }
    }
  });
});

describe('contract specs', () => {
  it('ES and GC', () => {
    const es = futureContract('ES', '201312');
    expect(es).toEqual({
      secType: 'FUT',
      symbol: 'ES',
      exchange: 'CME',
      currency: 'USD',
      multiplier: 50,
      tickSize: 0.25,
      contractMonth: '201312',
      expiry: '2013-12-20',
    });
    expect(localSymbol(es)).toBe('ESZ3');
    const gc = futureContract('GC', '201312');
    expect([gc.exchange, gc.multiplier, gc.tickSize, gc.expiry]).toEqual(['COMEX', 100, 0.1, '2013-12-27']);
    expect(() => futureContract('CL', '201312')).toThrow(/no futures spec/);
  });
  it('options: a Saturday OCC date gives the Friday before as last trading day, stepping over Good Friday', () => {
    const june = usEquityOption({ underlying: 'AAPL', expiry: '2014-06-21', strike: 645, right: 'P' });
    expect([june.expiry, june.occExpiry, june.multiplier]).toEqual(['2014-06-20', '2014-06-21', 100]);
    // April 2014: OCC date Saturday the 19th, Friday the 18th is Good Friday -> Thursday the 17th
    const april = usEquityOption({ underlying: 'AAPL', expiry: '2014-04-19', strike: 500, right: 'C' });
    expect([april.expiry, april.occExpiry]).toEqual(['2014-04-17', '2014-04-19']);
  });
  it.runIf(sharedAvailable(OPT))('every contract of the sample option trade files becomes an option whose OCC symbol parses back', () => {
    let n = 0;
    for (const und of readdirSync(path.join(SHARED, OPT))) {
      for (const f of readdirSync(path.join(SHARED, OPT, und)).filter((f) => f.endsWith('_trade.csv'))) {
        const lines = readFileSync(path.join(SHARED, OPT, und, f), 'utf8')
          .trim()
          .split('\n')
          .slice(1);
        for (const key of new Set(lines.map((l) => l.split(',').slice(1, 4).join(',')))) {
          const [right, strike, expiry] = key.split(',') as ['C' | 'P', string, string];
          const o = usEquityOption({ underlying: und.toUpperCase(), expiry, strike: Number(strike), right });
          const occ = parseOccSymbol(localSymbol(o));
          expect(occ).toEqual({ root: und.toUpperCase(), expiry, right, strike: Number(strike) });
          expect([1, 2, 3, 4, 5]).toContain(weekday(o.expiry)); // a weekday
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(2500); // 1185 + 1138 AAPL contracts alone
  });
  it('IDEALPRO pairs: half-pip ticks, multiplier 1, symbol = base, currency = quote', () => {
    for (const p of IDEALPRO_PAIRS) {
      const c = idealproPair(p);
      expect([c.exchange, c.multiplier, c.tickSize, `${c.symbol}.${c.currency}`]).toEqual(['IDEALPRO', 1, 0.00005, p]);
    }
    expect(idealproPair('USD.JPY').tickSize).toBe(0.005);
  });
});

describe('futures margins (configurable data)', () => {
  it('ES and GC in 2013', () => {
    expect(futuresMargin('ES', '2013-12-13')).toMatchObject({ initial: 5060, maintenance: 4600, currency: 'USD' });
    expect(futuresMargin('GC', '2013-10-07')).toMatchObject({ initial: 8800, maintenance: 8000 });
    for (const r of FUTURES_MARGINS) expect(r.initial).toBeGreaterThan(r.maintenance);
    // short 3 ES: 3 x 5,060 = 15,180 initial, 3 x 4,600 = 13,800 maintenance
    expect(positionMargin(futuresMargin('ES', '2013-12-13'), -3)).toEqual({ initial: 15_180, maintenance: 13_800, currency: 'USD' });
  });
  it('a date outside the table is an error, not a guess', () => {
    expect(() => futuresMargin('ES', '2016-01-06')).toThrow(InstrumentError);
    expect(() => futuresMargin('ES', '2016-01-06')).toThrow(/no row for ES on 2016-01-06 \(rows for ES: 2013-01-01..2013-12-31, 2019-10-01..2020-02-29\)/);
    const mine = [{ root: 'ES', from: '2020-01-01', to: '2020-12-31', initial: 6600, maintenance: 6000, currency: 'USD', source: 'my broker' }];
    expect(futuresMargin('ES', '2020-01-06', mine).initial).toBe(6600);
  });
});
