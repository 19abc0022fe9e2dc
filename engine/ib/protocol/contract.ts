// The contract fields of client requests (`C` in tws-protocol.md section 3).
import type { FieldCursor } from './fields.ts';

/** The contract fields every request carries (`C` in tws-protocol.md). Numbers stay text where IB leaves them free-form. */
export interface IbContract {
  conId: number;
  symbol: string;
  secType: string;
  lastTradeDateOrContractMonth: string;
  strike: string;
  right: string;
  multiplier: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

export interface ComboLegRef {
  conId: number;
  ratio: number;
  action: string;
  exchange: string;
}

export function readContract(c: FieldCursor): IbContract {
  return {
    conId: c.int('conId'),
    symbol: c.str('symbol'),
    secType: c.str('secType'),
    lastTradeDateOrContractMonth: c.str('lastTradeDateOrContractMonth'),
    strike: c.str('strike'),
    right: c.str('right'),
    multiplier: c.str('multiplier'),
    exchange: c.str('exchange'),
    primaryExch: c.str('primaryExch'),
    currency: c.str('currency'),
    localSymbol: c.str('localSymbol'),
    tradingClass: c.str('tradingClass'),
  };
}
