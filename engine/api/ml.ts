// The notebook API's machine learning: tb.train (the training of `npm run train`, which calls trainModel too) and
// the model run of tb.backtest (the one of `npm run backtest`: whole history, batched predictions, in-sample flag).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isoDate } from '../core/dates.ts';
import type { SlotSpec } from '../core/strategy.ts';
import type { Interval } from '../core/types.ts';
import { collectChunks } from '../data/load.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { FEATURE_NAMES } from '../ml/features.ts';
import type { GbtOptions } from '../ml/gbt.ts';
import { inSampleOf, type InSample } from '../ml/in-sample.ts';
import { loadModel, writeModel, type ModelCard } from '../ml/model-card.ts';
import { modelDir } from '../ml/model-signals.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../ml/onnx-export.ts';
import { predictHistory } from '../ml/predictions.ts';
import { trainOnHistory, type ModelKind, type Scores } from '../ml/train-run.ts';
import { repoRoot } from '../paths.ts';
import { describeOutputFailure } from '../report/write.ts';
import { dataHash } from '../research/promotion.ts';
import { RESEARCH_RISK } from '../risk/limits.ts';
import { runBacktest, type BacktestConfig, type BacktestResult } from '../run/backtest.ts';
import { loadRunSeries, parseDay, type RunData, type RunDataOptions } from '../run/run-data.ts';
import { buildSlots } from '../../strategies/index.ts';
import type { DataFrame } from './frame.ts';
import { DEFAULT_TZ, dataOptions } from './options.ts';

/**
 * The replay of a run on a model, as `npm run backtest` does it: a model's features need each symbol's whole
 * history, so the chunks are collected, predicted in one batch, then replayed; bars the model was trained on make
 * in-sample results (the run goes ahead, flagged: `inSample`).
 */
export async function runOnModel(
  data: RunData,
  config: BacktestConfig,
  slots: SlotSpec[],
  strategy: { name: string; model: string },
): Promise<{ result: BacktestResult; inSample?: InSample }> {
  const model = await loadModel(modelDir(strategy.model));
  try {
    const series = await collectChunks(data.chunks);
    const inSample = inSampleOf({ strategy: strategy.name, model: strategy.model, card: model.card, series, scope: 'run' });
    const result = runBacktest(series, config, slots, data.sectors, { signals: await predictHistory(model, series) });
    return { result, inSample };
  } finally {
    await model.model.close();
  }
}

/** What tb.train (and npm run train) trains on and how. Every field has the CLI's default. */
export interface TrainOptions {
  /** 'gbt' (default, gradient-boosted trees) | 'logistic' */
  model?: ModelKind;
  /** a .duckdb file, a CSV/Parquet file or a folder of them (default: the bundled sample's database) */
  data?: string;
  /** symbols to learn from (default: every symbol of the interval in the data) */
  symbols?: string[];
  /** default 1d */
  interval?: Interval;
  /** exchange time zone of intraday data (default America/New_York) */
  tz?: string;
  /** the label: sign of the close-to-close return over the next N bars (default 5) */
  horizon?: number;
  /** YYYY-MM-DD: the model trains on bars before it (purged) and is evaluated from it (default 2016-01-01) */
  testFrom?: string;
  /** walk-forward folds in the test period for the card (default 4) */
  folds?: number;
  /**
   * the model folder, relative to the working directory (default models/<model>-<interval>, only while it holds
   * no model: an existing model is replaced only when `out` names it)
   */
  out?: string;
  /** the trees' settings (API only; default 100 trees of depth 3, as npm run train) */
  gbtOptions?: GbtOptions;
}

/** ONNX runs in float32; a prediction off by more than this from the TypeScript model is an export bug. */
const ONNX_TOLERANCE = 1e-6;

/** A trained model as written: its folder, its card (as on disk) and the lines `npm run train` prints. */
export interface TrainedModel {
  dir: string;
  card: ModelCard;
  lines: string[];
}

/**
 * Trains a model on stored bars (features and labels from engine/ml, split by time), exports it as ONNX, checks
 * onnxruntime reproduces it, backtests ml-signal on it out of sample and writes its model card: all or nothing
 * (staged beside `out`, moved in when every check passed). `npm run train` and tb.train.
 */
