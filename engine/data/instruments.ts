// The instruments table as runs read it: per symbol key, what it is (security type, currency, multiplier,
// expiry, strike, right, underlying, contract month, IB local symbol). Written by the stock import (STK rows)
// and the LEAN import (OPT, FUT, CASH rows: engine/data/lean-import.ts).
import type { Instrument, Right, SecType } from '../instruments/instrument.ts';
import type { IsoDate } from '../instruments/iso-date.ts';
import { localSymbol } from '../instruments/local-symbol.ts';
import { INSTRUMENT_COLUMNS, sqlString, type Store } from './store.ts';

/** One instruments row. Fields a type does not have are null (a stock has no expiry). */
export interface InstrumentRow {
  /** the store's key: 'AAPL', 'GOOG151224C00750000', 'ESZ13', 'GBP.USD' */
  symbol: string;
  secType: SecType;
  exchange: string | null;
  /** currency of prices and P&L; a pair's quote currency ('USD' for GBP.USD) */
  currency: string;
  /** money per unit of price per contract (a NULL in the store, from before issue 15, reads as 1) */
  multiplier: number;
  tickSize: number | null;
  /** OPT: the underlying's symbol; FUT: the root */
  underlying: string | null;
  /** OPT and FUT: the last trading day */
  expiry: IsoDate | null;
  strike: number | null;
  right: Right | null;
  /** FUT: 'YYYYMM' */
  contractMonth: string | null;
  /** IB's localSymbol ('ESZ3', 'GOOG  151224C00750000', 'GBP.USD'); a stock's is its symbol */
  localSymbol: string;
  /** exchange time zone of the bars (stocks: America/New_York) */
  tz: string | null;
  sector: string | null;
  /** false when the store has no row for the symbol (the row is then a US stock's defaults) */
  stored: boolean;
}

const SEC_TYPES: readonly SecType[] = ['STK', 'OPT', 'FUT', 'CASH', 'IND'];

/** A symbol without a row: a US stock (what every import before issue 15 held), STK on SMART in USD, multiplier 1. */
export function usStockRow(symbol: string): InstrumentRow {
  return {
    symbol,
    secType: 'STK',
    exchange: 'SMART',
    currency: 'USD',
    multiplier: 1,
    tickSize: null,
    underlying: null,
    expiry: null,
    strike: null,
    right: null,
    contractMonth: null,
    localSymbol: symbol,
    tz: null,
    sector: null,
    stored: false,
  };
}

/** The row an instrument is stored as, under the store key `symbol`. */
export function instrumentRow(symbol: string, inst: Instrument, tz: string | null): InstrumentRow {
  return {
    symbol,
    secType: inst.secType,
    exchange: inst.exchange,
    currency: inst.currency,
    multiplier: inst.multiplier,
    tickSize: inst.tickSize,
    underlying: inst.secType === 'OPT' ? inst.underlying : inst.secType === 'FUT' ? inst.symbol : null,
    expiry: inst.secType === 'OPT' || inst.secType === 'FUT' ? inst.expiry : null,
    strike: inst.secType === 'OPT' ? inst.strike : null,
    right: inst.secType === 'OPT' ? inst.right : null,
    contractMonth: inst.secType === 'FUT' ? inst.contractMonth : null,
    localSymbol: localSymbol(inst),
    tz,
    sector: null,
    stored: true,
  };
}

/**
 * The instruments of `symbols` (keys as given; matched upper-cased and trimmed, as imports store them). A symbol
 * without a row is a US stock (usStockRow); a row's NULL multiplier is 1, a NULL sec_type STK and a NULL currency
 * USD (rows written before issue 15, or by hand). Works on a read-only database from before issue 15 too (its
 * missing columns read as NULL).
 */
export async function readInstruments(store: Store, symbols: readonly string[]): Promise<Map<string, InstrumentRow>> {
  const out = new Map<string, InstrumentRow>();
  if (symbols.length === 0) return out;
  const cols = await store.conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'instruments'`,
  );
  const have = new Set(cols.getRowObjectsJS().map((r) => String(r.column_name)));
  const col = (name: string, sql = name) => (have.has(name) ? sql : 'NULL');
  const keys = [...new Set(symbols.map((s) => s.trim().toUpperCase()))];
  const byKey = new Map<string, InstrumentRow>();
  if (have.has('symbol')) {
    const r = await store.conn.runAndReadAll(`
SELECT symbol, ${col('sec_type')} AS sec_type, ${col('exchange')} AS exchange, ${col('currency')} AS currency,
  ${col('multiplier')} AS multiplier, ${col('tick_size')} AS tick_size, ${col('underlying')} AS underlying,
  ${col('expiry', `strftime(expiry, '%Y-%m-%d')`)} AS expiry, ${col('strike')} AS strike, ${col('option_right')} AS option_right,
  ${col('contract_month')} AS contract_month, ${col('local_symbol')} AS local_symbol, ${col('tz')} AS tz, ${col('sector')} AS sector
FROM instruments WHERE symbol IN (${keys.map(sqlString).join(', ')})`);
    for (const row of r.getRowObjectsJS()) {
      const symbol = String(row.symbol);
      const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
      const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      const secType = str(row.sec_type) ?? 'STK';
      if (!(SEC_TYPES as readonly string[]).includes(secType)) {
        throw new Error(`${store.path}: instruments row '${symbol}' has sec_type '${secType}', not one of ${SEC_TYPES.join(', ')}`);
      }
      const right = str(row.option_right);
      if (right !== null && right !== 'C' && right !== 'P')
        throw new Error(`${store.path}: instruments row '${symbol}' has option_right '${right}', not C or P`);
      const multiplier = num(row.multiplier) ?? 1;
      if (!(multiplier > 0) || !Number.isFinite(multiplier)) {
        throw new Error(`${store.path}: instruments row '${symbol}' has multiplier ${multiplier}, not a number > 0`);
      }
      byKey.set(symbol, {
        symbol,
        secType: secType as SecType,
        exchange: str(row.exchange),
        currency: str(row.currency) ?? 'USD',
        multiplier,
        tickSize: num(row.tick_size),
        underlying: str(row.underlying),
        expiry: str(row.expiry),
        strike: num(row.strike),
        right: right as Right | null,
        contractMonth: str(row.contract_month),
        localSymbol: str(row.local_symbol) ?? symbol,
        tz: str(row.tz),
        sector: str(row.sector),
        stored: true,
      });
    }
  }
  for (const s of symbols) {
    const key = s.trim().toUpperCase();
    const row = byKey.get(key);
    out.set(s, row ?? usStockRow(key));
  }
  return out;
}

/** The column names of an instruments row, in the order instrumentValues gives them. */
export const INSTRUMENT_ROW_COLUMNS = [
  'symbol',
  'sec_type',
  'exchange',
  'currency',
  'sector',
  'tick_size',
  'tz',
  ...INSTRUMENT_COLUMNS.map(([name]) => name),
] as const;

/** A row's values in INSTRUMENT_ROW_COLUMNS order (expiry as 'YYYY-MM-DD', cast to DATE by the writer). */
export function instrumentValues(r: InstrumentRow): (string | number | null)[] {
  const byName: Record<string, string | number | null> = {
    multiplier: r.multiplier,
    underlying: r.underlying,
    expiry: r.expiry,
    strike: r.strike,
    option_right: r.right,
    contract_month: r.contractMonth,
    local_symbol: r.localSymbol,
  };
  return [r.symbol, r.secType, r.exchange, r.currency, r.sector, r.tickSize, r.tz, ...INSTRUMENT_COLUMNS.map(([name]) => byName[name] ?? null)];
}
