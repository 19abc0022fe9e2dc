// A sweep worker: takes batch jobs from RUNS_QUEUE and runs them on its own threads, over its own copy of the data.
//
// Each job names the data (path, query, content hash) and the models (card sha256); the worker loads the bars once
// per data key (kept for the next jobs), and refuses a copy whose hash differs, or a model whose card differs, with
// both hashes and the path: that failure is the same however often it is retried, so it is an UnrecoverableError
// (BullMQ fails the job at once). So is a run that throws (bad params: the engine is deterministic, so a run that
// failed once fails again). Anything else (Redis gone, the process killed) is left to BullMQ: `attempts` retries a
// thrown error after a backoff, and a job whose worker died (no lock renewal) is found stalled by any other worker
// after `lockMs` and run again.
//
// Runs go to a piscina pool (the same worker module as a local sweep: it binds the strategy registry and model
// signals, which engine/ code may not import) so the event loop stays free to renew the jobs' locks while a
// long run computes: a run on the main thread would block renewal and get its job taken as stalled.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { readModelCard } from '../ml/model-card.ts';
import { modelDir } from '../ml/model-signals.ts';
import { dataHash } from '../research/promotion.ts';
import { shareSeries, startSweepPool, type SweepPool, type SweepTask } from '../research/sweep.ts';
import { loadRunSeries } from '../run/run-data.ts';
import type { BarSeries } from '../core/types.ts';
import { encodeReport, encodeResult, PAYLOAD_VERSION, PREFIX, RUNS_QUEUE, type BatchJob, type BatchOutput, type DataRef } from './jobs.ts';
import { connectionOptions, redactError, type RedisTarget } from './redis-url.ts';

/** Data keys whose bars a worker keeps loaded (a sweep reads one; a few sweeps in turn share a worker). */
const CACHED_DATA = 4;

export interface SweepWorkerOptions {
  target: RedisTarget;
  /** URL of the module a pool thread runs a task with (scripts/lib/sweep-worker.ts) */
  workerModule: string;
  /** jobs at once, and pool threads (default 1) */
  concurrency?: number;
  /** read the bars from this path instead of the one each job names (the data's place on this machine) */
  data?: string;
  /** BullMQ's lockDuration: a job whose worker stops renewing its lock for this long is run again elsewhere (default 30 s) */
  lockMs?: number;
  /** a line for each job, and what went wrong (never the password) */
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** resolves once connected to Redis and taking jobs */
  ready(): Promise<void>;
  /** finishes the jobs under way (their results are returned), takes no more, closes; `force`: abandons them (they stall and are retried elsewhere) */
  close(force?: boolean): Promise<void>;
  /** jobs completed and failed by this worker */
  readonly counts: { completed: number; failed: number };
}

/** The lock and stalled-job settings: a dead worker's job is back in `wait` within about 2 x lockMs. */
export function stallSettings(lockMs = 30_000) {
  return { lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 3 };
}

