// A big minute backtest through the real CLI: `bars` synthetic minute bars over 250 symbols (a seeded random
// walk generated inside DuckDB, the same bars every time) in a temporary database, then `npm run backtest`
// (sma-cross 30/120, 0.4% of equity per entry so all 250 symbols can hold a position at once: about 100k
// trades over 20M bars) in a child process, measuring its peak RSS and the size of what it wrote.
// Standalone: `node --import tsx scripts/bench/big-run.ts 1000000 [--keep]` prints the figures as JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIG_RUN_SYMBOLS = 250;
export const BIG_RUN_ARGS = ['--params', '{"fast":30,"slow":120}', '--sizing', 'percent', '--percent', '0.4', '--session', 'extended'];

export interface BigRunFigures {
  bars: number;
  trades: number;
  seconds: number;
  peakRssMb: number;
  reportMb: number;
}

/** `bars` minute bars (every minute, 24/7, from 2000-01-03 14:30 UTC) over 250 symbols SYN000..SYN249. */
export async function syntheticMinuteDb(file: string, bars: number, symbols = BIG_RUN_SYMBOLS): Promise<void> {
  const perSymbol = Math.floor(bars / symbols);
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  try {
    await conn.run(`
CREATE TABLE instruments (symbol VARCHAR PRIMARY KEY, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, sector VARCHAR, tick_size DOUBLE, tz VARCHAR);
CREATE TABLE bars (symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL, ts BIGINT NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL,
  low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);`);
    // symbol by symbol, so the generating query's memory stays small
    for (let s = 0; s < symbols; s++) {
      await conn.run(`
INSERT INTO bars
SELECT symbol, '1m', ts, o, greatest(o, c) + 0.01, least(o, c) - 0.01, c, 1000 FROM (
  SELECT symbol, ts, c, coalesce(lag(c) OVER (ORDER BY ts), c) AS o FROM (
    SELECT 'SYN' || lpad('${s}', 3, '0') AS symbol, ${Date.UTC(2000, 0, 3, 14, 30)} + i * 60000 AS ts,
      100 * exp(sum(((hash(${s} * 1000003 + i) % 1000000) / 1e6 - 0.5) * 0.002) OVER (ORDER BY i)) AS c
    FROM range(${perSymbol}) u(i)))`);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function dirMb(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0) / 2 ** 20;
}

/** Peak RSS (MB) and exit of a child: /usr/bin/time -v when present (max RSS of the process tree's largest process). */
function runMeasured(args: string[]): { code: number | null; stdout: string; stderr: string; peakRssMb: number; seconds: number } {
  const t0 = performance.now();
  const time = existsSync('/usr/bin/time');
  // without /usr/bin/time, the child reports its own peak (process.resourceUsage().maxRSS, in kB) as it exits
  const report = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss-kb '+process.resourceUsage().maxRSS+'\\n'))`;
  const cmd = time ? '/usr/bin/time' : process.execPath;
  const argv = time ? ['-v', process.execPath, ...args] : ['--import', report, ...args];
  const r = spawnSync(cmd, argv, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, CI: 'true' },
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const fallback = /^maxrss-kb (\d+)$/m.exec(r.stderr);
  const kb = m ? Number(m[1]) : fallback ? Number(fallback[1]) : NaN;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, peakRssMb: kb / 1024, seconds };
}

/**
 * Generates `bars` synthetic minute bars, runs the backtest CLI over them, and returns the bars replayed,
 * the closed trades, the CLI's wall time, its peak RSS and the size of report.json + report.html in MB.
 * Throws (with the CLI's stderr) when the run fails.
 */
export async function benchBigRun(bars: number, o: { keep?: boolean; extraArgs?: string[] } = {}): Promise<BigRunFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-big-'));
  try {
    const db = path.join(dir, 'bars.duckdb');
    await syntheticMinuteDb(db, bars);
    const out = path.join(dir, 'out');
    const args = [
      '--import',
      'tsx',
      path.join(ROOT, 'scripts/backtest.ts'),
      '--data',
      db,
      '--interval',
      '1m',
      '--cash',
      '1000000',
      '--out',
      out,
      ...(o.extraArgs ?? BIG_RUN_ARGS),
    ];
    const r = runMeasured(args);
    if (r.code !== 0)
      throw new Error(
        `backtest over ${bars} bars exited ${r.code} after ${r.seconds.toFixed(1)} s (peak RSS ${r.peakRssMb.toFixed(0)} MB): ${r.stderr
          .split('\n')
          .filter((l) => !/^\s+\S.*: /.test(l) || /error/i.test(l))
          .slice(0, 5)
          .join(' | ')}`,
      );
    // from the CLI's summary: report.json of a long run is too big to parse here for one number
    const trades = Number(/^trades\s+(\d+) closed/m.exec(r.stdout)?.[1] ?? NaN);
    const replayed = Number(/([\d,]+) bars in/.exec(r.stdout)?.[1].replaceAll(',', '') ?? NaN);
    const reportMb = (statSync(path.join(out, 'report.json')).size + statSync(path.join(out, 'report.html')).size) / 2 ** 20;
    if (o.keep) console.error(`kept ${dir} (outputs ${dirMb(out).toFixed(1)} MB)`);
    return { bars: replayed, trades, seconds: r.seconds, peakRssMb: r.peakRssMb, reportMb };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 1_000_000);
  benchBigRun(n, { keep: process.argv.includes('--keep') }).then(
    (f) => console.log(JSON.stringify(f)),
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exit(1);
    },
  );
}
