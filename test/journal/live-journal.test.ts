import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Order } from '../../engine/core/types.ts';
import { LiveJournal, type JournalEntry } from '../../engine/journal/live-journal.ts';
import { walPathOf } from '../../engine/journal/journal-wal.ts';
import { loadSession, settleOrders, type SessionState } from '../../engine/journal/session-store.ts';
import { ROOT } from '../cli/run-cli.ts';
import { order, step, steps, SYMBOLS } from './entries.ts';

const run = promisify(execFile);
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tradebench-journal-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What loadSession should give back for these entries (written in this order). */
function expected(entries: readonly JournalEntry[]): Omit<SessionState, 'orders'> & { specs: Order[] } {
  const specs = new Map<number, Order>();
  const out = { specs: [] as Order[], fills: [], orderEvents: [], riskEvents: [], equity: [], bars: [], logs: [], state: undefined } as ReturnType<
    typeof expected
  >;
  for (const e of entries) {
    if (e.t === 'order') specs.set(e.order.id, e.order);
    else if (e.t === 'orderEvent') out.orderEvents.push(e.e);
    else if (e.t === 'fill') out.fills.push(e.f);
    else if (e.t === 'risk') out.riskEvents.push(e.e);
    else if (e.t === 'equity') out.equity.push(e.p);
    else if (e.t === 'bar') out.bars.push(e.b);
    else if (e.t === 'log') out.logs.push({ seq: e.seq, ts: e.ts, kind: e.kind, message: e.message });
    else if (e.t === 'state') out.state = e.state;
  }
  out.specs = [...specs.values()].sort((a, b) => a.id - b.id);
  return out;
}

function expectSession(s: SessionState, entries: readonly JournalEntry[]): void {
  const x = expected(entries);
  expect(s.orders).toEqual(settleOrders(x.specs, x.orderEvents, x.fills));
  expect(s.orderEvents).toEqual(x.orderEvents);
  expect(s.fills).toEqual(x.fills);
  expect(s.riskEvents).toEqual(x.riskEvents);
  expect(s.equity).toEqual(x.equity);
  expect(s.bars).toEqual(x.bars);
  expect(s.logs).toEqual(x.logs);
  expect(s.state).toEqual(x.state);
}

const COUNTED = ['live_orders', 'order_events', 'fills', 'risk_events', 'equity', 'live_bars', 'live_logs', 'live_state'];

