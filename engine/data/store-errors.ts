// Why a market database could not be opened or read, in words that name the file, the process holding
// its lock and what to do next.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SAMPLE_DB_PATH, walPath } from './store-paths.ts';

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
        'locked',
        dbPath,
        holder,
      );
    }
    if (holder.readOnly) {
      return new StoreError(
        `cannot write ${dbPath}: ${who} has it open for reading (a notebook, a backtest, a sweep), and DuckDB gives a writer the file ` +
          `only when nobody reads it. Close that reader (in a notebook: store.close(), or restart its kernel) or wait for its run to finish, then run again.`,
        'locked',
        dbPath,
        holder,
      );
    }
    return new StoreError(
      `cannot write ${dbPath}: ${who} has it open for writing (another import?). Wait for it to finish (or stop process ${holder.pid}), then run again.`,
      'locked',
      dbPath,
      holder,
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
      'damaged',
      dbPath,
    );
  }
  if (DAMAGE_RE.test(msg)) {
    return new StoreError(
      `${dbPath} is damaged or not a DuckDB database (${msg}). Restore it from a backup, or delete it and re-import its data ` +
        `(npm run import -- <files> --db ${dbPath}${path.resolve(dbPath) === path.resolve(SAMPLE_DB_PATH) ? '; without it the next run without --data imports the bundled sample again' : ''}).`,
      'damaged',
      dbPath,
    );
  }
  return undefined;
}
