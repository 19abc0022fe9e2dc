// Option chains from the store (the issue-15 data contract): the contracts of an underlying from `instruments`
// (sec_type 'OPT'), each one's latest quote bar from `quote_bars`, and the underlying's price from its 1m `bars`.
//
// Times. A bar is stamped with its start; its close prices are as of its end (start + 1 minute or 1 hour). A
// chain "at" an instant takes, per contract, the latest quote bar that has ENDED by then: a 1m bar if one ended
// within `maxQuoteAgeMs['1m']` (default 15 min), else a 1h bar that ended within `maxQuoteAgeMs['1h']` (default
// 60 min: the last completed hour), else the contract is left out (no quote = not in the chain). Hour quotes
// exist where minute quotes do not (AAPL 2014 in the sample data). Each quote is priced against the underlying's
// 1m bar that ended at the same moment (or the latest before it, at most `maxUnderlyingLagMs`, default 5 min,
// earlier), as the parity tests match them: the quote bar 10:59 (1m) or 10:00 (1h) and the stock bar 10:59 all
// close at 11:00. The chain's spot is the close of the stock bar that ends at `at` (or the latest before it
// within the same lag). Bars must be raw prices (strikes are): a store whose price_basis says 'adjusted' for
// the underlying's 1m bars is refused.
//
// Queries: one for the tables present, one for the spot, one for every contract's quote (not one per contract).

import type { DuckDBConnection } from '@duckdb/node-api';
import { type OptionInstrument, option } from '../instruments/instrument.ts';
import { parseOccSymbol, optionLocalSymbol } from '../instruments/local-symbol.ts';
import { buildChain, type Chain, type ChainFilter, type ChainPricing, checkChainFilter, checkPricing, expiryRange, type OptionQuote } from './chain.ts';

/** A store (engine/data/store.ts) or a bare connection. */
export type ChainSource = { conn: DuckDBConnection } | DuckDBConnection;

export type QuoteInterval = '1m' | '1h';

export const INTERVAL_MS: Record<QuoteInterval, number> = { '1m': 60_000, '1h': 3_600_000 };
export const DEFAULT_MAX_QUOTE_AGE_MS: Record<QuoteInterval, number> = { '1m': 15 * 60_000, '1h': 60 * 60_000 };
export const DEFAULT_MAX_UNDERLYING_LAG_MS = 5 * 60_000;

export interface ReadChainOptions {
  /** IV and greeks; without it the chain has mids and spreads only */
  pricing?: ChainPricing;
  /** oldest quote bar end accepted, by interval (see the top of this file) */
  maxQuoteAgeMs?: Partial<Record<QuoteInterval, number>>;
  /** how long before a quote (or `at`) the underlying's latest bar may have ended */
  maxUnderlyingLagMs?: number;
}

/** A chain read from the store, with where its spot came from. */
export interface StoreChain extends Chain {
  /** end (epoch ms) of the underlying's 1m bar whose close is the spot */
  spotTime: number;
}

/** The store's key of an option: its OCC symbol without the padding ('GOOG151224C00750000'). */
export function optionStoreSymbol(o: OptionInstrument): string {
  return optionLocalSymbol(o).replaceAll(' ', '');
}

export class ChainStoreError extends Error {
  override name = 'ChainStoreError';
}

export function connectionOf(source: ChainSource): DuckDBConnection {
  return 'conn' in source ? source.conn : source;
}

const sqlStr = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The columns every instruments query here selects (expiry as text, numbers as DOUBLE). */
export const INSTRUMENT_COLUMNS = `i.symbol, i.underlying, CAST(i.expiry AS VARCHAR) AS expiry, i.strike, i.option_right, i.multiplier, i.exchange, i.currency, i.tick_size`;

export interface InstrumentRow {
  symbol: string;
  underlying: string | null;
  expiry: string | null;
  strike: number | null;
  option_right: string | null;
  multiplier: number | null;
  exchange: string | null;
  currency: string | null;
  tick_size: number | null;
}

