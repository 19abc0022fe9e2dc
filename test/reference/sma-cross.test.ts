import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { exactSma } from './exact.ts';
import { parseCsv, referenceSmaCross } from './sma-cross-reference.ts';

const DIR = 'data/sp500-daily/adjusted';
const available = sharedAvailable(DIR);
const SYMBOLS = ['AAPL', 'MSFT', 'JPM', 'XOM', 'GE', 'KO', 'NVDA', 'AMZN', 'C', 'TRMB', 'BAC'];
const PARAMS = [
  { fast: 10, slow: 30 },
  { fast: 20, slow: 50 },
  { fast: 50, slow: 200 },
];
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe.skipIf(!available)('sma-cross agrees trade for trade with an independent reference (S&P 500 daily, 1999-2021)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(
      store,
      SYMBOLS.map((s) => path.join(SHARED, DIR, `${s}.csv`)),
      { interval: '1d' },
    );
  });
  afterAll(() => store?.close());

  for (const symbol of SYMBOLS) {
    for (const p of PARAMS) {
      it(`${symbol} fast=${p.fast} slow=${p.slow}`, async () => {
        const ref = referenceSmaCross(parseCsv(readFileSync(path.join(SHARED, DIR, `${symbol}.csv`), 'utf8')), p.fast, p.slow, 100_000);
        const series = await loadBars(store, { symbols: [symbol], interval: '1d' });
        const cfg = config({ strategy: 'sma-cross', params: p, symbols: [symbol], risk: RESEARCH_RISK });
        const r = runBacktest(series, cfg, buildSlots('sma-cross', p, [symbol]));
        const got = r.engine.trades.map((t) => ({
          entryDate: iso(t.entryTime),
          exitDate: iso(t.exitTime),
          entryPrice: t.entryPrice,
          exitPrice: t.exitPrice,
          quantity: t.quantity,
        }));
        expect(got).toEqual(ref.trades.map(({ pnl: _pnl, ...t }) => t));
        r.engine.trades.forEach((t, i) => expect(t.pnl).toBeCloseTo(ref.trades[i].pnl, 6));
        expect(r.engine.portfolio.position(0)).toBe(ref.openShares);
        expect(Math.abs(r.engine.portfolio.equity() / ref.finalEquity - 1)).toBeLessThan(1e-9);
        expect(ref.trades.length).toBeGreaterThan(5);
      });
    }
  }

  it('BAC fast=10 slow=30: equal true averages on 2013-11-14 do not cross (plain sums differ there by one ulp)', async () => {
    const bars = parseCsv(readFileSync(path.join(SHARED, DIR, 'BAC.csv'), 'utf8'));
    const t = bars.date.indexOf('2013-11-14');
    expect(t).toBeGreaterThan(30);
    const plain = (n: number) => bars.close.slice(t - n + 1, t + 1).reduce((a, b) => a + b, 0) / n;
    expect(plain(10)).toBeGreaterThan(plain(30)); // 12.5758755 > 12.575875499999999: a one-ulp golden cross
    expect(exactSma(bars.close, 10)[t]).toBe(exactSma(bars.close, 30)[t]); // the true averages are equal
    const series = await loadBars(store, { symbols: ['BAC'], interval: '1d' });
    const p = { fast: 10, slow: 30 };
    const r = runBacktest(series, config({ strategy: 'sma-cross', params: p, symbols: ['BAC'], risk: RESEARCH_RISK }), buildSlots('sma-cross', p, ['BAC']));
    const entries = r.engine.trades.map((x) => iso(x.entryTime));
    expect(entries.filter((d) => d >= '2013-11-14' && d <= '2013-11-18')).toEqual([]); // no trade opened 2013-11-15
    expect(entries).toEqual(referenceSmaCross(bars, 10, 30, 100_000).trades.map((x) => x.entryDate));
  });
});
