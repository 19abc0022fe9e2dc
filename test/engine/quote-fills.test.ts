// Fills against bid/ask quote bars (issue 15, FX and options): a buy takes the ask and a sell the bid, with
// DESIGN section 3's trade-price rules applied to that side's OHLC and no slippage on top. Every expected price
// below is worked out by hand from the bars, with the rule that gives it; the properties check the bounds on
// random bars and orders.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries, ContractTerms, Fill, Order, OrderRequest, OrderType, Side } from '../../engine/core/types.ts';
import { emptyQuote, type QuoteSides } from '../../engine/exec/quote-fill.ts';
import { newOrder } from '../../engine/exec/new-order.ts';
import { SimBroker, type SimBar } from '../../engine/exec/sim-broker.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest, runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { config, DAY, dailySeries, type QuoteRow, quotedSeries, scripted, T0 } from './harness.ts';

const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };
const PAIR: ContractTerms = { secType: 'CASH', multiplier: 1, currency: 'USD' };
const N = NaN;

type Plan = { afterBar: number; req: OrderRequest }[];

function run(series: BarSeries[], plan: Plan, over: Partial<BacktestConfig> = {}, strategy: Strategy = scripted(plan)) {
  const symbols = series.map((s) => s.symbol);
  const contracts = Object.fromEntries(series.filter((s) => s.bidOpen !== undefined).map((s) => [s.symbol, PAIR]));
  const cfg = config({ symbols, sizing: { kind: 'fixed', quantity: 1 }, risk: NO_LIMITS, contracts, ...over });
  return runBacktest(series, cfg, [{ name: 'scripted', strategy, weight: 1 }]);
}

const order = (side: Side, type: OrderType, qty: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  symbol: 'Q',
  side,
  type,
  qty,
  tif: 'GTC',
  ...extra,
});

/** [price, ts] of every fill, ts as the bar index */
const fillsOf = (r: ReturnType<typeof run>) => r.journal.fills.map((f) => [f.price, (f.ts - T0) / DAY, f.qty]);