/**
 * The option instrument of an `instruments` row. The OCC date comes from the key (the row's expiry is the last
 * trading day); the key's right and strike must agree with the row's. Throws a ChainStoreError naming the row.
 */
export function optionFromRow(r: InstrumentRow): OptionInstrument {
  const where = `instruments row '${r.symbol}'`;
  try {
    const occ = parseOccSymbol(r.symbol);
    if (occ.right !== r.option_right) throw new Error(`option_right '${r.option_right}' disagrees with the symbol's ${occ.right}`);
    if (occ.strike !== r.strike) throw new Error(`strike ${r.strike} disagrees with the symbol's ${occ.strike}`);
    return option({
      symbol: occ.root,
      underlying: r.underlying as string,
      expiry: r.expiry as string,
      ...(occ.expiry !== r.expiry ? { occExpiry: occ.expiry } : {}),
      strike: occ.strike,
      right: occ.right,
      exchange: r.exchange as string,
      currency: r.currency as string,
      multiplier: r.multiplier ?? 1, // the contract: NULL means 1
      tickSize: r.tick_size as number,
    });
  } catch (e) {
    throw new ChainStoreError(`${where}: ${(e as Error).message}`);
  }
}

async function tablesPresent(conn: DuckDBConnection): Promise<Set<string>> {
  const r = await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`);
  return new Set(r.getRows().map((x) => String(x[0])));
}

/** Throws unless the tables a chain reads exist and the underlying's 1m bars are raw. */
export async function checkChainTables(conn: DuckDBConnection, underlying: string): Promise<void> {
  const have = await tablesPresent(conn);
  for (const t of ['instruments', 'quote_bars', 'bars']) {
    if (!have.has(t)) throw new ChainStoreError(`option chain: the store has no ${t} table (import the option quotes and the underlying's minute bars first)`);
  }
  if (have.has('price_basis')) {
    const r = await conn.runAndReadAll(`SELECT basis FROM price_basis WHERE symbol = $1 AND "interval" = '1m'`, [underlying]);
    const basis = r.getRows()[0]?.[0];
    if (basis === 'adjusted') {
      throw new ChainStoreError(
        `option chain: ${underlying}'s 1m bars are stored adjusted (price_basis), but option strikes are raw prices: import ${underlying} with factors (raw) to price its options`,
      );
    }
  }
}

/**
 * SQL of the underlying's 1m bars ending in [lo, hi] (epoch ms) as (symbol, u_end, u_close), for an ASOF join
 * on the quote's end.
 */
export function underlyingBarsSql(underlyings: string, lo: number, hi: number): string {
  return `SELECT symbol AS u_symbol, (ts + 60000)::DOUBLE AS u_end, close AS u_close FROM bars
    WHERE symbol IN (${underlyings}) AND "interval" = '1m' AND ts >= ${lo - 60_000} AND ts <= ${hi - 60_000}`;
}

/** The quote of a row of the queries here; its underlyingPrice is the ASOF-joined u_close, or null when that bar ended more than maxLagMs before the quote. */
export function quoteFromRow(r: Record<string, unknown>, contract: OptionInstrument, maxLagMs: number): OptionQuote {
  const end = Number(r.end_ts);
  const uEnd = r.u_end === null || r.u_end === undefined ? null : Number(r.u_end);
  const usable = uEnd !== null && end - uEnd <= maxLagMs;
  return {
    symbol: String(r.symbol),
    contract,
    bid: r.bid_close === null ? null : Number(r.bid_close),
    ask: r.ask_close === null ? null : Number(r.ask_close),
    bidSize: Number(r.bid_size ?? 0),
    askSize: Number(r.ask_size ?? 0),
    time: end,
    underlyingPrice: usable ? Number(r.u_close) : null,
  };
}

function checkMs(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`option chain: ${name} = ${v}: must be milliseconds >= 0`);
}

