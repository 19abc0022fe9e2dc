// tb.backtest: one run through the same code as `npm run backtest`, and its Result (DataFrames, figures, report.json).
import { perShareWarning } from '../data/actions.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { candlesFigure, drawdownFigure, equityFigure, exposureFigure, monthlyFigure, rollingFigure, tradesFigure, type Figure } from '../report/figures.ts';
import type { Report, ReportMetrics, ReportTrade } from '../report/index.ts';
import { runBacktestChunked, type BacktestConfig } from '../run/backtest.ts';
import { backtestReport } from '../run/backtest-report.ts';
import { loadRunSeries, openRunData, type RunDataOptions } from '../run/run-data.ts';
import { show } from './display.ts';
import { runOnModel } from './ml.ts';
import { date, frame, num, type DataFrame } from './frame.ts';
import { dataOptions, resolveStrategy, runConfig, runSettings, type DataOptions, type ResolvedStrategy, type RunOptions } from './options.ts';

/** The charts of a Result: the tearsheet's figures (engine/report/figures.ts). */
export type PlotKind = 'equity' | 'drawdown' | 'rolling' | 'exposure' | 'trades' | 'monthly';

/** Metrics about trades and costs: the buy-and-hold benchmark has none, so stats() leaves them empty for it. */
const NOT_FOR_BENCHMARK = new Set([
  'tradeCount',
  'winRate',
  'profitFactor',
  'avgWin',
  'avgLoss',
  'expectancy',
  'avgHoldingDays',
  'exposure',
  'turnover',
  'totalCommission',
]);

/** A finished backtest: `report` is the report.json object of the same run from `npm run backtest`. */
export class Result {
  /** the metrics of report.json (empyrical/quantstats on the daily equity curve) */
  readonly metrics: ReportMetrics;
  /** the run's config as it ran (params with their defaults) */
  readonly config: BacktestConfig;
  /** `strategy {params}`: the run's name in compare() */
  readonly name: string;

  constructor(
    /** the report.json object */
    readonly report: Report,
    config: BacktestConfig,
    /** what was loaded (promote() loads the same bars again) */
    readonly data: RunDataOptions,
    /** the strategy as run (promote() needs it) */
    readonly strategy: ResolvedStrategy,
  ) {
    this.metrics = report.metrics;
    this.config = config;
    this.name = `${config.strategy} ${JSON.stringify(config.params)}`;
  }

  /** The benchmark's metrics (buy-and-hold, same dates), computed as the run's; undefined without a benchmark. */
  benchmarkMetrics(): Record<string, unknown> | undefined {
    const b = this.report.benchmark;
    if (b === undefined) return undefined;
    const equity = this.report.equity.map((e, i) => ({ ts: Date.parse(e.date), equity: b.equity[i], cash: 0 }));
    return computeMetrics({ equity, trades: [], fills: [], rfAnnual: this.config.rfAnnual }) as unknown as Record<string, unknown>;
  }

  /** Every numeric metric: metric, value, and the benchmark's value beside it (NaN where undefined or not applicable). */
  stats(): DataFrame {
    const bench = this.benchmarkMetrics();
    const rows = Object.entries(this.metrics).filter(([, v]) => typeof v === 'number' || v === null);
    const cols: Record<string, number[] | string[]> = {
      metric: rows.map(([k]) => k),
      value: rows.map(([, v]) => num(v as number | null)),
    };
    if (bench !== undefined) {
      cols[this.report.benchmark!.symbol] = rows.map(([k]) => {
        const v = bench[k];
        return NOT_FOR_BENCHMARK.has(k) || typeof v !== 'number' ? Number.NaN : v;
      });
    }
    return frame(cols);
  }

  /** Closed round trips, one row each (report.trades). */
  trades(): DataFrame {
    const t = this.report.trades;
    return frame({
      symbol: t.map((x) => x.symbol),
      side: t.map((x) => x.side),
      strategy: t.map((x) => x.strategy),
      entryTime: t.map((x) => date(x.entryTime)),
      exitTime: t.map((x) => date(x.exitTime)),
      entryPrice: t.map((x) => x.entryPrice),
      exitPrice: t.map((x) => x.exitPrice),
      quantity: t.map((x) => x.quantity),
      pnl: t.map((x) => x.pnl),
      commission: t.map((x) => x.commission),
    });
  }

