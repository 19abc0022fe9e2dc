// Performance metrics with the definitions of empyrical / quantstats (DESIGN section 5).
// Pure functions, no I/O. Every value that is undefined for the input is `null`, never NaN or
// Infinity, so the result serialises to honest JSON.
import type { EpochMs, EquityPoint, Trade } from '../core/types.ts';
import { dailyReturns, drawdownSeries } from './series.ts';
import { finiteOrNull, mean, MS_PER_DAY, std } from './stats.ts';

export { dailyReturns, drawdownSeries, monthlyReturns, rollingSharpe, rollingVolatility } from './series.ts';
export type { MonthlyReturn } from './series.ts';

/**
 * A standard deviation (or downside deviation) of daily returns at or below this is floating-point
 * noise, not risk: e.g. a curve compounding at a constant rate has returns equal up to ~1e-16.
 * Ratios divided by it are reported as null instead of an absurd 1e15.
 */
export const RETURN_STD_EPS = 1e-12;

export interface MetricsInput {
  /** one point per daily close; the first is the starting capital at the first bar's close */
  equity: readonly EquityPoint[];
  /** gross market value (>= 0) per equity point, same length as `equity` */
  exposure?: ArrayLike<number>;
  /** closed round trips */
  trades: readonly Trade[];
  /** every fill of the run (qty signed or not: its absolute value is used) */
  fills: readonly { qty: number; price: number; commission: number; symbol?: string }[];
  /** contract multipliers of the symbols that are not stocks (absent: 1): a fill trades qty x price x multiplier */
  multipliers?: Readonly<Record<string, number>>;
  /** annual risk-free rate, default 0; per period `(1 + rfAnnual)^(1 / periodsPerYear) - 1` */
  rfAnnual?: number;
  /** default 252 */
  periodsPerYear?: number;
}

/**
 * The metrics of a run. N = number of returns = equity points - 1; r = daily simple returns;
 * rf = per-period risk-free rate; P = periods per year (252).
 */
export interface Metrics {
  /** N, the number of daily returns */
  periods: number;
  /** annual risk-free rate used */
  rfAnnual: number;
  /** periods per year used for annualisation */
  periodsPerYear: number;
  /** E_end / E_0 - 1; null when the curve is empty, 0 for a single point */
  totalReturn: number | null;
  /** (E_end / E_0)^(P / N) - 1; null when N = 0 or when undefined (E_end < 0) */
  cagr: number | null;
  /** std(r, ddof=1) * sqrt(P); null when N < 2 or a return is not finite (equity reached 0) */
  volatility: number | null;
  /**
   * mean(r - rf) / std(r - rf, ddof=1) * sqrt(P); null when N < 2, a return is not finite, or the
   * std is 0 (flat curve) or at floating-point noise level (<= RETURN_STD_EPS)
   */
  sharpe: number | null;
  /**
   * mean(r - rf) / sqrt(sum(min(r - rf, 0)^2) / N) * sqrt(P); null when N < 1, a return is not
   * finite, or no period is below rf (downside deviation 0 or <= RETURN_STD_EPS)
   */
  sortino: number | null;
  /** min(E / cummax(E) - 1): a negative fraction, 0 when the curve never falls below its peak */
  maxDrawdown: number;
  /** ts of the peak the max drawdown starts from (last point at that high before the trough); null when maxDrawdown = 0 */
  maxDrawdownStart: EpochMs | null;
  /** ts of the trough (first point at the minimum); null when maxDrawdown = 0 */
  maxDrawdownTrough: EpochMs | null;
  /** ts of the first point after the trough back at or above the peak equity; null when not recovered or no drawdown */
  maxDrawdownRecovery: EpochMs | null;
  /** calendar days from the peak to the recovery, or to the last point if not recovered; 0 when no drawdown */
  maxDrawdownDays: number;
  /** cagr / |maxDrawdown|; null when cagr is null or maxDrawdown = 0 */
  calmar: number | null;
  /** number of closed trades */
  tradeCount: number;
  /** trades with pnl > 0 / tradeCount; null when there are no trades */
  winRate: number | null;
  /** gross profit / gross loss (pnl net of commission as in the Trade); null when no trade lost (gross loss 0) */
  profitFactor: number | null;
  /** mean pnl of winning trades; null when none won */
  avgWin: number | null;
  /** mean pnl of losing trades (negative); null when none lost */
  avgLoss: number | null;
  /** mean pnl per trade; null when there are no trades */
  expectancy: number | null;
  /** mean calendar days from entry to exit; null when there are no trades */
  avgHoldingDays: number | null;
  /** fraction of equity points after the first with gross exposure > 0; 0 without an exposure array or when N = 0 */
  exposure: number;
  /** sum |qty * price * multiplier| over fills / mean equity (over the whole run, not annualised); null when mean equity <= 0 or no points */
  turnover: number | null;
  /** sum of the fills' commissions */
  totalCommission: number;
}

