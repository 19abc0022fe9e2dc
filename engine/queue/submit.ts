// The submitting side of a queued sweep: adds the sweep as a BullMQ flow, collects the results as they arrive and
// hands them to one writer (the caller's `store`, the DuckDB file), and cancels.
//
// Collection polls the state of each pending job by its id rather than listening to QueueEvents alone: events are
// a Redis stream that a restart without persistence loses (and a submitter that reconnects misses those sent
// while it was away), whereas a job's state can be asked again at any time. A job Redis no longer knows
// ('unknown': Redis restarted without its data) whose results are not stored is added again under the same id;
// adding a flow whose parent and some children exist adds only the missing children (BullMQ keeps existing ids),
// which also makes a resubmission of the same sweep idempotent.
import { FlowProducer, Job, Queue, type JobsOptions } from 'bullmq';
import type { BacktestConfig } from '../run/backtest.ts';
import type { SweepResult } from '../research/sweep.ts';
import {
  batches,
  batchJobId,
  batchOf,
  decodeReport,
  decodeResult,
  PAYLOAD_VERSION,
  PREFIX,
  RUNS_QUEUE,
  SWEEP_QUEUE,
  type BatchJob,
  type BatchOutput,
  type DataRef,
  type ModelRef,
  type RunFailure,
  type RunSpec,
  type SweepJob,
} from './jobs.ts';
import { reachRedis } from './reach.ts';
import { connectionOptions, redactError, type RedisTarget } from './redis-url.ts';

/** Retries of a job that threw (not an UnrecoverableError), after 1 s, 2 s: a worker's transient trouble. */
const ATTEMPTS = 3;
/** Pending jobs whose state one poll asks at once (each is one small Lua call, pipelined). */
const POLL_CHUNK = 500;

export interface QueuedSweep {
  target: RedisTarget;
  sweepId: string;
  config: BacktestConfig;
  runs: RunSpec[];
  data: DataRef;
  models: ModelRef[];
  /** runs per job */
  batch: number;
  /**
   * The one writer: stores results as they arrive (idempotent by run index); called one call at a time. A result
   * whose run asked for its report (RunSpec.report) carries it (SweepResult.report, the report.json text); the
   * outcome's results no longer do.
   */
  store(results: SweepResult[]): Promise<void>;
  /** the flow is on Redis: `jobs` batch jobs wait for workers */
  onSubmitted?(jobs: number): void;
  onProgress?(p: { stored: number; failed: number; total: number }): void;
  /** each failed run, once */
  onFailure?(f: RunFailure): void;
  /** a warning (Redis unreachable, no worker yet), each distinct one once */
  onWarning?(message: string): void;
  /** aborting cancels the sweep: its waiting jobs are removed, the results already in are stored */
  signal?: AbortSignal;
  /** between polls (default 200 ms) */
  pollMs?: number;
}

export interface CancelOutcome {
  /** Ctrl-C here (the signal), or `npm run sweep -- --cancel ID` elsewhere (then `removed` and `running` are that command's to say: 0 here) */
  by: 'signal' | 'cancel';
  /** waiting jobs removed */
  removed: number;
  /** jobs a worker had started: they finish there (a resubmission stores their results) */
  running: number;
}

