// tb.bars, tb.sweep, tb.heatmap, tb.compare and tb.promote: the research steps of a notebook.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ExchangeCalendar } from '../core/calendar.ts';
import type { InSample } from '../ml/in-sample.ts';
import { expandGrid, parseWalkForward, type Window } from '../research/grid.ts';
import { evaluatePromotion, walkForwardEvidence, writePromotion } from '../research/promote.ts';
import {
  DEFAULT_THRESHOLDS,
  findPromotion,
  promotionFailures,
  strategyHash,
  type PromotionEvidence,
  type PromotionRecord,
  type PromotionThresholds,
} from '../research/promotion.ts';
import { runSweepTask } from '../research/sweep-run.ts';
import {
  shareSeries,
  siblingModule,
  startSweepPool,
  sweepTasks,
  walkForwardSummary,
  type SweepPool,
  type SweepResult,
  type SweepSpec,
  type SweepTask,
} from '../research/sweep.ts';
import { curvesFigure, heatmapFigure, type Figure } from '../report/figures.ts';
import { loadRunSeries } from '../run/run-data.ts';
import { strategySources } from '../../strategies/index.ts';
import { show } from './display.ts';
import { frame, num, type Column, type DataFrame } from './frame.ts';
import { dataOptions, resolveStrategy, runConfig, runSettings, type DataOptions, type ResolvedStrategy, type RunOptions } from './options.ts';
import type { Result } from './result.ts';

/** Bars of the run's data: date (the bar's start, a Date), symbol, open, high, low, close, volume; symbol by symbol. */
export async function bars(symbols?: string[], o: DataOptions & { session?: 'rth' | 'extended' } = {}): Promise<DataFrame> {
  const { options } = await dataOptions({ ...o, symbols: symbols ?? o.symbols });
  const { series } = await loadRunSeries(options);
  // intraday under rth: only the bars a run sees (starting in the regular session)
  const cal = options.interval !== '1d' && (o.session ?? 'rth') === 'rth' ? new ExchangeCalendar(options.tz) : undefined;
  const cols = {
    date: [] as Date[],
    symbol: [] as string[],
    open: [] as number[],
    high: [] as number[],
    low: [] as number[],
    close: [] as number[],
    volume: [] as number[],
  };
  for (const s of series)
    for (let i = 0; i < s.ts.length; i++) {
      if (cal && !cal.inSession(s.ts[i])) continue;
      cols.date.push(new Date(s.ts[i]));
      cols.symbol.push(s.symbol);
      cols.open.push(s.open[i]);
      cols.high.push(s.high[i]);
      cols.low.push(s.low[i]);
      cols.close.push(s.close[i]);
      cols.volume.push(s.volume[i]);
    }
  return frame(cols);
}

/** A sweep's DataFrame, one row per run, with the raw results and a heatmap of any two params. */
export type SweepFrame = DataFrame & {
  /** the runs as the engine returned them, in task order */
  results: SweepResult[];
  /** the walk-forward windows (empty without walkForward) */
  windows: Window[];
  /** for a strategy on a model: each model trained on some of the swept bars (those results are in-sample); else empty */
  inSample: InSample[];
  /** mean `metric` (default sharpe) per (x, y) over the rows (with walkForward: the test rows), displayed and returned */
  heatmap(x: string, y: string, metric?: string): Figure;
  /**
   * With walkForward, one row per window (as `npm run sweep` prints it): testFrom, testTo (Dates), the params
   * with the best in-sample Sharpe (JSON), that Sharpe, and their out-of-sample Sharpe and CAGR. Empty without.
   */
  walkForward(): DataFrame;
};

export interface SweepOptions extends Omit<RunOptions, 'params'> {
  /** values per param, e.g. { fast: [5, 10, 20], slow: [50, 100] }; the other params take their defaults */
  grid: Record<string, unknown[]>;
  /** 'train=5y,test=1y': every combination on rolling training and test periods */
  walkForward?: string;
  /** worker threads for a registered strategy (default cores - 1); an inline definition runs in this thread */
  workers?: number;
}

const SCALARS = (v: unknown): v is number | string | boolean => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/**
 * A parameter sweep (engine/research/sweep.ts's tasks, the same runs as `npm run sweep`): one row per run with
 * the params as columns, then window, phase, from, to (Dates), bars, periods (daily returns), shortRun, finalEquity,
 * sharpe, sortino, cagr, maxDrawdown, trades. `shortRun` is true for a run with fewer than 63 daily returns
 * (engine/metrics/short-run.ts): its sharpe, sortino and cagr are kept for ranking runs of the same period, but
 * are no levels (a week annualised printed Sharpe -32).
 */