/** Row counts of the journal tables, read by a separate read-only connection (the journal must be closed). */
async function counts(file: string): Promise<Record<string, number>> {
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of COUNTED) out[t] = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${t}`)).getRows()[0][0]);
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function countsOf(entries: readonly JournalEntry[]): Record<string, number> {
  const n = (t: JournalEntry['t']) => entries.filter((e) => e.t === t).length;
  const runsWithState = new Set(entries.filter((e) => e.t === 'state').map((e) => e.runId)).size;
  return {
    live_orders: new Set(entries.flatMap((e) => (e.t === 'order' ? [`${e.runId}:${e.order.id}`] : []))).size,
    order_events: n('orderEvent'),
    fills: n('fill'),
    risk_events: n('risk'),
    equity: n('equity'),
    live_bars: n('bar'),
    live_logs: n('log'),
    live_state: runsWithState,
  };
}

/** Runs a test script under test/journal in a child Node (as npm run does: tsx). */
function child(
  script: string,
  args: string[],
  shellPrefix = '',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const argv = [process.execPath, '--import', 'tsx', path.join(ROOT, 'test/journal', script), ...args];
  const p = shellPrefix ? spawn('bash', ['-c', `${shellPrefix} && exec "$@"`, 'bash', ...argv], { cwd: ROOT }) : spawn(argv[0], argv.slice(1), { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('LiveJournal: write, then the database filled behind', () => {
  for (const mode of ['file (worker thread)', 'file (this thread)', ':memory:'] as const) {
    it(`${mode}: loadSession gives back every entry; NaN and ±Infinity round-trip; the latest order spec and state win`, async () => {
      const file = mode === ':memory:' ? ':memory:' : path.join(tempDir(), 'out/live/journal.duckdb');
      const journal = await LiveJournal.open(file, { flushMs: 20, worker: mode !== 'file (this thread)' });
      const written: JournalEntry[] = [];
      const write = (e: JournalEntry[]) => {
        journal.write(e);
        written.push(...e);
      };
      for (let i = 0; i < 12; i++) write(step('run-a', i));
      write(steps('run-b', 0, 3)); // another run in the same file stays apart
      // a modify: the order's new spec (the runner journals it as a new order entry), then a newer safety state
      write([{ t: 'order', runId: 'run-a', order: order(3, { limit: 250.5, qty: { kind: 'shares', shares: 40 }, tag: 'modified' }) }]);
      write([{ t: 'state', runId: 'run-a', ts: 1, state: { breaker: { tripped: true, reason: 'kill switch', limit: Infinity, floor: NaN } } }]);
      if (mode !== ':memory:') expect(readFileSync(walPathOf(file), 'utf8').trim().split('\n')).toHaveLength(written.length);
      await journal.flush();
      expect(journal.status).toMatchObject({ written: written.length, inDatabase: written.length });
      const a = await journal.use((conn) => loadSession(conn, 'run-a', SYMBOLS));
      expectSession(
        a,
        written.filter((e) => e.runId === 'run-a'),
      );
      expect(a.orders[2]).toMatchObject({ id: 3, limit: 250.5, qty: { kind: 'shares', shares: 40 }, tag: 'modified', status: 'APPROVED', filledQty: 5 });
      expect(a.orders[0].stop).toBeNaN();
      expect(a.riskEvents[0]).toMatchObject({ value: Infinity, limit: -Infinity });
      expect(a.bars[3].volume).toBeNaN();
      expect(a.logs[0].ts).toBeNaN();
      expect(a.state).toEqual({ breaker: { tripped: true, reason: 'kill switch', limit: Infinity, floor: NaN } });
      expectSession(await journal.use((conn) => loadSession(conn, 'run-b', SYMBOLS)), steps('run-b', 0, 3));
      const none = await journal.use((conn) => loadSession(conn, 'run-c', SYMBOLS));
      expect([none.orders.length, none.bars.length, none.logs.length, none.state]).toEqual([0, 0, 0, undefined]);
      // writes go on after a use(), and a close flushes them
      write(step('run-a', 12));
      await journal.close();
      expect(() => journal.write(step('run-a', 13))).toThrow(/closed/);
      if (mode !== ':memory:') {
        expect(existsSync(walPathOf(file))).toBe(false); // everything is in the database
        expect(await counts(file)).toEqual(countsOf(written));
        const again = await LiveJournal.open(file);
        expectSession(
          await again.use((conn) => loadSession(conn, 'run-a', SYMBOLS)),
          written.filter((e) => e.runId === 'run-a'),
        );
        await again.close();
      }
    });
  }

  it('use() holds the filler off: entries written meanwhile reach the database after it', async () => {
    const file = path.join(tempDir(), 'journal.duckdb');
    const journal = await LiveJournal.open(file, { flushMs: 5 });
    const during = await journal.use(async (conn) => {
      journal.write(step('r', 0));
      await new Promise((r) => setTimeout(r, 300)); // many ticks: the lines go to the filler, which waits
      return Number((await conn.runAndReadAll('SELECT count(*) FROM order_events')).getRows()[0][0]);
    });
    expect(during).toBe(0);
    await journal.flush();
    expect(await journal.use(async (conn) => Number((await conn.runAndReadAll('SELECT count(*) FROM order_events')).getRows()[0][0]))).toBe(2);
    await journal.close();
  });

  it('refuses a second writer on the same journal', async () => {
    const file = path.join(tempDir(), 'journal.duckdb');
    const journal = await LiveJournal.open(file);
    await expect(LiveJournal.open(file)).rejects.toThrow(/already open in this process/);
    await journal.close();
    await (await LiveJournal.open(file)).close();
  });

  it('empties the write-ahead file once it is all in the database and big enough', async () => {
    const file = path.join(tempDir(), 'journal.duckdb');
    const journal = await LiveJournal.open(file, { flushMs: 10, walMaxBytes: 1 });
    journal.write(steps('r', 0, 5));
    await journal.flush();
    expect(statSync(walPathOf(file)).size).toBe(0);
    journal.write(step('r', 5));
    expect(statSync(walPathOf(file)).size).toBeGreaterThan(0);
    await journal.close();
    expect(await counts(file)).toEqual(countsOf(steps('r', 0, 6)));
  });
});

describe('LiveJournal: a kill -9 between write() and the flush loses nothing', () => {
  for (const [a, b] of [
    [0, 7],
    [4, 9],
  ] as const) {
    it(`${a ? `steps 0-${a - 1} flushed, ` : ''}steps ${a}-${b - 1} only written: reopening writes them to DuckDB exactly once`, async () => {
      const file = path.join(tempDir(), 'journal.duckdb');
      const r = await child('crash-child.ts', [file, 'crashed', String(a), String(b)]);
      expect(r.signal, r.stderr).toBe('SIGKILL');
      const all = steps('crashed', 0, b);
      expect(JSON.parse(r.stdout)).toMatchObject({ written: all.length, inDatabase: steps('crashed', 0, a).length });
      expect(readFileSync(walPathOf(file), 'utf8').trim().split('\n')).toHaveLength(all.length); // the flushed ones too
      expect(await counts(file)).toEqual(countsOf(steps('crashed', 0, a))); // DuckDB has only what was flushed

      const logs: string[] = [];
      const j1 = await LiveJournal.open(file, { log: (m) => logs.push(m) });
      expect(logs.join('\n')).toContain(`${all.length - steps('crashed', 0, a).length} journal entries found only in`);
      expectSession(await j1.use((conn) => loadSession(conn, 'crashed', SYMBOLS)), all);
      // the session goes on where it was: new entries after the recovered ones
      j1.write(step('crashed', b));
      await j1.close();
      expect(await counts(file)).toEqual(countsOf(steps('crashed', 0, b + 1)));

      for (let k = 0; k < 2; k++) {
        const j = await LiveJournal.open(file);
        expectSession(await j.use((conn) => loadSession(conn, 'crashed', SYMBOLS)), steps('crashed', 0, b + 1));
        await j.close();
      }
      expect(await counts(file)).toEqual(countsOf(steps('crashed', 0, b + 1)));
    });
  }
});

describe('LiveJournal: other processes read the journal while it is written', () => {
  it('npm run journal reads it while this process keeps writing and flushing; nothing is lost, nothing doubled', async () => {
    const file = path.join(tempDir(), 'journal.duckdb');
    const logs: string[] = [];
    const journal = await LiveJournal.open(file, { flushMs: 15, log: (m) => logs.push(m) });
    let i = 0;
    const writer = setInterval(() => journal.write(step('live', i++)), 3);
    try {
      // the first flush (the filler thread starts meanwhile)
      for (let t = 0; t < 200 && journal.status.inDatabase === 0; t++) await new Promise((r) => setTimeout(r, 50));
      const flushedBefore = journal.status.inDatabase;
      expect(flushedBefore).toBeGreaterThan(0);
      for (let k = 0; k < 3; k++) {
        const before = i;
        const out = await run(process.execPath, ['--import', 'tsx', 'scripts/journal.ts', file, 'events', '--json'], { cwd: ROOT });
        const after = i;
        const events = out.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { seq: number });
        // everything written before the reader started, whether flushed or not yet (the write-ahead file)
        expect(events.length).toBeGreaterThanOrEqual(2 * before);
        expect(events.length).toBeLessThanOrEqual(2 * after);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n));
      }
      // a reader that keeps the file open for a while: flushes wait for it, writes do not
      const held = spawn(process.execPath, ['--import', 'tsx', 'test/journal/hold-child.ts', file, '600'], { cwd: ROOT });
      await new Promise<void>((resolve) => held.stdout.on('data', () => resolve()));
      const writtenWhileHeld = i;
      await new Promise((r) => setTimeout(r, 300));
      expect(i).toBeGreaterThan(writtenWhileHeld + 20);
      await new Promise((r) => held.on('close', r));
      await new Promise((r) => setTimeout(r, 200));
      expect(journal.status.inDatabase).toBeGreaterThan(flushedBefore);
    } finally {
      clearInterval(writer);
    }
    await journal.flush();
    expect(journal.status.inDatabase).toBe(journal.status.written);
    const s = await journal.use((conn) => loadSession(conn, 'live', SYMBOLS));
    expectSession(s, steps('live', 0, i));
    await journal.close();
    expect(await counts(file)).toEqual(countsOf(steps('live', 0, i)));
    expect(logs.some((m) => /open in another process/.test(m))).toBe(true);
  });
});

describe('LiveJournal: a write that cannot be written throws, naming the file', () => {
  it('the write-ahead file deleted (its folder removed) under a running journal', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'live/journal.duckdb');
    const journal = await LiveJournal.open(file, { flushMs: 3_600_000 });
    journal.write(step('r', 0));
    rmSync(path.join(dir, 'live'), { recursive: true });
    expect(() => journal.write(step('r', 1))).toThrow(
      new RegExp(`write-ahead file ${walPathOf(file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} was deleted .* no order may be sent`),
    );
    expect(() => journal.write(step('r', 2))).toThrow(/was deleted/);
    await expect(journal.close()).rejects.toThrow(/journal.duckdb/);
  });

  it('a file over the size limit (EFBIG): the failed write leaves no trace, the ones before it are recovered', async () => {
    const file = path.join(tempDir(), 'journal.duckdb');
    // 16 MiB: room for the database file, then the write-ahead file outgrows it
    const r = await child('efbig-child.ts', [file], 'ulimit -f 16384');
    expect(r.code, r.stderr).toBe(0);
    const { ok, error } = JSON.parse(r.stdout) as { ok: number; error: string };
    expect(ok).toBeGreaterThan(10);
    expect(error).toContain(`cannot write the live journal's write-ahead file ${walPathOf(file)}`);
    expect(error).toMatch(/EFBIG|file too large/);
    expect(error).toMatch(/ulimit -f/);
    expect(error).toMatch(/must not be sent/);
    const journal = await LiveJournal.open(file);
    const s = await journal.use((conn) => loadSession(conn, 'big', []));
    expect(s.logs.map((l) => l.seq)).toEqual([...Array(ok).keys()]);
    await journal.close();
  });
});
