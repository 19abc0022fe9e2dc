// Builds a Report from the engine's native objects (epoch-ms times, core types).
// Pure: no I/O, no wall clock; the same input gives the same Report.
import type { EpochMs, EquityPoint, Fill, Order, RiskEvent, Trade } from '../core/types.ts';
import { computeMetrics, drawdownSeries, type Metrics } from '../metrics/metrics.ts';
import { isoDate, isoTime } from './format.ts';
import type {
  Report,
  ReportAttribution,
  ReportEquityRow,
  ReportFill,
  ReportMetrics,
  ReportOpenPosition,
  ReportOrder,
  ReportRiskEvent,
  ReportTrade,
} from './report-types.ts';

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
  /** computed from the inputs when absent */
  metrics?: Metrics;
  rfAnnual?: number;
  /** sentences appended to the standard conventions (e.g. the commission and slippage models used) */
  extraConventions?: readonly string[];
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
    marketValue: p.quantity * p.lastPrice,
    unrealizedPnl: (p.lastPrice - p.avgCost) * p.quantity,
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

export function toReportEquity(equity: readonly EquityPoint[]): ReportEquityRow[] {
  const dd = drawdownSeries(equity);
  return equity.map((p, i) => ({ date: isoDate(p.ts), equity: p.equity, cash: p.cash, drawdown: dd[i] }));
}

/** The whole report, keys in the documented order (report.json keeps it). */
export function buildReport(input: ReportInput): Report {
  const metrics =
    input.metrics ??
    computeMetrics({
      equity: input.equity,
      exposure: input.exposure,
      trades: input.trades,
      fills: input.fills,
      rfAnnual: input.rfAnnual,
    });
  const last = input.equity[input.equity.length - 1];
  return {
    tradebench: {
      version: input.version,
      conventions: [...standardConventions(metrics), ...(input.extraConventions ?? [])],
    },
    config: input.config,
    startingCash: input.startingCash,
    finalEquity: last !== undefined ? last.equity : input.startingCash,
    metrics: toReportMetrics(metrics),
    trades: input.trades.map(toReportTrade),
    openPositions: input.openPositions.map(toReportOpenPosition),
    attribution: [...(input.attribution ?? [])],
    orders: input.orders.map(toReportOrder),
    fills: input.fills.map(toReportFill),
    riskEvents: input.riskEvents.map(toReportRiskEvent),
    equity: toReportEquity(input.equity),
  };
}
