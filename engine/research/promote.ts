// The promotion check: a full backtest and a walk-forward run of one strategy, compared with thresholds.
// `npm run promote` and notebook 05 both call it; a record is written only when nothing failed.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BarSeries } from '../core/types.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { isoDate } from '../core/dates.ts';
import { commitStaged, stageFile } from '../report/write.ts';
import { runBacktest, type BacktestConfig } from '../run/backtest.ts';
import { parseWalkForward } from './grid.ts';
import { dataHash, promotionFailures, sha256, strategyHash, type PromotionEvidence, type PromotionRecord, type PromotionThresholds } from './promotion.ts';
import type { BuildSlots, SignalsFor } from './sweep-run.ts';
import { runSweep, shareSeries, type SweepResult } from './sweep.ts';

export interface PromotionRequest {
  config: BacktestConfig;
  series: BarSeries[];
  /** where the bars came from (a path or 'sample'), for the record */
  source: string;
  buildSlots: BuildSlots;
  /** the sweep worker module (scripts/lib/sweep-worker.ts exports SWEEP_WORKER) */
  worker: string;
  /** e.g. train=5y,test=1y */
  walkForward: string;
  thresholds: PromotionThresholds;
  /** the strategy's source files: the record holds for their hash only */
  strategyFiles: string[];
  workers?: number;
  /** model predictions for strategies that trade on a model (the sweep worker computes its own) */
  signalsFor?: SignalsFor;
}

export interface PromotionOutcome {
  evidence: PromotionEvidence;
  /** every threshold missed, with value and limit; empty when promoted */
  failures: string[];
  /** the record to write (also built when failing, so it can be inspected) */
  record: PromotionRecord;
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/**
 * The walk-forward part of the evidence: mean in-sample and out-of-sample Sharpe over the windows, and how many
 * windows were too short to annualise (SweepResult.shortRun), which promotionFailures turns into a failure.
 */
export function walkForwardEvidence(
  results: readonly SweepResult[],
): Pick<PromotionEvidence, 'inSampleSharpe' | 'outOfSampleSharpe' | 'windows' | 'shortTrainWindows' | 'shortTestWindows' | 'minTestPeriods'> {
  const train = results.filter((r) => r.phase === 'train');
  const test = results.filter((r) => r.phase === 'test');
  return {
    inSampleSharpe: mean(train.map((r) => r.sharpe)),
    outOfSampleSharpe: mean(test.map((r) => r.sharpe)),
    windows: new Set(test.map((r) => r.window)).size,
    shortTrainWindows: new Set(train.filter((r) => r.shortRun).map((r) => r.window)).size,
    shortTestWindows: new Set(test.filter((r) => r.shortRun).map((r) => r.window)).size,
    minTestPeriods: test.length ? Math.min(...test.map((r) => r.periods)) : undefined,
  };
}

export async function evaluatePromotion(req: PromotionRequest): Promise<PromotionOutcome> {
  const { config, series } = req;
  const full = runBacktest(series, config, req.buildSlots(config.strategy, config.params, config.symbols), undefined, {
    signals: await req.signalsFor?.(config, series),
  });
  const m = computeMetrics({
    equity: full.journal.equityCurve,
    exposure: full.journal.equityCurve.map((e) => e.gross),
    trades: full.engine.trades,
    fills: full.journal.fills,
    rfAnnual: config.rfAnnual,
  });
  const grid = Object.fromEntries(Object.entries(config.params).map(([k, x]) => [k, [x]]));
  const wf = await runSweep({
    config,
    grid,
    series: shareSeries(series),
    worker: req.worker,
    workers: req.workers,
    walkForward: parseWalkForward(req.walkForward),
  });
  const tests = wf.results.filter((r) => r.phase === 'test');
  const evidence: PromotionEvidence = {
    sharpe: m.sharpe,
    maxDrawdown: m.maxDrawdown,
    trades: m.tradeCount,
    periods: m.periods,
    ...walkForwardEvidence(wf.results),
  };
  const first = Math.min(...series.map((s) => s.ts[0]));
  const last = Math.max(...series.map((s) => s.ts[s.ts.length - 1]));
  const record: PromotionRecord = {
    strategy: config.strategy,
    strategyFile: req.strategyFiles.map((x) => path.relative(process.cwd(), x)).join(', '),
    strategyFileHash: strategyHash(req.strategyFiles),
    params: config.params,
    symbols: config.symbols,
    data: { source: req.source, from: isoDate(first), to: isoDate(last), bars: full.bars, hash: dataHash(series) },
    metrics: {
      sharpe: m.sharpe,
      sortino: m.sortino,
      cagr: m.cagr,
      maxDrawdown: m.maxDrawdown,
      volatility: m.volatility,
      trades: m.tradeCount,
      winRate: m.winRate,
      profitFactor: m.profitFactor,
    },
    walkForward: {
      spec: req.walkForward,
      inSampleSharpe: evidence.inSampleSharpe,
      outOfSampleSharpe: evidence.outOfSampleSharpe,
      windows: wf.windows.map((w, i) => ({
        test: `${isoDate(w.testFrom)}..${isoDate(w.testTo)}`,
        sharpe: tests[i]?.sharpe ?? null,
        periods: tests[i]?.periods ?? null,
      })),
    },
    thresholds: req.thresholds,
    promotedAt: new Date().toISOString(), // the record's own time, not part of any result
  };
  return { evidence, failures: promotionFailures(evidence, req.thresholds), record };
}

/** Writes a record as readable, diffable JSON; returns its path. */
export function writePromotion(dir: string, record: PromotionRecord): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${record.strategy}-${sha256(JSON.stringify(record.params)).slice(0, 8)}.json`);
  commitStaged([stageFile(file, [`${JSON.stringify(record, null, 2)}\n`])]); // a full disk leaves no truncated record
  return file;
}
