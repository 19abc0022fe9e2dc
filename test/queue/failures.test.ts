// Runs that cannot succeed, and cancelling: a run with bad params and a worker with a different copy of the data
// are reported once each and never retried; --cancel and Ctrl-C remove a sweep's waiting jobs. Real redis-server,
// real worker processes (npm run worker), the real submitter where a flag is what is tested.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/data/store.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { PREFIX, RUNS_QUEUE, type RunFailure } from '../../engine/queue/jobs.ts';
import { connectionOptions, parseRedisUrl } from '../../engine/queue/redis-url.ts';
import { runQueuedSweep } from '../../engine/queue/submit.ts';
import { readModelCard } from '../../engine/ml/model-card.ts';
import { modelDir } from '../../engine/ml/model-signals.ts';
import { dataHash } from '../../engine/research/promotion.ts';
import { sweepTasks, type SweepResult } from '../../engine/research/sweep.ts';
import { loadRunSeries } from '../../engine/run/run-data.ts';
import { config } from '../engine/harness.ts';
import { ROOT } from '../cli/run-cli.ts';
import { launch, startWorker, sweepCli, sweepRows, waitFor } from './processes.ts';
import { redisAvailable, type RedisServer, startRedis } from './redis-server.ts';

const GRID = ['--strategy', 'sma-cross', '--grid', '{"fast":[5,10,20],"slow":[50,100]}', '--symbols', 'SPY,AAPL'];

