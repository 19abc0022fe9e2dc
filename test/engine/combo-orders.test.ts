// Combo orders (IB's BAG, issue 15): the legs fill together on one bar or not at all, each at the open of the
// quote side it takes (a bought leg the ask, a sold one the bid), a LMT combo when the net of those prices is at or
// better than its net limit (engine/exec/combo-fill.ts). Every expected price, position and cash figure below is
// worked out by hand from the bars with the rule that gives it; the property checks the all-or-none rule and the
// fill bar on random quotes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms, OrderRequest, OrderType, Side } from '../../engine/core/types.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../../engine/run/backtest.ts';
import { config, DAY, dailySeries, type QuoteRow, quotedSeries, scripted, T0 } from './harness.ts';

const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };
const N = Number.NaN;
const C100 = 'U201231C00100000';
const C105 = 'U201231C00105000';
const call = (strike: number): ContractTerms => ({
  secType: 'OPT',
  multiplier: 100,
  currency: 'USD',
  expiry: '2020-12-31', // after the run: nothing expires in these tests
  strike,
  right: 'C',
  underlying: 'U',
});
const CONTRACTS: Record<string, ContractTerms> = { [C100]: call(100), [C105]: call(105) };

/** The underlying: flat at 102 (its bars only carry the strategy's submissions). */
const underlying = (n: number) =>
  dailySeries(
    'U',
    Array.from({ length: n }, () => [102, 103, 101, 102, 1000]),
  );

function run(options: BarSeries[], plan: { afterBar: number; req: OrderRequest }[], over: Partial<BacktestConfig> = {}) {
  const series = [underlying(options[0]!.ts.length), ...options];
  const cfg = config({
    symbols: series.map((s) => s.symbol),
    sizing: { kind: 'fixed', quantity: 1 },
    risk: NO_LIMITS,
    contracts: CONTRACTS,
    commission: { model: 'ibkr-fixed' }, // options: USD 0.65 a contract, at least 1.00 a fill
    ...over,
  });
  return runBacktest(series, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }]);
}

const vertical = (side: Side, type: OrderType, qty: number, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  symbol: 'U',
  side,
  type,
  qty,
  tif: 'GTC',
  legs: [
    { symbol: C100, side: 'BUY', ratio: 1 },
    { symbol: C105, side: 'SELL', ratio: 1 },
  ],
  ...extra,
});

/** [symbol, bar index, qty, price, commission, execId] of every fill */
const fillsOf = (r: ReturnType<typeof run>) => r.journal.fills.map((f) => [f.symbol, (f.ts - T0) / DAY, f.qty, f.price, f.commission, f.execId]);

// bar 1 opens: C100 bid 6.0 / ask 6.2, C105 bid 3.1 / ask 3.3. Intrabar the C100 ask dips to 5.5 and the C105
// bid rises to 3.5 (a net of 2.0 if both happened at once); bar 2 opens: C100 ask 6.0, C105 bid 3.05
const C100_ROWS: QuoteRow[] = [
  { bid: [5.9, 6.0, 5.8, 5.9], ask: [6.1, 6.2, 6.0, 6.1] },
  { bid: [6.0, 6.1, 5.4, 6.0], ask: [6.2, 6.3, 5.5, 6.2] },
  { bid: [5.8, 5.9, 5.7, 5.8], ask: [6.0, 6.1, 5.9, 6.0] },
  { bid: [5.8, 5.9, 5.7, 5.8], ask: [6.0, 6.1, 5.9, 6.0] },
];
const C105_ROWS: QuoteRow[] = [
  { bid: [3.0, 3.1, 2.9, 3.0], ask: [3.2, 3.3, 3.1, 3.2] },
  { bid: [3.1, 3.5, 3.0, 3.1], ask: [3.3, 3.6, 3.2, 3.3] },
  { bid: [3.05, 3.1, 3.0, 3.05], ask: [3.25, 3.3, 3.2, 3.25] },
  { bid: [3.05, 3.1, 3.0, 3.05], ask: [3.25, 3.3, 3.2, 3.25] },
];

