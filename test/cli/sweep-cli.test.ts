import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/data/store.ts';
import { runCli } from './run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-sweep-'));

async function rows(db: string) {
  const s = await openStore(db);
  try {
    return (await s.conn.runAndReadAll('SELECT * EXCLUDE (sweep_id) FROM sweep_results ORDER BY idx'))
      .getRowObjectsJS()
      .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
  } finally {
    s.close();
  }
}

describe('npm run sweep', () => {
  it('stores every run in DuckDB, the same for 1 and 2 workers, and reports a walk-forward', async () => {
    const args = ['--grid', '{"fast":[5,20],"slow":[50,200]}', '--symbols', 'SPY', '--walk-forward', 'train=5y,test=2y'];
    const a = runCli('sweep.ts', [...args, '--workers', '1', '--db', path.join(tmp, 'a.duckdb')]);
    const b = runCli('sweep.ts', [...args, '--workers', '2', '--db', path.join(tmp, 'b.duckdb')]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toMatch(/best in-sample params/);
    const ra = await rows(path.join(tmp, 'a.duckdb'));
    expect(ra.length).toBe(4 * 2 * 9); // 4 combinations x (train + test) x 9 windows
    expect(await rows(path.join(tmp, 'b.duckdb'))).toEqual(ra);
  }, 120_000);

  it('rejects an invalid combination before any run', () => {
    const r = runCli('sweep.ts', ['--grid', '{"fast":[50],"slow":[10]}', '--symbols', 'SPY', '--db', path.join(tmp, 'c.duckdb')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fast \(50\) must be less than slow \(10\)/);
  });
});
