import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertTimeZone, formatInZone, hourOffsets, localToUtc, localToUtcExact, tzOffsetMs, utcToLocal } from '../../engine/core/timezone.ts';

const NY = 'America/New_York';
const H = 3_600_000;
const local = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

describe('timezone helper', () => {
  it('converts New York wall-clock times to UTC in summer and winter', () => {
    expect(localToUtc(NY, local(2013, 10, 7, 9, 30))).toBe(Date.UTC(2013, 9, 7, 13, 30));
    expect(localToUtc(NY, local(2013, 12, 2, 9, 30))).toBe(Date.UTC(2013, 11, 2, 14, 30));
    expect(tzOffsetMs(NY, Date.UTC(2013, 9, 7, 13, 30))).toBe(-4 * H);
    expect(tzOffsetMs(NY, Date.UTC(2013, 11, 2, 14, 30))).toBe(-5 * H);
    expect(formatInZone(NY, Date.UTC(2013, 9, 7, 13, 30))).toBe('2013-10-07 09:30');
  });

  it('handles the spring-forward day 2013-03-10: 02:00-02:59 does not exist', () => {
    expect(localToUtc(NY, local(2013, 3, 10, 1, 59))).toBe(Date.UTC(2013, 2, 10, 6, 59));
    expect(localToUtc(NY, local(2013, 3, 10, 2, 30))).toBeNaN();
    expect(localToUtcExact(NY, local(2013, 3, 10, 2, 30))).toBeNaN();
    expect(localToUtc(NY, local(2013, 3, 10, 3, 0))).toBe(Date.UTC(2013, 2, 10, 7, 0));
    // one hour of trading time less: 09:30 that day is 13:30 UTC, the day before 14:30 UTC
    expect(localToUtc(NY, local(2013, 3, 8, 9, 30))).toBe(Date.UTC(2013, 2, 8, 14, 30));
    expect(localToUtc(NY, local(2013, 3, 11, 9, 30))).toBe(Date.UTC(2013, 2, 11, 13, 30));
    const offs = hourOffsets(NY, local(2013, 3, 10));
    expect(offs[1]).toBe(-5 * H);
    expect(offs[2]).toBeNaN();
    expect(offs[3]).toBe(-4 * H);
  });

  it('handles the fall-back day 2013-11-03: 01:00-01:59 happens twice, the earlier is taken', () => {
    expect(localToUtc(NY, local(2013, 11, 3, 0, 59))).toBe(Date.UTC(2013, 10, 3, 4, 59));
    expect(localToUtc(NY, local(2013, 11, 3, 1, 30))).toBe(Date.UTC(2013, 10, 3, 5, 30)); // EDT
    expect(localToUtc(NY, local(2013, 11, 3, 2, 0))).toBe(Date.UTC(2013, 10, 3, 7, 0)); // EST
    expect(localToUtc(NY, local(2013, 11, 4, 9, 30))).toBe(Date.UTC(2013, 10, 4, 14, 30));
    // both instants of the repeated hour show 01:30 on the wall
    expect(utcToLocal(NY, Date.UTC(2013, 10, 3, 5, 30))).toBe(local(2013, 11, 3, 1, 30));
    expect(utcToLocal(NY, Date.UTC(2013, 10, 3, 6, 30))).toBe(local(2013, 11, 3, 1, 30));
  });

  it('rejects an unknown zone by name', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/unknown time zone 'Mars\/Olympus'/);
    expect(() => assertTimeZone('Europe/London')).not.toThrow();
  });

  it('round-trips any instant through wall-clock time (cached path = exact path)', () => {
    const zones = [NY, 'Europe/London', 'Asia/Tokyo', 'Australia/Sydney', 'America/Chicago', 'UTC'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }), (tz, minutes) => {
        const t = minutes * 60_000;
        const wall = utcToLocal(tz, t);
        const back = localToUtc(tz, wall);
        expect(back).toBe(localToUtcExact(tz, wall));
        // the same instant, or the earlier one when the wall time repeats
        expect(back <= t).toBe(true);
        expect(utcToLocal(tz, back)).toBe(wall);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with DuckDB's ICU time zones on random New York wall-clock times", async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const samples = fc.sample(fc.integer({ min: Date.UTC(1995, 0, 1) / 60_000, max: Date.UTC(2035, 0, 1) / 60_000 }), {
        numRuns: 500,
        seed: 42,
      });
      const walls = samples.map((m) => m * 60_000).filter((w) => !Number.isNaN(localToUtc(NY, w)));
      const list = walls.map((w) => `(${w})`).join(',');
      const r = await conn.runAndReadAll(`
SELECT w, epoch_ms(timezone('${NY}', epoch_ms(w::BIGINT))) AS utc FROM (VALUES ${list}) v(w)`);
      for (const row of r.getRowObjectsJS()) {
        const w = Number(row.w);
        const ours = localToUtc(NY, w);
        const icu = Number(row.utc);
        // ICU resolves the repeated hour to the later instant; we take the earlier: allow exactly that
        if (ours !== icu) expect(icu - ours).toBe(H);
        if (ours !== icu) expect(utcToLocal(NY, icu)).toBe(w);
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
