// `npm run sweep -- ... --reports DIR` (issue 16, item 3: "and, on request, its report"): each run's report.json as
// DIR/<idx>.json, the same bytes whether the run ran on local threads or on real worker processes through a real
// redis-server, and the same report.json `npm run backtest` writes for that run's bars and params. Without
// --reports nothing extra is computed or sent: no file, and no report in any job's return value on Redis.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { type RedisServer, redisAvailable, startRedis } from './redis-server.ts';
import { launch, startWorker, sweepCli, sweepRows, type WorkerProc } from './processes.ts';

// sma-cross over the bundled sample, walk-forward: 2 combinations x 3 windows x (train, test) = 12 runs, each a
// report of a few hundred KB to about 1.5 MB (daily bars of two symbols over 8 or 4 years)
const WALK_FORWARD = ['--strategy', 'sma-cross', '--grid', '{"fast":[5,20],"slow":[50]}', '--symbols', 'SPY,AAPL', '--walk-forward', 'train=8y,test=4y'];
// one run over the whole data
const FULL = ['--strategy', 'sma-cross', '--grid', '{"fast":[10],"slow":[30]}', '--symbols', 'SPY,AAPL'];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-reports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const isoDate = (ts: unknown) => new Date(Number(ts)).toISOString().slice(0, 10);
const files = (dir: string) => readdirSync(dir).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
const sweepIdOf = (stderr: string) => /^sweep (\S+): \d+ runs in \d+ jobs/m.exec(stderr)?.[1];

interface ReportJson {
  config: { params: Record<string, unknown>; from?: string; to?: string; data: string };
  finalEquity: number;
  metrics: { sharpe: number | null; sortino: number | null; cagr: number | null; maxDrawdown: number; tradeCount: number; periods: number };
}

/** The report agrees with its run's sweep_results row: the same run, measured the same way. */
function expectAgrees(report: ReportJson, row: Record<string, unknown>): void {
  // the row's params are the grid's; the report shows them with the strategy's defaults filled in
  expect(report.config.params).toMatchObject(JSON.parse(String(row.params)));
  expect(report.finalEquity).toBe(row.final_equity);
  expect(report.metrics.maxDrawdown).toBe(row.max_drawdown);
  expect(report.metrics.tradeCount).toBe(row.trades);
  expect(report.metrics.periods).toBe(row.periods);
  // the report nulls annualised figures of a short run (fewer than 63 daily returns); the row keeps them, flagged
  for (const k of ['sharpe', 'sortino', 'cagr'] as const) expect(report.metrics[k], k).toBe(row.short_run ? null : row[k]);
  // a walk-forward period's report says which days it covers; a full run's keeps the sweep's range (none here)
  if (row.phase === 'full') expect([report.config.from, report.config.to]).toEqual([undefined, undefined]);
  else expect([report.config.from, report.config.to]).toEqual([isoDate(row.from_ts), isoDate(row.to_ts)]);
}

/** Every completed job's return value on Redis (BullMQ's event stream of the runs queue), by job id. */
async function returnValues(url: string): Promise<Map<string, { results: unknown[]; reports?: { index: number; gzip: string }[] }>> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out = new Map();
    for (const [, fields] of await redis.xrange('tradebench:sweep-runs:events', '-', '+')) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      if (f.event === 'completed') out.set(f.jobId, JSON.parse(f.returnvalue));
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