  /** Every order (report.orders); quantity NaN and allIn true for all-in orders, limit and stop NaN when absent. */
  orders(): DataFrame {
    const o = [...this.report.orders];
    return frame({
      id: o.map((x) => x.id),
      symbol: o.map((x) => x.symbol),
      side: o.map((x) => x.side),
      type: o.map((x) => x.type),
      quantity: o.map((x) => (x.quantity === 'all-in' ? Number.NaN : x.quantity)),
      allIn: o.map((x) => x.quantity === 'all-in'),
      limit: o.map((x) => num(x.limit)),
      stop: o.map((x) => num(x.stop)),
      tif: o.map((x) => x.tif),
      status: o.map((x) => x.status),
      submittedAt: o.map((x) => date(x.submittedAt)),
      filledQty: o.map((x) => x.filledQty),
      avgFillPrice: o.map((x) => x.avgFillPrice),
      commission: o.map((x) => x.commission),
      reason: o.map((x) => x.reason ?? ''),
    });
  }

  /** Every fill (report.fills); quantity signed, negative sells. */
  fills(): DataFrame {
    const f = [...this.report.fills];
    return frame({
      orderId: f.map((x) => x.orderId),
      symbol: f.map((x) => x.symbol),
      time: f.map((x) => date(x.time)),
      quantity: f.map((x) => x.quantity),
      price: f.map((x) => x.price),
      commission: f.map((x) => x.commission),
    });
  }

  /** Positions open at the end, marked at the last close (report.openPositions). */
  positions(): DataFrame {
    const p = this.report.openPositions;
    return frame({
      symbol: p.map((x) => x.symbol),
      quantity: p.map((x) => x.quantity),
      avgCost: p.map((x) => x.avgCost),
      lastPrice: p.map((x) => x.lastPrice),
      marketValue: p.map((x) => x.marketValue),
      unrealizedPnl: p.map((x) => x.unrealizedPnl),
      markedAt: p.map((x) => date(x.markedAt)),
    });
  }

  /** The daily equity curve (report.equity): date, equity, cash, drawdown, exposure, and the benchmark's equity. */
  equity(): DataFrame {
    const e = this.report.equity;
    const b = this.report.benchmark;
    return frame({
      date: e.map((x) => date(x.date)),
      equity: e.map((x) => x.equity),
      cash: e.map((x) => x.cash),
      drawdown: e.map((x) => x.drawdown),
      exposure: e.map((x) => num(x.exposure)),
      ...(b ? { benchmark: b.equity.slice() } : {}),
    });
  }

  /** Daily simple returns of the equity curve (one row per point after the first), and the benchmark's. */
  returns(): DataFrame {
    const e = this.report.equity;
    const b = this.report.benchmark?.equity;
    const rows = e.slice(1);
    return frame({
      date: rows.map((x) => date(x.date)),
      return: rows.map((x, i) => x.equity / e[i].equity - 1),
      ...(b ? { benchmark: rows.map((_, i) => b[i + 1] / b[i] - 1) } : {}),
    });
  }

  /** Monthly returns: year, month (1-12) and the month's return (last equity of the month over the last before it). */
  monthly(): DataFrame {
    const e = this.report.equity;
    const out: { year: number; month: number; ret: number }[] = [];
    let prev = e[0]?.equity ?? Number.NaN;
    for (let i = 0; i < e.length; i++) {
      const key = e[i].date.slice(0, 7);
      if (i + 1 < e.length && e[i + 1].date.slice(0, 7) === key) continue; // not the month's last point
      out.push({ year: +key.slice(0, 4), month: +key.slice(5, 7), ret: e[i].equity / prev - 1 });
      prev = e[i].equity;
    }
    return frame({ year: out.map((r) => r.year), month: out.map((r) => r.month), return: out.map((r) => r.ret) });
  }

