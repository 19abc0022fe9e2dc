// Exchange time zones at the edges (import, display): wall-clock time <-> UTC epoch ms, on
// Intl.DateTimeFormat (no tz database of our own). "Local ms" below means the wall-clock time
// written as if it were UTC, e.g. 2013-10-07 09:30 New York -> Date.UTC(2013, 9, 7, 9, 30).

import { zoneOffset } from './calendar.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Throws a RangeError naming the zone when Intl does not know it. */
export function assertTimeZone(tz: string): void {
  try {
    zoneOffset(tz, 0);
  } catch {
    throw new RangeError(`unknown time zone '${tz}': use an IANA name such as America/New_York`);
  }
}

/** Offset of the zone from UTC at an instant, in ms (New York in summer: -4 h). */
export const tzOffsetMs = zoneOffset;

/** Wall-clock time of an instant, as local ms. */
export function utcToLocal(tz: string, utcMs: number): number {
  return utcMs + tzOffsetMs(tz, utcMs);
}

/**
 * The UTC instant of a wall-clock time, exact (no cache). A time that occurs twice (the hour
 * repeated when clocks go back) resolves to the earlier instant; a time that does not exist
 * (skipped when clocks go forward) gives NaN.
 */
export function localToUtcExact(tz: string, localMs: number): number {
  // At most one transition within a day either side: the two offsets around it are the candidates.
  const before = tzOffsetMs(tz, localMs - DAY);
  const after = tzOffsetMs(tz, localMs + DAY);
  let best = NaN;
  for (const off of before === after ? [before] : [before, after]) {
    const t = localMs - off;
    if (tzOffsetMs(tz, t) === off && !(t >= best)) best = t;
  }
  return best;
}

/**
 * Offsets (ms) in force for each hour 0..23 of one local day: NaN for an hour that does not
 * exist. Transitions are assumed to fall on the hour, as they do in every zone with an exchange
 * we import (New York, Chicago, London, Frankfurt, Tokyo, Hong Kong, Sydney...).
 */
const dayCache = new Map<string, Float64Array>();

export function hourOffsets(tz: string, localDayMs: number): Float64Array {
  const key = `${tz}|${localDayMs}`;
  let offs = dayCache.get(key);
  if (offs) return offs;
  offs = new Float64Array(24);
  const first = localDayMs - localToUtcExact(tz, localDayMs);
  const last = localDayMs + 23 * HOUR - localToUtcExact(tz, localDayMs + 23 * HOUR);
  if (first === last) {
    offs.fill(first); // the usual day: no transition
  } else {
    for (let h = 0; h < 24; h++) {
      const local = localDayMs + h * HOUR;
      offs[h] = local - localToUtcExact(tz, local);
    }
  }
  if (dayCache.size > 100_000) dayCache.clear();
  dayCache.set(key, offs);
  return offs;
}

/** Same as localToUtcExact, cached per local day (the import path converts millions of bars). */
export function localToUtc(tz: string, localMs: number): number {
  const day = Math.floor(localMs / DAY) * DAY;
  const off = hourOffsets(tz, day)[Math.floor((localMs - day) / HOUR)];
  return localMs - off;
}

/** 'YYYY-MM-DD HH:MM[:SS]' of local ms (seconds shown only when not zero). */
export function formatLocalMs(localMs: number): string {
  const iso = new Date(localMs).toISOString();
  return iso.endsWith(':00.000Z') ? iso.slice(0, 16).replace('T', ' ') : iso.slice(0, 19).replace('T', ' ');
}

/** An instant as wall-clock time in a zone, e.g. '2013-10-07 09:30'. */
export function formatInZone(tz: string, utcMs: number): string {
  return formatLocalMs(utcToLocal(tz, utcMs));
}

export const TIME = { MIN, HOUR, DAY } as const;
