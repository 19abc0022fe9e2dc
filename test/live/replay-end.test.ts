// The live CLI pointed with --gateway at a standalone `npm run ib-sim`: when the simulator's replay ends
// it says so (notice 2900), and the runner stops as on SIGINT, with its report and journal written.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Contract, EventName, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { afterAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import { CODE, TEXT } from '../../engine/ib/protocol/ids.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { LiveRunner } from '../../engine/live/runner.ts';
import { config } from '../engine/harness.ts';
import { type StartedCli, startCli } from '../cli/run-cli.ts';
import { ApiClient } from '../ib/sim/sim-helpers.ts';
import { until } from './live-harness.ts';

type Child = StartedCli;

const children = new Set<ChildProcess>();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'replay-end-'));
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function start(script: string, args: string[]): Child {
  const c = startCli(script, args);
  children.add(c.child);
  return c;
}

const shown = (c: Child) => `\n--- stdout (end) ---\n${c.stdout().slice(-3000)}\n--- stderr (end) ---\n${c.stderr().slice(-3000)}`;

/** The exit code, or a failure showing what the process said if it does not exit within `ms`. */
async function exitOf(c: Child, ms: number, what: string): Promise<number | null> {
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms));
  const code = await Promise.race([c.exited, timeout]);
  if (code === 'timeout') throw new Error(`${what} did not exit within ${ms / 1000} s${shown(c)}`);
  return code;
}

function runner(port: number, out: string, symbol: string, extra: string[] = []): Child {
  return start('live.ts', [
    '--http',
    '127.0.0.1:0',
    '--gateway',
    `127.0.0.1:${port}`,
    '--lockstep',
    '--paper',
    '--symbols',
    symbol,
    '--params',
    '{"fast":10,"slow":30}',
    '--sizing',
    'fixed',
    '--quantity',
    '10',
    '--risk',
    'research',
    '--status-every',
    '0',
    '--out',
    out,
    ...extra,
  ]);
}

/** How many bars the session journaled as acted on, and the start of the last. */
const liveBars = async (file: string) => {
  const j = await LiveJournal.open(file);
  try {
    const r = await j.use(async (conn) =>
      (await conn.runAndReadAll('SELECT count(*)::INTEGER AS n, max(ts)::DOUBLE AS last FROM live_bars')).getRowObjectsJS(),
    );
    return { n: Number(r[0].n), last: Number(r[0].last) };
  } finally {
    await j.close();
  }
};