describe.runIf(redisAvailable())('a queued sweep with --reports (real redis-server, 2 worker processes)', () => {
  let redis: RedisServer;
  let workers: WorkerProc[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    workers = await Promise.all([0, 1].map(() => startWorker(redis.url, ['--concurrency', '1'])));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
  });

  it("writes the local sweep's reports byte for byte, each agreeing with its sweep_results row, sent gzipped", async () => {
    const dir = (m: string) => path.join(tmp, `wf-${m}`);
    const db = (m: string) => path.join(tmp, `wf-${m}.duckdb`);
    const [local, queued] = await Promise.all([
      sweepCli([...WALK_FORWARD, '--workers', '2', '--db', db('local'), '--reports', dir('local')]),
      sweepCli([...WALK_FORWARD, '--queue', redis.url, '--batch', '3', '--db', db('queued'), '--reports', dir('queued')]),
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(queued.code, queued.stderr).toBe(0);
    const rows = await sweepRows(db('queued'));
    expect(rows).toEqual(await sweepRows(db('local')));
    // one report per run, named by its idx in sweep_results, nothing else left in the folder (no staged file)
    expect(rows.length).toBe(12);
    expect(files(dir('queued'))).toEqual(rows.map((r) => `${r.idx}.json`));
    expect(files(dir('local'))).toEqual(files(dir('queued')));
    for (const row of rows) {
      const name = `${row.idx}.json`;
      const bytes = readFileSync(path.join(dir('queued'), name));
      expect(bytes.equals(readFileSync(path.join(dir('local'), name))), `${name}: queued and local reports differ`).toBe(true);
      expectAgrees(JSON.parse(bytes.toString('utf8')) as ReportJson, row);
    }
    // what crossed Redis: each of the sweep's 4 jobs returned its 3 runs' reports gzipped, and each unzips to the file
    const id = sweepIdOf(queued.stderr)!;
    const jobs = [...(await returnValues(redis.url))].filter(([jobId]) => jobId.startsWith(`${id}-b`));
    expect(jobs.length).toBe(4);
    for (const [, value] of jobs) {
      expect(value.reports?.length).toBe(3);
      for (const w of value.reports!) {
        const file = readFileSync(path.join(dir('queued'), `${w.index}.json`));
        expect(gunzipSync(Buffer.from(w.gzip, 'base64')).equals(file)).toBe(true);
        // compressed: base64 of gzip is well under half the report (about a quarter measured)
        expect(w.gzip.length).toBeLessThan(file.length / 2);
      }
    }
  }, 120_000);

  it('without --reports writes no report and sends none through Redis', async () => {
    const db = path.join(tmp, 'plain.duckdb');
    const plain = ['--strategy', 'sma-cross', '--grid', '{"fast":[5,10,20],"slow":[60]}', '--symbols', 'SPY'];
    const r = await sweepCli([...plain, '--queue', redis.url, '--batch', '2', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/reports in/);
    const id = sweepIdOf(r.stderr)!;
    const jobs = [...(await returnValues(redis.url))].filter(([jobId]) => jobId.startsWith(`${id}-b`));
    expect(jobs.length).toBe(2);
    for (const [, value] of jobs) {
      expect(value.results.length).toBeGreaterThan(0);
      expect(value).not.toHaveProperty('reports');
    }
    expect((await sweepRows(db)).length).toBe(3);
  }, 60_000);
});

describe('a local sweep with --reports (threads)', () => {
  // sma-cross; and ml-signal, whose report also carries the in-sample flag (its model was trained on 1998-2015)
  it.each([
    ['sma-cross', '{"fast":[10],"slow":[30]}', '{"fast":10,"slow":30}'],
    ['ml-signal', '{"enter":[0.55]}', '{"enter":0.55}'],
  ])(
    "writes a full %s run's report as npm run backtest writes report.json for its params, byte for byte",
    async (strategy, grid, params) => {
      const dir = path.join(tmp, `full-${strategy}-reports`);
      const db = path.join(tmp, `full-${strategy}.duckdb`);
      const bt = path.join(tmp, `bt-${strategy}`);
      const symbols = ['--symbols', 'SPY,AAPL,IBM'];
      const backtest = launch('backtest', ['--strategy', strategy, '--params', params, ...symbols, '--out', bt, '--report', 'json']);
      const [sweep, code] = await Promise.all([
        sweepCli(['--strategy', strategy, '--grid', grid, ...symbols, '--workers', '1', '--db', db, '--reports', dir]),
        backtest.exited,
      ]);
      expect(sweep.code, sweep.stderr).toBe(0);
      expect(code, backtest.stderr()).toBe(0);
      expect(sweep.stdout).toMatch(new RegExp(`reports in ${dir.replace(/[.]/g, '\\.')}\\n?$`));
      expect(files(dir)).toEqual(['0.json']);
      const report = readFileSync(path.join(dir, '0.json'));
      expect(report.equals(readFileSync(path.join(bt, 'report.json'))), 'the sweep run and the backtest wrote different report.json').toBe(true);
      const parsed = JSON.parse(report.toString('utf8')) as ReportJson & { inSample?: unknown };
      expect(parsed.inSample !== undefined).toBe(strategy === 'ml-signal');
      const [row] = await sweepRows(db);
      expectAgrees(parsed, row);
    },
    60_000,
  );

  it('a report that cannot be written fails the sweep before any row is stored, naming the file', async () => {
    const dir = mkdtempSync(path.join(tmp, 'unwritable-'));
    // --reports names a file, not a folder: no report can be written under it
    const notADir = path.join(dir, 'reports');
    writeFileSync(notADir, 'a file');
    const r = await sweepCli([...FULL, '--workers', '1', '--db', path.join(dir, 'a.duckdb'), '--reports', notADir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write ${path.join(notADir, '0.json')}: --reports ${notADir} is a file, or under one, not a folder`);
    // nothing half-written: no rows (the database is not even created), no staged file beside the file
    expect(readdirSync(dir)).toEqual(['reports']);
    expect(readFileSync(notADir, 'utf8')).toBe('a file');
  }, 60_000);

  it('without --reports writes no report', async () => {
    const dir = mkdtempSync(path.join(tmp, 'plain-local-'));
    const r = await sweepCli([...FULL, '--workers', '1', '--db', path.join(dir, 'a.duckdb')]);
    expect(r.code, r.stderr).toBe(0);
    // the only file the sweep wrote is its database
    expect(readdirSync(dir)).toEqual(['a.duckdb']);
  }, 60_000);
});
