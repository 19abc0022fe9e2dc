// Faults that come from outside the runner's own code: a broker that reuses an execution id, and a
// disk that fills up under the journal. Real simulators over TCP, the real IB client, real files.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName, type Execution as IbExecution } from '@stoqey/ib';
import { describe, expect, it, vi } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import type { SimSnapshot } from '../../engine/ib/sim/snapshot.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { LiveRunner, type LiveOptions } from '../../engine/live/runner.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { config } from '../engine/harness.ts';
import { ROOT } from '../cli/run-cli.ts';
import { devFullWorks, fillDiskUnder } from './broker-faults-full-disk.ts';
import { until } from './live-harness.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2013-10-07T09:30:00-04:00');
const COMMISSION = { model: 'ibkr-fixed' } as const;
const CASH = 1_000_000;

/** One symbol of minute bars whose close is `px(i)`. */
function minutes(symbol: string, count: number, px: (i: number) => number): BarSeries[] {
  const col = (f: (i: number) => number) => Float64Array.from({ length: count }, (_, i) => f(i));
  return [
    {
      symbol,
      interval: '1m',
      ts: col((i) => T0 + i * MINUTE),
      open: col(px),
      high: col((i) => px(i) + 0.05),
      low: col((i) => px(i) - 0.05),
      close: col(px),
      volume: col(() => 1_000),
    },
  ];
}
const zigzag = (i: number) => 50 + ((i * 7) % 5) * 0.1;

const cfgFor = (series: BarSeries[]) =>
  config({
    strategy: 'scripted',
    symbols: series.map((s) => s.symbol),
    interval: '1m',
    sizing: { kind: 'fixed', quantity: 10 },
    commission: COMMISSION,
    risk: RESEARCH_RISK,
    cash: CASH / 2,
  }); // commissions lower the account's net liquidation below its cash

/** Buys `n` shares at the market when the n-th bar closes, for n in [from, to]: every order has its own size. */
const buyer = (from: number, to: number): Strategy => ({
  onBar(ctx, bar) {
    const n = ctx.count(bar.sid);
    if (n >= from && n <= to) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: n });
  },
});

function runnerOn(port: number, journal: LiveJournal, runId: string, series: BarSeries[], strategy: Strategy, o: Partial<LiveOptions> = {}): LiveRunner {
  return new LiveRunner(cfgFor(series), [{ name: 'buyer', strategy, weight: 1 }], {
    host: '127.0.0.1',
    port,
    clientId: 1,
    account: 'DU1234567',
    lockstep: true,
    journal,
    runId,
    maxReqPerSec: 1_000_000,
    statusEveryMs: 0,
    ...o,
  });
}

const rowsOf = (journal: LiveJournal, sql: string, params: (string | number)[] = []) =>
  journal.use(async (conn) => (await conn.runAndReadAll(sql, params)).getRowObjectsJS());

/** The engine order id in an orderRef `tb:<run>:<id>` of `runId` (undefined: another run's, or none). */
const refId = (runId: string, ref: string) => {
  const m = /^tb:([^:]+):(\d+)$/.exec(ref);
  return m && m[1] === runId ? Number(m[2]) : undefined;
};

