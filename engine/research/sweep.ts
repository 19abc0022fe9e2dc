import os from 'node:os';
import { Piscina } from 'piscina';
import type { BarSeries, EpochMs } from '../core/types.ts';
import type { BacktestConfig } from '../run/backtest.ts';
import type { ReportInSample } from '../report/report-types.ts';
import { expandGrid, walkForwardWindows, type Window } from './grid.ts';

/** One backtest of a sweep: params over a time range (the whole data, or a walk-forward train or test period). */
export interface SweepTask {
  index: number;
  config: BacktestConfig;
  params: Record<string, unknown>;
  series: BarSeries[];
  window: number;
  phase: 'full' | 'train' | 'test';
  /** bars from `warmFrom` warm the strategy up; it trades and is measured from `from` */
  warmFrom: EpochMs;
  from: EpochMs;
  to: EpochMs;
  /** set when the run's report.json is wanted (npm run sweep -- --reports DIR): it comes back in SweepResult.report */
  report?: ReportRequest;
}

/**
 * What a run's report says beyond the run itself: what `npm run backtest` puts in its report.json for the same
 * bars and params. Built by the submitter, so that the report is the same bytes on any thread or worker.
 */
export interface ReportRequest {
  /** the data the report names (its config.data): the submitter's source, whichever copy a worker read */
  source: string;
  /** the run's params with the strategy's defaults filled in (a backtest's report shows them so) */
  params: Record<string, unknown>;
  /** the run trades on a model trained on some of its bars */
  inSample?: ReportInSample;
  warnings?: string[];
}

export interface SweepResult {
  index: number;
  params: Record<string, unknown>;
  window: number;
  phase: SweepTask['phase'];
  from: EpochMs;
  to: EpochMs;
  bars: number;
  finalEquity: number;
  /** daily returns of the measured period (warm-up bars excluded) */
  periods: number;
  /**
   * Fewer than MIN_ANNUALISED_PERIODS (engine/metrics/short-run.ts) daily returns: sharpe, sortino and cagr are
   * annualised from too little to mean anything as levels (a week printed Sharpe -32), so they are flagged here.
   * They are kept rather than nulled (unlike the report): runs of one sweep period (the whole data, or one
   * walk-forward train or test window) all have the same length, so the annualisation is the same monotone
   * scaling for every run and ranking them, or picking a window's best in-sample params, stays meaningful;
   * nulling would make every run tie and pick the first params of the grid silently. What a short figure cannot
   * do is be compared with a fixed level or averaged across windows: the sweep table marks it and the promotion
   * check (promote.ts) refuses evidence built on short windows.
   */
  shortRun: boolean;
  sharpe: number | null;
  sortino: number | null;
  cagr: number | null;
  maxDrawdown: number;
  trades: number;
  /** the run's report.json text (reportJsonChunks), when its task asked for it (SweepTask.report) */
  report?: string;
}

