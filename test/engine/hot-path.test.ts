// The engine's per-bar and per-order shortcuts give what the plain forms give.
import { describe, expect, it } from 'vitest';
import { ExchangeCalendar } from '../../engine/core/calendar.ts';
import type { StrategyContext } from '../../engine/core/strategy.ts';
import type { Bar, OrderRequest } from '../../engine/core/types.ts';
import { newOrder, requestedOrder } from '../../engine/exec/new-order.ts';
import { Book } from '../../engine/portfolio/portfolio.ts';
import { config, DAY, dailySeries, T0 } from './harness.ts';
import { runBacktest } from '../../engine/run/backtest.ts';

describe('hot-path shortcuts', () => {
  it('requestedOrder builds what newOrder builds from the request, keys in the same order', () => {
    const reqs: OrderRequest[] = [
      { symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 10 },
      { symbol: 'AAA', side: 'SELL', type: 'STP LMT', qty: 'all-in', limit: 9, stop: 9.5, tif: 'GTD', goodTill: T0 + DAY, ocaGroup: 'g', tag: 't' },
      { symbol: 'AAA', side: 'SELL', type: 'TRAIL', qty: 3, trailingPercent: 2, trailingAmount: 0.5, tif: 'GTC' },
    ];
    for (const req of reqs) {
      const fast = requestedOrder(T0, 7, 'slot', 2, req);
      const plain = newOrder(T0, {
        id: 7,
        strategy: 'slot',
        symbol: req.symbol,
        sid: 2,
        side: req.side,
        type: req.type,
        qty: req.qty === 'all-in' ? { kind: 'all-in' } : { kind: 'shares', shares: req.qty },
        limit: req.limit ?? NaN,
        stop: req.stop ?? NaN,
        trailingPercent: req.trailingPercent ?? 0,
        trailingAmount: req.trailingAmount ?? 0,
        tif: req.tif ?? 'DAY',
        goodTill: req.goodTill ?? NaN,
        ocaGroup: req.ocaGroup ?? '',
        tag: req.tag ?? '',
      });
      expect(fast).toStrictEqual(plain);
      expect(Object.keys(fast)).toEqual(Object.keys(plain));
    }
  });

  it("a book's equity and gross exposure in one pass are equity() and grossExposure()", () => {
    const book = new Book('b', 1_000.1, 4);
    const marks = Float64Array.from([10.3, NaN, 0.7, 123.45]);
    book.apply({ orderId: 1, strategy: 'b', symbol: 'A', sid: 0, ts: T0, qty: 3, price: 10.1, commission: 0.35, execId: 'x1' }, []);
    book.apply({ orderId: 2, strategy: 'b', symbol: 'C', sid: 2, ts: T0, qty: -7, price: 0.71, commission: 0, execId: 'x2' }, []);
    book.apply({ orderId: 3, strategy: 'b', symbol: 'D', sid: 3, ts: T0, qty: 1, price: 120.3, commission: 1, execId: 'x3' }, []);
    const out = new Float64Array(4);
    book.equityAndGross(marks, out, 2);
    expect(out[2]).toBe(book.equity(marks));
    expect(out[3]).toBe(book.grossExposure(marks));
  });

  it('the calendar month follows the day it is asked for (cached per day)', () => {
    const cal = new ExchangeCalendar('UTC');
    const jan31 = Date.UTC(2021, 0, 31);
    expect(cal.month(jan31)).toBe(2021 * 12);
    expect(cal.month(jan31 + DAY)).toBe(2021 * 12 + 1);
    expect(cal.month(jan31)).toBe(2021 * 12);
    expect(cal.month(Date.UTC(1999, 11, 31, 23))).toBe(1999 * 12 + 11);
  });

  it('ctx.equity is the equity at the marks of the bars just closed, after every fill', () => {
    const a = dailySeries('A', [
      [10, 11, 9, 10.5, 1e6],
      [10.6, 12, 10, 11.25, 1e6],
      [11, 11.5, 9.5, 9.75, 1e6],
      [9.8, 10.4, 9.1, 10.1, 1e6],
      [10.2, 10.9, 10, 10.85, 1e6],
    ]);
    const b = dailySeries('B', [
      [50, 51, 49, 50.5, 1e6],
      [50.4, 52, 50, 51.75, 1e6],
      [51, 53, 50.5, 52.25, 1e6],
      [52, 52.5, 48, 48.5, 1e6],
      [48.6, 49, 47, 47.25, 1e6],
    ]);
    const seen: number[] = [];
    const want: number[] = [];
    const strategy = {
      onBar(ctx: StrategyContext, bar: Bar) {
        seen.push(ctx.equity);
        let mv = 0; // Book.equity: cash + the market value at the last closes
        for (let s = 0; s < 2; s++) if (ctx.position(s) !== 0) mv += ctx.position(s) * ctx.close(s);
        want.push(ctx.cash + mv);
        // buys each bar, so a fill lands before (almost) every group
        if (bar.sid === ctx.count(bar.sid) % 2) ctx.buy(bar.sid);
      },
    };
    const cfg = config({ symbols: ['A', 'B'], sizing: { kind: 'percent', percent: 10 } });
    const r = runBacktest([a, b], cfg, [{ name: 'eq', strategy, weight: 1 }]);
    expect(r.journal.fills.length).toBeGreaterThan(2);
    expect(seen).toEqual(want);
  });
});
