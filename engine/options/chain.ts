// Option chains from quotes: the contracts of one underlying that a filter keeps, grouped by expiry and sorted
// by strike, with each quote's mid and spread and, when pricing is asked for, its implied volatility and greeks.
//
// The filter is what a trader asks of IB's option chain: reqSecDefOptParams returns one set of expirations and
// one set of strikes per exchange and trading class (not every pair of them is listed), so a chain request
// narrows both: an expiry range (dates, or days to expiry), the nearest N expiries, strikes around the money
// (the N nearest the spot, or a band of K / S), and calls or puts.
//
// Pricing decision. Default: the American CRR tree with 100 steps (US equity options are American), IV by
// Brent's method on the tree price (8-15 trees), and every greek from crrGreeks (5 more trees). Measured on this
// machine (Node 20, one core), GOOG 2015-12-24 11:00: the whole chain, 1383 contracts of which 672 have a mid
// and an IV, prices in ~0.3 s (~0.45 ms a priced contract, ~0.35 ms within 3% of the money; far from it and
// near expiry the solver needs more trees), plus ~0.15 s of SQL in readChain. So 300 contracts cost ~0.12 s a
// minute and a 390-minute day of them ~50 s: fine for research and for a chain now and then, too slow to
// re-price a whole chain every minute of a backtest. There use `model: 'bsm'` (Black-Scholes-Merton, Newton on
// the closed form, ~0.02 ms a contract: the same chain in ~15 ms) or fewer steps (cost grows as steps^2: 50
// steps ~0.1 s, 200 steps ~1 s for that chain). The 100-step tree's IV is within ~0.0005 (0.05 vol points) of
// the 1000-step tree's on the sample's GOOG and AAPL contracts, far inside a quote's spread in vol terms. BSM is
// exact for a call on a stock with no dividend (early exercise is never optimal) and misses the American put's
// early-exercise premium (large only deep in the money at high rates: DERIVATIVES.md's SPY 470 put at 5.3%).
//
// Each quote is priced at its own time (`time`, the quote bar's close) against the underlying at that time
// (`underlyingPrice`, else the chain's spot), so a stale quote is not set against a newer spot.

import type { OptionInstrument, Right } from '../instruments/instrument.ts';
import { daysBetween, type IsoDate, isIsoDate } from '../instruments/iso-date.ts';
import { crrGreeks } from './binomial.ts';
import { bsmGreeks, type Greeks } from './black-scholes.ts';
import { expiryCloseMs } from './contract.ts';
import { type IvFailure, impliedVol, quoteMid } from './implied-vol.ts';
import { PricingInputError } from './inputs.ts';
import { formatInZone } from '../core/timezone.ts';

/** One contract's quote as of one moment. */
export interface OptionQuote {
  /** the store's key: the compact OCC symbol, 'GOOG151224C00750000' */
  symbol: string;
  contract: OptionInstrument;
  /** best bid and ask; null when that side had no quote */
  bid: number | null;
  ask: number | null;
  bidSize: number;
  askSize: number;
  /** epoch ms the quote is as of (a quote bar's close: its start + its length) */
  time: number;
  /** the underlying's price at `time`; the chain's spot when absent */
  underlyingPrice?: number | null;
}

export interface ChainFilter {
  /** calls or puts only; both when absent */
  right?: Right;
  /** last trading day on or after / on or before these dates (YYYY-MM-DD, inclusive) */
  expiryFrom?: IsoDate;
  expiryTo?: IsoDate;
  /**
   * calendar days from now's New York date to the last trading day, inclusive (0 = expiring today). Default
   * minDays 0: a contract whose last trading day has passed is not in a chain.
   */
  minDays?: number;
  maxDays?: number;
  /** the nearest N expiries left after the ranges above */
  expiries?: number;
  /** strikes with lo <= K / spot <= hi, e.g. [0.95, 1.05] */
  moneyness?: readonly [number, number];
  /** the N strikes nearest the spot (by |K - S|, the lower strike first on a tie), per expiry, after `moneyness` */
  strikes?: number;
}

export type PricingModel = 'crr' | 'bsm';

export interface ChainPricing {
  /** continuously compounded risk-free rate (0.0025 = 0.25%) */
  rate: number;
  /** continuous dividend yield (default 0) */
  dividendYield?: number;
  /** 'crr' (American tree, the default) or 'bsm' (European closed form); see the top of this file */
  model?: PricingModel;
  /** tree steps for 'crr' (default 100) */
  steps?: number;
}

