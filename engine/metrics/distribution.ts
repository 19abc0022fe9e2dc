// The distribution of the daily returns (quantstats `skew`, `kurtosis`, `value_at_risk`, `cvar`, `best`, `worst`).
// Pure functions. r_i = daily simple returns, N = their number, m = mean(r), s = std(r, ddof=1),
// S_k = sum((r_i - m)^k).
//
//   skew      = N * sqrt(N - 1) / (N - 2) * S_3 / S_2^1.5                      pandas Series.skew (adjusted
//               Fisher-Pearson G1, what quantstats calls); null when N < 3 or the returns are flat
//   kurtosis  = N (N + 1) (N - 1) S_4 / ((N - 2)(N - 3) S_2^2) - 3 (N - 1)^2 / ((N - 2)(N - 3))
//               pandas Series.kurtosis: sample *excess* kurtosis G2 (0 for a normal); null when N < 4 or flat
//   VaR 95%   = m + z * s, z = Phi^-1(0.05) = -1.6448536269514729               quantstats value_at_risk: parametric
//               (variance-covariance), norm.ppf(1 - 0.95, m, s); a daily return, negative for a loss
//   CVaR 95%  = m - s * phi(z) / 0.05 = m - 2.0627128075074 * s                 quantstats conditional_value_at_risk
//               (>= 0.0.83, method "parametric", the default): the normal expected shortfall below VaR. (Before
//               0.0.83 quantstats averaged the returns below the parametric VaR instead.)
//   best / worst day   = max / min of r                                       quantstats best / worst
//   best / worst month = max / min of the compounded calendar-month returns prod(1 + r) - 1 (UTC months), the
//               first month measured from the starting capital                quantstats best/worst(aggregate="ME")
//   best / worst year  = the same over calendar years                          quantstats best/worst(aggregate="YE")
// quantstats' report prints VaR and CVaR as -|x|; here they keep their sign.
import type { EquityPoint } from '../core/types.ts';
import { RETURN_STD_EPS } from './metrics.ts';
import { dailyReturns, monthlyReturns } from './series.ts';
import { finiteOrNull, mean, std } from './stats.ts';

/** Phi^-1(0.05), the 5% quantile of the standard normal (scipy norm.ppf(0.05)). */
export const Z_05 = -1.6448536269514729;

export interface ReturnDistribution {
  /** N, the number of daily returns */
  periods: number;
  skew: number | null;
  /** excess kurtosis (normal = 0) */
  kurtosis: number | null;
  /** parametric daily VaR at 95%: mean + Phi^-1(0.05) * std */
  var95: number | null;
  /** parametric daily CVaR (expected shortfall) at 95%: mean - std * phi(Phi^-1(0.05)) / 0.05 */
  cvar95: number | null;
  bestDay: number | null;
  worstDay: number | null;
  bestMonth: number | null;
  worstMonth: number | null;
  bestYear: number | null;
  worstYear: number | null;
}

export interface YearlyReturn {
  year: number;
  /** last equity of the year / last equity before it - 1 (the first year from the first point) */
  return: number;
}

/** Compounded calendar-year returns (UTC), built as monthlyReturns builds months. */
export function yearlyReturns(equity: readonly EquityPoint[]): YearlyReturn[] {
  const out: YearlyReturn[] = [];
  let prev = -1;
  let grow = 1;
  for (const m of monthlyReturns(equity)) {
    if (m.year !== prev && prev >= 0) {
      out.push({ year: prev, return: grow - 1 });
      grow = 1;
    }
    prev = m.year;
    grow *= 1 + m.return;
  }
  if (prev >= 0) out.push({ year: prev, return: grow - 1 });
  return out;
}

/** Sample skewness G1 (pandas); null when N < 3, a return is not finite, or the returns are flat. */
export function sampleSkew(r: ArrayLike<number>): number | null {
  const N = r.length;
  if (N < 3 || !allFinite(r)) return null;
  if (!(std(r, 1) > RETURN_STD_EPS)) return null;
  const m = mean(r);
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < N; i++) {
    const d = r[i] - m;
    s2 += d * d;
    s3 += d * d * d;
  }
  return finiteOrNull(((N * Math.sqrt(N - 1)) / (N - 2)) * (s3 / s2 ** 1.5));
}

/** Sample excess kurtosis G2 (pandas); null when N < 4, a return is not finite, or the returns are flat. */
export function sampleExcessKurtosis(r: ArrayLike<number>): number | null {
  const N = r.length;
  if (N < 4 || !allFinite(r)) return null;
  if (!(std(r, 1) > RETURN_STD_EPS)) return null;
  const m = mean(r);
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < N; i++) {
    const d2 = (r[i] - m) ** 2;
    s2 += d2;
    s4 += d2 * d2;
  }
  const g = ((N + 1) * N * (N - 1) * s4) / ((N - 2) * (N - 3) * s2 * s2) - (3 * (N - 1) ** 2) / ((N - 2) * (N - 3));
  return finiteOrNull(g);
}

/** The return distribution of an equity curve (one point per daily close, the first the starting capital). */
export function returnDistribution(equity: readonly EquityPoint[]): ReturnDistribution {
  const r = dailyReturns(equity);
  const N = r.length;
  const finite = allFinite(r);
  let var95: number | null = null;
  let cvar95: number | null = null;
  if (N >= 2 && finite) {
    const m = mean(r);
    const s = std(r, 1);
    const phi = Math.exp((-Z_05 * Z_05) / 2) / Math.sqrt(2 * Math.PI);
    var95 = finiteOrNull(m + Z_05 * s);
    cvar95 = finiteOrNull(m - (s * phi) / 0.05);
  }
  const months = monthlyReturns(equity).map((x) => x.return);
  const years = yearlyReturns(equity).map((x) => x.return);
  const days = Array.from(r);
  return {
    periods: N,
    skew: sampleSkew(r),
    kurtosis: sampleExcessKurtosis(r),
    var95,
    cvar95,
    bestDay: extreme(days, 1),
    worstDay: extreme(days, -1),
    bestMonth: extreme(months, 1),
    worstMonth: extreme(months, -1),
    bestYear: extreme(years, 1),
    worstYear: extreme(years, -1),
  };
}

function allFinite(xs: ArrayLike<number>): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

/** max (sign 1) or min (sign -1); null for no value or a non-finite one. */
function extreme(xs: number[], sign: 1 | -1): number | null {
  if (xs.length === 0) return null;
  let best = xs[0];
  for (const x of xs) {
    if (!Number.isFinite(x)) return null;
    if (sign * x > sign * best) best = x;
  }
  return best;
}
