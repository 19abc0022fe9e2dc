// New York wall-clock time of instants, on Intl (through engine/core/timezone.ts), looked up once per UTC hour:
// the offset only changes on the hour, and the minute files convert tens of thousands of bars.

import { tzOffsetMs } from '../core/timezone.ts';
import type { IsoDate } from '../instruments/iso-date.ts';

const NY = 'America/New_York';
const HOUR = 3_600_000;
const offsetByHour = new Map<number, number>();

/** New York's offset from UTC at an instant, ms (EDT: -4 h). */
export function newYorkOffset(utcMs: number): number {
  const h = Math.floor(utcMs / HOUR);
  let off = offsetByHour.get(h);
  if (off === undefined) {
    if (offsetByHour.size > 200_000) offsetByHour.clear();
    offsetByHour.set(h, (off = tzOffsetMs(NY, h * HOUR)));
  }
  return off;
}

/** Wall-clock New York time of an instant: date, weekday (0 Sunday .. 6 Saturday), minute of the day. */
export function newYorkClock(utcMs: number): { date: IsoDate; weekday: number; minute: number } {
  const d = new Date(utcMs + newYorkOffset(utcMs));
  return { date: d.toISOString().slice(0, 10), weekday: d.getUTCDay(), minute: d.getUTCHours() * 60 + d.getUTCMinutes() };
}