describe('combo orders, by hand', () => {
  it('buys a vertical at market: the bought leg at its ask open, the sold leg at its bid open, one bar', () => {
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 2) }]);
    // bar 1: C100 bought at the ask open 6.2, C105 sold at the bid open 3.1; 2 contracts each: 0.65 x 2 = 1.30 a leg
    expect(fillsOf(r)).toEqual([
      [C100, 1, 2, 6.2, 1.3, 'combo.1.leg1'],
      [C105, 1, -2, 3.1, 1.3, 'combo.1.leg2'],
    ]);
    const o = r.engine.orders[0]!;
    expect(o.status).toBe('FILLED');
    expect(o.filledQty).toBe(2);
    expect(o.avgFillPrice).toBeCloseTo(3.1, 12); // the net debit per combo: 6.2 - 3.1
    expect(o.commission).toBeCloseTo(2.6, 12);
    expect(o.legs!.map((l) => [l.symbol, l.filledQty, l.avgFillPrice])).toEqual([
      [C100, 2, 6.2],
      [C105, -2, 3.1],
    ]);
    // positions per leg; cash 100,000 - 2 x 100 x 6.2 + 2 x 100 x 3.1 - 2.60 = 99,377.40
    const book = r.engine.portfolio.books[0]!;
    expect([book.qty[1], book.qty[2]]).toEqual([2, -2]);
    expect(book.cash).toBeCloseTo(99_377.4, 9);
  });

  it('sells a vertical at market: each leg on the other side (C100 sold at its bid, C105 bought at its ask)', () => {
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('SELL', 'MKT', 1) }]);
    // 1 contract: 0.65, at least 1.00 a fill
    expect(fillsOf(r)).toEqual([
      [C100, 1, -1, 6.0, 1, 'combo.1.leg1'],
      [C105, 1, 1, 3.3, 1, 'combo.1.leg2'],
    ]);
    // the net as defined, received: 6.0 - 3.3 = 2.7; cash 100,000 + 100 x 2.7 - 2 = 100,268
    expect(r.engine.orders[0]!.avgFillPrice).toBeCloseTo(2.7, 12);
    expect(r.engine.portfolio.books[0]!.cash).toBeCloseTo(100_268, 9);
  });

  it('fills a LMT combo only on a bar whose opening net is at or better than the limit, at those prices', () => {
    // limit 3.00 debit: bar 1 nets 6.2 - 3.1 = 3.10 at its opens (worse; its intrabar 5.5 - 3.5 = 2.0 does not
    // count: the legs' extremes need not be simultaneous); bar 2 nets 6.0 - 3.05 = 2.95 <= 3.00: fills there
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('BUY', 'LMT', 1, { limit: 3 }) }]);
    expect(fillsOf(r)).toEqual([
      [C100, 2, 1, 6.0, 1, 'combo.1.leg1'],
      [C105, 2, -1, 3.05, 1, 'combo.1.leg2'],
    ]);
    expect(r.engine.orders[0]!.avgFillPrice).toBeCloseTo(2.95, 12);
    // a limit exactly at the opening net fills (2.95 from 6.0 - 3.05 in doubles is 2.9500000000000002)
    const at = run(
      [quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)],
      [{ afterBar: 1, req: vertical('BUY', 'LMT', 1, { limit: 2.95 }) }],
    );
    expect(fillsOf(at).map((f) => f[1])).toEqual([2, 2]);
    // 2.90 is never reached at an open: the combo stays working, nothing fills
    const never = run(
      [quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)],
      [{ afterBar: 0, req: vertical('BUY', 'LMT', 1, { limit: 2.9 }) }],
    );
    expect(never.journal.fills).toEqual([]);
    expect(never.engine.orders[0]!.status).toBe('SUBMITTED');
  });

  it('fills a credit combo (a negative limit) when the credit at the opens is at least the limit', () => {
    // the bear call spread bought as defined: SELL C100, BUY C105; net = -bid(C100) + ask(C105)
    const credit = (limit: number): OrderRequest => ({
      symbol: 'U',
      side: 'BUY',
      type: 'LMT',
      qty: 1,
      limit,
      tif: 'GTC',
      legs: [
        { symbol: C100, side: 'SELL', ratio: 1 },
        { symbol: C105, side: 'BUY', ratio: 1 },
      ],
    });
    // bar 1: -6.0 + 3.3 = -2.70, bar 2: -5.8 + 3.25 = -2.55: a limit of -2.70 (2.70 credit) fills on bar 1 only
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: credit(-2.7) }]);
    expect(fillsOf(r)).toEqual([
      [C100, 1, -1, 6.0, 1, 'combo.1.leg1'],
      [C105, 1, 1, 3.3, 1, 'combo.1.leg2'],
    ]);
    // asking 2.60 from bar 2 on: -2.55 is a smaller credit, never filled
    const more = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 1, req: credit(-2.6) }]);
    expect(more.journal.fills).toEqual([]);
  });

  it('does not fill any leg while one leg has no quote on its side', () => {
    // bar 1: C105 has no bid (the side the sold leg takes); its ask is there. Bar 2 has both sides.
    const rows = C105_ROWS.map((r, i) => (i === 1 ? { bid: [N, N, N, N], ask: r.ask } : r));
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, rows, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 1) }]);
    expect(fillsOf(r)).toEqual([
      [C100, 2, 1, 6.0, 1, 'combo.1.leg1'],
      [C105, 2, -1, 3.05, 1, 'combo.1.leg2'],
    ]);
    // selling the same combo takes C105's ask, which bar 1 has: it fills there
    const sell = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, rows, 100)], [{ afterBar: 0, req: vertical('SELL', 'MKT', 1) }]);
    expect(fillsOf(sell).map((f) => f[1])).toEqual([1, 1]);
  });

  it('does not fill while a leg has no bar at that instant', () => {
    const c105 = quotedSeries(C105, C105_ROWS, 100);
    // C105 has no bar 1 (its series skips that day)
    const keep = [0, 2, 3];
    const gap: BarSeries = { ...c105 };
    for (const k of [
      'ts',
      'open',
      'high',
      'low',
      'close',
      'volume',
      'bidOpen',
      'bidHigh',
      'bidLow',
      'bidClose',
      'bidSize',
      'askOpen',
      'askHigh',
      'askLow',
      'askClose',
      'askSize',
    ] as const)
      gap[k] = Float64Array.from(keep, (i) => c105[k]![i]!);
    const r = run([quotedSeries(C100, C100_ROWS, 100), gap], [{ afterBar: 0, req: vertical('BUY', 'MKT', 1) }]);
    expect(fillsOf(r).map((f) => f[1])).toEqual([2, 2]);
  });

  it('fills legs with ratios: 2 combos of a 1x2 ratio spread are 2 and 4 contracts', () => {
    const req = vertical('BUY', 'MKT', 2, {
      legs: [
        { symbol: C100, side: 'BUY', ratio: 1 },
        { symbol: C105, side: 'SELL', ratio: 2 },
      ],
    });
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req }]);
    // 4 contracts: 0.65 x 4 = 2.60
    expect(fillsOf(r)).toEqual([
      [C100, 1, 2, 6.2, 1.3, 'combo.1.leg1'],
      [C105, 1, -4, 3.1, 2.6, 'combo.1.leg2'],
    ]);
    // net per combo 6.2 - 2 x 3.1 = 0: cash 100,000 - 1,240 + 1,240 - 3.90
    expect(r.engine.orders[0]!.avgFillPrice).toBeCloseTo(0, 12);
    expect(r.engine.portfolio.books[0]!.cash).toBeCloseTo(100_000 - 3.9, 9);
  });

  it('caps a combo at the smallest leg room under a volume cap (sizes 100, cap 0.05: 5 contracts a leg a bar)', () => {
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 8) }], {
      volumeCap: 0.05,
    });
    expect(fillsOf(r).map((f) => [f[0], f[1], f[2]])).toEqual([
      [C100, 1, 5],
      [C105, 1, -5],
      [C100, 2, 3],
      [C105, 2, -3],
    ]);
    expect(r.engine.orders[0]!.status).toBe('FILLED');
  });

  it('ends an IOC combo whose first bar cannot fill it (a leg without its side), with no leg filled', () => {
    const rows = C105_ROWS.map((r, i) => (i === 1 ? { bid: [N, N, N, N], ask: r.ask } : r));
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, rows, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 1, { tif: 'IOC' }) }]);
    expect(r.journal.fills).toEqual([]);
    expect(r.engine.orders[0]).toMatchObject({ status: 'CANCELLED', reason: 'IOC: not filled on its first bar' });
  });

  it("cancels a working combo when one of its legs expires, and it is among that leg's open orders", () => {
    // C105 expires on 2020-01-02 (bar 1's day); the combo's limit is never reached
    const contracts = { ...CONTRACTS, [C105]: { ...call(105), expiry: '2020-01-02' } };
    let seen = -1;
    const plan = [{ afterBar: 0, req: vertical('BUY', 'LMT', 1, { limit: 1 }) }];
    const strategy = scripted(plan);
    const watch = {
      onBar(ctx: Parameters<typeof strategy.onBar>[0], bar: Parameters<typeof strategy.onBar>[1]) {
        strategy.onBar(ctx, bar);
        if (bar.symbol === 'U' && ctx.count(0) === 1) seen = ctx.openOrders(2).length; // C105 is sid 2
      },
    };
    const series = [underlying(4), quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)];
    const cfg = config({ symbols: series.map((s) => s.symbol), risk: NO_LIMITS, contracts });
    const r = runBacktest(series, cfg, [{ name: 'scripted', strategy: watch, weight: 1 }]);
    expect(seen).toBe(1);
    expect(r.engine.orders[0]).toMatchObject({ status: 'CANCELLED', reason: 'option U201231C00105000 expired (last trading day 2020-01-02)' });
    expect(r.journal.fills).toEqual([]);
  });

  it('refuses malformed combos, naming the field and the rule', () => {
    const reasons = (req: OrderRequest) =>
      run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req }]).engine.orders[0]!.reason;
    expect(reasons(vertical('BUY', 'STP', 1, { stop: 3 }))).toMatch(/type must be MKT or LMT for a combo/);
    expect(reasons(vertical('BUY', 'LMT', 1))).toMatch(/limit must be the net price per combo/);
    expect(reasons({ ...vertical('BUY', 'MKT', 1), qty: 'all-in' })).toMatch(/qty must be a whole number of combos/);
    expect(reasons(vertical('BUY', 'MKT', 1, { legs: [{ symbol: C100, side: 'BUY', ratio: 1 }] }))).toMatch(/legs a combo needs at least 2 legs/);
    expect(
      reasons(
        vertical('BUY', 'MKT', 1, {
          legs: [
            { symbol: C100, side: 'BUY', ratio: 1 },
            { symbol: 'NOPE', side: 'SELL', ratio: 1 },
          ],
        }),
      ),
    ).toMatch(/legs\[1\]\.symbol 'NOPE' is not in this run/);
    expect(
      reasons(
        vertical('BUY', 'MKT', 1, {
          legs: [
            { symbol: C100, side: 'BUY', ratio: 1 },
            { symbol: C105, side: 'SELL', ratio: 1.5 },
          ],
        }),
      ),
    ).toMatch(/legs\[1\]\.ratio must be a whole number >= 1/);
    // a stock leg with option legs: 1 x USD a unit against 100 x USD
    expect(
      reasons(
        vertical('BUY', 'MKT', 1, {
          legs: [
            { symbol: C100, side: 'SELL', ratio: 1 },
            { symbol: 'U', side: 'BUY', ratio: 100 },
          ],
        }),
      ),
    ).toMatch(/share one multiplier and currency/);
    expect(reasons(vertical('BUY', 'MKT', 1, { symbol: C100 }))).toMatch(/is on U, not on the combo's underlying/);
  });

  it("checks each leg's position change: long-only refuses a combo with a sold leg and names the leg", () => {
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 1) }], {
      risk: { name: 'long-only', limits: { longOnly: true }, breaker: {} },
    });
    expect(r.journal.fills).toEqual([]);
    expect(r.journal.riskEvents[0]).toMatchObject({ check: 'longOnly' });
    expect(r.journal.riskEvents[0]!.message).toMatch(/^combo leg 2 \(SELL 1 U201231C00105000\)/);
    // selling the vertical someone holds closes both legs: long-only lets it through
    const plan = [
      {
        afterBar: 0,
        req: vertical('BUY', 'MKT', 1, {
          legs: [
            { symbol: C100, side: 'BUY', ratio: 1 },
            { symbol: C105, side: 'BUY', ratio: 1 },
          ],
        }),
      },
      {
        afterBar: 1,
        req: vertical('SELL', 'MKT', 1, {
          legs: [
            { symbol: C100, side: 'BUY', ratio: 1 },
            { symbol: C105, side: 'BUY', ratio: 1 },
          ],
        }),
      },
    ];
    const close = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], plan, {
      risk: { name: 'long-only', limits: { longOnly: true }, breaker: {} },
    });
    expect(close.journal.riskEvents).toEqual([]);
    expect(close.journal.fills.map((f) => f.qty)).toEqual([1, 1, -1, -1]);
  });

  it('checks the combo once at its net value: a max order value of 300 refuses 2 verticals worth 580', () => {
    // a MKT combo is valued at its legs' marks, the mid closes of bar 0: C100 (5.9 + 6.1) / 2 = 6.0, C105
    // (3.0 + 3.2) / 2 = 3.1; net 2.9 x 100 x 2 combos = 580 > 300
    const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req: vertical('BUY', 'MKT', 2) }], {
      risk: { name: 'value', limits: { maxOrderValue: 300 }, breaker: {} },
    });
    expect(r.journal.riskEvents.map((e) => e.check)).toEqual(['maxOrderValue']);
    expect(r.journal.riskEvents[0]!.message).toMatch(/^combo BUY 2 U at its net value: /);
    expect(r.journal.riskEvents[0]!.value).toBeCloseTo(580, 9);
  });
});

