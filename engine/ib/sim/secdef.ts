// The simulator's security definitions of options, futures and FX pairs: the store's instruments rows (OPT, FUT,
// CASH), matched against a request's contract the way IB does, described as IB's contractDetails, and summed up
// per underlying as reqSecDefOptParams answers. Stocks stay with Contracts (contracts.ts): the replayed series.
//
// conIds: derivativeConIdFor(the store key), the FNV-1a scheme of stocks in a range of its own, so a contract
// keeps its conId in every run and process and never takes a stock's. Two keys of one store that hash alike
// (rare: about 5% for a store of 10,000 contracts) are told apart by probing in key order, so both stay stable
// while both are in the store. An option's underConId is its underlying stock's conId (conIdFor).
import type { InstrumentRow } from '../../data/instruments.ts';
import { readInstruments } from '../../data/instruments.ts';
import type { Store } from '../../data/store.ts';
import { parseOccSymbol } from '../../instruments/local-symbol.ts';
import type { IbContract } from '../protocol/contract.ts';
import type { DerivativeDetailsOut } from '../protocol/messages.ts';
import { formatIbDate, ibZoneName } from '../protocol/time.ts';
import { conIdFor, derivativeConIdFor } from './contracts.ts';

/** The security types served here; STK (and IND) requests go to Contracts. */
export const DERIVATIVE_TYPES = ['OPT', 'FUT', 'CASH'] as const;

const ORDER_TYPES = 'LMT,MKT,STP,STP LMT,TRAIL';

/** Exchange names IB has used for the same venue: ES was on 'GLOBEX' until IB renamed it 'CME'. */
const EXCHANGE_ALIASES: Record<string, string> = { GLOBEX: 'CME' };

/** One option chain's parameters on one exchange, as securityDefinitionOptionParameter carries them. */
export interface OptionParams {
  exchange: string;
  underlyingConId: number;
  tradingClass: string;
  multiplier: string;
  /** YYYYMMDD last trading days, ascending */
  expirations: string[];
  /** ascending, each once */
  strikes: number[];
}

/** When a match is asked: `now` (the simulator's clock, epoch ms) leaves out contracts whose last trading day is
 * before that day (in the contract's zone), unless `includeExpired`, as IB does. No `now`: every contract. */
export interface MatchAt {
  now?: number;
  includeExpired?: boolean;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ymd = (iso: string | null) => (iso ? iso.replaceAll('-', '') : '');
const normSymbol = (s: string) => s.replaceAll(' ', '').toUpperCase();

export class SecDefs {
  readonly rows: readonly InstrumentRow[];
  private readonly byConId = new Map<number, InstrumentRow>();
  private readonly conIds = new Map<string, number>();

  /** `rows`: instruments rows; those not OPT, FUT or CASH are left out. */
  constructor(rows: readonly InstrumentRow[]) {
    const mine = rows.filter((r) => (DERIVATIVE_TYPES as readonly string[]).includes(r.secType));
    // conIds in key order, so a probed one does not depend on the order rows come in
    for (const r of [...mine].sort((a, b) => compare(a.symbol, b.symbol))) {
      let probe = 0;
      let id = derivativeConIdFor(r.symbol);
      while (this.byConId.has(id)) id = derivativeConIdFor(r.symbol, ++probe);
      this.byConId.set(id, r);
      this.conIds.set(r.symbol, id);
    }
    // answers list a chain as IB's option chains read: by type, underlying, expiry, strike, calls first
    this.rows = mine.sort(
      (a, b) =>
        compare(a.secType, b.secType) ||
        compare(a.underlying ?? '', b.underlying ?? '') ||
        compare(a.expiry ?? '', b.expiry ?? '') ||
        (a.strike ?? 0) - (b.strike ?? 0) ||
        compare(a.right ?? '', b.right ?? '') ||
        compare(a.symbol, b.symbol),
    );
  }

  /** Every OPT, FUT and CASH row of the store's instruments table. */
  static async load(store: Store): Promise<SecDefs> {
    const r = await store.conn.runAndReadAll(`SELECT symbol FROM instruments WHERE sec_type IN ('OPT', 'FUT', 'CASH') ORDER BY symbol`);
    const symbols = r.getRowObjectsJS().map((row) => String(row.symbol));
    return new SecDefs([...(await readInstruments(store, symbols)).values()]);
  }

