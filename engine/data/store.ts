import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export const DEFAULT_DB_PATH = 'data/market.duckdb';

/** One open DuckDB database. Not for concurrent use: an import runs one transaction on `conn`. */
export interface Store {
  /** the path as given (':memory:' for an in-memory store), used in messages */
  readonly path: string;
  readonly instance: DuckDBInstance;
  readonly conn: DuckDBConnection;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instruments (
  symbol    VARCHAR PRIMARY KEY,
  sec_type  VARCHAR,
  exchange  VARCHAR,
  currency  VARCHAR,
  sector    VARCHAR,
  tick_size DOUBLE,
  tz        VARCHAR
);
CREATE TABLE IF NOT EXISTS bars (
  symbol   VARCHAR NOT NULL,
  interval VARCHAR NOT NULL,
  ts       BIGINT  NOT NULL, -- bar start, epoch ms UTC; daily bars at 00:00 UTC of the trading date
  open     DOUBLE  NOT NULL,
  high     DOUBLE  NOT NULL,
  low      DOUBLE  NOT NULL,
  close    DOUBLE  NOT NULL,
  volume   DOUBLE  NOT NULL,
  PRIMARY KEY (symbol, interval, ts)
);
`;

/** Opens (creating if missing) the database file and the market-data tables. */
export async function openStore(dbPath: string = DEFAULT_DB_PATH): Promise<Store> {
  if (dbPath !== ':memory:') mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(dbPath);
  } catch (e) {
    throw new Error(`cannot open ${dbPath}: ${(e as Error).message}`);
  }
  const conn = await instance.connect();
  try {
    await conn.run(SCHEMA);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw e;
  }
  let open = true;
  return {
    path: dbPath,
    instance,
    conn,
    close() {
      if (!open) return;
      open = false;
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
