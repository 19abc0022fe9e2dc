// What is traded: the instrument model (IB's security types) and the money arithmetic every path must use.
// A price is per unit of the underlying (an ES point, an option premium per share, a stock's price, USD per GBP);
// what one contract is worth is price x multiplier. notional() and pnl() are the only places that product
// is written, so no path can forget the multiplier.

import { daysInMonth, type IsoDate, isIsoDate } from './iso-date.ts';

/** IB's security types: stock, option, future, FX pair (IDEALPRO), index (quoted, not traded). */
export type SecType = 'STK' | 'OPT' | 'FUT' | 'CASH' | 'IND';
export type Right = 'C' | 'P';

interface InstrumentBase {
  /** IB's `symbol`: the ticker, the option's or future's root ('ES'), a pair's base currency ('GBP') */
  symbol: string;
  /** where IB routes it: 'SMART', 'CME', 'COMEX', 'IDEALPRO' */
  exchange: string;
  /** currency of prices, P&L and margin (ISO 4217); a pair's quote currency */
  currency: string;
  /** money per unit of price per contract: 1 for a stock, 100 for a US equity option, 50 for ES */
  multiplier: number;
  /** smallest price increment */
  tickSize: number;
}

export interface StockInstrument extends InstrumentBase {
  secType: 'STK';
}

export interface IndexInstrument extends InstrumentBase {
  secType: 'IND';
}

export interface OptionInstrument extends InstrumentBase {
  secType: 'OPT';
  /** the underlying's symbol ('AAPL') */
  underlying: string;
  /** last trading day */
  expiry: IsoDate;
  /**
   * OCC expiration date, only when it is not the last trading day: standard monthlies before February 2015
   * expired on the Saturday after their last trading day (the OCC symbol carries that Saturday).
   */
  occExpiry?: IsoDate;
  strike: number;
  right: Right;
}

export interface FutureInstrument extends InstrumentBase {
  secType: 'FUT';
  /** contract month 'YYYYMM' (IB's lastTradeDateOrContractMonth for futures) */
  contractMonth: string;
  /** last trading day */
  expiry: IsoDate;
}

/** An IDEALPRO pair. IB's convention: symbol = base currency, currency = quote currency ('GBP.USD'). */
export interface CashInstrument extends InstrumentBase {
  secType: 'CASH';
  baseCurrency: string;
  quoteCurrency: string;
}

export type Instrument = StockInstrument | IndexInstrument | OptionInstrument | FutureInstrument | CashInstrument;

/** An instrument field that breaks its rule; `field` names it, the message says the rule. */
export class InstrumentError extends Error {
  override name = 'InstrumentError';
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly subject = '',
  ) {
    super(`${subject ? `${subject}: ` : ''}${field} ${rule}`);
  }
}

const CURRENCY_RE = /^[A-Z]{3}$/;
const CONTRACT_MONTH_RE = /^(\d{4})(0[1-9]|1[0-2])$/;
/** Fields that only some types may carry: a STK with a strike is a mistake, not extra information. */
const TYPE_FIELDS: Record<SecType, readonly string[]> = {
  STK: [],
  IND: [],
  OPT: ['underlying', 'expiry', 'occExpiry', 'strike', 'right'],
  FUT: ['contractMonth', 'expiry'],
  CASH: ['baseCurrency', 'quoteCurrency'],
};
const ALL_TYPE_FIELDS = [...new Set(Object.values(TYPE_FIELDS).flat())];

/**
 * Checks every field of an instrument (from code, a config file or a database row) and returns it typed.
 * Throws an InstrumentError naming the first field that breaks its rule.
 */
