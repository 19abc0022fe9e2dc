import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { ROOT } from '../cli/run-cli.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const DIR = 'data/lean-sample/minute/spy';

function startRunner(port: number, out: string): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const args = ['--import', 'tsx', path.join(ROOT, 'scripts/live.ts'), '--gateway', `127.0.0.1:${port}`, '--lockstep', '--paper', '--symbols', 'SPY', '--params', '{"fast":10,"slow":30}', '--sizing', 'fixed', '--quantity', '100', '--risk', 'research', '--max-req-per-sec', '1000000', '--out', out];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

const until = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe.skipIf(!sharedAvailable(DIR))('the live runner killed with SIGKILL, then restarted', () => {
  it('reconciles and carries on: positions match the broker, every fill journaled once, no order sent twice', async () => {
    const src = await openStore(':memory:');
    await importPaths(src, [path.join(SHARED, DIR)], { interval: '1m' });
    const series = await loadBars(src, { symbols: ['SPY'], interval: '1m', from: Date.parse('2013-10-07T00:00:00-04:00'), to: Date.parse('2013-10-08T23:59:59-04:00') });
    src.close();
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' } });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-restart-'));
    try {
      const first = startRunner(sim.port, out);
      // kill it once it has traded and the replay is well under way
      await until(() => sim.account.executions.length >= 6 && sim.stats.batches >= 6_000, 90_000, 'the first session to trade');
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe(null);
      const killedAt = sim.stats.batches;
      const second = startRunner(sim.port, out);
      await until(() => /resuming run/.test(second.stderr()), 60_000, 'the restarted runner to resume');
      await sim.finished;
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(sim.stats.batches).toBeGreaterThan(killedAt);

      const journal = await openStore(path.join(out, 'journal.duckdb'));
      try {
        const q = async (sql: string) => (await journal.conn.runAndReadAll(sql)).getRowObjectsJS();
        const fills = await q('SELECT exec_id FROM fills ORDER BY seq');
        const execIds = fills.map((f) => String(f.exec_id));
        expect(new Set(execIds).size).toBe(execIds.length); // every fill once
        expect(execIds.sort()).toEqual(sim.account.executions.map((e) => e.execId).sort()); // and none missing
        const orders = await q('SELECT count(*) AS n FROM orders');
        expect(Number(orders[0].n)).toBeGreaterThan(0);
        // the broker never got an order twice: one IB order per engine order (orderRef)
        const refs = [...sim.account.orders.values()].map((o) => o.ib.orderRef);
        expect(refs.length).toBeGreaterThan(5);
        expect(new Set(refs).size).toBe(refs.length);
        expect(refs.every((r) => /^tb:\w+:\d+$/.test(r))).toBe(true);
        const logs = second.stderr();
        expect(logs).toMatch(/resuming run \w+: \d+ orders, \d+ fills/);
      } finally {
        journal.close();
      }
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      const brokerPosition = sim.account.ledger.qty[0];
      const ours = report.openPositions.find((p: { symbol: string }) => p.symbol === 'SPY')?.quantity ?? 0;
      expect(ours).toBe(brokerPosition);
      expect(report.fills.length).toBe(sim.account.executions.length);
    } finally {
      await sim.close();
    }
  }, 180_000);
});
