import type { EpochMs } from './types.ts';

const DAY = 86_400_000;

/** UTC offset (ms) of `tz` at instant `ts`. */
export function zoneOffset(tz: string, ts: EpochMs): number {
  const f = formatter(tz);
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ts))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour === 24 ? 0 : p.hour, p.minute, p.second);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/**
 * Exchange-local trading days and minutes for a stream of instants, cached per day so the hot
 * path pays a time-zone lookup once a day. Daily bars (stamped 00:00 UTC of their date) use 'UTC'.
 */
export class ExchangeCalendar {
  private start = Infinity; // UTC instant of the cached local midnight
  private end = -Infinity;
  private dayNo = NaN;
  private closeNo = NaN;

  constructor(
    readonly tz: string,
    /** regular session in local minutes after midnight (US equities: 09:30-16:00) */
    readonly sessionOpenMin = 570,
    readonly sessionCloseMin = 960,
  ) {}

  /** days since 1970-01-01 in exchange-local time */
  day(ts: EpochMs): number {
    if (ts < this.start || ts >= this.end) this.load(ts);
    return this.dayNo;
  }

  /** minutes after local midnight */
  minuteOfDay(ts: EpochMs): number {
    if (ts < this.start || ts >= this.end) this.load(ts);
    return (ts - this.start) / 60_000;
  }

  /**
   * The regular session's close on the local day of `ts`, in minutes after midnight: `sessionCloseMin`,
   * or 13:00 on a US half day (`usHalfDay`) when the session is the US one (09:30-16:00, not 'UTC').
   */
  closeMin(ts: EpochMs): number {
    if (ts < this.start || ts >= this.end) this.load(ts);
    return this.closeNo;
  }

  /**
   * Whether a bar starting at `ts` is in the regular session: it starts at or after the open and before
   * the day's close (`closeMin`). A bar that straddles the open (a 1h bar at 09:00) is outside. Daily
   * calendars ('UTC': a daily bar is one session) have every bar in it.
   */
  inSession(ts: EpochMs): boolean {
    if (this.tz === 'UTC') return true;
    const m = this.minuteOfDay(ts);
    return m >= this.sessionOpenMin && m < this.closeNo;
  }

  /** month number (year*12 + month) in exchange-local time */
  month(ts: EpochMs): number {
    const day = this.day(ts);
    if (day !== this.monthDay) {
      const d = new Date(day * DAY);
      this.monthDay = day;
      this.monthNo = d.getUTCFullYear() * 12 + d.getUTCMonth();
    }
    return this.monthNo;
  }
  /** the day whose month monthNo is (a Date a call otherwise) */
  private monthDay = NaN;
  private monthNo = NaN;

  private load(ts: EpochMs): void {
    if (this.tz === 'UTC') {
      this.dayNo = Math.floor(ts / DAY);
      this.start = this.dayNo * DAY;
      this.end = this.start + DAY;
      this.closeNo = this.sessionCloseMin;
      return;
    }
    const local = ts + zoneOffset(this.tz, ts);
    this.dayNo = Math.floor(local / DAY);
    const midnightLocal = this.dayNo * DAY;
    this.start = midnightLocal - zoneOffset(this.tz, midnightLocal - zoneOffset(this.tz, ts));
    this.end = (this.dayNo + 1) * DAY - zoneOffset(this.tz, (this.dayNo + 1) * DAY - zoneOffset(this.tz, ts));
    const usSession = this.sessionOpenMin === US_OPEN_MIN && this.sessionCloseMin === US_CLOSE_MIN;
    this.closeNo = usSession && usHalfDay(this.dayNo) !== null ? US_HALF_DAY_CLOSE_MIN : this.sessionCloseMin;
  }
}

/** US equities' regular session in exchange-local minutes: 09:30-16:00, 13:00 on half days. */
export const US_OPEN_MIN = 570;
export const US_CLOSE_MIN = 960;
export const US_HALF_DAY_CLOSE_MIN = 780;

/**
 * Whether a local day (days since 1970-01-01) is a US half day (NYSE/Nasdaq close at 13:00), by the
 * exchanges' standing rules: the day after Thanksgiving (the 4th Thursday of November), Christmas Eve when
 * it falls Monday-Thursday, and July 3 when it falls Monday-Thursday (July 4 on Tuesday-Friday). Returns the
 * rule's name, or null. Rule-based, so one-off closes (national mourning, 2001-09-11, Hurricane Sandy) and
 * the occasional extra half day of the past (December 26, 2003) are not in it; full holidays need no list:
 * they have no bars.
 */
export function usHalfDay(dayNo: number): string | null {
  const d = new Date(dayNo * DAY);
  const month = d.getUTCMonth() + 1;
  const date = d.getUTCDate();
  const weekday = d.getUTCDay(); // 0 Sunday .. 6 Saturday
  const monThu = weekday >= 1 && weekday <= 4;
  if (month === 7 && date === 3 && monThu) return 'July 3 (the day before Independence Day)';
  if (month === 12 && date === 24 && monThu) return 'Christmas Eve';
  // the 4th Thursday of November is on the 22nd-28th, so the Friday after it is on the 23rd-29th
  if (month === 11 && weekday === 5 && date >= 23 && date <= 29) return 'the day after Thanksgiving';
  return null;
}

/** `--session`: the regular session only (09:30-16:00 exchange time, 13:00 on half days), or every bar. */
export type SessionMode = 'rth' | 'extended';

/** The session flag's value checked (config files, flags): `rth` or `extended`. */
export function parseSession(s: string): SessionMode {
  if (s === 'rth' || s === 'extended') return s;
  throw new Error(`session must be rth or extended, got '${s}'`);
}
