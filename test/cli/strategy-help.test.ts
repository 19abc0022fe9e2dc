import { describe, expect, it } from 'vitest';
import { strategyHelp } from '../../strategies/index.ts';
import { runCli } from './run-cli.ts';

describe('--help lists every strategy with its params (from the definitions)', () => {
  for (const script of ['backtest.ts', 'sweep.ts', 'live.ts']) {
    it(script, () => {
      const r = runCli(script, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(strategyHelp());
      expect(r.stdout).toContain('  ml-signal ');
      expect(r.stdout).toMatch(/--strategy NAME +a strategy listed below, or portfolio \(default sma-cross\)/);
    });
  }
});
