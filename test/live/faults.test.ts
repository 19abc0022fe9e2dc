import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeCalendar } from '../../engine/core/calendar.ts';
import type { BarSeries, Fill } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import type { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import type { LiveOptions } from '../../engine/live/runner.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config, scripted } from '../engine/harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { fillRow, liveSession, orderRow, tradeRow, until } from './live-harness.ts';

const DIR = 'data/lean-sample/minute';
const available = sharedAvailable(DIR);

/**
 * Runs the live runner against the simulator (lockstep or N x real time), injecting `fault` once the
 * replay has emitted `atBatch` batches.
 */
async function liveWithFault(
  series: BarSeries[],
  atBatch: number,
  fault: (sim: IbGatewaySimulator) => void | Promise<void>,
  speed: 'lockstep' | number = 'lockstep',
  runner: Partial<LiveOptions> = {},
) {
  const symbols = series.map((s) => s.symbol);
  const params = { fast: 10, slow: 30 };
  const cfg = config({
    strategy: 'sma-cross',
    params,
    symbols,
    interval: '1m',
    sizing: { kind: 'fixed', quantity: 100 },
    commission: { model: 'ibkr-fixed' },
    risk: RESEARCH_RISK,
  });
  const journal = await LiveJournal.open(':memory:');
  let injected = false;
  try {
    const { result: live, sim } = await liveSession(series, cfg, buildSlots('sma-cross', params, symbols), {
      speed,
      journal,
      runId: 'faults',
      runner,
      during: async (s) => {
        await until(() => s.stats.batches >= atBatch, 120_000, `batch ${atBatch}`);
        injected = true;
        await fault(s);
      },
    });
    const execIds = live.journal.fills.map((f) => f.execId);
    const persisted = await journal.use(async (conn) =>
      Number((await conn.runAndReadAll('SELECT count(DISTINCT exec_id) AS n FROM fills')).getRowObjectsJS()[0].n),
    );
    const journaledLogs = await journal.use(async (conn) =>
      (await conn.runAndReadAll("SELECT kind, message FROM live_logs WHERE run_id = 'faults' ORDER BY seq"))
        .getRowObjectsJS()
        .map((r) => `${r.kind}: ${r.message}`),
    );
    return { cfg, live, sim, injected, execIds, persisted, journaledLogs, logs: live.journal.logs.map((l) => l.message) };
  } finally {
    await journal.close();
  }
}

describe.skipIf(!available)('faults: nothing lost, no order sent twice, same result as the backtest', () => {
  let store: Store;
  let series: BarSeries[];
  let bt: ReturnType<typeof runBacktest>;
  let rtSeries: BarSeries[];
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(store, [path.join(SHARED, DIR, 'spy')], { interval: '1m' });
    series = await loadBars(store, {
      symbols: ['SPY'],
      interval: '1m',
      from: Date.parse('2013-10-07T00:00:00-04:00'),
      to: Date.parse('2013-10-08T23:59:59-04:00'),
    });
    const params = { fast: 10, slow: 30 };
    bt = runBacktest(
      series,
      config({
        strategy: 'sma-cross',
        params,
        symbols: ['SPY'],
        interval: '1m',
        sizing: { kind: 'fixed', quantity: 100 },
        commission: { model: 'ibkr-fixed' },
        risk: RESEARCH_RISK,
      }),
      buildSlots('sma-cross', params, ['SPY']),
    );
    const open = Date.parse('2013-10-07T09:30:00-04:00');
    rtSeries = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: open, to: open + 40 * 60_000 - 1 });
  });
  afterAll(() => store?.close());

  const cases: [string, (sim: IbGatewaySimulator) => void | Promise<void>, RegExp | null, Partial<LiveOptions>][] = [
    ['the connection dropped', (sim) => sim.dropConnections(), /connection dropped/, {}],
    [
      '1100 then 1101 (data lost: re-subscribe)',
      (sim) => {
        sim.connectivityLost();
        setTimeout(() => sim.connectivityRestored(true), 50);
      },
      /re-subscribing/,
      {},
    ],
    [
      '1100 then 1102 (data kept)',
      (sim) => {
        sim.connectivityLost();
        setTimeout(() => sim.connectivityRestored(false), 50);
      },
      /1102|restored|maintained/i,
      {},
    ],
    ['a gateway restart', (sim) => sim.restart(500), /connection dropped/, {}],
    // the heartbeat finds the silence and treats it as a drop: reconnect, resubscribe, reconcile
    ['a stall (the gateway goes quiet, then carries on)', (sim) => sim.stall(1_500), /has not answered the heartbeat/, { heartbeatMs: 50, stallMs: 400 }],
  ];
  for (const [what, fault, logged, runner] of cases) {
    it(`lockstep: ${what}`, async () => {
      const r = await liveWithFault(series, 4_000, fault, 'lockstep', runner);
      expect(r.injected).toBe(true);
      expect(new Set(r.execIds).size).toBe(r.execIds.length); // every fill once
      expect(r.persisted).toBe(r.execIds.length);
      if (logged) {
        expect(r.logs.some((l) => logged.test(l))).toBe(true);
        expect(r.journaledLogs.some((l) => /^connection: /.test(l) && logged.test(l))).toBe(true); // and in the journal
      }
      expect(bt.engine.orders.length).toBeGreaterThan(10);
      expect(r.live.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
      expect(r.live.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
      expect(r.live.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
    }, 120_000);

    it(`real time (120x): ${what}`, async () => {
      const r = await liveWithFault(rtSeries, 12 * 12 + 3, fault, 120, runner);
      expect(r.injected).toBe(true);
      expect(new Set(r.execIds).size).toBe(r.execIds.length);
      expect(r.persisted).toBe(r.execIds.length);
      expect(r.execIds.sort()).toEqual(r.sim.account.executions.map((e) => e.execId).sort()); // none missed
      if (logged) expect(r.logs.some((l) => logged.test(l))).toBe(true);
      r.cfg.symbols.forEach((_, sid) => expect(r.live.engine.portfolio.position(sid)).toBe(r.sim.account.ledger.qty[sid]));
      const refs = [...r.sim.account.orders.values()].map((o) => o.ib.orderRef);
      expect(new Set(refs).size).toBe(refs.length); // nothing sent twice
      expect(r.live.engine.orders.filter((o) => o.status === 'APPROVED')).toEqual([]); // nothing decided is left unsent and unexplained
    }, 120_000);
  }

  it('an order rejected by the broker: journaled with the reason, the runner carries on', async () => {
    const r = await liveWithFault(series, 4_000, (sim) => sim.rejectNextOrder('test: insufficient permissions'));
    const rejected = r.live.engine.orders.filter((o) => o.status === 'REJECTED');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toMatch(/IB error 201: .*insufficient permissions/);
    const later = r.live.engine.orders.filter((o) => o.id > rejected[0].id);
    expect(later.length).toBeGreaterThan(0);
    expect(later.some((o) => o.status === 'FILLED')).toBe(true);
    expect(r.live.journal.orderEvents.some((e) => e.orderId === rejected[0].id && e.to === 'REJECTED')).toBe(true);
    expect(new Set(r.execIds).size).toBe(r.execIds.length);
  }, 120_000);

  it('the kill switch: working orders cancelled, positions flattened, no new orders, journaled', async () => {
    const symbols = ['SPY'];
    const params = { fast: 10, slow: 30 };
    const cfg = config({
      strategy: 'sma-cross',
      params,
      symbols,
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: { limits: {}, breaker: { flattenOnTrip: true } },
    });
    let ordersAtKill = -1;
    const { result: live, sim } = await liveSession(series, cfg, buildSlots('sma-cross', params, symbols), {
      runId: 'kill',
      during: async (_sim, runner) => {
        // kill while long: wait for a position, then press the button
        await until(() => runner.engine.portfolio.position(0) > 0, 60_000, 'a position');
        await runner.kill('test kill switch');
        ordersAtKill = runner.engine.orders.length;
      },
    });
    const trip = live.journal.riskEvents.find((e) => e.check === 'circuitBreaker.kill')!;
    expect(trip.message).toContain('test kill switch');
    const flatten = live.engine.orders.filter((o) => o.tag === 'flatten');
    expect(flatten).toHaveLength(1);
    expect(flatten[0].status).toBe('FILLED');
    expect(live.engine.portfolio.position(0)).toBe(0);
    expect(sim.account.ledger.qty[0]).toBe(0); // the broker agrees
    // later signals were blocked by the breaker, none reached the broker
    const after = live.engine.orders.slice(ordersAtKill);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((o) => o.status === 'REJECTED' && /blocked/.test(o.reason))).toBe(true);
    expect([...sim.account.orders.values()].length).toBe(live.engine.orders.filter((o) => o.status !== 'REJECTED').length);
  }, 120_000);

  it('a connection dropped while a limit order is working: the order survives, fills once, as in the backtest', async () => {
    const spy = series[0];
    // under --session rth (the default) the strategy and the broker see the regular session's bars only:
    // `sess[k]` is the index in the series (04:00-20:00 ET) of the k-th of them
    const cal = new ExchangeCalendar('America/New_York');
    const sess = [...spy.ts.keys()].filter((i) => cal.inSession(spy.ts[i]));
    // a limit at the lowest low of session bars 21..599: it rests until that bar, and the link drops halfway there
    let low = Infinity;
    for (let k = 21; k < 600; k++) low = Math.min(low, spy.low[sess[k]]);
    let touch = 21;
    while (spy.low[sess[touch]] > low) touch++;
    const dropAtBar = Math.floor((21 + touch) / 2);
    expect(touch - dropAtBar).toBeGreaterThan(5);
    const plan = [{ afterBar: 20, req: { symbol: 'SPY', side: 'BUY' as const, type: 'LMT' as const, qty: 100, limit: low, tif: 'GTC' as const } }];
    const cfg = config({
      strategy: 'scripted',
      symbols: ['SPY'],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
    });
    const backtest = runBacktest(series, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }]);
    expect(backtest.journal.fills).toHaveLength(1);
    let workingAtDrop = -1;
    const { result: live, sim } = await liveSession(series, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }], {
      runId: 'working',
      during: async (s) => {
        // the simulator replays every stored bar (12 batches each), pre-market included
        await until(() => s.stats.batches >= 12 * sess[dropAtBar], 60_000, `bar ${dropAtBar}`);
        workingAtDrop = s.account.liveOrders().length;
        s.dropConnections();
      },
    });
    expect(workingAtDrop).toBe(1); // the limit order was working at the broker when the link dropped
    // a resting limit fills live on the 5-second bar that touches it, so compare the minute it falls in
    const byMinute = (f: Fill) => [f.ts - (f.ts % 60_000), f.symbol, f.qty, f.price, f.commission];
    expect(live.journal.fills.map(byMinute)).toEqual(backtest.journal.fills.map(byMinute));
    expect(live.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
    expect(sim.account.executions).toHaveLength(1);
  }, 120_000);
});
