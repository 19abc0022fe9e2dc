// An option contract as pricing needs it, and the time left to its expiry.
//
// Time-to-expiry convention: ACT/365 (calendar milliseconds / 365 days) from now to the regular-session close
// (16:00 America/New_York, 13:00 on a US half day) of the contract's LAST TRADING DAY, floored at 0. That is when
// the option's market value stops moving: US equity options stop trading at that close and exercise decisions
// are made on it. The last trading day is the expiry date, except that standard monthly expiries before 2015
// are dated the Saturday after (OCC's expiration date, as LEAN's data has them, DERIVATIVES.md): trading ended
// on the Friday before, or on the Thursday when that Friday was Good Friday (2014-04-19 -> 2014-04-17). Other
// holiday moves (a weekly expiring on a holiday Friday) are already in the listed expiry date itself.

import { US_CLOSE_MIN, US_HALF_DAY_CLOSE_MIN, usHalfDay } from '../core/calendar.ts';
import { localToUtcExact } from '../core/timezone.ts';
import { lastTradingDayOnOrBefore } from '../instruments/specs.ts';

export type OptionRight = 'C' | 'P';
/** American options may be exercised on any day up to expiry (US equity options); European only at expiry (SPX, most FX). */
export type ExerciseStyle = 'american' | 'european';

export interface OptionContract {
  right: OptionRight;
  strike: number;
  /** the listed expiration date, 'YYYY-MM-DD' (OCC's date: a Saturday for monthlies before 2015) */
  expiry: string;
  style: ExerciseStyle;
}

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;
const YEAR_MS = 365 * DAY_MS;
const NEW_YORK = 'America/New_York';

/** Days since 1970-01-01 of a 'YYYY-MM-DD' date; throws naming the field when it is not a real date. */
function dayNumber(date: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`option contract: ${field} = '${date}': expected a real date as YYYY-MM-DD`);
  }
  return ms / DAY_MS;
}

/** The last day the contract trades, 'YYYY-MM-DD' (see the convention at the top of this file). */
export function lastTradingDay(expiry: string): string {
  dayNumber(expiry, 'expiry');
  // a Saturday expiration traded until the Friday before, or the Thursday when that Friday was Good Friday
  return lastTradingDayOnOrBefore(expiry);
}

/** Epoch ms of the close of the contract's last trading day: 16:00 New York, 13:00 on a US half day. */
export function expiryCloseMs(expiry: string): number {
  const day = dayNumber(lastTradingDay(expiry), 'expiry');
  const closeMin = usHalfDay(day) === null ? US_CLOSE_MIN : US_HALF_DAY_CLOSE_MIN;
  return localToUtcExact(NEW_YORK, day * DAY_MS + closeMin * MIN_MS);
}

/**
 * Years from `nowMs` (epoch ms) to the contract's expiry close, ACT/365, 0 once that close has passed (price
 * at T = 0: the intrinsic value).
 */
export function yearsToExpiry(expiry: string, nowMs: number): number {
  if (!Number.isFinite(nowMs)) throw new RangeError(`option contract: now = ${nowMs}: expected epoch milliseconds`);
  return Math.max(0, (expiryCloseMs(expiry) - nowMs) / YEAR_MS);
}
