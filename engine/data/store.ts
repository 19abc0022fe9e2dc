import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import { DEFAULT_DB_PATH, walPath } from './store-paths.ts';
import { describeOpenError, describeReadError, StoreError } from './store-errors.ts';
import { inspectWal, walWarning } from './wal-check.ts';

export { DEFAULT_DB_PATH } from './store-paths.ts';

/**
 * One open DuckDB database. Not for concurrent use: an import runs one transaction on `conn`.
 *
 * DuckDB lets any number of processes open a file read-only at once, or one process read-write, never both:
 * everything that only reads (backtests, sweeps, promotion, training, the simulator, notebooks) opens
 * read-only, so readers share the file; imports open it read-write and need it to themselves.
 */
export interface Store {
  /** the path as given (':memory:' for an in-memory store), used in messages */
  readonly path: string;
  readonly readOnly: boolean;
  readonly instance: DuckDBInstance;
  readonly conn: DuckDBConnection;
  /** closing a read-write store checkpoints it (DuckDB folds the .wal into the file and deletes it) */
  close(): void;
}

export interface OpenStoreOptions {
  /**
   * Open the file read-only (DuckDB access_mode READ_ONLY): shared with any number of other readers, refused
   * while a writer holds it, never created (a missing file is an error), and no schema is written.
   */
  readOnly?: boolean;
  /** where warnings go (a .wal left behind by a writer that did not finish); default stderr */
  warn?: (message: string) => void;
}

/**
 * bars has no PRIMARY KEY: DuckDB holds the index entries of a transaction's new rows in memory until it
 * commits (about 86 bytes a row, twice that while committing), so a key would make an import's memory grow
 * with its size. (symbol, interval, ts) is unique all the same: the importer rejects duplicates within its
 * files and upserts by that key (engine/data/import.ts). Databases created with the key keep it and work as
 * they are. The importer writes rows sorted by (symbol, ts), so a load of some symbols or of a time window
 * skips most row groups by their min/max.
 */
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
  volume   DOUBLE  NOT NULL
);
`;

/**
 * Corporate actions (engine/data/actions.ts), written by imports with --factors; created on an import, so a
 * database from before them has none (its bars load as stored, of unknown basis).
 * - price_factors: the LEAN factor rows of each symbol as read (replaced whole by each import of the symbol);
 *   enough to compute the adjusted series at load exactly as imports computed it before bars were stored raw.
 * - corporate_actions: the splits (value = new shares per old) and cash dividends (value = cash per share)
 *   between consecutive factor rows, by ex-date.
 * - price_basis: what the bars of a symbol and interval are: 'raw' (with factors), 'adjusted' (imported with
 *   --adjusted: already adjusted files) or 'unknown' (imported with neither flag); the last import decides.
 */
export const ACTIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS price_factors (
  symbol          VARCHAR NOT NULL,
  date            DATE    NOT NULL, -- in force for bars on or before this exchange-local date (and after the previous row's)
  price_factor    DOUBLE  NOT NULL,
  split_factor    DOUBLE  NOT NULL,
  reference_price DOUBLE,           -- raw close on date (NULL when the file has none)
  file            VARCHAR
);
CREATE TABLE IF NOT EXISTS corporate_actions (
  symbol          VARCHAR NOT NULL,
  ex_date         DATE    NOT NULL, -- first trading day in force
  factor_date     DATE    NOT NULL, -- the factor row's date: the last day before the event
  kind            VARCHAR NOT NULL, -- 'split' | 'dividend'
  value           DOUBLE  NOT NULL, -- split: new shares per old share; dividend: cash per share
  reference_price DOUBLE
);
CREATE TABLE IF NOT EXISTS price_basis (
  symbol   VARCHAR NOT NULL,
  interval VARCHAR NOT NULL,
  basis    VARCHAR NOT NULL, -- 'raw' | 'adjusted' | 'unknown'
  PRIMARY KEY (symbol, interval)
);
`;

/**
 * Issue 15 (options, futures, FX): the instrument fields beyond a US stock's, and the bid/ask and open-interest
 * tables. Added to any database a read-write open finds without them (older files migrate in place; their rows
 * keep NULL in the new columns, and readers take a NULL multiplier as 1: see engine/data/instruments.ts).
 * Symbol keys: stocks 'AAPL'; options the compact OCC symbol 'GOOG151224C00750000'; futures root, month code
 * and two-digit year 'ESZ13'; FX pairs 'GBP.USD' (engine/data/lean-import.ts builds them with engine/instruments).
 */
