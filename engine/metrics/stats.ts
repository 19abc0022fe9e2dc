// Small numeric helpers for the metrics. Pure, allocation-light, no I/O.

/** Arithmetic mean; NaN for an empty input. */
export function mean(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  return s / n;
}

/**
 * Sample standard deviation, two-pass (mean first, then the sum of squared deviations),
 * with `ddof` degrees of freedom removed; NaN when `n - ddof <= 0`.
 */
export function std(xs: ArrayLike<number>, ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i] - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - ddof));
}

/** The value if it is a finite number, else null: no NaN or Infinity leaves the metrics. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export const MS_PER_DAY = 86_400_000;
