// The operations source of a live session: a real LiveRunner against the IB Gateway simulator over TCP, in
// lockstep. The runner is held at chosen bar groups (its model hook is awaited before the strategies see a
// group, and the lockstep replay waits for it) so that snapshots and control actions land where the test says.
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { LiveOpsSource, percentiles } from '../../engine/ops/live-source.ts';
import type { OpsEvent, OpsSnapshot } from '../../engine/ops/types.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { liveSession, minuteConfig, numberedSymbols, until, zigzagMinutes } from '../live/live-harness.ts';

const HTTP = { via: 'http', remote: '127.0.0.1' };

/** Holds the runner before it hands bar group `n` (1-based) to the strategies, until released. */
class Gates {
  private groups = 0;
  private readonly at = new Map<number, { reached: () => void; reachedP: Promise<void>; release: () => void; releaseP: Promise<void> }>();
  constructor(ns: number[]) {
    for (const n of ns) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const releaseP = new Promise<void>((r) => (release = r));
      this.at.set(n, { reached, reachedP, release, releaseP });
    }
  }
  /** the runner's model hook: awaited before each group reaches the strategies */
  readonly signals = {
    fill: async () => {
      const g = this.at.get(++this.groups);
      if (!g) return;
      g.reached();
      await g.releaseP;
    },
  };
  /** waits until the runner holds at group `n`, runs `f`, then lets it go on */
  async hold(n: number, f: () => Promise<void> | void): Promise<void> {
    const g = this.at.get(n)!;
    await Promise.race([g.reachedP, new Promise((_, reject) => setTimeout(() => reject(new Error(`group ${n} never came`)), 20_000))]);
    try {
      await f();
    } finally {
      g.release();
    }
  }
}

const hold: Strategy = { onBar: (ctx, bar) => void (bar.sid === 0 && ctx.count(0) === 1 && ctx.buy(0)) };
const rest: Strategy = {
  onBar: (ctx, bar) =>
    void (bar.sid === 0 && ctx.count(0) === 2 && ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'LMT', qty: 10, limit: 1, tif: 'GTC' })),
};
const flip: Strategy = { onBar: (ctx, bar) => void (bar.sid === 1 && (ctx.position(1) > 0 ? ctx.closePosition(1) : ctx.buy(1))) };

function invariants(s: OpsSnapshot, runner: LiveRunner): void {
  const mv = s.positions.reduce((a, p) => a + p.marketValue, 0);
  expect(Math.abs(s.equity - (s.cash + mv))).toBeLessThan(1e-6);
  expect(s.equity).toBeCloseTo(runner.engine.portfolio.equity(), 9);
  const ours = Object.fromEntries(runner.config.symbols.map((sym, sid) => [sym, runner.engine.portfolio.position(sid)]).filter(([, q]) => q !== 0));
  expect(Object.fromEntries(s.positions.map((p) => [p.symbol, p.quantity]))).toEqual(ours);
  expect(s.openOrders.map((o) => o.id).sort((a, b) => a - b)).toEqual(
    runner.engine
      .openOrders()
      .map((o) => o.id)
      .sort((a, b) => a - b),
  );
  expect(s.equityCurve.length).toBeLessThanOrEqual(2_000);
  for (let i = 1; i < s.equityCurve.length; i++) expect(s.equityCurve[i].ts).toBeGreaterThan(s.equityCurve[i - 1].ts);
}

/** the simulator's positions, by symbol (zeros left out) */
const atSim = (sim: IbGatewaySimulator, symbols: readonly string[]) =>
  Object.fromEntries(symbols.map((sym, sid) => [sym, sim.account.ledger.qty[sid]]).filter(([, q]) => q !== 0));

