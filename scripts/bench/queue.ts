// Queue figures (issue 16): runs/s of one sweep on local threads (1 and 2) and through Redis with 1, 2 and 4
// `npm run worker` processes on this machine, the queue's overhead per job and the batch that hides it.
// Local threads: the sweep in this process on a warm piscina pool (what `npm run sweep` does after its start-up).
// Queue: real `npm run sweep -- --queue` children against a real redis-server this module starts (see
// ./redis-server.ts) and warm worker processes (one untimed sweep first: each loads the bars once and keeps them);
// the figure is the submitter's own "N runs in S s" (from submitting the flow to the last result stored, its
// start-up and bar loading excluded). Medians of `runs` sweeps. Each sweep differs from the last by one dollar of
// starting cash, so that it has its own sweep id and its jobs are new ones (ids are per sweep).
// The overhead per job is the slope between batch 1 and batch 16 on one worker over 144 near-empty runs (one month
// of SPY): the same runs as 144 jobs and as 9, so the runs' compute and the submitter's fixed costs (start, its
// 200 ms poll) cancel: (T1 - T16) / (144 - 9). The same slope over the real runs (36 jobs vs 3) says what a job
// cost that sweep, the wait for a CPU between jobs included (large on a busy machine); the batch that hides the
// overhead is computed from the larger of the two.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../../engine/paths.ts';
import { runSweep, shareSeries, startSweepPool } from '../../engine/research/sweep.ts';
import type { BacktestConfig } from '../../engine/run/backtest.ts';
import { parseFlags } from '../lib/flags.ts';
import { loadRunSeries } from '../lib/run-data.ts';
import { runSettingsFlags } from '../lib/run-options.ts';
import { SWEEP_WORKER } from '../lib/sweep-worker.ts';
import { FLAGS as SWEEP_FLAGS } from '../sweep.ts';
import { startRedis } from './redis-server.ts';

/** sma-cross 6x6 over SPY, AAPL and IBM daily from 2012 (the sample): 36 runs of some tens of ms each. */
const GRID = '{"fast":[3,5,8,10,13,20],"slow":[30,40,55,70,89,120]}';
const SWEEP = ['--strategy', 'sma-cross', '--grid', GRID, '--symbols', 'SPY,AAPL,IBM', '--from', '2012-01-01'];
const RUNS_PER_SWEEP = 36;
/** 12x12 sma-cross over one month of SPY: 144 runs with next to nothing to compute, for the overhead per job. */
const EMPTY = [
  '--strategy',
  'sma-cross',
  '--grid',
  JSON.stringify({ fast: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], slow: [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41] }),
  '--symbols',
  'SPY',
  '--from',
  '2020-11-01',
  '--to',
  '2020-11-30',
];
const EMPTY_RUNS = 144;
const WORKERS = [1, 2, 4];
const BATCHES = [1, 4, 16];
/** The batch "hides" the overhead when the overhead is under this share of the batch's compute. */
const HIDDEN_SHARE = 0.1;

export interface QueueFigures {
  cores: number;
  /** the 1-minute load average at the start and at the end: figures taken on a busy machine say little */
  loadAvg: [number, number];
  runsPerSweep: number;
  sweep: string;
  /** in process on a warm pool of N threads, runs/s */
  localRunsPerSec: { threads: number; runsPerSec: number }[];
  /** through Redis with N worker processes of concurrency 1, batch 4, runs/s */
  queueRunsPerSec: { workers: number; batch: number; runsPerSec: number }[];
  /** through Redis with 1 worker process at batch 1, 4 and 16, runs/s */
  batchRunsPerSec: { workers: number; batch: number; runsPerSec: number }[];
  /** a run in process (1 thread), ms */
  runMs: number;
  /** what a job costs beyond its runs (1 worker, near-empty runs: the slope between batch 1 and batch 16), ms */
  overheadMsPerJob: number;
  /** the same slope over the real runs (batch 1 vs 16, 36 runs): what a job cost this sweep, waits for the CPU included, ms */
  realOverheadMsPerJob: number;
  /** the smallest batch whose overhead (the larger of the two) is under 10% of its runs' compute: ceil(overhead / (0.1 x runMs)) */
  hidingBatch: number;
}

interface Sweep {
  runs: number;
  seconds: number;
}

let cashStep = 0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function npm(name: string, args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'scripts/launch.mjs'), name, ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
  return { child, done };
}

