// The simulator's instruments: the replayed symbols, US stocks on SMART unless their contract terms say otherwise
// (FX pairs on IDEALPRO, options and futures: `terms`), each with a stable conId.
import type { ContractTerms } from '../../core/types.ts';
import { ibContract } from '../contracts.ts';
import type { IbContract } from '../protocol/contract.ts';
import type { ContractDetailsOut, ContractOut, DerivativeContractOut } from '../protocol/messages.ts';
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

const ymd = (s: string) => s.trim().replaceAll('-', '');

export class Contracts {
  readonly conIds: number[];
  /** each symbol's multiplier (1 for stocks and pairs) */
  readonly multipliers: Float64Array;
  private readonly out: DerivativeContractOut[];

  /** `terms[sid]`: the contract terms of a symbol that is not a US stock (undefined: a US stock) */
  constructor(
    readonly symbols: readonly string[],
    private readonly tz: string,
    readonly terms: readonly (ContractTerms | undefined)[] = [],
  ) {
    this.conIds = symbols.map((s, sid) => (terms[sid] && terms[sid].secType !== 'STK' ? derivativeConIdFor(s) : conIdFor(s)));
    this.multipliers = Float64Array.from(symbols, (_, sid) => terms[sid]?.multiplier ?? 1);
    this.out = symbols.map((symbol, sid) => {
      const t = terms[sid];
      const c = ibContract(symbol, t);
      const opt = t?.secType === 'OPT';
      return {
        conId: this.conIds[sid],
        symbol: c.symbol ?? symbol,
        secType: String(c.secType ?? 'STK'),
        exchange: c.exchange ?? 'SMART',
        primaryExch: '',
        currency: c.currency ?? 'USD',
        localSymbol: opt ? occLocal(symbol) : (c.localSymbol ?? symbol),
        tradingClass: opt || t?.secType === 'FUT' ? (t?.underlying ?? symbol) : symbol,
        lastTradeDateOrContractMonth: c.lastTradeDateOrContractMonth ?? '',
        strike: c.strike ?? 0,
        right: c.right ?? '',
        multiplier: t && t.secType !== 'STK' && t.secType !== 'CASH' ? String(t.multiplier) : '',
      };
    });
  }

  /**
   * The symbol index a request's contract names, or -1: by conId, else by symbol (or localSymbol) for a stock;
   * a pair by its base and quote currency (or 'EUR.USD' as localSymbol); an option or future by its symbol (the
   * underlying or root), expiry, strike and right, or its localSymbol (IB's padded OCC symbol or the store key).
   */
  resolve(k: Pick<IbContract, 'conId' | 'symbol' | 'secType' | 'currency' | 'localSymbol'> & Partial<IbContract>): number {
    const secType = k.secType.toUpperCase() || 'STK';
    const currency = k.currency.toUpperCase();
    const symbol = k.symbol.trim().toUpperCase();
    const local = k.localSymbol.replaceAll(' ', '').toUpperCase();
    if (k.conId > 0) {
      const sid = this.conIds.indexOf(k.conId);
      if (sid < 0 || this.out[sid].secType !== secType) return -1;
      return symbol === '' || symbol === this.out[sid].symbol || (secType === 'STK' && symbol === this.symbols[sid]) ? sid : -1;
    }
    if (secType === 'STK') {
      const s = symbol || local;
      // a stock trades in its listing's currency (the instruments table's; USD unless it says otherwise)
      return s === '' ? -1 : this.out.findIndex((o, sid) => o.secType === 'STK' && this.symbols[sid] === s && (currency === '' || currency === o.currency));
    }
    return this.out.findIndex((o, sid) => {
      if (o.secType !== secType) return false;
      if (local !== '') return local === this.symbols[sid] || local === o.localSymbol.replaceAll(' ', '');
      if (symbol === '' || symbol !== o.symbol || (currency !== '' && currency !== o.currency)) return false;
      if (secType === 'CASH') return true;
      const date = ymd(k.lastTradeDateOrContractMonth ?? '');
      if (date !== '' && !o.lastTradeDateOrContractMonth.startsWith(date)) return false;
      if (secType === 'FUT') return date !== '';
      const strike = Number(k.strike ?? 0);
      const right = (k.right ?? '').trim().toUpperCase().slice(0, 1);
      return date !== '' && Math.abs(strike - o.strike) < 1e-9 && right === o.right;
    });
  }

  contract(sid: number): DerivativeContractOut {
    return this.out[sid];
  }

  /** The replayed symbol with this conId, or -1 (a combo leg names its contract by conId only). */
  sidOfConId(conId: number): number {
    return conId > 0 ? this.conIds.indexOf(conId) : -1;
  }

  /** A combo's contract as IB echoes it: BAG on SMART, the legs' underlying as symbol, no conId of its own. */
  bagContract(symbol: string, currency: string): ContractOut {
    return { conId: 0, symbol, secType: 'BAG', exchange: 'SMART', primaryExch: '', currency, localSymbol: '', tradingClass: '' };
  }

  details(sid: number): ContractDetailsOut {
    const symbol = this.symbols[sid];
    const c = this.out[sid];
    return {
      contract: c,
      marketName: c.tradingClass,
      minTick: c.secType === 'CASH' ? 0.00005 : 0.01,
      orderTypes: ORDER_TYPES,
      validExchanges: c.exchange,
      longName: symbol,
      timeZoneId: ibZoneName(this.tz),
      tradingHours: '',
      liquidHours: '',
      stockType: 'COMMON',
      marketRuleIds: '26',
    };
  }
}

/** IB's localSymbol of an option: the OCC symbol with the root padded to 6 ('GOOG  151224C00750000'). */
function occLocal(key: string): string {
  const m = /^(.+?)(\d{6}[CP]\d{8})$/.exec(key);
  return m ? `${m[1].padEnd(6, ' ')}${m[2]}` : key;
}