export const INSTRUMENT_COLUMNS: readonly (readonly [name: string, type: string])[] = [
  ['multiplier', 'DOUBLE'], // NULL means 1 (rows imported before)
  ['underlying', 'VARCHAR'], // OPT: the underlying's symbol ('GOOG'); FUT: the root ('ES')
  ['expiry', 'DATE'], // OPT and FUT: the last trading day
  ['strike', 'DOUBLE'], // OPT
  ['option_right', 'VARCHAR'], // OPT: 'C' or 'P'
  ['contract_month', 'VARCHAR'], // FUT: 'YYYYMM'
  ['local_symbol', 'VARCHAR'], // IB's localSymbol: 'ESZ3', 'GOOG  151224C00750000' (padded OCC), 'GBP.USD'
];

export const DERIVATIVES_SCHEMA = `
CREATE TABLE IF NOT EXISTS quote_bars (
  symbol    VARCHAR NOT NULL,
  "interval" VARCHAR NOT NULL,
  ts        BIGINT  NOT NULL, -- bar start, epoch ms UTC, as bars (daily bars at 00:00 UTC of their date)
  bid_open DOUBLE, bid_high DOUBLE, bid_low DOUBLE, bid_close DOUBLE, bid_size DOUBLE,
  ask_open DOUBLE, ask_high DOUBLE, ask_low DOUBLE, ask_close DOUBLE, ask_size DOUBLE,
  PRIMARY KEY (symbol, "interval", ts) -- a side with no quote that bar: NULL prices, size 0
);
CREATE TABLE IF NOT EXISTS open_interest (
  symbol        VARCHAR NOT NULL,
  ts            BIGINT  NOT NULL,
  open_interest DOUBLE  NOT NULL,
  PRIMARY KEY (symbol, ts)
);
`;

/** Adds the issue-15 columns and tables a database lacks (only the missing columns: no catalog write when current). */
async function migrateDerivatives(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'instruments'`,
  );
  const have = new Set(r.getRowObjectsJS().map((row) => String(row.column_name)));
  const missing = INSTRUMENT_COLUMNS.filter(([name]) => !have.has(name));
  const alter = missing.map(([name, type]) => `ALTER TABLE instruments ADD COLUMN IF NOT EXISTS ${name} ${type};`).join('\n');
  await conn.run(alter + DERIVATIVES_SCHEMA);
}

const READ_ONLY = { access_mode: 'READ_ONLY' } as const;

/**
 * Opens the database file: read-write by default (creating the file and the market-data tables if missing),
 * or read-only with `{ readOnly: true }` (see OpenStoreOptions). Errors are StoreErrors naming the file: a lock
 * held by another process (with its PID and command line, and what to do), a missing file, a damaged file.
 * A `.wal` beside the file means the last writer did not finish (killed before its checkpoint): that is said
 * on `warn`, with whether DuckDB will drop a commit cut off at the end of it (it does so silently).
 */
export async function openStore(dbPath: string = DEFAULT_DB_PATH, opts: OpenStoreOptions = {}): Promise<Store> {
  const readOnly = opts.readOnly === true;
  const warn = opts.warn ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`));
  const memory = dbPath === ':memory:';
  if (memory && readOnly) throw new Error('an in-memory database cannot be opened read-only');
  if (!memory && readOnly && !existsSync(dbPath)) {
    throw new StoreError(
      `${dbPath}: no such database (opened read-only, so it is not created); create it with npm run import -- <files> --db ${dbPath}`,
      'missing',
      dbPath,
    );
  }
  if (!memory && !readOnly) mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });

  // A read-write open replays the .wal and deletes it: look at it first, under a shared lock so that the .wal
  // of a writer still running is not taken for a leftover (if a writer holds the file, the open below says so).
  let walNote: string | undefined;
  if (!memory && !readOnly && existsSync(walPath(dbPath)) && existsSync(dbPath)) {
    let probe: DuckDBInstance | undefined;
    try {
      probe = await DuckDBInstance.create(dbPath, READ_ONLY);
    } catch {
      // locked or damaged: the read-write open below reports it
    }
    if (probe) {
      walNote = walWarning(dbPath, inspectWal(walPath(dbPath)), false);
      probe.closeSync();
    }
  }

  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(dbPath, readOnly ? READ_ONLY : undefined);
  } catch (e) {
    throw describeOpenError(dbPath, e as Error, readOnly);
  }
  if (readOnly && existsSync(walPath(dbPath))) walNote = walWarning(dbPath, inspectWal(walPath(dbPath)), true);
  const conn = await instance.connect();
  try {
    if (readOnly) {
      const r = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('bars', 'instruments')`,
      );
      if (Number(r.getRowObjectsJS()[0]!.n) < 2) {
        throw new StoreError(
          `${dbPath} has no bars and instruments tables: it is not a market database (create one with npm run import -- <files> --db ${dbPath})`,
          'not-market-data',
          dbPath,
        );
      }
    } else {
      await conn.run(SCHEMA + ACTIONS_SCHEMA);
      await migrateDerivatives(conn);
    }
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw e instanceof StoreError ? e : describeReadError(dbPath, e as Error);
  }
  if (walNote) warn(walNote);
  let open = true;
  return {
    path: dbPath,
    readOnly,
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
