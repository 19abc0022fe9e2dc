import { crossedAbove, crossedBelow } from '../engine/core/cross.ts';
import { SMA } from '../engine/core/indicators/index.ts';
import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Long-only moving-average crossover on one futures root, traded in the real contract month. The run's symbols
 * are the root's contracts in expiry order (ESZ13,ESH14). The front contract rolls to the next by volume: on the
 * first bar where the next contract trades more than the front (or the front no longer trades), a long position
 * is closed in the front and the same quantity bought in the next, both at the next bar's open.
 *
 * The averages run on the continuous series back-adjusted by differences: each roll shifts every earlier price
 * by the gap between the two contracts' closes on the roll bar, which moves both averages by the same amount, so
 * a crossover is the same as on the back-adjusted series (engine/futures/continuous.ts's 'difference').
 */
export default defineStrategy({
  name: 'futures-trend',
  description: 'long-only SMA crossover on a futures root, rolled into the next contract by volume',
  source: import.meta.url,
  params: {
    fast: { type: 'int', default: 5, min: 1, description: 'fast SMA length in bars of the continuous price' },
    slow: { type: 'int', default: 20, min: 2, description: 'slow SMA length in bars of the continuous price' },
  },
  check: (p) => (p.fast < p.slow ? null : `fast (${p.fast}) must be less than slow (${p.slow})`),
  create(p, symbols) {
    const fast = new SMA(p.fast);
    const slow = new SMA(p.slow);
    const close = new Float64Array(1);
    const volume = new Float64Array(symbols.length);
    const lastClose = new Float64Array(symbols.length);
    const barAt = new Float64Array(symbols.length).fill(Number.NaN);
    let front = 0;
    // continuous price = front's close - shift: the sum of (next close - front close) over the rolls so far
    let shift = 0;
    return {
      onBar(ctx, bar) {
        const sid = bar.sid;
        volume[sid] = bar.volume;
        lastClose[sid] = bar.close;
        barAt[sid] = ctx.now;
        if (sid === front + 1 && (volume[sid] > volume[front] || barAt[front] !== ctx.now)) {
          // the next contract leads (or the front has stopped trading): roll on this bar
          // what the front holds or is about to: an entry still working there is cancelled and made in the next
          const held = ctx.position(front) + ctx.pending(front);
          for (const o of ctx.openOrders(front)) ctx.cancel(o.id);
          const position = ctx.position(front);
          if (position > 0) ctx.submit({ symbol: symbols[front], side: 'SELL', type: 'MKT', qty: position });
          if (held > 0) {
            ctx.submit({ symbol: symbols[sid], side: 'BUY', type: 'MKT', qty: held });
            ctx.log(`roll ${symbols[front]} -> ${symbols[sid]}: ${held} at the next open`);
          }
          const frontTraded = barAt[front] === ctx.now;
          if (frontTraded) shift += lastClose[sid] - lastClose[front];
          front = sid;
          // the averages took today's price from the old front; without one, they take it from the new front
          if (frontTraded) return;
        }
        if (sid !== front) return;
        close[0] = bar.close - shift;
        fast.updateAt(close, 0);
        slow.updateAt(close, 0);
        if (crossedAbove(fast, slow) && ctx.isFlat(sid)) ctx.buy(sid);
        else if (crossedBelow(fast, slow) && ctx.position(sid) > 0) ctx.closePosition(sid);
      },
    };
  },
});
