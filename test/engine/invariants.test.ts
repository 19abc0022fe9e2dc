import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderRequest, OrderType, TimeInForce } from '../../engine/core/types.ts';
import { TRANSITIONS } from '../../engine/exec/order-state.ts';
import { dailySeries, runScripted } from './harness.ts';

/** Valid OHLCV bars from a random walk (low <= open, close <= high). */
const barsArb = fc
  .array(
    fc.record({
      ret: fc.double({ min: -0.08, max: 0.08, noNaN: true }),
      up: fc.double({ min: 0, max: 0.04, noNaN: true }),
      dn: fc.double({ min: 0, max: 0.04, noNaN: true }),
      gap: fc.double({ min: -0.03, max: 0.03, noNaN: true }),
      vol: fc.integer({ min: 0, max: 50_000 }),
    }),
    { minLength: 3, maxLength: 40 },
  )
  .map((steps) => {
    let close = 100;
    return steps.map((s) => {
      const open = +(close * (1 + s.gap)).toFixed(2);
      const c = +(open * (1 + s.ret)).toFixed(2);
      const high = +(Math.max(open, c) * (1 + s.up)).toFixed(2);
      const low = +(Math.min(open, c) * (1 - s.dn)).toFixed(2);
      close = c;
      return [open, high, low, c, s.vol];
    });
  });

const TYPES: OrderType[] = ['MKT', 'LMT', 'STP', 'STP LMT', 'TRAIL', 'MOO', 'MOC'];
const TIFS: TimeInForce[] = ['DAY', 'GTC', 'IOC', 'FOK'];

const orderArb = fc.record({
  afterBar: fc.integer({ min: 0, max: 39 }),
  side: fc.constantFrom('BUY' as const, 'SELL' as const),
  type: fc.constantFrom(...TYPES),
  qty: fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constant('all-in' as const)),
  offset: fc.double({ min: -0.1, max: 0.1, noNaN: true }),
  tif: fc.constantFrom(...TIFS),
  bracket: fc.boolean(),
});

type Gen = { afterBar: number; side: 'BUY' | 'SELL'; type: OrderType; qty: number | 'all-in'; offset: number; tif: TimeInForce; bracket: boolean };

function toPlan(orders: Gen[]): { afterBar: number; req: OrderRequest }[] {
  return orders.map((g) => {
    const ref = 100 * (1 + g.offset);
    const req: OrderRequest = { symbol: 'X', side: g.side, type: g.type, qty: g.qty, tif: g.tif };
    if (g.type === 'LMT' || g.type === 'STP LMT') req.limit = +ref.toFixed(2);
    if (g.type === 'STP' || g.type === 'STP LMT') req.stop = +(100 * (1 - g.offset)).toFixed(2);
    if (g.type === 'TRAIL') req.trailingPercent = 1 + Math.abs(g.offset) * 20;
    if (g.bracket && g.type === 'MKT') req.bracket = { takeProfit: 110, stopLoss: 90 };
    return { afterBar: g.afterBar, req };
  });
}

const scenario = fc.record({
  bars: barsArb,
  orders: fc.array(orderArb, { maxLength: 12 }),
  cap: fc.constantFrom(0, 0.1, 0.5),
  commission: fc.constantFrom('none' as const, 'ibkr-fixed' as const),
});

describe('engine invariants (property tests)', () => {
  it('equity = cash + market value after every bar, recomputed from the fills alone', () => {
    fc.assert(
      fc.property(scenario, ({ bars, orders, cap, commission }) => {
        const series = dailySeries('X', bars);
        const r = runScripted([series], toPlan(orders), { volumeCap: cap, commission: { model: commission } });
        let cash = 100_000;
        let pos = 0;
        let f = 0;
        const fills = r.journal.fills;
        for (const p of r.journal.equityCurve) {
          while (f < fills.length && fills[f].ts <= p.ts) {
            cash -= fills[f].qty * fills[f].price + fills[f].commission;
            pos += fills[f].qty;
            f++;
          }
          const i = series.ts.indexOf(p.ts);
          expect(p.cash).toBeCloseTo(cash, 6);
          expect(p.equity).toBeCloseTo(cash + pos * series.close[i], 6);
        }
        // realized P&L + open position at the last close - commissions = total P&L
        const book = r.engine.portfolio.books[0];
        const last = series.close[series.close.length - 1];
        const commissions = fills.reduce((s, x) => s + x.commission, 0);
        expect(r.engine.portfolio.equity() - 100_000).toBeCloseTo(book.realized + pos * (last - book.avgCost[0]) - commissions, 4);
        // when flat, the closed round trips account for all of it
        if (pos === 0) expect(r.engine.trades.reduce((s, t) => s + t.pnl, 0)).toBeCloseTo(book.realized - commissions, 4);
      }),
      { numRuns: 300 },
    );
  });

  it('no fill before its bar is visible, and every fill is inside its bar', () => {
    fc.assert(
      fc.property(scenario, ({ bars, orders, cap, commission }) => {
        const series = dailySeries('X', bars);
        const r = runScripted([series], toPlan(orders), { volumeCap: cap, commission: { model: commission } });
        for (const fill of r.journal.fills) {
          const order = r.engine.orders[fill.orderId - 1];
          expect(fill.ts).toBeGreaterThanOrEqual(order.submittedAt);
          expect(fill.ts).toBeGreaterThanOrEqual(order.eligibleFrom);
          const i = series.ts.indexOf(fill.ts);
          expect(fill.price).toBeGreaterThanOrEqual(series.low[i]);
          expect(fill.price).toBeLessThanOrEqual(series.high[i]);
          if (cap > 0) expect(Math.abs(fill.qty)).toBeLessThanOrEqual(Math.floor(cap * series.volume[i]));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the order state machine never skips a state', () => {
    fc.assert(
      fc.property(scenario, ({ bars, orders, cap }) => {
        const r = runScripted([dailySeries('X', bars)], toPlan(orders), { volumeCap: cap });
        const last = new Map<number, string>();
        for (const e of r.journal.orderEvents) {
          const prev = last.get(e.orderId);
          if (prev === undefined) expect(e.to).toBe('NEW');
          else expect(TRANSITIONS[prev as keyof typeof TRANSITIONS]).toContain(e.to);
          expect(e.from).toBe(prev ?? '');
          last.set(e.orderId, e.to);
        }
        for (const o of r.engine.orders) {
          expect(last.get(o.id)).toBe(o.status);
          const filled = r.journal.fills.filter((f) => f.orderId === o.id).reduce((s, f) => s + Math.abs(f.qty), 0);
          expect(filled).toBe(o.filledQty);
          if (o.status === 'FILLED') expect(o.qty.kind === 'shares' && o.qty.shares).toBe(filled);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same run twice gives the same journal', () => {
    fc.assert(
      fc.property(scenario, ({ bars, orders, cap }) => {
        const a = runScripted([dailySeries('X', bars)], toPlan(orders), { volumeCap: cap });
        const b = runScripted([dailySeries('X', bars)], toPlan(orders), { volumeCap: cap });
        expect(JSON.stringify(b.journal)).toBe(JSON.stringify(a.journal));
      }),
      { numRuns: 50 },
    );
  });
});
