import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { buildReport, toReportFill, toReportOrder, toReportRiskEvent, type Report } from '../report/index.ts';
import type { ReportCurrency, ReportInSample } from '../report/report-types.ts';
import type { ContractTerms } from '../core/types.ts';
import type { BacktestResult } from './backtest.ts';
import { describeAction } from './corporate-actions.ts';

/** The report's sentence on the prices the run traded (config.prices). */
function pricesConvention(prices: string): string {
  if (prices === 'raw')
    return "Prices: raw (as traded). Splits and cash dividends are events on the first bar of their ex-date, before any fill: a split multiplies positions by its ratio and divides average costs, marks, the history and working orders' prices by it (fractional shares paid in lieu at the last close); a dividend pays (a short pays) position x amount in cash on the ex-date. Share counts and per-share commissions are those traded.";
  if (prices === 'adjusted')
    return 'Prices: split- and dividend-adjusted (back-adjusted from the latest bar, computed at load from the stored factors where the data has them). Share counts before a split are split-adjusted: per-share commissions on them are not what was paid.';
  return 'Prices: as stored, of unknown basis (the data was imported without --factors or --adjusted); if they are split-adjusted, share counts before a split and per-share commissions on them are not what was traded.';
}

const VERSION: string = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;

/**
 * A read-only array whose element i is `map(source[i])`, converted at each read and never stored: the
 * report's orders, fills and risk events of a long run (hundreds of thousands) then cost no second copy
 * beside the engine's, since report.json and report.html are streamed from them. Array.isArray, length,
 * indexing, iteration, slice/map/filter and JSON.stringify all behave as on the converted array (slice and
 * iteration, which the report writers use, without a proxy trap per element).
 */
export function mappedView<T, U>(source: readonly T[], map: (t: T) => U): U[] {
  const at = (v: T | undefined) => (v === undefined ? undefined : map(v)); // a hole stays a hole (null in JSON), as with Array.map
  const slice = (start?: number, end?: number) => source.slice(start, end).map((v) => map(v));
  function* iterate(): Generator<U | undefined> {
    for (let i = 0; i < source.length; i++) yield at(source[i]);
  }
  return new Proxy(source as unknown as U[], {
    get(target, key, receiver) {
      if (typeof key === 'string' && key.length > 0 && key.length < 16 && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57) {
        const i = Number(key);
        if (Number.isInteger(i) && String(i) === key && i < source.length) return at(source[i]);
      }
      if (key === 'slice') return slice;
      if (key === Symbol.iterator) return iterate;
      return Reflect.get(target, key, receiver);
    },
    set() {
      throw new TypeError('a report list built from the engine is read-only');
    },
  });
}

/**
 * The report of a finished backtest: pure function of the result, so a repeated run gives the same bytes.
 * Its orders, fills and risk events are views of the engine's (see mappedView), not copies. `inSample`
 * flags a run over bars its model was trained on (engine/ml/in-sample.ts).
 */
/**
 * Each currency's cash and the positions that move with it at the end of a run, valued in the account's currency
 * at the rates in force. A pair ('EUR.USD') moves with its base currency (EUR), its cash is in its quote (USD).
 */
function currencyExposure(r: BacktestResult): ReportCurrency[] {
  const p = r.engine.portfolio;
  const out = new Map<string, ReportCurrency>();
  const row = (currency: string, rate: number) => {
    let e = out.get(currency);
    if (!e) out.set(currency, (e = { currency, cash: 0, positions: 0, rate, exposure: 0 }));
    return e;
  };
  row(r.config.baseCurrency ?? 'USD', 1);
  for (const b of p.books) {
    row(r.config.baseCurrency ?? 'USD', 1).cash += b.cash;
    b.foreign.forEach((amount, c) => {
      row(p.terms.currencies[c]!, p.terms.fx[c]!).cash += amount;
    });
    b.qty.forEach((q, s) => {
      if (q === 0) return;
      const terms = r.config.contracts?.[p.symbols[s]!];
      const mark = p.marks[s]!;
      if (terms?.secType === 'CASH') {
        // q units of the pair's base currency, each worth `mark` of its quote currency
        row(p.symbols[s]!.split('.')[0]!, mark * p.fxOf(s)).positions += q;
        return;
      }
      const value = terms?.secType === 'FUT' ? q * (mark - b.avgCost[s]!) * p.mult[s]! : q * mark * p.mult[s]!;
      row(terms?.currency ?? 'USD', p.fxOf(s)).positions += value;
    });
  }
  for (const e of out.values()) e.exposure = (e.cash + e.positions) * e.rate;
  return [...out.values()];
}

