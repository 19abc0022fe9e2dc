import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { EventName, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';
import { ApiClient } from './sim/sim-helpers.ts';

const run = promisify(execFile);
const ib = (args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ib.ts'), ...args], { cwd: ROOT, timeout: 60_000 });

/** Two hand-made minute bars: enough for an account to trade. */
function bars(): BarSeries[] {
  const t = Date.parse('2020-01-02T10:00:00-05:00');
  const f = (xs: number[]) => Float64Array.from(xs);
  return [
    {
      symbol: 'SPY',
      interval: '1m',
      ts: f([t, t + 60_000]),
      open: f([100, 101]),
      high: f([101, 102]),
      low: f([99, 100]),
      close: f([100.5, 101.5]),
      volume: f([1_000, 1_000]),
    },
  ];
}

describe('npm run ib (gateway CLI) against the simulator', () => {
  it('status, account, positions, orders, executions, cancel-all and kill, as tables and --json', async () => {
    const sim = await IbGatewaySimulator.start({ series: bars(), speed: 'max' });
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

describe('npm run ib orders and executions with order ids per client', () => {
  it('lists each order with its client id: two clients may both use order id 1', async () => {
    const sim = await IbGatewaySimulator.start({ series: bars(), speed: 1 });
    const spy = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
    const clients = await Promise.all([1, 2].map((id) => ApiClient.connect(sim.port, id)));
    try {
      await Promise.all(
        clients.map((c, k) => {
          const placed = c.waitFor(EventName.orderStatus, (id: number, status: string) => id === 1 && status === 'Submitted');
          c.api.placeOrder(1, spy, {
            action: OrderAction.BUY,
            orderType: OrderType.LMT,
            totalQuantity: 10 + k,
            lmtPrice: 50,
            orderRef: `c${k + 1}`,
            transmit: true,
          });
          return placed;
        }),
      );
      const orders = JSON.parse((await ib(['orders', '--gateway', `127.0.0.1:${sim.port}`, '--json'])).stdout).orders;
      expect(orders.map((o: { clientId: number; id: number; qty: number; orderRef: string }) => [o.clientId, o.id, o.qty, o.orderRef])).toEqual([
        [1, 1, 10, 'c1'],
        [2, 1, 11, 'c2'],
      ]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await sim.close();
    }
  }, 60_000);
});

describe('npm run ib-sim', () => {
  const args = ['--port', '0', '--data', 'data/sample/minute', '--symbols', 'SPY', '--from', '2013-10-07', '--to', '2013-10-07'];

  /** Starts the CLI; `lines` yields its stdout lines, `send` writes a stdin command. */
  function simCli(extra: string[]) {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ib-sim.ts'), ...args, ...extra], { cwd: ROOT });
    const seen: string[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: p.stdout }).on('line', (l) => {
      seen.push(l);
      waiters.splice(0).forEach((w) => w());
    });
    const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
    const line = async (re: RegExp, timeoutMs = 30_000): Promise<string> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = seen.find((l) => re.test(l));
        if (hit) return hit;
        if (p.exitCode !== null || Date.now() > deadline) throw new Error(`no line ${re} from ib-sim; output: ${seen.join('\n')}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exited, new Promise((r) => setTimeout(r, 1_000))]);
      }
    };
    return { line, send: (cmd: string) => p.stdin.write(`${cmd}\n`), exited, kill: () => p.exitCode === null && p.kill() };
  }

  it('replays in real time by default, steps with --lockstep, writes a snapshot and resumes from it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ib-sim-cli-'));
    const file = path.join(dir, 'snap.json');
    const procs: ReturnType<typeof simCli>[] = [];
    try {
      const a = simCli([]);
      procs.push(a);
      expect(await a.line(/^IB Gateway simulator on/)).toMatch(/\(account DU1234567 in USD, 1 symbol, real time\)$/);
      a.send(`snapshot ${file}`);
      // --session rth (the default) replays the regular session only: the clock starts at 09:30 ET
      await a.line(/^wrote the state at 2013-10-07T13:30:00.000Z/);
      a.send('quit');
      expect(await a.exited).toBe(0);

      const b = simCli(['--lockstep', '--resume', file]);
      procs.push(b);
      expect(await b.line(/^IB Gateway simulator on/)).toMatch(/, lockstep\)$/);
      await b.line(/^resumed from .* at 2013-10-07T13:30:00.000Z/);
      b.send('quit');
      expect(await b.exited).toBe(0);
    } finally {
      for (const p of procs) p.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses --speed max (now --lockstep) and documents both in --help', () => {
    const bad = runCli('ib-sim.ts', ['--speed', 'max']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--speed max is now --lockstep/);
    const help = runCli('ib-sim.ts', ['--help']);
    expect(help.stdout).toMatch(/--speed N .*default 1: real time/);
    expect(help.stdout).toMatch(/--lockstep/);
  });
});
