// scripts/import.ts end to end, as a user runs it (not a TTY here, so no progress output).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { runCli } from '../cli/run-cli.ts';
import { fingerprint, HEADER, tempDir, writeText } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runImport(args: string[]) {
  const r = spawnSync(TSX, ['scripts/import.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run import', () => {
  const db = path.join(tmp.dir, 'cli.duckdb');

  it('imports files and prints a one-line summary', { timeout: 60_000 }, async () => {
    const a = writeText(tmp.dir, 'in/AAA.csv', `${HEADER}\n2020-01-02,1,2,0.5,1.5,1000\n2020-01-03,1.5,2,1,1.75,2000`);
    const b = writeText(tmp.dir, 'in/BBB.csv', `${HEADER}\n2020-01-02,10,20,5,15,1000`);
    const r = runImport([a, b, '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^imported 3 rows of 2 symbols \\(1d\\) into ${esc(db)} in \\d+\\.\\d s: 3 inserted, 0 updated, 0 unchanged\\n$`));
    const store = await openStore(db);
    try {
      const [s] = await loadBars(store, { symbols: ['AAA'], interval: '1d' });
      expect([...s!.close]).toEqual([1.5, 1.75]);
    } finally {
      store.close();
    }
  });

  it('prints error: <message> without a stack trace and exits 1 on bad data', { timeout: 60_000 }, () => {
    const bad = writeText(tmp.dir, 'bad/BAD.csv', `${HEADER}\n2020-01-02,1,2,0.5,1.5,1000\n2020-01-03,1.5,1.6,1,1.75,2000`);
    const r = runImport([bad, '--db', db, '--interval', '1d']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*BAD\.csv row 2 \(line 3\): field 'high' = 1\.6 is below max\(open, close\) = 1\.75\n$/);
    const flag = runImport([bad, '--db', db, '--interval', 'weekly']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe(`error: --interval must be one of 1m, 5m, 15m, 30m, 1h, 1d, got 'weekly'\n`);
  });
});

describe('npm run import: bounds, symbols, jumps and re-import (through runCli)', () => {
  const db = path.join(tmp.dir, 'cli2.duckdb');
  const rows5 = [
    '2020-01-02,10,11,9,10.5,100',
    '2020-01-03,10.5,11.5,10,11,200',
    '2020-01-06,11,12,10,11.5,300',
    '2020-01-07,11.5,12,11,11.75,400',
    '2020-01-08,11.75,12,11,11.5,500',
  ];
  const print = async () => {
    const store = await openStore(db);
    try {
      return await fingerprint(store);
    } finally {
      store.close();
    }
  };

  it('prints inserted, updated, unchanged for a correction file, and removed only with --replace-range', { timeout: 120_000 }, async () => {
    const full = writeText(tmp.dir, 'fix/full/AAPL.csv', `${HEADER}\n${rows5.join('\n')}`);
    const first = runCli('import.ts', [full, '--db', db]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(new RegExp(`^imported 5 rows of 1 symbol \\(1d\\) into ${esc(db)} in \\d+\\.\\d s: 5 inserted, 0 updated, 0 unchanged\\n$`));
    // the two-row correction: 01-03 as stored, 01-07 with a corrected close
    const fix = writeText(tmp.dir, 'fix/two/AAPL.csv', `${HEADER}\n2020-01-03,10.5,11.5,10,11,200\n2020-01-07,11.5,12,11,11.8,400`);
    const r = runCli('import.ts', [fix, '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 2 rows of 1 symbol \(1d\) into .* in \d+\.\d s: 0 inserted, 1 updated, 1 unchanged\n$/);
    let store = await openStore(db);
    try {
      const [s] = await loadBars(store, { symbols: ['AAPL'], interval: '1d' });
      expect([...s!.close]).toEqual([10.5, 11, 11.5, 11.8, 11.5]);
    } finally {
      store.close();
    }
    // the old semantics on request: the file's range 01-03..01-07 loses 01-06
    const rr = runCli('import.ts', [fix, '--db', db, '--replace-range']);
    expect(rr.code).toBe(0);
    expect(rr.stdout).toMatch(/: 0 inserted, 0 updated, 2 unchanged, 1 removed\n$/);
    store = await openStore(db);
    try {
      const [s] = await loadBars(store, { symbols: ['AAPL'], interval: '1d' });
      expect([...s!.close]).toEqual([10.5, 11, 11.8, 11.5]);
    } finally {
      store.close();
    }
  });

  it('exits 1 naming file, row, line and field for 1e308, a bad symbol with --factors and a jump, changing nothing', { timeout: 120_000 }, async () => {
    const before = await print();
    const huge = writeText(tmp.dir, 'bad2/HUGE.csv', `${HEADER}\n${rows5.slice(0, 2).join('\n')}\n2020-01-06,1e308,1e308,10,11.5,300`);
    const h = runCli('import.ts', [huge, '--db', db]);
    expect(h.code).toBe(1);
    expect(h.stdout).toBe('');
    expect(h.stderr).toMatch(/^error: .*HUGE\.csv row 3 \(line 4\): field 'open' = 1e308 is above the largest accepted price 1e9\n$/);
    writeText(tmp.dir, 'bad2/evil.csv', `20501231,1000,1,0`);
    writeText(tmp.dir, 'bad2/factors/aapl.csv', `20501231,1,1,0`);
    const evil = writeText(tmp.dir, 'bad2/data/long.csv', `symbol,${HEADER}\nAAPL,2020-01-09,11,12,10,11,1\n../EVIL,2020-01-09,11,12,10,11,1`);
    const e = runCli('import.ts', [evil, '--db', db, '--factors', path.join(tmp.dir, 'bad2/factors')]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^error: .*long\.csv row 2 \(line 3\) \[\.\.\/EVIL\]: field 'symbol' = '\.\.\/EVIL' is not a plausible ticker/);
    const jump = writeText(tmp.dir, 'bad2/JUMP.csv', `${HEADER}\n${rows5.slice(0, 2).join('\n')}\n2020-01-06,11,40,10,35,300`);
    const j = runCli('import.ts', [jump, '--db', db, '--max-jump', '3']);
    expect(j.code).toBe(1);
    expect(j.stderr).toMatch(
      /^error: .*JUMP\.csv row 3 \(line 4\): field 'close' = 35 is 3\.182 times the previous bar's close 11 \(row 2 \(line 3\), '2020-01-03'\): a jump beyond --max-jump 3\n$/,
    );
    const ok = runCli('import.ts', [jump, '--db', path.join(tmp.dir, 'other.duckdb'), '--max-jump', '4']);
    expect(ok.code).toBe(0);
    const flag = runCli('import.ts', [jump, '--db', db, '--max-jump', '0.5']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe(`error: --max-jump must be greater than 1, got 0.5\n`);
    expect(await print()).toEqual(before);
  });
});