export interface QueuedOutcome {
  /** in run order */
  results: SweepResult[];
  failures: RunFailure[];
  /** set when the sweep was cancelled (signal) */
  cancelled?: CancelOutcome;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The flow of a sweep with only the batches `only` (all of them by default): what is added, and added again. */
function flowOf(s: QueuedSweep, chunks: RunSpec[][], only?: number[]) {
  const sweep: SweepJob = { v: PAYLOAD_VERSION, sweepId: s.sweepId, batches: chunks.length, runs: s.runs.length };
  const opts = (b: number): JobsOptions => ({
    jobId: batchJobId(s.sweepId, b),
    attempts: ATTEMPTS,
    backoff: { type: 'exponential', delay: 1000 },
    // a failed batch does not hold its parent: the parent only groups the sweep, nothing processes it
    ignoreDependencyOnFailure: true,
  });
  return {
    name: 'sweep',
    queueName: SWEEP_QUEUE,
    prefix: PREFIX,
    data: sweep,
    opts: { jobId: s.sweepId },
    children: (only ?? chunks.map((_, b) => b)).map((b) => {
      const data: BatchJob = { v: PAYLOAD_VERSION, sweepId: s.sweepId, batch: b, config: s.config, data: s.data, models: s.models, runs: chunks[b] };
      return { name: 'batch', queueName: RUNS_QUEUE, prefix: PREFIX, data, opts: opts(b) };
    }),
  };
}

/**
 * A completed job's results, checked against the runs it was given (a worker of another version could return
 * something else), each with its report when its run asked for one; a string says what is wrong with them.
 */
async function batchResults(value: unknown, runs: RunSpec[]): Promise<SweepResult[] | string> {
  let out = value as BatchOutput | string | undefined;
  try {
    if (typeof out === 'string') out = JSON.parse(out) as BatchOutput;
  } catch {
    return 'the job returned no JSON: a worker of another version?';
  }
  if (!out || !Array.isArray(out.results)) return 'the job returned no results: a worker of another version?';
  const results = out.results.map(decodeResult);
  const got = results.map((r) => r.index).join(',');
  const want = runs.map((r) => r.index).join(',');
  if (got !== want) return `the job returned runs [${got}] for runs [${want}]: a worker of another version?`;
  const asked = runs.filter((r) => r.report !== undefined).map((r) => r.index);
  const reports = new Map((out.reports ?? []).map((w) => [w.index, w]));
  const missing = asked.filter((i) => !reports.has(i));
  if (missing.length > 0) return `the job returned no report for runs [${missing.join(',')}], which asked for one: a worker of another version?`;
  for (const r of results) {
    const w = reports.get(r.index);
    if (w === undefined) continue;
    try {
      r.report = await decodeReport(w);
    } catch (e) {
      return `the report of run ${r.index} does not decompress (${(e as Error).message}): a worker of another version?`;
    }
  }
  return results;
}

/** The writer failed (not Redis): carried out of the poll loop, which waits out Redis's failures only. */
class StoreFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('the results could not be stored');
  }
}

/** Submits a sweep and collects its results (see the file's comment). */
export async function runQueuedSweep(s: QueuedSweep): Promise<QueuedOutcome> {
  if (s.runs.length === 0) return { results: [], failures: [] };
  await reachRedis(s.target);
  const connection = connectionOptions(s.target);
  const flow = new FlowProducer({ connection, prefix: PREFIX });
  const runsQueue = new Queue<BatchJob, BatchOutput>(RUNS_QUEUE, { connection, prefix: PREFIX });
  const sweepQueue = new Queue<SweepJob>(SWEEP_QUEUE, { connection, prefix: PREFIX });
  const warned = new Set<string>();
  const warn = (m: string) => {
    if (!warned.has(m)) s.onWarning?.(m);
    warned.add(m);
  };
  for (const emitter of [flow, runsQueue, sweepQueue] as { on(e: 'error', f: (e: Error) => void): unknown }[])
    emitter.on('error', (e) => warn(`Redis at ${s.target.redacted}: ${redactError(e, s.target).message} (retrying)`));
  const chunks = batches(s.runs, s.batch);
  const results = new Map<number, SweepResult>();
  const failures: RunFailure[] = [];
  const pending = new Set(chunks.map((_, b) => b));
  const progress = () => s.onProgress?.({ stored: results.size, failed: failures.length, total: s.runs.length });
  let cancelledElsewhere = false;
  try {
    // a sweep cancelled before and submitted again: its parent is reused (same id), without the mark
    const before = await Job.fromId<SweepJob>(sweepQueue, s.sweepId);
    if (before?.data.cancelled) await before.updateData({ ...before.data, cancelled: false });
    await flow.add(flowOf(s, chunks));
    s.onSubmitted?.(chunks.length);
    progress();
    let idle = 0;
    while (pending.size > 0 && !s.signal?.aborted && !cancelledElsewhere) {
      let changed = false;
      try {
        changed = await poll();
      } catch (e) {
        // the writer's failure ends the sweep (its jobs stay: a resubmission stores them); Redis's is waited out
        if (e instanceof StoreFailure) throw e.cause;
        warn(`Redis at ${s.target.redacted}: ${redactError(e, s.target).message} (retrying)`);
      }
      if (changed) progress();
      idle = changed ? 0 : idle + 1;
      // no worker after 10 s of nothing: say so once (the sweep waits for one)
      if (idle * (s.pollMs ?? 200) >= 10_000 && (await runsQueue.getWorkersCount().catch(() => 1)) === 0)
        warn(`no worker is connected to ${s.target.redacted}: start one with npm run worker -- --queue ${s.target.redacted}`);
      if (pending.size > 0) await sleep(s.pollMs ?? 200, s.signal);
    }
    if (cancelledElsewhere) return { results: ordered(), failures, cancelled: { by: 'cancel', removed: 0, running: 0 } };
    if (s.signal?.aborted) {
      const cancelled = await cancelSweep(s.target, s.sweepId);
      // what finished before the cancel is stored
      await poll().catch(() => false);
      return { results: ordered(), failures, cancelled: { ...cancelled, by: 'signal' } };
    }
    // every result is stored: the sweep's jobs are no longer needed
    await sweepQueue.remove(s.sweepId, { removeChildren: true }).catch(() => undefined);
    return { results: ordered(), failures };
  } finally {
    await Promise.allSettled([flow.close(), runsQueue.close(), sweepQueue.close()]);
  }

  function ordered() {
    return [...results.values()].sort((a, b) => a.index - b.index);
  }

  /** One look at every pending job; true when some finished. */
  async function poll(): Promise<boolean> {
    const ids = [...pending];
    const done: SweepResult[] = [];
    const finished: number[] = [];
    const lost: number[] = [];
    for (let i = 0; i < ids.length; i += POLL_CHUNK) {
      const part = ids.slice(i, i + POLL_CHUNK);
      const states = await Promise.all(part.map((b) => runsQueue.getJobState(batchJobId(s.sweepId, b))));
      await Promise.all(
        part.map(async (b, k) => {
          const state = states[k];
          if (state === 'unknown') return void lost.push(b);
          if (state !== 'completed' && state !== 'failed') return;
          const job = await Job.fromId<BatchJob, BatchOutput>(runsQueue, batchJobId(s.sweepId, b));
          if (!job) return void lost.push(b);
          const returned = state === 'completed' ? await batchResults(job.returnvalue, chunks[b]) : undefined;
          if (Array.isArray(returned)) done.push(...returned);
          else {
            const error = returned ?? (job.failedReason || 'failed (no reason given)');
            for (const r of chunks[b]) {
              const f = { index: r.index, params: r.params, error };
              failures.push(f);
              s.onFailure?.(f);
            }
          }
          finished.push(b);
        }),
      );
    }
    // stored before they leave `pending`: a crash between the two re-reads them (stored twice is stored once)
    if (done.length > 0) await s.store(done).catch((e) => Promise.reject(new StoreFailure(e)));
    // the reports are the writer's: the outcome keeps the metrics only (a sweep's reports are not all held at once)
    for (const { report: _report, ...r } of done) results.set(r.index, r);
    for (const b of finished) pending.delete(b);
    // cancelled by `--cancel` (the parent carries the mark): the jobs it removed are not lost ones
    const parent = await Job.fromId<SweepJob>(sweepQueue, s.sweepId);
    if (parent?.data.cancelled) {
      cancelledElsewhere = true;
      return finished.length > 0;
    }
    if (lost.length > 0 && !s.signal?.aborted) {
      warn(`Redis at ${s.target.redacted} lost ${lost.length} of the sweep's jobs (a restart without its data?): adding them again`);
      await flow.add(flowOf(s, chunks, lost));
    }
    return finished.length > 0;
  }
}