export const DEFAULT_TREE_STEPS = 100;

/** Why a contract has no mid or no implied volatility: the IV solver's reasons, or the pricing inputs missing. */
export type ChainIssue = IvFailure | 'no-underlying' | 'model-error';

/** A quote's mid, spread, implied volatility and greeks (greeks in engine/options units: theta per year, vega and rho per 1.00). */
export interface QuoteAnalytics {
  /** (bid + ask) / 2 of a two-sided, uncrossed quote (quoteMid); null otherwise */
  mid: number | null;
  /** ask - bid when both sides exist (negative when crossed) */
  spread: number | null;
  /** the underlying price the quote was priced against (null when there was none) */
  underlyingPrice: number | null;
  /** years from the quote's time to the expiry close (contract.ts yearsToExpiry) */
  years: number;
  iv: number | null;
  /** the model at `iv`: its price (the mid, to the solver's tolerance) and greeks */
  greeks: Greeks | null;
  /** why mid or iv is null; null when both are there, or when only pricing was not asked for */
  reason: ChainIssue | null;
  message: string | null;
}

export interface ChainEntry extends QuoteAnalytics {
  symbol: string;
  contract: OptionInstrument;
  bid: number | null;
  ask: number | null;
  bidSize: number;
  askSize: number;
  time: number;
}

export interface ChainStrike {
  strike: number;
  call: ChainEntry | null;
  put: ChainEntry | null;
}

/** One expiration (contracts of one OCC expiration date). */
export interface ChainExpiry {
  /** last trading day */
  expiry: IsoDate;
  /** OCC expiration date when it differs (a Saturday for monthlies before 2015) */
  occExpiry?: IsoDate;
  /** calendar days from now's New York date */
  days: number;
  /** by strike, ascending */
  strikes: ChainStrike[];
}

export interface Chain {
  /** null for a chain of no quotes */
  underlying: string | null;
  spot: number;
  now: number;
  /** by expiry, nearest first */
  expiries: ChainExpiry[];
}

export class ChainFilterError extends RangeError {
  override name = 'ChainFilterError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`option chain filter: ${field} ${message}`);
  }
}

const NEW_YORK = 'America/New_York';

/** New York's calendar date at an instant. */
export function newYorkDate(ms: number): IsoDate {
  return formatInZone(NEW_YORK, ms).slice(0, 10);
}

/** Throws a ChainFilterError naming the first field that breaks its rule. */
export function checkChainFilter(f: ChainFilter): void {
  if (f.right !== undefined && f.right !== 'C' && f.right !== 'P') throw new ChainFilterError('right', `must be 'C' or 'P', got ${String(f.right)}`);
  for (const k of ['expiryFrom', 'expiryTo'] as const) {
    if (f[k] !== undefined && !isIsoDate(f[k])) throw new ChainFilterError(k, `must be a date YYYY-MM-DD, got '${f[k]}'`);
  }
  for (const k of ['minDays', 'maxDays'] as const) {
    const v = f[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new ChainFilterError(k, `must be a whole number of days >= 0, got ${v}`);
  }
  for (const k of ['expiries', 'strikes'] as const) {
    const v = f[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new ChainFilterError(k, `must be a whole number >= 1, got ${v}`);
  }
  if (f.moneyness !== undefined) {
    const [lo, hi] = f.moneyness;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo > 0 && lo <= hi)) {
      throw new ChainFilterError('moneyness', `must be [lo, hi] with 0 < lo <= hi (K / spot), got [${lo}, ${hi}]`);
    }
  }
}

/**
 * The last-trading-day range [from, to] a filter allows at `now` (dates and day counts combined; `to` null =
 * open). Used by buildChain and to push the range into a store query.
 */
export function expiryRange(f: ChainFilter, now: number): { from: IsoDate; to: IsoDate | null } {
  const today = newYorkDate(now);
  const plus = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  let from = plus(f.minDays ?? 0);
  if (f.expiryFrom !== undefined && f.expiryFrom > from) from = f.expiryFrom;
  let to: IsoDate | null = f.maxDays !== undefined ? plus(f.maxDays) : null;
  if (f.expiryTo !== undefined && (to === null || f.expiryTo < to)) to = f.expiryTo;
  return { from, to };
}

