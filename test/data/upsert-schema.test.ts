// Re-imports on both schemas of bars: a database created before bars lost its PRIMARY KEY (which keeps
// it) and one created now (no key, uniqueness kept by the importer). Both upsert the same way, with
// hand-computed counts, and never end with a (symbol, interval, ts) stored twice.
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { caught, fingerprint, HEADER, tempDir, writeText } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

/** The schema of bars before it lost its key, as users' databases have it. */
const OLD_SCHEMA = `
CREATE TABLE instruments (symbol VARCHAR PRIMARY KEY, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, sector VARCHAR, tick_size DOUBLE, tz VARCHAR);
CREATE TABLE bars (
  symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL, ts BIGINT NOT NULL,
  open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
  PRIMARY KEY (symbol, interval, ts));`;

async function newStore(schema: 'old' | 'new'): Promise<{ store: Store; dir: string }> {
  const dir = path.join(tmp.dir, `case${++n}`);
  const file = path.join(tmp.dir, `db${n}.duckdb`);
  if (schema === 'old') {
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(OLD_SCHEMA);
    conn.closeSync();
    db.closeSync();
  }
  return { store: await openStore(file), dir };
}

async function keyCount(store: Store): Promise<number> {
  const r = await store.conn.runAndReadAll(
    `SELECT count(*) AS n FROM duckdb_constraints() WHERE database_name = current_database() AND table_name = 'bars' AND constraint_type = 'PRIMARY KEY'`,
  );
  return Number(r.getRowObjectsJS()[0]!.n);
}

/** Keys stored more than once (must be none), and all rows. */
async function duplicates(store: Store): Promise<{ dups: number; rows: number }> {
  const r = await store.conn.runAndReadAll(`
SELECT (SELECT count(*) FROM (SELECT 1 FROM bars GROUP BY symbol, "interval", ts HAVING count(*) > 1)) AS dups,
       (SELECT count(*) FROM bars) AS rows`);
  const row = r.getRowObjectsJS()[0]!;
  return { dups: Number(row.dups), rows: Number(row.rows) };
}

const day = (m: number, d: number) => Date.UTC(2020, m - 1, d);

