// Training on stored history: features, labels, a time split (never shuffled across time), a model
// fitted in TypeScript, its ONNX file and a walk-forward evaluation. npm run train and notebook 06 call it.
import type { BarSeries, EpochMs } from '../core/types.ts';
import { isoDate } from '../core/dates.ts';
import { accuracy, auc } from './evaluate.ts';
import { batchFeatures, FEATURE_NAMES, splitByTime, type Dataset } from './features.ts';
import * as gbt from './gbt.ts';
import * as logistic from './logistic.ts';
import { gbtToOnnx, logisticToOnnx } from './onnx-export.ts';

export type ModelKind = 'logistic' | 'gbt';

export interface TrainSpec {
  series: BarSeries[];
  kind: ModelKind;
  /** the label: sign of the close-to-close return over this many bars */
  horizon: number;
  /** the final model trains on rows before this (purged: no label decided at or after it) and is tested from it */
  testFrom: EpochMs;
  /** walk-forward folds inside the test period: train on everything before each fold, test on the fold */
  folds: number;
  gbtOptions?: gbt.GbtOptions;
  logisticOptions?: logistic.LogisticOptions;
}

export interface Scores {
  from: string;
  to: string;
  rows: number;
  /** share of up labels: the accuracy of always saying "up" */
  baseRate: number;
  accuracy: number;
  auc: number;
}

export interface TrainOutcome {
  kind: ModelKind;
  model: logistic.LogisticModel | gbt.GbtModel;
  onnx: Uint8Array;
  train: Dataset;
  test: Dataset;
  /** the final model's predictions on the test rows (TypeScript, float64) */
  testPredictions: Float64Array;
  testScores: Scores;
  trainScores: Scores;
  walkForward: (Scores & { trainTo: string })[];
}

function fit(spec: TrainSpec, ds: Dataset) {
  const nf = FEATURE_NAMES.length;
  if (spec.kind === 'logistic') {
    const m = logistic.train(ds.X, ds.y, nf, spec.logisticOptions);
    return { model: m, predict: (rows: Float64Array) => logistic.predict(m, rows, nf) };
  }
  const m = gbt.train(ds.X, ds.y, nf, spec.gbtOptions);
  return { model: m, predict: (rows: Float64Array) => gbt.predict(m, rows, nf) };
}

function scores(ds: Dataset, p: Float64Array): Scores {
  let up = 0;
  for (let i = 0; i < ds.length; i++) up += ds.y[i];
  return {
    from: isoDate(ds.ts[0]),
    to: isoDate(ds.ts[ds.length - 1]),
    rows: ds.length,
    baseRate: up / ds.length,
    accuracy: accuracy(p, ds.y),
    auc: auc(p, ds.y),
  };
}

/** Equal time slices of [from, to]: the folds' start instants (the first is `from`). */
function foldStarts(from: EpochMs, to: EpochMs, folds: number): EpochMs[] {
  return Array.from({ length: folds }, (_, i) => from + Math.floor(((to - from) * i) / folds));
}

export function trainOnHistory(spec: TrainSpec): TrainOutcome {
  const features = batchFeatures(spec.series);
  const split = splitByTime(spec.series, features, { horizon: spec.horizon, testFrom: spec.testFrom });
  const { train, test } = split;
  if (train.length < 500) throw new Error(`only ${train.length} training rows before ${isoDate(spec.testFrom)}: move --test-from later or add symbols`);
  if (test.length < 100) throw new Error(`only ${test.length} test rows from ${isoDate(spec.testFrom)}: move --test-from earlier`);
  const final = fit(spec, train);
  const testPredictions = final.predict(test.X);

  const last = test.ts[test.length - 1];
  const starts = foldStarts(spec.testFrom, last + 1, spec.folds);
  const walkForward = starts.map((from, i) => {
    const to = i + 1 < starts.length ? starts[i + 1] - 1 : last;
    const fold = splitByTime(spec.series, features, { horizon: spec.horizon, testFrom: from, testTo: to });
    const m = fit(spec, fold.train);
    return { trainTo: isoDate(fold.train.ts[fold.train.length - 1]), ...scores(fold.test, m.predict(fold.test.X)) };
  });

  const meta = { features: FEATURE_NAMES.join(','), horizon: String(spec.horizon), trainedTo: isoDate(train.ts[train.length - 1]) };
  const onnx = spec.kind === 'logistic' ? logisticToOnnx(final.model as logistic.LogisticModel, meta) : gbtToOnnx(final.model as gbt.GbtModel, meta);
  return {
    kind: spec.kind,
    model: final.model,
    onnx,
    train,
    test,
    testPredictions,
    testScores: scores(test, testPredictions),
    trainScores: scores(train, final.predict(train.X)),
    walkForward,
  };
}
