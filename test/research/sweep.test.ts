import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { expandGrid, parseWalkForward, walkForwardWindows } from '../../engine/research/grid.ts';
import { runSweep, shareSeries, startSweepPool, walkForwardSummary, type SweepResult } from '../../engine/research/sweep.ts';
import { replaceSweep, storedRuns, storeRuns } from '../../engine/research/sweep-store.ts';
import { config } from '../engine/harness.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { ROOT } from '../cli/run-cli.ts';

const WORKER = pathToFileURL(path.join(ROOT, 'scripts/lib/sweep-worker.ts')).href;

describe('grid and walk-forward windows', () => {
  it('expands a grid in a fixed order, first key slowest', () => {
    expect(expandGrid({ fast: [5, 10], slow: [30, 50, 100] })).toEqual([
      { fast: 5, slow: 30 },
      { fast: 5, slow: 50 },
      { fast: 5, slow: 100 },
      { fast: 10, slow: 30 },
      { fast: 10, slow: 50 },
      { fast: 10, slow: 100 },
    ]);
    expect(() => expandGrid({ fast: [] })).toThrow(/'fast' must be a non-empty list/);
  });

  it('never lets a training window reach into its test window; test windows tile the time after the first training', () => {
    const first = Date.UTC(2000, 0, 3);
    const last = Date.UTC(2020, 11, 31);
    const w = walkForwardWindows(first, last, parseWalkForward('train=5y,test=1y'));
    expect(w.length).toBe(15); // tests 2005..2019; one for 2020 would end after the data
    for (const x of w) {
      expect(x.trainFrom).toBeLessThanOrEqual(x.trainTo);
      expect(x.trainTo).toBeLessThan(x.testFrom);
      expect(x.testFrom).toBe(x.trainTo + 1);
      expect(x.testTo).toBeLessThanOrEqual(last);
    }
    for (let i = 1; i < w.length; i++) expect(w[i].testFrom).toBe(w[i - 1].testTo + 1);
    expect(() => parseWalkForward('train=5,test=1y')).toThrow(/train must look like 5y/);
    expect(() => walkForwardWindows(first, first + 86_400_000, parseWalkForward('train=1y,test=1y'))).toThrow(/shorter than one training plus one test/);
  });
});

describe('parallel sweeps on worker threads', () => {
  let store: Store;
  let series: BarSeries[];
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
    series = shareSeries(await loadBars(store, { symbols: ['SPY', 'AAPL'], interval: '1d' }));
  });
  afterAll(() => store?.close());

  it('gives identical results for 1 and 2 workers, in grid order, and each run equals a plain backtest', async () => {
    const cfg = config({ strategy: 'sma-cross', symbols: ['SPY', 'AAPL'], sizing: { kind: 'percent', percent: 50 } });
    const grid = { fast: [5, 10, 20], slow: [50, 100] };
    const one = await runSweep({ config: cfg, grid, series, worker: WORKER, workers: 1 });
    const two = await runSweep({ config: cfg, grid, series, worker: WORKER, workers: 2 });
    expect(two.results).toEqual(one.results);
    expect(one.results.map((r) => r.params)).toEqual(expandGrid(grid));
    expect(new Set(one.results.map((r) => r.finalEquity)).size).toBeGreaterThan(1);
    const p = one.results[3].params;
    const plain = runBacktest(series, { ...cfg, params: p }, buildSlots('sma-cross', p, cfg.symbols));
    expect(one.results[3].finalEquity).toBe(plain.engine.portfolio.equity());
    expect(one.results[3].trades).toBe(plain.engine.trades.length);
  }, 120_000);

  it('runs on a pool started before the bars load, and a worker module that cannot load fails the sweep with its error', async () => {
    const cfg = config({ strategy: 'sma-cross', symbols: ['SPY', 'AAPL'], sizing: { kind: 'percent', percent: 50 } });
    const grid = { fast: [5, 10], slow: [50] };
    const pool = startSweepPool(WORKER, 2);
    try {
      const early = await runSweep({ config: cfg, grid, series, worker: pool });
      expect(early.results).toEqual((await runSweep({ config: cfg, grid, series, worker: WORKER, workers: 1 })).results);
    } finally {
      await pool.destroy();
    }
    const broken = startSweepPool(pathToFileURL(path.join(ROOT, 'scripts/lib/no-such-worker.ts')).href, 1);
    try {
      // the thread fails before any task is queued: the sweep still gets the error
      await new Promise((r) => setTimeout(r, 2000));
      await expect(runSweep({ config: cfg, grid, series, worker: broken })).rejects.toThrow(/no-such-worker/);
    } finally {
      await broken.destroy();
    }
  }, 120_000);

  it('walk-forward: train and test runs only see their own period; the summary picks the best in-sample params', async () => {
    const cfg = config({ strategy: 'sma-cross', symbols: ['SPY', 'AAPL'], sizing: { kind: 'percent', percent: 50 } });
    const { results, windows } = await runSweep({
      config: cfg,
      grid: { fast: [5, 20], slow: [50] },
      series,
      worker: WORKER,
      workers: 2,
      walkForward: parseWalkForward('train=5y,test=2y'),
    });
    expect(windows.length).toBeGreaterThan(3);
    for (const r of results) {
      const w = windows[r.window];
      if (r.phase === 'train') expect([r.from, r.to]).toEqual([w.trainFrom, w.trainTo]);
      else expect([r.from, r.to]).toEqual([w.testFrom, w.testTo]);
      expect(r.bars).toBeGreaterThan(0);
    }
    // a training run sees exactly its training bars, nothing of its test period
    const inRange = (a: number, b: number) => series.reduce((n, s) => n + s.ts.filter((t) => t >= a && t <= b).length, 0);
    for (const r of results.filter((x) => x.phase === 'train')) expect(r.bars).toBe(inRange(r.from, r.to));
    // a test run warms up on its training bars, then trades and is measured only inside its test period
    const t = results.find((r) => r.phase === 'test' && r.window === 1)!;
    const w = windows[1];
    const cut = (s: BarSeries, a: number, b: number) => {
      const i = s.ts.findIndex((x) => x >= a);
      const j = s.ts.findIndex((x) => x > b);
      const e = j < 0 ? s.ts.length : j;
      return {
        ...s,
        ts: s.ts.slice(i, e),
        open: s.open.slice(i, e),
        high: s.high.slice(i, e),
        low: s.low.slice(i, e),
        close: s.close.slice(i, e),
        volume: s.volume.slice(i, e),
      };
    };
    const warm = runBacktest(
      series.map((s) => cut(s, w.trainFrom, w.testTo)),
      { ...cfg, params: t.params },
      buildSlots('sma-cross', t.params, cfg.symbols),
      undefined,
      { warmUpUntil: w.testFrom },
    );
    expect(t.finalEquity).toBe(warm.engine.portfolio.equity());
    expect(warm.journal.equityCurve[0].ts).toBeGreaterThanOrEqual(w.testFrom);
    expect(Math.min(...warm.journal.fills.map((f) => f.ts))).toBeGreaterThanOrEqual(w.testFrom);
    expect(warm.engine.orders.length).toBeGreaterThan(0);
    // started cold, the same test period could not act until its 50-bar average filled
    const cold = runBacktest(
      series.map((s) => cut(s, w.testFrom, w.testTo)),
      { ...cfg, params: t.params },
      buildSlots('sma-cross', t.params, cfg.symbols),
    );
    const firstOrder = (r: typeof cold) => Math.min(...r.engine.orders.map((o) => o.submittedAt));
    expect(firstOrder(warm)).toBeGreaterThanOrEqual(w.testFrom);
    expect(firstOrder(warm)).toBeLessThan(firstOrder(cold));

    const summary = walkForwardSummary(results, windows);
    expect(summary).toHaveLength(windows.length);
    for (const s of summary) {
      const train = results.filter((r) => r.window === s.window.index && r.phase === 'train');
      expect(s.inSampleSharpe).toBe(Math.max(...train.map((r) => r.sharpe ?? -Infinity)));
    }
  }, 120_000);
});