export async function sweep(o: SweepOptions): Promise<SweepFrame> {
  const strategy = resolveStrategy(o.strategy);
  const walkForward = o.walkForward ? parseWalkForward(o.walkForward) : undefined;
  const settings = runSettings(o);
  // a registered strategy's worker threads load their modules while this thread loads the bars
  const pool = strategy.inline ? undefined : startSweepPool(SWEEP_WORKER, o.workers);
  const { loaded, results, windows } = await sweepRuns(o, { strategy, walkForward, settings }, pool).finally(() => pool?.destroy());
  const keys = Object.keys(o.grid);
  const cols: Record<string, Column> = {};
  for (const k of keys) {
    const vals = results.map((r) => r.params[k]);
    cols[k] = vals.every(SCALARS) ? (vals as number[]) : vals.map((v) => JSON.stringify(v));
  }
  if (walkForward) {
    cols.window = results.map((r) => r.window);
    cols.phase = results.map((r) => r.phase);
  }
  Object.assign(cols, {
    from: results.map((r) => new Date(r.from)),
    to: results.map((r) => new Date(r.to)),
    bars: results.map((r) => r.bars),
    // daily returns of the run, and whether they are too few to annualise (engine/research/sweep.ts SweepResult.shortRun)
    periods: results.map((r) => r.periods),
    shortRun: results.map((r) => r.shortRun),
    finalEquity: results.map((r) => r.finalEquity),
    sharpe: results.map((r) => num(r.sharpe)),
    sortino: results.map((r) => num(r.sortino)),
    cagr: results.map((r) => num(r.cagr)),
    maxDrawdown: results.map((r) => r.maxDrawdown),
    trades: results.map((r) => r.trades),
  });
  const df = frame(cols) as SweepFrame;
  return Object.assign(df, {
    results,
    windows,
    inSample: strategy.models.sweepInSample(strategy.name, expandGrid(o.grid), loaded.series),
    heatmap: (x: string, y: string, metric = 'sharpe') => heatmap(df, x, y, metric, walkForward ? { phase: 'test' } : {}),
    walkForward: () => {
      const w = walkForwardSummary(results, windows);
      return frame({
        testFrom: w.map((x) => new Date(x.window.testFrom)),
        testTo: w.map((x) => new Date(x.window.testTo)),
        params: w.map((x) => JSON.stringify(x.params)),
        inSampleSharpe: w.map((x) => num(x.inSampleSharpe)),
        outOfSampleSharpe: w.map((x) => num(x.outOfSampleSharpe)),
        outOfSampleCagr: w.map((x) => num(x.outOfSampleCagr)),
        // a window too short to annualise: its figures rank runs, but are no Sharpe to compare with a threshold
        inSampleShortRun: w.map((x) => x.inSampleShortRun),
        outOfSampleShortRun: w.map((x) => x.outOfSampleShortRun),
      });
    },
  });
}

/** The worker module of a registered strategy's sweep (engine/api/sweep-worker.ts, or .js compiled). */
const SWEEP_WORKER = siblingModule('./sweep-worker', import.meta.url);

/** A sweep's bars and runs: on the pool's worker threads, or in this thread without one (an inline definition). */
async function sweepRuns(
  o: SweepOptions,
  { strategy, walkForward, settings }: { strategy: ResolvedStrategy; walkForward: SweepSpec['walkForward']; settings: ReturnType<typeof runSettings> },
  pool?: SweepPool,
) {
  const { options } = await dataOptions(o);
  const loaded = await loadRunSeries(options);
  const series = pool ? shareSeries(loaded.series) : loaded.series;
  const symbols = series.map((s) => s.symbol);
  const config = runConfig(o, { strategy: strategy.name, params: {}, symbols, settings, data: options, prices: loaded.prices });
  const { tasks, windows } = sweepTasks({ config, grid: o.grid, series, walkForward });
  for (const p of expandGrid(o.grid)) strategy.buildSlots(strategy.name, p, symbols); // every combination valid before a run
  const results = pool ? await pool.run(tasks) : await runInline(tasks, strategy);
  return { loaded, results, windows };
}

/** A sweep's runs in this thread, one after the other (an inline definition cannot be sent to a worker). */
async function runInline(tasks: SweepTask[], strategy: Pick<ResolvedStrategy, 'buildSlots' | 'models'>): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  for (const t of tasks) results.push(await runSweepTask(t, strategy.buildSlots, strategy.models.signalsFor));
  return results;
}

/**
 * A heatmap of `metric` over two columns of a DataFrame (a sweep's params): the mean of the rows with each
 * (x, y), rows filtered by `where` (column = value) first. Displayed inline under tslab and returned.
 */