  /** The figure of one chart (the tearsheet's own), displayed inline under tslab; returned either way. */
  plot(kind: PlotKind = 'equity'): Figure {
    return show(this.figure(kind));
  }

  /**
   * Candlesticks of one of the run's symbols with volume below and this run's entries and exits on top, over the
   * run's bars (or `from`..`to` of them), displayed inline under tslab and returned.
   */
  async candles(symbol: string, o: { from?: string; to?: string } = {}): Promise<Figure> {
    const sym = symbol.toUpperCase();
    if (!this.config.symbols.includes(sym)) throw new Error(`candles: ${symbol} is not in this run (${this.config.symbols.join(', ')})`);
    return candlesOf(sym, { ...this.data, from: o.from ?? this.data.from, to: o.to ?? this.data.to }, this.report.trades);
  }

  /** The figure of one chart without displaying it. */
  figure(kind: PlotKind): Figure {
    const r = this.report;
    switch (kind) {
      case 'equity':
        return equityFigure(r);
      case 'drawdown':
        return drawdownFigure(r);
      case 'rolling':
        return rollingFigure(r);
      case 'exposure':
        return exposureFigure(r);
      case 'trades':
        return tradesFigure(r);
      case 'monthly':
        return monthlyFigure(r);
      default:
        throw new Error(`plot: unknown kind '${String(kind)}'; one of equity, drawdown, rolling, exposure, trades, monthly`);
    }
  }
}

/** Candlesticks of one symbol's bars with volume below (default data: the bundled sample), displayed inline under tslab and returned. */
export async function candles(symbol: string, o: DataOptions = {}): Promise<Figure> {
  const { options } = await dataOptions({ ...o, symbols: [symbol] });
  return candlesOf(symbol.toUpperCase(), options);
}

/** Candlesticks of one symbol's bars (with `trades`' entries and exits), displayed inline under tslab and returned. */
async function candlesOf(symbol: string, data: RunDataOptions, trades: readonly ReportTrade[] = []): Promise<Figure> {
  const { series } = await loadRunSeries({ ...data, symbols: [symbol] }, { anyInstrument: true });
  if (series.length === 0 || series[0].ts.length === 0) throw new Error(`candles: no ${data.interval} bars of ${symbol} in ${data.data} for those dates`);
  return show(candlesFigure(symbol, series[0], trades));
}

/**
 * Runs a backtest the way `npm run backtest` does (same data loading, config, engine and report code), with the
 * run defaults for everything not given: the bundled sample, RUN_DEFAULTS, session rth, the data's prices.
 */
export async function backtest(o: RunOptions): Promise<Result> {
  const raw = o.params ?? {};
  const strategy = resolveStrategy(o.strategy, raw);
  const params = strategy.params(raw); // checked before any data is read
  const settings = runSettings(o);
  const { options, source } = await dataOptions(o);
  strategy.buildSlots(strategy.name, raw, options.symbols ?? ['CHECK']);
  const data = await openRunData(options);
  let config: BacktestConfig;
  let report: Report;
  try {
    config = runConfig(o, { strategy: strategy.name, params, symbols: data.symbols, settings, data: options, prices: data.prices, benchmark: o.benchmark });
    if (data.contracts) config = { ...config, contracts: data.contracts };
    const slots = strategy.buildSlots(strategy.name, raw, data.symbols);
    // a run on a model: whole history, batched predictions, in-sample flag in the report (engine/api/ml.ts, as npm run
    // backtest; the CLI also prints it on stderr, the API does not: a notebook fails on any stderr output)
    const { result, inSample } =
      strategy.model === undefined
        ? { result: await runBacktestChunked(data.chunks, config, slots, data.sectors, undefined, { fx: data.fx }), inSample: undefined }
        : await runOnModel(data, config, slots, { name: strategy.name, model: strategy.model });
    const warning = perShareWarning(settings.commission, data.prices, data.unknownBasis);
    report = backtestReport(result, source ?? data.source, { inSample, warnings: warning ? [warning] : [] });
  } finally {
    data.close();
  }
  return new Result(report, config, { ...options, symbols: config.symbols }, strategy);
}
