import { RollingExtreme } from '../engine/core/indicators.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Long-only channel breakout: buy when the close exceeds the highest high of the previous `entry`
 * bars; sell all when it falls below the lowest low of the previous `exit` bars.
 */
export default defineStrategy({
  name: 'donchian-breakout',
  description: 'long-only Donchian channel breakout',
  params: {
    entry: { type: 'int', default: 20, min: 1, description: 'breakout channel length in bars' },
    exit: { type: 'int', default: 10, min: 1, description: 'exit channel length in bars' },
  },
  create(p, symbols) {
    const hi = symbols.map(() => new RollingExtreme(p.entry, 'max'));
    const lo = symbols.map(() => new RollingExtreme(p.exit, 'min'));
    return {
      onBar(ctx, bar) {
        // channels of the previous bars: read before adding this bar
        const upper = hi[bar.sid].value;
        const lower = lo[bar.sid].value;
        hi[bar.sid].update(bar.high);
        lo[bar.sid].update(bar.low);
        const pos = ctx.position(bar.sid);
        if (bar.close > upper && pos === 0 && ctx.openOrders(bar.sid).length === 0) ctx.buy(bar.sid);
        else if (bar.close < lower && pos > 0) ctx.closePosition(bar.sid);
      },
    };
  },
});