describe.runIf(redisAvailable())('queued runs that fail, and cancelling', () => {
  let redis: RedisServer;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-failures-'));
  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitingJobs = async () => {
    const q = new Queue(RUNS_QUEUE, { connection: connectionOptions(parseRedisUrl(redis.url)), prefix: PREFIX });
    try {
      return (await q.getJobCounts('waiting')).waiting;
    } finally {
      await q.close();
    }
  };

  it('a run with bad params fails once, with its error, is not retried, and the good runs are stored', async () => {
    // the CLI refuses bad params before submitting: a sweep from another version (or the library) can still send them
    const loaded = await loadRunSeries({ data: path.join(ROOT, SAMPLE_DB_PATH), symbols: ['SPY', 'AAPL'], interval: '1d', tz: 'America/New_York' });
    const cfg = config({ strategy: 'sma-cross', symbols: ['SPY', 'AAPL'], sizing: { kind: 'percent', percent: 50 } });
    // fast 200 >= slow 50 breaks sma-cross's rule (fast < slow): run 1
    const { tasks } = sweepTasks({ config: cfg, grid: { fast: [5, 200, 20], slow: [50] }, series: loaded.series });
    const runs = tasks.map(({ config: _c, series: _s, ...r }) => r);
    const worker = await startWorker(redis.url, ['--concurrency', '2']);
    const stored: SweepResult[][] = [];
    const reported: RunFailure[] = [];
    try {
      const out = await runQueuedSweep({
        target: parseRedisUrl(redis.url),
        sweepId: 'bad-params',
        config: cfg,
        runs,
        data: {
          path: path.join(ROOT, SAMPLE_DB_PATH),
          symbols: ['SPY', 'AAPL'],
          interval: '1d',
          tz: 'America/New_York',
          hash: dataHash(loaded.series),
          bars: 0,
        },
        models: [],
        batch: 1,
        store: async (r) => void stored.push(r),
        onFailure: (f) => reported.push(f),
      });
      expect(out.results.map((r) => r.index)).toEqual([0, 2]);
      expect(
        stored
          .flat()
          .map((r) => r.index)
          .sort(),
      ).toEqual([0, 2]);
      expect(out.failures).toEqual([
        {
          index: 1,
          params: { fast: 200, slow: 50 },
          error: expect.stringMatching(/^run 1 \{"fast":200,"slow":50\}: .*fast \(200\) must be less than slow \(50\)/),
        },
      ]);
      expect(reported).toEqual(out.failures);
    } finally {
      await worker.stop();
    }
    // the worker ran the job once: one failure line, none saying BullMQ retries it
    expect([...worker.stderr().matchAll(/job bad-params-b1 failed/g)]).toHaveLength(1);
    expect(worker.stderr()).not.toMatch(/retries it/);
    expect(worker.stderr()).toMatch(/job bad-params-b0: 1 runs done/);
  }, 60_000);

  it('a worker whose model differs from the one the sweep names (by its card sha256) refuses the job with both hashes, once', async () => {
    const symbols = ['SPY', 'AAPL', 'IBM'];
    const data = path.join(ROOT, SAMPLE_DB_PATH);
    const loaded = await loadRunSeries({ data, symbols, interval: '1d', from: '2017-01-01', tz: 'America/New_York', prices: 'adjusted' });
    const cfg = config({ strategy: 'ml-signal', symbols, sizing: { kind: 'equal-weight' } });
    const { tasks } = sweepTasks({ config: cfg, grid: { enter: [0.55] }, series: loaded.series });
    const runs = tasks.map(({ config: _c, series: _s, ...r }) => r);
    const real = readModelCard(modelDir('models/gbt-daily')).sha256;
    const theirs = 'f'.repeat(64); // the submitter's models/gbt-daily was retrained since this worker's copy
    const worker = await startWorker(redis.url, ['--concurrency', '1']);
    try {
      const out = await runQueuedSweep({
        target: parseRedisUrl(redis.url),
        sweepId: 'other-model',
        config: cfg,
        runs,
        data: { path: data, symbols, interval: '1d', from: '2017-01-01', tz: 'America/New_York', prices: 'adjusted', hash: dataHash(loaded.series), bars: 0 },
        models: [{ location: 'models/gbt-daily', sha256: theirs }],
        batch: 1,
        store: async () => undefined,
      });
      expect(out.results).toEqual([]);
      expect(out.failures).toHaveLength(1);
      expect(out.failures[0].error).toBe(
        `job other-model-b0: model ${modelDir('models/gbt-daily')} on this worker has card sha256 ${real}, the sweep's has ${theirs}: a different model; copy the sweep's model folder here`,
      );
    } finally {
      await worker.stop();
    }
    expect([...worker.stderr().matchAll(/job other-model-b0 failed/g)]).toHaveLength(1);
    expect(worker.stderr()).not.toMatch(/retries it/);
  }, 60_000);

  it('a worker whose copy of the data differs refuses every job with both hashes and its path, once each; the submitter exits 1', async () => {
    const copy = path.join(dir, 'other-copy.duckdb');
    copyFileSync(path.join(ROOT, SAMPLE_DB_PATH), copy);
    const s = await openStore(copy);
    try {
      // one bar differs: a copy that was re-imported, or corrected, since
      await s.conn.run(
        `UPDATE bars SET close = close + 0.01 WHERE symbol = 'SPY' AND "interval" = '1d' AND ts = (SELECT min(ts) FROM bars WHERE symbol = 'SPY' AND "interval" = '1d')`,
      );
    } finally {
      s.close();
    }
    const worker = await startWorker(redis.url, ['--data', copy]);
    let r;
    try {
      r = await sweepCli([...GRID, '--queue', redis.url, '--batch', '3', '--db', path.join(dir, 'refused.duckdb')]);
    } finally {
      await worker.stop();
    }
    expect(r.code).toBe(1);
    // 6 runs in 2 jobs: each run reported once, with the job's error
    const lines = r.stderr.split('\n').filter((l) => /^run \d+ /.test(l));
    expect(lines.map((l) => Number(/^run (\d+)/.exec(l)![1])).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const l of lines)
      expect(l).toMatch(
        new RegExp(`the data at ${copy.replace(/[.]/g, '\\.')} on this worker has hash [0-9a-f]{64}, the sweep's .* has [0-9a-f]{64}: a different copy`),
      );
    const [mine, theirs] = /has hash ([0-9a-f]{64}), the sweep's .* has ([0-9a-f]{64})/.exec(lines[0])!.slice(1);
    expect(mine).not.toBe(theirs);
    expect(r.stderr).toMatch(/6 of 6 runs failed .*not retried/);
    expect(await sweepRows(path.join(dir, 'refused.duckdb'))).toEqual([]);
    // each of the 2 jobs failed once on the worker, and BullMQ did not run it again
    expect([...worker.stderr().matchAll(/ failed: /g)]).toHaveLength(2);
    expect(worker.stderr()).not.toMatch(/retries it/);
  }, 60_000);

  it('npm run sweep -- --cancel ID removes the waiting jobs and says how many; the submitter stops', async () => {
    // no worker: every job waits
    const db = path.join(dir, 'cancelled.duckdb');
    const submitter = launch('sweep', [...GRID, '--queue', redis.url, '--batch', '1', '--db', db]);
    await waitFor(submitter, (o) => /^sweep \w+: 6 runs in 6 jobs/m.test(o.stderr), 'the submitted sweep');
    const id = /^sweep (\w+): /m.exec(submitter.stderr())![1];
    try {
      expect(await waitingJobs()).toBe(6);
      const c = await sweepCli(['--cancel', id, '--queue', redis.url]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toBe(`sweep ${id} on ${redis.url}: removed 6 waiting jobs\n`);
      expect(await waitingJobs()).toBe(0);
      // the submitter sees the cancel (it does not take the removed jobs for lost ones and add them again)
      expect(await submitter.exited).toBe(1);
      expect(submitter.stderr()).toMatch(new RegExp(`cancelled \\(npm run sweep -- --cancel ${id}\\): 0 of 6 runs stored`));
      expect(await waitingJobs()).toBe(0);
      // nothing left to cancel
      expect((await sweepCli(['--cancel', id, '--queue', redis.url])).stdout).toMatch(/removed 0 waiting jobs/);
    } finally {
      submitter.child.kill('SIGKILL');
    }
  }, 60_000);

  it('Ctrl-C in the submitter removes its waiting jobs and exits non-zero naming what was stored', async () => {
    const db = path.join(dir, 'interrupted.duckdb');
    const submitter = launch('sweep', [...GRID, '--queue', redis.url, '--batch', '2', '--db', db]);
    await waitFor(submitter, (o) => /^sweep \w+: 6 runs in 3 jobs/m.test(o.stderr), 'the submitted sweep');
    const id = /^sweep (\w+): /m.exec(submitter.stderr())![1];
    expect(await waitingJobs()).toBe(3);
    submitter.child.kill('SIGINT');
    expect(await submitter.exited).toBe(130);
    expect(submitter.stderr()).toMatch(
      new RegExp(`interrupted: sweep ${id}: 0 of 6 runs stored in ${db.replace(/[.]/g, '\\.')} \\(table sweep_results\\); removed 3 waiting jobs\\n`),
    );
    expect(await waitingJobs()).toBe(0);
  }, 60_000);
  it('a resubmitted sweep adds no job twice: the jobs of a killed submitter run once and are stored by the next submitter', async () => {
    const args = ['--strategy', 'sma-cross', '--grid', '{"fast":[5,10],"slow":[50,100]}', '--symbols', 'SPY', '--queue', redis.url, '--batch', '1'];
    const first = launch('sweep', [...args, '--db', path.join(dir, 'first.duckdb')]);
    await waitFor(first, (o) => /^sweep \w+: 4 runs in 4 jobs/m.test(o.stderr), 'the submitted sweep');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await waitingJobs()).toBe(4);
    const worker = await startWorker(redis.url, ['--concurrency', '2']);
    let again;
    try {
      // submitted again (same sweep id, same job ids) while the worker is already taking the first submission's jobs
      again = await sweepCli([...args, '--db', path.join(dir, 'again.duckdb')]);
    } finally {
      await worker.stop();
    }
    expect(again.code, again.stderr).toBe(0);
    expect(await sweepRows(path.join(dir, 'again.duckdb'))).toHaveLength(4);
    // 4 jobs ran, once each: the second flow added none
    expect(worker.jobsDone()).toBe(4);
    expect(await waitingJobs()).toBe(0);
  }, 60_000);
});
