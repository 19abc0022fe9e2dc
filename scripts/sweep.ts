// npm run sweep -- --strategy sma-cross --grid '{"fast":[5,10,20],"slow":[30,50,100]}' [--symbols ...] [--data ...]
//                  [--from ...] [--to ...] [--workers N] [--walk-forward train=5y,test=1y] [--db out/sweep/sweep.duckdb]
//                  [--queue redis://HOST:PORT[/DB] [--batch N]]     (on BullMQ workers: npm run worker)
//                  [--reports DIR]                                  (each run's report.json as DIR/<idx>.json)
// npm run sweep -- --cancel ID --queue redis://HOST:PORT[/DB]       (removes a queued sweep's waiting jobs)
import { lowerBound } from '../engine/core/search.ts';
import fs from 'node:fs';
import path from 'node:path';
import { openStore, type Store } from '../engine/data/store.ts';
import { readModelCard } from '../engine/ml/model-card.ts';
import { modelDir } from '../engine/ml/model-signals.ts';
import { dataHash } from '../engine/research/promotion.ts';
import { replaceSweep, storeRuns, storedRuns } from '../engine/research/sweep-store.ts';
import type { Window } from '../engine/research/grid.ts';
import type { ModelRef, RunFailure } from '../engine/queue/jobs.ts';
import { PASSWORD_ENV, parseRedisUrl, redactError, type RedisTarget } from '../engine/queue/redis-url.ts';
import { cancelSweep, runQueuedSweep } from '../engine/queue/submit.ts';
import { expandGrid, parseWalkForward } from '../engine/research/grid.ts';
import { MIN_ANNUALISED_PERIODS } from '../engine/metrics/short-run.ts';
import {
  shareSeries,
  siblingModule,
  startSweepPool,
  sweepTasks,
  walkForwardSummary,
  type ReportRequest,
  type SweepPool,
  type SweepResult,
  type SweepTask,
} from '../engine/research/sweep.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots, modelOf, resolvedParams, strategyHelp } from '../strategies/index.ts';
import { runId } from './lib/cli.ts';
import { commitStaged, describeOutputFailure, discardStaged, removeStaleStaged, stageFile, type StagedFile } from '../engine/report/write.ts';
import { defineFlags, flagHelp, fromFlag, parseFlags, parseJsonObjectFlag, type FlagValues } from './lib/flags.ts';
import { loadRunSeries } from './lib/run-data.ts';
import { perShareWarning } from '../engine/data/actions.ts';
import { runInSample, runModelDir, sweepInSample } from './lib/model-signals.ts';
import { isMain } from './lib/main.ts';
import { printRunConfig, RUN_FLAGS, runSettingsFlags, sizingRiskWarning } from './lib/run-options.ts';

/**
 * Runs per queued job by default: a job costs the queue a few ms (adding, a worker's fetch and lock, the
 * submitter's poll and write) while a daily run of the sample takes tens of ms, so a few runs per job hide that
 * cost; and a worker runs a job's runs on its threads at once, so a batch of at least its --concurrency keeps them
 * busy. Too large a batch leaves workers idle at the end of a sweep (see npm run bench for the figures).
 */
const DEFAULT_BATCH = 4;

export const FLAGS = defineFlags({
  ...RUN_FLAGS,
  grid: { kind: 'string', arg: 'JSON', help: `values per param, e.g. '{"fast":[5,10,20],"slow":[30,50,100]}' (required)` },
  workers: { kind: 'integer', min: 1, max: 256, help: 'worker threads (default: cores - 1, at least 1); results do not depend on it' },
  'walk-forward': { kind: 'string', arg: 'SPEC', help: 'train=5y,test=1y: every combination on rolling training and test periods' },
  db: { kind: 'string', default: 'out/sweep/sweep.duckdb', arg: 'FILE', help: 'where results go (table sweep_results; default out/sweep/sweep.duckdb)' },
  queue: {
    kind: 'string',
    arg: 'URL',
    help: 'run on BullMQ workers (npm run worker) through this Redis: redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS;\na password is better given in TB_REDIS_PASSWORD than in the URL (ps and npm run show command lines)',
  },
  batch: { kind: 'integer', min: 1, max: 100_000, help: `runs per queued job (with --queue; default ${DEFAULT_BATCH}); results do not depend on it` },
  cancel: { kind: 'string', arg: 'ID', help: 'with --queue: remove the waiting jobs of sweep ID (the id a sweep prints) and say how many' },
  reports: {
    kind: 'string',
    arg: 'DIR',
    help: "write each run's report.json (what npm run backtest writes for its bars and params) as DIR/<idx>.json,\nidx the run's idx in sweep_results; with --queue the workers compute them and send them back",
  },
});

