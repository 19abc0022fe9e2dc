// README.md "Write a strategy" quotes strategies/ema-trend.ts: the copy must equal the file, and the file must
// compile (npm test type-checks it), register without a cast and trade as its text says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMA, SMA } from '../../engine/core/indicators/index.ts';
import type { AnyStrategyDefinition, Strategy } from '../../engine/core/strategy.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import emaTrend from '../../strategies/ema-trend.ts';
import { buildSlots, STRATEGIES, strategyHelp, strategySources } from '../../strategies/index.ts';
import { ROOT } from '../cli/run-cli.ts';
import { config, dailySeries } from './harness.ts';

const FILE = 'strategies/ema-trend.ts';

/** The first ```ts block of the README's "Write a strategy" section. */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('\n## Write a strategy\n');
  expect(at).toBeGreaterThan(0);
  const section = readme.slice(at, readme.indexOf('\n## ', at + 1));
  const block = /\n```ts\n([\s\S]*?)```\n/.exec(section);
  expect(block).not.toBeNull();
  return block![1];
}

/** Prices that trend up and swing around the trend, so the EMAs cross both ways many times. */
function swings(symbol: string, n: number, phase: number) {
  const rows = Array.from({ length: n }, (_, i) => {
    const c = 50 + i * 0.05 + 6 * Math.sin(i / 9 + phase) + 2 * Math.sin(i / 2.3 + 2 * phase);
    return [c * 0.999, c * 1.01, c * 0.99, c, 1e6];
  });
  return dailySeries(symbol, rows);
}

/** The same rule written out by hand: the values before and after each update, position and open orders. */
function handWritten(p: { fast: number; slow: number; trend: number }, symbols: readonly string[]): Strategy {
  const fast = symbols.map(() => new EMA(p.fast));
  const slow = symbols.map(() => new EMA(p.slow));
  const trend = symbols.map(() => new SMA(p.trend));
  return {
    onBar(ctx, bar) {
      const pf = fast[bar.sid].value;
      const ps = slow[bar.sid].value;
      const f = fast[bar.sid].update(bar.close);
      const s = slow[bar.sid].update(bar.close);
      const t = trend[bar.sid].update(bar.close);
      if (Number.isNaN(t)) return;
      const pos = ctx.position(bar.sid);
      if (pf < ps && f > s && bar.close > t && pos === 0 && ctx.openOrders(bar.sid).length === 0) ctx.buy(bar.sid);
      else if (pf > ps && f < s && pos > 0) ctx.closePosition(bar.sid);
    },
  };
}

describe('README "Write a strategy"', () => {
  it(`quotes ${FILE} exactly`, () => {
    expect(readmeExample()).toBe(readFileSync(path.join(ROOT, FILE), 'utf8'));
  });

  it('the example trades as its text says (same trades as the rule written out by hand)', () => {
    const symbols = ['AAA', 'BBB'];
    const series = [swings('AAA', 600, 0), swings('BBB', 600, 1.7)];
    const p = { fast: 12, slow: 26, trend: 100 };
    const cfg = config({ strategy: emaTrend.name, params: {}, symbols, sizing: { kind: 'percent', percent: 40 } });
    const ours = runBacktest(series, cfg, [{ name: emaTrend.name, strategy: emaTrend.create({}, symbols), weight: 1 }]);
    const ref = runBacktest(series, cfg, [{ name: emaTrend.name, strategy: handWritten(p, symbols), weight: 1 }]);
    expect(ours.engine.trades.length).toBeGreaterThan(5);
    expect(new Set(ours.engine.trades.map((t) => t.symbol))).toEqual(new Set(symbols));
    expect(ours.engine.trades).toEqual(ref.engine.trades);
    expect(ours.engine.portfolio.equity()).toBe(ref.engine.portfolio.equity());
  });

  it('registers without a cast: then it runs by name, is listed by --help and tied to its own file', () => {
    const registry: Record<string, AnyStrategyDefinition> = { ...STRATEGIES, [emaTrend.name]: emaTrend };
    expect(registry['ema-trend'].parse({ trend: 50 })).toEqual({ fast: 12, slow: 26, trend: 50 });
    expect(() => registry['ema-trend'].parse({ fast: 30 })).toThrow(
      'ema-trend: invalid params {"fast":30,"slow":26,"trend":100}: fast (30) must be less than slow (26)',
    );
    STRATEGIES[emaTrend.name] = emaTrend; // what adding it to strategies/index.ts does
    try {
      expect(buildSlots('ema-trend', { trend: 50 }, ['AAA'])).toHaveLength(1);
      expect(strategyHelp()).toContain('  ema-trend            long-only EMA crossover, entered only above the trend SMA');
      expect(strategyHelp()).toContain('    trend        int >= 1, default 100: trend SMA length in bars');
      expect(strategySources('ema-trend', {})).toEqual([path.join(ROOT, FILE)]);
    } finally {
      delete STRATEGIES[emaTrend.name];
    }
    expect(strategyHelp()).not.toContain('ema-trend');
  });
});
