import { RSI } from '../engine/core/indicators.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/** Long-only mean reversion: buy when Wilder's RSI closes below `lower`, sell all when it closes above `upper`. */
export default defineStrategy({
  name: 'rsi-reversion',
  description: 'long-only RSI mean reversion',
  params: {
    period: { type: 'int', default: 14, min: 2, description: 'RSI length in bars' },
    lower: { type: 'number', default: 30, min: 0, max: 100, description: 'buy below this RSI' },
    upper: { type: 'number', default: 70, min: 0, max: 100, description: 'sell above this RSI' },
  },
  check: (p) => (p.lower < p.upper ? null : `lower (${p.lower}) must be less than upper (${p.upper})`),
  create(p, symbols) {
    const rsi = symbols.map(() => new RSI(p.period));
    return {
      onBar(ctx, bar) {
        const r = rsi[bar.sid].update(bar.close);
        const pos = ctx.position(bar.sid);
        if (r < p.lower && pos === 0 && ctx.openOrders(bar.sid).length === 0) ctx.buy(bar.sid);
        else if (r > p.upper && pos > 0) ctx.closePosition(bar.sid);
      },
    };
  },
});
