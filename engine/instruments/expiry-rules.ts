// Last-trading-day rules of the contracts in specs.ts, and the US exchange holidays they skip.

import { addDays, daysInMonth, type IsoDate, isoOf, weekday } from './iso-date.ts';

/** The n-th given weekday (0 Sunday .. 6 Saturday) of a month: n = 3, weekday 5 is the 3rd Friday. */
export function nthWeekday(year: number, month: number, n: number, wd: number): IsoDate {
  const first = isoOf(year, month, 1);
  return addDays(first, ((wd - weekday(first) + 7) % 7) + 7 * (n - 1));
}

/** ES, NQ and US equity options: the 3rd Friday of the month (a 3rd Friday is on the 15th-21st). */
export function thirdFriday(year: number, month: number): IsoDate {
  return nthWeekday(year, month, 3, 5);
}

/**
 * GC (COMEX gold): the third-last business day of the contract month, skipping weekends and the holidays
 * given (default: usExchangeHolidays). Nov 2013: the 29th, 27th, 26th (the 28th is Thanksgiving) -> 2013-11-26.
 */
export function thirdLastBusinessDay(year: number, month: number, holidays: ReadonlySet<IsoDate> = usExchangeHolidays(year)): IsoDate {
  let d = isoOf(year, month, daysInMonth(year, month));
  let found = 0;
  for (;;) {
    const wd = weekday(d);
    if (wd !== 0 && wd !== 6 && !holidays.has(d) && ++found === 3) return d;
    d = addDays(d, -1);
  }
}

/**
 * Full-day US exchange holidays of a year by their standing rules (NYSE, and CME's business days): New Year's
 * Day, Martin Luther King Jr. Day (from 1998), Washington's Birthday, Good Friday, Memorial Day, Juneteenth
 * (from 2022), Independence Day, Labor Day, Thanksgiving, Christmas; a Sunday holiday moves to the Monday, a
 * Saturday one to the Friday (New Year's Day on a Saturday is not moved to December 31). One-off closes
 * (2001-09-11, 2012-10-29/30 Hurricane Sandy, national days of mourning) are not rules and are not in it.
 */
export function usExchangeHolidays(year: number): ReadonlySet<IsoDate> {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const out = new Set<IsoDate>();
  const observed = (d: IsoDate, allowFriday = true): void => {
    const wd = weekday(d);
    if (wd === 0) out.add(addDays(d, 1));
    else if (wd === 6) {
      if (allowFriday) out.add(addDays(d, -1));
    } else out.add(d);
  };
  observed(isoOf(year, 1, 1), false);
  if (year >= 1998) out.add(nthWeekday(year, 1, 3, 1));
  out.add(nthWeekday(year, 2, 3, 1));
  out.add(addDays(easterSunday(year), -2));
  out.add(addDays(nthWeekday(year, 6, 1, 1), -7)); // the last Monday of May is 7 days before June's first
  if (year >= 2022) observed(isoOf(year, 6, 19));
  observed(isoOf(year, 7, 4));
  out.add(nthWeekday(year, 9, 1, 1));
  out.add(nthWeekday(year, 11, 4, 4));
  observed(isoOf(year, 12, 25));
  holidayCache.set(year, out);
  return out;
}

const holidayCache = new Map<number, ReadonlySet<IsoDate>>();

/** Gregorian Easter Sunday (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher"). */
export function easterSunday(year: number): IsoDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return isoOf(year, month, day);
}
