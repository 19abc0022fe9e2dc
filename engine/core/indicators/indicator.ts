// The one interface every streaming indicator implements: O(1) or O(period) per update, no allocation per bar.

/**
 * A streaming indicator. Feed it one input per bar with `update` (a price for SMA, EMA, RSI, rolling windows;
 * a bar's high, low and close for ATR); it returns the new value, which `value` then holds.
 * - `value` is NaN until the indicator `isReady` (it has seen enough inputs for its first value); after
 *   that it is NaN only while a non-finite input makes it so.
 * - `previous` is `value` as it was before the last `update` (NaN before two updates), so a crossover is
 *   `a.previous < b.previous && a.value > b.value` (see engine/core/cross.ts).
 */
export interface Indicator<In extends readonly number[] = [x: number]> {
  update(...input: In): number;
  readonly value: number;
  readonly previous: number;
  readonly isReady: boolean;
  /** the window or smoothing length */
  readonly period: number;
}

/** An indicator of one price series (the close, usually). */
export type PriceIndicator = Indicator<[x: number]>;

/** An indicator of a bar's high, low and close (ATR). */
export type BarIndicator = Indicator<[high: number, low: number, close: number]>;

/** Refuses a period that is not a whole number >= min, naming the indicator. */
export function checkPeriod(what: string, period: number, min = 1): void {
  if (!Number.isInteger(period) || period < min) throw new Error(`${what} must be a whole number >= ${min}, got ${period}`);
}
