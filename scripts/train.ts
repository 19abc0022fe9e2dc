// npm run train -- [--model gbt|logistic] [--symbols A,B] [--data PATH] [--horizon 5] [--test-from 2016-01-01] [--out models/NAME]
// Trains a model on stored bars (features and labels from engine/ml, split by time), exports it as ONNX,
// checks onnxruntime reproduces it, backtests ml-signal on it out of sample and writes its model card.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { computeMetrics } from '../engine/metrics/metrics.ts';
import { FEATURE_NAMES } from '../engine/ml/features.ts';
import { loadModel, writeModel, type ModelCard } from '../engine/ml/model-card.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../engine/ml/onnx-export.ts';
import { predictHistory } from '../engine/ml/predictions.ts';
import { trainOnHistory, type ModelKind } from '../engine/ml/train-run.ts';
import { repoRoot } from '../engine/paths.ts';
import { isoDate } from '../engine/core/dates.ts';
import { describeOutputFailure } from '../engine/report/write.ts';
import { dataHash } from '../engine/research/promotion.ts';
import { RESEARCH_RISK } from '../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots } from '../strategies/index.ts';
import { loadRunSeries, parseDay } from './lib/run-data.ts';
import { defineFlags, flagHelp, parseFlags } from './lib/flags.ts';
import { INTERVALS } from './lib/run-options.ts';

const FLAGS = defineFlags({
  model: { kind: 'choice', choices: ['gbt', 'logistic'], default: 'gbt', help: 'gradient-boosted trees (default) or logistic regression' },
  symbols: { kind: 'list', upper: true, help: 'symbols to learn from (default: every symbol in the data)' },
  data: { kind: 'string', arg: 'PATH', help: 'CSV/Parquet file or folder, or a .duckdb (default: the bundled sample, data/sample.duckdb)' },
  interval: { kind: 'choice', choices: INTERVALS, default: '1d', help: 'bar interval' },
  tz: { kind: 'string', default: 'America/New_York', arg: 'ZONE', help: 'exchange time zone for intraday data' },
  horizon: { kind: 'integer', default: 5, min: 1, max: 1000, help: 'label: sign of the close-to-close return over the next N bars (default 5)' },
  'test-from': {
    kind: 'string',
    default: '2016-01-01',
    arg: 'DAY',
    help: 'the model trains on bars before it (purged) and is evaluated from it (default 2016-01-01)',
  },
  folds: { kind: 'integer', default: 4, min: 1, max: 100, help: 'walk-forward folds in the test period for the card (default 4)' },
  out: {
    kind: 'string',
    nonEmpty: true,
    arg: 'DIR',
    help: 'model folder (default models/<model>-<interval>, only while it holds no model:\nan existing model, such as the committed models/gbt-daily, is replaced only when --out names it)',
  },
});

const HELP = `usage: npm run train -- [options]
${flagHelp(FLAGS)}
Writes DIR/model.onnx and DIR/card.json (features, label, training window, data hash, out-of-sample accuracy,
AUC and the out-of-sample backtest of ml-signal on it). Without --out it never replaces a model: it refuses when
the default folder already holds one (models/gbt-daily is committed: npm run train -- --out models/gbt-daily
retrains it on the bundled sample).`;

/** ONNX runs in float32; a prediction off by more than this from the TypeScript model is an export bug. */
const ONNX_TOLERANCE = 1e-6;

/** What the run is doing, one line a step on stderr, on a terminal only (quiet in CI and when piped). */
const showSteps = process.stderr.isTTY === true && process.env.CI !== 'true';
function step(what: string): void {
  if (showSteps) process.stderr.write(`${what} ...\n`);
}

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(HELP);
  const kind: ModelKind = v.model;
  const interval = v.interval;
  const horizon = v.horizon;
  const folds = v.folds;
  const testFrom = parseDay('test-from', v['test-from'], interval, v.tz, false);
  const out = path.resolve(v.out ?? path.join(repoRoot(), 'models', `${kind}-${interval === '1d' ? 'daily' : interval}`));
  // a model is replaced only when asked by name: the default folder may hold a committed model (models/gbt-daily)
  if (v.out === undefined) refuseExistingModel(out);

  step(`loading ${v.interval} bars`);
  // features are returns: trained on adjusted prices, so a split is never a move (models/gbt-daily's data hash)
  const { series, source } = await loadRunSeries({ data: v.data, symbols: v.symbols, interval, tz: v.tz, prices: 'adjusted' });
  const symbols = series.map((s) => s.symbol);
  const started = performance.now();
  step(`features and ${kind} training over ${series.length} symbols`);
  const t = trainOnHistory({ series, kind, horizon, testFrom, folds });
  const trainSeconds = (performance.now() - started) / 1000;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
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
  try {
    step('exporting to ONNX and checking onnxruntime reproduces the model');
    writeModel(stage, t.onnx, card);

    // the exported file, run by onnxruntime, must reproduce the TypeScript model
    const loaded = await loadModel(stage);
    try {
      const onnx = await loaded.model.predictBatch(t.test.X, t.test.length);
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
        tz: v.tz,
        rfAnnual: 0,
      };
      step(`backtesting ml-signal from ${isoDate(testFrom)}`);
      const signals = await predictHistory(loaded, series);
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
      writeModel(stage, t.onnx, { ...card, evaluation: { ...card.evaluation, onnxMaxAbsDiff: worst, backtest } });
      console.log(
        `out of sample: accuracy ${pct(t.testScores.accuracy)} (always-up ${pct(t.testScores.baseRate)}), AUC ${t.testScores.auc.toFixed(3)}; walk-forward AUC ${t.walkForward.map((f) => f.auc.toFixed(3)).join(', ')}`,
      );
      console.log(
        `ml-signal from ${isoDate(testFrom)}: Sharpe ${m.sharpe?.toFixed(2) ?? '—'}, CAGR ${m.cagr === null ? '—' : pct(m.cagr)}, max drawdown ${pct(m.maxDrawdown)}, ${m.tradeCount} trades; ONNX vs TypeScript max |diff| ${worst.toExponential(1)}`,
      );
    } finally {
      await loaded.model.close();
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
  console.log(`wrote ${path.relative(process.cwd(), out)}/model.onnx and card.json`);
}

/** Without --out, a folder that already holds a model (its card or its .onnx) is left alone: the run stops, before reading any data. */
function refuseExistingModel(out: string): void {
  if (!['card.json', 'model.onnx'].some((f) => existsSync(path.join(out, f)))) return;
  const rel = path.relative(process.cwd(), out) || '.';
  throw new Error(
    `${rel} already holds a model, and npm run train without --out never replaces one (a model, such as the committed ` +
      `models/gbt-daily, is replaced only when --out names it): pass --out ${rel} to retrain it in place, or --out models/NAME for a new model`,
  );
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
