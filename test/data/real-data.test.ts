// The importer on real vendor data from ../shared/data (skipped with a message when absent, failing
// under CI=true): the S&P 500 set at full size, LEAN minute bars across files, LEAN factor files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { storeIn, tempDir } from './helpers.ts';

const DATA = path.join(SHARED, 'data');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const newStore = () => storeIn(tmp.dir, `real${++n}.duckdb`);
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/** The CSV's rows by first column, as text cells. */
function csvRows(file: string): Map<string, string[]> {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);
  return new Map(lines.map((l) => [l.split(',')[0]!, l.split(',')]));
}

describe.skipIf(!sharedAvailable('data/sp500-daily'))('S&P 500 daily set', () => {
  it('imports all 504 files (2,402,891 rows) and loads them back exactly', { timeout: 180_000 }, async () => {
    const store = await newStore();
    try {
      const t0 = performance.now();
      const summary = await importPaths(store, [path.join(DATA, 'sp500-daily/adjusted')], { sectors: path.join(DATA, 'sp500-daily/constituents.csv') });
      const secs = (performance.now() - t0) / 1000;
      console.log(`sp500-daily/adjusted: ${summary.rows} rows in ${secs.toFixed(1)} s`);
      expect(summary).toMatchObject({ files: 504, rows: 2_402_891, interval: '1d', removed: 0 });
      expect(summary.symbols).toHaveLength(504);
      const [aapl, welll] = await loadBars(store, { symbols: ['AAPL', 'WELL'], interval: '1d' });
      const rows = csvRows(path.join(DATA, 'sp500-daily/adjusted/AAPL.csv'));
      expect(aapl!.ts.length).toBe(rows.size);
      let i = 0;
      for (const [date, cells] of rows) {
        expect(aapl!.ts[i]).toBe(day(date));
        expect([aapl!.open[i], aapl!.high[i], aapl!.low[i], aapl!.close[i], aapl!.volume[i]]).toEqual(cells.slice(1).map(Number));
        i++;
      }
      expect(welll!.ts.length).toBe(csvRows(path.join(DATA, 'sp500-daily/adjusted/WELL.csv')).size);
      const sector = await store.conn.runAndReadAll(`SELECT sector FROM instruments WHERE symbol = 'AAPL'`);
      expect(sector.getRowObjectsJS()[0]!.sector).toBe('Information Technology');
    } finally {
      store.close();
    }
  });

  it("reads the vendor's raw files, ignoring their extra columns", async () => {
    const store = await newStore();
    try {
      const summary = await importPaths(store, [path.join(DATA, 'sp500-daily/raw/AAPL.csv'), path.join(DATA, 'sp500-daily/raw/MSFT.csv')]);
      expect(summary).toMatchObject({ files: 2, symbols: ['AAPL', 'MSFT'], interval: '1d' });
      const [aapl] = await loadBars(store, { symbols: ['AAPL'], interval: '1d', from: day('1999-11-01'), to: day('1999-11-02') });
      expect([...aapl!.close]).toEqual([77.62, 80.25]); // the raw close, not adjusted_close
      expect([...aapl!.volume]).toEqual([2487300, 3564600]);
    } finally {
      store.close();
    }
  });
});

