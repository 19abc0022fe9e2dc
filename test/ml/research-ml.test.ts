import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { parseWalkForward } from '../../engine/research/grid.ts';
import { runSweep, shareSeries } from '../../engine/research/sweep.ts';
import { SWEEP_WORKER } from '../../scripts/lib/sweep-worker.ts';
import { config } from '../engine/harness.ts';
import { runCli } from '../cli/run-cli.ts';

describe('sweeping a strategy that trades on a model', () => {
  it('each worker thread loads the model and predicts its runs; results are identical for 1 and 2 workers', async () => {
    const store = await openStore(':memory:');
    await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
    const series = shareSeries(await loadBars(store, { symbols: ['SPY', 'AAPL'], interval: '1d' }));
    store.close();
    const cfg = config({ strategy: 'ml-signal', symbols: ['SPY', 'AAPL'] });
    const spec = { config: cfg, grid: { enter: [0.55, 0.6] }, series, worker: SWEEP_WORKER, walkForward: parseWalkForward('train=8y,test=4y') };
    const one = await runSweep({ ...spec, workers: 1 });
    const two = await runSweep({ ...spec, workers: 2 });
    expect(two.results).toEqual(one.results);
    // the model's signal reached the strategy in every run: each one traded, and the thresholds change the result
    for (const r of one.results) expect(r.trades, `${JSON.stringify(r.params)} ${r.phase} ${r.window}`).toBeGreaterThan(0);
    expect(new Set(one.results.map((r) => r.finalEquity)).size).toBe(one.results.length);
  }, 180_000);
});

describe('promoting a strategy that trades on a model', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-promote-ml-'));

  it("refuses evidence from bars the model trained on, naming the model's training end", () => {
    const r = runCli('promote.ts', ['--strategy', 'ml-signal', '--out-dir', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model .*gbt-daily was trained on bars up to 2015-12-23, but the promotion data starts 1998-01-02/);
    expect(existsSync(path.join(out, 'ml-signal-af4a6a5d.json'))).toBe(false);
  }, 120_000);

  it("on later bars, runs the model in the backtest and the walk-forward, and ties the record to the model's card", () => {
    const r = runCli('promote.ts', [
      '--strategy',
      'ml-signal',
      '--out-dir',
      out,
      '--from',
      '2016-01-04',
      '--walk-forward',
      'train=2y,test=1y',
      '--config',
      path.join(out, 'none.json'),
    ]);
    // --config pointing nowhere is a clear error, not a crash
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/none\.json/);
    const ok = runCli('promote.ts', ['--strategy', 'ml-signal', '--out-dir', out, '--from', '2016-01-04', '--walk-forward', 'train=2y,test=1y']);
    expect(ok.stderr).toBe('');
    const file = ok.stdout.match(/promoted: wrote (.+\.json)/)![1];
    const record = JSON.parse(readFileSync(file, 'utf8'));
    expect(record.strategyFile).toMatch(/strategies\/ml-signal\.ts, models\/gbt-daily\/card\.json$/);
    // the model traded: trades in the full run and a Sharpe in every walk-forward test year
    expect(record.metrics.trades).toBeGreaterThan(20);
    expect(record.walkForward.windows.length).toBeGreaterThanOrEqual(2);
    for (const w of record.walkForward.windows) expect(typeof w.sharpe).toBe('number');
    expect(record.data.from).toBe('2016-01-04');
  }, 240_000);
});
