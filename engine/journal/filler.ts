// Fills the journal database behind the write-ahead file: queued records are written in one transaction
// per attempt, on a connection opened for the attempt and closed after it, so other processes can open the
// file between attempts. Runs in a worker thread (journal-filler.ts) or, for ':memory:', on the caller's.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import { ensureJournalTables } from './journal-store.ts';
import { parseWal, type WalRecord } from './journal-wal.ts';
import { applyRecords } from './live-tables.ts';

/** A connection for one use; close() checkpoints (a writer) and lets the file go. */
export interface DbSession {
  conn: DuckDBConnection;
  close(): Promise<void>;
}

/** DuckDB refuses a file another process has open (its file lock). */
export function isLockError(e: unknown): boolean {
  return /could not set lock|conflicting lock/i.test(String((e as Error)?.message ?? e));
}

/**
 * Opens a journal database for a short use. A writer (the default) has its tables ensured (unless
 * ensure: false, the filler's case: LiveJournal.open made them) and is checkpointed at close, so the file is whole without DuckDB's own .wal beside it.
 */
export async function openJournalDb(file: string, o: { readOnly?: boolean; ensure?: boolean } = {}): Promise<DbSession> {
  const instance = await DuckDBInstance.create(file, o.readOnly ? { access_mode: 'READ_ONLY', threads: '1' } : { threads: '1' });
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
    if (!o.readOnly && o.ensure !== false) await ensureJournalTables(conn);
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  return {
    conn,
    async close() {
      try {
        if (!o.readOnly) await conn.run('CHECKPOINT');
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    },
  };
}

/** Runs `fn`, retrying while the file is locked by another process, up to `timeoutMs`. */
export async function retryLocked<T>(fn: () => Promise<T>, timeoutMs: number, o: { everyMs?: number; onWait?: (e: Error) => void } = {}): Promise<T> {
  const until = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isLockError(e) || Date.now() >= until) throw e;
      if (!told) o.onWait?.(e as Error);
      told = true;
      await new Promise((r) => setTimeout(r, o.everyMs ?? 20));
    }
  }
}

export interface FillerEvents {
  /** every record up to `g` is in the database */
  applied(g: number): void;
  /** an attempt failed (locked: the file is open in another process); the records stay queued and are retried */
  failed(message: string, locked: boolean): void;
}

/** What LiveJournal drives: the in-thread Filler or its worker-thread proxy. */
export interface FillerPort {
  /** queues write-ahead text (whole lines) and, with kick, starts an attempt */
  push(text: string, kick: boolean): void;
  /** waits for a running attempt, then makes no more until resume() */
  pause(): Promise<void>;
  resume(): void;
  /** waits for a running attempt and stops */
  stop(): Promise<void>;
}

/** The filling logic (one attempt at a time, retried after a failure). */
export class Filler implements FillerPort {
  private texts: string[] = [];
  private records: WalRecord[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private paused = 0;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: FillerEvents & { connect(): Promise<DbSession>; retryMs: number }) {}

  push(text: string, kick: boolean): void {
    this.texts.push(text);
    if (kick) this.kick();
  }

  kick(): void {
    if (this.stopped || this.paused > 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.attempt().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  async pause(): Promise<void> {
    this.paused++;
    this.clearRetry();
    await this.running;
  }

  resume(): void {
    if (this.paused > 0) this.paused--;
    if (this.paused === 0 && (this.texts.length > 0 || this.records.length > 0)) this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRetry();
    await this.running;
  }

  private clearRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  private async attempt(): Promise<void> {
    this.clearRetry();
    if (this.texts.length > 0) {
      const text = this.texts.length === 1 ? this.texts[0] : this.texts.join('');
      this.texts = [];
      for (const r of parseWal(text, 0, 'the queued journal entries', { strict: false }).records) this.records.push(r);
    }
    if (this.records.length === 0) return;
    const batch = this.records;
    this.records = [];
    let s: DbSession | undefined;
    try {
      s = await this.o.connect();
      await applyRecords(s.conn, batch);
      const session = s;
      s = undefined;
      await session.close().catch(() => undefined); // committed: a failed checkpoint only leaves DuckDB's .wal to replay
      this.o.applied(batch[batch.length - 1].g);
    } catch (e) {
      if (s) await s.close().catch(() => undefined);
      this.records = batch.concat(this.records);
      this.o.failed((e as Error).message, isLockError(e));
      if (!this.stopped && this.paused === 0) this.retry = setTimeout(() => this.kick(), this.o.retryMs).unref();
    }
  }
}

type ToWorker = { k: 'lines'; text: string; kick: boolean } | { k: 'pause' } | { k: 'resume' } | { k: 'exit' };
export type FromWorker = { k: 'applied'; g: number } | { k: 'failed'; message: string; locked: boolean } | { k: 'paused' } | { k: 'exited' };

/**
 * The Filler in a worker thread: the DuckDB work (open, append, commit, checkpoint, close, all of it
 * synchronous in places) never blocks the thread that takes orders.
 */
export class WorkerFiller implements FillerPort {
  private readonly worker: Worker;
  private waiting: (() => void)[] = [];
  private exited = false;
  private dead: string | undefined;
  /** lines were sent (the worker may be filling) */
  private busy = false;
  /** pauses taken while not busy (not sent to the worker) */
  private pausedIdle = 0;

  constructor(
    file: string,
    retryMs: number,
    private readonly events: FillerEvents,
  ) {
    const entry = new URL(import.meta.url.endsWith('.ts') ? './journal-filler.ts' : './journal-filler.js', import.meta.url).href;
    // TypeScript sources (tsx, vitest): the worker registers tsx's loader before importing its entry
    const tsx = entry.endsWith('.ts')
      ? pathToFileURL(
          createRequire(import.meta.url)
            .resolve('tsx/esm/api')
            .replace(/\.cjs$/, '.mjs'),
        ).href
      : undefined;
    const code = tsx
      ? `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
      : `import(${JSON.stringify(entry)})`;
    this.worker = new Worker(code, { eval: true, execArgv: [], workerData: { file, retryMs } });
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      if (m.k === 'applied') events.applied(m.g);
      else if (m.k === 'failed') events.failed(m.message, m.locked);
      else this.waiting.shift()?.();
    });
    this.worker.on('error', (e) => {
      this.dead = `the journal's filler thread failed: ${e.message}`;
      events.failed(this.dead, false);
    });
    this.worker.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w();
    });
  }

  private send(m: ToWorker): void {
    if (this.dead) {
      this.events.failed(this.dead, false);
      return;
    }
    if (!this.exited) this.worker.postMessage(m);
  }

  private ask(m: ToWorker): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(m);
    });
  }

  push(text: string, kick: boolean): void {
    if (!this.busy) {
      this.busy = true;
      // pauses taken while idle are passed on first, so these lines wait for their resume
      for (; this.pausedIdle > 0 && !this.exited && !this.dead; this.pausedIdle--) {
        this.waiting.push(() => undefined);
        this.worker.postMessage({ k: 'pause' } satisfies ToWorker);
      }
    }
    this.send({ k: 'lines', text, kick });
  }
  // until the first push the worker has nothing to do (it may still be loading): nothing to wait for
  pause(): Promise<void> {
    if (!this.busy) {
      this.pausedIdle++;
      return Promise.resolve();
    }
    return this.ask({ k: 'pause' });
  }
  resume(): void {
    if (this.pausedIdle > 0) this.pausedIdle--;
    else this.send({ k: 'resume' });
  }
  async stop(): Promise<void> {
    if (this.busy) await this.ask({ k: 'exit' });
    await this.worker.terminate();
  }
}
