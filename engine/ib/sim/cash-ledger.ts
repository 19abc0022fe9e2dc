// The simulated account's ledger for its contracts: each symbol's cash terms (its currency; a pair's two
// currencies; a future margined) and the rates its currencies convert at into the account's base currency (the
// replayed pairs' marks, then the daily rates given: currency-rates.ts).
import type { FxMarks } from '../../portfolio/fx-marks.ts';
import type { Contracts } from './contracts.ts';
import { CurrencyRates, type PairLeg } from './currency-rates.ts';
import { Ledger, type LedgerSymbol } from './ledger.ts';

/** The cash terms of every replayed symbol: a US stock in USD unless its contract says otherwise. */
export function ledgerSymbols(contracts: Contracts): LedgerSymbol[] {
  return contracts.symbols.map((_, sid) => {
    const c = contracts.contract(sid);
    const secType = contracts.terms[sid]?.secType ?? 'STK';
    return secType === 'CASH' ? { secType, currency: c.currency, pairBase: c.symbol } : { secType, currency: c.currency };
  });
}

/** A ledger for the contracts, starting with `o.cash` in the base currency, converting at `marks` and `o.fx` (taken at `clock()`). */
export function accountLedger(
  contracts: Contracts,
  o: { cash: number; baseCurrency?: string; fx?: FxMarks },
  marks: Float64Array,
  clock: () => number,
): Ledger {
  const base = (o.baseCurrency ?? 'USD').toUpperCase();
  if (!/^[A-Z]{3}$/.test(base)) throw new Error(`the simulator's base currency must be a 3-letter ISO code (USD, GBP, EUR), got '${o.baseCurrency}'`);
  const symbols = ledgerSymbols(contracts);
  // the currencies first, so the rates can index them as the ledger will
  const probe = new Ledger(o.cash, symbols.length, contracts.multipliers, { base, symbols });
  const pairs: PairLeg[] = [];
  probe.pairCcy.forEach((pc, sid) => pc >= 0 && pairs.push({ sid, base: pc, quote: probe.ccy[sid] }));
  const rates = new CurrencyRates(probe.currencies, pairs, o.fx ? { fx: o.fx, clock } : undefined);
  return new Ledger(o.cash, symbols.length, contracts.multipliers, { base, symbols, rates, marks });
}
