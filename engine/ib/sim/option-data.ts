// Market data of quoted instruments (options, futures, FX pairs): the store's quote_bars replayed as IB's bid/ask
// ticks, and for an option IB's tickOptionComputation (model 13 from the mid, bid 10 and ask 11 from each side),
// computed with engine/options against the underlying's last price in the replayed series.
//
// Timing: a quote bar goes out once the replay clock reaches its end (ts + interval), with the bar's closing bid
// and ask and their sizes, as the stock ticks go out with each stored bar. A side with no quote that bar sends no
// tick (and no computation).
//
// Model: Black-Scholes-Merton by default (impliedVol 'european' + bsmGreeks: ~25 us a computation, measured on a
// GOOG Jan-16 750 put); `model: 'crr'` prices on a 100-step American CRR tree (impliedVol 'american' + crrGreeks:
// ~0.35 ms). An option sends three computations a bar (bid, ask, model), so CRR costs ~1 ms per option per bar.
// US equity options are American, but a call on a stock paying no dividend before expiry (the sample's GOOG)
// is worth the European price, and for puts near the money the early-exercise premium is small against the
// spread (4e-5 of vol on that put). Rate and dividend yield are the simulator's (default 0).
//
// Units: IB's API reference for tickOptionComputation names the fields without units. IB's option analytics
// define vega as the price change for a 1% (one point) change in volatility and theta as the change per day, and
// users read the API's values that way (a theta of -0.10 is 0.10 a day); implied volatility is a fraction (0.25).
// engine/options gives vega per 1.00 of volatility and theta per year (ACT/365): vega / 100 and theta / 365 here.
// Delta and gamma are per 1 unit of the underlying in both.
import { INTERVAL_MS, type BarSeries, type Interval } from '../../core/types.ts';
import type { InstrumentRow } from '../../data/instruments.ts';
import { sqlString, type Store } from '../../data/store.ts';
import { crrGreeks } from '../../options/binomial.ts';
import { bsmGreeks } from '../../options/black-scholes.ts';
import { yearsToExpiry } from '../../options/contract.ts';
import { impliedVol, quoteMid } from '../../options/implied-vol.ts';
import { OPTION_TICK, TICK } from '../protocol/ids.ts';
import * as msg from '../protocol/messages.ts';
import type { OptionComputationOut } from '../protocol/messages.ts';
import type { ClientConnection } from './connection.ts';
import { SecDefs } from './secdef.ts';

/** One symbol's quote bars: closing bid and ask (NaN: no quote on that side) and their sizes, by bar start. */
export interface QuoteSeries {
  symbol: string;
  intervalMs: number;
  ts: Float64Array;
  bid: Float64Array;
  bidSize: Float64Array;
  ask: Float64Array;
  askSize: Float64Array;
}

/** The mktData sub id (`MktDataSub.sid`) of a quote subscription: no replayed series, so no stock ticks. */
export const QUOTE_SID = -1;

export interface OptionPricing {
  /** continuously compounded risk-free rate (default 0) */
  rate?: number;
  /** continuous dividend yield (default 0) */
  dividendYield?: number;
  /** 'bsm' (default) or 'crr' (American, 100 steps): see the top of this file */
  model?: 'bsm' | 'crr';
}

const TREE_STEPS = 100;

/** The simulator's options, futures and pairs (`SimulatorOptions.derivatives`). */
export interface SimDerivatives {
  /** contract details and option chains (secdef.ts) */
  secDefs: SecDefs;
  /** quote bars by store key, replayed as bid/ask ticks (and option computations) */
  quotes?: ReadonlyMap<string, QuoteSeries>;
  pricing?: OptionPricing;
}

/**
 * `SimulatorOptions.derivatives` from a store: every OPT, FUT and CASH instrument, and the quote bars of
 * `interval` (the quotes' own: '1h' for the AAPL sample options under a 1m replay) in [from, to) epoch ms.
 */
export async function loadSimDerivatives(
  store: Store,
  opts: { interval: Interval; from?: number; to?: number; symbols?: readonly string[]; pricing?: OptionPricing },
): Promise<SimDerivatives> {
  const secDefs = await SecDefs.load(store);
  const quotes = await loadQuotes(store, opts);
  return { secDefs, quotes, pricing: opts.pricing };
}

/**
 * The quote bars of one interval in [from, to) (epoch ms; default all), for `symbols` (default every symbol).
 * Symbols without rows are absent from the map.
 */
