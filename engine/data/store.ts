import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync as closeFd, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export const DEFAULT_DB_PATH = 'data/market.duckdb';

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

/** Why a database could not be opened or read. `kind` is stable (tests and tools may match on it). */
export type StoreErrorKind = 'missing' | 'locked' | 'damaged' | 'not-market-data' | 'other';

export interface LockHolder {
  pid: number;
  /** the executable DuckDB names (e.g. /usr/bin/node) */
  exe: string;
  /** the holder's command line from /proc/<pid>/cmdline, when readable (Linux) */
  cmdline?: string;
  /** whether the holder has the file read-only (DuckDB says so when it would let us read) */
  readOnly: boolean;
}

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  readonly file: string;
  readonly holder?: LockHolder;
  constructor(message: string, kind: StoreErrorKind, file: string, holder?: LockHolder) {
    super(message);
    this.name = 'StoreError';
    this.kind = kind;
    this.file = file;
    this.holder = holder;
  }
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
    throw new StoreError(`${dbPath}: no such database (opened read-only, so it is not created); create it with npm run import -- <files> --db ${dbPath}`, 'missing', dbPath);
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
      const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('bars', 'instruments')`);
      if (Number(r.getRowObjectsJS()[0]!.n) < 2) {
        throw new StoreError(`${dbPath} has no bars and instruments tables: it is not a market database (create one with npm run import -- <files> --db ${dbPath})`, 'not-market-data', dbPath);
      }
    } else {
      await conn.run(SCHEMA);
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

/** The write-ahead log DuckDB keeps beside a database file. */
export function walPath(dbPath: string): string {
  return `${dbPath}.wal`;
}

// ---------------------------------------------------------------------------------------------------------
// Error messages

const LOCK_RE = /Could not set lock on file "([^"]*)": Conflicting lock is held in (.*?) \(PID (\d+)\)/;
const DAMAGE_RE = /not a valid DuckDB database file|Corrupt database file|Could not read enough bytes|Failure while replaying WAL|Corrupt WAL file/;

/** The holder of a conflicting lock, from DuckDB's message (and /proc on Linux). */
export function lockHolder(message: string): LockHolder | undefined {
  const m = LOCK_RE.exec(message);
  if (!m) return undefined;
  const pid = Number(m[3]);
  let cmdline: string | undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    const text = raw.split('\0').filter(Boolean).join(' ');
    if (text) cmdline = text.length > 300 ? `${text.slice(0, 297)}...` : text;
  } catch {
    // not Linux, gone, or not ours to read
  }
  return { pid, exe: m[2]!, cmdline, readOnly: /would be able to open this database in read-only mode/.test(message) };
}

/** A StoreError for a failed open of `dbPath`, saying who holds a lock or what is damaged, and what to do. */
export function describeOpenError(dbPath: string, e: Error, readOnly: boolean): StoreError | Error {
  const msg = e.message;
  const holder = lockHolder(msg);
  if (holder) {
    const who = `process ${holder.pid} (${holder.cmdline ?? holder.exe})`;
    if (readOnly) {
      return new StoreError(
        `cannot read ${dbPath}: ${who} has it open for writing (an import, or another program with the file open read-write), ` +
          `and DuckDB lets nobody read a file while it is written. Wait for the import to finish (or stop process ${holder.pid}), then run again ` +
          `(a notebook that only reads should open it with openStore(file, { readOnly: true }), which shares the file with backtests).`,
        'locked', dbPath, holder,
      );
    }
    if (holder.readOnly) {
      return new StoreError(
        `cannot write ${dbPath}: ${who} has it open for reading (a notebook, a backtest, a sweep), and DuckDB gives a writer the file ` +
          `only when nobody reads it. Close that reader (in a notebook: store.close(), or restart its kernel) or wait for its run to finish, then run again.`,
        'locked', dbPath, holder,
      );
    }
    return new StoreError(
      `cannot write ${dbPath}: ${who} has it open for writing (another import?). Wait for it to finish (or stop process ${holder.pid}), then run again.`,
      'locked', dbPath, holder,
    );
  }
  return damageError(dbPath, e) ?? new StoreError(`cannot open ${dbPath}: ${msg}`, 'other', dbPath);
}

/** The error to throw for a failed read of `dbPath`: a StoreError naming the file when it is damaged, else `e`. */
export function describeReadError(dbPath: string, e: Error): Error {
  if (e instanceof StoreError) return e;
  return damageError(dbPath, e) ?? e;
}

/** A StoreError for a damaged file (on open or on a read: DuckDB checks block checksums as it reads). */
function damageError(dbPath: string, e: Error): StoreError | undefined {
  const msg = e.message;
  if (/Failure while replaying WAL|Corrupt WAL file/.test(msg)) {
    return new StoreError(
      `${dbPath} cannot be opened: its write-ahead log ${walPath(dbPath)} is damaged (${msg}). ` +
        `Restore the database from a backup, or move ${walPath(dbPath)} aside (the file then opens as of its last checkpoint, without the commits in the .wal) and re-run the imports since.`,
      'damaged', dbPath,
    );
  }
  if (DAMAGE_RE.test(msg)) {
    return new StoreError(
      `${dbPath} is damaged or not a DuckDB database (${msg}). Restore it from a backup, or delete it and re-import its data ` +
        `(npm run import -- <files> --db ${dbPath}${path.resolve(dbPath) === path.resolve(DEFAULT_DB_PATH) ? '; without it the next backtest imports the bundled sample again' : ''}).`,
      'damaged', dbPath,
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// The write-ahead log

export interface WalState {
  file: string;
  bytes: number;
  /** 'whole': every entry complete and the last one ends a commit; 'torn': a commit is cut off at the end */
  state: 'whole' | 'torn' | 'empty' | 'unknown';
  /** complete commits (WAL_FLUSH entries) */
  commits: number;
  /** bytes after the last complete commit (DuckDB ignores them) */
  tailBytes: number;
}

/**
 * Walks a DuckDB write-ahead log (format version 2, DuckDB 1.x unencrypted): a header (the serialized
 * WAL_VERSION entry, not checksummed), then entries of [u64 size][u64 checksum][size bytes], a commit
 * ending with a WAL_FLUSH entry. DuckDB 1.5 replays complete commits and silently skips a cut-off one,
 * so a truncated .wal loses its last commit without a word; this finds that cut.
 */
export function inspectWal(file: string): WalState {
  const bytes = statSync(file).size;
  const unknown: WalState = { file, bytes, state: 'unknown', commits: 0, tailBytes: 0 };
  if (bytes === 0) return { ...unknown, state: 'empty' };
  const fd = openSync(file, 'r');
  try {
    // the header is small (at most ~60 bytes with the optional database identifier)
    const head = Buffer.alloc(Math.min(bytes, 256));
    readSync(fd, head, 0, head.length, 0);
    let at = 0;
    const varint = (): number | undefined => {
      let v = 0;
      for (let shift = 0; shift <= 63; shift += 7) {
        if (at >= head.length) return undefined;
        const b = head[at++]!;
        v += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return v;
      }
      return undefined;
    };
    // field 100 wal_type = 98 (WAL_VERSION), 101 version, [102 database identifier list], [103 checkpoint iteration], 0xFFFF
    let version: number | undefined;
    for (;;) {
      if (at + 2 > head.length) return head.length === bytes ? { ...unknown, state: 'torn', tailBytes: bytes } : unknown;
      const field = head.readUInt16LE(at);
      at += 2;
      if (field === 0xffff) break;
      if (field === 100) {
        if (varint() !== 98) return unknown;
      } else if (field === 101) {
        version = varint();
      } else if (field === 102) {
        const n = varint();
        if (n === undefined || n > 64) return unknown;
        for (let i = 0; i < n; i++) if (varint() === undefined) return unknown;
      } else if (field === 103) {
        if (varint() === undefined) return unknown;
      } else return unknown;
    }
    if (version !== 2) return unknown; // 3 is encrypted, with another framing
    // entries: [u64 size][u64 checksum][payload]; a payload starts with field 100 (wal_type), 100 = WAL_FLUSH
    const entry = Buffer.alloc(19);
    let commits = 0;
    let committedAt = at;
    let pos = at;
    while (pos + 16 <= bytes) {
      const got = readSync(fd, entry, 0, 19, pos);
      if (got < 16) break;
      const size = Number(entry.readBigUInt64LE(0));
      if (pos + 16 + size > bytes) break;
      if (size >= 3 && got === 19 && entry.readUInt16LE(16) === 100 && entry[18] === 100) {
        commits++;
        committedAt = pos + 16 + size;
      }
      pos += 16 + size;
    }
    const tailBytes = bytes - committedAt;
    if (commits === 0 && tailBytes === 0) return { file, bytes, state: 'empty', commits, tailBytes };
    return { file, bytes, state: tailBytes === 0 ? 'whole' : 'torn', commits, tailBytes };
  } finally {
    closeFd(fd);
  }
}

function walWarning(dbPath: string, w: WalState, readOnly: boolean): string | undefined {
  if (w.state === 'empty') return undefined;
  const where = readOnly ? ' in memory (at every read-only open, until an import folds the .wal into the file)' : '';
  const lead = `${dbPath}: found ${w.file} (${w.bytes} bytes): the last process that wrote the database did not finish cleanly (killed or crashed before its checkpoint).`;
  if (w.state === 'whole') {
    return `${lead} Its ${w.commits} commit${w.commits === 1 ? ' is' : 's are'} complete and applied${readOnly ? where : ', and written into the file now'}.`;
  }
  if (w.state === 'torn') {
    let kept = '';
    if (!readOnly) {
      try {
        copyFileSync(w.file, `${w.file}.torn`);
        kept = ` A copy of the .wal is kept as ${w.file}.torn.`;
      } catch {
        // the warning stands without the copy
      }
    }
    return (
      `${lead} It ends inside a commit: its last ${w.tailBytes} bytes are a commit cut off (the .wal was truncated, or its writer was killed while committing). ` +
      (w.commits > 0 ? `DuckDB applies the ${w.commits} complete commit${w.commits === 1 ? '' : 's'} before it${where} and silently drops the cut-off one` : `DuckDB silently drops it`) +
      `, so the last write is NOT in the database. ` +
      `Re-run the last import into ${dbPath} (or restore a backup).${kept}`
    );
  }
  return `${lead} DuckDB applies what it can read of it${where}; its layout is not one this check knows, so whether its last commit is whole is not known. Re-run the last import to be sure.`;
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}