describe('LiveOpsSource over a live session', () => {
  it('snapshots, ordered events and every control action (pause, cancel, kill with flatten, reset), each journaled with its source', async () => {
    const series = zigzagMinutes(numberedSymbols(2), 30);
    const cfg = minuteConfig(series, {
      strategy: 'ops',
      risk: { ...RESEARCH_RISK, limits: { maxLeverage: 1, maxOrdersPerDay: 1_000, maxDrawdownPct: 50 } },
    });
    const gates = new Gates([5, 9, 13, 17, 20]);
    const journal = await LiveJournal.open(':memory:');
    let src!: LiveOpsSource;
    const events: Omit<OpsEvent, 'seq'>[] = [];
    const flipIds = (runner: LiveRunner, after = 0) => runner.engine.orders.filter((o) => o.strategy === 'flip' && o.id > after).map((o) => o.id);
    try {
      const { runner } = await liveSession(
        series,
        cfg,
        [
          { name: 'hold', strategy: hold, weight: 1 },
          { name: 'rest', strategy: rest, weight: 1 },
          { name: 'flip', strategy: flip, weight: 1 },
        ],
        {
          journal,
          runId: 'ops-live',
          runner: { signals: gates.signals },
          created: (_sim, runner) => {
            src = new LiveOpsSource(runner);
            src.subscribe((e) => events.push(e));
          },
          during: async (sim, runner) => {
            const control = src.control!;
            let restId = 0;
            let pausedAfter = 0;
            let resumedAfter = 0;
            await gates.hold(5, async () => {
              // the broker has had every order of the first groups: positions agree with the simulator
              await until(
                () =>
                  JSON.stringify(atSim(sim, cfg.symbols)) === JSON.stringify(Object.fromEntries(src.snapshot().positions.map((p) => [p.symbol, p.quantity]))),
                5_000,
                'the simulator to hold our positions',
              );
              const s = src.snapshot();
              invariants(s, runner);
              expect(s.mode).toBe('live');
              expect(s.runId).toBe('ops-live');
              expect(s.positions.find((p) => p.symbol === 'S00')?.quantity).toBe(10);
              const resting = runner.engine.orders.find((o) => o.strategy === 'rest')!;
              restId = resting.id;
              expect(s.openOrders.map((o) => o.id)).toContain(restId);
              expect(sim.account.liveOrders().some((o) => o.ib.orderRef === `tb:ops-live:${restId}`)).toBe(true);
              expect(s.readiness).toEqual({ ready: true, reasons: [] });
              expect(s.connection).toMatchObject({ connected: true, reconciled: true, reconnects: 0 });
              expect(s.connection.lastHeartbeatAt).toBeGreaterThan(Date.now() - 60_000);
              expect(s.connection.maxMessagesPerSecond).toBe(1_000_000);
              expect(s.strategies.map((x) => [x.name, x.paused])).toEqual([
                ['hold', false],
                ['rest', false],
                ['flip', false],
              ]);
              expect(s.strategies[0].allocation).toBeCloseTo(1 / 3, 12);
              const lev = s.risk.limits.find((l) => l.name === 'maxLeverage')!;
              expect(lev.value).toBeCloseTo(runner.engine.portfolio.grossExposure() / s.equity, 12);
              expect(lev.utilisation).toBeCloseTo(lev.value / 1, 12);
              expect(s.risk.limits.map((l) => l.name).sort()).toEqual(['maxDrawdownPct', 'maxLeverage', 'maxOrdersPerDay']);
              expect(s.risk.limits.find((l) => l.name === 'maxOrdersPerDay')!.value).toBe(runner.engine.orders.length);
              expect(s.risk.breaker).toEqual({ tripped: false, check: null, reason: null });
              expect(s.latency.barToOrder.count).toBeGreaterThan(0);
              expect(s.latency.barToOrder.p50).not.toBeNull();
              expect(s.fillsToday.length).toBe(runner.journal.fills.length);
              expect(s.equityCurve.length).toBeGreaterThanOrEqual(4);
              expect(s.performance.trades).toBe(runner.engine.trades.length);
              expect(src.orders(1, 2)).toMatchObject({ total: runner.engine.orders.length, offset: 1 });
              expect(src.orders(1, 2).items.map((o) => o.id)).toEqual([2, 3]);
              expect(src.fills(0, 1000).items.length).toBe(runner.journal.fills.length);
              expect(src.logs(0, 1000).total).toBe(runner.journal.logs.length);

              // events so far: connected first, then bars, orders, fills, positions, equity, in causal order
              const types = new Set(events.map((e) => e.type));
              for (const t of ['connection', 'log', 'bar', 'order', 'fill', 'position', 'equity'] as const) expect(types).toContain(t);
              expect(events.findIndex((e) => e.type === 'connection')).toBeLessThan(events.findIndex((e) => e.type === 'bar'));
              const bars = events.filter((e) => e.type === 'bar').map((e) => e.ts);
              expect(bars).toEqual([...bars].sort((a, b) => a - b));
              const be = events.filter((e) => e.type === 'bar' || e.type === 'equity').map((e) => (e.type === 'bar' ? 'b' : 'e'));
              expect(be.join('')).toMatch(/^(bbe)+$/);
              events.forEach((e, i) => {
                if (e.type !== 'fill') return;
                const f = e.data as { orderId: number };
                const sentAt = events.findIndex(
                  (x) =>
                    x.type === 'order' &&
                    (x.data as { order: { id: number }; to: string }).order.id === f.orderId &&
                    (x.data as { to: string }).to === 'SUBMITTED',
                );
                expect(sentAt).toBeGreaterThanOrEqual(0);
                expect(sentAt).toBeLessThan(i);
                expect(events.slice(i).some((x) => x.type === 'position')).toBe(true);
              });

              await control.pause('flip', HTTP);
              await expect(control.pause('nope', HTTP)).rejects.toThrow(/unknown strategy 'nope' \(this session runs hold, rest, flip\)/);
              pausedAfter = Math.max(...runner.engine.orders.map((o) => o.id));
              expect(src.snapshot().strategies.find((x) => x.name === 'flip')!.paused).toBe(true);
            });

            await gates.hold(9, async () => {
              expect(flipIds(runner, pausedAfter)).toEqual([]); // three groups, no order from the paused strategy
              expect(runner.engine.orders.find((o) => o.id === restId)!.status).toBe('SUBMITTED'); // its orders stayed
              await control.resume('flip', HTTP);
              resumedAfter = Math.max(...runner.engine.orders.map((o) => o.id));
              // cancel the resting order: the simulator cancels it
              await control.cancel(restId, HTTP);
              const atBroker = () => [...sim.account.orders.values()].find((o) => o.ib.orderRef === `tb:ops-live:${restId}`)!;
              await until(() => atBroker().status === 'Cancelled' && runner.engine.orders[restId - 1].status === 'CANCELLED', 5_000, 'the cancel');
              expect(src.snapshot().openOrders.map((o) => o.id)).not.toContain(restId);
              await expect(control.cancel(restId, HTTP)).rejects.toThrow(`order ${restId} is already CANCELLED: nothing to cancel`);
              await expect(control.cancel(1, HTTP)).rejects.toThrow('order 1 is already FILLED: nothing to cancel');
              await expect(control.cancel(9_999, HTTP)).rejects.toThrow(/order 9999 is unknown \(this session has orders 1 to \d+\)/);
            });

            await gates.hold(13, async () => {
              expect(flipIds(runner, resumedAfter).length).toBeGreaterThan(0); // trading again after the resume
              expect(Object.keys(atSim(sim, cfg.symbols)).length).toBeGreaterThan(0);
              await control.kill({ flatten: true, reason: 'test' }, { via: 'cli' });
              const s = src.snapshot();
              expect(s.risk.breaker).toMatchObject({ tripped: true, check: 'circuitBreaker.kill', reason: 'circuit breaker tripped: test' });
              expect(s.readiness.ready).toBe(false);
              expect(s.readiness.reasons).toEqual(['circuit breaker tripped: test']);
              expect(runner.engine.openOrders().every((o) => o.tag === 'flatten')).toBe(true);
            });
            // the flattening orders fill on the next bars: the broker holds nothing
            await until(() => Object.keys(atSim(sim, cfg.symbols)).length === 0, 10_000, 'the simulator to be flat');
            expect((await runner.broker.positions()).filter((p) => p.qty !== 0)).toEqual([]);

            await gates.hold(17, async () => {
              invariants(src.snapshot(), runner);
              expect(src.snapshot().positions).toEqual([]);
              await control.resetBreaker({ via: 'http', remote: '10.0.0.1' });
              expect(src.snapshot().readiness).toEqual({ ready: true, reasons: [] });
              expect(src.snapshot().errors).toEqual({ total: 0, byCode: {} });
              sim.rejectNextOrder('test: no permission'); // the next order gets IB error 201
            });

            await gates.hold(20, async () => {
              sim.dropConnections();
              await until(() => !src.snapshot().connection.connected, 5_000, 'the drop');
              expect(src.snapshot().readiness.reasons).toEqual(['gateway disconnected', 'not reconciled with the broker']);
              await until(() => src.snapshot().connection.connected && src.snapshot().connection.reconciled, 15_000, 'the reconnect');
              expect(src.snapshot().connection.reconnects).toBe(1);
              expect(src.snapshot().readiness).toEqual({ ready: true, reasons: [] });
            });
          },
        },
      );
      const end = src.snapshot();
      invariants(end, runner);
      expect(end.errors).toEqual({ total: 1, byCode: { '201': 1 } });
      expect(end.connection.messagesPerSecond).toBeGreaterThanOrEqual(0);
      // control actions as events, in order
      const controls = events.filter((e) => e.type === 'control').map((e) => (e.data as { message: string }).message);
      const expected = [
        /^strategy flip paused by http \(127\.0\.0\.1\)$/,
        /^pause asked by http \(127\.0\.0\.1\) refused: unknown strategy 'nope'/,
        /^strategy flip resumed by http \(127\.0\.0\.1\)$/,
        /^order \d+ BUY S00 cancelled by http \(127\.0\.0\.1\)$/,
        /^cancel asked by http \(127\.0\.0\.1\) refused: order \d+ is already CANCELLED/,
        /^cancel asked by http \(127\.0\.0\.1\) refused: order 1 is already FILLED/,
        /^cancel asked by http \(127\.0\.0\.1\) refused: order 9999 is unknown/,
        /^kill switch by cli, flattening every position: test$/,
        /^circuit breaker reset by http \(10\.0\.0\.1\)$/,
      ];
      expect(controls).toHaveLength(expected.length);
      controls.forEach((m, i) => expect(m).toMatch(expected[i]));
      const conn = events.filter((e) => e.type === 'connection').map((e) => (e.data as { state: string }).state);
      expect(conn).toEqual(['connected', 'disconnected', 'connected']);
      expect(events.some((e) => e.type === 'risk' && (e.data as { check: string }).check === 'circuitBreaker.kill')).toBe(true);
      // ... and in the live journal, with their sources
      const rows = await journal.use(async (c) =>
        (await c.runAndReadAll("SELECT message FROM live_logs WHERE run_id = 'ops-live' AND kind = 'control' ORDER BY seq")).getRowObjectsJS(),
      );
      expect(rows.map((r) => r.message)).toEqual(controls);
    } finally {
      src?.close();
      await journal.close();
    }
  }, 60_000);

  it('a paused strategy stays paused across a restart of the run (the journal keeps it)', async () => {
    const series = zigzagMinutes(numberedSymbols(2), 8);
    const cfg = minuteConfig(series, { strategy: 'ops' });
    const slots = () => [
      { name: 'hold', strategy: hold, weight: 1 },
      { name: 'flip', strategy: flip, weight: 1 },
    ];
    const journal = await LiveJournal.open(':memory:');
    try {
      const gates = new Gates([3]);
      await liveSession(series, cfg, slots(), {
        journal,
        runId: 'ops-restart',
        runner: { signals: gates.signals },
        during: (_sim, runner) => gates.hold(3, () => new LiveOpsSource(runner).control!.pause('flip', { via: 'signal' })),
      });
      let paused: boolean | undefined;
      // the same run again (a new simulator: its positions differ from the journal's, so only warn)
      const again = await liveSession(series, cfg, slots(), {
        journal,
        runId: 'ops-restart',
        runner: { onMismatch: 'warn' },
        during: (_sim, runner) => {
          paused = new LiveOpsSource(runner).snapshot().strategies.find((x) => x.name === 'flip')?.paused;
        },
      });
      expect(paused).toBe(true);
      expect(again.logs.some((l) => l.kind === 'control' && l.message === 'strategy flip is still paused (restored from the journal)')).toBe(true);
    } finally {
      await journal.close();
    }
  }, 30_000);

  it('percentiles: nearest rank, null when empty', () => {
    expect(percentiles([])).toEqual({ p50: null, p99: null });
    expect(percentiles([5, 1, 3])).toEqual({ p50: 3, p99: 5 });
    expect(percentiles(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ p50: 50, p99: 99 });
  });
});
