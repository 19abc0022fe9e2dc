import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.ts';
import { buildReport, type Report } from '../report/index.ts';
import type { BacktestResult } from './backtest.ts';

const VERSION: string = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;

/** The report of a finished backtest: pure function of the result, so a repeated run gives the same bytes. */
export function backtestReport(r: BacktestResult, dataSource: string): Report {
  const { config, engine, journal } = r;
  const p = engine.portfolio;
  const openPositions = p.books.flatMap((b) =>
    [...b.qty].flatMap((q, sid) => (q === 0 ? [] : [{ symbol: p.symbols[sid], quantity: q, avgCost: b.avgCost[sid], lastPrice: p.marks[sid], markedAt: r.lastBarTs[sid], strategy: b.name }])),
  );
  const c = config;
  return buildReport({
    version: VERSION,
    config: { ...c, data: dataSource, strategies: p.books.map((b) => ({ name: b.name, cash: b.startingCash })) },
    startingCash: c.cash,
    equity: journal.equityCurve,
    exposure: journal.equityCurve.map((e) => e.gross),
    ...(r.benchmark !== undefined && r.benchmark.ts.length > 0 ? { benchmark: r.benchmark } : {}),
    trades: engine.trades,
    fills: journal.fills,
    orders: engine.orders,
    riskEvents: journal.riskEvents,
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
      `Sizing: ${JSON.stringify(c.sizing)}.` + (c.volumeCap > 0 ? ` Volume cap: ${c.volumeCap * 100}% of each bar's volume; the rest stays working.` : ''),
      `Bracket legs become active from the bar after the entry fills; when both legs are reachable in one bar the ${c.bracketTie === 'stop' ? 'stop-loss fills (worst case)' : 'take-profit fills'}.`,
      'Simultaneous bars are processed in the run\'s symbol order; moving averages are summed afresh each bar and crossovers compare strictly (equal averages never signal).',
    ],
  });
}