export function heatmap(df: DataFrame, x: string, y: string, metric = 'sharpe', where: Record<string, unknown> = {}): Figure {
  const col = (c: string) => {
    if (!df.columns.includes(c)) throw new Error(`heatmap: no column '${c}'; columns: ${df.columns.join(', ')}`);
    return df.column(c).values as unknown[];
  };
  const xs = col(x);
  const ys = col(y);
  const zs = col(metric) as number[];
  const keep = xs.map((_, i) => Object.entries(where).every(([k, v]) => col(k)[i] === v));
  const order = (vals: unknown[]) =>
    [...new Set(vals.filter((_, i) => keep[i]))].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const xv = order(xs);
  const yv = order(ys);
  const sum = yv.map(() => xv.map(() => 0));
  const cnt = yv.map(() => xv.map(() => 0));
  for (let i = 0; i < xs.length; i++) {
    if (!keep[i] || !Number.isFinite(zs[i])) continue;
    sum[yv.indexOf(ys[i])][xv.indexOf(xs[i])] += zs[i];
    cnt[yv.indexOf(ys[i])][xv.indexOf(xs[i])]++;
  }
  const z = sum.map((r, i) => r.map((s, j) => (cnt[i][j] === 0 ? null : s / cnt[i][j])));
  return show(heatmapFigure(`${metric} by ${x} and ${y}`, xv as (string | number)[], yv as (string | number)[], z, { xTitle: x, yTitle: y }));
}

/** Metrics of several runs side by side (metric, then one column per run) and their equity curves (`figure`, displayed). */
export function compare(results: Result[], names?: string[]): DataFrame & { figure: Figure } {
  if (results.length === 0) throw new Error('compare: no results');
  if (names !== undefined && names.length !== results.length) throw new Error(`compare: ${names.length} names for ${results.length} results`);
  const base = names ?? results.map((r) => r.name);
  const labels = base.map((n, i) => (base.indexOf(n) === i && base.lastIndexOf(n) === i ? n : `${n} #${i + 1}`));
  const metrics = Object.keys(results[0].metrics).filter((k) => results.every((r) => typeof (r.metrics as unknown as Record<string, unknown>)[k] !== 'string'));
  const cols: Record<string, Column> = { metric: metrics };
  results.forEach((r, i) => {
    const m = r.metrics as unknown as Record<string, number | null>;
    cols[labels[i]] = metrics.map((k) => num(m[k]));
  });
  const figure = show(
    curvesFigure(
      'Equity',
      results.map((r, i) => ({ name: labels[i], dates: r.report.equity.map((e) => e.date), values: r.report.equity.map((e) => e.equity) })),
    ),
  );
  return Object.assign(frame(cols), { figure });
}

/** A promotion check's outcome: `promoted` when no threshold failed; `write(dir)` writes the record (promoted only). */
export interface Promotion {
  promoted: boolean;
  evidence: PromotionEvidence;
  /** every threshold missed, with value and limit; empty when promoted */
  failures: string[];
  /** the record npm run promote writes (undefined for an inline definition: it has no file to tie a record to) */
  record?: PromotionRecord;
  write(dir?: string): string;
}

/**
 * The promotion check of `npm run promote` (engine/research/promote.ts) on a backtest's strategy, params and
 * data: its metrics and a walk-forward (default train=5y,test=1y) against the thresholds (default
 * DEFAULT_THRESHOLDS). An inline definition gets the same evidence and failures (its walk-forward runs in this
 * thread), but no record: a record is tied to a strategy file's hash.
 */