async function sweep(dir: string, args: string[]): Promise<Sweep> {
  const k = cashStep++;
  const { done } = npm('sweep', [...args, '--cash', String(100_000 + k), '--db', path.join(dir, `sweep-${k}.duckdb`)]);
  const { code, out } = await done;
  if (code !== 0) throw new Error(`npm run sweep -- ${args.join(' ')} exited ${code}:\n${out.trim().split('\n').slice(-20).join('\n')}`);
  const m = /^(\d+) runs in ([\d.]+) s/m.exec(out);
  if (!m) throw new Error(`npm run sweep -- ${args.join(' ')}: no "N runs in S s" line in its output:\n${out}`);
  return { runs: Number(m[1]), seconds: Number(m[2]) };
}

/** Median seconds of `runs` queued sweeps (the workers already warm). */
async function timedQueued(
  dir: string,
  args: string[],
  runs: number,
  label: string,
  progress?: (s: string) => void,
  perSweep = RUNS_PER_SWEEP,
): Promise<number> {
  const secs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await sweep(dir, args);
    if (s.runs !== perSweep) throw new Error(`${label}: ${s.runs} runs, expected ${perSweep}`);
    secs.push(s.seconds);
  }
  const m = median(secs);
  progress?.(`  ${label}: ${(perSweep / m).toFixed(1)} runs/s (${secs.map((x) => (perSweep / x).toFixed(1)).join(', ')})`);
  return m;
}

/** The sweep in this process, as `npm run sweep` runs it after its start-up: its config from the same flags. */
async function localSweep() {
  const { values: v } = parseFlags(SWEEP_FLAGS, { args: SWEEP });
  const { commission, slippage, sizing, risk } = runSettingsFlags(v);
  const loaded = await loadRunSeries({ data: v.data, symbols: v.symbols, interval: v.interval, from: v.from, to: v.to, tz: v.tz, prices: v.prices });
  const series = shareSeries(loaded.series);
  const config: BacktestConfig = {
    strategy: v.strategy,
    params: {},
    symbols: series.map((x) => x.symbol),
    interval: v.interval,
    from: v.from,
    to: v.to,
    cash: v.cash,
    commission,
    slippage,
    sizing,
    risk,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: v.tz,
    session: v.session,
    prices: loaded.prices,
    rfAnnual: 0,
  };
  return { config, series, grid: JSON.parse(v.grid!) as Record<string, unknown[]> };
}

/** Median runs/s on a warm pool of `threads` (one untimed pass first: the threads load their modules). */
async function timedLocal(threads: number, runs: number, progress?: (s: string) => void): Promise<number> {
  const { config, series, grid } = await localSweep();
  const pool = startSweepPool(SWEEP_WORKER, threads);
  try {
    await runSweep({ config, grid, series, worker: pool });
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await runSweep({ config, grid, series, worker: pool });
      rates.push(r.results.length / ((performance.now() - t0) / 1000));
    }
    const m = median(rates);
    progress?.(`  local, ${threads} thread${threads > 1 ? 's' : ''}: ${m.toFixed(1)} runs/s (${rates.map((x) => x.toFixed(1)).join(', ')})`);
    return m;
  } finally {
    await pool.destroy();
  }
}