export async function loadQuotes(
  store: Store,
  opts: { interval: Interval; symbols?: readonly string[]; from?: number; to?: number },
): Promise<Map<string, QuoteSeries>> {
  const where = [`"interval" = ${sqlString(opts.interval)}`];
  if (opts.symbols) where.push(opts.symbols.length ? `symbol IN (${opts.symbols.map((s) => sqlString(s.toUpperCase())).join(', ')})` : 'false');
  if (opts.from !== undefined) where.push(`ts >= ${Math.floor(opts.from)}`);
  if (opts.to !== undefined) where.push(`ts < ${Math.ceil(opts.to)}`);
  const r = await store.conn.runAndReadAll(
    `SELECT symbol, ts, bid_close, bid_size, ask_close, ask_size FROM quote_bars WHERE ${where.join(' AND ')} ORDER BY symbol, ts`,
  );
  const cols = r.getColumnsJS() as unknown[][];
  const [sym, ts, bid, bidSize, ask, askSize] = cols;
  const out = new Map<string, QuoteSeries>();
  const intervalMs = INTERVAL_MS[opts.interval];
  let i = 0;
  const n = sym?.length ?? 0;
  const num = (v: unknown, empty: number) => (v === null || v === undefined ? empty : Number(v));
  while (i < n) {
    const symbol = String(sym[i]);
    let j = i;
    while (j < n && sym[j] === sym[i]) j++;
    const q: QuoteSeries = {
      symbol,
      intervalMs,
      ts: new Float64Array(j - i),
      bid: new Float64Array(j - i),
      bidSize: new Float64Array(j - i),
      ask: new Float64Array(j - i),
      askSize: new Float64Array(j - i),
    };
    for (let k = i; k < j; k++) {
      q.ts[k - i] = Number(ts[k]);
      q.bid[k - i] = num(bid[k], NaN);
      q.bidSize[k - i] = num(bidSize[k], 0);
      q.ask[k - i] = num(ask[k], NaN);
      q.askSize[k - i] = num(askSize[k], 0);
    }
    out.set(symbol, q);
    i = j;
  }
  return out;
}

/** The close of the last bar of `s` that has ended by `at` (epoch ms), or NaN when none has. */
export function lastCloseAt(s: BarSeries, at: number): number {
  const ms = INTERVAL_MS[s.interval];
  let lo = 0;
  let hi = s.ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.ts[mid] + ms <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? s.close[lo - 1] : NaN;
}

const NOT_COMPUTED: OptionComputationOut = {
  impliedVol: -1,
  delta: -2,
  optPrice: -1,
  pvDividend: -1,
  gamma: -2,
  vega: -2,
  theta: -2,
  undPrice: -1,
};

/**
 * IB's option computation of one option price (the mid, the bid or the ask) at `at` against the underlying price
 * `spot`: the implied volatility of `price` and the model's greeks at it, in IB's units (see the top). A price no
 * volatility gives, a missing price or spot, or an expired option: IB's "not computed" markers (undPrice kept).
 */
export function optionComputation(row: InstrumentRow, price: number, spot: number, at: number, pricing: OptionPricing = {}): OptionComputationOut {
  const undPrice = Number.isFinite(spot) && spot > 0 ? spot : -1;
  if (row.secType !== 'OPT' || row.right === null || row.strike === null || row.expiry === null) return { ...NOT_COMPUTED, undPrice };
  if (!(price > 0) || undPrice < 0) return { ...NOT_COMPUTED, undPrice };
  const market = { spot, strike: row.strike, years: yearsToExpiry(row.expiry, at), rate: pricing.rate ?? 0, dividendYield: pricing.dividendYield ?? 0 };
  const crr = pricing.model === 'crr';
  const spec = crr ? { right: row.right, style: 'american' as const, steps: TREE_STEPS } : { right: row.right, style: 'european' as const };
  const iv = impliedVol(spec, price, market);
  if (!iv.ok) return { ...NOT_COMPUTED, undPrice };
  const p = { ...market, vol: iv.vol };
  const g = crr ? crrGreeks({ right: row.right, style: 'american', steps: TREE_STEPS }, p) : bsmGreeks(row.right, p);
  return {
    impliedVol: iv.vol,
    delta: g.delta,
    optPrice: price,
    pvDividend: 0,
    gamma: g.gamma,
    vega: g.vega / 100, // per 1.00 of volatility -> per volatility point
    theta: g.theta / 365, // per year -> per calendar day
    undPrice: spot,
  };
}

interface QuoteSub {
  row: InstrumentRow;
  quotes: QuoteSeries | undefined;
  /** the next quote bar to send */
  next: number;
}

