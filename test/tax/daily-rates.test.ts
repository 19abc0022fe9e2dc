// Daily FX rates (engine/fx/daily-rates.ts) from the real Oanda GBPUSD daily file, and from small hand-written files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDailyRates, pairFromPath, parseDailyRates, RateError } from '../../engine/fx/daily-rates.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const GBPUSD = 'data/lean-sample/forex/gbpusd/daily/oanda.csv';

describe.runIf(sharedAvailable(GBPUSD))('the Oanda GBPUSD daily file', () => {
  const rates = loadDailyRates(path.join(SHARED, GBPUSD));

  it('is GBPUSD from 2007-01-01 to 2018-12-31 (DERIVATIVES.md)', () => {
    expect([rates.pair, rates.first, rates.last, rates.maxStaleDays]).toEqual(['GBPUSD', '2007-01-01', '2018-12-31', 7]);
  });

  it("a day's rate is the mid of its bid_close and ask_close", () => {
    // 2014-12-16,1.56413,1.57853,1.56,1.57417,1.56435,1.57876,1.56166,1.5744: (1.57417 + 1.5744) / 2
    expect(rates.rate('2014-12-16')).toBeCloseTo(1.574285, 12);
    // 2018-12-31: (1.27541 + 1.27601) / 2
    expect(rates.rateOn('2018-12-31')).toEqual({ date: '2018-12-31', from: '2018-12-31', rate: (1.27541 + 1.27601) / 2 });
  });

  it('a date without a row takes the latest earlier one: a Saturday, and the 2016-12-10..15 gap', () => {
    // no Saturday rows: 2007-01-06 takes Friday 2007-01-05 (1.92863 + 1.92963) / 2
    expect(rates.rateOn('2007-01-06')).toEqual({ date: '2007-01-06', from: '2007-01-05', rate: (1.92863 + 1.92963) / 2 });
    // the source has nothing from 2016-12-10 to 12-15: 12-15 takes 12-09, six days back
    expect(rates.rateOn('2016-12-15').from).toBe('2016-12-09');
    expect(rates.rateOn('2016-12-16').from).toBe('2016-12-16');
  });

  it('a date before the file, or too long after its last row, is an error naming the pair, the date and what to do', () => {
    expect(() => rates.rate('2006-12-31')).toThrow(RateError);
    expect(() => rates.rate('2006-12-31')).toThrow(
      /no GBPUSD rate for 2006-12-31 in .*oanda\.csv \(which covers 2007-01-01\.\.2018-12-31\): it is before the file's first date 2007-01-01; give a rates file that covers it/,
    );
    // 2019-01-07 is 7 days after 2018-12-31: still allowed; 2019-01-08 is not
    expect(rates.rateOn('2019-01-07').from).toBe('2018-12-31');
    expect(() => rates.rate('2019-01-08')).toThrow(/the latest earlier rate is 2018-12-31, more than 7 days before \(the file ends 2018-12-31\)/);
    expect(() => rates.rate('2019-13-01')).toThrow(/'2019-13-01' is not a YYYY-MM-DD date/);
  });
});

describe('rates files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'daily-rates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const HEAD = 'date,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close';
  const row = (d: string, bid: number, ask: number) => `${d},1,1,1,${bid},1,1,1,${ask}`;
  const parse = (lines: string[], maxStaleDays?: number) => parseDailyRates([HEAD, ...lines].join('\n'), { pair: 'GBPUSD', file: 'r.csv', maxStaleDays });

  it('takes the pair from a LEAN path, or refuses to guess', () => {
    expect(pairFromPath('/x/forex/eurusd/daily/oanda.csv')).toBe('EURUSD');
    const file = path.join(dir, 'rates.csv');
    writeFileSync(file, `${HEAD}\n${row('2020-01-02', 1.3, 1.31)}\n`);
    expect(() => loadDailyRates(file)).toThrow(/cannot tell the currency pair from the path/);
    expect(loadDailyRates(file, { pair: 'GBPUSD' }).rate('2020-01-02')).toBeCloseTo(1.305, 12);
    expect(() => loadDailyRates(path.join(dir, 'missing.csv'), { pair: 'GBPUSD' })).toThrow(/cannot read the FX rates file .*missing\.csv/);
  });

  it('honours a stated staleness: 0 days means only the date itself', () => {
    const r = parse([row('2020-01-03', 1.3, 1.32)], 0);
    expect(r.rate('2020-01-03')).toBeCloseTo(1.31, 12);
    expect(() => r.rate('2020-01-04')).toThrow(/more than 0 days before/);
  });

  it('refuses a file that is not a LEAN forex daily file, naming the line and field', () => {
    expect(() => parseDailyRates('date,open,high,low,close\n', { pair: 'GBPUSD', file: 'r.csv' })).toThrow(/r\.csv line 1: expected the header date,bid_open/);
    expect(() => parse([row('2020-01-03', 1.3, 1.32), row('2020-01-02', 1.3, 1.32)])).toThrow(
      /r\.csv line 3: field 'date' = 2020-01-02 is before the previous row/,
    );
    expect(() => parse([row('2020-01-03', 1.3, 1.32), row('2020-01-03', 1.3, 1.32)])).toThrow(/line 3: field 'date' = 2020-01-03 is a duplicate/);
    expect(() => parse([row('2020-01-03', 0, 1.32)])).toThrow(/line 2: field 'bid_close' = '0' is not a positive number/);
    expect(() => parse([`${row('2020-01-03', 1.3, 1.32)},9`])).toThrow(/line 2: expected 9 fields, got 10/);
    expect(() => parse([])).toThrow(/no rows after the header/);
    expect(() => parseDailyRates(`${HEAD}\n`, { pair: 'GBP', file: 'r.csv' })).toThrow(/pair 'GBP' must be six letters/);
  });
});
