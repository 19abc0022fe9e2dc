// The feature set shared by the streaming pipeline (features-stream.ts) and the batched path
// (features-batch.ts). Both perform the same floating-point operations, and every window mean and sum is
// exactly rounded (independent of order), so they agree to the last bit (tested, with agreement to 1e-12
// as the documented contract).
//
// t is a bar index in the symbol's own series: "k bars back" skips calendar gaps (a symbol that misses a
// day has ret_1 over two days). "warm" = bars of the symbol needed before the value is finite.
//
// | # | name          | definition                                                                  | warm |
// |---|---------------|-----------------------------------------------------------------------------|------|
// | 0 | ret_1         | close[t]/close[t-1] - 1                                                     |    2 |
// | 1 | ret_5         | close[t]/close[t-5] - 1                                                     |    6 |
// | 2 | ret_20        | close[t]/close[t-20] - 1                                                    |   21 |
// | 3 | rsi_14        | Wilder RSI(14) of close / 100, in [0, 1] (0.5 while neither gains nor losses)|   15 |
// | 4 | macd_hist     | (MACD - signal)/close; MACD = EMA12 - EMA26 of close, signal = EMA9 of MACD;|   34 |
// |   |               | each EMA seeded with the SMA of its first `period` inputs                   |      |
// | 5 | bb_pctb_20    | (close - lower)/(upper - lower), bands SMA20 -/+ 2 sd, sd = POPULATION std  |   20 |
// |   |               | (ddof=0, as Bollinger, TA-Lib, technicalindicators); 0.5 if the 20 closes   |      |
// |   |               | are all equal                                                               |      |
// | 6 | atr_14        | Wilder ATR(14)/close (true ranges from the 2nd bar, mean of first 14 seeds)  |   15 |
// | 7 | vol_z_20      | (volume - mean20)/sd20 of volume, window includes t, SAMPLE std (ddof=1);   |   20 |
// |   |               | 0 if the 20 volumes are all equal (e.g. all zero)                           |      |
// | 8 | dist_sma_20   | close/SMA20(close) - 1                                                      |   20 |
// | 9 | dist_sma_50   | close/SMA50(close) - 1                                                      |   50 |
// |10 | xs_rank_ret_5 | rank of ret_5 among the symbols with a bar at this ts and a finite ret_5:   |    6 |
// |   |               | (0-based rank, ties averaged)/(count-1); 0.5 when count is 1                |      |
//
// Window means (SMA 20/50, the Bollinger and volume means, the EMA/RSI/ATR seeds) are the true means rounded
// once, and the sums of squared deviations the true sums rounded once, recomputed at every bar
// (engine/core/exact-sum.ts), so a long history never accumulates drift, the order of the values does not matter, and both paths
// see identical sums. Inputs are assumed finite with close > 0.

import { ExactSum, windowMean, windowSumSqDev } from '../core/exact-sum.ts';

export const FEATURE_NAMES = [
  'ret_1',
  'ret_5',
  'ret_20',
  'rsi_14',
  'macd_hist',
  'bb_pctb_20',
  'atr_14',
  'vol_z_20',
  'dist_sma_20',
  'dist_sma_50',
  'xs_rank_ret_5',
] as const satisfies readonly string[];

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const NF = FEATURE_NAMES.length;

/** Column index of each feature in a row. */
export const COL = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as { readonly [K in FeatureName]: number };

export const RSI_N = 14;
export const MACD_FAST = 12;
export const MACD_SLOW = 26;
export const MACD_SIGNAL = 9;
export const BB_N = 20;
export const BB_K = 2;
export const ATR_N = 14;
export const VOL_N = 20;
export const SMA_SHORT = 20;
export const SMA_LONG = 50;
export const RET_LAGS = [1, 5, 20] as const;

/** Bars of a symbol needed before each feature is finite (its first finite row is at index warm-1). */
export const FEATURE_WARMUP: readonly number[] = [
  RET_LAGS[0] + 1,
  RET_LAGS[1] + 1,
  RET_LAGS[2] + 1,
  RSI_N + 1,
  MACD_SLOW + MACD_SIGNAL - 1,
  BB_N,
  ATR_N + 1,
  VOL_N,
  SMA_SHORT,
  SMA_LONG,
  RET_LAGS[1] + 1,
];

/** Bars of a symbol needed until every feature is finite. */
export const WARMUP_BARS = Math.max(...FEATURE_WARMUP);

export interface Moments {
  mean: number;
  /** sum of squared deviations from the mean */
  ss: number;
  /** every value equal (then ss may still be a rounding residue, so the callers special-case it) */
  constant: boolean;
}

/**
 * Moments of the n values buf[start..] read circularly (wrapping at buf.length): the mean is the true mean
 * rounded once and ss the exactly rounded sum of the rounded squared deviations (engine/core/exact-sum.ts),
 * so neither depends on the order of the values; the streaming rings and the batched columns both go
 * through here.
 */
export function moments(buf: Float64Array, start: number, n: number, m: Moments): Moments {
  const cap = buf.length;
  const mean = windowMean(buf, start, n, acc);
  const first = buf[start];
  let constant = true;
  for (let i = 0, j = start; i < n; i++, j++) {
    if (buf[j < cap ? j : j - cap] !== first) {
      constant = false;
      break;
    }
  }
  m.mean = mean;
  m.ss = windowSumSqDev(buf, start, n, mean, acc);
  m.constant = constant;
  return m;
}

/** Scratch for moments (single-threaded; moments does not re-enter). */
const acc = new ExactSum();

/** %b from the window mean and sum of squared deviations (population std). */
export function pctB(close: number, mean: number, ss: number, constant: boolean): number {
  if (constant) return 0.5;
  const sd = Math.sqrt(ss / BB_N);
  return (close - mean) / (2 * BB_K * sd) + 0.5;
}

/** Volume z-score from the window mean and sum of squared deviations (sample std). */
export function zScore(x: number, mean: number, ss: number, constant: boolean): number {
  if (constant) return 0;
  return (x - mean) / Math.sqrt(ss / (VOL_N - 1));
}

/**
 * Cross-sectional rank: for k < count with finite vals[k], out[k] = (0-based rank among the finite
 * values, ties averaged)/(m-1), or 0.5 when m = 1; NaN where vals[k] is not finite. `sorted` is scratch
 * of any length >= count; it is padded with +Infinity and sorted whole, so no view is allocated.
 */
export function rankSlice(vals: Float64Array, count: number, sorted: Float64Array, out: Float64Array): void {
  let m = 0;
  for (let k = 0; k < count; k++) if (Number.isFinite(vals[k])) sorted[m++] = vals[k];
  sorted.fill(Infinity, m);
  sorted.sort();
  for (let k = 0; k < count; k++) {
    const v = vals[k];
    if (!Number.isFinite(v)) {
      out[k] = NaN;
      continue;
    }
    if (m === 1) {
      out[k] = 0.5;
      continue;
    }
    const lo = bound(sorted, m, v, false);
    const hi = bound(sorted, m, v, true);
    out[k] = (lo + hi - 1) / 2 / (m - 1);
  }
}

/** First index in sorted[0..m) whose value is >= v (or > v when `upper`). */
function bound(sorted: Float64Array, m: number, v: number, upper: boolean): number {
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v || (upper && sorted[mid] === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
