// IB's local symbols: OCC option symbols, futures month-code symbols, IDEALPRO pair symbols. Each builder has
// a parser that inverts it (fast-check round trips in test/instruments/local-symbol.test.ts).

import type { CashInstrument, FutureInstrument, Instrument, OptionInstrument, Right } from './instrument.ts';
import { type IsoDate, isIsoDate } from './iso-date.ts';

export class LocalSymbolError extends Error {
  override name = 'LocalSymbolError';
}

// ---- OCC option symbols: root padded to 6, YYMMDD, C/P, strike x 1000 as 8 digits (21 characters).

export interface OccParts {
  /** option root, at most 6 characters ('AAPL', 'GOOG', 'SPXW') */
  root: string;
  /** OCC expiration date (for standard monthlies before February 2015, the Saturday after the last trading day) */
  expiry: IsoDate;
  right: Right;
  /** strike in dollars, a multiple of 0.001 below 100,000 */
  strike: number;
}

const OCC_RE = /^([A-Z0-9.]{1,6}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** 'AAPL  140613C00645000' for AAPL 2014-06-13 C 645. Years are 2000-2099. */
export function occSymbol(p: OccParts): string {
  if (!/^[A-Z0-9.]{1,6}$/.test(p.root)) throw new LocalSymbolError(`OCC root '${p.root}' must be 1-6 characters A-Z, 0-9 or '.'`);
  if (!isIsoDate(p.expiry) || p.expiry < '2000-01-01' || p.expiry > '2099-12-31') {
    throw new LocalSymbolError(`OCC expiry '${p.expiry}' must be a date YYYY-MM-DD in 2000-2099`);
  }
  if (p.right !== 'C' && p.right !== 'P') throw new LocalSymbolError(`OCC right '${p.right}' must be C or P`);
  const milli = Math.round(p.strike * 1000);
  if (!(p.strike > 0) || Math.abs(milli - p.strike * 1000) > 1e-6 * Math.max(1, milli) || milli >= 1e8) {
    throw new LocalSymbolError(`OCC strike ${p.strike} must be > 0, a multiple of 0.001 and below 100000`);
  }
  const yymmdd = p.expiry.slice(2, 4) + p.expiry.slice(5, 7) + p.expiry.slice(8, 10);
  return `${p.root.padEnd(6, ' ')}${yymmdd}${p.right}${String(milli).padStart(8, '0')}`;
}

/** The parts of an OCC symbol; the 21-character padded form, or with the padding collapsed ('AAPL140613C00645000'). */
export function parseOccSymbol(s: string): OccParts {
  const m = OCC_RE.exec(s);
  if (!m || (s.length !== 21 && s.includes(' '))) {
    throw new LocalSymbolError(`'${s}' is not an OCC symbol: root padded to 6, YYMMDD, C or P, strike x 1000 as 8 digits (e.g. 'AAPL  140613C00645000')`);
  }
  const expiry = `20${m[2]}-${m[3]}-${m[4]}`;
  if (!isIsoDate(expiry)) throw new LocalSymbolError(`'${s}': ${m[2]}${m[3]}${m[4]} is not a date YYMMDD`);
  const milli = Number(m[6]);
  if (milli === 0) throw new LocalSymbolError(`'${s}': strike is 0`);
  return { root: m[1]!, expiry, right: m[5] as Right, strike: milli / 1000 };
}

/** The OCC symbol of an option instrument (its OCC expiration date, else its last trading day). */
export function optionLocalSymbol(o: OptionInstrument): string {
  return occSymbol({ root: o.symbol, expiry: o.occExpiry ?? o.expiry, right: o.right, strike: o.strike });
}

// ---- futures: root + month code + last digit of the year (IB's localSymbol: ES Dec 2013 = 'ESZ3').

export const MONTH_CODES = 'FGHJKMNQUVXZ';

export function monthCode(month: number): string {
  const c = MONTH_CODES[month - 1];
  if (!Number.isInteger(month) || !c) throw new LocalSymbolError(`month ${month} must be 1-12`);
  return c;
}

/** 'ESZ3' for root 'ES', contract month '201312'. */
export function futuresLocalSymbol(root: string, contractMonth: string): string {
  if (!/^[A-Z0-9]{1,5}$/.test(root)) throw new LocalSymbolError(`futures root '${root}' must be 1-5 characters A-Z or 0-9`);
  const m = /^(\d{4})(0[1-9]|1[0-2])$/.exec(contractMonth);
  if (!m) throw new LocalSymbolError(`contract month '${contractMonth}' must be YYYYMM`);
  return `${root}${monthCode(+m[2]!)}${m[1]!.slice(3)}`;
}

/**
 * Root and contract month of a futures local symbol. A one-digit year ('ESZ3') names one year per decade, so
 * the parse needs the date it is read at: it gives the first contract month at or after that date's month
 * (a contract still listed then has not expired, and none is listed 10 years out). A two-digit year
 * ('ESZ13') needs no reference (20YY).
 */
export function parseFuturesLocalSymbol(s: string, reference?: IsoDate): { root: string; contractMonth: string } {
  const m = /^([A-Z0-9]{1,5}?)([FGHJKMNQUVXZ])(\d{1,2})$/.exec(s);
  if (!m) throw new LocalSymbolError(`'${s}' is not a futures local symbol: root, month code (F G H J K M N Q U V X Z), year digit (e.g. 'ESZ3')`);
  const month = MONTH_CODES.indexOf(m[2]!) + 1;
  let year: number;
  if (m[3]!.length === 2) year = 2000 + Number(m[3]);
  else {
    if (reference === undefined || !isIsoDate(reference)) {
      throw new LocalSymbolError(`'${s}' has a one-digit year: give the date it is read at (YYYY-MM-DD) to fix the decade, got ${reference ?? 'nothing'}`);
    }
    const refYear = +reference.slice(0, 4);
    const refMonth = +reference.slice(5, 7);
    year = refYear - (((((refYear % 10) - Number(m[3])) % 10) + 10) % 10); // latest year <= refYear ending in the digit
    if (year * 12 + month < refYear * 12 + refMonth) year += 10;
  }
  return { root: m[1]!, contractMonth: `${year}${String(month).padStart(2, '0')}` };
}

export function futureLocalSymbol(f: FutureInstrument): string {
  return futuresLocalSymbol(f.symbol, f.contractMonth);
}

// ---- IDEALPRO pairs: 'GBP.USD' = base.quote.

export function cashLocalSymbol(base: string, quote: string): string {
  if (!/^[A-Z]{3}$/.test(base) || !/^[A-Z]{3}$/.test(quote) || base === quote) {
    throw new LocalSymbolError(`a pair needs two different ISO currency codes, got '${base}' and '${quote}'`);
  }
  return `${base}.${quote}`;
}

export function parseCashLocalSymbol(s: string): { baseCurrency: string; quoteCurrency: string } {
  const m = /^([A-Z]{3})\.([A-Z]{3})$/.exec(s);
  if (!m || m[1] === m[2]) throw new LocalSymbolError(`'${s}' is not a pair symbol BASE.QUOTE of two ISO currency codes (e.g. 'GBP.USD')`);
  return { baseCurrency: m[1]!, quoteCurrency: m[2]! };
}

export function pairLocalSymbol(c: CashInstrument): string {
  return cashLocalSymbol(c.baseCurrency, c.quoteCurrency);
}

/** IB's localSymbol of any instrument (a stock's or index's is its symbol). */
export function localSymbol(inst: Instrument): string {
  switch (inst.secType) {
    case 'OPT':
      return optionLocalSymbol(inst);
    case 'FUT':
      return futureLocalSymbol(inst);
    case 'CASH':
      return pairLocalSymbol(inst);
    default:
      return inst.symbol;
  }
}

/**
 * A key that names one instrument for ever (the `instruments.symbol` key the store could use): a stock's or
 * index's symbol, an option's OCC symbol, a future's root and contract month ('ES 201312', unlike 'ESZ3'
 * which names a contract per decade), a pair's 'GBP.USD'.
 */
export function instrumentKey(inst: Instrument): string {
  return inst.secType === 'FUT' ? `${inst.symbol} ${inst.contractMonth}` : localSymbol(inst);
}
