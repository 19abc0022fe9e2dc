// The JSON document written as report.json (and embedded in report.html).
// Every time is an ISO-8601 UTC string converted from a data timestamp; a report holds no wall-clock value.
import type { AppliedAction } from '../core/corporate-action.ts';
import type { OrderStatus, OrderType, Side, TimeInForce } from '../core/types.ts';
import type { BenchmarkStats } from '../metrics/benchmark-stats.ts';
import type { ReturnDistribution } from '../metrics/distribution.ts';
import type { Metrics } from '../metrics/metrics.ts';

/**
 * Metrics with the drawdown instants as ISO-8601 UTC strings instead of epoch ms. A run of fewer than 63 daily
 * returns has its annualised figures (cagr, volatility, sharpe, sortino, calmar) null: see `Report.annualisedNote`.
 */
export type ReportMetrics = Omit<Metrics, 'maxDrawdownStart' | 'maxDrawdownTrough' | 'maxDrawdownRecovery'> & {
  maxDrawdownStart: string | null;
  maxDrawdownTrough: string | null;
  maxDrawdownRecovery: string | null;
};

export interface ReportTrade {
  symbol: string;
  side: 'LONG' | 'SHORT';
  strategy: string;
  entryTime: string;
  exitTime: string;
  entryPrice: number;
  exitPrice: number;
  quantity: number;
  pnl: number;
  commission: number;
}

export interface ReportOpenPosition {
  symbol: string;
  /** signed: negative is short */
  quantity: number;
  avgCost: number;
  lastPrice: number;
  marketValue: number;
  unrealizedPnl: number;
  /** the close the position is marked at (not sold) */
  markedAt: string;
}

export interface ReportOrder {
  id: number;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: number | 'all-in';
  limit?: number;
  stop?: number;
  tif: TimeInForce;
  status: OrderStatus;
  submittedAt: string;
  filledQty: number;
  avgFillPrice: number;
  commission: number;
  reason?: string;
  /** a combo order (IB's BAG): its legs; its quantity, limit and avgFillPrice are then per combo, at net prices */
  legs?: ReportOrderLeg[];
}

/** One leg of a combo order: as defined (IB's ComboLeg action and ratio) and what it filled. */
export interface ReportOrderLeg {
  symbol: string;
  side: Side;
  ratio: number;
  /** signed units filled (negative: sold); each leg's fills are in `fills` under the combo's orderId */
  filledQty: number;
  avgFillPrice: number;
}

export interface ReportFill {
  orderId: number;
  symbol: string;
  time: string;
  /** signed: negative sells */
  quantity: number;
  price: number;
  commission: number;
}

export interface ReportRiskEvent {
  time: string;
  orderId: number;
  check: string;
  value: number;
  limit: number;
  message: string;
}

export interface ReportEquityRow {
  /** YYYY-MM-DD (UTC) of the daily close */
  date: string;
  equity: number;
  cash: number;
  /** E / cummax(E) - 1 */
  drawdown: number;
  /** gross market value / equity at the close (0 = flat); null when the gross value is unknown or equity <= 0 */
  exposure: number | null;
}

/** Buy-and-hold of one symbol, scaled to the starting cash: one value per `Report.equity` row (same dates). */
export interface ReportBenchmark {
  symbol: string;
  /** startingCash * close_t / close_0, the symbol's close carried forward over days it has no bar */
  equity: number[];
}

/** Rolling statistics of the daily returns, one value per `Report.equity` row (index 0 is always null). */
export interface ReportRolling {
  /** returns per window */
  window: number;
  /** annualised Sharpe of the window's excess returns (ddof = 1); null until the window is full or when flat */
  sharpe: (number | null)[];
  /** annualised volatility of the window's returns (ddof = 1); null until the window is full */
  volatility: (number | null)[];
}

/**
 * The run's daily returns r against the benchmark's b (engine/metrics/benchmark-stats.ts states each formula):
 * quantstats' beta, alpha (annualised x P), correlation and information ratio, empyrical's up and down capture.
 */
export interface ReportBenchmarkStats extends BenchmarkStats {
  symbol: string;
}