export function startSweepWorker(o: SweepWorkerOptions): RunningWorker {
  const concurrency = o.concurrency ?? 1;
  const log = o.log ?? (() => undefined);
  const pool: SweepPool = startSweepPool(o.workerModule, concurrency);
  const loaded = new Map<string, Promise<{ series: BarSeries[]; hash: string; path: string }>>();
  const models = new Map<string, string>();
  const counts = { completed: 0, failed: 0 };

  const dataPath = (d: DataRef) => o.data ?? d.path;
  const load = (d: DataRef) => {
    const path = dataPath(d);
    const key = JSON.stringify([path ?? null, d.symbols, d.interval, d.from ?? null, d.to ?? null, d.tz, d.prices ?? null]);
    let p = loaded.get(key);
    if (!p) {
      p = loadRunSeries({ data: path, symbols: d.symbols, interval: d.interval, from: d.from, to: d.to, tz: d.tz, prices: d.prices }).then((r) => ({
        series: shareSeries(r.series),
        hash: dataHash(r.series),
        path: r.source,
      }));
      // a failed load is not kept: the next job tries again (a share that was not mounted yet)
      p.catch(() => loaded.delete(key));
      loaded.set(key, p);
      while (loaded.size > CACHED_DATA) loaded.delete(loaded.keys().next().value!);
    }
    return p;
  };

  const process = async (job: Job<BatchJob, BatchOutput>): Promise<BatchOutput> => {
    const j = job.data;
    if (j?.v !== PAYLOAD_VERSION)
      throw new UnrecoverableError(
        `job ${job.id}: payload version ${String(j?.v)}, this worker reads ${PAYLOAD_VERSION}: run the same version of tradebench on the submitter and the workers`,
      );
    let data;
    try {
      data = await load(j.data);
    } catch (e) {
      throw new UnrecoverableError(`job ${job.id}: cannot read the sweep's data on this worker: ${(e as Error).message}`);
    }
    if (data.hash !== j.data.hash)
      throw new UnrecoverableError(
        `job ${job.id}: the data at ${data.path} on this worker has hash ${data.hash}, the sweep's (${j.data.path ?? 'the bundled sample'} on the submitter) has ${j.data.hash}: a different copy; give this worker the same data (--data PATH), or resubmit from this copy`,
      );
    for (const m of j.models) {
      let sha = models.get(m.location);
      if (sha === undefined) {
        try {
          sha = readModelCard(modelDir(m.location)).sha256;
        } catch (e) {
          throw new UnrecoverableError(`job ${job.id}: model ${m.location} on this worker: ${(e as Error).message}`);
        }
        models.set(m.location, sha);
      }
      if (sha !== m.sha256)
        throw new UnrecoverableError(
          `job ${job.id}: model ${modelDir(m.location)} on this worker has card sha256 ${sha}, the sweep's has ${m.sha256}: a different model; copy the sweep's model folder here`,
        );
    }
    log(`job ${job.id}: ${j.runs.length} runs started${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
    const tasks: SweepTask[] = j.runs.map((r) => ({ ...r, config: j.config, series: data.series }));
    // each run on its own, so that a run's error names the run (the engine is deterministic: it would fail again)
    const results = await Promise.all(
      tasks.map((t) =>
        pool.run([t]).then(
          (r) => r[0],
          (e: Error) => {
            throw new UnrecoverableError(`run ${t.index} ${JSON.stringify(t.params)}: ${e.message}`);
          },
        ),
      ),
    );
    // the reports asked for (--reports) go back compressed beside the metrics; none asked, nothing extra
    const reports = await Promise.all(results.flatMap((r) => (r.report === undefined ? [] : [encodeReport(r.index, r.report)])));
    return { results: results.map(encodeResult), ...(reports.length > 0 ? { reports } : {}) };
  };

  const worker = new Worker<BatchJob, BatchOutput>(RUNS_QUEUE, process, {
    connection: connectionOptions(o.target),
    prefix: PREFIX,
    concurrency,
    ...stallSettings(o.lockMs),
    // finished jobs stay (BullMQ's default) until their sweep's submitter has stored them and removes the sweep
  });
  worker.on('completed', (job) => {
    counts.completed++;
    log(`job ${job.id}: ${job.data.runs.length} runs done`);
  });
  worker.on('failed', (job, e) => {
    counts.failed++;
    const final = e instanceof UnrecoverableError || e.name === 'UnrecoverableError' || !job || job.attemptsMade >= (job.opts.attempts ?? 1);
    log(
      `job ${job?.id ?? '?'} failed${final ? '' : ` (attempt ${job!.attemptsMade} of ${job!.opts.attempts}: BullMQ retries it)`}: ${redactError(e, o.target).message}`,
    );
  });
  let lastError = '';
  worker.on('error', (e) => {
    const m = redactError(e, o.target).message;
    if (m !== lastError) log(`queue error: ${m}`);
    lastError = m;
  });
  return {
    counts,
    ready: async () => {
      await worker.waitUntilReady();
    },
    async close(force = false) {
      await worker.close(force);
      await pool.destroy();
    },
  };
}
