// The loader: chunked reads into typed arrays, request order, inclusive bounds, clear errors.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { importPaths } from '../../engine/data/import.ts';
import { chunkBars, collectChunks, listSymbols, loadBars } from '../../engine/data/load.ts';
import type { Store } from '../../engine/data/store.ts';
import { runCli } from '../cli/run-cli.ts';
import { caught, HEADER, storeIn, tempDir, writeText } from './helpers.ts';

const DAY = 86_400_000;
const START = Date.UTC(2000, 0, 3);
// Sizes straddle DuckDB's 2048-row chunks, so chunks hold the end of one symbol and the start of the next.
const SIZES: Record<string, number> = { AAA: 2047, BBB: 4097, CCC: 3001 };

/** The generated bar i of a symbol: every field distinct and recoverable. */
function bar(k: number, i: number) {
  const close = 100 * (k + 1) + i / 64;
  return { ts: START + i * DAY, open: close - 0.25, high: close + 0.5, low: close - 0.5, close, volume: 1000 * k + i };
}

const tmp = tempDir();
let store: Store;
let dbPath: string;

beforeAll(async () => {
  const files = Object.entries(SIZES).map(([sym, n], k) => {
    const lines = [HEADER];
    for (let i = 0; i < n; i++) {
      const b = bar(k, i);
      lines.push(`${new Date(b.ts).toISOString().slice(0, 10)},${b.open},${b.high},${b.low},${b.close},${b.volume}`);
    }
    return writeText(tmp.dir, `csv/${sym}.csv`, lines.join('\n'));
  });
  store = await storeIn(tmp.dir);
  dbPath = path.join(tmp.dir, 'test.duckdb');
  await importPaths(store, files);
  await importPaths(store, [
    writeText(tmp.dir, 'min/MMM.csv', `datetime,open,high,low,close,volume\n2013-10-07 09:30:00,1,1,1,1,1\n2013-10-07 09:31:00,1,1,1,1,1`),
  ]);
});
afterAll(() => {
  store?.close();
  tmp.cleanup();
});

function expectSeries(
  s: { ts: Float64Array; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array },
  k: number,
  first: number,
  count: number,
) {
  expect(s.ts.length).toBe(count);
  for (const col of ['open', 'high', 'low', 'close', 'volume'] as const) expect(s[col].length).toBe(count);
  for (let j = 0; j < count; j++) {
    const want = bar(k, first + j);
    if (
      s.ts[j] !== want.ts ||
      s.open[j] !== want.open ||
      s.high[j] !== want.high ||
      s.low[j] !== want.low ||
      s.close[j] !== want.close ||
      s.volume[j] !== want.volume
    ) {
      throw new Error(`bar ${j} differs: got ts=${s.ts[j]} close=${s.close[j]}, want ${JSON.stringify(want)}`);
    }
  }
}

