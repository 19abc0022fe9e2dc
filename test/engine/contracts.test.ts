// Contract multipliers and margining through the whole backtest path (issue 15): every amount of money a
// position makes is qty x price x multiplier; a future is margined (its trades pay only commission, its open
// P&L is its worth), an option is paid in full. Each expectation is worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import type { ContractTerms } from '../../engine/core/types.ts';
import { computeMetrics } from '../../engine/metrics/metrics.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import type { Strategy } from '../../engine/core/strategy.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { config, dailySeries, runScripted } from './harness.ts';

const ES: ContractTerms = { secType: 'FUT', multiplier: 50, currency: 'USD' };
const CALL: ContractTerms = { secType: 'OPT', multiplier: 100, currency: 'USD' };
const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };

// [open, high, low, close, volume]; an order decided at a bar's close fills at the next bar's open
const ES_BARS = [
  [1700, 1705, 1695, 1700, 1e5],
  [1702, 1710, 1700, 1708, 1e5],
  [1712, 1715, 1705, 1710, 1e5],
  [1711, 1712, 1706, 1707, 1e5],
];

describe('futures: 50 USD a point, margined', () => {
  const series = [dailySeries('ESZ13', ES_BARS)];
  const plan = [
    { afterBar: 0, req: { symbol: 'ESZ13', side: 'BUY' as const, type: 'MKT' as const, qty: 2 } },
    { afterBar: 1, req: { symbol: 'ESZ13', side: 'SELL' as const, type: 'MKT' as const, qty: 2 } },
  ];
  const r = runScripted(series, plan, { commission: { model: 'ibkr-fixed' }, contracts: { ESZ13: ES } }, NO_LIMITS);
  const curve = r.journal.equityCurve;

  it('pays only the commission to open, and marks the open P&L x 50', () => {
    // bought 2 at 1702 on bar 1: IBKR's 0.85 a contract = 1.70; cash 100,000 - 1.70 = 99,998.30
    // at bar 1's close (1708) the position is worth 2 x (1708 - 1702) x 50 = 600: equity 100,598.30,
    // gross exposure its notional 2 x 1708 x 50 = 170,800
    const held = curve[1]!;
    expect(held.cash).toBeCloseTo(99_998.3, 9);
    expect(held.equity).toBeCloseTo(100_598.3, 9);
    expect(held.gross).toBeCloseTo(170_800, 9);
  });

  it('settles the realized P&L into cash when the position closes', () => {
    // sold 2 at 1712 on bar 2: P&L 2 x (1712 - 1702) x 50 = 1,000, less 1.70: cash 99,998.30 + 998.30 = 100,996.60
    const end = curve[curve.length - 1]!;
    expect(end.cash).toBeCloseTo(100_996.6, 9);
    expect(end.equity).toBeCloseTo(100_996.6, 9);
    expect(r.engine.trades).toHaveLength(1);
    const t = r.engine.trades[0]!;
    expect([t.entryPrice, t.exitPrice, t.quantity]).toEqual([1702, 1712, 2]);
    expect(t.commission).toBeCloseTo(3.4, 9);
    expect(t.pnl).toBeCloseTo(996.6, 9); // 1,000 - 3.40
  });

  it('sizes by the value of one contract, price x 50', () => {
    // 100% of 100,000 at 1700 x 50 = 85,000 a contract: 1 contract (a stock would get 58 shares);
    // 50% is 50,000: not one contract, so no order
    expect(sizedEntry(100).engine.orders.map((o) => o.qty)).toEqual([{ kind: 'shares', shares: 1 }]);
    expect(sizedEntry(50).engine.orders).toHaveLength(0);
  });

  it('checks the order value with the multiplier: 1 contract at 1700 is 85,000', () => {
    const risk: RiskConfig = { name: 'capped', limits: { maxOrderValue: 50_000 }, breaker: {} };
    const capped = runScripted(series, [plan[0]!], { contracts: { ESZ13: ES } }, risk);
    const order = capped.engine.orders[0]!;
    expect(order.status).toBe('REJECTED');
    // the estimate is the last close, 1700: 2 x 1700 x 50 = 170,000
    expect(capped.journal.riskEvents[0]).toMatchObject({ check: 'maxOrderValue', value: 170_000, limit: 50_000 });
  });
});

/** A run whose strategy buys ESZ13 with `percent` sizing after the first bar. */
function sizedEntry(percent: number) {
  const entry: Strategy = {
    onBar(ctx, bar) {
      if (ctx.count(bar.sid) === 1) ctx.buy(bar.sid);
    },
  };
  const cfg = config({ symbols: ['ESZ13'], sizing: { kind: 'percent', percent }, contracts: { ESZ13: ES }, risk: NO_LIMITS });
  return runBacktest([dailySeries('ESZ13', ES_BARS)], cfg, [{ name: 'entry', strategy: entry, weight: 1 }]);
}

