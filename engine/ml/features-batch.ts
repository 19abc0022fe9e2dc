// Batched features over stored history: one pass over the columns per feature, then one merge of all
// series' timestamps for the cross-sectional rank. The arithmetic mirrors the streaming path
// (engine/core/indicators.ts and features-stream.ts) operation for operation; the tests hold both to 1e-12.
import type { BarSeries } from '../core/types.ts';
import {
  ATR_N, BB_N, COL, MACD_FAST, MACD_SIGNAL, MACD_SLOW, moments, NF, pctB, rankSlice, RET_LAGS, RSI_N, SMA_LONG, SMA_SHORT, VOL_N, zScore, type Moments,
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
  forEachSlice(series.map((s) => s.ts), (_t, sids, idx, count) => {
    for (let k = 0; k < count; k++) vals[k] = out[sids[k]][idx[k] * NF + COL.ret_5];
    rankSlice(vals, count, sorted, ranks);
    for (let k = 0; k < count; k++) out[sids[k]][idx[k] * NF + COL.xs_rank_ret_5] = ranks[k];
  });
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

/** As the RSI class: Wilder averages seeded by the mean of the first RSI_N moves, scaled to [0, 1]. */
function rsi(c: Float64Array, out: Float64Array): void {
  let gains = 0;
  let losses = 0;
  for (let t = 1; t < c.length; t++) {
    const d = c[t] - c[t - 1];
    const gain = d > 0 ? d : 0;
    const loss = d < 0 ? -d : 0;
    if (t <= RSI_N) {
      gains += gain / RSI_N;
      losses += loss / RSI_N;
      if (t < RSI_N) continue;
    } else {
      gains = (gains * (RSI_N - 1) + gain) / RSI_N;
      losses = (losses * (RSI_N - 1) + loss) / RSI_N;
    }
    const v = losses === 0 ? (gains === 0 ? 50 : 100) : 100 - 100 / (1 + gains / losses);
    out[t * NF + COL.rsi_14] = v / 100;
  }
}

/** As the EMA class over src[from..]: dst[t] from t = from + period - 1 on, seeded with the SMA. */
function ema(src: Float64Array, from: number, period: number, dst: Float64Array): void {
  const k = 2 / (period + 1);
  if (src.length - from < period) return;
  let seed = 0;
  for (let t = from; t < from + period; t++) seed += src[t];
  let v = seed / period;
  dst[from + period - 1] = v;
  for (let t = from + period; t < src.length; t++) dst[t] = v = (src[t] - v) * k + v;
}

function macd(c: Float64Array, out: Float64Array): void {
  const L = c.length;
  const first = MACD_SLOW - 1;
  if (L <= first) return;
  const fast = new Float64Array(L);
  const slow = new Float64Array(L);
  ema(c, 0, MACD_FAST, fast);
  ema(c, 0, MACD_SLOW, slow);
  const line = new Float64Array(L);
  for (let t = first; t < L; t++) line[t] = fast[t] - slow[t];
  const signal = new Float64Array(L);
  ema(line, first, MACD_SIGNAL, signal);
  for (let t = first + MACD_SIGNAL - 1; t < L; t++) out[t * NF + COL.macd_hist] = (line[t] - signal[t]) / c[t];
}

/** close/SMA - 1, the window summed afresh oldest first as the SMA class does. */
function smaDistance(c: Float64Array, period: number, col: number, out: Float64Array): void {
  for (let t = period - 1; t < c.length; t++) {
    let s = 0;
    for (let j = t - period + 1; j <= t; j++) s += c[j];
    out[t * NF + col] = c[t] / (s / period) - 1;
  }
}

/** As the ATR class: true ranges from the second bar, their first ATR_N averaged, then Wilder smoothing. */
function atr(s: BarSeries, out: Float64Array): void {
  const { high: h, low: l, close: c } = s;
  let sum = 0;
  let v = NaN;
  for (let t = 1; t < c.length; t++) {
    const prev = c[t - 1];
    const tr = Math.max(h[t] - l[t], Math.abs(h[t] - prev), Math.abs(l[t] - prev));
    if (t <= ATR_N) {
      sum += tr;
      if (t < ATR_N) continue;
      v = sum / ATR_N;
    } else v = (v * (ATR_N - 1) + tr) / ATR_N;
    out[t * NF + COL.atr_14] = v / c[t];
  }
}
