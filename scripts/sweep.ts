// npm run sweep -- --strategy sma-cross --grid '{"fast":[5,10,20],"slow":[30,50,100]}' [--symbols ...] [--data ...]
//                  [--from ...] [--to ...] [--workers N] [--walk-forward train=5y,test=1y] [--db out/sweep/sweep.duckdb]
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openStore } from '../engine/data/store.ts';
import { expandGrid, parseWalkForward } from '../engine/research/grid.ts';
import { MIN_ANNUALISED_PERIODS } from '../engine/metrics/short-run.ts';
import { runSweep, shareSeries, siblingModule, startSweepPool, walkForwardSummary, type SweepPool, type SweepResult } from '../engine/research/sweep.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots, resolvedParams, strategyHelp } from '../strategies/index.ts';
import { runId } from './lib/cli.ts';
import { describeOutputFailure } from '../engine/report/write.ts';
import { defineFlags, flagHelp, fromFlag, parseFlags, parseJsonObjectFlag, type FlagValues } from './lib/flags.ts';
import { loadRunSeries } from './lib/run-data.ts';
import { perShareWarning } from '../engine/data/actions.ts';
import { sweepInSample } from './lib/model-signals.ts';
import { isMain } from './lib/main.ts';
import { printRunConfig, RUN_FLAGS, runSettingsFlags, sizingRiskWarning } from './lib/run-options.ts';

export const FLAGS = defineFlags({
  ...RUN_FLAGS,
  grid: { kind: 'string', arg: 'JSON', help: `values per param, e.g. '{"fast":[5,10,20],"slow":[30,50,100]}' (required)` },
  workers: { kind: 'integer', min: 1, max: 256, help: 'worker threads (default: cores - 1, at least 1); results do not depend on it' },
  'walk-forward': { kind: 'string', arg: 'SPEC', help: 'train=5y,test=1y: every combination on rolling training and test periods' },
  db: { kind: 'string', default: 'out/sweep/sweep.duckdb', arg: 'FILE', help: 'where results go (table sweep_results; default out/sweep/sweep.duckdb)' },
});

const HELP = `usage: npm run sweep -- --grid JSON [options]
${flagHelp(FLAGS)}

${strategyHelp()}`;

const SCHEMA = `CREATE TABLE IF NOT EXISTS sweep_results (sweep_id VARCHAR, idx INTEGER, params VARCHAR, window_index INTEGER, phase VARCHAR,
  from_ts BIGINT, to_ts BIGINT, bars BIGINT, final_equity DOUBLE, sharpe DOUBLE, sortino DOUBLE, cagr DOUBLE, max_drawdown DOUBLE, trades INTEGER)`;
// Added later, at the end of the table so that a table written by an older version gains them (its rows read
// NULL there) and the appender below fills every table in the same column order.
const ADDED_COLUMNS = [
  'ALTER TABLE sweep_results ADD COLUMN IF NOT EXISTS periods INTEGER',
  'ALTER TABLE sweep_results ADD COLUMN IF NOT EXISTS short_run BOOLEAN',
];

async function store(conn: DuckDBConnection, id: string, results: SweepResult[]): Promise<void> {
  await conn.run(SCHEMA);
  for (const sql of ADDED_COLUMNS) await conn.run(sql);
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run('DELETE FROM sweep_results WHERE sweep_id = $1', [id]);
    const a = await conn.createAppender('sweep_results');
    const dbl = (x: number | null) => (x === null || !Number.isFinite(x) ? a.appendNull() : a.appendDouble(x));
    for (const r of results) {
      a.appendVarchar(id);
      a.appendInteger(r.index);
      a.appendVarchar(JSON.stringify(r.params));
      a.appendInteger(r.window);
      a.appendVarchar(r.phase);
      a.appendBigInt(BigInt(r.from));
      a.appendBigInt(BigInt(r.to));
      a.appendBigInt(BigInt(r.bars));
      dbl(r.finalEquity);
      dbl(r.sharpe);
      dbl(r.sortino);
      dbl(r.cagr);
      dbl(r.maxDrawdown);
      a.appendInteger(r.trades);
      a.appendInteger(r.periods);
      a.appendBoolean(r.shortRun);
      a.endRow();
    }
    a.closeSync();
    await conn.run('COMMIT');
  } catch (e) {
    // the write's error is the one to report (a rollback on a full disk can fail too)
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help || !v.grid) {
    console.log(HELP);
    if (!v.help) process.exitCode = 2;
    return;
  }
  const grid = parseJsonObjectFlag('--grid', v.grid) as Record<string, unknown[]>;
  const walkForward = v['walk-forward'] ? fromFlag('--walk-forward', v['walk-forward'], parseWalkForward) : undefined;
  // the worker threads load their modules while this thread loads the bars
  const pool = startSweepPool(siblingModule('./lib/sweep-worker', import.meta.url), v.workers);
  try {
    await sweep(v, grid, walkForward, pool);
  } finally {
    await pool.destroy();
  }
}

