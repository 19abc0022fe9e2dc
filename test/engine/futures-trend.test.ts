// futures-trend: a crossover on the back-adjusted continuous price, traded in the real contract month and
// rolled by volume. Synthetic contracts make the roll exact; the real ES daily file checks it on real data.
import { describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../engine/core/types.ts';
import { byContract, readFuturesTrades } from '../../engine/data/lean-futures.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { config, DAY, T0 } from './harness.ts';

const FUT: ContractTerms = { secType: 'FUT', multiplier: 50, currency: 'USD' };
const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };

function series(symbol: string, closes: number[], volumes: number[]): BarSeries {
  const c = Float64Array.from(closes);
  return {
    symbol,
    interval: '1d',
    ts: Float64Array.from(closes, (_, i) => T0 + i * DAY),
    open: c.map((x) => x - 0.25),
    high: c.map((x) => x + 1),
    low: c.map((x) => x - 1),
    close: c,
    volume: Float64Array.from(volumes),
  };
}

function run(front: BarSeries, next: BarSeries, params = { fast: 3, slow: 10 }) {
  const symbols = [front.symbol, next.symbol];
  const cfg = config({
    strategy: 'futures-trend',
    params,
    symbols,
    sizing: { kind: 'fixed', quantity: 1 },
    commission: { model: 'ibkr-fixed' },
    risk: NO_LIMITS,
    contracts: Object.fromEntries(symbols.map((s) => [s, FUT])),
  });
  return runBacktest([front, next], cfg, buildSlots('futures-trend', params, symbols));
}

// 12 days down, then up 2 a day: one golden cross, then a steady trend (on the rise the fast(3) average lags the close by 2, the slow(10) by 9: 7 apart);
// once both are on the rise); the next contract trades 40 below the front (a wide backwardation, so that an
// unadjusted series would fall 40 in a day: the fast average 40 / 3 and the slow 40 / 10, crossing below) and
// takes the volume from day 20
const DAYS = 30;
const ROLL = 20;
const GAP = 40;
const closes = Array.from({ length: DAYS }, (_, i) => (i < 12 ? 100 - i : 89 + 2 * (i - 11)));
const frontVolume = closes.map((_, i) => (i < ROLL ? 1000 : 100));
const nextVolume = closes.map((_, i) => (i < ROLL ? 100 : 1000));

describe('futures-trend on synthetic contracts', () => {
  const r = run(
    series('ESZ13', closes, frontVolume),
    series(
      'ESH14',
      closes.map((c) => c - GAP),
      nextVolume,
    ),
  );
  const fills = r.journal.fills.map((f) => ({ day: (f.ts - T0) / DAY, symbol: f.symbol, qty: f.qty, price: f.price }));

  it('rolls a long position into the next contract on the bar the next one leads, at the next open', () => {
    const entry = fills[0]!;
    expect(entry).toMatchObject({ symbol: 'ESZ13', qty: 1 });
    expect(entry.day).toBeLessThan(ROLL);
    // decided on day 20's bars (the next contract's volume leads), filled at day 21's opens
    expect(fills.slice(1)).toEqual([
      { day: ROLL + 1, symbol: 'ESZ13', qty: -1, price: closes[ROLL + 1]! - 0.25 },
      { day: ROLL + 1, symbol: 'ESH14', qty: 1, price: closes[ROLL + 1]! - GAP - 0.25 },
    ]);
    expect([...r.engine.portfolio.books[0]!.qty]).toEqual([0, 1]);
  });

  it('does not read the gap at the roll as a fall: the trend position is kept', () => {
    // without the back-adjustment the continuous price would drop 40 on day 21 and the fast average cross below
    expect(r.engine.orders.filter((o) => o.symbol === 'ESH14' && o.side === 'SELL')).toHaveLength(0);
  });

  it('stays in the front while it leads', () => {
    const held = run(
      series(
        'ESZ13',
        closes,
        frontVolume.map(() => 1000),
      ),
      series(
        'ESH14',
        closes,
        nextVolume.map(() => 100),
      ),
    );
    expect(held.journal.fills.every((f) => f.symbol === 'ESZ13')).toBe(true);
  });
});

describe('futures-trend on the real ES daily bars of 2013', () => {
  const file = 'data/lean-sample/future/es/daily_trade.csv';
  /** one contract month of the 2013 daily bars as a series */
  const toSeries = (month: string, symbol: string): BarSeries => {
    const r = byContract(readFuturesTrades(`${SHARED}/${file}`).filter((x) => x.date < '2014-01-01')).get(month)!;
    const col = (k: 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume') => Float64Array.from(r, (x) => x[k]);
    return { symbol, interval: '1d', ts: col('ts'), open: col('open'), high: col('high'), low: col('low'), close: col('close'), volume: col('volume') };
  };
  it.runIf(sharedAvailable(file))('trades ESZ13 until the volume rolls to ESH14 on 2013-12-13, at 50 USD a point', () => {
    const r = run(toSeries('201312', 'ESZ13'), toSeries('201403', 'ESH14'), { fast: 3, slow: 10 });
    const rollDay = Date.UTC(2013, 11, 13);
    // ESH14 first out-traded ESZ13 on 2013-12-13 (868,208 vs 347,764 contracts): orders before it are in ESZ13, after it in ESH14
    for (const o of r.engine.orders) expect(o.symbol).toBe(o.submittedAt <= rollDay + DAY ? 'ESZ13' : 'ESH14');
    expect(r.engine.orders.some((o) => o.symbol === 'ESH14')).toBe(true);
    // every closed trade made (exit - entry) x 50 less 0.85 a contract each way
    for (const t of r.engine.trades) expect(t.pnl).toBeCloseTo((t.exitPrice - t.entryPrice) * 50 * t.quantity - 1.7 * t.quantity, 9);
    expect(r.engine.trades.length).toBeGreaterThan(0);
  });

  it.runIf(sharedAvailable(file))('an entry decided on the roll day goes into the next contract, not into the expiring one', () => {
    // with 8/10 a golden cross comes on 2013-12-13, the bar on which ESH14 takes the volume: the buy submitted in
    // ESZ13 is cancelled and made in ESH14 at its next open (2013-12-16, 1777.50), with no ESZ13 fill that week
    const r = run(toSeries('201312', 'ESZ13'), toSeries('201403', 'ESH14'), { fast: 8, slow: 10 });
    const week = r.journal.fills.filter((f) => f.ts >= Date.UTC(2013, 11, 14) && f.ts < Date.UTC(2013, 11, 17));
    expect(week.map((f) => [f.symbol, new Date(f.ts).toISOString().slice(0, 10), f.qty, f.price])).toEqual([['ESH14', '2013-12-16', 1, 1777.5]]);
    expect(r.engine.orders.some((o) => o.symbol === 'ESZ13' && o.status === 'CANCELLED')).toBe(true);
  });
});
