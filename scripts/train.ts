// npm run train -- [--model gbt|logistic] [--symbols A,B] [--data PATH] [--horizon 5] [--test-from 2016-01-01] [--out models/NAME]
// Trains a model on stored bars (features and labels from engine/ml, split by time), exports it as ONNX,
// checks onnxruntime reproduces it, backtests ml-signal on it out of sample and writes its model card.
import path from 'node:path';
import { defaultModelDir, trainModel } from '../engine/api/ml.ts';
import type { ModelKind } from '../engine/ml/train-run.ts';
import { parseDay } from './lib/run-data.ts';
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
  parseDay('test-from', v['test-from'], interval, v.tz, false); // checked before anything else
  const out = path.resolve(v.out ?? defaultModelDir(kind, interval));
  // the training, its checks and its card: engine/api/ml.ts (tb.train runs the same)
  await trainModel(
    {
      kind,
      data: { data: v.data, symbols: v.symbols, interval, tz: v.tz },
      horizon: v.horizon,
      testFrom: v['test-from'],
      folds: v.folds,
      out,
      keepExisting: v.out === undefined,
    },
    { step, log: (line) => console.log(line) },
  );
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
