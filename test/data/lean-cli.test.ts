// npm run import -- --lean, as a user runs it (not a TTY here: no progress line).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/data/store.ts';
import { runCli } from '../cli/run-cli.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir('tradebench-lean-cli-');
afterAll(() => tmp.cleanup());
const lean = (rel: string) => path.join(SHARED, 'data/lean-sample', rel);

describe.runIf(sharedAvailable('data/lean-sample'))('npm run import -- --lean', () => {
  const db = path.join(tmp.dir, 'lean.duckdb');

  it('imports futures and FX, prints a line per kind and warns about crossed bars on stderr', { timeout: 60_000 }, async () => {
    const r = runCli('import.ts', ['--lean', lean('future/es/daily_trade.csv'), lean('forex/gbpusd/daily/fxcm.csv'), '--db', db], { CI: 'true' });
    expect(r.code, r.stderr).toBe(0);
    const esc = db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(r.stdout).toMatch(
      new RegExp(
        `^imported 2 LEAN files into ${esc} in \\d+\\.\\d s:\\n` +
          '  futures: 1 file \\(1d\\), 8 instruments, 203 bars, 0 quote bars, 0 open-interest rows\\n' +
          '  forex: 1 file \\(1d\\), 1 instrument, 3,278 bars \\(mid\\), 3,278 quote bars, 0 open-interest rows\\n$',
      ),
    );
    // DERIVATIVES.md: gbpusd/daily/fxcm has 32 crossed bars
    expect(r.stderr).toMatch(/^warning: 32 crossed quote bars \(bid close above ask close\) imported as in the source: .*gbpusd\/daily\/fxcm\.csv 32\n$/);
    const store = await openStore(db, { readOnly: true });
    try {
      const n = (await store.conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM bars WHERE symbol = 'GBP.USD'`)).getRowObjectsJS()[0]!.n;
      expect(n).toBe(3278);
    } finally {
      store.close();
    }
  });

  it('refuses a stock-only flag and a path that is not a LEAN file, exit 1, nothing written', { timeout: 60_000 }, async () => {
    const flag = runCli('import.ts', ['--lean', lean('future/es/daily_trade.csv'), '--interval', '1d', '--db', db]);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe('error: --interval is for stock bar files, not --lean imports (their times, intervals and instruments come from the files)\n');
    const bad = runCli('import.ts', ['--lean', lean('daily/spy.csv'), '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: .*daily\/spy\.csv: not a LEAN sample derivatives file: expected option\/<underlying>\//);
    const store = await openStore(db, { readOnly: true });
    try {
      const counts = (
        await store.conn.runAndReadAll(`SELECT (SELECT count(*) FROM bars)::INTEGER AS bars, (SELECT count(*) FROM instruments)::INTEGER AS inst`)
      ).getRowObjectsJS()[0];
      expect(counts).toEqual({ bars: 203 + 3278, inst: 8 + 1 }); // as the first test left it
    } finally {
      store.close();
    }
  });
});
