// The live session's journal: a synchronous write-ahead file, and the DuckDB journal filled behind it.
//
// write() appends the entries to `<file>.wal.jsonl` with one write(2) (and fdatasync with fsync: true):
// once it returns, the OS has them, so a kill -9 of the runner loses nothing. Every flushMs a filler
// (a worker thread, so none of DuckDB's work runs on the thread that takes orders) opens the DuckDB
// file, appends what is queued in one transaction, checkpoints and closes it: between flushes the file
// is free, so another process can open it (npm run journal, a notebook) and the filler retries while
// it is held. Each record carries a global sequence number; the database keeps the last one it has
// (journal_meta 'applied_seq'), so reopening after a crash writes the records it lacks exactly once.
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import type { Order } from '../core/types.ts';
import { Filler, WorkerFiller, openJournalDb, retryLocked, type DbSession, type FillerPort } from './filler.ts';
import { ensureJournalTables } from './journal-store.ts';
import { readWal, walLine, walPathOf, type JournalEntry } from './journal-wal.ts';
import { applyRecords, appliedSeq } from './live-tables.ts';

export type { JournalEntry } from './journal-wal.ts';
export type { LogKind } from './journal.ts';

export interface LiveJournalOptions {
  /** fdatasync after every write, so a power loss loses nothing either (default false: a crash of the process loses nothing) */
  fsync?: boolean;
  /** how often the database is filled, ms (default 250) */
  flushMs?: number;
  log?: (message: string) => void;
  /** how long open, flush() and use() wait for a file another process holds, ms (default 10,000) */
  lockTimeoutMs?: number;
  /** the write-ahead file is emptied when it has reached this size and all of it is in the database (default 1 MiB) */
  walMaxBytes?: number;
  /** fill the database from a worker thread (default for files) or from this thread */
  worker?: boolean;
}

export interface JournalStatus {
  /** the global sequence number of the last entry written */
  written: number;
  /** ... and of the last one in the database */
  inDatabase: number;
  walBytes: number;
  /** why the last fill failed, while it keeps failing */
  failing?: string;
}

interface Waiter {
  target: number;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

const openHere = new Set<string>();

export class LiveJournal {
  /** the write-ahead file ('' for ':memory:') */
  readonly walPath: string;
  private fd = -1;
  private seq: number;
  private applied: number;
  private lines: string[] = [];
  private walBytes = 0;
  private broken: Error | undefined;
  private closing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly filler: FillerPort;
  private waiters: Waiter[] = [];
  private failure: { message: string; locked: boolean } | undefined;
  private using: Promise<unknown> = Promise.resolve();
  private readonly fsync: boolean;
  private readonly lockTimeoutMs: number;
  private readonly walMaxBytes: number;
  private readonly log: (m: string) => void;

  private constructor(
    readonly file: string,
    o: LiveJournalOptions,
    last: number,
    fd: number,
    private readonly lockPath: string,
    private readonly memory: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined,
  ) {
    this.walPath = memory ? '' : walPathOf(file);
    this.fd = fd;
    this.seq = this.applied = last;
    this.fsync = o.fsync ?? false;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 10_000;
    this.walMaxBytes = o.walMaxBytes ?? 1 << 20;
    this.log = o.log ?? (() => undefined);
    const flushMs = Math.max(1, o.flushMs ?? 250);
    const retryMs = Math.min(flushMs, 100);
    const events = { applied: (g: number) => this.onApplied(g), failed: (m: string, locked: boolean) => this.onFailed(m, locked) };
    if (memory) this.filler = new Filler({ ...events, retryMs, connect: async () => ({ conn: memory.conn, close: async () => undefined }) });
    else if (o.worker === false) this.filler = new Filler({ ...events, retryMs, connect: () => openJournalDb(file, { ensure: false }) });
    else this.filler = new WorkerFiller(file, retryMs, events);
    this.timer = setInterval(() => this.tick(false), flushMs).unref();
  }

