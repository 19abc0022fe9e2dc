// Issue 16's faults, with real processes: a real redis-server, real `npm run worker` processes and a real
// `npm run sweep -- --queue` submitter. A worker SIGKILLed mid-job and a Redis restart mid-sweep must both end
// with every run stored exactly once, the same rows as the sweep on local threads (the failing run and cancel are
// covered beside the queue's code). Nothing waits on wall-clock time: the tests watch Redis (BullMQ's lists and
// event streams, whatever the queue is named) and the processes' exits, with generous timeouts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/data/store.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';
import { type RedisServer, redisAvailable, startRedis } from './redis-server.ts';

// sma-cross over the bundled sample (SPY, AAPL, IBM daily, 1998-2021): 16 runs of about 0.1 s each on one core,
// in jobs of several runs (--batch), so that a job lasts long enough for a kill or a restart to land inside the sweep.
const SWEEP = ['--strategy', 'sma-cross', '--grid', '{"fast":[3,5,8,13],"slow":[21,34,55,89]}', '--symbols', 'SPY,AAPL,IBM'];
const RUNS = 16;
// Columns that may differ between two correct sweeps of the same grid (how long a run took, where it ran):
// sweep_results has none today, so every column is compared, the sweep id too (the same sweep has the same id,
// local or queued). Name any such column added later here.
const NOT_COMPARED = new Set<string>();
const LOCK_MS = '1500';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-faults-'));
const children = new Set<ChildProcess>();

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** `npm run NAME -- ARGS` as a child process (node scripts/launch.mjs), its output collected. */
function start(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/launch.mjs'), name, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ? null : code);
    }),
  );
  return { child, exited, output: () => out };
}

const worker = (url: string) => start('worker', ['--queue', url, '--concurrency', '1', '--lock-ms', LOCK_MS]);

/** Polls `probe` until it returns a value (not undefined); the error names what was awaited and the processes' output. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, procs: Proc[], timeoutMs = 45_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${procs.map((p) => p.output()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The sweep's exit code once it has printed its summary ("N runs in S s") and exited: a submitter that prints its
 * summary and stays (a Redis connection left open) fails here with that said.
 */
async function finished(sweep: Proc, others: Proc[]): Promise<number | null> {
  await until(
    'the sweep to print its summary',
    async () => (/^\d+ runs in [\d.]+ s/m.test(sweep.output()) || sweep.child.exitCode !== null ? true : undefined),
    [sweep, ...others],
    90_000,
  );
  const code = await Promise.race([sweep.exited, new Promise<'stayed'>((r) => setTimeout(() => r('stayed'), 20_000))]);
  if (code === 'stayed') throw new Error(`the sweep printed its summary but did not exit within 20 s (a connection left open?); output:\n${sweep.output()}`);
  return code;
}

