// A sweep gives the same sweep_results rows on local threads, on 1 queued worker and on 3, for a plain grid, a
// walk-forward and an ml-signal sweep over the bundled sample (data/sample.duckdb): a real redis-server, real
// worker processes (npm run worker) and the real submitter (npm run sweep -- --queue).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, type RedisServer, startRedis } from './redis-server.ts';
import { startWorker, sweepCli, sweepRows, type WorkerProc } from './processes.ts';

const SWEEPS: Record<string, string[]> = {
  grid: ['--strategy', 'sma-cross', '--grid', '{"fast":[5,20],"slow":[50,100]}', '--symbols', 'SPY,AAPL'],
  'walk-forward': ['--strategy', 'sma-cross', '--grid', '{"fast":[5,20],"slow":[50]}', '--symbols', 'SPY,AAPL', '--walk-forward', 'train=8y,test=4y'],
  'ml-signal': ['--strategy', 'ml-signal', '--grid', '{"enter":[0.55,0.6],"exit":[0.5]}', '--symbols', 'SPY,AAPL,IBM'],
};
const KINDS = Object.keys(SWEEPS);

/** The printed table: the same on every path; the last line (timing, where it ran) differs. */
const table = (stdout: string) => stdout.replace(/\n\d+ runs in [^\n]*\n?$/, '');

/** One file per worker count (each under 30 s on a busy 2-core machine): WORKERS=1 here, 3 in identity-three.test.ts. */
export function identitySuite(workerCount: 1 | 3): void {
  describe.runIf(redisAvailable())(`queued sweeps on ${workerCount} worker process${workerCount > 1 ? 'es' : ''} store what local sweeps store`, () => {
    let redis: RedisServer;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-identity-'));
    const db = (mode: string, kind: string) => path.join(dir, `${mode}-${kind}.duckdb`);
    const local: Record<string, { stdout: string }> = {};
    beforeAll(async () => {
      redis = await startRedis();
      // the local sweeps, all three at once (the submitters below also run at once)
      const runs = await Promise.all(KINDS.map((k) => sweepCli([...SWEEPS[k], '--workers', '2', '--db', db('local', k)])));
      for (const [i, k] of KINDS.entries()) {
        expect(runs[i].code, runs[i].stderr).toBe(0);
        local[k] = runs[i];
      }
    }, 120_000);
    afterAll(async () => {
      await redis?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function queued(mode: string, workers: WorkerProc[], batch: (kind: string) => number) {
      const runs = await Promise.all(KINDS.map((k) => sweepCli([...SWEEPS[k], '--queue', redis.url, '--batch', String(batch(k)), '--db', db(mode, k)])));
      for (const [i, k] of KINDS.entries()) {
        expect(runs[i].code, `${k}: ${runs[i].stderr}`).toBe(0);
        // the same ranking or walk-forward summary as the local sweep printed
        expect(table(runs[i].stdout), k).toBe(table(local[k].stdout));
        expect(runs[i].stdout).toMatch(new RegExp(`queue ${redis.url.replace(/[.]/g, '\\.')}, ${batch(k)} runs per job`));
        const rows = await sweepRows(db(mode, k));
        expect(rows.length).toBeGreaterThan(1);
        expect(rows, k).toEqual(await sweepRows(db('local', k)));
      }
      // every job of the three sweeps ran once: the jobs the workers report done are the jobs submitted
      const jobs = KINDS.map((k) => Number(/(\d+) runs in (\d+) jobs/.exec(runs[KINDS.indexOf(k)].stderr)?.[2] ?? NaN));
      const total = jobs.reduce((a, b) => a + b, 0);
      const done = () => workers.reduce((n, w) => n + w.jobsDone(), 0);
      // (a worker's log line can trail the submitter's exit by a moment)
      for (let i = 0; i < 100 && done() < total; i++) await new Promise((r) => setTimeout(r, 50));
      expect(done()).toBe(total);
    }

    if (workerCount === 1)
      it('with one worker process (batches of 1, 3 and 2 runs)', async () => {
        const w = await startWorker(redis.url, ['--concurrency', '2']);
        try {
          await queued('one', [w], (k) => ({ grid: 1, 'walk-forward': 3, 'ml-signal': 2 })[k]!);
        } finally {
          expect(await w.stop()).toBe(0);
        }
        expect(w.stderr()).toMatch(/SIGTERM: finishing the jobs under way/);
        expect(w.stderr()).not.toMatch(/job \S+ failed/);
      }, 120_000);

    if (workerCount === 3)
      it('with three worker processes sharing the jobs', async () => {
        const ws = await Promise.all([0, 1, 2].map(() => startWorker(redis.url, ['--concurrency', '1'])));
        try {
          await queued('three', ws, () => 1);
          // 18 jobs (4 + 12 + 2 runs, one per job) at once on 3 workers: each took some
          for (const w of ws) expect(w.jobsDone()).toBeGreaterThan(0);
        } finally {
          await Promise.all(ws.map((w) => w.stop()));
        }
      }, 120_000);
  });
}
