/**
 * The user's market database: where `npm run import` writes by default, and what `--data data/market.duckdb`
 * names. No command reads it unless told to (`--data`), so importing your own data never changes what the
 * defaults run. TRADEBENCH_DB points it elsewhere (tests use a temporary file).
 */
export const DEFAULT_DB_PATH = process.env.TRADEBENCH_DB || 'data/market.duckdb';

/**
 * The bundled sample's own database, created from data/sample on first use (engine/data/sample.ts): what every
 * command reads when it is given no `--data`. Nothing else is ever imported into it. TRADEBENCH_SAMPLE_DB points
 * it elsewhere.
 */
export const SAMPLE_DB_PATH = process.env.TRADEBENCH_SAMPLE_DB || 'data/sample.duckdb';

/** The write-ahead log DuckDB keeps beside a database file. */
export function walPath(dbPath: string): string {
  return `${dbPath}.wal`;
}
