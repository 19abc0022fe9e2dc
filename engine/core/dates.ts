import type { EpochMs } from './types.ts';

/** ISO-8601 UTC time of a data timestamp (a conversion, not a wall-clock read). */
export function isoTime(ts: EpochMs): string {
  return new Date(ts).toISOString();
}

/** YYYY-MM-DD (UTC) of a data timestamp. */
export function isoDate(ts: EpochMs): string {
  return isoTime(ts).slice(0, 10);
}
