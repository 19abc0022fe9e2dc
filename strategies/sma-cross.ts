import { replayHistory } from '../engine/core/corporate-action.ts';
import { crossedAbove, crossedBelow } from '../engine/core/cross.ts';
import { SMA } from '../engine/core/indicators/index.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Long-only moving-average crossover. Golden cross at bar t (fast[t-1] < slow[t-1] and
 * fast[t] > slow[t]): buy, sized by the run's sizing rule. Death cross (the reverse): sell all.
 * Comparisons are strict, so equal averages never signal.
 */
export default defineStrategy({
  name: 'sma-cross',
  description: 'long-only simple moving average crossover of the close',
  source: import.meta.url,
  params: {
    fast: { type: 'int', default: 10, min: 1, description: 'fast SMA length in bars' },
    slow: { type: 'int', default: 30, min: 2, description: 'slow SMA length in bars' },
  },
  check: (p) => (p.fast < p.slow ? null : `fast (${p.fast}) must be less than slow (${p.slow})`),
  create(p, symbols) {
    const fast = symbols.map(() => new SMA(p.fast));
    const slow = symbols.map(() => new SMA(p.slow));
    const close = new Float64Array(1); // the bar's close, passed by index (see SMA.updateAt)
    return {
      onBar(ctx, bar) {
        const sid = bar.sid;
        close[0] = bar.close;
        fast[sid].updateAt(close, 0);
        slow[sid].updateAt(close, 0);
        if (crossedAbove(fast[sid], slow[sid]) && ctx.isFlat(sid)) ctx.buy(sid);
        else if (crossedBelow(fast[sid], slow[sid]) && ctx.position(sid) > 0) ctx.closePosition(sid);
      },
      // raw prices: after a split or dividend the history is on the new basis; the averages are rebuilt from it
      onCorporateAction(ctx, { sid }) {
        fast[sid] = replayHistory(new SMA(p.fast), ctx, sid);
        slow[sid] = replayHistory(new SMA(p.slow), ctx, sid);
      },
    };
  },
});
