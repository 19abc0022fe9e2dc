import type { Bar, EpochMs } from './types.ts';

/**
 * Model predictions handed to strategies alongside the bars: per symbol, the value made for its newest
 * bar. A source fills the board for a group of bars just before the strategies see them, so a
 * strategy reads `ctx.signal(sid)` exactly as it reads `ctx.close(sid)`.
 */
export class SignalBoard {
  private readonly value: Float64Array;
  private readonly at: Float64Array;
  constructor(nSymbols: number) {
    this.value = new Float64Array(nSymbols).fill(NaN);
    this.at = new Float64Array(nSymbols).fill(NaN);
  }
  /** the prediction for `sid`'s bar starting at `ts` (NaN: none for that bar) */
  set(sid: number, ts: EpochMs, value: number): void {
    this.value[sid] = value;
    this.at[sid] = ts;
  }
  /** the prediction made at `sid`'s newest bar, NaN when there is none */
  get(sid: number): number {
    return this.value[sid];
  }
  /** the start of the bar `get(sid)` belongs to */
  stamp(sid: number): EpochMs {
    return this.at[sid];
  }
}

/** Fills a board for a group of bars with the same start, before the strategies are called with them. */
export interface SignalSource {
  fill(bars: readonly Bar[], n: number, board: SignalBoard): void;
}