const HELP = `usage: npm run sweep -- --grid JSON [options]
${flagHelp(FLAGS)}

${strategyHelp()}`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (!v.help && v.cancel !== undefined) return cancel(v.cancel, v.queue);
  if (v.help || !v.grid) {
    console.log(HELP);
    if (!v.help) process.exitCode = 2;
    return;
  }
  const grid = parseJsonObjectFlag('--grid', v.grid) as Record<string, unknown[]>;
  const walkForward = v['walk-forward'] ? fromFlag('--walk-forward', v['walk-forward'], parseWalkForward) : undefined;
  if (v.queue !== undefined) {
    if (v.workers !== undefined) throw new Error('--workers sets local threads; with --queue each worker sets its own (npm run worker -- --concurrency N)');
    return sweep(v, grid, walkForward, { queue: parseRedisUrl(v.queue, process.env[PASSWORD_ENV]) });
  }
  if (v.batch !== undefined) throw new Error('--batch sizes the jobs of a queued sweep: give --queue URL too');
  // the worker threads load their modules while this thread loads the bars
  const pool = startSweepPool(siblingModule('./lib/sweep-worker', import.meta.url), v.workers);
  try {
    await sweep(v, grid, walkForward, { pool });
  } finally {
    await pool.destroy();
  }
}

