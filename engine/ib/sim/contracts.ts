// The simulator's instruments: the replayed symbols as US stocks on SMART, each with a stable conId.
import type { IbContract } from '../protocol/contract.ts';
import type { ContractDetailsOut, ContractOut } from '../protocol/messages.ts';
import { ibZoneName } from '../protocol/time.ts';

/** FNV-1a of a string, unsigned 32 bits. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A stable conId for a symbol (FNV-1a), the same in every run and process: 100,000 .. 900,099,999. */
export function conIdFor(symbol: string): number {
  return 100_000 + (fnv1a(symbol) % 900_000_000);
}

/**
 * A stable conId for an option, future or pair by its store key ('GOOG151224C00750000', 'ESZ13', 'GBP.USD'):
 * FNV-1a in 1,000,100,000 .. 2,000,099,999, a range no stock's conId reaches, below 2^31 (IB's conIds are
 * 32-bit ints). `probe` > 0 gives the next candidate when two keys of one store hash alike (secdef.ts).
 */
export function derivativeConIdFor(key: string, probe = 0): number {
  return 1_000_100_000 + (fnv1a(probe === 0 ? key : `${key}#${probe}`) % 1_000_000_000);
}

export const ORDER_TYPES = 'LMT,MKT,MOC,MOO,STP,STP LMT,TRAIL';

export class Contracts {
  readonly conIds: number[];
  private readonly out: ContractOut[];

  constructor(
    readonly symbols: readonly string[],
    private readonly tz: string,
  ) {
    this.conIds = symbols.map(conIdFor);
    this.out = symbols.map((symbol, sid) => ({
      conId: this.conIds[sid],
      symbol,
      secType: 'STK',
      exchange: 'SMART',
      primaryExch: '',
      currency: 'USD',
      localSymbol: symbol,
      tradingClass: symbol,
    }));
  }

  /** The symbol index a request's contract names, or -1: by conId, else by symbol (or localSymbol). */
  resolve(k: Pick<IbContract, 'conId' | 'symbol' | 'secType' | 'currency' | 'localSymbol'>): number {
    const secType = k.secType.toUpperCase();
    const currency = k.currency.toUpperCase();
    if ((secType !== '' && secType !== 'STK') || (currency !== '' && currency !== 'USD')) return -1;
    const symbol = (k.symbol || k.localSymbol).trim().toUpperCase();
    if (k.conId > 0) {
      const sid = this.conIds.indexOf(k.conId);
      return sid >= 0 && (symbol === '' || symbol === this.symbols[sid]) ? sid : -1;
    }
    return symbol === '' ? -1 : this.symbols.indexOf(symbol);
  }

  contract(sid: number): ContractOut {
    return this.out[sid];
  }

  details(sid: number): ContractDetailsOut {
    const symbol = this.symbols[sid];
    return {
      contract: this.out[sid],
      marketName: symbol,
      minTick: 0.01,
      orderTypes: ORDER_TYPES,
      validExchanges: 'SMART',
      longName: symbol,
      timeZoneId: ibZoneName(this.tz),
      tradingHours: '',
      liquidHours: '',
      stockType: 'COMMON',
      marketRuleIds: '26',
    };
  }
}
