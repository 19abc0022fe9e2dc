// A GBP account that trades in USD (issue 15): cash is kept per currency (a USD purchase leaves a negative USD
// balance, as at IBKR, until converted), the rate in force at a time is the last daily rate whose day had closed,
// equity is marked at the rates in force, and a round trip's P&L is its P&L in its own currency at the rate of
// its closing fill. Worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../engine/core/types.ts';
import { FxMarks, type FxSeries } from '../../engine/portfolio/fx-marks.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { backtestReport } from '../../engine/run/backtest-report.ts';
import { config, DAY, dailySeries, scripted, T0 } from './harness.ts';

const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };

/** USD into GBP from GBPUSD daily closes, one a day from T0: day i's rate is known from its close, T0 + (i + 1) days. */
function usdInGbp(gbpusd: number[], first = T0): FxSeries {
  return {
    currency: 'USD',
    closeAt: Float64Array.from(gbpusd, (_, i) => first + (i + 1) * DAY),
    toBase: Float64Array.from(gbpusd, (r) => 1 / r),
    source: 'GBP.USD 1d, inverted',
  };
}

function run(symbol: string, bars: number[][], plan: { afterBar: number; req: OrderRequest }[], over: Parameters<typeof config>[0], fx?: FxMarks) {
  const cfg = config({ symbols: [symbol], sizing: { kind: 'fixed', quantity: 1 }, risk: NO_LIMITS, baseCurrency: 'GBP', ...over });
  return runBacktest([dailySeries(symbol, bars)], cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }], undefined, { fx });
}

// bars are [open, high, low, close, volume]; GBPUSD closes 1.25, 1.30, 1.20, 1.25 on days 0..3
const STOCK = [
  [100, 100, 100, 100, 1e6],
  [101, 103, 100, 102, 1e6],
  [110, 111, 109, 110, 1e6],
  [105, 106, 104, 105, 1e6],
];
const GBPUSD = [1.25, 1.3, 1.2, 1.25];

describe('a GBP account trading a USD stock', () => {
  const plan = [
    { afterBar: 0, req: { symbol: 'SPYX', side: 'BUY' as const, type: 'MKT' as const, qty: 100 } },
    { afterBar: 1, req: { symbol: 'SPYX', side: 'SELL' as const, type: 'MKT' as const, qty: 100 } },
  ];
  const r = run('SPYX', STOCK, plan, { contracts: { SPYX: { secType: 'STK', multiplier: 1, currency: 'USD' } } }, new FxMarks('GBP', [usdInGbp(GBPUSD)]));
  const curve = r.journal.equityCurve;

  it('pays in USD and marks the USD at the rate in force', () => {
    // bought 100 at 101 on day 1's open: USD -10,100. At day 1's close the rate is day 1's (1.30):
    // equity = 100,000 + (-10,100 + 100 x 102) / 1.30 = 100,000 + 100 / 1.3
    expect(r.engine.portfolio.books[0]!.foreign[0]).toBe(900); // after the sale: -10,100 + 11,000
    expect(curve[1]!.equity).toBeCloseTo(100_000 + 100 / 1.3, 9);
    // the position's notional in GBP: 100 x 102 / 1.30
    expect(curve[1]!.gross).toBeCloseTo(10_200 / 1.3, 9);
  });

  it('books the round trip in GBP at the rate of its closing fill', () => {
    // USD 100 x (110 - 101) = 900, sold on day 2's open, when day 1's rate (1.30) is in force: 900 / 1.3
    expect(r.engine.trades).toHaveLength(1);
    expect(r.engine.trades[0]!.pnl).toBeCloseTo(900 / 1.3, 9);
    expect(r.engine.portfolio.books[0]!.realized).toBeCloseTo(900 / 1.3, 9);
  });

  it('holds the USD left as USD: equity moves with GBPUSD after the trade', () => {
    // USD 900 at day 2's close (1.20) is 750; at day 3's (1.25) 720
    expect(curve[2]!.equity).toBeCloseTo(100_750, 9);
    expect(curve[3]!.equity).toBeCloseTo(100_720, 9);
    expect(curve[3]!.cash).toBeCloseTo(100_720, 9);
  });
});