async function sweep(
  v: FlagValues<typeof FLAGS>,
  grid: Record<string, unknown[]>,
  walkForward: ReturnType<typeof parseWalkForward> | undefined,
  on: { pool: SweepPool } | { queue: RedisTarget },
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
  const id = runId({ config, grid, walkForward: v['walk-forward'] ?? null, source });
  const { tasks, windows } = sweepTasks({ config, grid, series, walkForward });
  // the runs' reports, only when asked: without --reports the tasks are as before and nothing extra is computed
  if (v.reports !== undefined) {
    const request = reportRequests(config.strategy, source, priceWarning ? [priceWarning] : []);
    for (const t of tasks) t.report = request(t);
  }
  const reports = v.reports === undefined ? undefined : new ReportFiles(path.resolve(v.reports));
  if ('queue' in on) {
    const modelRefs = modelsOf(config.strategy, combinations);
    const data = {
      ...(v.data !== undefined ? { path: path.resolve(v.data) } : {}),
      symbols,
      interval,
      from: v.from,
      to: v.to,
      tz: v.tz,
      prices: v.prices,
      hash: dataHash(loaded.series),
      bars: series.reduce((n, s) => n + s.ts.length, 0),
    };
    return queued({ v, id, config, tasks, windows, target: on.queue, data, models: modelRefs, tty, inSample, reports });
  }
  const t0 = performance.now();
  let results: SweepResult[];
  try {
    // each report is staged as its run finishes; all are renamed into place once the rows are committed
    results = await on.pool.run(
      tasks,
      (done, total) => tty && process.stderr.write(`\r${done}/${total} runs`),
      reports && ((index, json) => reports.stage(index, json)),
    );
    if (tty) process.stderr.write('\r\x1b[K');
    // one transaction: a failed write (locked file, full disk) leaves the database as it was, and says so
    await withOutput(v.db!, (out) => replaceSweep(out.conn, id, results));
    reports?.commit();
  } finally {
    reports?.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  printResults(results, windows);
  console.log(
    `\n${results.length} runs in ${seconds.toFixed(2)} s (${(results.length / seconds).toFixed(1)} runs/s, ${workers ?? 'default'} workers); sweep ${id} in ${v.db} (table sweep_results)${
      reports ? `; reports in ${v.reports}` : ''
    }`,
  );
  for (const w of inSample) console.error(`warning: ${w.message}`);
}

const outputFailure = (e: unknown, db: string) =>
  describeOutputFailure(e, path.resolve(db), { elsewhere: 'use --db on another disk', otherFile: 'use --db with another file' });

/** Opens the sweep's database for writing, runs `write`, closes; a failure to open or write names the file and what to do. */
async function withOutput<T>(db: string, write: (out: Store) => Promise<T>): Promise<T> {
  const out = await openOutput(db);
  try {
    return await write(out);
  } catch (e) {
    throw outputFailure(e, db);
  } finally {
    out.close();
  }
}

async function openOutput(db: string): Promise<Store> {
  try {
    return await openStore(db);
  } catch (e) {
    throw outputFailure(e, db);
  }
}

/** The models a sweep's runs trade on, each named by its card's sha256 (checked against the file: readModelCard). */
function modelsOf(strategy: string, combinations: Record<string, unknown>[]): ModelRef[] {
  const locations = [...new Set(combinations.flatMap((p) => modelOf(strategy, p) ?? []))];
  return locations.map((location) => ({ location, sha256: readModelCard(modelDir(location)).sha256 }));
}

/**
 * Each run's report request: its params with the strategy's defaults (resolvedParams, as a backtest's report
 * shows them), the data's source, the sweep's warnings, and whether the bars it replays are in its model's
 * training data (runInSample over that run's bars, as a backtest flags them).
 */
function reportRequests(strategy: string, source: string, warnings: string[]): (t: SweepTask) => ReportRequest {
  const cards = new Map<string, ReturnType<typeof readModelCard>>();
  return (t) => {
    const dir = runModelDir(strategy, t.params);
    let inSample;
    if (dir !== undefined) {
      let card = cards.get(dir);
      if (card === undefined) cards.set(dir, (card = readModelCard(dir)));
      const bars = t.series.map((s) => ({ ts: s.ts.subarray(lowerBound(s.ts, t.warmFrom), lowerBound(s.ts, t.to + 1)) }));
      inSample = runInSample(strategy, t.params, card, bars);
    }
    return {
      source,
      params: resolvedParams(strategy, t.params),
      ...(inSample ? { inSample } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  };
}

/**
 * A sweep's report files, DIR/<idx>.json (idx: the run's key in sweep_results, where its params, window and phase
 * are): each staged under a temporary name beside its final one (engine/report/write.ts), renamed into place only
 * once the runs' rows are stored, so a report is whole or absent, and a report is never there for a row that is not.
 */
class ReportFiles {
  private staged: StagedFile[] = [];
  private ready = false;
  private closed = false;
  constructor(readonly dir: string) {}

  stage(index: number, json: string): void {
    // a failed sweep's runs still finishing on the threads: their reports are dropped, not left staged
    if (this.closed) return;
    const final = path.join(this.dir, `${index}.json`);
    if (!this.ready) {
      try {
        fs.mkdirSync(this.dir, { recursive: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOTDIR')
          throw new Error(`cannot write ${final}: --reports ${this.dir} is a file, or under one, not a folder; give a folder (it is created if missing)`);
        throw describeOutputFailure(e, final, FAILURE);
      }
      // temporary files of a sweep killed while writing here
      removeStaleStaged(this.dir);
      this.ready = true;
    }
    this.staged.push(stageFile(final, [json], FAILURE));
  }

  /** Renames every staged report into place. */
  commit(): void {
    const files = this.staged;
    this.staged = [];
    commitStaged(files, FAILURE);
  }

  /** Removes the reports staged and not committed (a failed store's). */
  discard(): void {
    discardStaged(this.staged);
    this.staged = [];
  }

  /** The sweep is over: what is staged and not committed is removed, and nothing more is staged. */
  close(): void {
    this.closed = true;
    this.discard();
  }
}

const FAILURE = { elsewhere: 'use --reports with a folder on another disk' };

/** A sweep on the queue's workers: results stored as they arrive, this process the one writer. */
async function queued(o: {
  v: FlagValues<typeof FLAGS>;
  id: string;
  config: BacktestConfig;
  tasks: SweepTask[];
  windows: Window[];
  target: RedisTarget;
  data: Parameters<typeof runQueuedSweep>[0]['data'];
  models: ModelRef[];
  tty: boolean;
  inSample: { message: string }[];
  reports: ReportFiles | undefined;
}): Promise<void> {
  const { v, id, target, tty, windows, reports } = o;
  const runs = o.tasks.map(({ config: _c, series: _s, ...run }) => run);
  const batch = v.batch ?? DEFAULT_BATCH;
  const line = (s: string) => {
    if (tty) process.stderr.write('\r\x1b[K');
    console.error(s);
  };
  const ac = new AbortController();
  const interrupt = () => {
    if (ac.signal.aborted) process.exit(130); // a second Ctrl-C: leave at once
    line('interrupted: cancelling the sweep (Ctrl-C again to leave at once)');
    ac.abort();
  };
  process.on('SIGINT', interrupt);
  const t0 = performance.now();
  try {
    // opened for the whole sweep: the one writer (a second submitter of the same file fails here, at once)
    const out = await openOutput(v.db!);
    const write = (f: () => Promise<void>) => f().catch((e) => Promise.reject(outputFailure(e, v.db!)));
    try {
      await write(() => replaceSweep(out.conn, id, []));
      const r = await runQueuedSweep({
        target,
        sweepId: id,
        config: o.config,
        runs,
        data: o.data,
        models: o.models,
        batch,
        // the reports staged, the rows stored (one transaction), then the reports renamed into place
        store: async (results) => {
          try {
            for (const r of results) if (r.report !== undefined) reports?.stage(r.index, r.report);
            await write(() => storeRuns(out.conn, id, results));
            reports?.commit();
          } finally {
            reports?.discard();
          }
        },
        onSubmitted: (jobs) => line(`sweep ${id}: ${runs.length} runs in ${jobs} jobs of up to ${batch} on ${target.redacted}`),
        onProgress: ({ stored, failed, total }) => tty && process.stderr.write(`\r${stored}/${total} runs stored${failed > 0 ? `, ${failed} failed` : ''}`),
        onFailure: (f: RunFailure) => line(`run ${f.index} ${JSON.stringify(f.params)} failed: ${f.error}`),
        onWarning: (m) => line(`warning: ${m}`),
        signal: ac.signal,
      }).catch((e) => {
        throw redactError(e, target);
      });
      if (tty) process.stderr.write('\r\x1b[K');
      const stored = await storedRuns(out.conn, id);
      if (r.cancelled?.by === 'cancel') {
        console.error(`cancelled (npm run sweep -- --cancel ${id}): ${stored} of ${runs.length} runs stored in ${v.db} (table sweep_results)`);
        process.exitCode = 1;
        return;
      }
      if (r.cancelled) {
        const { removed, running } = r.cancelled;
        console.error(
          `interrupted: sweep ${id}: ${stored} of ${runs.length} runs stored in ${v.db} (table sweep_results); removed ${removed} waiting jobs${
            running > 0 ? `; ${running} jobs already running finish on their workers (resubmit the same sweep to store them)` : ''
          }`,
        );
        process.exitCode = 130;
        return;
      }
      if (r.failures.length > 0) {
        console.error(
          `${r.failures.length} of ${runs.length} runs failed (each listed above, not retried: the same run fails the same way); the other ${stored} are stored: sweep ${id} in ${v.db} (table sweep_results)`,
        );
        process.exitCode = 1;
        return;
      }
      const seconds = (performance.now() - t0) / 1000;
      printResults(r.results, windows);
      console.log(
        `\n${r.results.length} runs in ${seconds.toFixed(2)} s (${(r.results.length / seconds).toFixed(1)} runs/s, queue ${target.redacted}, ${batch} runs per job); sweep ${id} in ${v.db} (table sweep_results)${
          reports ? `; reports in ${v.reports}` : ''
        }`,
      );
      for (const w of o.inSample) console.error(`warning: ${w.message}`);
    } finally {
      reports?.close();
      out.close();
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
}

/** `--cancel ID --queue URL`: removes the sweep's waiting jobs. */
async function cancel(id: string, queue: string | undefined): Promise<void> {
  if (queue === undefined) throw new Error('--cancel needs --queue URL: the Redis the sweep was submitted to');
  const target = parseRedisUrl(queue, process.env[PASSWORD_ENV]);
  const { removed, running } = await cancelSweep(target, id).catch((e) => {
    throw redactError(e, target);
  });
  console.log(
    `sweep ${id} on ${target.redacted}: removed ${removed} waiting job${removed === 1 ? '' : 's'}${running > 0 ? `; ${running} running finish on their workers` : ''}`,
  );
}

function printResults(results: SweepResult[], windows: Window[]): void {
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
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
