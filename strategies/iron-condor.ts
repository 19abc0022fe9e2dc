import { type ChainOption, defineStrategy, type StrategyContext } from '../engine/core/strategy.ts';
import type { Order } from '../engine/core/types.ts';

/**
 * Short iron condor on the run's first symbol, as one combo order (IB's BAG): on the first bar with a chain
 * (`--chain UNDERLYING` with both rights), on the nearest expiry within `maxDays`, it sells the put and the call
 * `shortOtm` strikes out of the money (1: the nearest strike below / above the spot) and buys the put and the
 * call `wing` strikes further out, `lots` condors. The combo is bought as defined at a net credit (a negative
 * limit, as IB quotes it): the natural price (the short legs' bids less the long legs' asks at the last close),
 * the mid of the legs' mids, or a market order (`price`); a limit works for the day and is placed again on a
 * later bar if the day ends without a fill. Then it holds to expiry: the engine settles each leg (an option in the
 * money is exercised or assigned into the underlying at its strike, one out of the money expires worthless).
 */
export default defineStrategy({
  name: 'iron-condor',
  description: 'sells an iron condor (short put and call, long wings) on the first symbol as one combo order, held to expiry (needs --chain)',
  source: import.meta.url,
  params: {
    lots: { type: 'int', default: 1, min: 1, description: 'condors (each leg 1 contract a condor)' },
    shortOtm: { type: 'int', default: 2, min: 1, max: 50, description: 'the short put and call: this many strikes out of the money (1: the nearest)' },
    wing: { type: 'int', default: 2, min: 1, max: 50, description: 'the long put and call: this many strikes beyond the short ones' },
    maxDays: { type: 'int', default: 7, min: 0, description: 'the nearest expiry within this many days' },
    price: {
      type: 'string',
      default: 'natural',
      choices: ['natural', 'mid', 'market'],
      description: 'the combo order: a limit at the natural credit or at the mid of the legs, or a market order',
    },
  },
  create(p, symbols) {
    const stock = 0;
    const underlying = symbols[stock]!;
    let order: Order | null = null;
    let done = false;
    return {
      onBar(ctx, bar) {
        if (bar.sid !== stock || done) return;
        if (order !== null) {
          if (order.filledQty > 0 || order.status === 'REJECTED') done = true;
          // a limit not filled in its day: placed again from the chain as it is now
          else if (order.status === 'EXPIRED' || order.status === 'CANCELLED') order = null;
          if (order !== null) return;
        }
        const legs = condorLegs(ctx, underlying, p.shortOtm, p.wing, p.maxDays);
        if (legs === null) return;
        const [longPut, shortPut, shortCall, longCall] = legs;
        // the net per condor as defined (debit positive): the short legs at their bids, the long ones at their asks
        const natural = longPut.ask - shortPut.bid - shortCall.bid + longCall.ask;
        const mid = longPut.mid - shortPut.mid - shortCall.mid + longCall.mid;
        const limit = Math.round((p.price === 'mid' ? mid : natural) * 100) / 100;
        if (p.price === 'mid' && Number.isNaN(limit)) return; // a leg without a two-sided quote has no mid: wait for one
        order = ctx.submit({
          symbol: underlying,
          side: 'BUY',
          type: p.price === 'market' ? 'MKT' : 'LMT',
          qty: p.lots,
          ...(p.price === 'market' ? {} : { limit }),
          tif: 'DAY',
          tag: 'iron-condor',
          legs: [
            { symbol: longPut.symbol, side: 'BUY', ratio: 1 },
            { symbol: shortPut.symbol, side: 'SELL', ratio: 1 },
            { symbol: shortCall.symbol, side: 'SELL', ratio: 1 },
            { symbol: longCall.symbol, side: 'BUY', ratio: 1 },
          ],
        });
        const strikes = legs.map((o) => o.strike).join('/');
        ctx.log(
          `iron condor ${strikes} expiring ${shortPut.expiry}, spot ${ctx.close(stock)}: ${p.price === 'market' ? 'market' : `limit ${limit}`} (natural ${natural.toFixed(2)}, mid ${mid.toFixed(2)})`,
        );
      },
    };
  },
});

/**
 * The condor's legs on the nearest expiry within `maxDays` whose strikes are all quoted (the short legs with a
 * bid, the long ones with an ask): [long put, short put, short call, long call]; null when there is none.
 */
function condorLegs(ctx: StrategyContext, underlying: string, shortOtm: number, wing: number, maxDays: number): ChainOption[] | null {
  const chain = ctx.chain(underlying, { maxDays });
  const spot = chain.spot;
  if (!Number.isFinite(spot)) return null;
  const expiries = [...new Set(chain.options.map((o) => o.expiry))];
  for (const expiry of expiries) {
    const of = chain.options.filter((o) => o.expiry === expiry);
    // out of the money, nearest the spot first
    const puts = of.filter((o) => o.right === 'P' && o.strike < spot).sort((a, b) => b.strike - a.strike);
    const calls = of.filter((o) => o.right === 'C' && o.strike > spot).sort((a, b) => a.strike - b.strike);
    const shortPut = puts[shortOtm - 1];
    const longPut = puts[shortOtm - 1 + wing];
    const shortCall = calls[shortOtm - 1];
    const longCall = calls[shortOtm - 1 + wing];
    if (!shortPut || !longPut || !shortCall || !longCall) continue;
    if (!(shortPut.bid > 0 && shortCall.bid > 0 && longPut.ask > 0 && longCall.ask > 0)) return null;
    return [longPut, shortPut, shortCall, longCall];
  }
  return null;
}
