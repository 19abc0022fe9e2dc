// npm run train -- [--model gbt|logistic] [--symbols A,B] [--data PATH] [--horizon 5] [--test-from 2016-01-01] [--out models/NAME]
// Trains a model on stored bars (features and labels from engine/ml, split by time), exports it as ONNX,
// checks onnxruntime reproduces it, backtests ml-signal on it out of sample and writes its model card.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { computeMetrics } from '../engine/metrics/metrics.ts';
import { FEATURE_NAMES } from '../engine/ml/features.ts';
import { loadModel, writeModel, type ModelCard } from '../engine/ml/model-card.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../engine/ml/onnx-export.ts';
import { predictHistory } from '../engine/ml/predictions.ts';
import { trainOnHistory, type ModelKind } from '../engine/ml/train-run.ts';
import { repoRoot } from '../engine/paths.ts';
import { isoDate } from '../engine/report/format.ts';
import { dataHash } from '../engine/research/promotion.ts';
import { RESEARCH_RISK } from '../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots } from '../strategies/index.ts';
import { loadRunSeries, parseDay } from './lib/run-data.ts';
import { numberFlag, symbolsFlag } from './lib/run-options.ts';

const HELP = `usage: npm run train -- [options]
  --model gbt|logistic   gradient-boosted trees (default) or logistic regression
  --symbols A,B          symbols to learn from (default: every symbol in the data)
  --data PATH            CSV/Parquet file or folder, or a .duckdb (default: the bundled sample)
  --interval 1d          bar interval
  --horizon N            label: sign of the close-to-close return over the next N bars (default 5)
  --test-from DAY        the model trains on bars before it (purged) and is evaluated from it (default 2016-01-01)
  --folds N              walk-forward folds in the test period for the card (default 4)
  --out DIR              model folder (default models/<model>-<interval>)
Writes DIR/model.onnx and DIR/card.json (features, label, training window, data hash, out-of-sample accuracy,
AUC and the out-of-sample backtest of ml-signal on it).`;

/** ONNX runs in float32; a prediction off by more than this from the TypeScript model is an export bug. */
const ONNX_TOLERANCE = 1e-6;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      model: { type: 'string', default: 'gbt' },
      symbols: { type: 'string' },
      data: { type: 'string' },
      interval: { type: 'string', default: '1d' },
      tz: { type: 'string', default: 'America/New_York' },
      horizon: { type: 'string', default: '5' },
      'test-from': { type: 'string', default: '2016-01-01' },
      folds: { type: 'string', default: '4' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(HELP);
  if (v.model !== 'gbt' && v.model !== 'logistic') throw new Error(`--model must be gbt or logistic, got '${v.model}'`);
  const kind = v.model as ModelKind;
  const interval = parseInterval(v.interval!);
  const horizon = numberFlag('horizon', v.horizon)!;
  const folds = numberFlag('folds', v.folds)!;
  if (!Number.isInteger(folds) || folds < 1) throw new Error(`--folds must be a whole number >= 1, got ${v.folds}`);
  const testFrom = parseDay('test-from', v['test-from']!, interval, v.tz!, false);
  const out = path.resolve(v.out ?? path.join(repoRoot(), 'models', `${kind}-${interval === '1d' ? 'daily' : interval}`));

  const { series, source } = await loadRunSeries({ data: v.data, symbols: symbolsFlag(v.symbols), interval, tz: v.tz! });
  const symbols = series.map((s) => s.symbol);
  const started = performance.now();
  const t = trainOnHistory({ series, kind, horizon, testFrom, folds });
  const trainSeconds = (performance.now() - started) / 1000;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`${kind}: ${t.train.length} training rows (${t.trainScores.from} .. ${t.trainScores.to}), ${t.test.length} test rows (${t.testScores.from} .. ${t.testScores.to}), trained in ${trainSeconds.toFixed(1)} s`);

  const card: Omit<ModelCard, 'file' | 'sha256'> = {
    name: path.basename(out),
    version: `${kind}-${t.trainScores.to}`,
    description: `${kind === 'gbt' ? 'gradient-boosted trees' : 'logistic regression'} trained by npm run train: P(close in ${horizon} bars > close now)`,
    input: INPUT_NAME,
    output: OUTPUT_NAME,
    features: [...FEATURE_NAMES],
    label: { kind: 'forward-return-sign', horizon, definition: `1 if close[t+${horizon}] / close[t] - 1 > 0 else 0 (same symbol, ${horizon} bars later)` },
    training: {
      symbols, interval, source, from: t.trainScores.from, to: t.trainScores.to, rows: t.train.length,
      purge: `training rows whose label is decided on or after ${isoDate(testFrom)} are dropped`,
      dataHash: dataHash(series), scores: t.trainScores,
    },
    evaluation: { outOfSample: t.testScores, walkForward: t.walkForward },
  };
  writeModel(out, t.onnx, card);

  // the exported file, run by onnxruntime, must reproduce the TypeScript model
  const loaded = await loadModel(out);
  try {
    const onnx = await loaded.model.predictBatch(t.test.X, t.test.length);
    let worst = 0;
    for (let i = 0; i < onnx.length; i++) worst = Math.max(worst, Math.abs(onnx[i] - t.testPredictions[i]));
    if (worst > ONNX_TOLERANCE) throw new Error(`${out}/model.onnx differs from the TypeScript model by ${worst} (> ${ONNX_TOLERANCE}): the export is wrong`);

    // the signal traded out of sample: ml-signal on this model, warmed up before testFrom, measured from it
    const config: BacktestConfig = {
      strategy: 'ml-signal', params: { model: path.relative(repoRoot(), out) }, symbols, interval, cash: 100_000,
      commission: { model: 'ibkr-fixed' }, slippage: { model: 'none' }, sizing: { kind: 'all-in' }, risk: RESEARCH_RISK,
      volumeCap: 0, bracketTie: 'stop', tz: v.tz!, rfAnnual: 0,
    };
    const signals = await predictHistory(loaded, series);
    const r = runBacktest(series, config, buildSlots(config.strategy, config.params, symbols), undefined, { warmUpUntil: testFrom, signals });
    const m = computeMetrics({ equity: r.journal.equityCurve, exposure: r.journal.equityCurve.map((e) => e.gross), trades: r.engine.trades, fills: r.journal.fills });
    const backtest = { strategy: 'ml-signal (default params)', from: isoDate(testFrom), sharpe: m.sharpe, cagr: m.cagr, maxDrawdown: m.maxDrawdown, trades: m.tradeCount, commission: 'ibkr-fixed' };
    writeModel(out, t.onnx, { ...card, evaluation: { ...card.evaluation, onnxMaxAbsDiff: worst, backtest } });
    console.log(`out of sample: accuracy ${pct(t.testScores.accuracy)} (always-up ${pct(t.testScores.baseRate)}), AUC ${t.testScores.auc.toFixed(3)}; walk-forward AUC ${t.walkForward.map((f) => f.auc.toFixed(3)).join(', ')}`);
    console.log(`ml-signal from ${isoDate(testFrom)}: Sharpe ${m.sharpe?.toFixed(2) ?? '—'}, CAGR ${m.cagr === null ? '—' : pct(m.cagr)}, max drawdown ${pct(m.maxDrawdown)}, ${m.tradeCount} trades; ONNX vs TypeScript max |diff| ${worst.toExponential(1)}`);
    console.log(`wrote ${path.relative(process.cwd(), out)}/model.onnx and card.json`);
  } finally {
    await loaded.model.close();
  }
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
