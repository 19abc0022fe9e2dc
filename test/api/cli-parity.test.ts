// tb.backtest and `npm run backtest` are one code path: the same options give the same report.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tb from '../../engine/index.ts';
import { runCli } from '../cli/run-cli.ts';

describe('tb.backtest against npm run backtest', () => {
  it('gives the report.json of the CLI run with the same options (defaults included)', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-parity-'));
    try {
      const cli = runCli('backtest.ts', ['--symbols', 'AAPL,IBM', '--from', '2012-01-01', '--params', '{"fast":10,"slow":50}', '--out', out]);
      expect(cli.code, cli.stderr).toBe(0);
      const fromCli = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      const r = await tb.backtest({ strategy: 'sma-cross', params: { fast: 10, slow: 50 }, symbols: ['AAPL', 'IBM'], from: '2012-01-01' });
      expect(JSON.parse(JSON.stringify(r.report))).toEqual(fromCli);
      expect(r.trades().shape[0]).toBe(fromCli.trades.length);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