describe('npm run live --gateway against npm run ib-sim: the end of the replay', () => {
  it('the simulator sends notice 2900 when its replay ends; the runner stops gracefully on it, and one connecting later stops at once', async () => {
    const sim = start('ib-sim.ts', [
      '--port',
      '0',
      '--lockstep',
      '--data',
      'data/sample/minute',
      '--symbols',
      'SPY,IBM',
      '--from',
      '2013-10-07',
      '--to',
      '2013-10-07',
    ]);
    await until(() => /on 127\.0\.0\.1:\d+/.test(sim.stdout()) || sim.child.exitCode !== null, 60_000, `ib-sim to listen${shown(sim)}`);
    const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(sim.stdout())?.[1]);
    expect(port, shown(sim)).toBeGreaterThan(0);

    // a runner following the whole replay
    const outA = path.join(tmp, 'a');
    const a = runner(port, outA, 'SPY');
    expect(await exitOf(a, 150_000, 'the runner following the replay'), shown(a)).toBe(0);
    const finished = /replay finished at (\S+) \((\d+) batches\); told the clients \(notice 2900\)/.exec(sim.stdout());
    expect(finished, shown(sim)).not.toBeNull();
    const endIso = finished![1];
    expect(endIso.slice(0, 10)).toMatch(/^2013-10-0[78]$/);
    expect(a.stderr()).toContain(`stopping: ${TEXT.REPLAY_ENDED} at ${endIso}: no more market data will come (notice ${CODE.REPLAY_ENDED} from the gateway)`);
    // the same graceful path as SIGINT: the report and the journal, with every minute of the day acted on
    const report = JSON.parse(readFileSync(path.join(outA, 'report.json'), 'utf8'));
    expect(existsSync(path.join(outA, 'report.html'))).toBe(true);
    expect(report.orders.length).toBeGreaterThan(0);
    expect(report.config.symbols).toEqual(['SPY']);
    const bars = await liveBars(path.join(outA, 'journal.duckdb'));
    expect(bars.n).toBeGreaterThan(300);
    expect(bars.last + 60_000).toBe(Date.parse(endIso)); // the last minute of the replay was traded on before the stop

    // a runner that connects after the end hears the notice with the handshake and stops too
    const outB = path.join(tmp, 'b');
    // another client leaves a GTC limit order working on SPY: the start's reconciliation finds it before any
    // bar (a risk event with no bar time yet), and the report is still written
    const other = await ApiClient.connect(port, 77);
    const placed = other.waitFor(EventName.openOrder);
    const spy: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
    other.api.placeOrder(other.nextValidId, spy, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 1, lmtPrice: 1, tif: 'GTC' as never });
    await placed;
    other.api.disconnect();
    // (its trades left the account below 100,000)
    const b = runner(port, outB, 'SPY', ['--cash', '50000']);
    expect(await exitOf(b, 90_000, 'the runner connecting after the end'), shown(b)).toBe(0);
    expect(b.stderr()).toContain(`stopping: ${TEXT.REPLAY_ENDED} at ${endIso}`);
    expect(existsSync(path.join(outB, 'report.json'))).toBe(true);
    const reportB = JSON.parse(readFileSync(path.join(outB, 'report.json'), 'utf8'));
    expect(reportB.riskEvents.map((e: { check: string }) => e.check)).toContain('reconcile.foreignOrder');

    sim.child.stdin!.write('quit\n');
    expect(await exitOf(sim, 30_000, 'ib-sim')).toBe(0);
  }, 300_000);

  it('in real time the notice comes after the last 5-second bar: a runner stopping on it has every bar', async () => {
    const t0 = Date.parse('2013-10-07T09:30:00-04:00');
    const col = (f: (i: number) => number) => Float64Array.from({ length: 3 }, (_, i) => f(i));
    const series: BarSeries[] = [
      {
        symbol: 'SPY',
        interval: '1m',
        ts: col((i) => t0 + i * 60_000),
        open: col((i) => 170 + i),
        high: col((i) => 171 + i),
        low: col((i) => 169 + i),
        close: col((i) => 170.5 + i),
        volume: col(() => 1_000),
      },
    ];
    // as npm run ib-sim does: the notice once the replay has ended
    const sim = await IbGatewaySimulator.start({ series, speed: 60, autoStart: false });
    void sim.finished.then(() => sim.announceEnd());
    const journal = await LiveJournal.open(':memory:');
    const seen: number[] = [];
    const runner = new LiveRunner(
      config({ symbols: ['SPY'], interval: '1m', sizing: { kind: 'fixed', quantity: 10 } }),
      [{ name: 'watch', strategy: { onBar: (_ctx, bar) => void seen.push(bar.ts) }, weight: 1 }],
      { host: '127.0.0.1', port: sim.port, clientId: 1, account: 'DU1234567', lockstep: false, journal, runId: 'replay-end', statusEveryMs: 0 },
    );
    try {
      const notice = new Promise<{ message: string; heard: number }>((resolve) =>
        runner.conn.once('replayEnded', (message: string) => resolve({ message, heard: runner.gatewayTime })),
      );
      await runner.start();
      await until(() => sim.realTimeBarSubscriptions >= 1, 30_000, 'the subscription');
      sim.begin();
      const { message, heard } = await notice;
      expect(message).toBe(`${TEXT.REPLAY_ENDED} at 2013-10-07T13:33:00.000Z: no more market data will come`);
      expect(heard).toBe(sim.now()); // every 5-second bar had arrived before the notice
      const result = await runner.stop();
      expect(result.bars).toBe(3);
      expect(seen).toEqual([t0, t0 + 60_000, t0 + 120_000]);
      expect(runner.journal.logs.some((l) => l.kind === 'connection' && l.message.startsWith(`gateway notice ${CODE.REPLAY_ENDED}: `))).toBe(true);
    } finally {
      await sim.close();
      await journal.close();
    }
  }, 60_000);
});