export function validateInstrument(x: Record<string, unknown>): Instrument {
  const secType = x.secType;
  if (secType !== 'STK' && secType !== 'OPT' && secType !== 'FUT' && secType !== 'CASH' && secType !== 'IND') {
    throw new InstrumentError('secType', `must be one of STK, OPT, FUT, CASH, IND, got ${show(secType)}`);
  }
  const subject = `${secType} ${typeof x.symbol === 'string' ? x.symbol : '?'}`;
  const fail = (field: string, rule: string): never => {
    throw new InstrumentError(field, rule, subject);
  };
  if (typeof x.symbol !== 'string' || !/^[A-Za-z0-9^][A-Za-z0-9.\-_/^ ]*$/.test(x.symbol) || x.symbol.trim() !== x.symbol) {
    fail('symbol', `must be a ticker (letters, digits, . - _ / ^, no surrounding spaces), got ${show(x.symbol)}`);
  }
  if (typeof x.exchange !== 'string' || x.exchange.trim() === '') fail('exchange', `must be a non-empty exchange name, got ${show(x.exchange)}`);
  if (typeof x.currency !== 'string' || !CURRENCY_RE.test(x.currency)) fail('currency', `must be an ISO currency code such as USD, got ${show(x.currency)}`);
  positive(x.multiplier, 'multiplier', fail);
  positive(x.tickSize, 'tickSize', fail);
  for (const f of ALL_TYPE_FIELDS) {
    if (x[f] !== undefined && !TYPE_FIELDS[secType].includes(f)) fail(f, `does not belong on a ${secType} (only ${typeFieldOwners(f)} carry it)`);
  }
  switch (secType) {
    case 'OPT': {
      if (typeof x.underlying !== 'string' || x.underlying.trim() === '') fail('underlying', `must name the underlying, got ${show(x.underlying)}`);
      if (!isIsoDate(x.expiry)) fail('expiry', `must be the last trading day as YYYY-MM-DD, got ${show(x.expiry)}`);
      if (x.occExpiry !== undefined) {
        if (!isIsoDate(x.occExpiry)) fail('occExpiry', `must be a date YYYY-MM-DD, got ${show(x.occExpiry)}`);
        if ((x.occExpiry as string) < (x.expiry as string)) fail('occExpiry', `${x.occExpiry} is before the last trading day ${x.expiry}`);
      }
      positive(x.strike, 'strike', fail);
      if (x.right !== 'C' && x.right !== 'P') fail('right', `must be 'C' or 'P', got ${show(x.right)}`);
      break;
    }
    case 'FUT': {
      const m = typeof x.contractMonth === 'string' ? CONTRACT_MONTH_RE.exec(x.contractMonth) : null;
      if (!m) fail('contractMonth', `must be YYYYMM (month 01-12), got ${show(x.contractMonth)}`);
      if (!isIsoDate(x.expiry)) fail('expiry', `must be the last trading day as YYYY-MM-DD, got ${show(x.expiry)}`);
      // Most contracts expire in their month (ES, GC); energy contracts (CL, NG) in the month or two before it.
      const exp = x.expiry as string;
      const earliest = `${monthsBefore(+m![1]!, +m![2]!, 2)}-01`;
      const monthEnd = `${m![1]}-${m![2]}-${daysInMonth(+m![1]!, +m![2]!)}`;
      if (exp < earliest || exp > monthEnd) {
        fail('expiry', `${exp} is outside contract month ${x.contractMonth} and the two months before it (${earliest}..${monthEnd})`);
      }
      break;
    }
    case 'CASH': {
      for (const f of ['baseCurrency', 'quoteCurrency'] as const) {
        if (typeof x[f] !== 'string' || !CURRENCY_RE.test(x[f] as string)) fail(f, `must be an ISO currency code, got ${show(x[f])}`);
      }
      if (x.baseCurrency === x.quoteCurrency) fail('quoteCurrency', `must differ from the base currency ${x.baseCurrency}`);
      if (x.currency !== x.quoteCurrency)
        fail('currency', `must be the pair's quote currency ${x.quoteCurrency} (prices are quote per base), got ${x.currency}`);
      if (x.symbol !== x.baseCurrency) fail('symbol', `must be the pair's base currency ${x.baseCurrency} (IB's convention), got ${x.symbol}`);
      break;
    }
  }
  return x as unknown as Instrument;
}

function positive(v: unknown, field: string, fail: (field: string, rule: string) => never): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, `must be a finite number > 0, got ${show(v)}`);
}

function typeFieldOwners(field: string): string {
  return (Object.keys(TYPE_FIELDS) as SecType[]).filter((t) => TYPE_FIELDS[t].includes(field)).join(', ');
}