/**
 * Removes a sweep's waiting jobs (`npm run sweep -- --cancel ID`, or Ctrl-C in the submitter). Jobs a worker has
 * started finish there; they, their finished siblings and the parent (marked cancelled) stay, so that a
 * resubmission of the sweep stores what they computed without running it again.
 */
export async function cancelSweep(target: RedisTarget, sweepId: string): Promise<Omit<CancelOutcome, 'by'>> {
  await reachRedis(target);
  const connection = connectionOptions(target);
  const runsQueue = new Queue(RUNS_QUEUE, { connection, prefix: PREFIX });
  const sweepQueue = new Queue(SWEEP_QUEUE, { connection, prefix: PREFIX });
  try {
    const parent = await Job.fromId<SweepJob>(sweepQueue, sweepId);
    // marked first: the sweep's submitter, if it runs, stops instead of adding the removed jobs again
    if (parent) await parent.updateData({ ...parent.data, cancelled: true });
    let ids: string[];
    if (parent) ids = Array.from({ length: parent.data.batches }, (_, b) => batchJobId(sweepId, b));
    else {
      // the parent is gone (Redis lost it): find the sweep's jobs among the waiting ones by their ids
      ids = [];
      for (let start = 0; ; start += 1000) {
        const page = await runsQueue.getJobs(['waiting', 'delayed', 'prioritized'], start, start + 999);
        ids.push(...page.flatMap((j) => (j.id !== undefined && batchOf(sweepId, j.id) !== undefined ? [j.id] : [])));
        if (page.length < 1000) break;
      }
    }
    let removed = 0;
    let running = 0;
    for (const id of ids) {
      const state = await runsQueue.getJobState(id);
      if (state === 'active') running++;
      else if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        // a worker may take it between the two calls: then it is running, not removed
        const gone = await runsQueue.remove(id).catch(() => 0);
        if (gone === 1) removed++;
        else if ((await runsQueue.getJobState(id)) === 'active') running++;
      }
    }
    return { removed, running };
  } finally {
    await Promise.allSettled([runsQueue.close(), sweepQueue.close()]);
  }
}
