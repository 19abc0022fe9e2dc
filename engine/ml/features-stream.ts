// Streaming features: one `step` per time slice, O(window) per bar, no allocation after construction.
import { ATR, EMA, RSI, SMA } from '../core/indicators/index.ts';
import type { Bar } from '../core/types.ts';
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

/** Closes kept per symbol: enough for ret_20's close[t-20] and the 20-bar Bollinger window. */
const CLOSE_RING = Math.max(RET_LAGS[2] + 1, BB_N);

const scratch: Moments = { mean: NaN, ss: NaN, constant: false };

class SymbolState {
  readonly closes = new Float64Array(CLOSE_RING);
  readonly vols = new Float64Array(VOL_N);
  /** bars seen; the newest bar has index t = n - 1 */
  n = 0;
  lastTs = -Infinity;
  readonly sma20 = new SMA(SMA_SHORT);
  readonly sma50 = new SMA(SMA_LONG);
  readonly ema12 = new EMA(MACD_FAST);
  readonly ema26 = new EMA(MACD_SLOW);
  readonly signal = new EMA(MACD_SIGNAL);
  readonly rsi = new RSI(RSI_N);
  readonly atr = new ATR(ATR_N);
  readonly row = new Float64Array(NF).fill(NaN);

  /** Updates with one bar and fills `row` with every feature except the cross-sectional rank. */
  push(b: Bar): void {
    const c = b.close;
    const t = this.n++;
    this.closes[t % CLOSE_RING] = c;
    this.vols[t % VOL_N] = b.volume;
    const r = this.row;
    r[COL.ret_1] = this.ret(t, RET_LAGS[0]);
    r[COL.ret_5] = this.ret(t, RET_LAGS[1]);
    r[COL.ret_20] = this.ret(t, RET_LAGS[2]);
    r[COL.rsi_14] = this.rsi.update(c) / 100;

    const fast = this.ema12.update(c);
    const slow = this.ema26.update(c);
    if (Number.isNaN(slow)) r[COL.macd_hist] = NaN;
    else {
      const macd = fast - slow;
      const sig = this.signal.update(macd);
      r[COL.macd_hist] = (macd - sig) / c;
    }

    r[COL.dist_sma_20] = c / this.sma20.update(c) - 1;
    if (t + 1 < BB_N) r[COL.bb_pctb_20] = NaN;
    else {
      const m = moments(this.closes, (t - BB_N + 1) % CLOSE_RING, BB_N, scratch);
      r[COL.bb_pctb_20] = pctB(c, m.mean, m.ss, m.constant);
    }
    r[COL.dist_sma_50] = c / this.sma50.update(c) - 1;
    r[COL.atr_14] = this.atr.update(b.high, b.low, c) / c;
    if (t + 1 < VOL_N) r[COL.vol_z_20] = NaN;
    else {
      const m = moments(this.vols, (t - VOL_N + 1) % VOL_N, VOL_N, scratch);
      r[COL.vol_z_20] = zScore(b.volume, m.mean, m.ss, m.constant);
    }
  }

  private ret(t: number, k: number): number {
    return t < k ? NaN : this.closes[t % CLOSE_RING] / this.closes[(t - k) % CLOSE_RING] - 1;
  }
}

export class FeaturePipeline {
  private readonly states: SymbolState[];
  private readonly vals: Float64Array;
  private readonly sorted: Float64Array;
  private readonly ranks: Float64Array;
  /** slice number in which each sid was last seen, to reject a sid twice in one slice */
  private readonly stamp: Float64Array;
  private slices = 0;

  constructor(readonly nSymbols: number) {
    if (!Number.isInteger(nSymbols) || nSymbols < 1) throw new Error(`FeaturePipeline needs a whole number of symbols >= 1, got ${nSymbols}`);
    this.states = Array.from({ length: nSymbols }, () => new SymbolState());
    this.vals = new Float64Array(nSymbols);
    this.sorted = new Float64Array(nSymbols);
    this.ranks = new Float64Array(nSymbols);
    this.stamp = new Float64Array(nSymbols).fill(-1);
  }

  /**
   * Consumes one time slice: bars[0..n) all share one ts and have distinct sids, and each symbol's
   * bars arrive in ascending ts. Writes row k (NF values, NaN where not warm) of `out` for bars[k].
   */
  step(bars: readonly Bar[], n: number, out: Float64Array): void {
    if (n > bars.length || n > this.nSymbols) throw new Error(`step: n=${n} exceeds ${bars.length} bars or ${this.nSymbols} symbols`);
    if (out.length < n * NF) throw new Error(`step: out holds ${out.length} values, needs ${n * NF}`);
    // Checked before any state changes, so a rejected slice leaves the pipeline as it was.
    this.slices++;
    for (let k = 0; k < n; k++) {
      const b = bars[k];
      const st = this.states[b.sid];
      if (st === undefined) throw new Error(`step: sid ${b.sid} is outside 0..${this.nSymbols - 1}`);
      if (b.ts !== bars[0].ts) throw new Error(`step: a slice holds one timestamp, got ${bars[0].ts} and ${b.ts}`);
      if (!(b.ts > st.lastTs)) throw new Error(`step: sid ${b.sid} got ts ${b.ts} after ${st.lastTs} (out of order)`);
      if (this.stamp[b.sid] === this.slices) throw new Error(`step: sid ${b.sid} appears twice in one slice`);
      this.stamp[b.sid] = this.slices;
    }
    for (let k = 0; k < n; k++) {
      const b = bars[k];
      const st = this.states[b.sid];
      st.lastTs = b.ts;
      st.push(b);
      this.vals[k] = st.row[COL.ret_5];
    }
    rankSlice(this.vals, n, this.sorted, this.ranks);
    for (let k = 0; k < n; k++) {
      const row = this.states[bars[k].sid].row;
      row[COL.xs_rank_ret_5] = this.ranks[k];
      out.set(row, k * NF);
    }
  }

  /** Bars of symbol `sid` consumed so far (features are all finite from WARMUP_BARS on). */
  barsSeen(sid: number): number {
    return this.states[sid]?.n ?? 0;
  }
}