/** Idle BullMQ workers wait for a job in BZPOPMIN on their own connection: one such client per ready worker. */
async function waitForIdleWorkers(url: string, n: number, procs: { done: Promise<{ code: number | null; out: string }> }[]): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  let exited: { code: number | null; out: string } | undefined;
  for (const p of procs) void p.done.then((r) => (exited ??= r));
  try {
    for (let i = 0; i < 1200; i++) {
      if (exited) throw new Error(`a worker exited (${exited.code}) before taking jobs:\n${exited.out}`);
      const list = (await redis.call('CLIENT', 'LIST')) as string;
      if (list.split('\n').filter((l) => / cmd=bzpopmin /.test(l)).length >= n) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${n} workers did not become idle within 60 s`);
  } finally {
    redis.disconnect();
  }
}

export async function benchQueue(o: { runs: number; progress?: (s: string) => void }): Promise<QueueFigures> {
  const say = o.progress;
  const loadAtStart = os.loadavg()[0]!;
  const localRunsPerSec: QueueFigures['localRunsPerSec'] = [];
  for (const threads of [1, 2]) localRunsPerSec.push({ threads, runsPerSec: await timedLocal(threads, o.runs, say) });
  const runMs = 1000 / localRunsPerSec[0]!.runsPerSec;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-bench-queue-'));
  const redis = await startRedis();
  const q = ['--queue', redis.url];
  let workers: ReturnType<typeof npm>[] = [];
  const stopWorkers = async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
    workers = [];
  };
  try {
    const queueRunsPerSec: QueueFigures['queueRunsPerSec'] = [];
    const batchRunsPerSec: QueueFigures['batchRunsPerSec'] = [];
    const emptySeconds = new Map<number, number>();
    const realSeconds = new Map<number, number>();
    for (const n of WORKERS) {
      await stopWorkers();
      workers = Array.from({ length: n }, () => npm('worker', ['--queue', redis.url, '--concurrency', '1']));
      await waitForIdleWorkers(redis.url, n, workers);
      // untimed: every worker loads the bars (batch 1, so that each takes a job)
      await sweep(dir, [...SWEEP, ...q, '--batch', '1']);
      for (const batch of n === 1 ? BATCHES : [4]) {
        const t = await timedQueued(dir, [...SWEEP, ...q, '--batch', String(batch)], o.runs, `${n} worker${n > 1 ? 's' : ''}, batch ${batch}`, say);
        if (n === 1) {
          realSeconds.set(batch, t);
          batchRunsPerSec.push({ workers: 1, batch, runsPerSec: RUNS_PER_SWEEP / t });
        }
        if (batch === 4) queueRunsPerSec.push({ workers: n, batch, runsPerSec: RUNS_PER_SWEEP / t });
      }
      if (n === 1) {
        await sweep(dir, [...EMPTY, ...q, '--batch', '16']); // the worker loads the month of SPY
        for (const batch of [1, 16])
          emptySeconds.set(
            batch,
            await timedQueued(
              dir,
              [...EMPTY, ...q, '--batch', String(batch)],
              o.runs,
              `1 worker, ${EMPTY_RUNS} near-empty runs, batch ${batch}`,
              say,
              EMPTY_RUNS,
            ),
          );
      }
    }
    // (T1 - T16) / (jobs at batch 1 - jobs at batch 16)
    const slope = (secs: Map<number, number>, runs: number) => Math.max(0, ((secs.get(1)! - secs.get(16)!) * 1000) / (runs - Math.ceil(runs / 16)));
    const overheadMsPerJob = slope(emptySeconds, EMPTY_RUNS);
    const realOverheadMsPerJob = slope(realSeconds, RUNS_PER_SWEEP);
    return {
      cores: os.availableParallelism(),
      loadAvg: [loadAtStart, os.loadavg()[0]!],
      runsPerSweep: RUNS_PER_SWEEP,
      sweep: `sma-cross ${GRID} over SPY, AAPL, IBM daily from 2012 (the bundled sample)`,
      localRunsPerSec,
      queueRunsPerSec,
      batchRunsPerSec,
      runMs,
      overheadMsPerJob,
      realOverheadMsPerJob,
      hidingBatch: Math.max(1, Math.ceil(Math.max(overheadMsPerJob, realOverheadMsPerJob) / (HIDDEN_SHARE * runMs))),
    };
  } finally {
    await stopWorkers();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as the lines `npm run bench -- --only queue` prints. */
export function describeQueue(f: QueueFigures): string[] {
  const r = (x: number) => x.toFixed(1);
  return [
    `queue: ${f.sweep}, ${f.runsPerSweep} runs a sweep, ${f.cores} cores, load average ${f.loadAvg[0].toFixed(2)} at the start, ${f.loadAvg[1].toFixed(2)} at the end${f.loadAvg[0] > f.cores || f.loadAvg[1] > f.cores ? ' (a busy machine: the scaling figures are not worth much)' : ''}`,
    `queue: local threads (warm pool) ${f.localRunsPerSec.map((x) => `${x.threads}: ${r(x.runsPerSec)}`).join(', ')} runs/s; through Redis, worker processes of concurrency 1 (batch 4) ${f.queueRunsPerSec.map((x) => `${x.workers}: ${r(x.runsPerSec)}`).join(', ')} runs/s`,
    `queue: 1 worker by batch size ${f.batchRunsPerSec.map((x) => `${x.batch}: ${r(x.runsPerSec)}`).join(', ')} runs/s`,
    `queue: overhead per job ${r(f.overheadMsPerJob)} ms (1 worker, ${EMPTY_RUNS} near-empty runs at batch 1 vs 16), ${r(f.realOverheadMsPerJob)} ms over the real runs (waits for the CPU included); a run takes ${r(f.runMs)} ms in process, so a batch of ${f.hidingBatch} or more keeps the overhead under ${HIDDEN_SHARE * 100}% of a job's compute`,
  ];
}