// bar 1: the mid opens at 100.5, the bid at 100, the ask at 101
const BASE: QuoteRow[] = [
  { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
  { bid: [100, 103, 98, 102], ask: [101, 104, 99, 103] },
  { bid: [102, 104, 101, 103], ask: [103, 105, 102, 104] },
];

describe('quote fills, by hand', () => {
  it('fills a market buy at the ask open and a market sell at the bid open', () => {
    const buy = run([quotedSeries('Q', BASE)], [{ afterBar: 0, req: order('BUY', 'MKT', 10) }]);
    expect(fillsOf(buy)).toEqual([[101, 1, 10]]); // bar 1's ask open (the mid's would be 100.5)
    const sell = run([quotedSeries('Q', BASE)], [{ afterBar: 0, req: order('SELL', 'MKT', 10) }]);
    expect(fillsOf(sell)).toEqual([[100, 1, -10]]); // bar 1's bid open
  });

  it('adds no slippage: the spread is the cost', () => {
    const r = run([quotedSeries('Q', BASE)], [{ afterBar: 0, req: order('BUY', 'MKT', 10) }], { slippage: { model: 'bps', bps: 100 } });
    expect(fillsOf(r)).toEqual([[101, 1, 10]]);
  });

  it('fills a limit buy only when the ask trades at or below the limit, at min(limit, ask open)', () => {
    const rows: QuoteRow[] = [
      { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
      // bid low 98 and mid low 98.5 reach 98.5, the ask low 99 does not: no fill
      { bid: [100, 101, 98, 99], ask: [101, 102, 99, 100] },
      // ask low 98 <= 98.5: fills at min(98.5, ask open 100) = 98.5
      { bid: [99, 100, 97, 98], ask: [100, 101, 98, 99] },
    ];
    const r = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('BUY', 'LMT', 10, { limit: 98.5 }) }]);
    expect(fillsOf(r)).toEqual([[98.5, 2, 10]]);
    // a limit sell on the bid: bar 1's bid high 101 >= 101, at max(101, bid open 100) = 101
    const s = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('SELL', 'LMT', 10, { limit: 101 }) }]);
    expect(fillsOf(s)).toEqual([[101, 1, -10]]);
  });

  it('triggers a stop sell on the bid and fills at min(bid open, stop)', () => {
    const rows: QuoteRow[] = [
      { bid: [102, 103, 101, 102], ask: [103, 104, 102, 103] },
      // the bid opens at 101, below the stop 101.8: fills at 101 (on the mid: min(101.5, 101.8) = 101.5)
      { bid: [101, 102, 100, 101], ask: [102, 103, 101, 102] },
    ];
    const r = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('SELL', 'STP', 10, { stop: 101.8 }) }]);
    expect(fillsOf(r)).toEqual([[101, 1, -10]]);
  });

  it("starts a trailing sell stop from the last closing bid and triggers it on the bid's low", () => {
    // bar 0's bid closes at 100: the stop starts at 100 - 2 = 98; bar 1's bid low 98 reaches it: min(bid open 100, 98) = 98
    // (from the mid close 100.5 the stop would be 98.5, and fill at min(100.5, 98.5) = 98.5)
    const r = run([quotedSeries('Q', BASE)], [{ afterBar: 0, req: order('SELL', 'TRAIL', 10, { trailingAmount: 2 }) }]);
    expect(fillsOf(r)).toEqual([[98, 1, -10]]);
  });

  it('leaves the order working through a bar without a quote on its side', () => {
    const rows: QuoteRow[] = [
      { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
      { bid: [100, 101, 99, 100], ask: [N, N, N, N] }, // no ask: a buy cannot fill, a sell can
      { bid: [101, 102, 100, 101], ask: [102, 103, 101, 102] },
    ];
    const buy = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('BUY', 'MKT', 10) }]);
    expect(fillsOf(buy)).toEqual([[102, 2, 10]]); // bar 2's ask open
    const sell = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('SELL', 'MKT', 10) }]);
    expect(fillsOf(sell)).toEqual([[100, 1, -10]]);
    // a DAY order with daily bars lives one bar: the bar without an ask ends it unfilled
    const day = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('BUY', 'MKT', 10, { tif: 'DAY' }) }]);
    expect(day.journal.fills).toHaveLength(0);
    expect(day.engine.orders[0]!.status).toBe('EXPIRED');
  });

  it('fills crossed quotes at the side taken', () => {
    const rows: QuoteRow[] = [
      { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
      { bid: [105, 106, 104, 105], ask: [104, 105, 103, 104] }, // bid above ask
    ];
    expect(fillsOf(run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('BUY', 'MKT', 10) }]))).toEqual([[104, 1, 10]]);
    expect(fillsOf(run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('SELL', 'MKT', 10) }]))).toEqual([[105, 1, -10]]);
  });

  it("caps fills at a fraction of the size at the touch of the order's side, none when the size is 0", () => {
    const rows: QuoteRow[] = [
      { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
      { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101], askSize: 300, bidSize: 1e6 }, // room 0.5 x 300 = 150
      { bid: [100, 101, 99, 100], ask: [102, 103, 101, 102], askSize: 0 }, // no size: no room
      { bid: [100, 101, 99, 100], ask: [103, 104, 102, 103], askSize: 1000 }, // room 500: the last 250
    ];
    const r = run([quotedSeries('Q', rows)], [{ afterBar: 0, req: order('BUY', 'MKT', 400) }], { volumeCap: 0.5 });
    expect(fillsOf(r)).toEqual([
      [101, 1, 150],
      [103, 3, 250],
    ]);
  });

  it('shows strategies the closing bid and ask; a symbol without quotes has neither', () => {
    const seen: [string, number | undefined, number | undefined, boolean][] = [];
    const watch: Strategy = {
      onBar(_ctx, bar) {
        seen.push([bar.symbol, bar.bid, bar.ask, 'bid' in bar]);
      },
    };
    const stock = dailySeries('S', [
      [50, 51, 49, 50, 1000],
      [50, 51, 49, 50, 1000],
      [50, 51, 49, 50, 1000],
    ]);
    run([quotedSeries('Q', BASE), stock], [], {}, watch);
    expect(seen).toEqual([
      ['Q', 100, 101, true],
      ['S', undefined, undefined, false],
      ['Q', 102, 103, true],
      ['S', undefined, undefined, false],
      ['Q', 103, 104, true],
      ['S', undefined, undefined, false],
    ]);
  });

  it('marks a quoted position at the mid close', () => {
    // bought 10 at 101 on bar 1; bar 1's mid close is (102 + 103) / 2 = 102.5: equity 100,000 - 1,010 + 1,025
    const r = run([quotedSeries('Q', BASE)], [{ afterBar: 0, req: order('BUY', 'MKT', 10) }]);
    expect(r.journal.equityCurve[1]!.equity).toBe(100_015);
  });
});

