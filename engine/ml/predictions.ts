// Model predictions for runs: batched over stored history for backtests, one bar at a time live.
// Both read the same features (batched and streaming pipelines agree) and the same ONNX session.
import type { SignalBoard, SignalSource } from '../core/signals.ts';
import type { Bar, BarSeries } from '../core/types.ts';
import { adjustedSeries } from '../data/actions.ts';
import { batchFeatures, FeaturePipeline, NF } from './features.ts';
import { selectColumns, type LoadedModel } from './model-card.ts';

/** Predictions over stored history: per symbol, a value per bar (NaN until the features are warm). */
export class PredictionTable implements SignalSource {
  private readonly cursor: Int32Array;
  constructor(
    readonly ts: readonly Float64Array[],
    readonly values: readonly Float64Array[],
  ) {
    this.cursor = new Int32Array(ts.length);
  }
  /** Bars come in time order per symbol, so a cursor per symbol finds each bar's value; a new run over the same table starts it again. */
  fill(bars: readonly Bar[], n: number, board: SignalBoard): void {
    for (let k = 0; k < n; k++) {
      const { sid, ts } = bars[k];
      const t = this.ts[sid];
      let c = this.cursor[sid];
      if (c > 0 && t[c - 1] >= ts) c = 0;
      while (c < t.length && t[c] < ts) c++;
      this.cursor[sid] = c;
      board.set(sid, ts, c < t.length && t[c] === ts ? this.values[sid][c] : NaN);
    }
  }
}

/** One batched inference over every warm bar of every series (series in the run's symbol order). */
export async function predictHistory(m: LoadedModel, series: readonly BarSeries[]): Promise<PredictionTable> {
  // features are returns: on adjusted prices always (raw bars loaded with their factors are adjusted here, a copy)
  const features = batchFeatures(series.map(adjustedSeries));
  const f = m.columns.length;
  let rows = 0;
  for (const s of series) rows += s.ts.length;
  const X = new Float64Array(rows * f);
  // the series and bar of each packed row
  const rowSeries = new Int32Array(rows);
  const rowBar = new Int32Array(rows);
  let n = 0;
  series.forEach((s, i) => {
    for (let t = 0; t < s.ts.length; t++) {
      if (!selectColumns(features[i], t * NF, m.columns, X, n * f)) continue;
      rowSeries[n] = i;
      rowBar[n++] = t;
    }
  });
  const p = await m.model.predictBatch(X.subarray(0, n * f), n);
  const values = series.map((s) => new Float64Array(s.ts.length).fill(NaN));
  for (let r = 0; r < n; r++) values[rowSeries[r]][rowBar[r]] = p[r];
  return new PredictionTable(
    series.map((s) => s.ts),
    values,
  );
}

/**
 * Live predictions: the streaming pipeline steps on each group of closed bars, then the model runs once
 * per bar whose features are warm. Async (onnxruntime is), so the live runner awaits it before the
 * strategies see the bars.
 */
export class StreamingPredictor {
  private readonly pipeline: FeaturePipeline;
  private out: Float64Array;
  private readonly row: Float64Array;
  constructor(
    private readonly m: LoadedModel,
    nSymbols: number,
  ) {
    this.pipeline = new FeaturePipeline(nSymbols);
    this.out = new Float64Array(nSymbols * NF);
    this.row = new Float64Array(m.columns.length);
  }
  async fill(bars: readonly Bar[], n: number, board: SignalBoard): Promise<void> {
    this.pipeline.step(bars, n, this.out);
    for (let k = 0; k < n; k++) {
      const warm = selectColumns(this.out, k * NF, this.m.columns, this.row, 0);
      board.set(bars[k].sid, bars[k].ts, warm ? await this.m.model.predictOne(this.row) : NaN);
    }
  }
}
