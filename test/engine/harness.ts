import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries, OrderRequest } from '../../engine/core/types.ts';
import { RESEARCH_RISK, type RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../../engine/run/backtest.ts';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2020, 0, 1);

/** Daily bars [open, high, low, close, volume] from T0, one day apart. */
export function dailySeries(symbol: string, rows: number[][], start = T0): BarSeries {
  const col = (j: number) => Float64Array.from(rows, (r) => r[j]);
  return {
    symbol,
    interval: '1d',
    ts: Float64Array.from(rows, (_, i) => start + i * DAY),
    open: col(0),
    high: col(1),
    low: col(2),
    close: col(3),
    volume: col(4),
  };
}

/** One quote bar: the bid's and ask's [open, high, low, close] (NaN: no quote that side), and their sizes. */
export interface QuoteRow {
  bid: readonly number[];
  ask: readonly number[];
  bidSize?: number;
  askSize?: number;
}

/**
 * Daily quote bars from T0, as the loader gives them: bid/ask columns, OHLC the mid of the two sides (the side
 * there is when one is missing), volume 0; a quoted side's size is its row's, else `size`.
 */
export function quotedSeries(symbol: string, rows: readonly QuoteRow[], size = 1e6): BarSeries {
  const col = (f: (r: QuoteRow) => number) => Float64Array.from(rows, f);
  const mid = (j: number) => (r: QuoteRow) => {
    const b = r.bid[j]!;
    const a = r.ask[j]!;
    return Number.isNaN(b) ? a : Number.isNaN(a) ? b : (b + a) / 2;
  };
  return {
    symbol,
    interval: '1d',
    ts: Float64Array.from(rows, (_, i) => T0 + i * DAY),
    open: col(mid(0)),
    high: col(mid(1)),
    low: col(mid(2)),
    close: col(mid(3)),
    volume: new Float64Array(rows.length),
    bidOpen: col((r) => r.bid[0]!),
    bidHigh: col((r) => r.bid[1]!),
    bidLow: col((r) => r.bid[2]!),
    bidClose: col((r) => r.bid[3]!),
    bidSize: col((r) => (Number.isNaN(r.bid[0]!) ? 0 : (r.bidSize ?? size))),
    askOpen: col((r) => r.ask[0]!),
    askHigh: col((r) => r.ask[1]!),
    askLow: col((r) => r.ask[2]!),
    askClose: col((r) => r.ask[3]!),
    askSize: col((r) => (Number.isNaN(r.ask[0]!) ? 0 : (r.askSize ?? size))),
  };
}

export function config(over: Partial<BacktestConfig> = {}): BacktestConfig {
  return {
    strategy: 'scripted',
    params: {},
    symbols: ['TEST'],
    interval: '1d',
    cash: 100_000,
    commission: { model: 'none' },
    slippage: { model: 'none' },
    sizing: { kind: 'all-in' },
    risk: RESEARCH_RISK,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: 'America/New_York',
    rfAnnual: 0,
    ...over,
  };
}

/** A strategy that submits the given requests when the given bar (index, per symbol) closes. */
export function scripted(plan: { afterBar: number; req: OrderRequest }[]): Strategy {
  return {
    onBar(ctx, bar) {
      const i = ctx.count(bar.sid) - 1;
      for (const p of plan) if (p.afterBar === i && p.req.symbol === bar.symbol) ctx.submit(p.req);
    },
  };
}

export function runScripted(series: BarSeries[], plan: { afterBar: number; req: OrderRequest }[], over: Partial<BacktestConfig> = {}, risk?: RiskConfig) {
  const cfg = config({ symbols: series.map((s) => s.symbol), ...over, ...(risk ? { risk } : {}) });
  return runBacktest(series, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }]);
}