  conId(row: InstrumentRow): number {
    const id = this.conIds.get(row.symbol);
    if (id === undefined) throw new Error(`${row.symbol} is not one of the simulator's options, futures or pairs`);
    return id;
  }

  /**
   * The rows a request's contract names, as IB matches: every field given must agree, a field left empty
   * matches anything (an option request with only the symbol gets the whole chain). Fields:
   * conId; symbol (an option's underlying, a future's root, a pair's base currency); secType; currency;
   * exchange ('SMART' matches any, 'CME' or 'GLOBEX' for ES, 'IDEALPRO'); lastTradeDateOrContractMonth
   * ('YYYYMM' a contract month, 'YYYYMMDD' a last trading day); strike; right (C, CALL, P, PUT);
   * multiplier; localSymbol (IB's, or the store key: 'ESZ3', 'ESZ13', 'GOOG  151224C00750000'); tradingClass.
   * Expired contracts only with `at.includeExpired` (see MatchAt).
   */
  match(k: IbContract, at: MatchAt = {}): InstrumentRow[] {
    const live = (r: InstrumentRow) => at.includeExpired || !expired(r, at.now);
    const secType = k.secType.trim().toUpperCase();
    if (!(DERIVATIVE_TYPES as readonly string[]).includes(secType)) return [];
    if (k.conId > 0) {
      const row = this.byConId.get(k.conId);
      return row && row.secType === secType && live(row) ? [row] : [];
    }
    const symbol = k.symbol.trim().toUpperCase();
    const currency = k.currency.trim().toUpperCase();
    const exchange = k.exchange.trim().toUpperCase();
    const date = k.lastTradeDateOrContractMonth.trim();
    const strike = k.strike.trim() === '' ? 0 : Number(k.strike);
    const right = k.right.trim().toUpperCase().slice(0, 1);
    const multiplier = k.multiplier.trim() === '' ? 0 : Number(k.multiplier);
    const local = normSymbol(k.localSymbol);
    const tradingClass = k.tradingClass.trim().toUpperCase();
    if (symbol === '' && local === '') return [];
    return this.rows.filter((r) => {
      if (r.secType !== secType) return false;
      if (symbol !== '' && symbol !== ibSymbol(r)) return false;
      if (currency !== '' && currency !== r.currency) return false;
      if (exchange !== '' && exchange !== 'SMART' && (EXCHANGE_ALIASES[exchange] ?? exchange) !== r.exchange) return false;
      if (date !== '' && !matchesDate(r, date)) return false;
      if (strike > 0 && !(r.strike !== null && Math.abs(r.strike - strike) < 1e-9)) return false;
      if (right !== '' && right !== r.right) return false;
      if (multiplier > 0 && multiplier !== r.multiplier) return false;
      if (local !== '' && local !== normSymbol(r.localSymbol) && local !== r.symbol) return false;
      if (tradingClass !== '' && tradingClass !== ibTradingClass(r)) return false;
      return live(r);
    });
  }

