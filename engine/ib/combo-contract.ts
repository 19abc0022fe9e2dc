// A combo order as IB takes it: a BAG contract on SMART naming the legs' underlying, with one comboLeg per leg
// (the leg's conId, ratio and action as the combo defines it, SMART). The order itself carries the combo's side,
// the number of combos and the net limit per combo (positive a debit, negative a credit: the engine's meaning,
// engine/core/types.ts OrderRequest.legs, is IB's), so nothing of the order changes but its contract.
import { OrderAction, SecType, type Contract } from '@stoqey/ib';
import type { Order } from '../core/types.ts';

/**
 * The BAG contract of combo `order` in `currency`, with `conIdOf(symbol)` each leg's conId (from reqContractDetails).
 * Throws, naming the order and the leg, when a leg's conId is not known.
 */
export function bagContract(order: Pick<Order, 'id' | 'symbol' | 'legs'>, currency: string, conIdOf: (symbol: string) => number | undefined): Contract {
  const legs = order.legs;
  if (legs === undefined || legs.length === 0) throw new Error(`order ${order.id}: not a combo order (no legs)`);
  return {
    symbol: order.symbol,
    secType: SecType.BAG,
    currency,
    exchange: 'SMART',
    comboLegs: legs.map((leg, k) => {
      const conId = conIdOf(leg.symbol);
      if (conId === undefined || !(conId > 0))
        throw new Error(`order ${order.id}: combo leg ${k + 1} (${leg.symbol}) has no conId yet: reqContractDetails must resolve it before the order is sent`);
      return { conId, ratio: leg.ratio, action: leg.side === 'BUY' ? OrderAction.BUY : OrderAction.SELL, exchange: 'SMART' };
    }),
  };
}
