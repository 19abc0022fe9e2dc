// Sweep runs and walk-forward windows too short to annualise (engine/metrics/short-run.ts: under 63 daily returns):
// flagged in SweepResult, the tb.sweep DataFrame, npm run sweep's table and sweep_results, and refused by promotion.
// The expectations are counted by hand from the sample's 2019 SPY bars (NYSE days: April 2019 has 21 sessions,
// Good Friday the 19th closed; 2019 has 252).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataFrame } from '../../engine/api/frame.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { ensureSampleDb, SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import * as tb from '../../engine/index.ts';
import { MIN_ANNUALISED_PERIODS } from '../../engine/metrics/short-run.ts';
import { parseWalkForward } from '../../engine/research/grid.ts';
import { walkForwardEvidence } from '../../engine/research/promote.ts';
import { DEFAULT_THRESHOLDS, promotionFailures } from '../../engine/research/promotion.ts';
import { runSweep, shareSeries, siblingModule, walkForwardSummary, workerExecArgv } from '../../engine/research/sweep.ts';
import { config } from '../engine/harness.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';

const WORKER = pathToFileURL(path.join(ROOT, 'scripts/lib/sweep-worker.ts')).href;
const Y2019 = { from: Date.UTC(2019, 0, 1), to: Date.UTC(2019, 11, 31, 23, 59) };
const col = (df: DataFrame, c: string) => df.column(c).values as unknown[];

describe('short sweep runs are flagged, their figures kept for ranking', () => {
  let store: Store;
  let series: BarSeries[];
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
    const all = await loadBars(store, { symbols: ['SPY'], interval: '1d' });
    // 2019 only
    series = shareSeries(
      all.map((s) => {
        const a = s.ts.findIndex((t) => t >= Y2019.from);
        const b = s.ts.findIndex((t) => t > Y2019.to);
        const sub = (x: Float64Array) => x.slice(a, b);
        return { ...s, ts: sub(s.ts), open: sub(s.open), high: sub(s.high), low: sub(s.low), close: sub(s.close), volume: sub(s.volume) };
      }),
    );
  });
  afterAll(() => store?.close());

  it('a whole-year run has 251 daily returns and is not short', async () => {
    expect(series[0].ts.length).toBe(252);
    const { results } = await runSweep({
      config: config({ strategy: 'sma-cross', symbols: ['SPY'] }),
      grid: { fast: [5], slow: [30] },
      series,
      worker: WORKER,
      workers: 1,
    });
    expect(results[0]).toMatchObject({ periods: 251, shortRun: false });
  });

  it('train=3m,test=1m: every test month is short (the first, 2019-04-02..05-01, has 21 sessions = 20 returns)', async () => {
    const grid = { fast: [5, 10], slow: [30] };
    const { results, windows } = await runSweep({
      config: config({ strategy: 'sma-cross', symbols: ['SPY'] }),
      grid,
      series,
      worker: WORKER,
      workers: 1,
      walkForward: parseWalkForward('train=3m,test=1m'),
    });
    expect(new Date(windows[0].testFrom).toISOString().slice(0, 10)).toBe('2019-04-02');
    const tests = results.filter((r) => r.phase === 'test');
    expect(tests[0]).toMatchObject({ window: 0, periods: 20, shortRun: true });
    // every run's periods = its sessions in the window - 1; all test months are short
    for (const r of results) {
      const sessions = Array.from(series[0].ts).filter((t) => t >= r.from && t <= r.to).length;
      expect(r.periods).toBe(sessions - 1);
      expect(r.shortRun).toBe(r.periods < MIN_ANNUALISED_PERIODS);
    }
    expect(tests.every((r) => r.shortRun)).toBe(true);
    // the first training period, 2019-01-02..2019-04-01, has 21 + 19 + 21 + 1 = 62 sessions: three months, short as well
    expect(results.find((r) => r.phase === 'train' && r.window === 0)).toMatchObject({ periods: 61, shortRun: true });
    // figures are kept (not nulled): the walk-forward still picks each window's best in-sample params, and says both sides are short
    const summary = walkForwardSummary(results, windows);
    expect(summary[0]).toMatchObject({ inSampleShortRun: true, outOfSampleShortRun: true });
    expect(results.some((r) => r.shortRun && r.sharpe !== null)).toBe(true);

    // the promotion evidence of these windows counts them, and the check refuses it with why
    const e = { sharpe: 1, maxDrawdown: -0.1, trades: 50, periods: 251, ...walkForwardEvidence(results.filter((r) => r.params.fast === 5)) };
    expect(e).toMatchObject({ windows: windows.length, shortTestWindows: windows.length, minTestPeriods: Math.min(...tests.map((r) => r.periods)) });
    const f = promotionFailures(e, { ...DEFAULT_THRESHOLDS, minSharpe: 0, minTrades: 0 });
    expect(f[0]).toMatch(new RegExp(`^${windows.length} of ${windows.length} walk-forward test periods have fewer than 63 daily returns`));
    expect(f.some((x) => /out-of-sample Sharpe .* far worse|walk-forward Sharpe undefined/.test(x))).toBe(false);
  });
});