export function computeMetrics(input: MetricsInput): Metrics {
  const { equity, trades, fills } = input;
  const rfAnnual = input.rfAnnual ?? 0;
  const P = input.periodsPerYear ?? 252;
  if (input.exposure !== undefined && input.exposure.length !== equity.length) {
    throw new RangeError(`computeMetrics: exposure has ${input.exposure.length} values for ${equity.length} equity points`);
  }
  for (let i = 0; i < equity.length; i++) {
    if (!Number.isFinite(equity[i].equity)) {
      throw new RangeError(`computeMetrics: equity[${i}] is ${equity[i].equity}, not a finite number`);
    }
  }
  if (equity.length > 0 && !(equity[0].equity > 0)) {
    throw new RangeError(`computeMetrics: the starting equity must be > 0, got ${equity[0].equity}`);
  }

  return {
    periods: Math.max(0, equity.length - 1),
    rfAnnual,
    periodsPerYear: P,
    ...returnMetrics(equity, rfAnnual, P),
    ...tradeMetrics(trades),
    exposure: exposureFraction(input.exposure),
    turnover: turnover(equity, fills, input.multipliers),
    totalCommission: fills.reduce((s, f) => s + f.commission, 0),
  };
}

type ReturnMetrics = Pick<
  Metrics,
  | 'totalReturn'
  | 'cagr'
  | 'volatility'
  | 'sharpe'
  | 'sortino'
  | 'maxDrawdown'
  | 'maxDrawdownStart'
  | 'maxDrawdownTrough'
  | 'maxDrawdownRecovery'
  | 'maxDrawdownDays'
  | 'calmar'
>;

function returnMetrics(equity: readonly EquityPoint[], rfAnnual: number, P: number): ReturnMetrics {
  const r = dailyReturns(equity);
  const N = r.length;
  const allFinite = r.every(Number.isFinite);
  const rf = (1 + rfAnnual) ** (1 / P) - 1;
  const excess = r.map((x) => x - rf);
  const annual = Math.sqrt(P);

  let sharpe: number | null = null;
  let volatility: number | null = null;
  if (N >= 2 && allFinite) {
    volatility = finiteOrNull(std(r, 1) * annual);
    const sd = std(excess, 1);
    if (sd > RETURN_STD_EPS) sharpe = finiteOrNull((mean(excess) / sd) * annual);
  }

  let sortino: number | null = null;
  if (N >= 1 && allFinite) {
    let down = 0;
    for (let i = 0; i < N; i++) if (excess[i] < 0) down += excess[i] * excess[i];
    const dd = Math.sqrt(down / N);
    if (dd > RETURN_STD_EPS) sortino = finiteOrNull((mean(excess) / dd) * annual);
  }

  const first = equity.length > 0 ? equity[0].equity : NaN;
  const last = equity.length > 0 ? equity[equity.length - 1].equity : NaN;
  const totalReturn = equity.length > 0 ? last / first - 1 : null;
  const cagr = N >= 1 ? finiteOrNull((last / first) ** (P / N) - 1) : null;

  const dd = maxDrawdownOf(equity);
  const calmar = cagr !== null && dd.maxDrawdown < 0 ? finiteOrNull(cagr / Math.abs(dd.maxDrawdown)) : null;

  return { totalReturn, cagr, volatility, sharpe, sortino, ...dd, calmar };
}

