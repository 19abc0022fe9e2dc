import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import { Sizer } from '../../engine/portfolio/sizing.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { config, dailySeries } from './harness.ts';

/** Buys every symbol with ctx.buy (the run's sizing) after the given bar. */
function buyAll(afterBar: number): Strategy {
  return {
    onBar(ctx, bar) {
      if (ctx.count(bar.sid) - 1 === afterBar) ctx.buy(bar.sid);
    },
  };
}

const flat = (price: number, n = 5) => Array.from({ length: n }, () => [price, price, price, price, 1e6]);

describe('equal-weight sizing', () => {
  it('gives each entry 1/N of the equity, N = the run symbols, at most what the cash covers', () => {
    const s = new Sizer({ kind: 'equal-weight' }, 4);
    expect(s.quantity(0, 10, 100_000)).toBe(2_500);
    expect(s.quantity(0, 10, 100_000, 1_000)).toBe(1_000);
    expect(s.quantity(0, Number.NaN, 100_000)).toBe(0);
    expect(s.quantity(0, 10, 100_000, 0)).toBe(0);
  });

  it('three symbols crossing at once each get a third; none takes the cash of the others', () => {
    const series = [dailySeries('AAA', flat(10)), dailySeries('BBB', flat(50)), dailySeries('CCC', flat(200))];
    const cfg = config({ symbols: ['AAA', 'BBB', 'CCC'], sizing: { kind: 'equal-weight' }, commission: { model: 'ibkr-fixed' } });
    const r = runBacktest(series, cfg, [{ name: 'buy', strategy: buyAll(0), weight: 1 }]);
    expect(r.journal.fills.map((f) => [f.symbol, f.qty])).toEqual([
      ['AAA', 3_333],
      ['BBB', 666],
      ['CCC', 166],
    ]);
    expect(r.journal.riskEvents).toEqual([]);
    expect(r.engine.portfolio.cash).toBeGreaterThan(0);
  });

  it('one symbol invests the equity like all-in, sized at submission within the cash, commission included', () => {
    const series = [dailySeries('AAA', flat(10))];
    const cfg = config({ symbols: ['AAA'], sizing: { kind: 'equal-weight' }, commission: { model: 'ibkr-fixed' } });
    const r = runBacktest(series, cfg, [{ name: 'buy', strategy: buyAll(0), weight: 1 }]);
    // 10,000 shares cost 100,000 plus 50 commission: one share less... until cost + commission fits
    const q = r.journal.fills[0].qty;
    expect(q * 10 + r.journal.fills[0].commission).toBeLessThanOrEqual(100_000);
    expect((q + 1) * 10 + r.journal.fills[0].commission).toBeGreaterThan(100_000);
    expect(r.journal.riskEvents).toEqual([]);
  });

  it('a later entry leaves room for the buys still working', () => {
    // AAA takes a third; BBB's cash is what is left after AAA's working buy
    const series = [dailySeries('AAA', flat(10)), dailySeries('BBB', flat(10))];
    const cfg = config({ symbols: ['AAA', 'BBB'], sizing: { kind: 'equal-weight' }, cash: 1_000 });
    const strategy: Strategy = {
      onBar(ctx, bar) {
        if (ctx.count(bar.sid) === 1 && bar.sid === 0) ctx.submit({ symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 80 });
        if (ctx.count(bar.sid) === 1 && bar.sid === 1) ctx.buy(1);
      },
    };
    const r = runBacktest(series, cfg, [{ name: 's', strategy, weight: 1 }]);
    expect(r.journal.fills.map((f) => [f.symbol, f.qty])).toEqual([
      ['AAA', 80],
      ['BBB', 20],
    ]);
  });
});
