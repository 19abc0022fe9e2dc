// Builds a Report from the engine's native objects (epoch-ms times, core types).
// Pure: no I/O, no wall clock; the same input gives the same Report.
import type { EpochMs, EquityPoint, Fill, Order, RiskEvent, Trade } from '../core/types.ts';
import { computeMetrics, dailyReturns, drawdownSeries, rollingSharpe, rollingVolatility, type Metrics } from '../metrics/metrics.ts';
import { benchmarkStats } from '../metrics/benchmark-stats.ts';
import { returnDistribution } from '../metrics/distribution.ts';
import { worstDrawdowns } from '../metrics/drawdowns.ts';
import { annualisedNote, MIN_ANNUALISED_PERIODS, withoutShortRunAnnualised } from '../metrics/short-run.ts';
import { isoDate, isoTime } from './iso.ts';
import type {
  Report,
  ReportAttribution,
  ReportBenchmark,
  ReportBenchmarkStats,
  ReportCorporateAction,
  ReportCurrency,
  ReportDrawdown,
  ReportEquityRow,
  ReportFill,
  ReportInSample,
  ReportMetrics,
  ReportOpenPosition,
  ReportOrder,
  ReportRiskEvent,
  ReportRolling,
  ReportTrade,
} from './report-types.ts';

/** Returns per window of the rolling Sharpe and volatility (about three months of trading days). */
export const ROLLING_WINDOW = 63;

/** Closes of the benchmark symbol: ascending `ts`, at least one close per day the report has a point. */
export interface BenchmarkInput {
  symbol: string;
  ts: ArrayLike<number>;
  close: ArrayLike<number>;
}

/** The fields of an Order the report uses (any Order fits). */
export type OrderLike = Pick<
  Order,
  | 'id'
  | 'symbol'
  | 'side'
  | 'type'
  | 'qty'
  | 'limit'
  | 'stop'
  | 'tif'
  | 'status'
  | 'submittedAt'
  | 'filledQty'
  | 'avgFillPrice'
  | 'commission'
  | 'reason'
  | 'legs'
>;

/** The fields of a Fill the report uses (any Fill fits). */
export type FillLike = Pick<Fill, 'orderId' | 'symbol' | 'ts' | 'qty' | 'price' | 'commission'>;

/** An open position at the end of the run, marked at the last close. */
export interface OpenPositionInput {
  symbol: string;
  /** signed: negative is short */
  quantity: number;
  avgCost: number;
  /** the last close */
  lastPrice: number;
  /** ts of the bar whose close marks it */
  markedAt: EpochMs;
  /** the contract multiplier (absent: 1, a stock) */
  multiplier?: number;
}

export interface ReportInput {
  /** Tradebench version (package.json) */
  version: string;
  /** the run config; put `strategy` (string) and `symbols` (string[]) in it for the report header */
  config: Record<string, unknown>;
  startingCash: number;
  /** one point per daily close, first = starting capital at the first bar's close */
  equity: readonly EquityPoint[];
  /** gross market value per equity point (for the exposure metric) */
  exposure?: ArrayLike<number>;
  trades: readonly Trade[];
  fills: readonly FillLike[];
  orders: readonly OrderLike[];
  riskEvents: readonly RiskEvent[];
  openPositions: readonly OpenPositionInput[];
  attribution?: readonly ReportAttribution[];
  /** buy-and-hold benchmark prices; the report has no benchmark when absent */
  benchmark?: BenchmarkInput;
  /** computed from the inputs when absent */
  metrics?: Metrics;
  rfAnnual?: number;
  /** sentences appended to the standard conventions (e.g. the commission and slippage models used) */
  extraConventions?: readonly string[];
  /** the run's overlap with its model's training window (engine/ml/in-sample.ts); the report flags it */
  inSample?: ReportInSample;
  /** warnings about the run's settings (shown at the top of report.html) */
  warnings?: readonly string[];
  /** splits and dividends a raw-price run applied */
  corporateActions?: readonly ReportCorporateAction[];
  /** a multi-currency run's exposure per currency at its end */
  currencies?: readonly ReportCurrency[];
}

