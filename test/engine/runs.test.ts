import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { chunkBars, loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { runBacktest, runBacktestChunked } from '../../engine/run/backtest.ts';
import { buildSlots, DEFAULT_PORTFOLIO } from '../../strategies/index.ts';
import { config } from './harness.ts';

let store: Store;
let daily: BarSeries[];
let minute: BarSeries[];

beforeAll(async () => {
  store = await openStore(':memory:');
  const factorsDir = path.join(SAMPLE_DIR, 'factor_files');
  await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir });
  await importPaths(store, [path.join(SAMPLE_DIR, 'minute')], { interval: '1m', factorsDir });
  daily = await loadBars(store, { symbols: ['SPY', 'AAPL', 'IBM'], interval: '1d' });
  minute = await loadBars(store, { symbols: ['SPY', 'IBM'], interval: '1m' });
});
afterAll(() => store?.close());

describe('multi-strategy portfolio', () => {
  it('gives each member its sleeve of the capital and attributes every trade and fill to it', () => {
    const symbols = ['SPY', 'AAPL', 'IBM'];
    const slots = buildSlots('portfolio', {}, symbols);
    const r = runBacktest(daily, config({ strategy: 'portfolio', symbols, cash: 1_000_000 }), slots);
    const books = r.engine.portfolio.books;
    expect(books.map((b) => b.startingCash)).toEqual(DEFAULT_PORTFOLIO.map((m) => m.weight * 1_000_000));
    const marks = r.engine.portfolio.marks;
    expect(books.reduce((s, b) => s + b.equity(marks), 0)).toBeCloseTo(r.engine.portfolio.equity(), 6);
    for (const b of books) {
      const trades = r.engine.trades.filter((t) => t.strategy === b.name);
      expect(trades.length).toBeGreaterThan(0);
      // each sleeve's cash is its own: start + its own fills only
      const own = r.journal.fills.filter((f) => f.strategy === b.name);
      const cash = own.reduce((c, f) => c - f.qty * f.price - f.commission, b.startingCash);
      expect(b.cash).toBeCloseTo(cash, 6);
      expect(b.cash).toBeGreaterThanOrEqual(0); // all-in never spends another sleeve's cash
    }
  });

  it('rejects a bad member with a clear message', () => {
    expect(() => buildSlots('portfolio', { members: [{ strategy: 'sma-cross', params: { fast: 0 }, weight: 1 }] }, ['SPY'])).toThrow(
      /sma-cross: param 'fast' must be >= 1, got 0/,
    );
    expect(() => buildSlots('portfolio', { members: [{ strategy: 'sma-cross', weight: -1 }] }, ['SPY'])).toThrow(/members\[0\]\.weight must be a number > 0/);
  });
});

describe('intraday (minute bars, America/New_York sessions)', () => {
  it("samples equity at the first bar, then at each session day's last bar", () => {
    const r = runBacktest(
      minute,
      config({ symbols: ['SPY', 'IBM'], interval: '1m', params: { fast: 5, slow: 20 } }),
      buildSlots('sma-cross', { fast: 5, slow: 20 }, ['SPY', 'IBM']),
    );
    const days = r.journal.equityCurve.map((p) => new Date(p.ts - 4 * 3_600_000).toISOString().slice(0, 10));
    expect(days).toEqual(['2013-10-04', '2013-10-04', '2013-10-07', '2013-10-08', '2013-10-09', '2013-10-10', '2013-10-11']);
    expect(r.journal.equityCurve[0].equity).toBe(100_000);
    expect(r.engine.trades.length).toBeGreaterThan(10);
    for (const f of r.journal.fills) expect(f.ts).toBeGreaterThanOrEqual(r.engine.orders[f.orderId - 1].submittedAt);
  });

  it('a DAY order expires at the session change; MOC fills at the bar ending 16:00; MOO at the 09:30 bar', () => {
    const spy = [minute[0]];
    const at = (hhmm: string, day = '2013-10-07') => Date.parse(`${day}T${hhmm}:00-04:00`);
    let sent = false;
    const strategy: Strategy = {
      onBar(ctx) {
        if (sent || ctx.now !== at('10:01')) return;
        sent = true;
        ctx.submit({ symbol: 'SPY', side: 'BUY', type: 'LMT', qty: 1, limit: 1, tif: 'DAY' });
        ctx.submit({ symbol: 'SPY', side: 'BUY', type: 'MOC', qty: 1 });
        ctx.submit({ symbol: 'SPY', side: 'BUY', type: 'MOO', qty: 1 });
      },
    };
    const r = runBacktest(spy, config({ symbols: ['SPY'], interval: '1m' }), [{ name: 's', strategy, weight: 1 }]);
    const [day, moc, moo] = r.engine.orders;
    expect(day.status).toBe('EXPIRED');
    const expired = r.journal.orderEvents.find((e) => e.orderId === day.id && e.to === 'EXPIRED')!;
    expect(expired.ts).toBeGreaterThanOrEqual(at('04:00', '2013-10-08'));
    const mocFill = r.journal.fills.find((f) => f.orderId === moc.id)!;
    expect(mocFill.ts).toBe(at('15:59'));
    const i = spy[0].ts.indexOf(at('15:59'));
    expect(mocFill.price).toBe(spy[0].close[i]);
    const mooFill = r.journal.fills.find((f) => f.orderId === moo.id)!;
    expect(mooFill.ts).toBe(at('09:30', '2013-10-08'));
    expect(mooFill.price).toBe(spy[0].open[spy[0].ts.indexOf(at('09:30', '2013-10-08'))]);
  });
});

describe('chunked replay (memory stays flat as history grows)', () => {
  it('gives the same journal whatever the chunk size, and history reads across chunk boundaries', async () => {
    const symbols = ['SPY', 'AAPL', 'IBM'];
    const reads: number[][] = [];
    const run = async (targetRows: number) => {
      const slots = buildSlots('portfolio', {}, symbols);
      // a probe that reads 250 bars back on every bar, across any chunk boundary
      const seen: number[] = [];
      slots.push({ name: 'probe', weight: 0.01, strategy: { onBar: (ctx, bar) => void seen.push(ctx.close(bar.sid, 250)) } });
      const r = await runBacktestChunked(await chunkBars(store, { symbols, interval: '1d' }, targetRows), config({ strategy: 'portfolio', symbols }), slots);
      reads.push(seen);
      return r;
    };
    const whole = await run(1e9);
    const small = await run(997);
    expect(small.bars).toBe(whole.bars);
    expect(JSON.stringify(small.journal)).toBe(JSON.stringify(whole.journal));
    expect(reads[1]).toEqual(reads[0]);
    // and the probe really read history: bar i of SPY sees the close 250 bars earlier
    const spy = daily[0];
    expect(reads[0][3 * 300]).toBe(spy.close[300 - 250]);
  });
});