/** Bars [from, to) of a series, every column. */
function slice(s: BarSeries, from: number, to: number): BarSeries {
  const out = { ...s };
  for (const [k, v] of Object.entries(s)) if (v instanceof Float64Array) (out as unknown as Record<string, Float64Array>)[k] = v.slice(from, to);
  return out;
}

describe('quote bars through the replay', () => {
  const rows: QuoteRow[] = [
    { bid: [100, 101, 99, 100], ask: [101, 102, 100, 101] },
    { bid: [100, 103, 98, 102], ask: [101, 104, 99, 103] },
    { bid: [102, 104, 101, 103], ask: [103, 105, 102, 104] },
    { bid: [104, 105, 103, 104], ask: [105, 106, 104, 105] },
  ];
  const plan: Plan = [
    { afterBar: 1, req: order('BUY', 'MKT', 10) },
    { afterBar: 2, req: order('SELL', 'MKT', 10) },
  ];

  it('gives the same fills and quotes whatever the chunking (the history joins the quote columns)', async () => {
    const whole = run([quotedSeries('Q', rows)], plan);
    const s = quotedSeries('Q', rows);
    const chunks = [[slice(s, 0, 2)], [slice(s, 2, 4)]];
    const cfg = config({ symbols: ['Q'], sizing: { kind: 'fixed', quantity: 1 }, risk: NO_LIMITS, contracts: { Q: PAIR } });
    const chunked = await runBacktestChunked({ next: async () => chunks.shift() ?? null }, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }]);
    // bought at bar 2's ask open 103, sold at bar 3's bid open 104
    expect(fillsOf(whole)).toEqual([
      [103, 2, 10],
      [104, 3, -10],
    ]);
    expect(chunked.journal.fills).toEqual(whole.journal.fills);
  });

  it('drops the quotes of bars outside the session with their bars (--session rth)', () => {
    // minute bars 09:29 (pre-market), 09:30, 09:31 ET on 2020-01-02 (EST: 14:29 UTC ...)
    const t = Date.UTC(2020, 0, 2, 14, 29);
    const s = { ...quotedSeries('Q', rows.slice(0, 3)), interval: '1m' as const, ts: Float64Array.from([t, t + 60_000, t + 120_000]) };
    const cfg = config({ symbols: ['Q'], interval: '1m', sizing: { kind: 'fixed', quantity: 1 }, risk: NO_LIMITS, contracts: { Q: PAIR } });
    // the strategy's first bar is 09:30 (row 1): it buys, and the order fills at 09:31's ask open (row 2: 103)
    const r = runBacktest([s], cfg, [{ name: 'scripted', strategy: scripted([{ afterBar: 0, req: order('BUY', 'MKT', 10) }]), weight: 1 }]);
    expect(r.journal.fills.map((f) => [f.price, f.ts])).toEqual([[103, t + 120_000]]);
  });
});