/** BullMQ's keys, whatever the queue's prefix and name: `<prefix>:<queue>:active` lists, `...:events` streams. */
async function keysEnding(redis: Redis, suffix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*:${suffix}`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function activeJobs(redis: Redis): Promise<string[]> {
  const ids: string[] = [];
  for (const k of await keysEnding(redis, 'active')) if ((await redis.type(k)) === 'list') ids.push(...(await redis.lrange(k, 0, -1)));
  return ids;
}

/** Every event BullMQ wrote to the queues' streams (`completed`, `stalled`, ...) with its jobId. */
async function events(redis: Redis): Promise<{ event: string; jobId: string; queue: string }[]> {
  const out: { event: string; jobId: string; queue: string }[] = [];
  for (const k of await keysEnding(redis, 'events')) {
    if ((await redis.type(k)) !== 'stream') continue;
    for (const [, fields] of await redis.xrange(k, '-', '+')) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      out.push({ event: f.event, jobId: f.jobId, queue: k.slice(0, -':events'.length) });
    }
  }
  return out;
}

/** sweep_results as comparable rows (in idx, window, phase order), and how many rows each idx has. */
async function results(db: string): Promise<{ rows: string[]; perIdx: Map<number, number>; sweeps: number }> {
  const s = await openStore(db);
  try {
    const all = (await s.conn.runAndReadAll('SELECT * FROM sweep_results ORDER BY idx, window_index, phase')).getRowObjectsJS();
    const rows = all.map((r) =>
      JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !NOT_COMPARED.has(k))), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    const perIdx = new Map<number, number>();
    for (const r of all) perIdx.set(Number(r.idx), (perIdx.get(Number(r.idx)) ?? 0) + 1);
    return { rows, perIdx, sweeps: new Set(all.map((r) => r.sweep_id)).size };
  } finally {
    s.close();
  }
}

describe.runIf(redisAvailable())('the queue’s faults (real redis-server, worker and submitter processes)', () => {
  let local: Awaited<ReturnType<typeof results>>;
  let redis: RedisServer | undefined;
  let client: Redis | undefined;

  beforeAll(async () => {
    const db = path.join(tmp, 'local.duckdb');
    const r = runCli('sweep.ts', [...SWEEP, '--workers', '2', '--db', db]);
    expect(r.stderr + r.stdout).toMatch(/16 runs in/);
    expect(r.code).toBe(0);
    local = await results(db);
    expect(local.rows.length).toBe(RUNS);
  }, 120_000);

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    client?.disconnect();
    client = undefined;
    await redis?.stop();
    redis = undefined;
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a worker SIGKILLed mid-job leaves its job to another worker (stalled), and every run is stored once', async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const db = path.join(tmp, 'killed.duckdb');
    // only worker A runs at first, so the first job taken is A's
    const a = worker(redis.url);
    const sweep = start('sweep', [...SWEEP, '--queue', redis.url, '--batch', '8', '--db', db]);
    const taken = await until('worker A to take a job', async () => ((await activeJobs(client!)).length > 0 ? true : undefined), [a, sweep]);
    expect(taken).toBe(true);
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();
    // what A held when it died: still in BullMQ's active list, its lock left to expire (A's first job loads the
    // bars and computes 8 runs, about a second; had A finished it before the kill, the list would be empty and the
    // test would say so here)
    const orphaned = await activeJobs(client);
    expect(orphaned.length, `worker A finished its job before the kill; output:\n${a.output()}`).toBe(1);

    const b = worker(redis.url);
    expect(await finished(sweep, [b])).toBe(0);
    const ev = await events(client);
    // BullMQ's stalled check (in worker B) found A's job without its lock, moved it back to wait, and B ran it
    expect(ev.filter((e) => e.event === 'stalled').map((e) => e.jobId)).toEqual(orphaned);
    expect(ev.some((e) => e.event === 'completed' && e.jobId === orphaned[0])).toBe(true);
    expect(ev.filter((e) => e.event === 'failed')).toEqual([]);

    const got = await results(db);
    expect(got.sweeps).toBe(1);
    expect([...got.perIdx.entries()].sort((x, y) => x[0] - y[0])).toEqual(Array.from({ length: RUNS }, (_, i) => [i, 1]));
    expect(got.rows).toEqual(local.rows);
  }, 120_000);

  it('a Redis restart (appendonly) mid-sweep loses no stored result, and the sweep completes with every run once', async () => {
    redis = await startRedis({ appendonly: true });
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {}); // the restart drops every connection; ioredis reconnects
    const db = path.join(tmp, 'restarted.duckdb');
    const w = worker(redis.url);
    // 8 jobs of 2 runs: the restart lands after the first is done and before the last
    const sweep = start('sweep', [...SWEEP, '--queue', redis.url, '--batch', '2', '--db', db]);
    const done = async () => (await events(client!)).filter((e) => e.event === 'completed').map((e) => e.jobId);
    const before = await until('a first job to complete', async () => ((await done()).length > 0 ? await done() : undefined), [w, sweep]);
    await redis.restart();
    // the AOF kept what had completed before the restart (BullMQ's state, from which the submitter stores)
    const after = await done();
    for (const id of before) expect(after).toContain(id);
    expect(after.length, 'the sweep finished before the restart').toBeLessThan(RUNS / 2);

    expect(await finished(sweep, [w])).toBe(0);
    // nothing had to be submitted again: Redis came back with every job (the submitter re-adds jobs Redis lost)
    expect(sweep.output()).not.toMatch(/lost \d+ of the sweep's jobs/);
    const got = await results(db);
    expect(got.sweeps).toBe(1);
    expect([...got.perIdx.entries()].sort((x, y) => x[0] - y[0])).toEqual(Array.from({ length: RUNS }, (_, i) => [i, 1]));
    expect(got.rows).toEqual(local.rows);
  }, 120_000);
});
