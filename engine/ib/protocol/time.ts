// Times as IB prints and parses them: "YYYYMMDD HH:MM:SS" in the exchange's zone, IB's zone names.
import { zoneOffset } from '../../core/calendar.ts';
import { localToUtc } from '../../core/timezone.ts';

const IB_ZONES: Record<string, string> = {
  'America/New_York': 'US/Eastern',
  'America/Chicago': 'US/Central',
  'America/Denver': 'US/Mountain',
  'America/Los_Angeles': 'US/Pacific',
};

/** IB's name for a zone (US/Eastern for America/New_York); other zones keep their IANA name. */
export function ibZoneName(tz: string): string {
  return IB_ZONES[tz] ?? tz;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "YYYYMMDD HH:MM:SS" of an instant in `tz`, with " <IB zone name>" when `withZone`. */
export function formatIbTime(ts: number, tz: string, withZone = false): string {
  const d = new Date(ts + zoneOffset(tz, ts));
  const s = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withZone ? `${s} ${ibZoneName(tz)}` : s;
}

/** "YYYYMMDD" of an instant in `tz`. */
export function formatIbDate(ts: number, tz: string): string {
  return formatIbTime(ts, tz).slice(0, 8);
}

/**
 * An IB date-time as epoch ms: "YYYYMMDD HH:MM:SS" (in `defaultTz`), "YYYYMMDD HH:MM:SS <zone>",
 * "YYYYMMDD-HH:MM:SS" (UTC) or "YYYYMMDD" (local midnight). NaN when it does not parse.
 */
export function parseIbTime(text: string, defaultTz: string): number {
  const s = text.trim();
  const m = /^(\d{4})(\d{2})(\d{2})(?:([ -]+)(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?:\s+(\S+))?$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, sep, h, mi, se, zone] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(se ?? 0));
  if (sep === '-' && !zone) return local; // the UTC form
  let tz = defaultTz;
  if (zone) {
    tz = Object.entries(IB_ZONES).find(([, ib]) => ib === zone)?.[0] ?? zone;
    if (tz === 'UTC' || tz === 'GMT') return local;
    try {
      zoneOffset(tz, local);
    } catch {
      return NaN;
    }
  }
  return localToUtc(tz, local);
}
