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

  /** month number (year*12 + month) in exchange-local time */
  month(ts: EpochMs): number {
    const d = new Date(this.day(ts) * DAY);
    return d.getUTCFullYear() * 12 + d.getUTCMonth();
  }

  private load(ts: EpochMs): void {
    if (this.tz === 'UTC') {
      this.dayNo = Math.floor(ts / DAY);
      this.start = this.dayNo * DAY;
      this.end = this.start + DAY;
      return;
    }
    const local = ts + zoneOffset(this.tz, ts);
    this.dayNo = Math.floor(local / DAY);
    const midnightLocal = this.dayNo * DAY;
    this.start = midnightLocal - zoneOffset(this.tz, midnightLocal - zoneOffset(this.tz, ts));
    this.end = (this.dayNo + 1) * DAY - zoneOffset(this.tz, (this.dayNo + 1) * DAY - zoneOffset(this.tz, ts));
  }
}