/** The conventions every report states; metric sentences use the run's rf and periods per year. */
export function standardConventions(m: Pick<Metrics, 'rfAnnual' | 'periodsPerYear'>): string[] {
  const P = m.periodsPerYear;
  return [
    'Orders submitted at a bar close are eligible from the next bar: market orders fill at the next bar open (plus slippage); limit, stop and stop-limit orders fill by the rules of DESIGN section 3 (limit buy at min(open, limit) when low <= limit, stop buy at max(open, stop) when high >= stop, mirrored for sells).',
    "'All-in' quantities are resolved at the fill: the largest whole number of shares whose cost plus commission fits the available cash at the fill price.",
    'Costs: commission and slippage as set in the run config; trade P&L is net of commission.',
    'Open positions at the end of the run are marked at the last close, not sold: their P&L is unrealized and not in the trade statistics.',
    `Metrics follow empyrical / quantstats: daily simple returns r = E_i / E_(i-1) - 1 of the equity at each daily close (first point = starting capital at the first bar's close), N = number of returns, ${P} periods a year, standard deviations with ddof = 1.`,
    `Sharpe = mean(r - rf) / std(r - rf) * sqrt(${P}); Sortino = mean(r - rf) / sqrt(sum(min(r - rf, 0)^2) / N) * sqrt(${P}); rf = ${m.rfAnnual} a year, per period (1 + rf)^(1/${P}) - 1.`,
    `Max drawdown = min(E / cummax(E) - 1) with its peak, trough and recovery dates; CAGR = (E_end / E_0)^(${P} / N) - 1; Calmar = CAGR / |max drawdown|; volatility = std(r) * sqrt(${P}).`,
    `Annualised figures (CAGR, volatility, Sharpe, Sortino, Calmar, alpha, capture ratios) need at least ${MIN_ANNUALISED_PERIODS} daily returns (3 months); a shorter run shows them as null.`,
    `Against the benchmark's daily returns b (quantstats / empyrical): beta = cov(r, b) / var(b); alpha = ${P} * (mean(r - rf) - beta * mean(b - rf)); correlation = Pearson; information ratio = mean(r - b) / std(r - b), daily; up (down) capture = annualised return of r over that of b on the days b > 0 (b < 0).`,
    'Drawdown periods as quantstats drawdown_details: start and end are the first and last closes under water, days = calendar days from start to end + 1; the five deepest are listed. Skew and kurtosis are the sample (pandas) G1 and excess G2; daily VaR 95% = mean(r) - 1.6449 * std(r) and CVaR 95% = mean(r) - 2.0627 * std(r) (parametric normal, quantstats); best and worst months and years compound the daily returns.',
    'Trade statistics are over closed round trips (FIFO lots); exposure = share of daily closes with a position; turnover = traded value / mean equity over the whole run.',
    'A metric that is undefined for the run (e.g. Sharpe of a flat curve, profit factor with no losing trade) is null, shown as a dash.',
    'Times are ISO-8601 UTC; daily dates are the UTC date of the bar.',
  ];
}

export function toReportMetrics(m: Metrics): ReportMetrics {
  return {
    ...m,
    maxDrawdownStart: m.maxDrawdownStart === null ? null : isoTime(m.maxDrawdownStart),
    maxDrawdownTrough: m.maxDrawdownTrough === null ? null : isoTime(m.maxDrawdownTrough),
    maxDrawdownRecovery: m.maxDrawdownRecovery === null ? null : isoTime(m.maxDrawdownRecovery),
  };
}

export function toReportTrade(t: Trade): ReportTrade {
  return {
    symbol: t.symbol,
    side: t.side,
    strategy: t.strategy,
    entryTime: isoTime(t.entryTime),
    exitTime: isoTime(t.exitTime),
    entryPrice: t.entryPrice,
    exitPrice: t.exitPrice,
    quantity: t.quantity,
    pnl: t.pnl,
    commission: t.commission,
  };
}