  /**
   * Opens (creating if missing) the journal `file` (a DuckDB path, or ':memory:'): ensures its tables,
   * writes into it the write-ahead records it does not have yet (what a crash left), then starts a fresh
   * write-ahead file beside it.
   */
  static async open(file: string, o: LiveJournalOptions = {}): Promise<LiveJournal> {
    if (file === ':memory:') {
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      await ensureJournalTables(conn);
      return new LiveJournal(file, o, 0, -1, '', { instance, conn });
    }
    const abs = path.resolve(file);
    if (openHere.has(abs)) throw new Error(`the journal ${file} is already open in this process: close it first`);
    mkdirSync(path.dirname(abs), { recursive: true });
    const wal = walPathOf(file);
    const lockPath = `${file}.writer.lock`;
    acquireLock(lockPath, file);
    openHere.add(abs);
    let fd = -1;
    try {
      const log = o.log ?? (() => undefined);
      const timeout = o.lockTimeoutMs ?? 10_000;
      let last: number;
      try {
        last = await retryLocked(
          async () => {
            const s = await openJournalDb(file);
            try {
              const applied = await appliedSeq(s.conn);
              const w = readWal(wal, applied, { strict: true, warn: log });
              if (w.records.length > 0) {
                await applyRecords(s.conn, w.records);
                log(`${file}: ${w.records.length} journal entries found only in ${wal} (the runner stopped before they were flushed) are now in the database`);
              }
              return Math.max(applied, w.last);
            } finally {
              await s.close();
            }
          },
          timeout,
          { everyMs: 50, onWait: () => log(`${file} is open in another process: waiting for it (up to ${timeout / 1000} s)`) },
        );
      } catch (e) {
        throw new Error(dbErrorMessage(file, wal, (e as Error).message, true));
      }
      try {
        fd = openSync(wal, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND, 0o644);
        if (o.fsync) {
          fsyncSync(fd);
          fsyncDir(path.dirname(abs));
        }
      } catch (e) {
        throw new Error(`cannot create the write-ahead file ${wal}: ${(e as Error).message}. ${hint((e as NodeJS.ErrnoException).code)}`);
      }
      return new LiveJournal(file, o, last, fd, lockPath, undefined);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      openHere.delete(abs);
      rmSync(lockPath, { force: true });
      throw e;
    }
  }

  /**
   * Journals `entries`, synchronously: when this returns they are in the write-ahead file (the OS has
   * the bytes; with fsync, the disk), so a kill -9 loses none of them. Throws, having journaled none of
   * them, if the file cannot be written: their orders must then not be sent.
   */
  write(entries: readonly JournalEntry[]): void {
    if (this.closing) throw new Error(`the journal ${this.file} is closed: nothing more can be written to it`);
    if (this.broken) throw this.broken;
    const n = entries.length;
    if (n === 0) return;
    let g = this.seq;
    let text = '';
    for (let i = 0; i < n; i++) text += walLine(++g, entries[i]);
    if (this.fd >= 0) this.append(text);
    this.seq = g;
    this.lines.push(text);
  }

  private append(text: string): void {
    let written = 0;
    try {
      written = writeSync(this.fd, text);
      const want = Buffer.byteLength(text);
      if (written !== want) {
        // a short write: write the rest (which either completes it or says why it cannot)
        const buf = Buffer.from(text);
        while (written < want) {
          const k = writeSync(this.fd, buf, written, want - written);
          if (k <= 0) throw Object.assign(new Error(`only ${written} of ${want} bytes were written`), { code: 'EIO' });
          written += k;
        }
      }
      if (this.fsync) fdatasyncSync(this.fd);
    } catch (e) {
      try {
        if (written > 0) ftruncateSync(this.fd, this.walBytes); // no torn line before the next write
      } catch {
        // the next open ignores a torn last line
      }
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot write the live journal's write-ahead file ${this.walPath}: ${(e as Error).message}. Nothing of this write is journaled, so its orders must not be sent. ${hint(code)}`,
      );
    }
    this.walBytes += written;
    if (fstatSync(this.fd).nlink === 0) {
      this.broken = new Error(
        `the live journal's write-ahead file ${this.walPath} was deleted (or its folder removed) while the journal was open: what is written to it now would be lost in a crash, so nothing more is journaled and no order may be sent. Stop the runner, find out what removed it, and start it again (the database ${this.file} has the session up to its last flush)`,
      );
      throw this.broken;
    }
  }

  /** Hands the lines written since the last tick to the filler (kick: also when there are none, to retry). */
  private tick(kick: boolean): void {
    if (this.lines.length > 0) {
      const text = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
      this.lines.length = 0;
      this.filler.push(text, true);
    } else if (kick) this.filler.push('', true);
  }

  private onApplied(g: number): void {
    if (g > this.applied) this.applied = g;
    if (this.failure) {
      this.log(`${this.file}: the journal database is written again`);
      this.failure = undefined;
    }
    this.waiters = this.waiters.filter((w) => {
      if (w.target > this.applied) return true;
      clearTimeout(w.timer);
      w.resolve();
      return false;
    });
    // everything is in the database: the write-ahead file can start again (readers see the same either way)
    if (this.fd >= 0 && this.applied >= this.seq && this.walBytes >= this.walMaxBytes && !this.broken) {
      try {
        ftruncateSync(this.fd, 0);
        this.walBytes = 0;
      } catch (e) {
        this.log(`${this.walPath}: cannot empty it (${(e as Error).message}); it keeps growing`);
      }
    }
  }

