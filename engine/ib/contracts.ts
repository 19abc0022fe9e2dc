// IB contracts of the run's symbols, both ways: a store key with its contract terms (the instruments table, as
// openRunData gives them in `contracts`) becomes the Contract IB wants, and a Contract IB reports (positions,
// executions, open orders) becomes the run's symbol again.
//   STK  'AAPL'                 symbol AAPL, SMART, USD
//   CASH 'EUR.USD'              symbol EUR (the base currency), currency USD (the quote), IDEALPRO
//   OPT  'GOOG151224C00750000'  symbol GOOG (the underlying), lastTradeDateOrContractMonth 20151224 (the last
//                               trading day), strike 750, right C, multiplier '100', SMART, USD
//   FUT  'ESZ13'                symbol ES (the root), lastTradeDateOrContractMonth 20131220, multiplier '50', CME
import { SecType, WhatToShow, type Contract } from '@stoqey/ib';
import type { ContractTerms } from '../core/types.ts';

export const stockContract = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });

/** The IB contract of a run symbol; `terms` undefined (or STK in USD): a US stock on SMART. */
export function ibContract(symbol: string, terms?: ContractTerms): Contract {
  if (terms === undefined) return stockContract(symbol);
  const expiry = terms.expiry?.replaceAll('-', '') ?? '';
  switch (terms.secType) {
    case 'CASH': {
      const [base, quote] = symbol.split('.');
      if (!base || !quote) throw new Error(`${symbol}: a CASH pair's symbol must be BASE.QUOTE ('EUR.USD')`);
      return { symbol: base, secType: SecType.CASH, exchange: 'IDEALPRO', currency: quote, localSymbol: symbol };
    }
    case 'OPT':
      if (!terms.underlying || !expiry || terms.strike === undefined || !terms.right)
        throw new Error(`${symbol}: an option needs its underlying, expiry, strike and right in the instruments table`);
      return {
        symbol: terms.underlying,
        secType: SecType.OPT,
        lastTradeDateOrContractMonth: expiry,
        strike: terms.strike,
        right: terms.right === 'C' ? ('C' as Contract['right']) : ('P' as Contract['right']),
        multiplier: terms.multiplier,
        exchange: 'SMART',
        currency: terms.currency,
      };
    case 'FUT':
      if (!terms.underlying || !expiry) throw new Error(`${symbol}: a future needs its root and expiry in the instruments table`);
      return {
        symbol: terms.underlying,
        secType: SecType.FUT,
        lastTradeDateOrContractMonth: expiry,
        multiplier: terms.multiplier,
        exchange: 'CME',
        currency: terms.currency,
      };
    default:
      return { symbol, secType: SecType.STK, exchange: 'SMART', currency: terms.currency };
  }
}

/**
 * What real-time bars of a symbol show: a quoted instrument (a pair, an option) has no trades to aggregate the
 * way the backtest's bars are built from its quote bars' mid, so it takes IB's MIDPOINT bars; the rest TRADES.
 */
export function realTimeBarsOf(terms?: ContractTerms): WhatToShow {
  return isQuoted(terms) ? WhatToShow.MIDPOINT : WhatToShow.TRADES;
}

/** A symbol traded on quotes (bid/ask) rather than trades: an FX pair or an option. */
export const isQuoted = (terms?: ContractTerms): boolean => terms?.secType === 'CASH' || terms?.secType === 'OPT';

const ymd = (x: unknown) => String(x ?? '').replaceAll('-', '');

/** Finds the run symbol of a contract IB reports, among the run's symbols and their terms. */
export class ContractIndex {
  private readonly keys = new Map<string, string>();

  constructor(symbols: readonly string[], contracts?: Readonly<Record<string, ContractTerms>>) {
    for (const s of symbols) this.keys.set(keyOf(ibContract(s, contracts?.[s])), s);
  }

  /** The run symbol of a contract (its own symbol when it is not one of the run's: a foreign position). */
  symbolOf(c: Contract): string {
    const found = this.keys.get(keyOf(c));
    if (found !== undefined) return found;
    if (c.secType === SecType.CASH && c.symbol && c.currency) return `${c.symbol}.${c.currency}`;
    return c.localSymbol?.replaceAll(' ', '') || (c.symbol ?? '');
  }
}

/** A contract's identity: type, symbol, currency and, for derivatives, expiry, strike and right. */
function keyOf(c: Contract): string {
  const type = String(c.secType ?? 'STK');
  const base = `${type}|${c.symbol ?? ''}|${type === 'STK' ? '' : (c.currency ?? '')}`;
  if (type === 'OPT') return `${base}|${ymd(c.lastTradeDateOrContractMonth)}|${Number(c.strike ?? 0)}|${String(c.right ?? '').slice(0, 1)}`;
  if (type === 'FUT') return `${base}|${ymd(c.lastTradeDateOrContractMonth)}`;
  return base;
}
