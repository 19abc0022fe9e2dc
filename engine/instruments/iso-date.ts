// Calendar dates as 'YYYY-MM-DD' strings (exchange dates, expiries), with day arithmetic on UTC days so no
// time zone or DST can shift them. Lexical order of these strings is date order.

/** A calendar date 'YYYY-MM-DD'. */
export type IsoDate = string;

const DAY = 86_400_000;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar date written 'YYYY-MM-DD' (2013-02-30 is not). */
export function isIsoDate(s: unknown): s is IsoDate {
  if (typeof s !== 'string') return false;
  const m = ISO_RE.exec(s);
  if (!m) return false;
  const t = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return t.getUTCFullYear() === +m[1]! && t.getUTCMonth() === +m[2]! - 1 && t.getUTCDate() === +m[3]!;
}

/** Days since 1970-01-01 of a date (no validation: check with isIsoDate first where input is untrusted). */
export function dayNumber(d: IsoDate): number {
  return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / DAY;
}

/** The date of a day number. */
export function fromDayNumber(n: number): IsoDate {
  return new Date(n * DAY).toISOString().slice(0, 10);
}

export function isoOf(year: number, month: number, day: number): IsoDate {
  return fromDayNumber(Date.UTC(year, month - 1, day) / DAY);
}

export function addDays(d: IsoDate, n: number): IsoDate {
  return fromDayNumber(dayNumber(d) + n);
}

/** 0 Sunday .. 6 Saturday. */
export function weekday(d: IsoDate): number {
  return new Date(dayNumber(d) * DAY).getUTCDay();
}

/** Calendar days from `a` to `b` (negative when b is before a). */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  return dayNumber(b) - dayNumber(a);
}

/** Number of days in a month (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
