// tb.duckdb: SQL in a notebook, rows as DataFrames with plain values (no BigInt), a file shared read-only.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tb from '../../engine/index.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { ensureSampleDb } from '../../engine/data/sample.ts';

let root = '';
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('tb.duckdb', () => {
  it('turns BIGINT into numbers, dates into Dates, NULL into NaN, lists into JSON; tables last for the session', async () => {
    const db = await tb.duckdb();
    try {
      await db.sql(
        `CREATE TABLE t AS SELECT * FROM (VALUES (1::BIGINT, DATE '2020-01-02', NULL::DOUBLE, [1, 2]), (2, DATE '2020-01-03', 2.5, [3])) v(n, d, x, l)`,
      );
      const df = await db.sql('SELECT n, d, x, l, count(*) OVER () AS rows FROM t ORDER BY n');
      expect(df.columns).toEqual(['n', 'd', 'x', 'l', 'rows']);
      expect(df.column('n').values).toEqual([1, 2]);
      expect(df.column('rows').values).toEqual([2, 2]); // count(*) is a BIGINT
      expect((df.column('d').values as unknown as Date[]).map((d) => d.toISOString())).toEqual(['2020-01-02T00:00:00.000Z', '2020-01-03T00:00:00.000Z']);
      expect(Number.isNaN((df.column('x').values as number[])[0])).toBe(true);
      expect(df.column('l').values).toEqual(['[1,2]', '[3]']);
      expect((await db.sql('SELECT * FROM t WHERE n > 5')).columns).toEqual(['n', 'd', 'x', 'l']);
    } finally {
      db.close();
    }
  });
  it('refuses an integer a number cannot hold exactly, naming the column and row', async () => {
    const db = await tb.duckdb();
    try {
      await expect(db.sql('SELECT 1 AS ok, 9007199254740993::BIGINT AS big')).rejects.toThrow(/column 'big' row 0: 9007199254740993 is beyond 2\^53/);
    } finally {
      db.close();
    }
  });
  it('opens a .duckdb file read-only: the bundled sample, next to another reader, and never writes it', async () => {
    await ensureSampleDb(SAMPLE_DB_PATH);
    const a = await tb.duckdb(SAMPLE_DB_PATH);
    const b = await tb.duckdb(SAMPLE_DB_PATH);
    try {
      const n = await a.sql(`SELECT count(*) AS n FROM bars WHERE symbol = 'SPY'`);
      const bars = await tb.bars(['SPY'], { interval: '1d' });
      expect((await b.sql(`SELECT count(*) AS n FROM bars WHERE symbol = 'SPY' AND interval = '1d'`)).column('n').values).toEqual([bars.shape[0]]);
      expect((n.column('n').values as number[])[0]).toBeGreaterThanOrEqual(bars.shape[0]);
      await expect(a.sql('CREATE TABLE x (i INT)')).rejects.toThrow(/read-only/i);
    } finally {
      a.close();
      b.close();
    }
    root = await mkdtemp(join(tmpdir(), 'tb-sql-'));
    await expect(tb.duckdb(join(root, 'missing.duckdb'))).rejects.toThrow(/missing\.duckdb/);
  });
});
