// ISO-8601 UTC text of data timestamps for the report: the same text as core/dates.ts (Date#toISOString),
// computed with integer arithmetic. A report converts every order, fill and trade time (some 100,000 for a
// 100-symbol, 20-year run), and toISOString costs a Date object and a runtime call each.
import { isoTime as dateIsoTime } from '../core/dates.ts';
import type { EpochMs } from '../core/types.ts';

const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 10000-01-01T00:00:00.000Z: inside them toISOString writes a 4-digit year. */
const MIN_TS = -62_167_219_200_000;
const END_TS = 253_402_300_800_000;

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const FOUR = (y: number) => (y >= 1000 ? String(y) : String(y).padStart(4, '0'));

// consecutive times mostly fall on the same day: its YYYY-MM-DD and its midnight are kept
let lastDay = Number.NaN;
let lastDate = '';
let lastMidnight = '';

/** YYYY-MM-DD of a day number (days since 1970-01-01; H. Hinnant's civil_from_days). */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${FOUR(y)}-${TWO[m]}-${TWO[d]}`;
}

/** `new Date(ts).toISOString()`, e.g. 2024-01-02T14:30:00.000Z (outside years 0-9999, and for NaN, it is that call). */
export function isoTime(ts: EpochMs): string {
  if (!(ts >= MIN_TS && ts < END_TS)) return dateIsoTime(ts);
  const t = Math.trunc(ts); // as Date does (TimeClip)
  const days = Math.floor(t / DAY_MS);
  let ms = t - days * DAY_MS;
  if (days !== lastDay) {
    lastDate = civilDate(days);
    lastMidnight = `${lastDate}T00:00:00.000Z`;
    lastDay = days;
  }
  if (ms === 0) return lastMidnight;
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const mi = Math.floor(ms / 60_000);
  ms -= mi * 60_000;
  const s = Math.floor(ms / 1000);
  return `${lastDate}T${TWO[h]}:${TWO[mi]}:${TWO[s]}.${THREE[ms - s * 1000]}Z`;
}

/** YYYY-MM-DD (UTC) of a data timestamp: isoTime(ts) cut to the date. */
export function isoDate(ts: EpochMs): string {
  return isoTime(ts).slice(0, 10);
}