/**
 * The quote subscriptions of every connection and what they are sent. A subscription lives in the connection's
 * mktData too (sid QUOTE_SID), so lockstep counts it, and cancelMktData and a data-lost reconnect end it there.
 */
export class QuoteFeed {
  private readonly subs = new WeakMap<ClientConnection, Map<number, QuoteSub>>();

  constructor(
    private readonly quotes: ReadonlyMap<string, QuoteSeries>,
    /** the underlying's last price at an instant (NaN: none) */
    private readonly underlyingPrice: (symbol: string, at: number) => number,
    private readonly pricing: OptionPricing = {},
  ) {}

  /** Whether the store has quote bars for a symbol. */
  has(symbol: string): boolean {
    return this.quotes.has(symbol);
  }

  /**
   * Subscribes `reqId` to a row's quotes from the clock `now` on (the caller puts it in conn.mktData). The last
   * bar that has ended is sent at once when `sendLast` (a replay under way, or a snapshot).
   */
  subscribe(conn: ClientConnection, reqId: number, row: InstrumentRow, now: number, sendLast: boolean): void {
    const quotes = this.quotes.get(row.symbol);
    let next = 0;
    if (quotes) while (next < quotes.ts.length && quotes.ts[next] + quotes.intervalMs <= now) next++;
    let m = this.subs.get(conn);
    if (!m) this.subs.set(conn, (m = new Map()));
    m.set(reqId, { row, quotes, next });
    if (sendLast && quotes && next > 0) this.sendBar(conn, reqId, row, quotes, next - 1);
  }

  /** Sends every quote bar that has ended by `end` to the subscriptions still in their connection's mktData. */
  publish(end: number, conns: readonly ClientConnection[]): void {
    for (const c of conns) {
      const m = this.subs.get(c);
      if (!m) continue;
      for (const [reqId, sub] of m) {
        if (c.mktData.get(reqId)?.sid !== QUOTE_SID) {
          m.delete(reqId);
          continue;
        }
        const q = sub.quotes;
        if (!q) continue;
        while (sub.next < q.ts.length && q.ts[sub.next] + q.intervalMs <= end) this.sendBar(c, reqId, sub.row, q, sub.next++);
      }
    }
  }

  private sendBar(c: ClientConnection, reqId: number, row: InstrumentRow, q: QuoteSeries, i: number): void {
    const delayed = c.marketDataType >= 3;
    const bid = q.bid[i];
    const ask = q.ask[i];
    // Sizes also go as tickSize 0/3 (69/70 delayed), as TWS sends them: clients make a tickSize of a tickPrice's
    // size, but @stoqey/ib drops the bid's (its tick type 0 tests false), so the ask size arrives twice there.
    if (Number.isFinite(bid)) {
      c.send(msg.tickPrice(reqId, delayed ? TICK.DELAYED_BID : TICK.BID, bid, q.bidSize[i]));
      c.send(msg.tickSize(reqId, delayed ? OPTION_TICK.DELAYED_BID_SIZE : OPTION_TICK.BID_SIZE, q.bidSize[i]));
    }
    if (Number.isFinite(ask)) {
      c.send(msg.tickPrice(reqId, delayed ? TICK.DELAYED_ASK : TICK.ASK, ask, q.askSize[i]));
      c.send(msg.tickSize(reqId, delayed ? OPTION_TICK.DELAYED_ASK_SIZE : OPTION_TICK.ASK_SIZE, q.askSize[i]));
    }
    if (row.secType !== 'OPT' || row.underlying === null) return;
    const at = q.ts[i] + q.intervalMs;
    const spot = this.underlyingPrice(row.underlying, at);
    if (bid > 0)
      c.send(
        msg.tickOptionComputation(
          reqId,
          delayed ? OPTION_TICK.DELAYED_BID_OPTION : OPTION_TICK.BID_OPTION,
          optionComputation(row, bid, spot, at, this.pricing),
        ),
      );
    if (ask > 0)
      c.send(
        msg.tickOptionComputation(
          reqId,
          delayed ? OPTION_TICK.DELAYED_ASK_OPTION : OPTION_TICK.ASK_OPTION,
          optionComputation(row, ask, spot, at, this.pricing),
        ),
      );
    // the model computation prices the mid of a two-sided, uncrossed quote (quoteMid's rule)
    const mid = quoteMid(bid, ask);
    if (mid.ok) {
      const model = optionComputation(row, mid.mid, spot, at, this.pricing);
      c.send(msg.tickOptionComputation(reqId, delayed ? OPTION_TICK.DELAYED_MODEL_OPTION : OPTION_TICK.MODEL_OPTION, model));
    }
  }
}