describe('loadBars', () => {
  it('loads several symbols larger than a chunk, whole, in the requested order', async () => {
    const series = await loadBars(store, { symbols: ['CCC', 'AAA', 'BBB'], interval: '1d' });
    expect(series.map((s) => s.symbol)).toEqual(['CCC', 'AAA', 'BBB']);
    for (const s of series) {
      expect(s.interval).toBe('1d');
      expect(s.ts).toBeInstanceOf(Float64Array);
    }
    expectSeries(series[0]!, 2, 0, SIZES.CCC!);
    expectSeries(series[1]!, 0, 0, SIZES.AAA!);
    expectSeries(series[2]!, 1, 0, SIZES.BBB!);
  });

  it('keeps from and to inclusive, across chunk boundaries', async () => {
    const from = START + 1000 * DAY;
    const to = START + 3500 * DAY;
    const [b, a, c] = await loadBars(store, { symbols: ['BBB', 'AAA', 'CCC'], interval: '1d', from, to });
    expectSeries(b!, 1, 1000, 2501);
    expectSeries(a!, 0, 1000, SIZES.AAA! - 1000);
    expectSeries(c!, 2, 1000, SIZES.CCC! - 1000);
    // a bound between bars excludes nothing more than it should
    const [x] = await loadBars(store, { symbols: ['BBB'], interval: '1d', from: from - 1, to: to + 1 });
    expectSeries(x!, 1, 1000, 2501);
    const [one] = await loadBars(store, { symbols: ['BBB'], interval: '1d', from, to: from });
    expectSeries(one!, 1, 1000, 1);
  });

  it('matches symbols case-insensitively and loads intraday bars by interval', async () => {
    const [m] = await loadBars(store, { symbols: ['mmm'], interval: '1m' });
    expect(m!.symbol).toBe('MMM');
    expect([...m!.ts]).toEqual([Date.UTC(2013, 9, 7, 13, 30), Date.UTC(2013, 9, 7, 13, 31)]);
  });

  it('throws for an unknown symbol, naming the store and how to import', async () => {
    const e = await caught(() => loadBars(store, { symbols: ['AAA', 'XYZ'], interval: '1d' }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(`unknown symbol 'XYZ': not in ${dbPath}; import it with npm run import -- <files>`);
    expect(e).toMatchObject({ rule: 'unknown-symbol' });
  });

  it('throws for an empty range, naming the symbols, interval and dates', async () => {
    const e = await caught(() => loadBars(store, { symbols: ['AAA', 'BBB'], interval: '1d', from: Date.UTC(2030, 0, 1), to: Date.UTC(2030, 11, 31) }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe('no bars for AAA,BBB 1d between 2030-01-01 and 2030-12-31');
    const wrongInterval = await caught(() => loadBars(store, { symbols: ['AAA'], interval: '1m' }));
    expect(wrongInterval.message).toBe('no bars for AAA 1m in the store');
  });

  it('refuses a symbol asked for twice', async () => {
    await expect(loadBars(store, { symbols: ['AAA', 'aaa'], interval: '1d' })).rejects.toThrow(/'AAA' is requested twice/);
  });

  it('lists symbols, all or by interval', async () => {
    expect(await listSymbols(store)).toEqual(['AAA', 'BBB', 'CCC', 'MMM']);
    expect(await listSymbols(store, '1m')).toEqual(['MMM']);
    expect(await listSymbols(store, '1d')).toEqual(['AAA', 'BBB', 'CCC']);
  });
});

describe('chunkBars', () => {
  it('reads time windows of at most targetRows bars, each after the last, that join into the whole series', async () => {
    const req = { symbols: ['CCC', 'AAA', 'BBB'], interval: '1d' as const };
    const chunks = await chunkBars(store, req, 1000);
    const parts = [];
    for (let c = await chunks.next(); c !== null; c = await chunks.next()) parts.push(c);
    expect(parts).toHaveLength(chunks.windows);
    let last = -Infinity;
    for (const part of parts) {
      expect(part.map((s) => s.symbol)).toEqual(['CCC', 'AAA', 'BBB']);
      const ts = part.flatMap((s) => [...s.ts]);
      expect(ts.length).toBeGreaterThan(0);
      expect(ts.length).toBeLessThanOrEqual(1000);
      expect(Math.min(...ts)).toBeGreaterThan(last);
      last = Math.max(...ts);
    }
    // the bars thin out after AAA's last (day 2046) and CCC's (day 3000): the windows widen in time rather than
    // shrink in bars, so there are about as many as 9145 bars need
    expect(chunks.windows).toBeLessThanOrEqual(11);
    expect(parts.some((p) => p[1]!.ts.length === 0 && p[2]!.ts.length > 0)).toBe(true);
    const [c, a, b] = await collectChunks(await chunkBars(store, req, 1000));
    expectSeries(c!, 2, 0, SIZES.CCC!);
    expectSeries(a!, 0, 0, SIZES.AAA!);
    expectSeries(b!, 1, 0, SIZES.BBB!);
    const [x] = await collectChunks(await chunkBars(store, { symbols: ['BBB'], interval: '1d', from: START + 1000 * DAY, to: START + 3500 * DAY }, 300));
    expectSeries(x!, 1, 1000, 2501);
  });

  it('fails on unknown symbols and empty ranges at once, on values out of bounds as the first window is read', async () => {
    expect(await caught(() => chunkBars(store, { symbols: ['AAA', 'XYZ'], interval: '1d' }))).toMatchObject({ rule: 'unknown-symbol' });
    const empty = await caught(() => chunkBars(store, { symbols: ['AAA'], interval: '1d', from: Date.UTC(2030, 0, 1) }));
    expect(empty.message).toBe('no bars for AAA 1d between 2030-01-01 and the last bar');
    const t = tempDir();
    try {
      const s = await storeIn(t.dir);
      await s.conn.run(`ATTACH '${dbPath}' AS src (READ_ONLY); INSERT INTO bars SELECT * FROM src.bars; DETACH src`);
      await s.conn.run(`UPDATE bars SET close = 1e308 WHERE symbol = 'BBB' AND ts = ${START + 4000 * DAY}`);
      const chunks = await chunkBars(s, { symbols: ['AAA', 'BBB'], interval: '1d' }, 1000);
      const e = await caught(() => chunks.next());
      expect(e).toMatchObject({ rule: 'out-of-range' });
      expect(e.message).toMatch(/bar BBB 1d .*: field 'close' = 1e\+308/);
      expect(await chunks.next()).toBeNull();
      // the first window is read from the start: a run that stops before asking for it (another check failed)
      // closes the store once that read has failed, and the failure goes nowhere
      const unasked = await chunkBars(s, { symbols: ['AAA', 'BBB'], interval: '1d' }, 1000);
      await new Promise<void>((resolve) => unasked.stop(resolve));
      s.close();
    } finally {
      t.cleanup();
    }
  });

  it('reads the next window while the caller has the last one, and closes the store only once that read is in', async () => {
    const t = tempDir();
    try {
      const s = await storeIn(t.dir);
      await s.conn.run(`ATTACH '${dbPath}' AS src (READ_ONLY); INSERT INTO bars SELECT * FROM src.bars; DETACH src`);
      const req = { symbols: ['CCC', 'AAA', 'BBB'], interval: '1d' as const };
      const whole = await loadBars(s, req);
      const chunks = await chunkBars(s, req, 1000);
      expect(chunks.windows).toBeGreaterThan(2);
      const first = await chunks.next();
      // the caller works on the first window; the second is being read: a stop now waits for it
      let closed = false;
      chunks.stop(() => {
        s.close();
        closed = true;
      });
      expect(closed).toBe(false);
      await vi.waitFor(() => expect(closed).toBe(true));
      expect(await chunks.next()).toBeNull();
      const n = first!.reduce((k, x) => k + x.ts.length, 0);
      expect(n).toBeGreaterThan(0);
      first!.forEach((x, i) => expect(x.close).toEqual(whole[i]!.close.subarray(0, x.ts.length)));
    } finally {
      t.cleanup();
    }
  });

  it('needs the store no more once the last window is read (a run closes it before replaying that window)', async () => {
    const t = tempDir();
    try {
      const s = await storeIn(t.dir);
      await s.conn.run(`ATTACH '${dbPath}' AS src (READ_ONLY); INSERT INTO bars SELECT * FROM src.bars; DETACH src`);
      const chunks = await chunkBars(s, { symbols: ['AAA', 'CCC'], interval: '1d' }, 2000);
      const got = [];
      for (let w = 0; w < chunks.windows; w++) got.push(await chunks.next());
      s.close();
      expect(await chunks.next()).toBeNull();
      expect(got.reduce((n, c) => n + c![0]!.ts.length + c![1]!.ts.length, 0)).toBe(SIZES.AAA! + SIZES.CCC!);
    } finally {
      t.cleanup();
    }
  });
});

describe('a database written by other means is checked as it is read', () => {
  // bars that never went through an import (another tool wrote them, or an import before the bounds)
  const cases: [string, string, RegExp][] = [
    [
      'a close of 1e308',
      `UPDATE bars SET close = 1e308 WHERE symbol = 'BBB' AND ts = ${START + 100 * DAY}`,
      /bar BBB 1d 2000-04-12T00:00:00.000Z: field 'close' = 1e\+308 is outside \[0.000001, 1000000000\]/,
    ],
    [
      'a low of 1e-320',
      `UPDATE bars SET low = 1e-320 WHERE symbol = 'AAA' AND ts = ${START + 5 * DAY}`,
      /bar AAA 1d 2000-01-08T00:00:00.000Z: field 'low' = 1e-320 is outside/,
    ],
    [
      'a NaN volume',
      `UPDATE bars SET volume = 'NaN'::DOUBLE WHERE symbol = 'CCC' AND ts = ${START}`,
      /bar CCC 1d 2000-01-03T00:00:00.000Z: field 'volume' = NaN is outside \[0, 1000000000000000\]/,
    ],
    [
      'a bar in year 9999',
      `UPDATE bars SET ts = ${Date.UTC(9999, 0, 1)} WHERE symbol = 'AAA' AND ts = ${START + 2046 * DAY}`,
      /bar AAA 1d 9999-01-01T00:00:00.000Z: its time is outside 1900-01-01 .. 2099-12-31/,
    ],
  ];
  for (const [name, damage, message] of cases) {
    it(`${name}: loadBars fails naming the database, the bar and the bound`, async () => {
      const t = tempDir();
      try {
        const s = await storeIn(t.dir);
        await s.conn.run(`ATTACH '${dbPath}' AS src (READ_ONLY); INSERT INTO bars SELECT * FROM src.bars; DETACH src`);
        await s.conn.run(damage);
        const e = await caught(() => loadBars(s, { symbols: ['AAA', 'BBB', 'CCC'], interval: '1d' }));
        s.close();
        expect(e).toBeInstanceOf(DataError);
        expect(e).toMatchObject({ rule: 'out-of-range' });
        expect(e.message).toMatch(new RegExp(`^${path.join(t.dir, 'test.duckdb').replaceAll('.', '\\.')}: `));
        expect(e.message).toMatch(message);
        expect(e.message).toContain('Fix the data and import it with npm run import');
      } finally {
        t.cleanup();
      }
    });
  }

  it('npm run backtest on it exits 1 naming the bar, before writing anything', { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      const s = await storeIn(t.dir);
      await s.conn.run(`ATTACH '${dbPath}' AS src (READ_ONLY); INSERT INTO bars SELECT * FROM src.bars; DETACH src`);
      await s.conn.run(`UPDATE bars SET open = 1e308, high = 1e308 WHERE symbol = 'BBB' AND ts >= ${START + 100 * DAY}`);
      s.close();
      const out = path.join(t.dir, 'out');
      const r = runCli('backtest.ts', ['--data', path.join(t.dir, 'test.duckdb'), '--symbols', 'AAA,BBB', '--out', out]);
      expect(r.code).toBe(1);
      // a database written by other means has no price bases: ibkr-fixed on it is warned about first
      expect(r.stderr).toMatch(
        /^warning: commission ibkr-fixed is charged per share[^\n]*\nerror: .*test\.duckdb: bar BBB 1d 2000-04-12T00:00:00\.000Z: field 'open' = 1e\+308 is outside/,
      );
      expect(r.stderr).not.toMatch(/computeMetrics|\n\s+at /);
      expect(existsSync(out)).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});
