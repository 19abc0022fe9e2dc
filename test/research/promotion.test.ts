import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, findPromotion, promotionFailures, sha256 } from '../../engine/research/promotion.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';

describe('promotion thresholds', () => {
  const good = { sharpe: 1.2, maxDrawdown: -0.2, trades: 50, inSampleSharpe: 1.0, outOfSampleSharpe: 0.8 };
  it('passes evidence that clears every threshold', () => {
    expect(promotionFailures(good, DEFAULT_THRESHOLDS)).toEqual([]);
  });
  it('names every miss with its value and limit', () => {
    const f = promotionFailures({ sharpe: 0.3, maxDrawdown: -0.5, trades: 3, inSampleSharpe: 1.5, outOfSampleSharpe: 0.2 }, DEFAULT_THRESHOLDS);
    expect(f).toEqual([
      'Sharpe 0.300 is below the minimum 0.5',
      'max drawdown -50.0% is deeper than the limit -35.0%',
      '3 trades are fewer than the minimum 20',
      'out-of-sample Sharpe 0.200 is far worse than in-sample 1.500 (needs at least 0.5 x)',
    ]);
    expect(promotionFailures({ ...good, sharpe: null }, DEFAULT_THRESHOLDS)[0]).toMatch(/Sharpe undefined/);
  });
});

describe('npm run promote and the live runner', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-promote-'));
  const lenient = path.join(dir, 'lenient.json');
  writeFileSync(lenient, JSON.stringify({ minSharpe: 0.1, maxDrawdown: -0.6, minTrades: 5, minOosToIsSharpe: 0.1 }));

  it('refuses a strategy that misses a threshold, with the reason, and writes nothing', () => {
    const strict = runCli('promote.ts', ['--symbols', 'SPY', '--out-dir', dir]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/not promoted:\n {2}- Sharpe 0\.\d+ is below the minimum 0\.5/);
    expect(findPromotion(dir, 'sma-cross', sha256(readFileSync(path.join(ROOT, 'strategies/sma-cross.ts'), 'utf8')), { fast: 10, slow: 30 })).toBeUndefined();
  }, 120_000);

  it('writes a readable record tied to the source hash; a changed file has none; live accepts only a promoted strategy', () => {
    const r = runCli('promote.ts', ['--symbols', 'SPY', '--out-dir', dir, '--config', lenient]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = /promoted: wrote (.+\.json)/.exec(r.stdout)![1];
    const record = JSON.parse(readFileSync(file, 'utf8'));
    const source = readFileSync(path.join(ROOT, 'strategies/sma-cross.ts'), 'utf8');
    expect(record).toMatchObject({
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      symbols: ['SPY'],
      strategyFileHash: sha256(source),
      thresholds: { minSharpe: 0.1 },
    });
    expect(record.data.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.walkForward.windows.length).toBeGreaterThan(5);
    expect(readFileSync(file, 'utf8')).toContain('\n  "strategy": "sma-cross",'); // pretty, diffable
    expect(findPromotion(dir, 'sma-cross', sha256(source), { fast: 10, slow: 30 })).toBeDefined();
    expect(findPromotion(dir, 'sma-cross', sha256(`${source}// changed\n`), { fast: 10, slow: 30 })).toBeUndefined();
    expect(findPromotion(dir, 'sma-cross', sha256(source), { fast: 5, slow: 30 })).toBeUndefined();

    // a live account names its risk profile (no default without --paper)
    const noRisk = runCli('live.ts', ['--symbols', 'SPY', '--promoted-dir', dir]);
    expect(noRisk.code).toBe(1);
    expect(noRisk.stderr).toMatch(/^error: --risk is required for a live account \(no --paper\)/);
    const refused = runCli('live.ts', ['--symbols', 'SPY', '--params', '{"fast":5}', '--promoted-dir', dir, '--risk', 'seed']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a live account needs a promotion record for sma-cross \{"fast":5,"slow":30\}/);
    const accepted = runCli('live.ts', [
      '--http',
      '127.0.0.1:0',
      '--symbols',
      'SPY',
      '--promoted-dir',
      dir,
      '--risk',
      'research',
      '--lockstep',
      '--from',
      '2013-10-07',
      '--to',
      '2013-10-07',
      '--out',
      path.join(dir, 'live'),
    ]);
    expect(accepted.stderr).toMatch(/live account: sma-cross promoted on/);
    expect(accepted.code).toBe(0);
  }, 180_000);
});
