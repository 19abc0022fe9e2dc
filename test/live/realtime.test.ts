// The live runner against the simulator in real time (N x speed, not lockstep), as it would run
// against a real gateway: bars close on the gateway's time, so the result is the backtest's whatever
// the speed or the machine's load.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, Order } from '../../engine/core/types.ts';
import type { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { journalBars } from '../../engine/journal/journal-replay.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { fillRow, liveSession, orderRow, tradeRow, until } from './live-harness.ts';

const DIR = 'data/lean-sample/minute';
const available = sharedAvailable(DIR);
const SYMBOLS = ['SPY', 'IBM'];
const PARAMS = { fast: 1, slow: 3 };
const cfg = config({
  strategy: 'sma-cross',
  params: PARAMS,
  symbols: SYMBOLS,
  interval: '1m',
  sizing: { kind: 'fixed', quantity: 100 },
  commission: { model: 'ibkr-fixed' },
  risk: RESEARCH_RISK,
});
const slots = () => buildSlots('sma-cross', PARAMS, SYMBOLS);

/** A thread that keeps one core busy for as long as it runs. */
function cpuHog(): Worker {
  return new Worker('const end = Date.now() + 600000; while (Date.now() < end) {}', { eval: true });
}

describe.skipIf(!available)('real time: the runner against the simulator at N x speed = the backtest of the same bars', () => {
  let store: Store;
  let window: (minutes: number) => Promise<BarSeries[]>;
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(
      store,
      SYMBOLS.map((s) => path.join(SHARED, DIR, s.toLowerCase())),
      { interval: '1m' },
    );
    window = (minutes) =>
      loadBars(store, {
        symbols: SYMBOLS,
        interval: '1m',
        from: Date.parse('2013-10-07T09:30:00-04:00'),
        to: Date.parse('2013-10-07T09:30:00-04:00') + minutes * 60_000 - 1,
      });
  });
  afterAll(() => store?.close());

  const cases: [string, number, number, boolean][] = [
    ['120x', 120, 30, false],
    ['120x with the other core busy', 120, 30, true],
    ['20x', 20, 8, false],
  ];
  for (const [what, speed, minutes, loaded] of cases) {
    it(`same orders, fills and trades at ${what}`, async () => {
      const series = await window(minutes);
      const bt = runBacktest(series, cfg, slots());
      expect(bt.engine.orders.length).toBeGreaterThan(minutes > 10 ? 4 : 1);
      const hog = loaded ? cpuHog() : undefined;
      try {
        const { result: live, sim } = await liveSession(series, cfg, slots(), { speed });
        expect(sim.stats.batches).toBe(minutes * 12); // every 5-second batch went out on time: the replay never waits for the runner
        expect(live.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
        expect(live.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
        expect(live.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
      } finally {
        await hog?.terminate();
      }
    }, 120_000);
  }

  it('a connection dropped mid-bar: the partial bars are never traded, nothing is lost or sent twice, the journal replays to the same decisions', async () => {
    const series = await window(30);
    const journal = await LiveJournal.open(':memory:');
    try {
      let dropAt = NaN;
      const {
        result: live,
        sim,
        logs,
      } = await liveSession(series, cfg, slots(), {
        speed: 120,
        journal,
        runId: 'rt-drop',
        during: (s) => {
          // mid-minute, 10 minutes in: right after the batch that ends at 09:40:25
          const onBatch = () => {
            if (s.stats.batches !== 10 * 12 + 5) return;
            s.events.off('batch', onBatch);
            dropAt = s.now();
            s.dropConnections();
          };
          s.events.on('batch', onBatch);
        },
      });
      expect(dropAt).toBe(Date.parse('2013-10-07T09:40:25-04:00')); // mid-minute
      const lines = logs.map((l) => l.message);
      expect(lines.some((l) => /connection dropped/.test(l))).toBe(true);
      expect(lines.some((l) => /reconciled \(reconnect\)/.test(l))).toBe(true);
      // the minute cut by the drop is never shown to the strategies as a bar
      expect(lines.some((l) => /partial bar not traded: SPY 2013-10-07T13:40:00Z/.test(l))).toBe(true);
      expect(live.bars).toBeLessThan(30 * 2); // some bars were lost to the drop
      // every fill once, and the runner agrees with the broker
      const execIds = live.journal.fills.map((f) => f.execId);
      expect(new Set(execIds).size).toBe(execIds.length);
      expect(execIds.sort()).toEqual(sim.account.executions.map((e) => e.execId).sort());
      SYMBOLS.forEach((_, sid) => expect(live.engine.portfolio.position(sid)).toBe(sim.account.ledger.qty[sid]));
      // no order reached the broker twice
      const refs = [...sim.account.orders.values()].map((o) => o.ib.orderRef);
      expect(new Set(refs).size).toBe(refs.length);
      // the bars it acted on replay through the backtest path to the same decisions
      const replayed = runBacktest(await journal.use((conn) => journalBars(conn, 'rt-drop', SYMBOLS, '1m')), cfg, slots());
      expect(replayed.engine.orders.map(orderRow)).toEqual(live.engine.orders.map(orderRow));
    } finally {
      await journal.close();
    }
  }, 120_000);

  it.each([
    {
      mode: 'lockstep (the replay waits: the decision is still valid)',
      speed: 'lockstep' as const,
      fault: (sim: IbGatewaySimulator) => sim.dropConnections(),
      sent: true,
    },
    {
      mode: 'real time (down for 3 minutes of market: the decision is stale)',
      speed: 120,
      fault: (sim: IbGatewaySimulator) => void sim.restart(1_500),
      sent: false,
    },
  ])(
    'an order decided while the gateway is out of reach is journaled and held, then sent after reconciling or rejected as stale: $mode',
    async ({ speed, fault, sent }) => {
      const series = await window(30);
      const killCfg = { ...cfg, risk: { limits: {}, breaker: { flattenOnTrip: true } } };
      let flatten: Order | undefined;
      const {
        result: live,
        sim,
        logs,
      } = await liveSession(series, killCfg, slots(), {
        speed,
        during: async (s, runner) => {
          await until(() => runner.engine.portfolio.position(0) > 0 || runner.engine.portfolio.position(1) > 0, 60_000, 'a position');
          fault(s);
          await until(() => !runner.conn.ready, 10_000, 'the drop to be seen');
          await runner.kill('test: kill switch while the gateway is out of reach');
          flatten = runner.engine.orders.find((o) => o.tag === 'flatten');
          expect(flatten?.status).toBe('APPROVED'); // decided and journaled, not sent
        },
      });
      const lines = logs.map((l) => l.message);
      expect(lines.some((l) => /reconciled \(reconnect\)/.test(l))).toBe(true);
      const order = live.engine.orders.find((o) => o.id === flatten!.id)!;
      const events = live.journal.orderEvents.filter((e) => e.orderId === order.id).map((e) => e.to);
      expect(events.slice(0, 3)).toEqual(['NEW', 'RISK_CHECK', 'APPROVED']);
      const refs = [...sim.account.orders.values()].map((o) => o.ib.orderRef);
      if (sent) {
        expect(order.status).toBe('FILLED');
        expect(refs.filter((r) => r.endsWith(`:${order.id}`))).toHaveLength(1);
        expect(sim.account.ledger.qty[order.sid]).toBe(0);
      } else {
        expect(order.status).toBe('REJECTED');
        expect(order.reason).toMatch(/while the gateway was out of reach; it is now .*, past the bar it was meant for: not sent/);
        expect(refs.filter((r) => r.endsWith(`:${order.id}`))).toHaveLength(0); // it never reached the broker
      }
      SYMBOLS.forEach((_, sid) => expect(live.engine.portfolio.position(sid)).toBe(sim.account.ledger.qty[sid]));
    },
    120_000,
  );
});