/** The multiplier of each symbol with contract terms. */
function multipliersOf(contracts: Record<string, ContractTerms>): Record<string, number> {
  return Object.fromEntries(Object.entries(contracts).map(([symbol, t]) => [symbol, t.multiplier]));
}

export function backtestReport(r: BacktestResult, dataSource: string, extras: { inSample?: ReportInSample; warnings?: readonly string[] } = {}): Report {
  const { config, engine, journal } = r;
  const p = engine.portfolio;
  const openPositions = p.books.flatMap((b) =>
    [...b.qty].flatMap((q, sid) =>
      q === 0
        ? []
        : [
            {
              symbol: p.symbols[sid],
              quantity: q,
              avgCost: b.avgCost[sid],
              lastPrice: p.marks[sid],
              markedAt: r.lastBarTs[sid],
              strategy: b.name,
              ...(p.mult[sid] !== 1 ? { multiplier: p.mult[sid] } : {}),
            },
          ],
    ),
  );
  const c = config;
  const exposure = journal.equityCurve.map((e) => e.gross);
  const report = buildReport({
    version: VERSION,
    config: { ...c, data: dataSource, strategies: p.books.map((b) => ({ name: b.name, cash: b.startingCash })) },
    startingCash: c.cash,
    equity: journal.equityCurve,
    exposure,
    ...(r.benchmark !== undefined && r.benchmark.ts.length > 0 ? { benchmark: r.benchmark } : {}),
    trades: engine.trades,
    // the long lists are set below as views; the metrics are what buildReport would compute from them
    metrics: computeMetrics({
      equity: journal.equityCurve,
      exposure,
      trades: engine.trades,
      fills: journal.fills,
      rfAnnual: c.rfAnnual,
      ...(c.contracts ? { multipliers: multipliersOf(c.contracts) } : {}),
    }),
    fills: [],
    orders: [],
    riskEvents: [],
    openPositions,
    attribution: p.books.map((b) => ({
      strategy: b.name,
      startingCash: b.startingCash,
      equity: b.equity(p.marks),
      realizedPnl: b.realized,
      unrealizedPnl: b.unrealized(p.marks),
      commission: b.commission,
      trades: engine.trades.filter((t) => t.strategy === b.name).length,
    })),
    rfAnnual: c.rfAnnual,
    extraConventions: [
      `Commission model: ${JSON.stringify(c.commission)}; slippage model: ${JSON.stringify(c.slippage)} (slippage applies to market and stop fills only, kept inside the bar's range).`,
      `Sizing: ${JSON.stringify(c.sizing)}.${c.volumeCap > 0 ? ` Volume cap: ${c.volumeCap * 100}% of each bar's volume; the rest stays working.` : ''}`,
      `Bracket legs become active from the bar after the entry fills; when both legs are reachable in one bar the ${c.bracketTie === 'stop' ? 'stop-loss fills (worst case)' : 'take-profit fills'}.`,
      "Simultaneous bars are processed in the run's symbol order; moving averages are summed afresh each bar and crossovers compare strictly (equal averages never signal).",
      ...(c.prices !== undefined ? [pricesConvention(c.prices)] : []),
    ],
    ...(extras.inSample !== undefined ? { inSample: extras.inSample } : {}),
    ...(extras.warnings !== undefined && extras.warnings.length > 0 ? { warnings: extras.warnings } : {}),
    ...(r.corporateActions !== undefined && r.corporateActions.length > 0
      ? {
          corporateActions: r.corporateActions.map((a) => ({
            symbol: a.symbol,
            kind: a.kind,
            exDate: a.exDate,
            value: a.value,
            prevClose: a.prevClose,
            positionBefore: a.positionBefore,
            positionAfter: a.positionAfter,
            cash: a.cash,
            ordersAdjusted: a.ordersAdjusted,
            ordersCancelled: a.ordersCancelled,
            message: describeAction(a),
          })),
        }
      : {}),
  });
  if (c.baseCurrency !== undefined || p.books.some((b) => b.foreign.length > 0)) report.currencies = currencyExposure(r);
  report.orders = mappedView(engine.orders, toReportOrder);
  report.fills = mappedView(journal.fills, toReportFill);
  report.riskEvents = mappedView(journal.riskEvents, toReportRiskEvent);
  return report;
}