/** Throws a PricingInputError naming the field of a pricing request it cannot use. */
export function checkPricing(p: ChainPricing): void {
  if (!Number.isFinite(p.rate)) throw new PricingInputError('rate', `option chain pricing: rate = ${p.rate}: must be a finite number`);
  if (p.dividendYield !== undefined && !Number.isFinite(p.dividendYield)) {
    throw new PricingInputError('dividendYield', `option chain pricing: dividendYield = ${p.dividendYield}: must be a finite number`);
  }
  if (p.model !== undefined && p.model !== 'crr' && p.model !== 'bsm') {
    throw new PricingInputError('model', `option chain pricing: model = ${String(p.model)}: must be 'crr' or 'bsm'`);
  }
  if (p.steps !== undefined && !(Number.isInteger(p.steps) && p.steps >= 2)) {
    throw new PricingInputError('steps', `option chain pricing: steps = ${p.steps}: must be a whole number >= 2`);
  }
}

const YEAR_MS = 365 * 86_400_000;
const closes = new Map<string, number>();

/**
 * yearsToExpiry (contract.ts: ACT/365 to the last trading day's close, floored at 0) with each expiry's close
 * computed once: its time-zone arithmetic costs ~30 us, as much as a whole BSM implied volatility.
 */
function yearsLeft(expiry: IsoDate, time: number): number {
  let close = closes.get(expiry);
  if (close === undefined) {
    if (closes.size > 10_000) closes.clear();
    close = expiryCloseMs(expiry);
    closes.set(expiry, close);
  }
  return Math.max(0, (close - time) / YEAR_MS);
}

/**
 * Mid, spread and (with `pricing`) implied volatility and greeks of one quote, priced at the quote's time
 * against `q.underlyingPrice`, else `spot`. A one-sided or crossed quote has no mid and says so in `reason`.
 */
export function analyzeQuote(q: OptionQuote, pricing?: ChainPricing, spot?: number): QuoteAnalytics {
  const c = q.contract;
  if (!Number.isFinite(q.time)) throw new RangeError(`option chain: ${q.symbol}: time = ${q.time}: expected epoch milliseconds`);
  const years = yearsLeft(c.expiry, q.time);
  const S = q.underlyingPrice ?? spot ?? null;
  const underlyingPrice = S !== null && Number.isFinite(S) && S > 0 ? S : null;
  const spread = q.bid !== null && q.ask !== null ? q.ask - q.bid : null;
  const base = { spread, underlyingPrice, years, iv: null, greeks: null };
  const m = quoteMid(q.bid, q.ask);
  if (!m.ok) return { ...base, mid: null, reason: m.reason, message: `${q.symbol}: ${m.message}` };
  const mid = m.mid;
  if (!pricing) return { ...base, mid, reason: null, message: null };
  if (underlyingPrice === null) {
    return { ...base, mid, reason: 'no-underlying', message: `${q.symbol}: no ${c.underlying} price at the quote's time to price against` };
  }
  const market = { spot: underlyingPrice, strike: c.strike, years, rate: pricing.rate, dividendYield: pricing.dividendYield ?? 0 };
  const bsm = pricing.model === 'bsm';
  const steps = pricing.steps ?? DEFAULT_TREE_STEPS;
  try {
    const iv = bsm ? impliedVol({ right: c.right, style: 'european' }, mid, market) : impliedVol({ right: c.right, style: 'american', steps }, mid, market);
    if (!iv.ok) return { ...base, mid, reason: iv.reason, message: `${q.symbol}: ${iv.message}` };
    const p = { ...market, vol: iv.vol };
    const greeks = bsm ? bsmGreeks(c.right, p) : crrGreeks({ right: c.right, style: 'american', steps }, p);
    return { ...base, mid, iv: iv.vol, greeks, reason: null, message: null };
  } catch (e) {
    if (!(e instanceof PricingInputError)) throw e;
    return { ...base, mid, reason: 'model-error', message: `${q.symbol}: ${e.message}` };
  }
}

/**
 * The chain of `quotes` (one underlying, at most one quote per contract) that `filter` keeps at `now`: grouped
 * by last trading day (nearest first), each expiry's strikes ascending with the call and the put side by side.
 * `spot` places the money for the strike filters and prices quotes without an underlyingPrice. Throws a
 * ChainFilterError for a bad filter, a RangeError for a bad spot, two underlyings or a contract quoted twice.
 */
