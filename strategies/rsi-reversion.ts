import { replayHistory } from '../engine/core/corporate-action.ts';
import { RSI } from '../engine/core/indicators/index.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/** Long-only mean reversion: buy when Wilder's RSI closes below `lower`, sell all when it closes above `upper`. */
export default defineStrategy({
  name: 'rsi-reversion',
  description: 'long-only RSI mean reversion',
  source: import.meta.url,
  params: {
    period: { type: 'int', default: 14, min: 2, description: 'RSI length in bars' },
    lower: { type: 'number', default: 30, min: 0, max: 100, description: 'buy below this RSI' },
    upper: { type: 'number', default: 70, min: 0, max: 100, description: 'sell above this RSI' },
  },
  check: (p) => (p.lower < p.upper ? null : `lower (${p.lower}) must be less than upper (${p.upper})`),
  create(p, symbols) {
    const rsi = symbols.map(() => new RSI(p.period));
    return {
      onBar(ctx, { sid, close }) {
        const r = rsi[sid].update(close);
        if (r < p.lower && ctx.isFlat(sid)) ctx.buy(sid);
        else if (r > p.upper && ctx.position(sid) > 0) ctx.closePosition(sid);
      },
      // raw prices: after a split or dividend the history is on the new basis; the RSI is rebuilt from it
      onCorporateAction(ctx, { sid }) {
        rsi[sid] = replayHistory(new RSI(p.period), ctx, sid);
      },
    };
  },
});
