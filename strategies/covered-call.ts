import { defineStrategy } from '../engine/core/strategy.ts';

/**
 * Covered call on the run's first symbol: hold 100 shares per lot and keep one call per lot written against
 * them, the nearest expiry within `maxDays`, at the lowest strike at least `otm` percent above the stock. The run
 * must carry the options (`--chain UNDERLYING`). At expiry the engine settles the call: in the money, the shares
 * are called away at the strike (assignment); otherwise it expires worthless and the next call is written.
 * With no shares left, the strategy buys them again on the next bar.
 */
export default defineStrategy({
  name: 'covered-call',
  description: 'buys 100 shares a lot of the first symbol and writes a call a lot against them (needs --chain)',
  source: import.meta.url,
  params: {
    lots: { type: 'int', default: 1, min: 1, description: 'lots of 100 shares, one call each' },
    otm: { type: 'number', default: 0, min: 0, max: 50, description: 'the call strike at least this percent above the stock' },
    maxDays: { type: 'int', default: 7, min: 0, description: 'calls expiring within this many days' },
  },
  create(p, symbols) {
    const stock = 0;
    const shares = 100 * p.lots;
    // the call written and not yet settled (-1: none), so that the chain is priced only when a call is needed
    let written = -1;
    return {
      onBar(ctx, bar) {
        if (bar.sid !== stock || ctx.openOrders().length > 0) return;
        if (written >= 0 && ctx.position(written) < 0) return;
        written = -1;
        if (ctx.position(stock) < shares) {
          ctx.submit({ symbol: symbols[stock], side: 'BUY', type: 'MKT', qty: shares - ctx.position(stock) });
          return;
        }
        const chain = ctx.chain(symbols[stock], { right: 'C', maxDays: p.maxDays });
        const open = chain.options.find((o) => ctx.position(o.sid) < 0);
        if (open) {
          written = open.sid;
          return;
        }
        const floor = chain.spot * (1 + p.otm / 100);
        const nearest = chain.options.find((o) => o.bid > 0)?.expiry;
        const call = chain.options.find((o) => o.expiry === nearest && o.strike >= floor && o.bid > 0);
        if (!call) return;
        ctx.submit({ symbol: call.symbol, side: 'SELL', type: 'MKT', qty: p.lots });
        written = call.sid;
        ctx.log(`write ${p.lots} ${call.symbol} at the bid (${call.bid}; iv ${(call.iv * 100).toFixed(1)}%, delta ${call.delta.toFixed(2)})`);
      },
    };
  },
});