export interface SweepSpec {
  config: BacktestConfig;
  grid: Record<string, unknown[]>;
  series: BarSeries[];
  /**
   * URL of the worker module: its default export runs a task (scripts/lib/sweep-worker.ts binds the strategy
   * registry). Or a pool already started on it (startSweepPool), which the caller destroys.
   */
  worker: string | SweepPool;
  walkForward?: Parameters<typeof walkForwardWindows>[2];
  /** worker threads when `worker` is a URL (default: cores - 1, at least 1) */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Copies bars into SharedArrayBuffers once, so every worker reads the same memory. */
export function shareSeries(series: BarSeries[]): BarSeries[] {
  const share = (a: Float64Array) => {
    const s = new Float64Array(new SharedArrayBuffer(a.byteLength));
    s.set(a);
    return s;
  };
  return series.map((x) => ({
    ...x,
    ts: share(x.ts),
    open: share(x.open),
    high: share(x.high),
    low: share(x.low),
    close: share(x.close),
    volume: share(x.volume),
  }));
}

/** The tasks of a sweep, in a fixed order: params in grid order, then windows (train before test). */
export function sweepTasks(spec: Pick<SweepSpec, 'config' | 'grid' | 'series' | 'walkForward'>): { tasks: SweepTask[]; windows: Window[] } {
  const combos = expandGrid(spec.grid);
  const first = Math.min(...spec.series.map((s) => s.ts[0] ?? Infinity));
  const last = Math.max(...spec.series.map((s) => s.ts[s.ts.length - 1] ?? -Infinity));
  const windows = spec.walkForward ? walkForwardWindows(first, last, spec.walkForward) : [];
  const tasks: SweepTask[] = [];
  const base = { config: spec.config, series: spec.series };
  for (const params of combos) {
    if (windows.length === 0) tasks.push({ ...base, index: tasks.length, params, window: -1, phase: 'full', warmFrom: first, from: first, to: last });
    for (const w of windows) {
      tasks.push({ ...base, index: tasks.length, params, window: w.index, phase: 'train', warmFrom: w.trainFrom, from: w.trainFrom, to: w.trainTo });
      // the test period starts warm: its strategy has seen the training bars (it only trades from testFrom)
      tasks.push({ ...base, index: tasks.length, params, window: w.index, phase: 'test', warmFrom: w.trainFrom, from: w.testFrom, to: w.testTo });
    }
  }
  return { tasks, windows };
}

/**
 * The Node flags of a sweep's worker threads: a TypeScript worker (the sources) loads TypeScript as the main
 * thread does; a compiled .js worker (build/, the installed package, whose users may have no tsx) needs none.
 */
export function workerExecArgv(worker: string): string[] {
  return /\.[cm]?ts$/.test(worker.replace(/[?#].*$/, '')) ? ['--import', 'tsx'] : [];
}

/** The URL of the module `relative` (no extension) next to `from` (an import.meta.url), with from's extension: .ts from the sources, .js compiled. */
export function siblingModule(relative: string, from: string): string {
  return new URL(`${relative}${/\.[cm]?[jt]s$/.exec(new URL(from).pathname)?.[0] ?? '.js'}`, from).href;
}

/** A sweep's worker threads: they start (and load their worker module) as soon as the pool is made. */
export interface SweepPool {
  /**
   * Runs tasks; results in task order whatever the thread count. With `onReport`, each report a task asked for
   * is handed to it as its run finishes and the result returned no longer carries it (a sweep's reports are
   * not all held in memory at once).
   */
  run(tasks: SweepTask[], onProgress?: (done: number, total: number) => void, onReport?: (index: number, json: string) => void): Promise<SweepResult[]>;
  destroy(): Promise<void>;
}

/**
 * Starts a sweep's worker threads on the worker module at URL `worker`. Started before the bars load, the threads
 * load their modules (TypeScript through tsx, from the sources) while the main thread reads DuckDB.
 */
export function startSweepPool(worker: string, workers?: number): SweepPool {
  const threads = Math.max(1, workers ?? Math.max(1, os.availableParallelism() - 1));
  const pool = new Piscina({ filename: worker, minThreads: threads, maxThreads: threads, execArgv: workerExecArgv(worker) });
  // a thread that fails to load its module before any task is queued: piscina emits the error on the pool
  let failed: Error | undefined;
  pool.on('error', (e: Error) => {
    failed ??= e;
  });
  return {
    async run(tasks, onProgress, onReport) {
      if (failed) throw failed;
      let done = 0;
      return Promise.all(
        tasks.map((t) =>
          (pool.run(t) as Promise<SweepResult>).then((r) => {
            onProgress?.(++done, tasks.length);
            if (onReport === undefined || r.report === undefined) return r;
            const { report, ...result } = r;
            onReport(r.index, report);
            return result;
          }),
        ),
      );
    },
    destroy: () => pool.destroy(),
  };
}

/**
 * Runs a parameter grid (optionally walk-forward) on a pool of worker threads. Results come back in
 * task order whatever the worker count, and each run is deterministic, so any worker count gives the
 * same results.
 */
export async function runSweep(spec: SweepSpec): Promise<{ results: SweepResult[]; windows: Window[] }> {
  const { tasks, windows } = sweepTasks(spec);
  const pool = typeof spec.worker === 'string' ? startSweepPool(spec.worker, spec.workers) : spec.worker;
  try {
    return { results: await pool.run(tasks, spec.onProgress), windows };
  } finally {
    if (pool !== spec.worker) await pool.destroy();
  }
}

/** Walk-forward summary: per window, the params with the best in-sample Sharpe and how they did out of sample. */
export function walkForwardSummary(results: SweepResult[], windows: Window[]) {
  return windows.map((w) => {
    const train = results.filter((r) => r.window === w.index && r.phase === 'train');
    const best = train.reduce((a, b) => ((b.sharpe ?? -Infinity) > (a.sharpe ?? -Infinity) ? b : a));
    const test = results.find((r) => r.window === w.index && r.phase === 'test' && JSON.stringify(r.params) === JSON.stringify(best.params))!;
    return {
      window: w,
      params: best.params,
      inSampleSharpe: best.sharpe,
      outOfSampleSharpe: test.sharpe,
      outOfSampleCagr: test.cagr,
      /** the training or the test period is too short to annualise (SweepResult.shortRun): its Sharpe is no level */
      inSampleShortRun: best.shortRun,
      outOfSampleShortRun: test.shortRun,
    };
  });
}
