import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Trades a model's predicted probability that the price rises over the model's label horizon
 * (`ctx.signal`, filled by the run from the ONNX model named in `model`). Long only:
 * - enter when p >= `enter`, with a position sized by confidence: the symbol's equal share of the
 *   sleeve's equity x `maxWeight` x min(1, (p - 0.5) / (`fullAt` - 0.5));
 * - exit the whole position when p < `exit`.
 * No prediction for a bar (features still warming up) means no action. Orders go through the same
 * risk engine as any strategy's.
 */
export default defineStrategy({
  name: 'ml-signal',
  description: 'long-only trading on an ONNX model probability, sized by confidence',
  source: import.meta.url,
  params: {
    model: { type: 'string', default: 'models/gbt-daily', description: 'model folder (card.json + .onnx), relative to the repository root' },
    enter: { type: 'number', default: 0.55, min: 0.5, max: 1, description: 'enter long when P(up) >= this' },
    exit: { type: 'number', default: 0.5, min: 0, max: 1, description: 'exit when P(up) < this' },
    fullAt: { type: 'number', default: 0.65, min: 0.5, max: 1, description: 'P(up) at which the position reaches full size' },
    maxWeight: { type: 'number', default: 1, min: 0, max: 1, description: "full size, as a fraction of the symbol's equal share of equity" },
  },
  model: (p) => p.model,
  check: (p) => (p.exit > p.enter ? `exit (${p.exit}) must not be above enter (${p.enter})` : p.fullAt <= 0.5 ? 'fullAt must be above 0.5' : null),
  create(p, symbols) {
    return {
      onBar(ctx, { sid, symbol, close }) {
        const prob = ctx.signal(sid);
        if (Number.isNaN(prob)) return;
        if (ctx.position(sid) > 0 && prob < p.exit) {
          ctx.closePosition(sid);
        } else if (prob >= p.enter && ctx.isFlat(sid)) {
          const confidence = Math.min(1, (prob - 0.5) / (p.fullAt - 0.5));
          const qty = Math.floor(((ctx.equity / symbols.length) * p.maxWeight * confidence) / close);
          if (qty > 0) ctx.submit({ symbol, side: 'BUY', type: 'MKT', qty, tag: `p=${prob.toFixed(4)}` });
        }
      },
    };
  },
});
