import { describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../engine/core/types.ts';
import { ibkrTiered, applySlippage } from '../../engine/exec/costs.ts';
import type { Strategy } from '../../engine/core/strategy.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { config, dailySeries, runScripted, T0, DAY } from './harness.ts';

// Hand-computed cases beyond the shared fixtures: every order type and time in force.
const B = (o: number, h: number, l: number, c: number, v = 100_000) => [o, h, l, c, v];
const base = B(100, 100.5, 99.5, 100);
const req = (r: Partial<OrderRequest>): OrderRequest => ({ symbol: 'X', side: 'BUY', type: 'MKT', qty: 10, ...r });
const fillsOf = (r: ReturnType<typeof runScripted>) => r.journal.fills.map((f) => [(f.ts - T0) / DAY, f.qty, f.price]);

describe('order types and time in force (hand-computed)', () => {
  it('MOO and MOC on daily bars fill at the next open and the next close', () => {
    const r = runScripted(
      [dailySeries('X', [base, B(101, 103, 100, 102.5)])],
      [
        { afterBar: 0, req: req({ type: 'MOO' }) },
        { afterBar: 0, req: req({ type: 'MOC', side: 'SELL', qty: 4 }) },
      ],
    );
    expect(fillsOf(r)).toEqual([
      [1, 10, 101],
      [1, -4, 102.5],
    ]);
  });

  it('a DAY limit expires after its first eligible bar; GTC keeps working', () => {
    const bars = [base, B(100, 100.4, 99.5, 100), B(99, 99.2, 98, 98.5)];
    const day = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ type: 'LMT', limit: 99 }) }]);
    expect(fillsOf(day)).toEqual([]);
    expect(day.engine.orders[0].status).toBe('EXPIRED');
    const gtc = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ type: 'LMT', limit: 99, tif: 'GTC' }) }]);
    expect(fillsOf(gtc)).toEqual([[2, 10, 99]]);
  });

  it('GTD works until its time, then expires', () => {
    const bars = [base, B(100, 100.4, 99.5, 100), B(100, 100.4, 99.5, 100), B(98, 98, 97, 97.5)];
    const r = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ type: 'LMT', limit: 99, tif: 'GTD', goodTill: T0 + 2 * DAY + 1 }) }]);
    expect(fillsOf(r)).toEqual([]);
    expect(r.engine.orders[0].status).toBe('EXPIRED');
  });

  it('FOK under a volume cap that cannot fill it whole is cancelled with no fill; IOC takes what it can', () => {
    const bars = [base, B(100, 101, 99, 100, 5_000), B(100, 101, 99, 100, 50_000)];
    const fok = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ qty: 1_000, tif: 'FOK' }) }], { volumeCap: 0.1 });
    expect(fillsOf(fok)).toEqual([]);
    expect(fok.engine.orders[0].status).toBe('CANCELLED');
    const ioc = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ qty: 1_000, tif: 'IOC' }) }], { volumeCap: 0.1 });
    expect(fillsOf(ioc)).toEqual([[1, 500, 100]]);
    expect(ioc.engine.orders[0].status).toBe('CANCELLED');
    expect(ioc.engine.orders[0].filledQty).toBe(500);
  });

  it('a partially filled limit stays a limit: the remainder waits for the price', () => {
    const bars = [base, B(99, 100, 98, 99.5, 3_000), B(100, 101, 99.5, 100, 100_000), B(99.5, 99.8, 98.5, 99, 100_000)];
    const r = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ type: 'LMT', limit: 99, qty: 1_000, tif: 'GTC' }) }], { volumeCap: 0.1 });
    expect(fillsOf(r)).toEqual([
      [1, 300, 99],
      [3, 700, 99],
    ]);
    const statuses = r.journal.orderEvents.map((e) => e.to);
    expect(statuses).toEqual(['NEW', 'RISK_CHECK', 'APPROVED', 'SUBMITTED', 'PARTIALLY_FILLED', 'FILLED']);
  });

  it('a bracket whose take-profit is reached alone fills the target and cancels the stop', () => {
    const bars = [base, B(100, 100.5, 99.8, 100.2), B(101, 104.5, 100.5, 104)];
    const r = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ bracket: { takeProfit: 104, stopLoss: 97 } }) }]);
    expect(fillsOf(r)).toEqual([
      [1, 10, 100],
      [2, -10, 104],
    ]);
    const [, tp, sl] = r.engine.orders;
    expect([tp.tag, tp.status, tp.parentId]).toEqual(['take-profit', 'FILLED', 1]);
    expect([sl.tag, sl.status]).toEqual(['stop-loss', 'CANCELLED']);
    expect(r.engine.trades).toHaveLength(1);
    expect(r.engine.trades[0].pnl).toBeCloseTo(40, 9);
  });

  it('bracketTie=target picks the take-profit when both legs are reachable', () => {
    const bars = [base, B(100, 100.5, 99.8, 100.2), B(100, 105, 96, 101)];
    const r = runScripted([dailySeries('X', bars)], [{ afterBar: 0, req: req({ bracket: { takeProfit: 104, stopLoss: 97 } }) }], { bracketTie: 'target' });
    expect(fillsOf(r)).toEqual([
      [1, 10, 100],
      [2, -10, 104],
    ]);
  });

  it('a short round trip books the right P&L and cash', () => {
    const bars = [base, B(100, 101, 99, 100), B(95, 96, 94, 95), B(94, 95, 93, 94)];
    const r = runScripted(
      [dailySeries('X', bars)],
      [
        { afterBar: 0, req: req({ side: 'SELL', qty: 10 }) },
        { afterBar: 2, req: req({ side: 'BUY', qty: 10 }) },
      ],
    );
    expect(fillsOf(r)).toEqual([
      [1, -10, 100],
      [3, 10, 94],
    ]);
    expect(r.engine.trades[0]).toMatchObject({ side: 'SHORT', quantity: 10, entryPrice: 100, exitPrice: 94, pnl: 60 });
    expect(r.engine.portfolio.cash).toBe(100_060);
  });

  it('a reversal closes one round trip and opens the next', () => {
    const bars = [base, B(100, 101, 99, 100), B(110, 111, 109, 110), B(110, 111, 109, 110)];
    const r = runScripted(
      [dailySeries('X', bars)],
      [
        { afterBar: 0, req: req({ qty: 10 }) },
        { afterBar: 1, req: req({ side: 'SELL', qty: 25 }) },
      ],
    );
    expect(r.engine.trades).toHaveLength(1);
    expect(r.engine.trades[0]).toMatchObject({ side: 'LONG', quantity: 10, pnl: 100 });
    expect(r.engine.portfolio.position(0)).toBe(-15);
    expect(r.engine.portfolio.books[0].avgCost[0]).toBe(110);
  });

  it('a cancel goes through PENDING_CANCEL', () => {
    const bars = [base, B(100, 100.4, 99.5, 100), B(100, 100.4, 99.5, 100)];
    const strategy: Strategy = {
      onBar(ctx) {
        if (ctx.count(0) === 1) ctx.submit(req({ type: 'LMT', limit: 90, tif: 'GTC' }));
        if (ctx.count(0) === 2) ctx.cancel(1);
      },
    };
    const r = runBacktest([dailySeries('X', bars)], config({ symbols: ['X'] }), [{ name: 's', strategy, weight: 1 }]);
    expect(r.journal.orderEvents.map((e) => e.to)).toEqual(['NEW', 'RISK_CHECK', 'APPROVED', 'SUBMITTED', 'PENDING_CANCEL', 'CANCELLED']);
  });
});

describe('costs', () => {
  it('IBKR tiered: the rate falls with the month volume; minimum and 1% cap', () => {
    expect(ibkrTiered(1_000, 50, 0)).toBe(3.5);
    expect(ibkrTiered(1_000, 50, 400_000)).toBe(2);
    expect(ibkrTiered(10, 50, 0)).toBe(0.35);
    expect(ibkrTiered(10_000, 0.02, 0)).toBe(2);
  });
  it('slippage moves against the trader and stays inside the bar', () => {
    expect(applySlippage({ model: 'bps', bps: 10 }, 100, true, 101, 99)).toBeCloseTo(100.1, 12);
    expect(applySlippage({ model: 'bps', bps: 10 }, 100, false, 101, 99)).toBeCloseTo(99.9, 12);
    expect(applySlippage({ model: 'range', fraction: 0.5 }, 100.5, true, 101, 99)).toBe(101);
  });
});
