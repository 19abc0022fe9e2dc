// The simulator's orders and executions as protocol messages.
import * as msg from '../protocol/messages.ts';
import type { Fields } from '../protocol/messages.ts';
import type { Execution, SimOrder } from './account.ts';
import type { Contracts } from './contracts.ts';
import { formatIbTime } from '../protocol/time.ts';

export function openOrderMsg(so: SimOrder, contracts: Contracts, account: string): Fields {
  const e = so.engine;
  const ib = so.ib;
  // a combo is echoed as its BAG contract (the legs' underlying, their currency) with its legs, as TWS does
  const contract = e.legs !== undefined ? contracts.bagContract(e.symbol, contracts.contract(e.legs[0].sid).currency) : contracts.contract(so.sid);
  return msg.openOrder({
    orderId: so.id,
    contract,
    ...(e.legs !== undefined ? { comboLegs: e.legs.map((l) => ({ conId: contracts.conIds[l.sid]!, ratio: l.ratio, action: l.side, exchange: 'SMART' })) } : {}),
    action: ib.action,
    totalQuantity: e.qty.kind === 'shares' ? e.qty.shares : 0,
    orderType: ib.orderType,
    lmtPrice: ib.lmtPrice,
    auxPrice: ib.auxPrice,
    tif: ib.tif || 'DAY',
    ocaGroup: ib.ocaGroup,
    account,
    openClose: ib.openClose,
    origin: ib.origin,
    orderRef: ib.orderRef,
    clientId: so.clientId,
    permId: so.permId,
    outsideRth: ib.outsideRth,
    hidden: ib.hidden,
    goodAfterTime: ib.goodAfterTime,
    goodTillDate: ib.goodTillDate,
    ocaType: ib.ocaType,
    parentId: ib.parentId,
    // a working trailing stop reports where its stop is now
    trailStopPrice: e.type === 'TRAIL' && so.inBroker && Number.isFinite(e.stop) ? e.stop : ib.trailStopPrice,
    trailingPercent: ib.trailingPercent,
    status: so.status,
  });
}

export function orderStatusMsg(so: SimOrder): Fields {
  const e = so.engine;
  const total = e.qty.kind === 'shares' ? e.qty.shares : 0;
  return msg.orderStatus({
    orderId: so.id,
    status: so.status,
    filled: e.filledQty,
    remaining: total - e.filledQty,
    avgFillPrice: e.avgFillPrice,
    permId: so.permId,
    parentId: so.ib.parentId,
    lastFillPrice: so.lastFillPrice,
    clientId: so.clientId,
    whyHeld: so.status === 'PreSubmitted' && so.parent && !so.inBroker ? 'child' : '',
  });
}

export function execDetailsMsg(reqId: number, e: Execution, contracts: Contracts, account: string, tz: string): Fields {
  return msg.execDetails(reqId, contracts.contract(e.sid), {
    orderId: e.orderId,
    execId: e.execId,
    time: formatIbTime(e.ts, tz, true),
    account,
    exchange: 'SIM',
    side: e.side,
    shares: e.shares,
    price: e.price,
    permId: e.permId,
    clientId: e.clientId,
    cumQty: e.cumQty,
    avgPrice: e.avgPrice,
    orderRef: e.orderRef,
    lastLiquidity: e.liquidity,
  });
}

export function commissionReportMsg(e: Execution): Fields {
  return msg.commissionReport(e.execId, e.commission, 'USD', e.realized);
}