  private onFailed(message: string, locked: boolean): void {
    if (this.failure?.message !== message) {
      this.log(
        locked
          ? `${this.file} is open in another process: the journal database is filled when it lets go (the entries are safe in ${this.walPath})`
          : `${dbErrorMessage(this.file, this.walPath, message, false)} (retrying)`,
      );
    }
    this.failure = { message, locked };
    if (!locked) {
      const err = new Error(dbErrorMessage(this.file, this.walPath, message, false));
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    }
  }

  /** Resolves when everything written so far is in the database. */
  flush(): Promise<void> {
    const target = this.seq;
    this.tick(this.applied < target);
    if (this.applied >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        target,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          const f = this.failure;
          reject(
            new Error(
              f?.locked
                ? `the journal ${this.file} has been held by another process for ${this.lockTimeoutMs / 1000} s, so the latest entries are not in it yet (they are safe in ${this.walPath} and are written when it is free, or when the journal is opened again): close whatever keeps it open (a reader holds it only for a moment)`
                : `the journal ${this.file} was not written within ${this.lockTimeoutMs / 1000} s${f ? `: ${f.message}` : ''}; the entries are safe in ${this.walPath}`,
            ),
          );
        }, this.lockTimeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /**
   * Runs `fn` on a connection to the database, after a flush, with the filler held off meanwhile (the
   * runner reads its session back at start, and writes the run's tables at stop). Writes go on.
   */
  use<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.using.then(async () => {
      await this.flush();
      await this.filler.pause();
      try {
        if (this.memory) return await fn(this.memory.conn);
        let s: DbSession;
        try {
          s = await retryLocked(() => openJournalDb(this.file), this.lockTimeoutMs, {
            everyMs: 50,
            onWait: () => this.log(`${this.file} is open in another process: waiting for it`),
          });
        } catch (e) {
          throw new Error(dbErrorMessage(this.file, this.walPath, (e as Error).message, false));
        }
        try {
          return await fn(s.conn);
        } finally {
          await s.close();
        }
      } finally {
        this.filler.resume();
      }
    });
    this.using = run.catch(() => undefined);
    return run;
  }

  /** Where the journal is: what is written, what is in the database, and why filling fails if it does. */
  get status(): JournalStatus {
    return { written: this.seq, inDatabase: this.applied, walBytes: this.walBytes, ...(this.failure ? { failing: this.failure.message } : {}) };
  }

  /**
   * Flushes and closes. If the database cannot be written, throws (naming the file and what to do) and
   * leaves the write-ahead file, from which the next open writes what the database lacks.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    await this.using;
    let error: Error | undefined;
    try {
      await this.flush();
    } catch (e) {
      error = e as Error;
    }
    await this.filler.stop();
    if (this.memory) {
      this.memory.conn.closeSync();
      this.memory.instance.closeSync();
    } else {
      closeSync(this.fd);
      this.fd = -1;
      if (!error && !this.broken && this.applied >= this.seq) rmSync(this.walPath, { force: true });
      rmSync(this.lockPath, { force: true });
      openHere.delete(path.resolve(this.file));
    }
    if (error && this.broken)
      throw new Error(`${this.broken.message}. At close the database could not be written either (${(this.failure?.message ?? error.message).split('\n')[0]})`);
    if (error) throw error;
  }
}

function hint(code: string | undefined): string {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'The disk is full: free space on it (or move --out to another disk), then start the runner again.';
    case 'EFBIG':
      return "The file is over this process's file-size limit (ulimit -f): raise the limit, then start the runner again.";
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return 'The file or its folder cannot be written: fix its permissions (or choose another --out), then start the runner again.';
    case 'EIO':
      return 'The disk reported an I/O error: check it, then start the runner again.';
    default:
      return 'Check the file and its folder, then start the runner again.';
  }
}

function dbErrorMessage(file: string, wal: string, message: string, opening: boolean): string {
  const code = /No space left|ENOSPC/i.test(message) ? 'ENOSPC' : /Permission denied|read-only/i.test(message) ? 'EACCES' : undefined;
  const safe = opening
    ? `nothing was lost: ${wal} keeps the entries and they are written at the next open`
    : `the entries are safe in ${wal} and are written at the next flush, or when the journal is opened again`;
  if (/could not set lock|conflicting lock/i.test(message)) {
    return `the journal ${file} is held by another process (${message.split('\n')[0]}): close whatever keeps it open (a reader holds it only for a moment); ${safe}`;
  }
  return `cannot write the journal database ${file}: ${message.split('\n')[0]}; ${safe}. ${hint(code)}`;
}

/** One writer per journal: `<file>.writer.lock` holds its pid (a lock whose process is gone is taken over). */
function acquireLock(lockPath: string, file: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0)
        throw new Error(`cannot create ${lockPath} (the journal's writer lock): ${(e as Error).message}`);
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    } catch {
      // unreadable: taken over
    }
    if (pid > 0 && pid !== process.pid && alive(pid)) {
      throw new Error(
        `the journal ${file} is being written by another process (pid ${pid}): two runners must not share a journal. Stop that one or give this one another --out; if no process ${pid} is a runner, delete ${lockPath}`,
      );
    }
    rmSync(lockPath, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every file system syncs a directory
  }
}

