import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli/run-cli.ts';

describe('npm run build (the compiled engine notebooks import: tslab cannot import .ts specifiers)', () => {
  it('emits JavaScript with rewritten imports that runs a backtest in plain Node', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-build-'));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], {
      cwd: ROOT,
    });
    const probe = `
      const { runBacktest } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'engine/run/backtest.js')).href)});
      const { buildSlots } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'strategies/index.js')).href)});
      const { RESEARCH_RISK } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'engine/risk/limits.js')).href)});
      const n = 200, ts = Float64Array.from({ length: n }, (_, i) => Date.UTC(2020, 0, 1) + i * 864e5);
      const close = Float64Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 10));
      const s = { symbol: 'X', interval: '1d', ts, open: close, high: close.map((c) => c + 1), low: close.map((c) => c - 1), close, volume: close.map(() => 1e6) };
      const cfg = { strategy: 'sma-cross', params: {}, symbols: ['X'], interval: '1d', cash: 1e5, commission: { model: 'none' }, slippage: { model: 'none' }, sizing: { kind: 'all-in' }, risk: RESEARCH_RISK, volumeCap: 0, bracketTie: 'stop', tz: 'UTC', rfAnnual: 0 };
      console.log(runBacktest([s], cfg, buildSlots('sma-cross', {}, ['X'])).engine.trades.length);`;
    // run outside the repo's package.json scope as ESM, the way a notebook kernel loads it
    const trades = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: out, encoding: 'utf8' });
    expect(Number(trades.trim())).toBeGreaterThan(0);
  }, 60_000);
});
