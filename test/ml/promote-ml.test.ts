import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

describe('promoting a strategy that trades on a model', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-promote-ml-'));

  it("refuses evidence from bars the model trained on, naming the model's training end", () => {
    const r = runCli('promote.ts', ['--strategy', 'ml-signal', '--out-dir', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model .*gbt-daily was trained on bars up to 2015-12-23, but the promotion data starts 1998-01-02/);
    expect(existsSync(path.join(out, 'ml-signal-af4a6a5d.json'))).toBe(false);
  }, 120_000);

  it("on later bars, runs the model in the backtest and the walk-forward, and ties the record to the model's card", () => {
    const r = runCli('promote.ts', ['--strategy', 'ml-signal', '--out-dir', out, '--from', '2016-01-04', '--walk-forward', 'train=2y,test=1y', '--config', path.join(out, 'none.json')]);
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