type DrawdownMetrics = Pick<Metrics, 'maxDrawdown' | 'maxDrawdownStart' | 'maxDrawdownTrough' | 'maxDrawdownRecovery' | 'maxDrawdownDays'>;

/**
 * The deepest drawdown, with empyrical's dating: trough = first point at the minimum of the
 * underwater curve, peak = last point at drawdown 0 before it, recovery = first point after the trough
 * at drawdown 0 (equity back at or above the peak).
 */
function maxDrawdownOf(equity: readonly EquityPoint[]): DrawdownMetrics {
  const dd = drawdownSeries(equity);
  let trough = -1;
  let min = 0;
  for (let i = 0; i < dd.length; i++) {
    if (dd[i] < min) {
      min = dd[i];
      trough = i;
    }
  }
  if (trough < 0) {
    return {
      maxDrawdown: 0,
      maxDrawdownStart: null,
      maxDrawdownTrough: null,
      maxDrawdownRecovery: null,
      maxDrawdownDays: 0,
    };
  }
  let peak = trough;
  while (peak > 0 && dd[peak] < 0) peak--;
  let recovery = -1;
  for (let i = trough + 1; i < dd.length; i++) {
    if (dd[i] >= 0) {
      recovery = i;
      break;
    }
  }
  const endTs = recovery >= 0 ? equity[recovery].ts : equity[equity.length - 1].ts;
  return {
    maxDrawdown: min,
    maxDrawdownStart: equity[peak].ts,
    maxDrawdownTrough: equity[trough].ts,
    maxDrawdownRecovery: recovery >= 0 ? equity[recovery].ts : null,
    maxDrawdownDays: (endTs - equity[peak].ts) / MS_PER_DAY,
  };
}

type TradeMetrics = Pick<Metrics, 'tradeCount' | 'winRate' | 'profitFactor' | 'avgWin' | 'avgLoss' | 'expectancy' | 'avgHoldingDays'>;

function tradeMetrics(trades: readonly Trade[]): TradeMetrics {
  const n = trades.length;
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0; // positive
  let total = 0;
  let heldMs = 0;
  for (const t of trades) {
    total += t.pnl;
    heldMs += t.exitTime - t.entryTime;
    if (t.pnl > 0) {
      wins++;
      grossProfit += t.pnl;
    } else if (t.pnl < 0) {
      losses++;
      grossLoss -= t.pnl;
    }
  }
  return {
    tradeCount: n,
    winRate: n > 0 ? wins / n : null,
    profitFactor: grossLoss > 0 ? finiteOrNull(grossProfit / grossLoss) : null,
    avgWin: wins > 0 ? grossProfit / wins : null,
    avgLoss: losses > 0 ? -grossLoss / losses : null,
    expectancy: n > 0 ? total / n : null,
    avgHoldingDays: n > 0 ? heldMs / n / MS_PER_DAY : null,
  };
}

function exposureFraction(exposure: ArrayLike<number> | undefined): number {
  if (exposure === undefined || exposure.length < 2) return 0;
  let inMarket = 0;
  for (let i = 1; i < exposure.length; i++) if (exposure[i] > 0) inMarket++;
  return inMarket / (exposure.length - 1);
}

function turnover(
  equity: readonly EquityPoint[],
  fills: readonly { qty: number; price: number; symbol?: string }[],
  multipliers?: Readonly<Record<string, number>>,
): number | null {
  if (equity.length === 0) return null;
  let traded = 0;
  if (multipliers === undefined) for (const f of fills) traded += Math.abs(f.qty * f.price);
  else for (const f of fills) traded += Math.abs(f.qty * f.price * (multipliers[f.symbol ?? ''] ?? 1));
  let sum = 0;
  for (const p of equity) sum += p.equity;
  const avg = sum / equity.length;
  return avg > 0 ? finiteOrNull(traded / avg) : null;
}