describe('promotionFailures on short evidence', () => {
  const good = { sharpe: 1.2, maxDrawdown: -0.2, trades: 50, inSampleSharpe: 1.0, outOfSampleSharpe: 0.8 };
  it('passes long windows and evidence without the short-run fields (older callers)', () => {
    expect(
      promotionFailures({ ...good, periods: 2000, windows: 8, shortTrainWindows: 0, shortTestWindows: 0, minTestPeriods: 251 }, DEFAULT_THRESHOLDS),
    ).toEqual([]);
    expect(promotionFailures(good, DEFAULT_THRESHOLDS)).toEqual([]);
  });
  it('names a short backtest, short test and training periods, and skips the meaningless in/out-of-sample ratio', () => {
    const f = promotionFailures(
      { ...good, outOfSampleSharpe: -30, periods: 40, windows: 8, shortTrainWindows: 2, shortTestWindows: 8, minTestPeriods: 19 },
      DEFAULT_THRESHOLDS,
    );
    expect(f).toEqual([
      'the backtest has 40 daily returns, fewer than the 63 (3 months) an annualised Sharpe needs: use more data',
      '8 of 8 walk-forward test periods have fewer than 63 daily returns (the shortest 19): their Sharpes cannot be annualised, so the out-of-sample Sharpe is no evidence; use a test period of at least 4 months (e.g. train=2y,test=6m)',
      '2 of 8 walk-forward training periods have fewer than 63 daily returns: their Sharpes cannot be annualised, so the in-sample Sharpe is no evidence; use a training period of at least 4 months',
    ]);
  });
});

describe('tb.sweep and tb.promote', () => {
  beforeAll(() => ensureSampleDb(SAMPLE_DB_PATH));
  it('tb.sweep has periods and a boolean shortRun column', async () => {
    const s = await tb.sweep({
      strategy: 'sma-cross',
      grid: { fast: [5] },
      symbols: ['SPY'],
      from: '2019-01-01',
      to: '2019-12-31',
      walkForward: 'train=6m,test=1m',
      workers: 1,
    });
    expect(s.columns).toContain('shortRun');
    const phase = col(s, 'phase');
    const short = col(s, 'shortRun');
    expect(short.every((v) => typeof v === 'boolean')).toBe(true);
    // six-month training periods (about 125 sessions) are long, one-month tests short
    expect(short.filter((_, i) => phase[i] === 'train').every((v) => v === false)).toBe(true);
    expect(short.filter((_, i) => phase[i] === 'test').every((v) => v === true)).toBe(true);
    expect(col(s, 'periods').every((p, i) => (p as number) < MIN_ANNUALISED_PERIODS === short[i])).toBe(true);
  });

  it('tb.promote with one-month test periods fails because they are too short, not on an averaged Sharpe', async () => {
    const r = await tb.backtest({ strategy: 'sma-cross', symbols: ['SPY'], from: '2018-01-01', to: '2019-12-31' });
    const p = await tb.promote(r, { minSharpe: -10, minTrades: 0, maxDrawdown: -1 }, { walkForward: 'train=1y,test=1m', workers: 1 });
    expect(p.promoted).toBe(false);
    expect(p.evidence.shortTestWindows).toBe(p.evidence.windows);
    expect(p.evidence.shortTrainWindows).toBe(0);
    expect(p.failures).toHaveLength(1);
    expect(p.failures[0]).toMatch(/walk-forward test periods have fewer than 63 daily returns/);
    expect(() => p.write(mkdtempSync(path.join(os.tmpdir(), 'tradebench-short-')))).toThrow(/not promoted/);
  }, 60_000);
});

describe('workers of a compiled package load no tsx', () => {
  it('passes --import tsx only to a TypeScript worker', () => {
    expect(workerExecArgv('file:///x/scripts/lib/sweep-worker.ts')).toEqual(['--import', 'tsx']);
    expect(workerExecArgv('file:///x/build/engine/api/sweep-worker.js')).toEqual([]);
    expect(workerExecArgv('/x/node_modules/tradebench/build/scripts/lib/sweep-worker.js')).toEqual([]);
  });

  it("finds the worker module next to its caller with the caller's extension", () => {
    expect(siblingModule('./lib/sweep-worker', 'file:///x/scripts/sweep.ts')).toBe('file:///x/scripts/lib/sweep-worker.ts');
    expect(siblingModule('./sweep-worker', 'file:///x/build/engine/api/research.js')).toBe('file:///x/build/engine/api/sweep-worker.js');
  });
});

describe('npm run sweep marks short runs and stores short_run beside an older table', () => {
  it('adds periods and short_run to an existing sweep_results table; older rows read NULL there', async () => {
    const db = path.join(mkdtempSync(path.join(os.tmpdir(), 'tradebench-sweep-short-')), 'old.duckdb');
    const s = await openStore(db);
    try {
      // the table as an older version wrote it
      await s.conn.run(`CREATE TABLE sweep_results (sweep_id VARCHAR, idx INTEGER, params VARCHAR, window_index INTEGER, phase VARCHAR,
        from_ts BIGINT, to_ts BIGINT, bars BIGINT, final_equity DOUBLE, sharpe DOUBLE, sortino DOUBLE, cagr DOUBLE, max_drawdown DOUBLE, trades INTEGER)`);
      await s.conn.run(`INSERT INTO sweep_results VALUES ('old', 0, '{}', -1, 'full', 0, 1, 2, 100000, 1, 1, 0.1, -0.1, 3)`);
    } finally {
      s.close();
    }
    const r = runCli('sweep.ts', ['--grid', '{"fast":[5,10]}', '--symbols', 'SPY', '--from', '2019-01-01', '--to', '2019-02-28', '--workers', '1', '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\* 2 of 2 runs have fewer than 63 daily returns/m);
    const t = await openStore(db);
    try {
      const rows = (
        await t.conn.runAndReadAll('SELECT sweep_id, periods, short_run FROM sweep_results ORDER BY sweep_id = $1 DESC, idx', ['old'])
      ).getRowObjectsJS();
      // January and February 2019: 21 + 19 sessions = 39 daily returns
      expect(rows).toEqual([
        { sweep_id: 'old', periods: null, short_run: null },
        { sweep_id: expect.any(String), periods: 39, short_run: true },
        { sweep_id: expect.any(String), periods: 39, short_run: true },
      ]);
    } finally {
      t.close();
    }
  }, 60_000);
});