describe('an FX round trip through the backtest', () => {
  // EUR.USD, 100,000 EUR bought at the ask and sold at the bid, IDEALPRO commission (0.2 bp of the value, min 2 USD)
  const rows: QuoteRow[] = [
    { bid: [1.1, 1.1012, 1.0995, 1.1008], ask: [1.10015, 1.10135, 1.09965, 1.10095] },
    { bid: [1.1009, 1.1021, 1.1001, 1.1017], ask: [1.10105, 1.10225, 1.10025, 1.10185] },
    { bid: [1.1016, 1.1031, 1.101, 1.1025], ask: [1.10175, 1.10325, 1.10115, 1.10265] },
    { bid: [1.1024, 1.1029, 1.1011, 1.1015], ask: [1.10255, 1.10305, 1.10125, 1.10165] },
  ];
  const plan: Plan = [
    { afterBar: 0, req: { symbol: 'EUR.USD', side: 'BUY', type: 'MKT', qty: 100_000 } },
    { afterBar: 1, req: { symbol: 'EUR.USD', side: 'SELL', type: 'MKT', qty: 100_000 } },
  ];
  const r = run([quotedSeries('EUR.USD', rows)], plan, { commission: { model: 'ibkr-fixed' } });

  it('books (bid at the exit - ask at the entry) x quantity less commission', () => {
    // entry: bar 1's ask open 1.10105; exit: bar 2's bid open 1.1016
    // commissions: max(0.00002 x 100,000 x 1.10105, 2) = 2.2021 and max(0.00002 x 100,000 x 1.1016, 2) = 2.2032
    expect(fillsOf(r)).toEqual([
      [1.10105, 1, 100_000],
      [1.1016, 2, -100_000],
    ]);
    const t = r.engine.trades;
    expect(t).toHaveLength(1);
    expect(t[0]!.commission).toBeCloseTo(2.2021 + 2.2032, 9);
    expect(t[0]!.pnl).toBeCloseTo((1.1016 - 1.10105) * 100_000 - 2.2021 - 2.2032, 9); // 55 - 4.4053 = 50.5947
    expect(r.engine.portfolio.cash).toBeCloseTo(100_000 + 50.5947, 9);
  });
});

// ---- properties ------------------------------------------------------------------------------------------------

/** A side's [open, high, low, close] with high >= max(open, close) and low <= min(open, close), prices in cents. */
const side = fc
  .tuple(fc.integer({ min: 5_000, max: 15_000 }), fc.integer({ min: 5_000, max: 15_000 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }))
  .map(([o, c, up, dn]) => [o / 100, (Math.max(o, c) + up) / 100, (Math.min(o, c) - dn) / 100, c / 100]);
const quoteRow: fc.Arbitrary<QuoteRow> = fc.record({
  bid: fc.oneof({ weight: 9, arbitrary: side }, { weight: 1, arbitrary: fc.constant<number[]>([N, N, N, N]) }),
  ask: fc.oneof({ weight: 9, arbitrary: side }, { weight: 1, arbitrary: fc.constant<number[]>([N, N, N, N]) }),
});
const types: OrderType[] = ['MKT', 'LMT', 'STP', 'STP LMT', 'TRAIL', 'MOO', 'MOC'];
interface AnyOrder {
  side: Side;
  type: OrderType;
  limit: number;
  stop: number;
  trail: number;
}
const anyOrder: fc.Arbitrary<AnyOrder> = fc.record({
  side: fc.constantFrom<Side>('BUY', 'SELL'),
  type: fc.constantFrom(...types),
  limit: fc.integer({ min: 4_500, max: 15_500 }).map((x) => x / 100),
  stop: fc.integer({ min: 4_500, max: 15_500 }).map((x) => x / 100),
  trail: fc.integer({ min: 1, max: 2_000 }).map((x) => x / 100),
});

function quoteOf(r: QuoteRow): QuoteSides {
  const q = emptyQuote();
  [q.bidOpen, q.bidHigh, q.bidLow, q.bidClose] = r.bid as [number, number, number, number];
  [q.askOpen, q.askHigh, q.askLow, q.askClose] = r.ask as [number, number, number, number];
  q.bidSize = Number.isNaN(q.bidOpen) ? 0 : 1e6;
  q.askSize = Number.isNaN(q.askOpen) ? 0 : 1e6;
  return q;
}