/** One drawdown period, dated as quantstats' drawdown_details (engine/metrics/drawdowns.ts); dates are YYYY-MM-DD UTC. */
export interface ReportDrawdown {
  /** the last close at the high the period falls from */
  peak: string;
  /** the first close under water (quantstats "start") */
  start: string;
  /** the first close at the period's minimum (quantstats "valley") */
  trough: string;
  /** the last close under water, or the run's last close when not recovered (quantstats "end") */
  end: string;
  /** the first close back at or above the peak; null when not recovered */
  recovery: string | null;
  /** E / peak - 1 at the trough: negative */
  depth: number;
  /** calendar days from start to end, both included (quantstats "days") */
  days: number;
}

/** The distribution of the daily returns (engine/metrics/distribution.ts): skew, excess kurtosis, VaR, CVaR, extremes. */
export type ReportDistribution = ReturnDistribution;

/** One strategy's sleeve of the account: where the P&L came from. */
export interface ReportAttribution {
  strategy: string;
  startingCash: number;
  equity: number;
  realizedPnl: number;
  unrealizedPnl: number;
  commission: number;
  trades: number;
}

/**
 * A run's overlap with the training window of the model it trades on (engine/ml/in-sample.ts): present only
 * when some of its bars are ones the model was trained on, so results there are in-sample.
 */
export interface ReportInSample {
  /** the model as the run names it (ml-signal's `model` param), e.g. models/gbt-daily */
  model: string;
  /** the card's training window (trainedFrom is null when the card has no training.from) */
  trainedFrom: string | null;
  trainedTo: string;
  /** bars of the run (over all symbols) dated in the training window, and all bars of the run */
  bars: number;
  totalBars: number;
  /** UTC dates of the first and last of those bars */
  from: string;
  to: string;
  /** the model's label horizon in bars: the purge between the training window and the first unseen label */
  horizon: number;
  /**
   * The first bar of the data after the training window and its label horizon (the model's test window
   * starts there: no training label looks at it); null when the data has none.
   */
  outOfSampleFrom: string | null;
  /** the warning, one line (the CLIs print it after `warning: `) */
  message: string;
}

export interface Report {
  tradebench: {
    version: string;
    /** human sentences stating the conventions the run used */
    conventions: string[];
  };
  /** the run trades on a model over bars it was trained on (absent otherwise) */
  inSample?: ReportInSample;
  /** warnings about the run's settings, one line each (e.g. per-share commissions on adjusted prices); absent when none */
  warnings?: string[];
  /** the run config as given (strategy, params, symbols, range, costs, ...) */
  config: Record<string, unknown>;
  startingCash: number;
  finalEquity: number;
  metrics: ReportMetrics;
  /** why the annualised figures are null: the run has fewer than 63 daily returns (absent otherwise) */
  annualisedNote?: string;
  trades: ReportTrade[];
  openPositions: ReportOpenPosition[];
  /** per-strategy attribution (one row for a single-strategy run) */
  attribution: ReportAttribution[];
  orders: ReportOrder[];
  fills: ReportFill[];
  riskEvents: ReportRiskEvent[];
  equity: ReportEquityRow[];
  /** buy-and-hold benchmark (absent when the run gave no benchmark prices) */
  benchmark?: ReportBenchmark;
  rolling: ReportRolling;
  /** the run against its benchmark (absent when the report has no benchmark) */
  benchmarkStats?: ReportBenchmarkStats;
  /** the five deepest drawdowns, deepest first (every report built by buildReport has it; absent in older reports) */
  drawdowns?: ReportDrawdown[];
  /** the distribution of the daily returns (every report built by buildReport has it; absent in older reports) */
  distribution?: ReportDistribution;
  /** splits and dividends applied during a raw-price run, in order (absent when none) */
  corporateActions?: ReportCorporateAction[];
  /** a multi-currency run's exposure per currency at its end, in the account's currency (absent: one currency) */
  currencies?: ReportCurrency[];
}

/**
 * One currency's exposure at the end of a run: its cash, the positions that move with it (a stock or future in
 * it; an FX pair's base currency for the pair), and both together in the account's currency.
 */
export interface ReportCurrency {
  currency: string;
  /** cash held in it (negative: borrowed, as a purchase in it leaves until converted) */
  cash: number;
  /** the positions exposed to it, in it */
  positions: number;
  /** units of the account's currency per unit of it at the end (1 for the account's own) */
  rate: number;
  /** (cash + positions) x rate */
  exposure: number;
}

/** A split or dividend as a raw-price run applied it (engine/run/corporate-actions.ts), with its journal line. */
export interface ReportCorporateAction extends Omit<AppliedAction, 'ts'> {
  message: string;
}