function monthsBefore(year: number, month: number, n: number): string {
  const idx = year * 12 + (month - 1) - n;
  return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}`;
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : typeof v === 'string' ? `'${v}'` : String(v);
}

// Constructors: the fields of each type, defaults where IB has one, validated.

export function stock(f: { symbol: string; exchange?: string; currency?: string; tickSize?: number }): StockInstrument {
  return validateInstrument({ secType: 'STK', exchange: 'SMART', currency: 'USD', multiplier: 1, tickSize: 0.01, ...f }) as StockInstrument;
}

export function index(f: { symbol: string; exchange: string; currency?: string; tickSize?: number }): IndexInstrument {
  return validateInstrument({ secType: 'IND', currency: 'USD', multiplier: 1, tickSize: 0.01, ...f }) as IndexInstrument;
}

export function option(f: Omit<OptionInstrument, 'secType' | 'symbol'> & { symbol?: string }): OptionInstrument {
  return validateInstrument({ secType: 'OPT', symbol: f.underlying, ...f }) as OptionInstrument;
}

export function future(f: Omit<FutureInstrument, 'secType'>): FutureInstrument {
  return validateInstrument({ secType: 'FUT', ...f }) as FutureInstrument;
}

export function cash(f: { baseCurrency: string; quoteCurrency: string; exchange?: string; multiplier?: number; tickSize: number }): CashInstrument {
  return validateInstrument({
    secType: 'CASH',
    symbol: f.baseCurrency,
    currency: f.quoteCurrency,
    exchange: 'IDEALPRO',
    multiplier: 1,
    ...f,
  }) as CashInstrument;
}

// Money. qty is signed (positive long, negative short) and counts contracts (shares, options, futures,
// units of the base currency). qty x multiplier is an exact integer for integer quantities, so each function
// rounds once, in its last multiplication. Money is in the instrument's currency.

/** Value of a position: qty x price x multiplier (ES: 2 contracts at 1700 = 2 x 1700 x 50 = $170,000). */
export function notional(inst: Instrument, qty: number, price: number): number {
  return qty * inst.multiplier * price + 0; // + 0: no -0 in reports
}

/** Profit of qty bought (qty > 0) or sold short (qty < 0) at `entry` and closed at `exit`, before costs. */
export function pnl(inst: Instrument, qty: number, entry: number, exit: number): number {
  return qty * inst.multiplier * (exit - entry) + 0;
}

/** Money per tick per contract (ES: 0.25 x 50 = $12.50). */
export function tickValue(inst: Instrument): number {
  return inst.tickSize * inst.multiplier;
}

// Ticks. Decision: a market price (a fill, a mark) rounds to the nearest tick, ties to the even tick (no
// drift up or down over many roundings). A limit price rounds towards the side that keeps the trader's
// limit: a BUY limit down (never pays more than asked), a SELL limit up (never sells for less). The result
// is written with the tick's decimals, so 1.23455 on a 0.00005 tick gives 1.23455, not 1.2345500000000001.

export type TickRounding = 'nearest' | 'down' | 'up';

/** `price` rounded to a multiple of `tick` ('nearest' is half-even on exact ties). */
export function roundToTick(price: number, tick: number, mode: TickRounding = 'nearest'): number {
  if (!(tick > 0) || !Number.isFinite(tick)) throw new RangeError(`tick must be a finite number > 0, got ${tick}`);
  if (!Number.isFinite(price)) throw new RangeError(`price must be finite, got ${price}`);
  const q = price / tick;
  const n = Math.round(q);
  // how far from a whole number of ticks floating point may put a price written in decimals (relative 1e-12
  // of q, at least 1e-9 tick): far below a tick at any price, far above the ~2e-16 relative error of price / tick
  const tol = Math.max(1e-9, Math.abs(q) * 1e-12);
  // q = 24689.999999999996 for 1.2345 / 0.00005: a price already on the tick must stay there
  const onTick = Math.abs(q - n) <= tol;
  let k: number;
  if (onTick) k = n;
  else if (mode === 'down') k = Math.floor(q);
  else if (mode === 'up') k = Math.ceil(q);
  else {
    const f = Math.floor(q);
    const tie = Math.abs(q - f - 0.5) <= tol;
    k = tie ? (f % 2 === 0 ? f : f + 1) : n;
  }
  return Number((k * tick).toFixed(tickDecimals(tick)));
}

/** A limit price on the instrument's tick, rounded so the limit is never worse for the trader. */
export function limitToTick(inst: Instrument, side: 'BUY' | 'SELL', price: number): number {
  return roundToTick(price, inst.tickSize, side === 'BUY' ? 'down' : 'up');
}

/** Whether a price sits on the instrument's tick. */
export function isOnTick(inst: Instrument, price: number): boolean {
  return roundToTick(price, inst.tickSize) === price;
}

/** Decimals needed to write multiples of a tick exactly (0.25 -> 2, 0.00005 -> 5, 5 -> 0). */
export function tickDecimals(tick: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(tick * 10 ** d) - tick * 10 ** d) > 1e-9) d++;
  return d;
}