export async function promote(
  result: Result,
  thresholds: Partial<PromotionThresholds> = {},
  o: { walkForward?: string; workers?: number } = {},
): Promise<Promotion> {
  const walkForward = o.walkForward ?? 'train=5y,test=1y';
  const spans = parseWalkForward(walkForward);
  const all = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const loaded = await loadRunSeries(result.data);
  if (result.strategy.inline) {
    // evaluatePromotion's evidence, its walk-forward in this thread (a definition cannot be sent to a worker)
    const grid = Object.fromEntries(Object.entries(result.config.params).map(([k, x]) => [k, [x]]));
    const { tasks } = sweepTasks({ config: result.config, grid, series: loaded.series, walkForward: spans });
    const runs = await runInline(tasks, result.strategy);
    const evidence: PromotionEvidence = {
      sharpe: result.metrics.sharpe,
      maxDrawdown: result.metrics.maxDrawdown,
      trades: result.metrics.tradeCount,
      periods: result.metrics.periods,
      ...walkForwardEvidence(runs),
    };
    const failures = promotionFailures(evidence, all);
    return {
      promoted: failures.length === 0,
      evidence,
      failures,
      write() {
        throw new Error(
          `promote: ${result.strategy.name} is an inline definition; a promotion record is tied to a strategy file: put it in strategies/ and register it`,
        );
      },
    };
  }
  const outcome = await evaluatePromotion({
    config: result.config,
    series: loaded.series,
    source: String(result.report.config.data ?? loaded.source),
    buildSlots: result.strategy.buildSlots,
    signalsFor: result.strategy.models.signalsFor,
    worker: SWEEP_WORKER,
    workers: o.workers,
    walkForward,
    thresholds: all,
    strategyFiles: strategySources(result.config.strategy, result.config.params),
  });
  const promoted = outcome.failures.length === 0;
  return {
    ...outcome,
    promoted,
    write(dir = 'strategies/promoted') {
      if (!promoted) throw new Error(`not promoted:\n${outcome.failures.map((x) => `  - ${x}`).join('\n')}`);
      return writePromotion(dir, outcome.record);
    },
  };
}

/**
 * The promotion records in `dir` (default strategies/promoted, where `Promotion.write` and `npm run promote` write
 * them): one row per record file, by file name. Columns: file, strategy, params (JSON), symbols, promotedAt (a
 * Date), dataFrom, dataTo, bars, sharpe, maxDrawdown, trades (the full backtest), walkForward (its spec),
 * inSampleSharpe, outOfSampleSharpe, strategyFileHash, dataHash, and `matches`: whether the live runner accepts
 * the record today, i.e. the strategy's current source files (and model card) hash to its strategyFileHash and
 * findPromotion, the lookup `npm run live` makes, finds this record; `note` says why not ('' when it matches).
 * A missing folder gives an empty frame.
 */
export function promotions(dir = 'strategies/promoted'): DataFrame {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((x) => x.endsWith('.json'))
        .sort()
    : [];
  const cols = {
    file: [] as string[],
    strategy: [] as string[],
    params: [] as string[],
    symbols: [] as string[],
    promotedAt: [] as Date[],
    dataFrom: [] as string[],
    dataTo: [] as string[],
    bars: [] as number[],
    sharpe: [] as number[],
    maxDrawdown: [] as number[],
    trades: [] as number[],
    walkForward: [] as string[],
    inSampleSharpe: [] as number[],
    outOfSampleSharpe: [] as number[],
    strategyFileHash: [] as string[],
    dataHash: [] as string[],
    matches: [] as boolean[],
    note: [] as string[],
  };
  const n = (x: unknown) => (typeof x === 'number' ? x : Number.NaN);
  for (const f of files) {
    let r: PromotionRecord;
    try {
      r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as PromotionRecord;
    } catch (e) {
      throw new Error(`promotions: ${path.join(dir, f)} is not a JSON promotion record (${(e as Error).message})`);
    }
    cols.file.push(f);
    cols.strategy.push(String(r.strategy));
    cols.params.push(JSON.stringify(r.params));
    cols.symbols.push((r.symbols ?? []).join(','));
    cols.promotedAt.push(new Date(r.promotedAt));
    cols.dataFrom.push(r.data?.from ?? '');
    cols.dataTo.push(r.data?.to ?? '');
    cols.bars.push(n(r.data?.bars));
    cols.sharpe.push(n(r.metrics?.sharpe));
    cols.maxDrawdown.push(n(r.metrics?.maxDrawdown));
    cols.trades.push(n(r.metrics?.trades));
    cols.walkForward.push(r.walkForward?.spec ?? '');
    cols.inSampleSharpe.push(num(r.walkForward?.inSampleSharpe));
    cols.outOfSampleSharpe.push(num(r.walkForward?.outOfSampleSharpe));
    cols.strategyFileHash.push(String(r.strategyFileHash));
    cols.dataHash.push(r.data?.hash ?? '');
    // the live runner's check (scripts/live.ts): the current files' hash, then findPromotion with it
    let note = '';
    try {
      const hash = strategyHash(strategySources(r.strategy, r.params));
      const found = findPromotion(dir, r.strategy, hash, r.params);
      if (hash !== r.strategyFileHash) note = `the strategy's files changed since it was promoted (${r.strategyFile}): a live account refuses it`;
      else if (found === undefined || JSON.stringify(found) !== JSON.stringify(r)) note = 'another record for this strategy and params is found first';
    } catch (e) {
      note = `cannot hash the strategy's current files: ${(e as Error).message}`;
    }
    cols.matches.push(note === '');
    cols.note.push(note);
  }
  return frame(cols);
}