// --- benchmarks (scripts/bench.ts) ---

/** A typical commit of the runner: a new order, its two events, the bar it was decided on. */
export function typicalBatch(runId: string, i: number): JournalEntry[] {
  const ts = 1_700_000_000_000 + i * 60_000;
  const order: Order = {
    id: i + 1,
    strategy: 'sma-cross',
    symbol: 'SPY',
    sid: 0,
    side: 'BUY',
    type: 'MKT',
    qty: { kind: 'shares', shares: 10 },
    limit: NaN,
    stop: NaN,
    trailingPercent: NaN,
    trailingAmount: NaN,
    tif: 'DAY',
    goodTill: NaN,
    ocaGroup: '',
    parentId: 0,
    tag: '',
    status: 'APPROVED',
    submittedAt: ts + 60_000,
    eligibleFrom: ts + 60_000,
    filledQty: 0,
    avgFillPrice: 0,
    commission: 0,
    triggered: false,
    firstBarDay: NaN,
    pendingChildren: [],
    reason: '',
  };
  return [
    { t: 'order', runId, order },
    { t: 'orderEvent', runId, seq: 2 * i, e: { ts: ts + 60_000, orderId: order.id, from: 'NEW', to: 'RISK_CHECK', reason: '' } },
    { t: 'orderEvent', runId, seq: 2 * i + 1, e: { ts: ts + 60_000, orderId: order.id, from: 'RISK_CHECK', to: 'APPROVED', reason: '' } },
    { t: 'bar', runId, seq: i, b: { symbol: 'SPY', sid: 0, ts, open: 450.12, high: 450.55, low: 449.87, close: 450.31, volume: 123_456 } },
  ];
}

export interface LatencyFigures {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function figures(xs: Float64Array): LatencyFigures {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s[s.length - 1] };
}

/**
 * write() latency in µs for the typical batch (1 order, 2 order events, 1 bar), on a journal in a temp
 * folder with the filler running as in a session (the loop yields every 20 writes so it can flush).
 */
export async function benchWrite(n = 20_000, o: { fsync?: boolean; dir?: string } = {}): Promise<LatencyFigures & { fsync: boolean; flushes: number }> {
  const dir = mkdtempSync(path.join(o.dir ?? os.tmpdir(), 'tradebench-journal-bench-'));
  const journal = await LiveJournal.open(path.join(dir, 'journal.duckdb'), { fsync: o.fsync, flushMs: 50 });
  try {
    const runId = randomUUID().slice(0, 16);
    const batches = Array.from({ length: 64 }, (_, i) => typicalBatch(runId, i));
    // warm: the filler thread started, the code compiled
    for (let i = 0; i < 2_000; i++) journal.write(batches[i & 63]);
    await journal.flush();
    const times = new Float64Array(n);
    let flushes = 0;
    let applied = journal.status.inDatabase;
    for (let i = 0; i < n; i++) {
      const batch = batches[i & 63];
      const t0 = performance.now();
      journal.write(batch);
      times[i] = (performance.now() - t0) * 1000;
      if (i % 20 === 19) {
        await new Promise((r) => setTimeout(r, 1));
        if (journal.status.inDatabase > applied) {
          flushes++;
          applied = journal.status.inDatabase;
        }
      }
    }
    await journal.flush();
    return { ...figures(times), fsync: o.fsync ?? false, flushes };
  } finally {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One fill of the database in ms: open the file, append a typical batch in a transaction, checkpoint, close. */
export async function benchFill(n = 50, o: { dir?: string } = {}): Promise<LatencyFigures> {
  const dir = mkdtempSync(path.join(o.dir ?? os.tmpdir(), 'tradebench-journal-bench-'));
  const file = path.join(dir, 'journal.duckdb');
  try {
    await (await openJournalDb(file)).close();
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const records = typicalBatch('bench', i).map((e, k) => ({ g: 4 * i + k + 1, e }));
      const t0 = performance.now();
      const s = await openJournalDb(file, { ensure: false });
      await applyRecords(s.conn, records);
      await s.close();
      times[i] = performance.now() - t0;
    }
    return figures(times);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
