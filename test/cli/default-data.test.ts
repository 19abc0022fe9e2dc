// Issue 11 item 6: the user's data never changes what the commands run by default. `npm run import` writes the
// user's database (data/market.duckdb, here a temporary file through TRADEBENCH_DB); a command without --data
// reads the bundled sample's own database (data/sample.duckdb), whatever the user's database holds.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listSymbols } from '../../engine/data/load.ts';
import { DEFAULT_DB_PATH, SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { openStore } from '../../engine/data/store.ts';
import { HEADER, writeText } from '../data/helpers.ts';
import { ROOT, runCli } from './run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-default-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The user's market database of this test: what `npm run import` writes without --db. */
const userDb = path.join(tmp, 'user', 'market.duckdb');
const env = { TRADEBENCH_DB: userDb };

/** The real data/market.duckdb as it is now (absent, or its size and mtime): the test must leave it alone. */
function realMarketDb(): string {
  const p = path.join(ROOT, 'data/market.duckdb');
  if (!existsSync(p)) return 'absent';
  const s = statSync(p);
  return `${s.size} ${s.mtimeMs}`;
}

/** 60 daily bars of a made-up symbol, rising then falling (so sma-cross could trade it if it saw it). */
function extraSymbolCsv(): string {
  const rows: string[] = [];
  for (let i = 0; i < 60; i++) {
    const d = new Date(Date.UTC(2020, 0, 6) + i * 86_400_000).toISOString().slice(0, 10);
    const c = 100 + (i < 30 ? i : 60 - i);
    rows.push(`${d},${c},${c + 1},${c - 1},${c},1000`);
  }
  return writeText(tmp, 'extra/ZZZ.csv', `${HEADER}\n${rows.join('\n')}`);
}

describe('the defaults read the bundled sample, never the user database', () => {
  it('the user database and the sample database are different files', () => {
    expect(path.resolve(DEFAULT_DB_PATH)).not.toBe(path.resolve(SAMPLE_DB_PATH));
    if (!process.env.TRADEBENCH_SAMPLE_DB) expect(SAMPLE_DB_PATH).toBe('data/sample.duckdb');
  });

  it('after npm run import adds a symbol to the user database, a backtest without --data runs exactly the sample symbols', { timeout: 180_000 }, async () => {
    const before = realMarketDb();
    // the import's default --db is the user database (here the temporary one)
    const imp = runCli('import.ts', [extraSymbolCsv(), '--interval', '1d'], env);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain(userDb);
    const store = await openStore(userDb, { readOnly: true });
    try {
      expect(await listSymbols(store, '1d')).toEqual(['ZZZ']);
    } finally {
      store.close();
    }

    // no --data: the sample's database, the sample's three daily symbols, whatever the user database holds
    const plain = runCli('backtest.ts', ['--out', path.join(tmp, 'plain')], env);
    expect(plain.code, plain.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(tmp, 'plain', 'report.json'), 'utf8'));
    expect(report.config.symbols).toEqual(['AAPL', 'IBM', 'SPY']);
    expect(JSON.stringify(report)).toContain(SAMPLE_DB_PATH);
    expect(JSON.stringify(report)).not.toContain('ZZZ');

    // --data names the user database: its symbols
    const mine = runCli('backtest.ts', ['--data', userDb, '--out', path.join(tmp, 'mine')], env);
    expect(mine.code, mine.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(tmp, 'mine', 'report.json'), 'utf8')).config.symbols).toEqual(['ZZZ']);

    // nothing here touched the real data/market.duckdb
    expect(realMarketDb()).toBe(before);
  });
});
