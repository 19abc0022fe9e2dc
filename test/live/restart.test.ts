// The live CLI killed with SIGKILL and started again, against one simulator that outlives it.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { ROOT } from '../cli/run-cli.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { until } from './live-harness.ts';

const DIR = 'data/lean-sample/minute/spy';
const run = promisify(execFile);

interface Runner {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

/** every runner started, so a failed test leaves none behind */
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function startRunner(port: number, out: string, extra: string[] = [], lockstep = true, params = '{"fast":10,"slow":30}'): Runner {
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'scripts/live.ts'),
    '--http',
    '127.0.0.1:0',
    '--gateway',
    `127.0.0.1:${port}`,
    ...(lockstep ? ['--lockstep'] : []),
    '--paper',
    '--symbols',
    'SPY',
    '--params',
    params,
    '--sizing',
    'fixed',
    '--quantity',
    '100',
    '--risk',
    'research',
    '--out',
    out,
    ...extra,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out1 = '';
  let err = '';
  child.stdout!.on('data', (d) => (out1 += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out1, stderr: () => err };
}

/** Waits for a line matching `re` on the runner's stdout; a timeout shows what it did say. */
async function waitFor(r: Runner, re: RegExp, ms: number, what: string): Promise<void> {
  try {
    await until(() => re.test(r.stdout()), ms, what);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- stdout (end) ---\n${r.stdout().slice(-3000)}\n--- stderr (end) ---\n${r.stderr().slice(-2000)}`);
  }
}

const rows = async (file: string, sql: string) => {
  const j = await LiveJournal.open(file);
  try {
    return await j.use(async (conn) => (await conn.runAndReadAll(sql)).getRowObjectsJS());
  } finally {
    await j.close();
  }
};

/**
 * Lockstep replays two whole days (the external simulator waits while the runner is down); real time
 * replays two hours of one morning at 120x (the market moves on while the runner is down).
 */
const MODES = [
  {
    name: 'lockstep',
    lockstep: true,
    speed: 'max' as const,
    from: '2013-10-07T00:00:00-04:00',
    to: '2013-10-08T23:59:59-04:00',
    traded: 6_000,
    fills: 6,
    params: '{"fast":10,"slow":30}',
  },
  {
    name: 'real time (120x)',
    lockstep: false,
    speed: 120,
    from: '2013-10-07T09:30:00-04:00',
    to: '2013-10-07T11:29:59-04:00',
    traded: 20 * 12,
    fills: 2,
    params: '{"fast":2,"slow":5}',
  },
];

describe.skipIf(!sharedAvailable(DIR)).each(MODES)('the live runner killed with SIGKILL, then restarted: $name', (mode) => {
  let series: BarSeries[];
  beforeAll(async () => {
    const src = await openStore(':memory:');
    await importPaths(src, [path.join(SHARED, DIR)], { interval: '1m' });
    series = await loadBars(src, { symbols: ['SPY'], interval: '1m', from: Date.parse(mode.from), to: Date.parse(mode.to) });
    src.close();
  });
  let sim: IbGatewaySimulator | undefined;
  afterAll(() => sim?.close());
  const start = (port: number, out: string, extra: string[] = []) => startRunner(port, out, extra, mode.lockstep, mode.params);
  const batches = () => series[0].ts.length * 12;

  it('reconciles and carries on: positions match the broker, every fill journaled once, no order sent twice', async () => {
    sim = await IbGatewaySimulator.start({ series, speed: mode.speed, commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-restart-'));
    try {
      const first = start(sim.port, out);
      // kill it once it has traded and the replay is well under way
      await until(() => sim!.account.executions.length >= mode.fills && sim!.stats.batches >= mode.traded, 90_000, 'the first session to trade');
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe(null);
      const killedAt = sim.stats.batches;
      const second = start(sim.port, out);
      await waitFor(second, /resuming run/, 60_000, 'the restarted runner to resume');
      await sim.finished;
      second.child.kill('SIGTERM');
      expect(await second.exited, second.stderr()).toBe(0);
      expect(sim.stats.batches).toBeGreaterThan(killedAt);

      const journal = path.join(out, 'journal.duckdb');
      const execIds = (await rows(journal, 'SELECT exec_id FROM fills ORDER BY seq')).map((f) => String(f.exec_id));
      expect(new Set(execIds).size).toBe(execIds.length); // every fill once
      expect(execIds.sort()).toEqual(sim.account.executions.map((e) => e.execId).sort()); // and none missing
      // the broker never got an order twice: one IB order per engine order (orderRef)
      const refs = [...sim.account.orders.values()].map((o) => o.ib.orderRef);
      expect(refs.length).toBeGreaterThan(mode.fills - 1);
      expect(new Set(refs).size).toBe(refs.length);
      expect(refs.every((r) => /^tb:\w+:\d+$/.test(r))).toBe(true);
      expect(second.stdout()).toMatch(/resuming run \w+: \d+ orders, \d+ fills/);
      expect(second.stdout()).toMatch(/reconciled \(start\): .*positions agree/);
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      const ours = report.openPositions.find((p: { symbol: string }) => p.symbol === 'SPY')?.quantity ?? 0;
      expect(ours).toBe(sim.account.ledger.qty[0]);
      expect(report.fills.length).toBe(sim.account.executions.length);
    } finally {
      await sim.close();
    }
  }, 180_000);

  it('a tripped breaker survives SIGKILL: the restarted runner stays halted and sends nothing until a person resets it', async () => {
    sim = await IbGatewaySimulator.start({ series, speed: mode.speed, commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-breaker-'));
    try {
      const first = start(sim.port, out);
      await until(() => sim!.account.executions.length >= 2, 90_000, 'the first session to trade');
      first.child.kill('SIGUSR2'); // the kill switch
      await waitFor(first, /RISK circuitBreaker\.kill/, 30_000, 'the kill switch to be journaled');
      first.child.kill('SIGKILL');
      await first.exited;
      const ordersAtCrash = sim.account.orders.size;

      const second = start(sim.port, out);
      await waitFor(second, /resuming run/, 60_000, 'the restarted runner to resume');
      await waitFor(
        second,
        /the circuit breaker is still tripped \(circuit breaker tripped: kill switch \(SIGUSR2\)\)/,
        30_000,
        'the restored breaker to be reported',
      );
      // let the replay run on: the strategy keeps deciding, the breaker blocks, nothing reaches the broker
      const from = sim.stats.batches;
      await until(() => sim!.stats.batches >= Math.min(from + (mode.lockstep ? 2_000 : 120), batches() - 1), 90_000, 'the replay to go on');
      await waitFor(second, /blocked: circuit breaker tripped/, 60_000, 'a blocked order');
      expect(sim.account.orders.size).toBe(ordersAtCrash);

      second.child.stdin!.write('reset\n');
      await waitFor(second, /circuit breaker reset by the operator \(typed command\)/, 30_000, 'the reset');
      await sim.finished;
      second.child.kill('SIGTERM');
      expect(await second.exited, second.stderr()).toBe(0);
      expect(sim.account.orders.size).toBeGreaterThan(ordersAtCrash); // trading resumed after the reset, not before

      const risk = (
        await rows(path.join(out, 'journal.duckdb'), "SELECT check_name, message FROM risk_events WHERE check_name LIKE 'circuitBreaker.%' ORDER BY seq")
      ).map((r) => String(r.check_name));
      expect(risk.slice(0, 1)).toEqual(['circuitBreaker.kill']);
      expect(risk).toContain('circuitBreaker.reset');
    } finally {
      await sim.close();
    }
  }, 240_000);

  it('changes at the broker while the runner was down are found and shown, and stop trading', async () => {
    sim = await IbGatewaySimulator.start({ series, speed: mode.speed, commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-brokerside-'));
    try {
      const first = start(sim.port, out);
      await until(() => sim!.account.ledger.qty[0] !== 0, 90_000, 'a position');
      first.child.kill('SIGKILL');
      await first.exited;
      // someone flattens at the broker while the runner is down (another client id)
      // (not spawnSync: the simulator lives in this process and must keep answering)
      const kill = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ib.ts'), 'kill', '--gateway', `127.0.0.1:${sim.port}`], {
        cwd: ROOT,
        timeout: 60_000,
      });
      expect(kill.stdout).toMatch(/SPY/);
      const second = start(sim.port, out, ['--reconcile-every', '0.2']);
      await waitFor(second, /RISK reconcile\.position/, 90_000, 'the position difference to be found');
      // in lockstep the replay waited: the flattening order still works at the broker when the runner comes back
      if (mode.lockstep) expect(second.stdout()).toMatch(/RISK reconcile\.foreignOrder: a foreign order \d+ SELL \d+ SPY works at the broker/);
      expect(second.stdout()).toMatch(/RISK circuitBreaker\.reconcile: circuit breaker tripped: the broker's positions differ from the journal's \(SPY\)/);
      second.child.kill('SIGTERM');
      expect(await second.exited, second.stderr()).toBe(0);
    } finally {
      await sim.close();
    }
  }, 180_000);
});

describe.skipIf(!sharedAvailable(DIR))('the embedded simulator (no --gateway) across a SIGKILL', () => {
  const args = (out: string) => [
    '--import',
    'tsx',
    path.join(ROOT, 'scripts/live.ts'),
    '--http',
    '127.0.0.1:0',
    '--paper',
    '--lockstep',
    '--data',
    path.join(SHARED, DIR),
    '--from',
    '2013-10-07',
    '--to',
    '2013-10-08',
    '--symbols',
    'SPY',
    '--params',
    '{"fast":10,"slow":30}',
    '--sizing',
    'fixed',
    '--quantity',
    '100',
    '--risk',
    'research',
    '--status-every',
    '0',
    '--out',
    out,
  ];
  const launch = (out: string): Runner => {
    const child = spawn(process.execPath, args(out), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let o = '';
    let e = '';
    child.stdout!.on('data', (d) => (o += d));
    child.stderr!.on('data', (d) => (e += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, stdout: () => o, stderr: () => e };
  };
  const fills = (r: Runner) => (r.stdout().match(/ fill SPY /g) ?? []).length;

  it('resumes the simulated account, orders and clock from the journal: the broker and the runner agree', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-embedded-'));
    const first = launch(out);
    await until(() => fills(first) >= 4, 90_000, 'the first session to trade');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = launch(out);
    await waitFor(second, /resuming run/, 60_000, 'the second session to resume');
    expect(await second.exited, second.stderr()).toBe(0); // the replay ran to its end
    expect(second.stderr()).toMatch(/replaying SPY 1m \(lockstep\), resumed from the journal/);
    expect(second.stdout()).toMatch(/reconciled \(start\): .*positions agree/);
    expect(second.stdout()).not.toMatch(/RISK reconcile\.position/);
    const journal = path.join(out, 'journal.duckdb');
    const execIds = (await rows(journal, "SELECT exec_id FROM fills WHERE run_id NOT LIKE '%/sim' ORDER BY seq")).map((f) => String(f.exec_id));
    expect(new Set(execIds).size).toBe(execIds.length);
    expect(execIds.length).toBeGreaterThan(4);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const held = report.fills.reduce((q: number, f: { quantity: number }) => q + f.quantity, 0);
    expect(report.openPositions.find((p: { symbol: string }) => p.symbol === 'SPY')?.quantity ?? 0).toBe(held);
  }, 180_000);

  it('refuses to resume a session whose simulator state is missing, saying what to do', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-embedded-'));
    const first = launch(out);
    await until(() => fills(first) >= 1, 90_000, 'the first session to trade');
    first.child.kill('SIGKILL');
    await first.exited;
    const j = await LiveJournal.open(path.join(out, 'journal.duckdb'));
    await j.use((conn) => conn.run("DELETE FROM live_state WHERE run_id LIKE '%/sim'"));
    await j.close();
    const second = launch(out);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(
      /the journal already holds a session of run \w+ \(\d+ bars\) but no simulator state to resume it from: start over with another --out/,
    );
  }, 120_000);
});

describe('start-up: flags are checked before connecting, and a stop is honoured while connecting', () => {
  it('a client id that is not a number is refused at once, naming the flag', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/live.ts'), '--http', 'off', '--gateway', '127.0.0.1:1', '--paper', '--client-id', 'abc'],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--client-id must be a whole number, got 'abc'/);
  });

  it('SIGTERM while the gateway never answers: exits 0, saying so', async () => {
    // a socket that accepts and never speaks: the runner waits for the handshake
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-connecting-'));
    try {
      const r = startRunner(port, out, [], false);
      await until(() => /connecting to the gateway at 127\.0\.0\.1:\d+ as client 1/.test(r.stderr()), 30_000, 'the runner to connect');
      r.child.kill('SIGTERM');
      expect(await r.exited).toBe(0);
      expect(r.stderr()).toMatch(/stopped before the session started/);
    } finally {
      silent.close();
    }
  }, 60_000);
});