describe.each(['old', 'new'] as const)('upsert on the %s schema of bars', (schema) => {
  it(`${schema === 'old' ? 'keeps the PRIMARY KEY' : 'has no key'} and upserts with hand-computed counts, no key stored twice`, async () => {
    const { store, dir } = await newStore(schema);
    try {
      expect(await keyCount(store)).toBe(schema === 'old' ? 1 : 0);
      // A: 4 bars, B: 3 bars
      const a1 = writeText(dir, 'v1/A.csv', `${HEADER}\n2020-01-02,1,1,1,1,10\n2020-01-03,2,2,2,2,20\n2020-01-06,3,3,3,3,30\n2020-01-07,4,4,4,4,40`);
      const b1 = writeText(dir, 'v1/B.csv', `${HEADER}\n2020-01-02,7,7,7,7,70\n2020-01-03,8,8,8,8,80\n2020-01-06,9,9,9,9,90`);
      expect(await importPaths(store, [a1, b1])).toMatchObject({ rows: 7, inserted: 7, updated: 0, unchanged: 0, removed: 0 });
      // A: 01-03 equal, 01-06 changed (close), 01-08 new; B: 01-02 changed (volume), 01-06 equal, 01-07 new, 01-08 new
      // rows 7: inserted 3, updated 2, unchanged 2
      const a2 = writeText(dir, 'v2/A.csv', `${HEADER}\n2020-01-03,2,2,2,2,20\n2020-01-06,3,3.5,3,3.5,30\n2020-01-08,5,5,5,5,50`);
      const b2 = writeText(dir, 'v2/B.csv', `${HEADER}\n2020-01-02,7,7,7,7,71\n2020-01-06,9,9,9,9,90\n2020-01-07,10,10,10,10,100\n2020-01-08,11,11,11,11,110`);
      expect(await importPaths(store, [a2, b2])).toEqual({
        files: 2,
        rows: 7,
        symbols: ['A', 'B'],
        interval: '1d',
        inserted: 3,
        updated: 2,
        unchanged: 2,
        removed: 0,
        adjusted: [],
      });
      expect(await duplicates(store)).toEqual({ dups: 0, rows: 10 });
      const [a, b] = await loadBars(store, { symbols: ['A', 'B'], interval: '1d' });
      expect([...a!.ts]).toEqual([day(1, 2), day(1, 3), day(1, 6), day(1, 7), day(1, 8)]);
      expect([...a!.close]).toEqual([1, 2, 3.5, 4, 5]);
      expect([...b!.ts]).toEqual([day(1, 2), day(1, 3), day(1, 6), day(1, 7), day(1, 8)]);
      expect([...b!.volume]).toEqual([71, 80, 90, 100, 110]);

      // the same bars as minute bars are other keys (interval is part of the key): 1 file, all new
      const a1m = writeText(dir, 'm/A.csv', `datetime,open,high,low,close,volume\n2020-01-02 09:30:00,1,1,1,1,1\n2020-01-02 09:31:00,1,1,1,1,1`);
      expect(await importPaths(store, [a1m], { interval: '1m' })).toMatchObject({ rows: 2, inserted: 2, updated: 0, unchanged: 0 });

      // replaceRange over A 01-03..01-07: 01-06 dropped (removed 1), 01-03 equal, 01-07 changed
      const a3 = writeText(dir, 'v3/A.csv', `${HEADER}\n2020-01-03,2,2,2,2,20\n2020-01-07,4,4.25,4,4.25,40`);
      expect(await importPaths(store, [a3], { replaceRange: true })).toMatchObject({ rows: 2, inserted: 0, updated: 1, unchanged: 1, removed: 1 });
      expect(await duplicates(store)).toEqual({ dups: 0, rows: 11 });

      // a failed import (a bad price in B) leaves everything as it was
      const before = await fingerprint(store);
      const bad = writeText(dir, 'v4/B.csv', `${HEADER}\n2020-01-02,7,7,7,7,72\n2020-01-03,8,8,8,abc,80`);
      expect((await caught(() => importPaths(store, [a2, bad]))).rule).toBe('not-a-number');
      expect(await fingerprint(store)).toEqual(before);

      // v2 again: A 01-06 was removed by the replaceRange import (new again), the other 6 rows are as stored
      expect(await importPaths(store, [a2, b2])).toMatchObject({ rows: 7, inserted: 1, updated: 0, unchanged: 6 });
      expect(await duplicates(store)).toEqual({ dups: 0, rows: 12 });
      // importing the same files again changes nothing
      const again = await fingerprint(store);
      expect(await importPaths(store, [a2, b2])).toMatchObject({ inserted: 0, updated: 0, unchanged: 7 });
      expect(await fingerprint(store)).toEqual(again);
    } finally {
      store.close();
    }
  });

  it('never stores a key twice across imports, with every mix of new, equal and changed rows', async () => {
    const { store, dir } = await newStore(schema);
    try {
      // 5 imports over 30 days of 3 symbols, each changing and adding some; counts and content checked against a model
      const model = new Map<string, number>(); // `${sym} ${dayIndex}` -> close
      for (let round = 0; round < 5; round++) {
        const files: string[] = [];
        let inserted = 0;
        let updated = 0;
        let unchanged = 0;
        for (const sym of ['X', 'Y', 'Z']) {
          const lines: string[] = [];
          for (let d = round * 4; d < round * 4 + 12; d++) {
            const close = (d % 3 === round % 3 ? 100 + round : 100) + d; // a third of the days change each round
            const key = `${sym} ${d}`;
            const had = model.get(key);
            if (had === undefined) inserted++;
            else if (had !== close) updated++;
            else unchanged++;
            model.set(key, close);
            const date = new Date(Date.UTC(2021, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
            lines.push(`${date},${close},${close},${close},${close},1`);
          }
          files.push(writeText(dir, `r${round}/${sym}.csv`, `${HEADER}\n${lines.join('\n')}`));
        }
        expect(await importPaths(store, files, { interval: '1d' })).toMatchObject({ rows: 36, inserted, updated, unchanged, removed: 0 });
        expect(await duplicates(store)).toEqual({ dups: 0, rows: model.size });
      }
      for (const sym of ['X', 'Y', 'Z']) {
        const [s] = await loadBars(store, { symbols: [sym], interval: '1d' });
        const want = [...model.entries()].filter(([k]) => k.startsWith(`${sym} `)).sort((p, q) => Number(p[0].split(' ')[1]) - Number(q[0].split(' ')[1]));
        expect([...s!.close]).toEqual(want.map(([, c]) => c));
      }
    } finally {
      store.close();
    }
  });
});
