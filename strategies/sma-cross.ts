import { SMA } from '../engine/core/indicators.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Long-only moving-average crossover. Golden cross at bar t (fast[t-1] < slow[t-1] and
 * fast[t] > slow[t]): buy, sized by the run's sizing rule. Death cross (the reverse): sell all.
 * Comparisons are strict, so equal averages never signal.
 */
export default defineStrategy({
  name: 'sma-cross',
  description: 'long-only simple moving average crossover of the close',
  params: {
    fast: { type: 'int', default: 10, min: 1, description: 'fast SMA length in bars' },
    slow: { type: 'int', default: 30, min: 2, description: 'slow SMA length in bars' },
  },
  check: (p) => (p.fast < p.slow ? null : `fast (${p.fast}) must be less than slow (${p.slow})`),
  create(p, symbols) {
    const fast = symbols.map(() => new SMA(p.fast));
    const slow = symbols.map(() => new SMA(p.slow));
    return {
      onBar(ctx, bar) {
        const f = fast[bar.sid];
        const s = slow[bar.sid];
        const pf = f.value;
        const ps = s.value;
        const cf = f.update(bar.close);
        const cs = s.update(bar.close);
        const pos = ctx.position(bar.sid);
        if (pf < ps && cf > cs) {
          if (pos === 0) ctx.buy(bar.sid);
        } else if (pf > ps && cf < cs) {
          if (pos > 0) ctx.closePosition(bar.sid);
        }
      },
    };
  },
});