/**
 * The chain of `underlying` at `at` (epoch ms) from the store: see the top of this file for which quote and
 * which underlying price each contract gets. The filter's expiry range and right are applied in SQL, its strike
 * filters in buildChain. Throws a ChainStoreError when a table is missing, or when the underlying has no 1m
 * bar ending within maxUnderlyingLagMs before `at`.
 */
export async function readChain(
  source: ChainSource,
  underlying: string,
  at: number,
  filter: ChainFilter = {},
  opts: ReadChainOptions = {},
): Promise<StoreChain> {
  const conn = connectionOf(source);
  if (!Number.isFinite(at)) throw new RangeError(`option chain: at = ${at}: expected epoch milliseconds`);
  checkChainFilter(filter);
  if (opts.pricing) checkPricing(opts.pricing);
  const age = { ...DEFAULT_MAX_QUOTE_AGE_MS, ...opts.maxQuoteAgeMs };
  const lag = opts.maxUnderlyingLagMs ?? DEFAULT_MAX_UNDERLYING_LAG_MS;
  checkMs('maxQuoteAgeMs 1m', age['1m']);
  checkMs('maxQuoteAgeMs 1h', age['1h']);
  checkMs('maxUnderlyingLagMs', lag);
  await checkChainTables(conn, underlying);

  const spotRows = (
    await conn.runAndReadAll(
      `SELECT (ts + 60000)::DOUBLE AS end_ts, close FROM bars WHERE symbol = $1 AND "interval" = '1m' AND ts <= $2 AND ts >= $3 ORDER BY ts DESC LIMIT 1`,
      [underlying, at - 60_000, at - 60_000 - lag],
    )
  ).getRowObjectsJS();
  if (spotRows.length === 0) {
    throw new ChainStoreError(
      `option chain: no ${underlying} 1m bar ends in [${new Date(at - lag).toISOString()}, ${new Date(at).toISOString()}] (maxUnderlyingLagMs ${lag}): no spot to build the chain on`,
    );
  }
  const spot = Number(spotRows[0]!.close);
  const spotTime = Number(spotRows[0]!.end_ts);

  const { from, to } = expiryRange(filter, at);
  const oldest = at - Math.max(age['1m'], age['1h']);
  const sql = `
WITH c AS (
  SELECT ${INSTRUMENT_COLUMNS} FROM instruments i
  WHERE i.sec_type = 'OPT' AND i.underlying = ${sqlStr(underlying)} AND i.expiry >= DATE ${sqlStr(from)}
    ${to !== null ? `AND i.expiry <= DATE ${sqlStr(to)}` : ''} ${filter.right ? `AND i.option_right = ${sqlStr(filter.right)}` : ''}
),
q AS (
  SELECT b.symbol, (b.ts + CASE b."interval" WHEN '1m' THEN 60000 ELSE 3600000 END)::DOUBLE AS end_ts,
    b.bid_close, b.ask_close, b.bid_size, b.ask_size,
    row_number() OVER (PARTITION BY b.symbol ORDER BY (b."interval" = '1m') DESC, b.ts DESC) AS rn
  FROM quote_bars b SEMI JOIN c ON b.symbol = c.symbol
  WHERE (b."interval" = '1m' AND b.ts <= ${at - 60_000} AND b.ts >= ${at - 60_000 - age['1m']})
     OR (b."interval" = '1h' AND b.ts <= ${at - 3_600_000} AND b.ts >= ${at - 3_600_000 - age['1h']})
),
u AS (${underlyingBarsSql(sqlStr(underlying), oldest - lag, at)})
SELECT c.*, q.end_ts, q.bid_close, q.ask_close, q.bid_size, q.ask_size, u.u_end, u.u_close
FROM (SELECT * FROM q WHERE rn = 1) q JOIN c ON q.symbol = c.symbol
ASOF LEFT JOIN u ON c.underlying = u.u_symbol AND q.end_ts >= u.u_end
ORDER BY c.symbol`;
  const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  const quotes = rows.map((r) => quoteFromRow(r, optionFromRow(r as unknown as InstrumentRow), lag));
  return { ...buildChain(quotes, spot, at, filter, opts.pricing), underlying, spotTime };
}
