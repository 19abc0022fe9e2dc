export const DEFAULT_DB_PATH = 'data/market.duckdb';

/** The write-ahead log DuckDB keeps beside a database file. */
export function walPath(dbPath: string): string {
  return `${dbPath}.wal`;
}