/** SimBroker against one quote bar: the fills it makes of one order. */
function matchOnce(row: QuoteRow, o: AnyOrder, eligibleFrom: number, last: QuoteRow): Fill[] {
  const fills: Fill[] = [];
  const broker = new SimBroker({ commission: { commission: () => 0, record: () => {} }, slippage: { model: 'bps', bps: 50 }, intervalMs: DAY });
  broker.setListener({ onStatus: () => {}, onFill: (_o, f) => fills.push(f), resolveAllIn: () => 0, onParentFilled: () => {} });
  broker.setLastClose(0, 100);
  broker.setLastQuote(0, last.bid[3]!, last.ask[3]!);
  const ord: Order = newOrder(T0, {
    id: 1,
    strategy: 's',
    symbol: 'Q',
    sid: 0,
    side: o.side,
    type: o.type,
    qty: { kind: 'shares', shares: 10 },
    tif: 'GTC',
    limit: o.limit,
    stop: o.stop,
    trailingAmount: o.trail,
    eligibleFrom,
  });
  broker.place(ord);
  const q = quoteOf(row);
  const mid = (j: number) => (Number.isNaN(row.bid[j]!) ? row.ask[j]! : Number.isNaN(row.ask[j]!) ? row.bid[j]! : (row.bid[j]! + row.ask[j]!) / 2);
  const bar: SimBar = {
    sid: 0,
    ts: T0 + DAY,
    open: mid(0),
    high: mid(1),
    low: mid(2),
    close: mid(3),
    volume: 0,
    day: 1,
    sessionOpen: true,
    sessionClose: true,
    beforeClose: true,
    month: 0,
    quote: q,
  };
  broker.onBar(bar);
  return fills;
}

describe('quote fill properties', () => {
  it("a buy fills within the bar's ask range and a sell within its bid range, never on a side without a quote", () => {
    fc.assert(
      fc.property(quoteRow, quoteRow, anyOrder, (row, last, o) => {
        for (const f of matchOnce(row, o, T0, last)) {
          const s = f.qty > 0 ? row.ask : row.bid;
          expect(Number.isNaN(s[0]!)).toBe(false);
          expect(f.price).toBeGreaterThanOrEqual(s[2]!); // low
          expect(f.price).toBeLessThanOrEqual(s[1]!); // high
          if (o.type === 'MKT' || o.type === 'MOO') expect(f.price).toBe(s[0]); // the side's open, no slippage
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fills nothing on a bar before the order is eligible', () => {
    fc.assert(
      fc.property(quoteRow, quoteRow, anyOrder, (row, last, o) => {
        expect(matchOnce(row, o, T0 + 2 * DAY, last)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('through whole runs: every fill is on a bar after its order was submitted, inside that bar on its side', () => {
    const req = fc.record({ afterBar: fc.integer({ min: 0, max: 7 }), o: anyOrder, qty: fc.integer({ min: 1, max: 50 }) });
    fc.assert(
      fc.property(fc.array(quoteRow, { minLength: 2, maxLength: 8 }), fc.array(req, { maxLength: 6 }), (rows, reqs) => {
        const plan: Plan = reqs.map(({ afterBar, o, qty }) => ({
          afterBar,
          req: order(o.side, o.type, qty, { limit: o.limit, stop: o.stop, trailingAmount: o.type === 'TRAIL' ? o.trail : undefined }),
        }));
        const r = run([quotedSeries('Q', rows)], plan, { slippage: { model: 'bps', bps: 25 } });
        for (const f of r.journal.fills) {
          const ord = r.engine.orders[f.orderId - 1]!;
          expect(f.ts).toBeGreaterThanOrEqual(ord.submittedAt);
          const row = rows[(f.ts - T0) / DAY]!;
          const s = f.qty > 0 ? row.ask : row.bid;
          expect(f.price).toBeGreaterThanOrEqual(s[2]!);
          expect(f.price).toBeLessThanOrEqual(s[1]!);
        }
      }),
      { numRuns: 300 },
    );
  });
});
