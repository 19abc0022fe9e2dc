// A corporate action as the engine and strategies see it in a raw-price run (`--prices raw`), and how a
// strategy keeps an indicator continuous across it.
import type { BarHistory } from './strategy.ts';
import type { EpochMs } from './types.ts';

/**
 * A split or cash dividend of one symbol, applied on the first bar of its ex-date before any fill on it.
 * By then the engine has put the bar history of `sid` on the new basis (prices / ratio for a split, times
 * (close - dividend) / close for a dividend, as an adjusted series would have them), adjusted the positions,
 * working orders and marks, and paid the dividend.
 */
export interface CorporateActionEvent {
  symbol: string;
  sid: number;
  kind: 'split' | 'dividend';
  /** 'YYYY-MM-DD': the first trading day it is in force */
  exDate: string;
  /** split: new shares per old share (7 for 7-for-1); dividend: cash per share */
  value: number;
  /** what the history's prices were multiplied by: 1 / ratio for a split, (close - dividend) / close for a dividend */
  priceScale: number;
}

/** An action as applied in a run, for the journal and the report. */
export interface AppliedAction {
  symbol: string;
  kind: 'split' | 'dividend';
  exDate: string;
  value: number;
  /** the start of the bar it was applied on */
  ts: EpochMs;
  /** the last close before the ex-date (raw) */
  prevClose: number;
  /** net position across books before the action (shares) */
  positionBefore: number;
  /** and after it (a split: x ratio, less the fraction paid in lieu) */
  positionAfter: number;
  /** cash in lieu of fractional shares (split) or the dividend (paid +, charged -), across books */
  cash: number;
  /** working orders adjusted (split) */
  ordersAdjusted: number;
  /** working orders cancelled because the split left them no whole share */
  ordersCancelled: number;
}

/** How far back replayHistory reads: the bars a backtest's context keeps (HISTORY_BARS in engine/run/backtest.ts). */
const REPLAY_BARS = 1_000;

/** The inputs of a price indicator a strategy can rebuild from the history. */
export type HistoryField = 'open' | 'high' | 'low' | 'close';

/**
 * `ind` fed the history of `sid` (oldest first, up to the whole window the context keeps), for rebuilding an
 * indicator after a corporate action: the history is on the new basis, so the indicator continues as if the
 * prices had always been on it (as on adjusted prices). Returns `ind`.
 */
export function replayHistory<I extends { update(x: number): number }>(ind: I, ctx: BarHistory, sid: number, field: HistoryField = 'close'): I {
  for (let ago = Math.min(ctx.count(sid), REPLAY_BARS) - 1; ago >= 0; ago--) {
    const x = ctx[field](sid, ago);
    if (!Number.isNaN(x)) ind.update(x);
  }
  return ind;
}
