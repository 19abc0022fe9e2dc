import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { barsOutsideSession, CME_EQUITY_INDEX_ERAS, globexTradeDate, isOpen, newYorkClock } from '../../engine/futures/globex-session.ts';
import { readFuturesTrades } from '../../engine/data/lean-futures.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

/** An instant given as UTC wall-clock: utc('2013-10-06 22:00'). */
const utc = (s: string) => Date.parse(`${s.replace(' ', 'T')}:00Z`);

describe('CME Globex equity-index session (America/New_York)', () => {
  it('2013 (close 17:15 ET, halt 16:15-16:30 ET); EDT = UTC-4 until 2013-11-03', () => {
    const cases: [string, boolean, string][] = [
      ['2013-10-05 16:00', false, 'Saturday noon ET'],
      ['2013-10-06 21:59', false, 'Sunday 17:59 ET'],
      ['2013-10-06 22:00', true, 'Sunday 18:00 ET: the week opens'],
      ['2013-10-07 13:30', true, 'Monday 09:30 ET'],
      ['2013-10-07 20:14', true, 'Monday 16:14 ET'],
      ['2013-10-07 20:15', false, 'Monday 16:15 ET: halt'],
      ['2013-10-07 20:29', false, 'Monday 16:29 ET: halt'],
      ['2013-10-07 20:30', true, 'Monday 16:30 ET: reopens'],
      ['2013-10-07 21:14', true, 'Monday 17:14 ET'],
      ['2013-10-07 21:15', false, 'Monday 17:15 ET: maintenance'],
      ['2013-10-07 21:59', false, 'Monday 17:59 ET'],
      ['2013-10-07 22:00', true, 'Monday 18:00 ET: the next trade date'],
      ['2013-10-11 21:14', true, 'Friday 17:14 ET'],
      ['2013-10-11 21:15', false, 'Friday 17:15 ET: the week closes'],
      ['2013-10-11 22:00', false, 'Friday 18:00 ET: no evening session'],
      ['2013-11-18 21:15', false, 'Monday 16:15 ET in EST (UTC-5): halt'],
      ['2013-11-18 21:30', true, 'Monday 16:30 ET in EST'],
      ['2013-11-03 22:59', false, 'Sunday 17:59 EST, the day clocks went back'],
      ['2013-11-03 23:00', true, 'Sunday 18:00 EST'],
    ];
    for (const [t, open, what] of cases) expect(isOpen(utc(t)), what).toBe(open);
  });
  it('from 2015-09-20 the close is 17:00 ET', () => {
    expect(isOpen(utc('2016-01-06 21:59'))).toBe(true); // Wednesday 16:59 EST
    expect(isOpen(utc('2016-01-06 22:00'))).toBe(false); // 17:00 EST
    expect(isOpen(utc('2016-01-06 21:20'))).toBe(false); // 16:20 EST: halt
    expect(isOpen(utc('2015-09-18 21:10'))).toBe(true); // Friday 2015-09-18 17:10 EDT: still the old close
  });
  it('no rules before 2012-11-18', () => {
    expect(() => isOpen(utc('2012-11-16 15:00'))).toThrow(/no CME Globex session rules before 2012-11-18/);
  });
  it('trade dates: the evening session belongs to the next weekday', () => {
    expect(globexTradeDate(utc('2013-10-06 22:00'))).toBe('2013-10-07'); // Sunday 18:00 ET
    expect(globexTradeDate(utc('2013-10-07 21:14'))).toBe('2013-10-07'); // Monday 17:14 ET
    expect(globexTradeDate(utc('2013-10-10 22:30'))).toBe('2013-10-11'); // Thursday 18:30 ET
    expect(newYorkClock(utc('2013-10-07 00:00'))).toEqual({ date: '2013-10-06', weekday: 0, minute: 20 * 60 });
  });
});

const ES = 'data/lean-sample/future/es';

describe.runIf(sharedAvailable(ES))('every ES trade bar of the sample minute files is inside the session', () => {
  const files = () => readdirSync(path.join(SHARED, ES)).filter((f) => /^\d{8}_trade\.csv$/.test(f));
  it('2013 files: 0 violations (time_utc converted with Intl; time_et checked against it by the reader)', () => {
    const f2013 = files().filter((f) => f.startsWith('2013'));
    expect(f2013).toHaveLength(14);
    const starts = f2013.flatMap((f) => readFuturesTrades(path.join(SHARED, ES, f)).map((r) => r.ts));
    expect(starts.length).toBe(22_246); // the 2013 rows of DERIVATIVES.md's table
    expect(barsOutsideSession(starts)).toEqual([]);
    // and the check bites: with a 17:00 ET close (the post-2015 rule) the 17:00-17:14 ET bars of 2013 fall outside
    const wrong = [{ ...CME_EQUITY_INDEX_ERAS[0]!, closeMin: 17 * 60 }];
    const outside = barsOutsideSession(starts, 60_000, wrong);
    expect(outside.length).toBeGreaterThan(100);
    for (const t of outside) expect(newYorkClock(t).minute).toBeGreaterThanOrEqual(17 * 60);
  });
  it('2020 files (close 17:00 ET): 0 violations', () => {
    const starts = files()
      .filter((f) => f.startsWith('2020'))
      .flatMap((f) => readFuturesTrades(path.join(SHARED, ES, f)).map((r) => r.ts));
    expect(starts.length).toBe(85 + 1617);
    expect(barsOutsideSession(starts)).toEqual([]);
  });
});
