// Labels and training/test datasets from batched features, with purging of label overlap.
//
// A row at bar t has features known at t's close and a label decided by close[t+horizon] of the same
// symbol (horizon counts that symbol's bars), so its information spans [ts[t], labelTs] with
// labelTs = ts[t+horizon]. A training row whose labelTs >= testFrom has seen a price inside the test
// window: `purge` drops those rows, which in effect ends each symbol's training rows `horizon` bars
// before testFrom. `splitByTime` does both and is the way to cut a walk-forward fold.
import type { BarSeries, EpochMs } from '../core/types.ts';
import { forEachSlice } from './features-batch.ts';
import { NF } from './features-spec.ts';

/** label[t] = 1 if close[t+horizon]/close[t] - 1 > 0 else 0; NaN for the last `horizon` bars. */
export function forwardReturnLabels(series: BarSeries, horizon: number): Float64Array {
  checkHorizon(horizon);
  const c = series.close;
  const y = new Float64Array(c.length).fill(NaN);
  for (let t = 0; t + horizon < c.length; t++) y[t] = c[t + horizon] / c[t] - 1 > 0 ? 1 : 0;
  return y;
}

export interface Dataset {
  /** rows, ordered by ts then sid */
  length: number;
  nFeatures: number;
  /** length x nFeatures, row-major */
  X: Float64Array;
  y: Float64Array;
  ts: Float64Array;
  /** index of the row's series in the `series` argument */
  sid: Int32Array;
  /** ts of the bar whose close decides the label (t + horizon bars of the same symbol) */
  labelTs: Float64Array;
}

export interface DatasetOptions {
  horizon: number;
  /** first row ts to include (inclusive); default: all */
  from?: EpochMs;
  /** last row ts to include (inclusive); default: all */
  to?: EpochMs;
}

/** The rows whose features are all finite and whose label is known, with ts in [from, to]. */
export function buildDataset(series: readonly BarSeries[], features: readonly Float64Array[], opts: DatasetOptions): Dataset {
  const { horizon, from = -Infinity, to = Infinity } = opts;
  checkHorizon(horizon);
  if (features.length !== series.length) throw new Error(`buildDataset: ${series.length} series but ${features.length} feature matrices`);
  series.forEach((s, i) => {
    if (features[i].length !== s.ts.length * NF)
      throw new Error(`buildDataset: features of ${s.symbol} hold ${features[i].length} values, expected ${s.ts.length} x ${NF}`);
  });
  const labels = series.map((s) => forwardReturnLabels(s, horizon));
  const usable = (s: number, t: number): boolean => {
    const ts = series[s].ts[t];
    if (!(ts >= from && ts <= to) || Number.isNaN(labels[s][t])) return false;
    const f = features[s];
    for (let j = t * NF; j < (t + 1) * NF; j++) if (!Number.isFinite(f[j])) return false;
    return true;
  };
  const tsArrays = series.map((s) => s.ts);
  let n = 0;
  forEachSlice(tsArrays, (_t, sids, idx, count) => {
    for (let k = 0; k < count; k++) if (usable(sids[k], idx[k])) n++;
  });
  const ds = emptyDataset(n);
  let r = 0;
  forEachSlice(tsArrays, (t, sids, idx, count) => {
    for (let k = 0; k < count; k++) {
      const s = sids[k];
      const i = idx[k];
      if (!usable(s, i)) continue;
      ds.X.set(features[s].subarray(i * NF, (i + 1) * NF), r * NF);
      ds.y[r] = labels[s][i];
      ds.ts[r] = t;
      ds.sid[r] = s;
      ds.labelTs[r] = series[s].ts[i + horizon];
      r++;
    }
  });
  return ds;
}

/** The rows whose label is decided strictly before `testFrom` (labelTs < testFrom). */
export function purge(ds: Dataset, testFrom: EpochMs): Dataset {
  return select(ds, (r) => ds.labelTs[r] < testFrom);
}

export interface SplitOptions {
  horizon: number;
  /** first training row ts (inclusive); default: all history */
  trainFrom?: EpochMs;
  /** first test row ts (inclusive); training rows are before it and purged against it */
  testFrom: EpochMs;
  /** last test row ts (inclusive); default: all */
  testTo?: EpochMs;
}

/**
 * A forward split: test = rows with ts in [testFrom, testTo]; train = rows before testFrom whose label
 * is decided before testFrom too (see the header), so no training label uses a test-window price.
 */
export function splitByTime(series: readonly BarSeries[], features: readonly Float64Array[], opts: SplitOptions): { train: Dataset; test: Dataset } {
  const { horizon, trainFrom, testFrom, testTo } = opts;
  const all = buildDataset(series, features, { horizon, from: trainFrom, to: testTo });
  return {
    train: select(all, (r) => all.ts[r] < testFrom && all.labelTs[r] < testFrom),
    test: select(all, (r) => all.ts[r] >= testFrom),
  };
}

function select(ds: Dataset, keep: (r: number) => boolean): Dataset {
  let n = 0;
  for (let r = 0; r < ds.length; r++) if (keep(r)) n++;
  const out = emptyDataset(n);
  let w = 0;
  for (let r = 0; r < ds.length; r++) {
    if (!keep(r)) continue;
    out.X.set(ds.X.subarray(r * NF, (r + 1) * NF), w * NF);
    out.y[w] = ds.y[r];
    out.ts[w] = ds.ts[r];
    out.sid[w] = ds.sid[r];
    out.labelTs[w] = ds.labelTs[r];
    w++;
  }
  return out;
}

function emptyDataset(n: number): Dataset {
  return {
    length: n,
    nFeatures: NF,
    X: new Float64Array(n * NF),
    y: new Float64Array(n),
    ts: new Float64Array(n),
    sid: new Int32Array(n),
    labelTs: new Float64Array(n),
  };
}

function checkHorizon(h: number): void {
  if (!Number.isInteger(h) || h < 1) throw new Error(`horizon must be a whole number of bars >= 1, got ${h}`);
}
