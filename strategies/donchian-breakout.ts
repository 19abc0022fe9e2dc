import { replayHistory } from '../engine/core/corporate-action.ts';
import { Highest, Lowest } from '../engine/core/indicators/index.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Long-only channel breakout: buy when the close exceeds the highest high of the previous `entry`
 * bars; sell all when it falls below the lowest low of the previous `exit` bars.
 */
export default defineStrategy({
  name: 'donchian-breakout',
  description: 'long-only Donchian channel breakout',
  source: import.meta.url,
  params: {
    entry: { type: 'int', default: 20, min: 1, description: 'breakout channel length in bars' },
    exit: { type: 'int', default: 10, min: 1, description: 'exit channel length in bars' },
  },
  create(p, symbols) {
    const highest = symbols.map(() => new Highest(p.entry));
    const lowest = symbols.map(() => new Lowest(p.exit));
    return {
      onBar(ctx, { sid, high, low, close }) {
        // the channel of the previous bars: read before this bar goes in
        const upper = highest[sid].value;
        const lower = lowest[sid].value;
        highest[sid].update(high);
        lowest[sid].update(low);
        if (close > upper && ctx.isFlat(sid)) ctx.buy(sid);
        else if (close < lower && ctx.position(sid) > 0) ctx.closePosition(sid);
      },
      // raw prices: after a split or dividend the history is on the new basis; the channels are rebuilt from it
      onCorporateAction(ctx, { sid }) {
        highest[sid] = replayHistory(new Highest(p.entry), ctx, sid, 'high');
        lowest[sid] = replayHistory(new Lowest(p.exit), ctx, sid, 'low');
      },
    };
  },
});