export function toReportOpenPosition(p: OpenPositionInput): ReportOpenPosition {
  return {
    symbol: p.symbol,
    quantity: p.quantity,
    avgCost: p.avgCost,
    lastPrice: p.lastPrice,
    marketValue: p.quantity * p.lastPrice * (p.multiplier ?? 1),
    unrealizedPnl: (p.lastPrice - p.avgCost) * p.quantity * (p.multiplier ?? 1),
    markedAt: isoTime(p.markedAt),
  };
}

const USES_LIMIT = new Set(['LMT', 'STP LMT']);
const USES_STOP = new Set(['STP', 'STP LMT', 'TRAIL']);

export function toReportOrder(o: OrderLike): ReportOrder {
  return {
    id: o.id,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.qty.kind === 'all-in' ? 'all-in' : o.qty.shares,
    ...(USES_LIMIT.has(o.type) && Number.isFinite(o.limit) ? { limit: o.limit } : {}),
    ...(USES_STOP.has(o.type) && Number.isFinite(o.stop) ? { stop: o.stop } : {}),
    tif: o.tif,
    status: o.status,
    submittedAt: isoTime(o.submittedAt),
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
    commission: o.commission,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.legs !== undefined
      ? { legs: o.legs.map((l) => ({ symbol: l.symbol, side: l.side, ratio: l.ratio, filledQty: l.filledQty, avgFillPrice: l.avgFillPrice })) }
      : {}),
  };
}

export function toReportFill(f: FillLike): ReportFill {
  return {
    orderId: f.orderId,
    symbol: f.symbol,
    time: isoTime(f.ts),
    quantity: f.qty,
    price: f.price,
    commission: f.commission,
  };
}

export function toReportRiskEvent(e: RiskEvent): ReportRiskEvent {
  return {
    time: isoTime(e.ts),
    orderId: e.orderId,
    check: e.check,
    value: e.value,
    limit: e.limit,
    message: e.message,
  };
}

export function toReportEquity(equity: readonly EquityPoint[], exposure?: ArrayLike<number>): ReportEquityRow[] {
  const dd = drawdownSeries(equity);
  return equity.map((p, i) => {
    const gross = exposure !== undefined && i < exposure.length ? exposure[i] : NaN;
    const x = p.equity > 0 ? Math.abs(gross) / p.equity : NaN;
    return { date: isoDate(p.ts), equity: p.equity, cash: p.cash, drawdown: dd[i], exposure: Number.isFinite(x) ? x : null };
  });
}

/**
 * Buy-and-hold of the benchmark symbol, one value per equity point: the latest close at or before the
 * point's ts (carried forward over days without a bar), scaled so the first point is the starting cash.
 * Points before the symbol's first close use that first close (the benchmark starts flat at the cash).
 */
export function toReportBenchmark(equity: readonly EquityPoint[], startingCash: number, b: BenchmarkInput): ReportBenchmark {
  const n = b.ts.length;
  if (b.close.length !== n) throw new Error(`benchmark ${b.symbol}: ${n} times but ${b.close.length} closes`);
  const closes: number[] = [];
  let j = -1;
  for (const p of equity) {
    while (j + 1 < n && b.ts[j + 1] <= p.ts) j++;
    closes.push(j >= 0 ? b.close[j] : n > 0 ? b.close[0] : NaN);
  }
  const base = closes.length > 0 ? closes[0] : NaN;
  return {
    symbol: b.symbol,
    equity: closes.map((c) => (Number.isFinite(c) && base > 0 ? (startingCash * c) / base : startingCash)),
  };
}

