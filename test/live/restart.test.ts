// The live CLI killed with SIGKILL and started again, against one simulator that outlives it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

interface Runner {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

function startRunner(port: number, out: string, extra: string[] = [], lockstep = true): Runner {
  const args = ['--import', 'tsx', path.join(ROOT, 'scripts/live.ts'), '--gateway', `127.0.0.1:${port}`, ...(lockstep ? ['--lockstep'] : []), '--paper', '--symbols', 'SPY', '--params', '{"fast":10,"slow":30}', '--sizing', 'fixed', '--quantity', '100', '--risk', 'research', '--out', out, ...extra];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out1 = '';
  let err = '';
  child.stdout!.on('data', (d) => (out1 += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out1, stderr: () => err };
}

const rows = async (file: string, sql: string) => {
  const j = await LiveJournal.open(file);
  try {
    return await j.use(async (conn) => (await conn.runAndReadAll(sql)).getRowObjectsJS());
  } finally {
    await j.close();
  }
};

describe.skipIf(!sharedAvailable(DIR))('the live runner killed with SIGKILL, then restarted', () => {
  let series: BarSeries[];
  beforeAll(async () => {
    const src = await openStore(':memory:');
    await importPaths(src, [path.join(SHARED, DIR)], { interval: '1m' });
    series = await loadBars(src, { symbols: ['SPY'], interval: '1m', from: Date.parse('2013-10-07T00:00:00-04:00'), to: Date.parse('2013-10-08T23:59:59-04:00') });
    src.close();
  });
  let sim: IbGatewaySimulator | undefined;
  afterAll(() => sim?.close());

  it('reconciles and carries on: positions match the broker, every fill journaled once, no order sent twice', async () => {
    sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-restart-'));
    try {
      const first = startRunner(sim.port, out);
      // kill it once it has traded and the replay is well under way
      await until(() => sim!.account.executions.length >= 6 && sim!.stats.batches >= 6_000, 90_000, 'the first session to trade');
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe(null);
      const killedAt = sim.stats.batches;
      const second = startRunner(sim.port, out);
      await until(() => /resuming run/.test(second.stdout()), 60_000, 'the restarted runner to resume');
      await sim.finished;
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(sim.stats.batches).toBeGreaterThan(killedAt);

      const journal = path.join(out, 'journal.duckdb');
      const execIds = (await rows(journal, 'SELECT exec_id FROM fills ORDER BY seq')).map((f) => String(f.exec_id));
      expect(new Set(execIds).size).toBe(execIds.length); // every fill once
      expect(execIds.sort()).toEqual(sim.account.executions.map((e) => e.execId).sort()); // and none missing
      // the broker never got an order twice: one IB order per engine order (orderRef)
      const refs = [...sim.account.orders.values()].map((o) => o.ib.orderRef);
      expect(refs.length).toBeGreaterThan(5);
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
    sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-breaker-'));
    try {
      const first = startRunner(sim.port, out);
      await until(() => sim!.account.executions.length >= 2, 90_000, 'the first session to trade');
      first.child.kill('SIGUSR2'); // the kill switch
      await until(() => /RISK circuitBreaker\.kill/.test(first.stdout()), 30_000, 'the kill switch to be journaled');
      first.child.kill('SIGKILL');
      await first.exited;
      const ordersAtCrash = sim.account.orders.size;

      const second = startRunner(sim.port, out);
      await until(() => /resuming run/.test(second.stdout()), 60_000, 'the restarted runner to resume');
      expect(second.stdout()).toMatch(/the circuit breaker is still tripped \(circuit breaker tripped: kill switch \(SIGUSR2\)\)/);
      // let the replay run on: the strategy keeps deciding, the breaker blocks, nothing reaches the broker
      const from = sim.stats.batches;
      await until(() => sim!.stats.batches >= from + 4_000 || sim!.stats.batches >= 23_000, 90_000, 'the replay to go on');
      await until(() => /blocked: circuit breaker tripped/.test(second.stdout()), 60_000, 'a blocked order');
      expect(sim.account.orders.size).toBe(ordersAtCrash);

      second.child.stdin!.write('reset\n');
      await until(() => /circuit breaker reset by the operator \(typed command\)/.test(second.stdout()), 30_000, 'the reset');
      await sim.finished;
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(sim.account.orders.size).toBeGreaterThan(ordersAtCrash); // trading resumed after the reset, not before

      const risk = (await rows(path.join(out, 'journal.duckdb'), "SELECT check_name, message FROM risk_events WHERE check_name LIKE 'circuitBreaker.%' ORDER BY seq")).map((r) => String(r.check_name));
      expect(risk.slice(0, 1)).toEqual(['circuitBreaker.kill']);
      expect(risk).toContain('circuitBreaker.reset');
    } finally {
      await sim.close();
    }
  }, 240_000);

  it('changes at the broker while the runner was down are found and shown, and stop trading', async () => {
    sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-brokerside-'));
    try {
      const first = startRunner(sim.port, out);
      await until(() => sim!.account.ledger.qty[0] !== 0, 90_000, 'a position');
      first.child.kill('SIGKILL');
      await first.exited;
      // someone flattens at the broker while the runner is down (another client id)
      const kill = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/ib.ts'), 'kill', '--gateway', `127.0.0.1:${sim.port}`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(kill.status, kill.stderr).toBe(0);
      const second = startRunner(sim.port, out, ['--reconcile-every', '0.2']);
      await until(() => /RISK reconcile\.position/.test(second.stdout()), 90_000, 'the position difference to be found');
      expect(second.stdout()).toMatch(/RISK reconcile\.foreignOrder: a foreign order \d+ SELL \d+ SPY works at the broker/);
      expect(second.stdout()).toMatch(/RISK circuitBreaker\.reconcile: circuit breaker tripped: the broker's positions differ from the journal's \(SPY\)/);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await sim.close();
    }
  }, 180_000);
});

describe('start-up: flags are checked before connecting, and a stop is honoured while connecting', () => {
  it('a client id that is not a number is refused at once, naming the flag', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/live.ts'), '--gateway', '127.0.0.1:1', '--paper', '--client-id', 'abc'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--client-id must be a whole number >= 0, got 'abc'/);
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