export function buildChain(quotes: readonly OptionQuote[], spot: number, now: number, filter: ChainFilter = {}, pricing?: ChainPricing): Chain {
  if (!(Number.isFinite(spot) && spot > 0)) throw new RangeError(`option chain: spot = ${spot}: must be a finite price above 0`);
  if (!Number.isFinite(now)) throw new RangeError(`option chain: now = ${now}: expected epoch milliseconds`);
  checkChainFilter(filter);
  if (pricing) checkPricing(pricing);
  const { from, to } = expiryRange(filter, now);
  const today = newYorkDate(now);

  let underlying: string | null = null;
  const seen = new Set<string>();
  const byExpiry = new Map<IsoDate, OptionQuote[]>();
  for (const q of quotes) {
    const c = q.contract;
    if (c.secType !== 'OPT') throw new RangeError(`option chain: ${q.symbol} is a ${String(c.secType)}, not an option`);
    if (underlying === null) underlying = c.underlying;
    else if (c.underlying !== underlying)
      throw new RangeError(`option chain: ${q.symbol} is on ${c.underlying}, the chain on ${underlying}: one underlying per chain`);
    if (seen.has(q.symbol)) throw new RangeError(`option chain: ${q.symbol} is quoted twice: give one quote per contract`);
    seen.add(q.symbol);
    if (filter.right !== undefined && c.right !== filter.right) continue;
    if (c.expiry < from || (to !== null && c.expiry > to)) continue;
    // grouped by the OCC date: two series could share a last trading day (a weekly and a Saturday monthly)
    const key = c.occExpiry ?? c.expiry;
    const list = byExpiry.get(key);
    if (list) list.push(q);
    else byExpiry.set(key, [q]);
  }

  let expiries = [...byExpiry.keys()].sort();
  if (filter.expiries !== undefined) expiries = expiries.slice(0, filter.expiries);
  const out: ChainExpiry[] = [];
  for (const key of expiries) {
    const list = byExpiry.get(key)!;
    const { expiry, occExpiry } = list[0]!.contract;
    let strikes = [...new Set(list.map((q) => q.contract.strike))];
    if (filter.moneyness) {
      const [lo, hi] = filter.moneyness;
      strikes = strikes.filter((k) => k / spot >= lo && k / spot <= hi);
    }
    if (filter.strikes !== undefined) {
      strikes = strikes.sort((a, b) => Math.abs(a - spot) - Math.abs(b - spot) || a - b).slice(0, filter.strikes);
    }
    strikes.sort((a, b) => a - b);
    if (strikes.length === 0) continue;
    const rows = new Map<number, ChainStrike>(strikes.map((k) => [k, { strike: k, call: null, put: null }]));
    for (const q of list) {
      const row = rows.get(q.contract.strike);
      if (!row) continue;
      const entry: ChainEntry = {
        symbol: q.symbol,
        contract: q.contract,
        bid: q.bid,
        ask: q.ask,
        bidSize: q.bidSize,
        askSize: q.askSize,
        time: q.time,
        ...analyzeQuote(q, pricing, spot),
      };
      if (q.contract.right === 'C') row.call = entry;
      else row.put = entry;
    }
    out.push({ expiry, ...(occExpiry ? { occExpiry } : {}), days: daysBetween(today, expiry), strikes: [...rows.values()] });
  }
  return { underlying, spot, now, expiries: out };
}

/** Every contract of a chain, expiry by expiry, strike by strike, the call before the put. */
export function chainEntries(chain: Chain): ChainEntry[] {
  return chain.expiries.flatMap((e) => e.strikes.flatMap((s) => [s.call, s.put].filter((x): x is ChainEntry => x !== null)));
}

/**
 * The N strikes nearest `spot` (by |K - S|, the lower strike first on a tie), ascending: the store path's rule
 * (chainSymbols) over the union of the strikes of the contracts in the window.
 */
export function nearestStrikes(strikes: Iterable<number>, spot: number, n: number): number[] {
  return [...new Set(strikes)]
    .sort((a, b) => Math.abs(a - spot) - Math.abs(b - spot) || a - b)
    .slice(0, n)
    .sort((a, b) => a - b);
}
