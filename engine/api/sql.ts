// tb.duckdb: ad-hoc SQL in a notebook, each query's rows as a DataFrame (64-bit integers as numbers, dates as Dates).
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import { describeOpenError } from '../data/store-errors.ts';
import { frame, type Column, type DataFrame } from './frame.ts';

/** A DuckDB database open for a notebook's queries. */
export interface SqlDatabase {
  /** the file (':memory:' for a database of this session only) */
  readonly path: string;
  /** Runs one statement; a query's rows come back as a DataFrame (empty for statements without rows). */
  sql(query: string): Promise<DataFrame>;
  close(): void;
}

/**
 * A column of query results as a DataFrame column: BIGINT/HUGEINT as numbers (refused past 2^53, where a number
 * would silently round), NULL as NaN in numeric columns, lists and structs as JSON text.
 */
function toColumn(name: string, values: unknown[]): Column {
  return values.map((v, row) => {
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
        throw new Error(`sql: column '${name}' row ${row}: ${v} is beyond 2^53 and would round as a number; cast it to DOUBLE or VARCHAR in the query`);
      return Number(v);
    }
    if (v === null || v === undefined) return Number.NaN;
    if (typeof v === 'object' && !(v instanceof Date)) return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));
    return v;
  }) as Column;
}

/**
 * Opens a DuckDB database for SQL: by default one in memory (query CSV and Parquet files with read_csv and
 * read_parquet, create tables of this session); a .duckdb file is opened read-only, so it is shared with backtests
 * and imports running at the same time.
 */
export async function duckdb(path = ':memory:'): Promise<SqlDatabase> {
  const readOnly = path !== ':memory:';
  let connection: DuckDBConnection;
  try {
    connection = await (await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {})).connect();
  } catch (e) {
    throw describeOpenError(path, e as Error, readOnly);
  }
  return {
    path,
    async sql(query: string) {
      const r = await connection.runAndReadAll(query);
      const names = r.columnNames();
      const cols = r.getColumnsJS();
      return frame(Object.fromEntries(names.map((n, i) => [n, toColumn(n, (cols[i] ?? []) as unknown[])])));
    },
    close: () => connection.closeSync(),
  };
}
