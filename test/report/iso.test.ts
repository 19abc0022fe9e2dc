// The report's ISO-8601 times are computed arithmetically (engine/report/iso.ts): they must be exactly
// Date#toISOString's text for every timestamp, or report.json would change.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDate, isoTime } from '../../engine/report/iso.ts';

const dateText = (t: number) => new Date(t).toISOString();
const DAY = 86_400_000;

describe('report isoTime', () => {
  it("is Date#toISOString's text for any time, inside years 0-9999 and outside them", () => {
    const times = (max: number) => fc.double({ min: -max, max, noNaN: true }).map(Math.floor);
    for (const max of [8.64e15, 5e12])
      fc.assert(
        fc.property(times(max), (t) => {
          expect(isoTime(t)).toBe(dateText(t));
          expect(isoDate(t)).toBe(dateText(t).slice(0, 10));
        }),
        { numRuns: 10_000 },
      );
  });

  it('is right at every day from 1900 to 2100 (leap days and century years), at midnight and within the day', () => {
    const wrong: string[] = [];
    for (let d = Date.UTC(1900, 0, 1) / DAY; d <= Date.UTC(2100, 11, 31) / DAY; d++)
      for (const ms of [0, 1, 999, 59_999, 3_600_000, 52_200_123, DAY - 1])
        if (isoTime(d * DAY + ms) !== dateText(d * DAY + ms)) wrong.push(`${d * DAY + ms}: ${isoTime(d * DAY + ms)}`);
    expect(wrong).toEqual([]);
  });

  it('matches at the edges: years 0 and 9999, fractions of a millisecond, -0, and throws as Date does for NaN', () => {
    const edges = [-62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15, 0, -0, -1, 0.5, -0.5, -1.5, 1.999];
    for (const t of edges) expect(isoTime(t)).toBe(dateText(t));
    for (const t of [NaN, Infinity, 8.64e15 + 1]) expect(() => isoTime(t)).toThrow(RangeError);
  });
});
