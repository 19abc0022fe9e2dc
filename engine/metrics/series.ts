// Series derived from an equity curve: returns, drawdowns, monthly returns. Pure functions.
import type { EpochMs, EquityPoint } from '../core/types.ts';

/** Simple returns `r_i = E_i / E_{i-1} - 1`, one per point after the first (length n - 1). */
export function dailyReturns(equity: readonly EquityPoint[]): Float64Array {
  const n = equity.length;
  const out = new Float64Array(Math.max(0, n - 1));
  for (let i = 1; i < n; i++) out[i - 1] = equity[i].equity / equity[i - 1].equity - 1;
  return out;
}

/** Underwater curve `E_i / max(E_0..E_i) - 1` (0 at a new high, negative below it), length n. */
export function drawdownSeries(equity: readonly EquityPoint[]): Float64Array {
  const n = equity.length;
  const out = new Float64Array(n);
  let peak = -Infinity;
  for (let i = 0; i < n; i++) {
    const e = equity[i].equity;
    if (e > peak) peak = e;
    out[i] = e / peak - 1;
  }
  return out;
}

export interface MonthlyReturn {
  year: number;
  /** 1..12 (UTC calendar month of the points) */
  month: number;
  /** the compounded return of the month: last equity of the month / last equity before it - 1 */
  return: number;
}

/**
 * Compounded calendar-month returns (UTC), as quantstats' monthly table: each month's return is its
 * last equity over the previous month's last equity, minus one; the first month is measured from the
 * first point (the starting capital). A month with no point after the first is absent.
 */
export function monthlyReturns(equity: readonly EquityPoint[]): MonthlyReturn[] {
  const out: MonthlyReturn[] = [];
  if (equity.length < 2) return out;
  let base = equity[0].equity;
  let key = monthKey(equity[1].ts);
  let last = equity[1].equity;
  for (let i = 2; i < equity.length; i++) {
    const k = monthKey(equity[i].ts);
    if (k !== key) {
      out.push(monthRow(key, last / base - 1));
      base = last;
      key = k;
    }
    last = equity[i].equity;
  }
  out.push(monthRow(key, last / base - 1));
  return out;
}

function monthKey(ts: EpochMs): number {
  const d = new Date(ts);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function monthRow(key: number, r: number): MonthlyReturn {
  return { year: Math.floor(key / 12), month: (key % 12) + 1, return: r };
}

/** A window's std at or below this is floating-point noise: its Sharpe is null (as RETURN_STD_EPS in metrics.ts). */
const ROLLING_STD_EPS = 1e-12;

/**
 * Rolling annualised volatility `std(r, ddof=1) * sqrt(P)` over the last `window` returns, one value per
 * return (length n); null until the window is full (index < window - 1) or when a return in it is not finite.
 * Each window is computed afresh (two-pass), so no rounding drift builds up along the series.
 */
export function rollingVolatility(returns: ArrayLike<number>, window: number, periodsPerYear = 252): (number | null)[] {
  return rolling(returns, window, (_m, sd) => (Number.isFinite(sd) ? sd * Math.sqrt(periodsPerYear) : null), 0);
}

/**
 * Rolling annualised Sharpe `mean(r - rf) / std(r - rf, ddof=1) * sqrt(P)` over the last `window` returns,
 * one value per return (length n); rf is per period. Null until the window is full, when a return in it is
 * not finite, or when the window's std is 0 (a flat stretch).
 */
export function rollingSharpe(returns: ArrayLike<number>, window: number, rfPerPeriod = 0, periodsPerYear = 252): (number | null)[] {
  return rolling(returns, window, (m, sd) => (sd > ROLLING_STD_EPS && Number.isFinite(m / sd) ? (m / sd) * Math.sqrt(periodsPerYear) : null), rfPerPeriod);
}

function rolling(returns: ArrayLike<number>, window: number, f: (mean: number, sd: number) => number | null, shift: number): (number | null)[] {
  if (!Number.isInteger(window) || window < 2) throw new Error(`rolling window must be an integer >= 2, got ${window}`);
  const n = returns.length;
  const out = new Array<number | null>(n).fill(null);
  for (let end = window - 1; end < n; end++) {
    let s = 0;
    for (let i = end - window + 1; i <= end; i++) s += returns[i] - shift;
    const m = s / window;
    let ss = 0;
    for (let i = end - window + 1; i <= end; i++) {
      const d = returns[i] - shift - m;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / (window - 1));
    out[end] = Number.isFinite(m) && Number.isFinite(sd) ? f(m, sd) : null;
  }
  return out;
}
