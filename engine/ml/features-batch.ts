// Batched features over stored history: one pass over a symbol's columns per feature, then one merge of
// all series' timestamps for the cross-sectional rank. The indicators are engine/core's (one definition
// for both paths); the tests hold this path and the streaming one (features-stream.ts) to 1e-12.
import { ATR, EMA, RSI, SMA } from '../core/indicators/index.ts';
import type { BarSeries } from '../core/types.ts';
import {
  ATR_N,
  BB_N,
  COL,
  MACD_FAST,
  MACD_SIGNAL,
  MACD_SLOW,
  moments,
  NF,
  pctB,
  rankSlice,
  RET_LAGS,
  RSI_N,
  SMA_LONG,
  SMA_SHORT,
  VOL_N,
  zScore,
  type Moments,
} from './features-spec.ts';

/** One row-major matrix (ts.length x NF) per series, row t for bar t; NaN where a feature is not warm. */
export function batchFeatures(series: readonly BarSeries[]): Float64Array[] {
  const out = series.map((s) => symbolFeatures(s));
  crossSectionalRank(series, out);
  return out;
}

/**
 * Visits the union of the series' timestamps in ascending order. For each, sids[0..count) are the series
 * with a bar there (ascending) and idx[k] is that bar's index in series sids[k]. The arrays are reused.
 */
export function forEachSlice(ts: readonly Float64Array[], visit: (t: number, sids: Int32Array, idx: Int32Array, count: number) => void): void {
  const S = ts.length;
  const pos = new Int32Array(S);
  const sids = new Int32Array(S);
  const idx = new Int32Array(S);
  for (;;) {
    let t = Infinity;
    for (let s = 0; s < S; s++) if (pos[s] < ts[s].length && ts[s][pos[s]] < t) t = ts[s][pos[s]];
    if (t === Infinity) return;
    let count = 0;
    for (let s = 0; s < S; s++) {
      if (pos[s] < ts[s].length && ts[s][pos[s]] === t) {
        sids[count] = s;
        idx[count++] = pos[s]++;
      }
    }
    visit(t, sids, idx, count);
  }
}

function crossSectionalRank(series: readonly BarSeries[], out: Float64Array[]): void {
  const S = series.length;
  const vals = new Float64Array(S);
  const sorted = new Float64Array(S);
  const ranks = new Float64Array(S);
  forEachSlice(
    series.map((s) => s.ts),
    (_t, sids, idx, count) => {
      for (let k = 0; k < count; k++) vals[k] = out[sids[k]][idx[k] * NF + COL.ret_5];
      rankSlice(vals, count, sorted, ranks);
      for (let k = 0; k < count; k++) out[sids[k]][idx[k] * NF + COL.xs_rank_ret_5] = ranks[k];
    },
  );
}

const RETURNS = [
  [RET_LAGS[0], COL.ret_1],
  [RET_LAGS[1], COL.ret_5],
  [RET_LAGS[2], COL.ret_20],
] as const;

function symbolFeatures(s: BarSeries): Float64Array {
  const L = s.ts.length;
  for (let t = 1; t < L; t++) {
    if (!(s.ts[t] > s.ts[t - 1])) throw new Error(`batchFeatures: ${s.symbol} timestamps are not strictly ascending at index ${t}`);
  }
  const out = new Float64Array(L * NF).fill(NaN);
  const c = s.close;
  for (const [k, col] of RETURNS) {
    for (let t = k; t < L; t++) out[t * NF + col] = c[t] / c[t - k] - 1;
  }
  rsi(c, out);
  macd(c, out);
  smaDistance(c, SMA_SHORT, COL.dist_sma_20, out);
  smaDistance(c, SMA_LONG, COL.dist_sma_50, out);
  atr(s, out);
  const m: Moments = { mean: NaN, ss: NaN, constant: false };
  for (let t = BB_N - 1; t < L; t++) {
    moments(c, t - BB_N + 1, BB_N, m);
    out[t * NF + COL.bb_pctb_20] = pctB(c[t], m.mean, m.ss, m.constant);
  }
  const v = s.volume;
  for (let t = VOL_N - 1; t < L; t++) {
    moments(v, t - VOL_N + 1, VOL_N, m);
    out[t * NF + COL.vol_z_20] = zScore(v[t], m.mean, m.ss, m.constant);
  }
  return out;
}

/** Wilder's RSI over the column, scaled to [0, 1]. */
function rsi(c: Float64Array, out: Float64Array): void {
  const r = new RSI(RSI_N);
  for (let t = 0; t < c.length; t++) out[t * NF + COL.rsi_14] = r.update(c[t]) / 100;
}

/** (MACD - signal) / close: the signal EMA starts on the first finite MACD value. */
function macd(c: Float64Array, out: Float64Array): void {
  const fast = new EMA(MACD_FAST);
  const slow = new EMA(MACD_SLOW);
  const signal = new EMA(MACD_SIGNAL);
  for (let t = 0; t < c.length; t++) {
    const f = fast.update(c[t]);
    const sl = slow.update(c[t]);
    if (Number.isNaN(sl)) continue;
    out[t * NF + COL.macd_hist] = (f - sl - signal.update(f - sl)) / c[t];
  }
}

/** close/SMA - 1. */
function smaDistance(c: Float64Array, period: number, col: number, out: Float64Array): void {
  const sma = new SMA(period);
  for (let t = 0; t < c.length; t++) out[t * NF + col] = c[t] / sma.update(c[t]) - 1;
}

/** Wilder's ATR / close. */
function atr(s: BarSeries, out: Float64Array): void {
  const a = new ATR(ATR_N);
  for (let t = 0; t < s.close.length; t++) out[t * NF + COL.atr_14] = a.update(s.high[t], s.low[t], s.close[t]) / s.close[t];
}
