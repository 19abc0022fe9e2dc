import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { ROOT } from '../cli/run-cli.ts';

const run = promisify(execFile);
const ib = (args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ib.ts'), ...args], { cwd: ROOT, timeout: 60_000 });

/** Two hand-made minute bars: enough for an account to trade. */
function bars(): BarSeries[] {
  const t = Date.parse('2020-01-02T10:00:00-05:00');
  const f = (xs: number[]) => Float64Array.from(xs);
  return [{ symbol: 'SPY', interval: '1m', ts: f([t, t + 60_000]), open: f([100, 101]), high: f([101, 102]), low: f([99, 100]), close: f([100.5, 101.5]), volume: f([1_000, 1_000]) }];
}

describe('npm run ib (gateway CLI) against the simulator', () => {
  it('status, account, positions, orders, executions, cancel-all and kill, as tables and --json', async () => {
    const sim = await IbGatewaySimulator.start({ series: bars() });
    const gw = ['--gateway', `127.0.0.1:${sim.port}`];
    try {
      const status = JSON.parse((await ib(['status', ...gw, '--json'])).stdout);
      expect(status.status[0]).toMatchObject({ connected: 'yes', accounts: 'DU1234567' });
      const table = (await ib(['account', ...gw])).stdout;
      expect(table).toMatch(/NetLiquidation\s+100000/);
      expect(JSON.parse((await ib(['positions', ...gw, '--json'])).stdout)).toEqual({ positions: [] });
      expect(JSON.parse((await ib(['orders', ...gw, '--json'])).stdout)).toEqual({ orders: [] });
      expect(JSON.parse((await ib(['executions', ...gw, '--json'])).stdout)).toEqual({ executions: [] });
      expect((await ib(['cancel-all', ...gw])).stdout).toMatch(/reqGlobalCancel/);
      expect(JSON.parse((await ib(['kill', ...gw, '--json'])).stdout)).toEqual({ kill: [] });
      const bad = await ib(['status', '--gateway', '127.0.0.1:1']).catch((e) => e);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/no answer from a gateway at 127\.0\.0\.1:1/);
    } finally {
      await sim.close();
    }
  }, 120_000);
});