describe('sweep_results writes (engine/research/sweep-store.ts)', () => {
  const result = (index: number, finalEquity: number): SweepResult => ({
    index,
    params: { fast: index },
    window: -1,
    phase: 'full',
    from: 0,
    to: 86_400_000,
    bars: 10,
    finalEquity,
    periods: 1,
    shortRun: true,
    sharpe: null,
    sortino: Number.NaN,
    cagr: Infinity,
    maxDrawdown: -0.1,
    trades: 1,
  });
  const rows = async (s: Store) =>
    (await s.conn.runAndReadAll('SELECT sweep_id, idx, final_equity, sortino, cagr FROM sweep_results ORDER BY sweep_id, idx')).getRowObjectsJS();

  it('a result stored twice is stored once, a later one replaces it, other sweeps are untouched, and a whole sweep replaces its rows', async () => {
    const s = await openStore(':memory:');
    try {
      await storeRuns(s.conn, 'a', [result(0, 100), result(1, 101)]);
      await storeRuns(s.conn, 'a', [result(1, 101)]); // a retried job's result, again
      await storeRuns(s.conn, 'b', [result(0, 200)]);
      expect(await storedRuns(s.conn, 'a')).toBe(2);
      await storeRuns(s.conn, 'a', [result(1, 111)]);
      // non-finite figures are NULL (the appender's rule for both writers)
      expect(await rows(s)).toEqual([
        { sweep_id: 'a', idx: 0, final_equity: 100, sortino: null, cagr: null },
        { sweep_id: 'a', idx: 1, final_equity: 111, sortino: null, cagr: null },
        { sweep_id: 'b', idx: 0, final_equity: 200, sortino: null, cagr: null },
      ]);
      await replaceSweep(s.conn, 'a', [result(5, 105)]);
      expect((await rows(s)).map((r) => `${r.sweep_id}${r.idx}`)).toEqual(['a5', 'b0']);
      await expect(storeRuns(s.conn, 'a', [result(0.5, 1)])).rejects.toThrow(/not an integer/);
    } finally {
      s.close();
    }
  });

  it('a table written before periods and short_run gains them (old rows read NULL there)', async () => {
    const s = await openStore(':memory:');
    try {
      await s.conn.run(`CREATE TABLE sweep_results (sweep_id VARCHAR, idx INTEGER, params VARCHAR, window_index INTEGER, phase VARCHAR,
        from_ts BIGINT, to_ts BIGINT, bars BIGINT, final_equity DOUBLE, sharpe DOUBLE, sortino DOUBLE, cagr DOUBLE, max_drawdown DOUBLE, trades INTEGER)`);
      await s.conn.run(`INSERT INTO sweep_results VALUES ('old', 0, '{}', -1, 'full', 0, 1, 1, 1, NULL, NULL, NULL, 0, 0)`);
      await storeRuns(s.conn, 'new', [result(0, 100)]);
      const r = (await s.conn.runAndReadAll('SELECT sweep_id, periods, short_run FROM sweep_results ORDER BY sweep_id')).getRowObjectsJS();
      expect(r).toEqual([
        { sweep_id: 'new', periods: 1, short_run: true },
        { sweep_id: 'old', periods: null, short_run: null },
      ]);
    } finally {
      s.close();
    }
  });
});
