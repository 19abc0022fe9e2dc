// The example of README.md "Write a strategy" (a test keeps the two equal); not registered in index.ts.
import { replayHistory } from '../engine/core/corporate-action.ts';
import { crossedAbove, crossedBelow } from '../engine/core/cross.ts';
import { EMA, SMA } from '../engine/core/indicators/index.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/** Long-only EMA crossover in an uptrend: buy a golden cross above the trend SMA, sell all on a death cross. */
export default defineStrategy({
  name: 'ema-trend',
  description: 'long-only EMA crossover, entered only above the trend SMA',
  source: import.meta.url,
  params: {
    fast: { type: 'int', default: 12, min: 1, description: 'fast EMA length in bars' },
    slow: { type: 'int', default: 26, min: 2, description: 'slow EMA length in bars' },
    trend: { type: 'int', default: 100, min: 1, description: 'trend SMA length in bars' },
  },
  check: (p) => (p.fast < p.slow ? null : `fast (${p.fast}) must be less than slow (${p.slow})`),
  create(p, symbols) {
    // one set of indicators per symbol: onBar gets every symbol's bars, `sid` says whose
    const fast = symbols.map(() => new EMA(p.fast));
    const slow = symbols.map(() => new EMA(p.slow));
    const trend = symbols.map(() => new SMA(p.trend));
    return {
      onBar(ctx, { sid, close }) {
        fast[sid].update(close);
        slow[sid].update(close);
        trend[sid].update(close);
        if (!trend[sid].isReady) return; // still warming up
        if (crossedAbove(fast[sid], slow[sid]) && close > trend[sid].value && ctx.isFlat(sid)) ctx.buy(sid);
        else if (crossedBelow(fast[sid], slow[sid]) && ctx.position(sid) > 0) ctx.closePosition(sid);
      },
      // raw prices (the default on data with factor files): after a split or dividend the context's history is on
      // the new basis; rebuild the indicators from it so they continue as on adjusted prices
      onCorporateAction(ctx, { sid }) {
        fast[sid] = replayHistory(new EMA(p.fast), ctx, sid);
        slow[sid] = replayHistory(new EMA(p.slow), ctx, sid);
        trend[sid] = replayHistory(new SMA(p.trend), ctx, sid);
      },
    };
  },
});
