// Statistics of the run's daily returns against its benchmark's (quantstats `greeks`, `information_ratio`,
// pandas `corr`; empyrical `up_capture` / `down_capture`: quantstats has no capture ratios). Pure functions.
//
// r_i = the run's daily simple returns, b_i = the benchmark's on the same days (paired by construction: one
// benchmark value per equity point), N = number of pairs, P = periods per year, rf = per-period risk-free rate
// (1 + rf_annual)^(1/P) - 1. Means are arithmetic, cov/var/std with ddof = 1 (numpy `cov`, pandas `std`).
//
//   beta        = cov(r, b) / var(b)                                  quantstats greeks()["beta"]
//   alpha       = P * (mean(r - rf) - beta * mean(b - rf))            quantstats greeks()["alpha"] (it ignores rf;
//                 equal at rf = 0, the default). empyrical's `alpha` compounds instead: (1 + mean(...))^P - 1.
//   correlation = cov(r, b) / (std(r) * std(b))                       pandas Series.corr (Pearson), as quantstats
//   information = mean(r - b) / std(r - b)                            quantstats information_ratio (not annualised;
//                 quantstats returns 0 when std(r - b) = 0, here null)
//   up capture  = A(r | b > 0) / A(b | b > 0), A(x) = prod(1 + x)^(P / n_x) - 1: the annualised return of the run on
//                 the benchmark's up days over the benchmark's on them (empyrical up_capture); down capture the same
//                 over the days b < 0. Days with b = 0 count in neither.
// A value undefined for the input (N < 2, a flat benchmark, no up day) is null. Alpha and the capture ratios are
// annualised: null for a run shorter than MIN_ANNUALISED_PERIODS returns (see short-run.ts).
import { RETURN_STD_EPS } from './metrics.ts';
import { annualisable, MIN_ANNUALISED_PERIODS } from './short-run.ts';
import { finiteOrNull, mean } from './stats.ts';

export interface BenchmarkStats {
  /** N, the number of paired daily returns */
  periods: number;
  /** P * (mean(r - rf) - beta * mean(b - rf)); null when beta is or the run is too short to annualise */
  alpha: number | null;
  /** cov(r, b) / var(b), ddof = 1; null when N < 2 or the benchmark is flat */
  beta: number | null;
  /** Pearson correlation of r and b; null when N < 2 or either is flat */
  correlation: number | null;
  /** mean(r - b) / std(r - b, ddof=1), daily (not annualised); null when N < 2 or r - b is flat */
  informationRatio: number | null;
  /** annualised return of r over annualised return of b, on the days b > 0; null when undefined or the run is short */
  upCapture: number | null;
  /** the same on the days b < 0 */
  downCapture: number | null;
  /** days with b > 0 and b < 0 */
  upDays: number;
  downDays: number;
}

export interface BenchmarkStatsOptions {
  /** annual risk-free rate, default 0 */
  rfAnnual?: number;
  /** default 252 */
  periodsPerYear?: number;
  /** returns below which alpha and the capture ratios are null, default MIN_ANNUALISED_PERIODS (63) */
  minAnnualisedPeriods?: number;
}

/** The benchmark statistics of daily returns `r` against `b` (same length, same days). */
export function benchmarkStats(r: ArrayLike<number>, b: ArrayLike<number>, opts: BenchmarkStatsOptions = {}): BenchmarkStats {
  if (r.length !== b.length) throw new RangeError(`benchmarkStats: ${r.length} returns but ${b.length} benchmark returns`);
  const N = r.length;
  const P = opts.periodsPerYear ?? 252;
  const rf = (1 + (opts.rfAnnual ?? 0)) ** (1 / P) - 1;
  const annual = annualisable(N, opts.minAnnualisedPeriods ?? MIN_ANNUALISED_PERIODS);
  let upDays = 0;
  let downDays = 0;
  for (let i = 0; i < N; i++) {
    if (b[i] > 0) upDays++;
    else if (b[i] < 0) downDays++;
  }
  const out: BenchmarkStats = {
    periods: N,
    alpha: null,
    beta: null,
    correlation: null,
    informationRatio: null,
    upCapture: null,
    downCapture: null,
    upDays,
    downDays,
  };
  let finite = true;
  for (let i = 0; i < N; i++) if (!Number.isFinite(r[i]) || !Number.isFinite(b[i])) finite = false;
  if (N < 2 || !finite) return out;

  const mr = mean(r);
  const mb = mean(b);
  let srr = 0;
  let sbb = 0;
  let srb = 0;
  for (let i = 0; i < N; i++) {
    const dr = r[i] - mr;
    const db = b[i] - mb;
    srr += dr * dr;
    sbb += db * db;
    srb += dr * db;
  }
  const sdR = Math.sqrt(srr / (N - 1));
  const sdB = Math.sqrt(sbb / (N - 1));
  if (sdB > RETURN_STD_EPS) {
    // the (N - 1) of cov and var cancel
    out.beta = finiteOrNull(srb / sbb);
    if (out.beta !== null && annual) out.alpha = finiteOrNull(P * (mr - rf - out.beta * (mb - rf)));
  }
  if (sdB > RETURN_STD_EPS && sdR > RETURN_STD_EPS) out.correlation = finiteOrNull(srb / Math.sqrt(srr * sbb));

  const active = Array.from({ length: N }, (_, i) => r[i] - b[i]);
  const ma = mean(active);
  let saa = 0;
  for (const a of active) saa += (a - ma) * (a - ma);
  const sdA = Math.sqrt(saa / (N - 1));
  if (sdA > RETURN_STD_EPS) out.informationRatio = finiteOrNull(ma / sdA);

  if (annual) {
    out.upCapture = capture(r, b, P, (x) => x > 0);
    out.downCapture = capture(r, b, P, (x) => x < 0);
  }
  return out;
}

/** empyrical capture over the days `keep(b)`: annualReturn(r on them) / annualReturn(b on them); null when undefined. */
function capture(r: ArrayLike<number>, b: ArrayLike<number>, P: number, keep: (x: number) => boolean): number | null {
  let n = 0;
  let growR = 1;
  let growB = 1;
  for (let i = 0; i < r.length; i++) {
    if (!keep(b[i])) continue;
    n++;
    growR *= 1 + r[i];
    growB *= 1 + b[i];
  }
  if (n === 0) return null;
  const annR = growR ** (P / n) - 1;
  const annB = growB ** (P / n) - 1;
  return annB === 0 ? null : finiteOrNull(annR / annB);
}