  /** IB's contractDetails of a row; `stockConId` gives an option's underlying conId. */
  details(r: InstrumentRow, stockConId: (symbol: string) => number = conIdFor): DerivativeDetailsOut {
    const expiry = ymd(r.expiry);
    const opt = r.secType === 'OPT';
    const fut = r.secType === 'FUT';
    const under = r.underlying ?? '';
    const tradingClass = ibTradingClass(r);
    return {
      contract: {
        conId: this.conId(r),
        symbol: ibSymbol(r),
        secType: r.secType,
        exchange: r.exchange ?? '',
        primaryExch: '',
        currency: r.currency,
        localSymbol: r.localSymbol,
        tradingClass,
        lastTradeDateOrContractMonth: expiry,
        strike: r.strike ?? 0,
        right: r.right ?? '',
        // IB leaves a pair's multiplier empty (the client reads it as 0)
        multiplier: r.secType === 'CASH' ? '' : String(r.multiplier),
      },
      marketName: tradingClass,
      minTick: r.tickSize ?? 0.01,
      orderTypes: ORDER_TYPES,
      validExchanges: r.exchange ?? '',
      longName: opt ? `${under} ${expiry} ${r.strike} ${r.right}` : fut ? `${under} ${r.contractMonth}` : r.localSymbol,
      timeZoneId: ibZoneName(r.tz ?? 'America/New_York'),
      tradingHours: '',
      liquidHours: '',
      stockType: '',
      marketRuleIds: '',
      lastTradeDate: expiry,
      contractMonth: fut ? (r.contractMonth ?? '') : opt ? expiry.slice(0, 6) : '',
      underConId: opt ? stockConId(under) : fut ? conIdFor(under) : 0,
      underSymbol: under,
      underSecType: opt ? 'STK' : fut ? 'IND' : '',
      realExpirationDate: opt ? occExpiry(r) : expiry,
      minSize: 1,
      sizeIncrement: 1,
      suggestedSizeIncrement: 1,
    };
  }

  /**
   * The option chain of an underlying, one entry per exchange its options list ('SMART' for the sample's US
   * equity options) and trading class: every expiry and strike the store has that has not expired by `now`
   * (epoch ms; default: every one). An underlying with no options: [].
   */
  optionParams(underlyingSymbol: string, underlyingConId: number, now?: number): OptionParams[] {
    const under = underlyingSymbol.trim().toUpperCase();
    const groups = new Map<string, { rows: InstrumentRow[]; exchange: string; tradingClass: string }>();
    for (const r of this.rows) {
      if (r.secType !== 'OPT' || r.underlying !== under || expired(r, now)) continue;
      const exchange = r.exchange ?? 'SMART';
      const tradingClass = ibTradingClass(r);
      const key = `${exchange}|${tradingClass}|${r.multiplier}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { rows: [], exchange, tradingClass }));
      g.rows.push(r);
    }
    return [...groups.values()].map((g) => ({
      exchange: g.exchange,
      underlyingConId,
      tradingClass: g.tradingClass,
      multiplier: String(g.rows[0].multiplier),
      expirations: [...new Set(g.rows.map((r) => ymd(r.expiry)))].sort(),
      strikes: [...new Set(g.rows.map((r) => r.strike ?? 0))].sort((a, b) => a - b),
    }));
  }
}

/** Whether a contract's last trading day is before the day of `now` in its zone (a pair never expires). */
function expired(r: InstrumentRow, now: number | undefined): boolean {
  if (now === undefined || r.expiry === null) return false;
  return ymd(r.expiry) < formatIbDate(now, r.tz ?? 'America/New_York');
}

/** IB's `symbol`: an option's underlying, a future's root, a pair's base currency. */
function ibSymbol(r: InstrumentRow): string {
  if (r.secType === 'CASH') return r.localSymbol.split('.')[0];
  return r.underlying ?? r.symbol;
}

/** IB's trading class: the OCC root of an option (its underlying here), a future's root, a pair's symbol. */
function ibTradingClass(r: InstrumentRow): string {
  if (r.secType === 'OPT') return r.localSymbol.length === 21 ? r.localSymbol.slice(0, 6).trim() : (r.underlying ?? r.symbol);
  if (r.secType === 'FUT') return r.underlying ?? r.symbol;
  return r.localSymbol;
}

/** 'YYYYMM': the contract month (a future) or the expiry's month (an option, all its expiries that month, as IB); 'YYYYMMDD': the last trading day. */
function matchesDate(r: InstrumentRow, date: string): boolean {
  const expiry = ymd(r.expiry);
  if (/^\d{6}$/.test(date)) return r.secType === 'FUT' ? r.contractMonth === date : expiry.startsWith(date);
  if (/^\d{8}$/.test(date)) return expiry === date;
  return false;
}

/** An option's OCC expiration date, YYYYMMDD, from its OCC local symbol (else its last trading day). */
function occExpiry(r: InstrumentRow): string {
  try {
    return ymd(parseOccSymbol(r.localSymbol).expiry);
  } catch {
    return ymd(r.expiry);
  }
}
