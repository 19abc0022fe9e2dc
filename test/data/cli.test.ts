// scripts/import.ts end to end, as a user runs it (not a TTY here, so no progress output).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { HEADER, tempDir, writeText } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

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
    expect(r.stdout).toMatch(new RegExp(`^imported 3 rows of 2 symbols \\(1d\\) into ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in \\d+\\.\\d s\\n$`));
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
    expect(flag.stderr).toBe(`error: unknown interval 'weekly': use one of 1m, 5m, 15m, 30m, 1h, 1d\n`);
  });
});
