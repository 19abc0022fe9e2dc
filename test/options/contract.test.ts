import { describe, expect, it } from 'vitest';
import { expiryCloseMs, lastTradingDay, yearsToExpiry } from '../../engine/options/contract.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

describe('last trading day', () => {
  it('is the expiry date, or the Friday before a Saturday expiration (monthlies before 2015)', () => {
    expect(lastTradingDay('2014-06-21')).toBe('2014-06-20'); // TWX June 2014 monthly, a Saturday in the data
    expect(lastTradingDay('2013-07-20')).toBe('2013-07-19');
    expect(lastTradingDay('2014-06-13')).toBe('2014-06-13'); // an AAPL weekly, a Friday
    expect(lastTradingDay('2015-12-24')).toBe('2015-12-24'); // GOOG, a Thursday (Christmas Eve)
    expect(lastTradingDay('2023-09-01')).toBe('2023-09-01');
  });
  it('is the Thursday when that Friday is Good Friday (markets closed)', () => {
    // Easter 2014 was April 20: Good Friday April 18, so the April 2014 monthly (Saturday the 19th) last traded the 17th
    expect(lastTradingDay('2014-04-19')).toBe('2014-04-17');
    // Easter 2011 was April 24: Good Friday the 22nd, the April monthly (Saturday the 16th) is unaffected
    expect(lastTradingDay('2011-04-16')).toBe('2011-04-15');
    // Easter 2008 was March 23: Good Friday March 21, the March monthly expired Saturday the 22nd
    expect(lastTradingDay('2008-03-22')).toBe('2008-03-20');
  });
  it('rejects a date that is not YYYY-MM-DD or not real, naming the field', () => {
    expect(() => lastTradingDay('20140621')).toThrow(/expiry = '20140621': expected a real date as YYYY-MM-DD/);
    expect(() => lastTradingDay('2014-02-30')).toThrow(/expiry = '2014-02-30'/);
  });
});

describe('expiry close and years to expiry (ACT/365 to the last trading day close, New York)', () => {
  it('closes at 16:00 New York: 20:00 UTC in summer (EDT), 21:00 in winter (EST)', () => {
    expect(expiryCloseMs('2014-06-21')).toBe(Date.UTC(2014, 5, 20, 20));
    expect(expiryCloseMs('2016-01-15')).toBe(Date.UTC(2016, 0, 15, 21));
  });
  it('closes at 13:00 on a US half day (Christmas Eve 2015, a Thursday)', () => {
    expect(expiryCloseMs('2015-12-24')).toBe(Date.UTC(2015, 11, 24, 18));
  });
  it('counts calendar time to that close, over 365 days', () => {
    // SPY 2023-08-03 12:00 EDT -> 2023-09-01 16:00 EDT: 29 days 4 hours
    expect(yearsToExpiry('2023-09-01', Date.UTC(2023, 7, 3, 16))).toBeCloseTo((29 * 24 + 4) / 24 / 365, 15);
    // GOOG 2015-12-23 12:00 EST -> 2015-12-24 13:00 EST (half day): 25 hours
    expect(yearsToExpiry('2015-12-24', Date.UTC(2015, 11, 23, 17))).toBeCloseTo(25 / 24 / 365, 15);
    // TWX 2014-06-05 12:00 EDT -> Friday 2014-06-20 16:00 EDT: 15 days 4 hours (not to the Saturday)
    expect(yearsToExpiry('2014-06-21', Date.UTC(2014, 5, 5, 16))).toBeCloseTo((15 * 24 + 4) / 24 / 365, 15);
    // across the end of daylight saving (2013-11-03) the elapsed time has one hour more: 7 days 1 hour
    expect(yearsToExpiry('2013-11-08', Date.UTC(2013, 10, 1, 20))).toBeCloseTo((7 * DAY + HOUR) / YEAR, 15);
  });
  it('is 0 at and after the close, and rejects a time that is not a number', () => {
    expect(yearsToExpiry('2014-06-21', Date.UTC(2014, 5, 20, 20))).toBe(0);
    expect(yearsToExpiry('2014-06-21', Date.UTC(2014, 5, 21, 12))).toBe(0);
    expect(yearsToExpiry('2014-06-21', Date.UTC(2014, 5, 20, 19, 59))).toBeCloseTo(60_000 / YEAR, 18);
    expect(() => yearsToExpiry('2014-06-21', Number.NaN)).toThrow(/now = NaN/);
  });
});
