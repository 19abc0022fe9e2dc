// FX live = FX backtest (issue 15): sma-cross on EUR.USD minute quote bars of 2014-05-01/02 (Oanda, imported with
// npm run import -- --lean), in a GBP account whose USD is converted at the GBP.USD daily rates. The live runner
// trades them against the simulator in lockstep: the simulator replays the quote bars' mid as 5-second bars (IB's
// MIDPOINT bars of a CASH pair on IDEALPRO) and fills each order against the side it takes (a buy the ask, a sell
// the bid) with IDEALPRO's commission; the runner's kernel gets the contract terms, the base currency and the
// rates exactly as the backtest's does. Same orders, fills, trades and equity (in GBP).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLean } from '../../engine/data/lean-import.ts';
import { openStore } from '../../engine/data/store.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { openRunData, type RunDataOptions } from '../../engine/run/run-data.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { fillRow, liveSession, orderRow, tradeRow } from './live-harness.ts';

const FX = 'data/lean-sample/forex';
const available = sharedAvailable(`${FX}/eurusd/minute/oanda_20140502.csv`) && sharedAvailable(`${FX}/gbpusd/daily/oanda.csv`);
let dir = '';
let db = '';

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-fx-live-'));
  db = path.join(dir, 'fx.duckdb');
  const store = await openStore(db);
  try {
    await importLean(store, [
      ...['oanda_20140501.csv', 'oanda_20140502.csv'].map((f) => path.join(SHARED, FX, 'eurusd/minute', f)),
      path.join(SHARED, FX, 'gbpusd/daily/oanda.csv'),
    ]);
  } finally {
    store.close();
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PARAMS = { fast: 10, slow: 30 };

/** The run's data, as npm run backtest and npm run live read it: the pair's quote bars, its terms, GBP rates. */
const runData = () => {
  const o: RunDataOptions = {
    data: db,
    symbols: ['EUR.USD'],
    interval: '1m',
    from: '2014-05-01',
    to: '2014-05-02',
    tz: 'America/New_York',
    baseCurrency: 'GBP',
  };
  return openRunData(o);
};

describe.runIf(available)('FX live against the simulator = backtest (EUR.USD 1m quote bars, GBP account)', () => {
  it('same orders, fills, trades and equity', async () => {
    const bt = await runData();
    const cfg: BacktestConfig = config({
      strategy: 'sma-cross',
      params: PARAMS,
      symbols: bt.symbols,
      interval: '1m',
      // the pair trades around the clock: every bar is the run's
      session: 'extended',
      sizing: { kind: 'fixed', quantity: 100_000 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
      cash: 1_000_000,
      contracts: bt.contracts,
      baseCurrency: 'GBP',
    });
    expect(cfg.contracts).toEqual({ 'EUR.USD': { secType: 'CASH', multiplier: 1, currency: 'USD' } });
    expect(bt.fx).toBeDefined();
    // the series the simulator replays: the chunks of the backtest's data (quote bars with their mid)
    const seen: BarSeries[] = [];
    const chunks = {
      async next() {
        const c = await bt.chunks.next();
        if (c) seen.push(...c);
        return c;
      },
    };
    const backtest = await runBacktestChunked(chunks, cfg, buildSlots('sma-cross', PARAMS, cfg.symbols), bt.sectors, undefined, { fx: bt.fx });
    bt.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.bidOpen).toBeDefined();

    const live = await runData();
    try {
      const { result, sim, runner } = await liveSession(seen, cfg, buildSlots('sma-cross', PARAMS, cfg.symbols), {
        sim: { contracts: cfg.contracts, session: 'extended' },
        runner: { fx: live.fx },
      });
      // a pair is CASH on IDEALPRO at the simulator: its base currency as the symbol, the quote as the currency
      expect(sim.contracts.contract(0)).toMatchObject({ symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', currency: 'USD', localSymbol: 'EUR.USD' });

      expect(backtest.engine.orders.length).toBeGreaterThan(10);
      expect(result.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
      expect(result.journal.fills.map(fillRow)).toEqual(backtest.journal.fills.map(fillRow));
      expect(result.engine.trades.map(tradeRow)).toEqual(backtest.engine.trades.map(tradeRow));
      expect(result.journal.equityCurve).toEqual(backtest.journal.equityCurve);

      // the runner's bars are the stored quote bars: the mid's OHLC from MIDPOINT bars, the closing bid and ask from
      // BID and ASK bars, as the backtest's bars carry them
      const s = seen[0]!;
      const row = (b: { open: number; high: number; low: number; close: number; bid?: number; ask?: number }) => [b.open, b.high, b.low, b.close, b.bid, b.ask];
      expect(runner.barLog.map(row)).toEqual(Array.from(s.ts, (_, i) => [s.open[i], s.high[i], s.low[i], s.close[i], s.bidClose![i], s.askClose![i]]));
      expect(runner.barLog.map((b) => b.ts)).toEqual([...s.ts]);
      // fills at the side taken: a buy at its bar's ask open, a sell at the bid open (the stored quote bar's)
      for (const f of result.journal.fills) {
        const i = s.ts.indexOf(f.ts);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(f.price).toBe(f.qty > 0 ? s.askOpen![i] : s.bidOpen![i]);
        // IDEALPRO: 0.2 bp of the value in USD, at least 2 USD (engine/exec/costs.ts)
        expect(f.commission).toBeCloseTo(Math.max(2, 0.00002 * Math.abs(f.qty) * f.price), 8);
      }
      // the simulator's account holds what the runner's book holds
      expect(sim.account.ledger.qty[0]).toBe(result.journal.fills.reduce((q, f) => q + f.qty, 0));
    } finally {
      live.close();
    }
  }, 180_000);
});