describe('an FX pair in a GBP account', () => {
  it('keeps the P&L in the quote currency (USD) and values it in GBP', () => {
    const bars = [
      [1.1, 1.1, 1.1, 1.1, 0],
      [1.1, 1.11, 1.09, 1.105, 0],
      [1.12, 1.125, 1.115, 1.12, 0],
      [1.12, 1.12, 1.12, 1.12, 0],
    ];
    const plan = [
      { afterBar: 0, req: { symbol: 'EUR.USD', side: 'BUY' as const, type: 'MKT' as const, qty: 100_000 } },
      { afterBar: 1, req: { symbol: 'EUR.USD', side: 'SELL' as const, type: 'MKT' as const, qty: 100_000 } },
    ];
    const r = run(
      'EUR.USD',
      bars,
      plan,
      { commission: { model: 'ibkr-fixed' }, contracts: { 'EUR.USD': { secType: 'CASH', multiplier: 1, currency: 'USD' } } },
      new FxMarks('GBP', [usdInGbp(GBPUSD)]),
    );
    // bought EUR 100,000 at 1.10: USD -110,000 and 0.2 bp = 2.20 of commission; sold at 1.12: +112,000 - 2.24
    const usd = 2_000 - 2.2 - 2.24;
    expect(r.engine.portfolio.books[0]!.foreign[0]).toBeCloseTo(usd, 9);
    // at day 2's close, 1.20: USD 1,995.56 is GBP 1,662.966...
    expect(r.journal.equityCurve[2]!.equity).toBeCloseTo(100_000 + usd / 1.2, 9);
  });
});

describe('the report shows the exposure per currency in the account currency', () => {
  it('an open EUR.USD position: EUR long, USD borrowed, both in GBP, summing to the equity', () => {
    const bars = [
      [1.1, 1.1, 1.1, 1.1, 0],
      [1.1, 1.11, 1.09, 1.105, 0],
      [1.12, 1.125, 1.115, 1.12, 0],
      [1.12, 1.12, 1.12, 1.12, 0],
    ];
    const plan = [{ afterBar: 0, req: { symbol: 'EUR.USD', side: 'BUY' as const, type: 'MKT' as const, qty: 100_000 } }];
    const r = run(
      'EUR.USD',
      bars,
      plan,
      { commission: { model: 'ibkr-fixed' }, contracts: { 'EUR.USD': { secType: 'CASH', multiplier: 1, currency: 'USD' } } },
      new FxMarks('GBP', [usdInGbp(GBPUSD)]),
    );
    const report = backtestReport(r, 'test');
    // at the end: day 3's rate 1.25 and close 1.12. EUR 100,000 at 1.12 / 1.25 = 0.896 GBP each: 89,600;
    // USD -110,000 - 2.20 of commission: -110,002.20 / 1.25 = -88,001.76; GBP 100,000 untouched
    expect(report.currencies).toEqual([
      { currency: 'GBP', cash: 100_000, positions: 0, rate: 1, exposure: 100_000 },
      { currency: 'USD', cash: expect.closeTo(-110_002.2, 9), positions: 0, rate: 0.8, exposure: expect.closeTo(-88_001.76, 6) },
      { currency: 'EUR', cash: 0, positions: 100_000, rate: expect.closeTo(0.896, 12), exposure: expect.closeTo(89_600, 6) },
    ]);
    expect(report.finalEquity).toBeCloseTo(100_000 - 88_001.76 + 89_600, 6);
  });
});

describe('rates a run must have', () => {
  it('refuses a USD symbol in a GBP account without rates, naming the currencies', () => {
    expect(() => run('SPYX', STOCK, [], { contracts: { SPYX: { secType: 'STK', multiplier: 1, currency: 'USD' } } })).toThrow(
      /in USD and the account in GBP: the run needs USD\/GBP rates/,
    );
  });

  it('refuses to start before its first rate is known', () => {
    const late = new FxMarks('GBP', [usdInGbp(GBPUSD, T0 + 2 * DAY)]);
    const plan = [{ afterBar: 0, req: { symbol: 'SPYX', side: 'BUY' as const, type: 'MKT' as const, qty: 1 } }];
    expect(() => run('SPYX', STOCK, plan, { contracts: { SPYX: { secType: 'STK', multiplier: 1, currency: 'USD' } } }, late)).toThrow(
      /no USD\/GBP rate known at .*: the first \(GBP\.USD 1d, inverted\) is from/,
    );
  });
});