/** Rolling Sharpe and volatility aligned with the equity rows: row i uses the returns ending at row i. */
export function toReportRolling(equity: readonly EquityPoint[], rfAnnual: number, periodsPerYear: number, window = ROLLING_WINDOW): ReportRolling {
  const r = dailyReturns(equity);
  const rf = (1 + rfAnnual) ** (1 / periodsPerYear) - 1;
  const lead: (number | null)[] = equity.length > 0 ? [null] : [];
  return {
    window,
    sharpe: [...lead, ...rollingSharpe(r, window, rf, periodsPerYear)],
    volatility: [...lead, ...rollingVolatility(r, window, periodsPerYear)],
  };
}

/** The benchmark statistics of the run's daily returns against the report's buy-and-hold curve (same points). */
export function toReportBenchmarkStats(
  equity: readonly EquityPoint[],
  benchmark: ReportBenchmark,
  m: Pick<Metrics, 'rfAnnual' | 'periodsPerYear'>,
): ReportBenchmarkStats {
  const r = dailyReturns(equity);
  const b = new Float64Array(r.length);
  for (let i = 1; i < benchmark.equity.length; i++) b[i - 1] = benchmark.equity[i] / benchmark.equity[i - 1] - 1;
  return { symbol: benchmark.symbol, ...benchmarkStats(r, b, { rfAnnual: m.rfAnnual, periodsPerYear: m.periodsPerYear }) };
}

/** The `n` deepest drawdowns with YYYY-MM-DD (UTC) dates. */
export function toReportDrawdowns(equity: readonly EquityPoint[], n = 5): ReportDrawdown[] {
  return worstDrawdowns(equity, n).map((d) => ({
    peak: isoDate(d.peak),
    start: isoDate(d.start),
    trough: isoDate(d.trough),
    end: isoDate(d.end),
    recovery: d.recovery === null ? null : isoDate(d.recovery),
    depth: d.depth,
    days: d.days,
  }));
}

/** The whole report, keys in the documented order (report.json keeps it). */
export function buildReport(input: ReportInput): Report {
  const computed =
    input.metrics ??
    computeMetrics({
      equity: input.equity,
      exposure: input.exposure,
      trades: input.trades,
      fills: input.fills,
      rfAnnual: input.rfAnnual,
    });
  // a run under three months shows no annualised figure (engine/metrics/short-run.ts)
  const metrics = withoutShortRunAnnualised(computed);
  const note = annualisedNote(metrics.periods);
  const benchmark = input.benchmark !== undefined ? toReportBenchmark(input.equity, input.startingCash, input.benchmark) : undefined;
  const last = input.equity[input.equity.length - 1];
  return {
    tradebench: {
      version: input.version,
      conventions: [...standardConventions(metrics), ...(input.extraConventions ?? [])],
    },
    ...(input.inSample !== undefined ? { inSample: input.inSample } : {}),
    ...(input.warnings !== undefined && input.warnings.length > 0 ? { warnings: [...input.warnings] } : {}),
    config: input.config,
    startingCash: input.startingCash,
    finalEquity: last !== undefined ? last.equity : input.startingCash,
    metrics: toReportMetrics(metrics),
    ...(note !== null ? { annualisedNote: note } : {}),
    trades: input.trades.map(toReportTrade),
    openPositions: input.openPositions.map(toReportOpenPosition),
    attribution: [...(input.attribution ?? [])],
    orders: input.orders.map(toReportOrder),
    fills: input.fills.map(toReportFill),
    riskEvents: input.riskEvents.map(toReportRiskEvent),
    equity: toReportEquity(input.equity, input.exposure),
    ...(benchmark !== undefined ? { benchmark } : {}),
    rolling: toReportRolling(input.equity, metrics.rfAnnual, metrics.periodsPerYear),
    ...(benchmark !== undefined ? { benchmarkStats: toReportBenchmarkStats(input.equity, benchmark, metrics) } : {}),
    drawdowns: toReportDrawdowns(input.equity),
    distribution: returnDistribution(input.equity),
    ...(input.corporateActions !== undefined && input.corporateActions.length > 0 ? { corporateActions: [...input.corporateActions] } : {}),
    ...(input.currencies !== undefined ? { currencies: [...input.currencies] } : {}),
  };
}