describe('combo orders, properties', () => {
  const price = fc.integer({ min: 1, max: 2000 }).map((c) => c / 100);
  const side = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(price, price).map(([a, b]) => [a, Math.max(a, b) + 0.05, Math.min(a, b), b]) },
    { weight: 1, arbitrary: fc.constant([N, N, N, N]) },
  );
  const row = fc.record({ bid: side, ask: side });
  it('fills every leg on the same bar, ratio x the combos each, on the first bar whose opens allow it, or none', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 5, maxLength: 5 }),
        fc.array(row, { minLength: 5, maxLength: 5 }),
        fc.constantFrom<Side>('BUY', 'SELL'),
        fc.constantFrom<Side>('BUY', 'SELL'),
        fc.constantFrom<Side>('BUY', 'SELL'),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: -1500, max: 1500 }).map((c) => c / 100)),
        (a0, b0, comboSide, side1, side2, ratio1, ratio2, qty, limit) => {
          // bar 0, where the order is submitted, is quoted: a leg without a mark is refused by the pre-trade checks
          const a = [C100_ROWS[0]!, ...a0.slice(1)];
          const b = [C105_ROWS[0]!, ...b0.slice(1)];
          const legs = [
            { symbol: C100, side: side1, ratio: ratio1 },
            { symbol: C105, side: side2, ratio: ratio2 },
          ];
          const req: OrderRequest = {
            symbol: 'U',
            side: comboSide,
            type: limit === null ? 'MKT' : 'LMT',
            qty,
            tif: 'GTC',
            legs,
            ...(limit === null ? {} : { limit }),
          };
          const r = run([quotedSeries(C100, a, 100), quotedSeries(C105, b, 100)], [{ afterBar: 0, req }]);
          // the expected bar, from the rules: each leg's side open (a leg bought in the combo's direction: the ask)
          const takes = (legSide: Side, q: QuoteRow, j: number) => {
            const buy = (legSide === 'BUY') === (comboSide === 'BUY');
            return (buy ? q.ask : q.bid)[j]!;
          };
          let expected = -1;
          let prices: number[] = [];
          for (let i = 1; i < 5 && expected < 0; i++) {
            const p = [takes(side1, a[i]!, 0), takes(side2, b[i]!, 0)];
            if (p.some(Number.isNaN)) continue;
            const net = (side1 === 'BUY' ? 1 : -1) * ratio1 * p[0]! + (side2 === 'BUY' ? 1 : -1) * ratio2 * p[1]!;
            if (limit !== null && (comboSide === 'BUY' ? net > limit + 1e-9 : net < limit - 1e-9)) continue;
            expected = i;
            prices = p;
          }
          const fills = r.journal.fills;
          if (expected < 0) return fills.length === 0;
          const sign = (s: Side) => ((s === 'BUY') === (comboSide === 'BUY') ? 1 : -1);
          expect(fills.map((f) => [f.symbol, (f.ts - T0) / DAY, f.qty, f.price])).toEqual([
            [C100, expected, sign(side1) * qty * ratio1, prices[0]],
            [C105, expected, sign(side2) * qty * ratio2, prices[1]],
          ]);
          return true;
        },
      ),
      { numRuns: 150 },
    );
  });

  it('under a volume cap, every bar fills the same number of combos in each leg (ratio x combos)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(0.02, 0.05, 0.1),
        (ratio1, ratio2, qty, cap) => {
          const req = vertical('BUY', 'MKT', qty, {
            legs: [
              { symbol: C100, side: 'BUY', ratio: ratio1 },
              { symbol: C105, side: 'SELL', ratio: ratio2 },
            ],
          });
          const r = run([quotedSeries(C100, C100_ROWS, 100), quotedSeries(C105, C105_ROWS, 100)], [{ afterBar: 0, req }], { volumeCap: cap });
          const byBar = new Map<number, number[]>();
          for (const f of r.journal.fills) byBar.set(f.ts, [...(byBar.get(f.ts) ?? []), f.qty]);
          let combos = 0;
          for (const [, [q1, q2]] of byBar) {
            const k = q1! / ratio1;
            expect(Number.isInteger(k) && k > 0).toBe(true);
            expect(q2).toBe(-k * ratio2);
            // sizes 100 on every side: floor(cap x 100 / ratio) combos a bar at most
            expect(k).toBeLessThanOrEqual(Math.min(Math.floor((cap * 100) / ratio1), Math.floor((cap * 100) / ratio2)));
            combos += k;
          }
          expect(combos).toBe(r.engine.orders[0]!.filledQty);
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });
});