describe('options: 100 shares a contract, paid in full', () => {
  it('pays the premium x 100 and books the round trip x 100', () => {
    const bars = [
      [12.0, 12.2, 11.9, 12.1, 500],
      [12.15, 13.1, 12.1, 13.0, 500],
      [14.0, 14.2, 13.8, 14.1, 500],
    ];
    const sym = 'AAPL140621C00645000';
    const plan = [
      { afterBar: 0, req: { symbol: sym, side: 'BUY' as const, type: 'MKT' as const, qty: 3 } },
      { afterBar: 1, req: { symbol: sym, side: 'SELL' as const, type: 'MKT' as const, qty: 3 } },
    ];
    const r = runScripted([dailySeries(sym, bars)], plan, { commission: { model: 'ibkr-fixed' }, contracts: { [sym]: CALL } }, NO_LIMITS);
    const curve = r.journal.equityCurve;
    // bought 3 at 12.15: 3 x 12.15 x 100 = 3,645 plus max(0.65 x 3, 1) = 1.95: cash 96,353.05;
    // marked at 13.00: 3 x 13 x 100 = 3,900, equity 100,253.05
    expect(curve[1]!.cash).toBeCloseTo(96_353.05, 9);
    expect(curve[1]!.equity).toBeCloseTo(100_253.05, 9);
    // sold 3 at 14.00: + 4,200 - 1.95: cash 100,551.10; the trade: 3 x (14 - 12.15) x 100 - 3.90 = 551.10
    expect(curve[curve.length - 1]!.cash).toBeCloseTo(100_551.1, 9);
    expect(r.engine.trades[0]!.pnl).toBeCloseTo(551.1, 9);
  });
});

describe('stocks are unchanged by contract terms', () => {
  it('explicit STK terms (multiplier 1) give the same run as none', () => {
    const bars = [
      [100, 101, 99, 100, 1e6],
      [101, 103, 100, 102, 1e6],
      [104, 105, 101, 103, 1e6],
    ];
    const plan = [
      { afterBar: 0, req: { symbol: 'TEST', side: 'BUY' as const, type: 'MKT' as const, qty: 10 } },
      { afterBar: 1, req: { symbol: 'TEST', side: 'SELL' as const, type: 'MKT' as const, qty: 10 } },
    ];
    const plain = runScripted([dailySeries('TEST', bars)], plan, { commission: { model: 'ibkr-fixed' } });
    const termed = runScripted([dailySeries('TEST', bars)], plan, {
      commission: { model: 'ibkr-fixed' },
      contracts: { TEST: { secType: 'STK', multiplier: 1, currency: 'USD' } },
    });
    expect(termed.journal.equityCurve).toEqual(plain.journal.equityCurve);
    expect(termed.engine.trades).toEqual(plain.engine.trades);
  });
});

describe('turnover counts the notional', () => {
  it('2 ES at 1702 trade 170,200 of notional', () => {
    const equity = [
      { ts: 0, equity: 100_000, cash: 100_000 },
      { ts: 1, equity: 100_000, cash: 100_000 },
    ];
    const fills = [{ qty: 2, price: 1702, commission: 0, symbol: 'ESZ13' }];
    expect(computeMetrics({ equity, trades: [], fills, multipliers: { ESZ13: 50 } }).turnover).toBeCloseTo(1.702, 12);
    expect(computeMetrics({ equity, trades: [], fills }).turnover).toBeCloseTo(0.03404, 12);
  });
});

describe('futures margin', () => {
  const ESM: ContractTerms = { ...ES, initialMargin: 5060, maintenanceMargin: 4600 };
  const buy = (qty: number) => [{ afterBar: 0, req: { symbol: 'ESZ13', side: 'BUY' as const, type: 'MKT' as const, qty } }];

  it('refuses an order whose futures would need more initial margin than the equity', () => {
    // 10,000 of equity: 1 contract needs 5,060, 2 need 10,120
    const two = runScripted([dailySeries('ESZ13', ES_BARS)], buy(2), { cash: 10_000, contracts: { ESZ13: ESM } }, NO_LIMITS);
    expect(two.engine.orders[0]!.status).toBe('REJECTED');
    expect(two.journal.riskEvents[0]).toMatchObject({ check: 'initialMargin', value: 10_120, limit: 10_000 });
    const one = runScripted([dailySeries('ESZ13', ES_BARS)], buy(1), { cash: 10_000, contracts: { ESZ13: ESM } }, NO_LIMITS);
    expect(one.engine.orders[0]!.status).toBe('FILLED');
  });

  it('liquidates when the equity falls below the maintenance margin', () => {
    // long 1 from 1702 (bar 1's open) with 10,000: equity 10,000 + (close - 1702) x 50; below 4,600 under 1594;
    // bar 2 closes at 1590: equity 4,400 < 4,600, so a market sell goes out and fills at bar 3's open (1591)
    const bars = [ES_BARS[0]!, ES_BARS[1]!, [1700, 1701, 1585, 1590, 1e5], [1591, 1600, 1580, 1595, 1e5], [1596, 1600, 1590, 1598, 1e5]];
    const r = runScripted([dailySeries('ESZ13', bars)], buy(1), { cash: 10_000, contracts: { ESZ13: ESM } }, NO_LIMITS);
    expect(r.journal.riskEvents).toEqual([expect.objectContaining({ check: 'maintenanceMargin', value: 4_400, limit: 4_600 })]);
    const sells = r.journal.fills.filter((f) => f.qty < 0);
    expect(sells).toEqual([expect.objectContaining({ qty: -1, price: 1591 })]);
    expect(r.engine.orders[1]).toMatchObject({ tag: 'margin-call', status: 'FILLED' });
    // the loss settled: 10,000 + (1591 - 1702) x 50
    expect(r.engine.portfolio.books[0]!.cash).toBeCloseTo(10_000 - 111 * 50, 9);
  });
});