async function sweep(
  v: FlagValues<typeof FLAGS>,
  grid: Record<string, unknown[]>,
  walkForward: ReturnType<typeof parseWalkForward> | undefined,
  pool: SweepPool,
): Promise<void> {
  const interval = v.interval;
  const workers = v.workers;
  const { commission, slippage, sizing, risk } = runSettingsFlags(v);
  const loaded = await loadRunSeries({ data: v.data, symbols: v.symbols, interval, from: v.from, to: v.to, tz: v.tz, prices: v.prices });
  const series = shareSeries(loaded.series);
  const source = loaded.source;
  const symbols = series.map((s) => s.symbol);
  const config: BacktestConfig = {
    strategy: v.strategy,
    params: {},
    symbols,
    interval,
    from: v.from,
    to: v.to,
    cash: v.cash,
    commission,
    slippage,
    sizing,
    risk,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: v.tz,
    session: v.session,
    prices: loaded.prices,
    rfAnnual: 0,
  };
  // every combination must be valid before any run
  const combinations = expandGrid(grid);
  for (const p of combinations) buildSlots(config.strategy, p, symbols);
  // a model strategy swept over bars its model was trained on: one warning for the whole sweep
  const inSample = sweepInSample(config.strategy, combinations, series);
  // the params row: the grid over the strategy's defaults (when it has a default for every param)
  let defaults: Record<string, unknown> | undefined;
  try {
    defaults = resolvedParams(config.strategy, {});
  } catch {
    defaults = undefined;
  }
  printRunConfig({ ...config, params: undefined }, {}, [
    ['grid', `${JSON.stringify(grid)}${defaults ? ` over the defaults ${JSON.stringify(defaults)}` : ''} (${combinations.length} combinations)`],
    ...(walkForward ? ([['walk-forward', v['walk-forward']!]] as [string, string][]) : []),
  ]);
  const clash = sizingRiskWarning(sizing, symbols.length, risk);
  if (clash) console.error(clash);
  const priceWarning = perShareWarning(commission, loaded.prices, loaded.unknownBasis);
  if (priceWarning) console.error(`warning: ${priceWarning}`);

  const tty = process.stderr.isTTY && process.env.CI !== 'true';
  const t0 = performance.now();
  const { results, windows } = await runSweep({
    config,
    grid,
    series,
    walkForward,
    worker: pool,
    onProgress: (done, total) => tty && process.stderr.write(`\r${done}/${total} runs`),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const seconds = (performance.now() - t0) / 1000;
  const id = runId({ config, grid, walkForward: v['walk-forward'] ?? null, source });
  // one transaction: a failed write (locked file, full disk) leaves the database as it was, and says so
  try {
    const out = await openStore(v.db!);
    try {
      await store(out.conn, id, results);
    } finally {
      out.close();
    }
  } catch (e) {
    throw describeOutputFailure(e, path.resolve(v.db!), { elsewhere: 'use --db on another disk', otherFile: 'use --db with another file' });
  }

  const fmt = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d));
  // a figure annualised from fewer than MIN_ANNUALISED_PERIODS daily returns carries a '*' (SweepResult.shortRun)
  const star = (short: boolean) => (short ? '*' : ' ');
  if (windows.length === 0) {
    const ranked = [...results].sort((a, b) => (b.sharpe ?? -Infinity) - (a.sharpe ?? -Infinity) || a.index - b.index);
    console.log('params'.padEnd(32), 'sharpe'.padStart(8), 'cagr'.padStart(9), 'maxDD'.padStart(8), 'trades'.padStart(7));
    for (const r of ranked.slice(0, 10))
      console.log(
        JSON.stringify(r.params).padEnd(32),
        `${fmt(r.sharpe)}${star(r.shortRun)}`.padStart(8),
        `${fmt(r.cagr === null ? null : r.cagr * 100, 1)}%${star(r.shortRun)}`.padStart(9),
        `${fmt(r.maxDrawdown * 100, 1)}%`.padStart(8),
        String(r.trades).padStart(7),
      );
  } else {
    console.log('window (test period)'.padEnd(26), 'best in-sample params'.padEnd(28), 'IS sharpe'.padStart(10), 'OOS sharpe'.padStart(11));
    for (const s of walkForwardSummary(results, windows)) {
      const period = `${new Date(s.window.testFrom).toISOString().slice(0, 10)}..${new Date(s.window.testTo).toISOString().slice(0, 10)}`;
      console.log(
        period.padEnd(26),
        JSON.stringify(s.params).padEnd(28),
        `${fmt(s.inSampleSharpe)}${star(s.inSampleShortRun)}`.padStart(10),
        `${fmt(s.outOfSampleSharpe)}${star(s.outOfSampleShortRun)}`.padStart(11),
      );
    }
  }
  const shortRuns = results.filter((r) => r.shortRun).length;
  if (shortRuns > 0)
    console.log(
      `* ${shortRuns} of ${results.length} runs have fewer than ${MIN_ANNUALISED_PERIODS} daily returns (3 months): their annualised figures rank runs of the same period but are no levels (column short_run)`,
    );
  console.log(
    `\n${results.length} runs in ${seconds.toFixed(2)} s (${(results.length / seconds).toFixed(1)} runs/s, ${workers ?? 'default'} workers); sweep ${id} in ${v.db} (table sweep_results)`,
  );
  for (const w of inSample) console.error(`warning: ${w.message}`);
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