export async function trainModel(
  o: {
    kind: ModelKind;
    data: RunDataOptions;
    /** what the card names as the data's source (default: the loaded data's) */
    source?: string;
    horizon: number;
    /** YYYY-MM-DD */
    testFrom: string;
    folds: number;
    /** absolute */
    out: string;
    /** refuse when `out` already holds a model (no folder was named) */
    keepExisting: boolean;
    gbtOptions?: GbtOptions;
  },
  hooks: { step?: (what: string) => void; log?: (line: string) => void } = {},
): Promise<TrainedModel> {
  const step = hooks.step ?? (() => {});
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    hooks.log?.(line);
  };
  const { kind, horizon, folds, out } = o;
  const { interval, tz } = o.data;
  const testFrom = parseDay('test-from', o.testFrom, interval, tz, false);
  // a model is replaced only when asked by name: the default folder may hold a committed model (models/gbt-daily)
  if (o.keepExisting) refuseExistingModel(out);

  step(`loading ${interval} bars`);
  // features are returns: trained on adjusted prices, so a split is never a move (models/gbt-daily's data hash)
  const loaded = await loadRunSeries({ ...o.data, prices: 'adjusted' });
  const { series } = loaded;
  const source = o.source ?? loaded.source;
  const symbols = series.map((s) => s.symbol);
  const started = performance.now();
  step(`features and ${kind} training over ${series.length} symbols`);
  const t = trainOnHistory({ series, kind, horizon, testFrom, folds, gbtOptions: o.gbtOptions });
  const trainSeconds = (performance.now() - started) / 1000;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  log(
    `${kind}: ${t.train.length} training rows (${t.trainScores.from} .. ${t.trainScores.to}), ${t.test.length} test rows (${t.testScores.from} .. ${t.testScores.to}), trained in ${trainSeconds.toFixed(1)} s`,
  );

  const card: Omit<ModelCard, 'file' | 'sha256'> = {
    name: path.basename(out),
    version: `${kind}-${t.trainScores.to}`,
    description: `${kind === 'gbt' ? 'gradient-boosted trees' : 'logistic regression'} trained by npm run train: P(close in ${horizon} bars > close now)`,
    input: INPUT_NAME,
    output: OUTPUT_NAME,
    features: [...FEATURE_NAMES],
    label: { kind: 'forward-return-sign', horizon, definition: `1 if close[t+${horizon}] / close[t] - 1 > 0 else 0 (same symbol, ${horizon} bars later)` },
    training: {
      symbols,
      interval,
      source,
      from: t.trainScores.from,
      to: t.trainScores.to,
      rows: t.train.length,
      purge: `training rows whose label is decided on or after ${isoDate(testFrom)} are dropped`,
      dataHash: dataHash(series),
      scores: t.trainScores,
    },
    evaluation: { outOfSample: t.testScores, walkForward: t.walkForward },
  };
  // all or nothing: the model is written and checked in a folder beside `out` (same file system), and only
  // a model that passed every check is moved into `out`; any failure leaves the previous model as it was
  const stage = `${out}.staging-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  let written: ModelCard;
  try {
    step('exporting to ONNX and checking onnxruntime reproduces the model');
    writeModel(stage, t.onnx, card);

    // the exported file, run by onnxruntime, must reproduce the TypeScript model
    const model = await loadModel(stage);
    try {
      const onnx = await model.model.predictBatch(t.test.X, t.test.length);
      let worst = 0;
      for (let i = 0; i < onnx.length; i++) worst = Math.max(worst, Math.abs(onnx[i] - t.testPredictions[i]));
      if (worst > ONNX_TOLERANCE) throw new Error(`${out}/model.onnx differs from the TypeScript model by ${worst} (> ${ONNX_TOLERANCE}): the export is wrong`);

      // the signal traded out of sample: ml-signal on this model, warmed up before testFrom, measured from it
      const config: BacktestConfig = {
        strategy: 'ml-signal',
        params: { model: path.relative(repoRoot(), out) },
        symbols,
        interval,
        cash: 100_000,
        commission: { model: 'ibkr-fixed' },
        slippage: { model: 'none' },
        sizing: { kind: 'all-in' },
        risk: RESEARCH_RISK,
        volumeCap: 0,
        bracketTie: 'stop',
        tz,
        rfAnnual: 0,
      };
      step(`backtesting ml-signal from ${isoDate(testFrom)}`);
      const signals = await predictHistory(model, series);
      const r = runBacktest(series, config, buildSlots(config.strategy, config.params, symbols), undefined, { warmUpUntil: testFrom, signals });
      const m = computeMetrics({
        equity: r.journal.equityCurve,
        exposure: r.journal.equityCurve.map((e) => e.gross),
        trades: r.engine.trades,
        fills: r.journal.fills,
      });
      const backtest = {
        strategy: 'ml-signal (default params)',
        from: isoDate(testFrom),
        sharpe: m.sharpe,
        cagr: m.cagr,
        maxDrawdown: m.maxDrawdown,
        trades: m.tradeCount,
        commission: 'ibkr-fixed',
      };
      written = writeModel(stage, t.onnx, { ...card, evaluation: { ...card.evaluation, onnxMaxAbsDiff: worst, backtest } });
      log(
        `out of sample: accuracy ${pct(t.testScores.accuracy)} (always-up ${pct(t.testScores.baseRate)}), AUC ${t.testScores.auc.toFixed(3)}; walk-forward AUC ${t.walkForward.map((f) => f.auc.toFixed(3)).join(', ')}`,
      );
      log(
        `ml-signal from ${isoDate(testFrom)}: Sharpe ${m.sharpe?.toFixed(2) ?? '—'}, CAGR ${m.cagr === null ? '—' : pct(m.cagr)}, max drawdown ${pct(m.maxDrawdown)}, ${m.tradeCount} trades; ONNX vs TypeScript max |diff| ${worst.toExponential(1)}`,
      );
    } finally {
      await model.model.close();
    }
    // the model first, its card last: a card never describes a file that is not there
    try {
      mkdirSync(out, { recursive: true });
      for (const f of ['model.onnx', 'card.json']) renameSync(path.join(stage, f), path.join(out, f));
    } catch (e) {
      throw describeOutputFailure(e, path.join(out, 'model.onnx'), { elsewhere: 'use --out on another disk' });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code && /^E[A-Z]+$/.test(code) ? describeOutputFailure(e, path.join(out, 'model.onnx'), { elsewhere: 'use --out on another disk' }) : e;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  log(`wrote ${path.relative(process.cwd(), out)}/model.onnx and card.json`);
  return { dir: out, card: written, lines };
}

/** Without an output folder named, one that already holds a model (its card or its .onnx) is left alone: the run stops, before reading any data. */
export function refuseExistingModel(out: string): void {
  if (!['card.json', 'model.onnx'].some((f) => existsSync(path.join(out, f)))) return;
  const rel = path.relative(process.cwd(), out) || '.';
  throw new Error(
    `${rel} already holds a model, and npm run train without --out never replaces one (a model, such as the committed ` +
      `models/gbt-daily, is replaced only when --out names it): pass --out ${rel} to retrain it in place, or --out models/NAME for a new model`,
  );
}

/** The default model folder of `npm run train`: models/<kind>-daily (or -<interval>) in the repository. */
export const defaultModelDir = (kind: ModelKind, interval: Interval): string =>
  path.join(repoRoot(), 'models', `${kind}-${interval === '1d' ? 'daily' : interval}`);

/** A trained model for a notebook: where it is, its card, and its scores as a table. */
export interface Training {
  /** the model folder: the `model` param of ml-signal (tb.backtest({ strategy: 'ml-signal', params: { model: dir } })) */
  dir: string;
  /** its card.json */
  cardPath: string;
  /** the card as written */
  card: ModelCard;
  /**
   * one row per scored period: `train` (the training rows), `test` (out of sample, from testFrom), then `fold 1`..
   * (the walk-forward folds, each trained on everything before it); columns set, trainTo (the last training day of
   * the model scored: the final model's for train and test), from, to (Dates), rows, baseRate (the accuracy of
   * always saying up), accuracy, auc
   */
  metrics: DataFrame;
  /** the card's out-of-sample backtest of ml-signal with default params on this model */
  backtest: Record<string, unknown>;
}

/**
 * Trains a model the way `npm run train` does (same defaults, same card, same checks: ONNX reproduces the
 * TypeScript model, ml-signal backtested out of sample) and prints the lines it prints. Without `out` it writes
 * models/<model>-daily and refuses when that folder already holds a model, as the CLI does.
 */
export async function train(o: TrainOptions = {}): Promise<Training> {
  const kind = o.model ?? 'gbt';
  if (kind !== 'gbt' && kind !== 'logistic') throw new Error(`train: model must be gbt or logistic, got '${String(kind)}'`);
  const horizon = o.horizon ?? 5;
  const folds = o.folds ?? 4;
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 1000) throw new Error(`train: horizon must be an integer from 1 to 1000, got ${horizon}`);
  if (!Number.isInteger(folds) || folds < 1 || folds > 100) throw new Error(`train: folds must be an integer from 1 to 100, got ${folds}`);
  const { options, source } = await dataOptions({ data: o.data, symbols: o.symbols, interval: o.interval ?? '1d', tz: o.tz ?? DEFAULT_TZ });
  const out = o.out === undefined ? defaultModelDir(kind, options.interval) : path.resolve(o.out);
  const t = await trainModel(
    { kind, data: options, source, horizon, testFrom: o.testFrom ?? '2016-01-01', folds, out, keepExisting: o.out === undefined, gbtOptions: o.gbtOptions },
    { log: (line) => console.log(line) },
  );
  const e = t.card.evaluation as { outOfSample: Scores; walkForward: (Scores & { trainTo: string })[]; backtest: Record<string, unknown> };
  const trained = t.card.training?.scores as Scores;
  // the train and test rows are scored by the final model (trained up to the training rows' end), each fold by its own
  const rows: (Scores & { set: string; trainTo: string })[] = [
    { ...trained, set: 'train', trainTo: trained.to },
    { ...e.outOfSample, set: 'test', trainTo: trained.to },
    ...e.walkForward.map((f, i) => ({ ...f, set: `fold ${i + 1}` })),
  ];
  // danfojs-node only here: npm run train (trainModel) never loads it
  const { date, frame, num } = await import('./frame.ts');
  const metrics = frame({
    set: rows.map((r) => r.set),
    trainTo: rows.map((r) => date(r.trainTo)),
    from: rows.map((r) => date(r.from)),
    to: rows.map((r) => date(r.to)),
    rows: rows.map((r) => r.rows),
    baseRate: rows.map((r) => num(r.baseRate)),
    accuracy: rows.map((r) => num(r.accuracy)),
    auc: rows.map((r) => num(r.auc)),
  });
  return { dir: t.dir, cardPath: path.join(t.dir, 'card.json'), card: t.card, metrics, backtest: e.backtest };
}