describe('the broker reuses an execution id', () => {
  it('an execution id that comes again with other content is a conflict: journaled, the breaker trips, not booked, nothing more sent', async () => {
    const series = minutes('S00', 300, zigzag);
    const RUN = 'reused-exec';
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-reused-exec-'));
    const journal = await LiveJournal.open(path.join(dir, 'journal.duckdb'));
    try {
      // An execId is `<account conId>.<lifetime start, base 36>.<sequence>.01.01`, and a resumed simulator
      // always starts a later lifetime than its snapshot's (and than any other in its process). A gateway
      // whose clock went back does reuse them: simulator A runs a lifetime that starts a day ahead (resumed
      // from a pristine snapshot dated so), and simulator B is a new process (a fresh instance of the
      // simulator module: its lifetime counter starts again) resumed from A's snapshot with the lifetime
      // and the execution sequence set back. B's lifetime then starts at A's instant, and its executions
      // count again from 1: ids A already gave, now for other orders.
      const ahead = Date.now() + DAY;
      const s0 = await IbGatewaySimulator.start({ series, speed: 'max', commission: COMMISSION, cash: CASH });
      const pristine = s0.snapshot();
      await s0.close();
      const simA = await IbGatewaySimulator.start({ series, speed: 'max', commission: COMMISSION, cash: CASH, resume: { ...pristine, lifetime: ahead - 1 } });
      let snapA: SimSnapshot;
      try {
        expect(simA.snapshot().lifetime).toBe(ahead);
        // session 1: buys 2, 3 and 4 shares at the close of bars 2, 3 and 4
        const first = runnerOn(simA.port, journal, RUN, series, buyer(2, 4));
        await first.start();
        await until(() => first.journal.fills.length >= 3, 60_000, 'three fills in the first session');
        await first.stop();
        snapA = simA.snapshot();
      } finally {
        await simA.close();
      }
      const booked = new Map(
        (await rowsOf(journal, 'SELECT exec_id, symbol, qty, price FROM fills WHERE run_id = $1 ORDER BY seq', [RUN])).map((r) => [
          String(r.exec_id),
          { symbol: String(r.symbol), qty: Number(r.qty), price: Number(r.price) },
        ]),
      );
      expect([...booked.values()].map((f) => f.qty)).toEqual([2, 3, 4]);
      expect([...booked.keys()].every((id) => id.split('.')[1] === ahead.toString(36))).toBe(true);

      const tampered: SimSnapshot = structuredClone(snapA);
      tampered.lifetime = ahead - 1;
      tampered.state.execSeq = 0;
      vi.resetModules();
      const { IbGatewaySimulator: SimInNewProcess } = await import('../../engine/ib/sim/simulator.ts');
      const simB = await SimInNewProcess.start({ series, speed: 'max', commission: COMMISSION, cash: CASH, resume: tampered });
      const printed: string[] = [];
      // session 2: the same run and journal; the strategy (replayed to bar 4 and beyond) buys n shares at every bar n
      const second = runnerOn(simB.port, journal, RUN, series, buyer(2, Infinity), { print: (l) => printed.push(l) });
      // when the conflicting execution has been handled (this listener runs after the broker adapter's):
      // what the engine had decided, and what had been sent
      let trip: { execId: string; sent: Set<number>; decided: number } | undefined;
      second.conn.api.on(EventName.execDetails, (_reqId: number, _c: unknown, e: IbExecution) => {
        if (trip || !second.journal.logs.some((l) => /reused an execution id/.test(l.message))) return;
        const sent = new Set(second.engine.orders.filter((o) => second.broker.ibId(o.id) !== undefined).map((o) => o.id));
        trip = { execId: e.execId ?? '', sent, decided: second.engine.orders.length };
      });
      try {
        expect(simB.snapshot().lifetime).toBe(ahead); // the same lifetime as A: B's execIds are A's again
        await second.start();
        await Promise.race([simB.finished, second.fatal]);
        await second.stop();
      } finally {
        await simB.close();
      }

      // B did reuse an id for an execution with other content
      const reused = simB.account.executions.slice(tampered.state.executions.length).filter((e) => booked.has(e.execId));
      expect(reused.length, 'simulator B gave no execution an id simulator A had given').toBeGreaterThan(0);
      const old = booked.get(reused[0].execId)!;
      expect([reused[0].side === 'BOT' ? reused[0].shares : -reused[0].shares, reused[0].price]).not.toEqual([old.qty, old.price]);
      expect(trip, 'the runner never reported the reused execution id').toBeDefined();
      expect(trip!.execId).toBe(reused[0].execId);

      // journaled as a broker note naming the id
      const logs = await rowsOf(journal, "SELECT kind, message FROM live_logs WHERE run_id = $1 AND message LIKE '%reused an execution id%' ORDER BY seq", [
        RUN,
      ]);
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.every((l) => l.kind === 'broker')).toBe(true);
      expect(String(logs[0].message)).toContain(`execution id ${trip!.execId} was booked as ${old.symbol} ${old.qty} @ ${old.price}`);
      expect(printed.some((l) => /\[broker\] execution id .* reused an execution id/.test(l))).toBe(true);
      // the breaker tripped for it
      const breaker = await rowsOf(
        journal,
        "SELECT order_id, check_name, message FROM risk_events WHERE run_id = $1 AND check_name LIKE 'circuitBreaker.%' ORDER BY seq",
        [RUN],
      );
      const trips = breaker.filter((r) => Number(r.order_id) === 0);
      expect(trips.map((r) => r.check_name)).toEqual(['circuitBreaker.broker']);
      expect(String(trips[0].message)).toMatch(/^circuit breaker tripped: execution id .* reused an execution id/);
      // ... and every later risk event of the breaker is an order it blocked
      const blocked = breaker.filter((r) => Number(r.order_id) !== 0);
      expect(blocked.every((r) => r.check_name === 'circuitBreaker.broker' && /blocked: circuit breaker tripped/.test(String(r.message)))).toBe(true);
      // not booked: the id has its one fill, the first session's
      const fills = await rowsOf(journal, 'SELECT symbol, qty, price FROM fills WHERE run_id = $1 AND exec_id = $2', [RUN, trip!.execId]);
      expect(fills.map((f) => [f.symbol, Number(f.qty), Number(f.price)])).toEqual([[old.symbol, old.qty, old.price]]);
      expect(second.journal.fills.filter((f) => f.execId === trip!.execId)).toHaveLength(1);
      // nothing new reached B after the trip, though the strategy went on deciding (blocked by the breaker)
      const restoredOrders = new Set(tampered.state.orders.map((o) => `${o.clientId}:${o.id}`));
      const atB = [...simB.account.orders.values()].filter((o) => !restoredOrders.has(`${o.clientId}:${o.id}`)).map((o) => refId(RUN, o.ib.orderRef));
      expect(atB.length).toBeGreaterThan(0);
      expect(atB.filter((id) => id === undefined || id > trip!.decided || !trip!.sent.has(id))).toEqual([]);
      const afterTrip = second.engine.orders.slice(trip!.decided);
      expect(afterTrip.length).toBeGreaterThan(2);
      for (const o of afterTrip) {
        expect(o.status).toBe('REJECTED');
        expect(o.reason).toMatch(/blocked: circuit breaker tripped: execution id .* reused an execution id/);
      }
    } finally {
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

const devFull = devFullWorks();
const NO_DEV_FULL = 'skipped: /dev/full is not writable here (or does not fail writes with ENOSPC), or /proc/self/fd is missing';

describe('a full disk under the journal', () => {
  if (!devFull) it.skip(NO_DEV_FULL, () => {});

  it.skipIf(!devFull)(
    'the runner stops, naming the write-ahead file and the full disk; the decisions it could not journal are not sent',
    async () => {
      const series = minutes('S00', 300, zigzag);
      const RUN = 'full-disk';
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-full-disk-'));
      // filled only when asked (start, stop), so the write that fails is the one the runner makes
      const journal = await LiveJournal.open(path.join(dir, 'journal.duckdb'), { flushMs: 3_600_000 });
      const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: COMMISSION, cash: CASH });
      const printed: string[] = [];
      const every: Strategy = { onBar: (ctx, bar) => void (ctx.count(bar.sid) >= 2 && ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: 1 })) };
      const runner = runnerOn(sim.port, journal, RUN, series, every, { print: (l) => printed.push(l) });
      let restoreDisk = (): void => {};
      try {
        await runner.start();
        await until(() => sim.account.orders.size >= 3, 60_000, 'three orders at the simulator');
        restoreDisk = fillDiskUnder(journal.walPath).restore;
        const err = await Promise.race([runner.fatal, sim.finished.then(() => null)]).catch((e: Error) => e);
        expect(err, 'the replay ended and the runner never stopped').toBeInstanceOf(Error);
        const message = (err as Error).message;
        expect(message).toContain(`cannot write the live journal's write-ahead file ${journal.walPath}: ENOSPC`);
        expect(message).toContain('so its orders must not be sent');
        expect(message).toContain('The disk is full: free space on it');
        expect(printed.filter((l) => l.startsWith('TRADING STOPPED'))).toEqual([expect.stringContaining(`TRADING STOPPED: ${message}`)]);
        // the strategy goes on deciding; nothing of it is sent
        const decidedAtFailure = runner.engine.orders.length;
        await until(() => runner.engine.orders.length >= decidedAtFailure + 3, 60_000, 'three more decisions after the failure');
        await runner.stop();

        const journaled = new Set((await rowsOf(journal, 'SELECT order_id FROM live_orders WHERE run_id = $1', [RUN])).map((r) => Number(r.order_id)));
        const atSim = [...sim.account.orders.values()].map((o) => refId(RUN, o.ib.orderRef));
        expect(atSim.length).toBeGreaterThanOrEqual(3);
        expect(atSim.filter((id) => id === undefined || !journaled.has(id))).toEqual([]); // every order that reached the broker was journaled first
        const unjournaled = runner.engine.orders.filter((o) => !journaled.has(o.id));
        expect(unjournaled.length).toBeGreaterThanOrEqual(3);
        for (const o of unjournaled) expect(o.status).toBe('APPROVED'); // decided, never sent
      } finally {
        runner.conn.stop();
        await sim.close();
        await journal.close().catch(() => {});
        restoreDisk();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it.skipIf(!devFull)(
    'npm run live exits 1 with the message (no stack trace), and no order it could not journal reaches the gateway',
    async () => {
      // sma-cross 1/2 on closes that alternate: a cross, so an order, at every bar
      const series = minutes('ZIG', 400, (i) => (i % 2 ? 50.5 : 50));
      const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: COMMISSION, cash: 100_000 });
      const out = mkdtempSync(path.join(os.tmpdir(), 'tradebench-full-disk-cli-'));
      const file = path.join(out, 'journal.duckdb');
      const wal = `${file}.wal.jsonl`;
      const trigger = path.join(out, 'fill-the-disk');
      const args = [
        '--import',
        'tsx',
        '--import',
        path.join(ROOT, 'test/live/broker-faults-full-disk.ts'),
        path.join(ROOT, 'scripts/live.ts'),
        '--http',
        '127.0.0.1:0',
        '--gateway',
        `127.0.0.1:${sim.port}`,
        '--lockstep',
        '--paper',
        '--symbols',
        'ZIG',
        '--params',
        '{"fast":1,"slow":2}',
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
      ];
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, BROKER_FAULTS_WAL: wal, BROKER_FAULTS_TRIGGER: trigger },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await until(() => sim.account.orders.size >= 3 || child.exitCode !== null, 90_000, 'three orders from npm run live at the gateway');
        expect(child.exitCode, stderr).toBe(null);
        writeFileSync(trigger, '');
        const code = await exited;
        expect(readFileSync(`${trigger}.done`, 'utf8')).toMatch(/^ok \d+/);
        expect(code, stderr).toBe(1);
        const message = `cannot write the live journal's write-ahead file ${wal}: ENOSPC: no space left on device, write. Nothing of this write is journaled, so its orders must not be sent. The disk is full: free space on it (or move --out to another disk), then start the runner again.`;
        expect(stderr).toContain(`error: ${message}`);
        expect(stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m); // no stack trace
        expect(stdout).toContain(`TRADING STOPPED: ${message}`);
        expect(stdout).toMatch(/TRADING STOPPED: .* \(\d+ decisions? not sent\)/); // the failed write held a decision

        const j = await LiveJournal.open(file);
        let journaled: { run: string; id: number }[];
        try {
          journaled = (await rowsOf(j, 'SELECT run_id, order_id FROM live_orders')).map((r) => ({ run: String(r.run_id), id: Number(r.order_id) }));
        } finally {
          await j.close();
        }
        const runs = new Set(journaled.map((r) => r.run));
        expect(runs.size).toBe(1);
        const run = [...runs][0];
        const atGateway = [...sim.account.orders.values()].map((o) => refId(run, o.ib.orderRef));
        expect(atGateway.length).toBeGreaterThanOrEqual(3);
        expect(atGateway.filter((id) => id === undefined || !journaled.some((r) => r.id === id))).toEqual([]);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
        await sim.close();
        if (existsSync(out)) rmSync(out, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