describe.skipIf(!sharedAvailable('data/lean-sample'))('LEAN sample', () => {
  const lean = path.join(DATA, 'lean-sample');

  it('imports minute folders with New York time converted to UTC, DST-correct', async () => {
    const store = await newStore();
    try {
      const summary = await importPaths(store, [path.join(lean, 'minute/spy'), path.join(lean, 'minute/ibm')]);
      expect(summary).toMatchObject({ files: 13, interval: '1m', symbols: ['IBM', 'SPY'] });
      const expected = 711 + 828 + 828 + 813 + 883 + 776 + 947 + (411 + 453 + 424 + 423 + 434 + 421);
      expect(summary.rows).toBe(expected);
      const open = Date.UTC(2013, 9, 7, 13, 30); // 2013-10-07 09:30 EDT
      const [spy] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: Date.UTC(2013, 9, 7), to: Date.UTC(2013, 9, 7, 23, 59) });
      expect(spy!.ts.length).toBe(828);
      expect(spy!.ts[0]).toBe(Date.UTC(2013, 9, 7, 8, 0)); // 04:00 ET pre-market
      const k = spy!.ts.indexOf(open);
      const raw = csvRows(path.join(lean, 'minute/spy/20131007.csv')).get('2013-10-07 09:30:00')!;
      expect([spy!.open[k], spy!.close[k], spy!.volume[k]]).toEqual([Number(raw[1]), Number(raw[4]), Number(raw[5])]);
      // 390 regular-session bars between 13:30 and 19:59 UTC
      const rth = spy!.ts.filter((t) => t >= open && t < open + 390 * 60_000);
      expect(rth.length).toBe(390);
      const [late] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: Date.UTC(2023, 7, 3) });
      expect(late!.ts[0]).toBe(Date.UTC(2023, 7, 3, 8, 0));
    } finally {
      store.close();
    }
  });

  it('applies factor files: AAPL around the 7:1 (2014-06-09) and 4:1 (2020-08-31) splits is continuous', async () => {
    const store = await newStore();
    try {
      const summary = await importPaths(store, [path.join(lean, 'daily/aapl.csv')], { factorsDir: path.join(lean, 'factor_files') });
      expect(summary.adjusted).toEqual(['AAPL']);
      // stored raw: the file's closes, the splits as they traded
      const [r] = await loadBars(store, { symbols: ['AAPL'], interval: '1d', from: day('2014-06-06'), to: day('2014-06-09') });
      expect([...r!.close]).toEqual([645.57, 93.7]);
      // adjusted at load with the stored factor rows
      const [a] = await loadBars(store, { symbols: ['AAPL'], interval: '1d', prices: 'adjusted' });
      const at = (iso: string) => a!.ts.indexOf(day(iso));
      // factor rows 20140606 (0.9011818, 0.0357143) and 20140806 (0.9011818, 0.25); raw closes 645.57, 93.70
      expect(a!.close[at('2014-06-06')]).toBeCloseTo(645.57 * 0.9011818 * 0.0357143, 10);
      expect(a!.close[at('2014-06-09')]).toBeCloseTo(93.7 * 0.9011818 * 0.25, 10);
      expect(a!.volume[at('2014-06-09')]).toBeCloseTo(72875948 / 0.25, 4);
      // rows 20200828 (0.9967882, 0.25) and 20201105 (0.9967882, 1); raw closes 499.23, 129.04
      expect(a!.close[at('2020-08-28')]).toBeCloseTo(499.23 * 0.9967882 * 0.25, 10);
      expect(a!.close[at('2020-08-31')]).toBeCloseTo(129.04 * 0.9967882, 10);
      // after the last dated row (20210204) the factor is 1 (the 20501231 row)
      expect(a!.close[at('2021-03-31')]).toBe(122.15);
      for (const iso of ['2014-06-09', '2020-08-31']) {
        const i = at(iso);
        expect(Math.abs(a!.close[i]! / a!.close[i - 1]! - 1)).toBeLessThan(0.05);
        expect(a!.open[i]! / a!.close[i - 1]!).toBeGreaterThan(0.95);
      }
      // no day moves -75% or +300% any more (the raw series has both)
      for (let i = 1; i < a!.close.length; i++) {
        const r = a!.close[i]! / a!.close[i - 1]!;
        if (r < 0.4 || r > 2) throw new Error(`jump on ${new Date(a!.ts[i]!).toISOString()}: x${r}`);
      }
    } finally {
      store.close();
    }
  });

  it.skipIf(!sharedAvailable('data/sp500-daily'))('agrees with the other vendor’s adjusted closes (AAPL, IBM) within 1% since 2012', async () => {
    const store = await newStore();
    try {
      await importPaths(store, [path.join(lean, 'daily/aapl.csv'), path.join(lean, 'daily/ibm.csv')], { factorsDir: path.join(lean, 'factor_files') });
      for (const sym of ['AAPL', 'IBM']) {
        const [s] = await loadBars(store, { symbols: [sym], interval: '1d', from: day('2012-01-01'), prices: 'adjusted' });
        const other = csvRows(path.join(DATA, `sp500-daily/adjusted/${sym}.csv`));
        const diffs: number[] = [];
        for (let i = 0; i < s!.ts.length; i++) {
          const row = other.get(new Date(s!.ts[i]!).toISOString().slice(0, 10));
          if (row) diffs.push(Math.abs(s!.close[i]! / Number(row[4]) - 1));
        }
        expect(diffs.length).toBeGreaterThan(2000);
        diffs.sort((x, y) => x - y);
        expect(diffs[diffs.length - 1]).toBeLessThan(0.01);
        expect(diffs[diffs.length >> 1]).toBeLessThan(0.001);
      }
    } finally {
      store.close();
    }
  });

  it('applies factor files to minute bars by their New York trading day (AAPL 2014-06-06 and 06-09)', async () => {
    const store = await newStore();
    try {
      await importPaths(store, [path.join(lean, 'minute/aapl')], { factorsDir: path.join(lean, 'factor_files'), interval: '1m' });
      const [a] = await loadBars(store, { symbols: ['AAPL'], interval: '1m', from: Date.UTC(2014, 5, 6), to: Date.UTC(2014, 5, 10), prices: 'adjusted' });
      const friday = a!.ts.indexOf(Date.UTC(2014, 5, 6, 19, 59)); // 15:59 EDT, the last regular bar
      const monday = a!.ts.indexOf(Date.UTC(2014, 5, 9, 13, 30)); // 09:30 EDT
      const raw = csvRows(path.join(lean, 'minute/aapl/20140606.csv')).get('2014-06-06 15:59:00')!;
      expect(a!.close[friday]).toBeCloseTo(Number(raw[4]) * 0.9011818 * 0.0357143, 10);
      expect(Math.abs(a!.open[monday]! / a!.close[friday]! - 1)).toBeLessThan(0.03);
    } finally {
      store.close();
    }
  });
});
