// Annualised figures of a short run: null below three months of daily returns.
// A week of returns annualised to the power 252/5 says nothing (a one-week run printed CAGR -7% and Sharpe -32),
// so the report shows no annualised figure under MIN_ANNUALISED_PERIODS returns and says why.
import type { Metrics } from './metrics.ts';

/** Daily returns a run needs for annualised figures: about three months of trading days (252 / 4). */
export const MIN_ANNUALISED_PERIODS = 63;

/** The metrics that are annualised (scaled by P / N or sqrt(P)), nulled for a short run. */
export const ANNUALISED_METRICS = ['cagr', 'volatility', 'sharpe', 'sortino', 'calmar'] as const;

/** Whether a run of `periods` daily returns gets annualised figures. */
export function annualisable(periods: number, min = MIN_ANNUALISED_PERIODS): boolean {
  return periods >= min;
}

/** The sentence the report shows for a short run, or null when the run is long enough. */
export function annualisedNote(periods: number, min = MIN_ANNUALISED_PERIODS): string | null {
  if (annualisable(periods, min)) return null;
  return `Annualised figures need at least 3 months (${min} daily returns); this run has ${periods} ${periods === 1 ? 'day' : 'days'}, so CAGR, volatility, Sharpe, Sortino, Calmar, alpha and the capture ratios are not shown.`;
}

/** The metrics with the annualised ones set to null when the run is shorter than `min` returns; otherwise the same object. */
export function withoutShortRunAnnualised<M extends Pick<Metrics, 'periods' | (typeof ANNUALISED_METRICS)[number]>>(m: M, min = MIN_ANNUALISED_PERIODS): M {
  if (annualisable(m.periods, min)) return m;
  const out = { ...m };
  for (const k of ANNUALISED_METRICS) out[k] = null;
  return out;
}
