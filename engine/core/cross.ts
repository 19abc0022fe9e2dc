// Crossovers of streaming series: an indicator (its `value` and `previous`) or a constant level.

/** A series as a crossover sees it: its newest value and the one before (an Indicator is one). */
export interface SeriesPoint {
  readonly value: number;
  readonly previous: number;
}

const prev = (s: SeriesPoint | number) => (typeof s === 'number' ? s : s.previous);
const now = (s: SeriesPoint | number) => (typeof s === 'number' ? s : s.value);

/**
 * `a` crossed above `b` with the last update: a[t-1] < b[t-1] and a[t] > b[t]. Strict, so equal values
 * never cross (and NaN, e.g. a warming-up indicator, never does). `b` may be a constant level.
 */
export function crossedAbove(a: SeriesPoint, b: SeriesPoint | number): boolean {
  return a.previous < prev(b) && a.value > now(b);
}

/** `a` crossed below `b` with the last update: a[t-1] > b[t-1] and a[t] < b[t] (strict, as crossedAbove). */
export function crossedBelow(a: SeriesPoint, b: SeriesPoint | number): boolean {
  return a.previous > prev(b) && a.value < now(b);
}
