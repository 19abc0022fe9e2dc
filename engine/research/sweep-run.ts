// One run of a sweep (in a worker thread): a backtest over a time range of shared (not copied) bars.
import type { BarSeries } from '../core/types.ts';
import { isoDate } from '../core/dates.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { annualisable } from '../metrics/short-run.ts';
import { reportJsonChunks } from '../report/write.ts';
import { runBacktest, type BacktestConfig, type BacktestResult } from '../run/backtest.ts';
import { backtestReport } from '../run/backtest-report.ts';
import type { SignalSource } from '../core/signals.ts';
import type { SlotSpec } from '../core/strategy.ts';
import type { SweepResult, SweepTask } from './sweep.ts';

/** The part of a series with from <= ts <= to (views on the same memory). */
function slice(s: BarSeries, from: number, to: number): BarSeries {
  let a = 0;
  while (a < s.ts.length && s.ts[a] < from) a++;
  let b = a;
  while (b < s.ts.length && s.ts[b] <= to) b++;
  return {
    ...s,
    ts: s.ts.subarray(a, b),
    open: s.open.subarray(a, b),
    high: s.high.subarray(a, b),
    low: s.low.subarray(a, b),
    close: s.close.subarray(a, b),
    volume: s.volume.subarray(a, b),
  };
}

/** Builds a run's strategy slots: strategies/index.ts's buildSlots (engine code does not import strategies/). */
export type BuildSlots = (name: string, params: Record<string, unknown>, symbols: readonly string[]) => SlotSpec[];

/** The model predictions a run's strategy trades on, for the bars it replays (undefined: it trades on none). */
export type SignalsFor = (config: BacktestConfig, series: BarSeries[]) => Promise<SignalSource | undefined>;

export async function runSweepTask(t: SweepTask, buildSlots: BuildSlots, signalsFor?: SignalsFor): Promise<SweepResult> {
  const series = t.series.map((s) => slice(s, t.warmFrom, t.to));
  const config: BacktestConfig = { ...t.config, params: t.params };
  const signals = await signalsFor?.(config, series);
  // a run with no warm-up bars (the whole data, a training period) needs no warm-up in front of the engine
  const warmUpUntil = t.from > t.warmFrom ? t.from : undefined;
  const r = runBacktest(series, config, buildSlots(config.strategy, t.params, config.symbols), undefined, { warmUpUntil, signals });
  const m = computeMetrics({
    equity: r.journal.equityCurve,
    exposure: r.journal.equityCurve.map((e) => e.gross),
    trades: r.engine.trades,
    fills: r.journal.fills,
    rfAnnual: config.rfAnnual,
  });
  return {
    index: t.index,
    params: t.params,
    window: t.window,
    phase: t.phase,
    from: t.from,
    to: t.to,
    bars: r.bars,
    finalEquity: r.engine.portfolio.equity(),
    periods: m.periods,
    shortRun: !annualisable(m.periods),
    sharpe: m.sharpe,
    sortino: m.sortino,
    cagr: m.cagr,
    maxDrawdown: m.maxDrawdown,
    trades: m.tradeCount,
    ...(t.report ? { report: runReport(t, r) } : {}),
  };
}

/**
 * The run's report.json text: backtestReport and the writer's own serialiser, as `npm run backtest` writes it
 * (text, not the Report: its long lists are views of the engine's, which cannot leave the thread). Its config is
 * the run's, with the params' defaults filled in and, for a walk-forward period, that period's first and last day
 * as from and to (the sweep's range would misstate what the report covers).
 */
function runReport(t: SweepTask, r: BacktestResult): string {
  const req = t.report!;
  // keys in the config's own order whether or not from and to were given: a queued run's config crossed Redis as
  // JSON, which drops an undefined key, and a window's dates appended at the end would move them in the file
  const { strategy, params: _grid, symbols, interval, from, to, ...rest } = r.config;
  const period = t.phase === 'full' ? { from, to } : { from: isoDate(t.from), to: isoDate(t.to) };
  const config: BacktestConfig = { strategy, params: req.params, symbols, interval, ...period, ...rest };
  const report = backtestReport({ ...r, config }, req.source, {
    ...(req.inSample ? { inSample: req.inSample } : {}),
    ...(req.warnings ? { warnings: req.warnings } : {}),
  });
  let text = '';
  for (const piece of reportJsonChunks(report)) text += piece;
  return text;
}
