// The bundled sample and ensureSampleDb.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadBars } from '../../engine/data/load.ts';
import { ensureSampleDb, SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('bundled sample', () => {
  it('ships the files, its licence and a README', () => {
    for (const f of ['LICENSE', 'README.md', 'daily/spy.csv', 'daily/aapl.csv', 'daily/ibm.csv', 'factor_files/aapl.csv']) {
      expect(existsSync(path.join(SAMPLE_DIR, f)), f).toBe(true);
    }
    const days = ['20131004.csv', '20131007.csv', '20131008.csv', '20131009.csv', '20131010.csv', '20131011.csv'];
    expect(readdirSync(path.join(SAMPLE_DIR, 'minute/spy')).sort()).toEqual(days);
    expect(readdirSync(path.join(SAMPLE_DIR, 'minute/ibm')).sort()).toEqual(days);
  });

  it('ensureSampleDb imports it once into an empty database, saying so on stderr', { timeout: 60_000 }, async () => {
    const db = path.join(tmp.dir, 'sub', 'market.duckdb');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      expect(await ensureSampleDb(db)).toBe(true);
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(
        /had no bars: imported the bundled sample, 17,547 daily bars \(AAPL, IBM, SPY\) and 7,405 minute bars \(IBM, SPY\), raw, with 227 splits and dividends from its factor files/,
      );
      expect(await ensureSampleDb(db)).toBe(false);
      expect(writes).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    const store = await openStore(db);
    try {
      const [spyDaily, aapl] = await loadBars(store, { symbols: ['SPY', 'AAPL'], interval: '1d' });
      expect(spyDaily!.ts.length).toBe(5849);
      // raw: the 2014 split is there (645.57 -> 93.70) ...
      const i = aapl!.ts.indexOf(Date.UTC(2014, 5, 9));
      expect([aapl!.close[i - 1], aapl!.close[i]]).toEqual([645.57, 93.7]);
      // ... and gone once adjusted at load
      const [adj] = await loadBars(store, { symbols: ['AAPL'], interval: '1d', prices: 'adjusted' });
      expect(adj!.close[i]! / adj!.close[i - 1]!).toBeGreaterThan(0.95);
      const [m] = await loadBars(store, { symbols: ['IBM'], interval: '1m' });
      expect(m!.ts.length).toBe(2566);
      // minute and daily agree: the last regular-session minute close is the daily close
      const [d] = await loadBars(store, { symbols: ['IBM'], interval: '1d', from: Date.UTC(2013, 9, 7), to: Date.UTC(2013, 9, 7) });
      const k = m!.ts.indexOf(Date.UTC(2013, 9, 7, 19, 59));
      expect(m!.close[k]).toBeCloseTo(d!.close[0]!, 6);
    } finally {
      store.close();
    }
  });

  it("ensureSampleDb() with no path fills the sample's own database, never the user's market database", { timeout: 60_000 }, () => {
    const sampleDb = path.join(tmp.dir, 'default', 'sample.duckdb');
    const userDb = path.join(tmp.dir, 'default', 'market.duckdb');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
import { ensureSampleDb } from ${JSON.stringify(path.join(ROOT, 'engine/data/sample.ts'))};
import { DEFAULT_DB_PATH, SAMPLE_DB_PATH } from ${JSON.stringify(path.join(ROOT, 'engine/data/store-paths.ts'))};
console.log(JSON.stringify({ imported: await ensureSampleDb(), sample: SAMPLE_DB_PATH, user: DEFAULT_DB_PATH }));`,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TRADEBENCH_SAMPLE_DB: sampleDb, TRADEBENCH_DB: userDb }, timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ imported: true, sample: sampleDb, user: userDb });
    expect(r.stderr).toContain(`${sampleDb} had no bars: imported the bundled sample`);
    expect(existsSync(sampleDb)).toBe(true);
    expect(existsSync(userDb)).toBe(false);
  });
});
