// Crossovers of streaming series: an indicator (its `value` and `previous`) or a constant level.

/** A series as a crossover sees it: its newest value and the one before (an Indicator is one). */
export interface SeriesPoint {
  readonly value: number;
  readonly previous: number;
}

/**
 * `a` crossed above `b` with the last update: a[t-1] < b[t-1] and a[t] > b[t]. Strict, so equal values
 * never cross (and NaN, e.g. a warming-up indicator, never does). `b` may be a constant level.
 */
export function crossedAbove(a: SeriesPoint, b: SeriesPoint | number): boolean {
  // written out, not through helpers returning b's values: a double returned by a call that is not inlined is boxed (allocated)
  return typeof b === 'number' ? a.previous < b && a.value > b : a.previous < b.previous && a.value > b.value;
}

/** `a` crossed below `b` with the last update: a[t-1] > b[t-1] and a[t] < b[t] (strict, as crossedAbove). */
export function crossedBelow(a: SeriesPoint, b: SeriesPoint | number): boolean {
  return typeof b === 'number' ? a.previous > b && a.value < b : a.previous > b.previous && a.value < b.value;
}
