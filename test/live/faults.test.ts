import path from 'node:path';
import { EventName } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, Fill } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveRunner } from '../../engine/live/runner.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config, scripted } from '../engine/harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { fillRow, orderRow, tradeRow } from './live-harness.ts';

const DIR = 'data/lean-sample/minute';
const available = sharedAvailable(DIR);

/** Runs the live runner against the simulator, injecting `fault` once the replay has emitted `atBatch` batches. */
async function liveWithFault(series: BarSeries[], atBatch: number, fault: (sim: IbGatewaySimulator) => void | Promise<void>) {
  const symbols = series.map((s) => s.symbol);
  const params = { fast: 10, slow: 30 };
  const cfg = config({ strategy: 'sma-cross', params, symbols, interval: '1m', sizing: { kind: 'fixed', quantity: 100 }, commission: { model: 'ibkr-fixed' }, risk: RESEARCH_RISK });
  const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' }, cash: cfg.cash });
  const journal = await openStore(':memory:');
  const runner = new LiveRunner(cfg, buildSlots('sma-cross', params, symbols), { host: '127.0.0.1', port: sim.port, clientId: 1, account: 'DU1234567', lockstep: true, journal: journal.conn, runId: 'faults', maxReqPerSec: 1_000_000 });
  const decodeErrors: string[] = [];
  runner.conn.api.on(EventName.error, (err: Error, code: number) => void (code === 505 && decodeErrors.push(err.message)));
  let injected = false;
  const watch = setInterval(() => {
    if (injected || sim.stats.batches < atBatch) return;
    injected = true;
    void fault(sim);
  }, 1);
  try {
    await runner.start();
    await sim.finished;
    const live = await runner.stop();
    const execIds = live.journal.fills.map((f) => f.execId);
    const persisted = Number((await journal.conn.runAndReadAll('SELECT count(DISTINCT exec_id) AS n FROM fills')).getRowObjectsJS()[0].n);
    return { cfg, live, injected, decodeErrors, execIds, persisted, logs: live.journal.logs.map((l) => l.message) };
  } finally {
    clearInterval(watch);
    await sim.close();
    journal.close();
  }
}

describe.skipIf(!available)('faults: nothing lost, no order sent twice, same result as the backtest', () => {
  let store: Store;
  let series: BarSeries[];
  let bt: ReturnType<typeof runBacktest>;
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(store, [path.join(SHARED, DIR, 'spy')], { interval: '1m' });
    series = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: Date.parse('2013-10-07T00:00:00-04:00'), to: Date.parse('2013-10-08T23:59:59-04:00') });
    const params = { fast: 10, slow: 30 };
    bt = runBacktest(series, config({ strategy: 'sma-cross', params, symbols: ['SPY'], interval: '1m', sizing: { kind: 'fixed', quantity: 100 }, commission: { model: 'ibkr-fixed' }, risk: RESEARCH_RISK }), buildSlots('sma-cross', params, ['SPY']));
  });
  afterAll(() => store?.close());

  const cases: [string, (sim: IbGatewaySimulator) => void | Promise<void>, RegExp | null][] = [
    ['the connection dropped', (sim) => sim.dropConnections(), /connection dropped/],
    ['1100 then 1101 (data lost: re-subscribe)', (sim) => {
      sim.connectivityLost();
      setTimeout(() => sim.connectivityRestored(true), 50);
    }, /re-subscribing/],
    ['1100 then 1102 (data kept)', (sim) => {
      sim.connectivityLost();
      setTimeout(() => sim.connectivityRestored(false), 50);
    }, /1102|restored|maintained/i],
    ['a gateway restart', (sim) => sim.restart(500), /connection dropped/],
    ['a stall (the gateway goes quiet, then carries on)', (sim) => sim.stall(300), null],
  ];
  for (const [what, fault, logged] of cases) {
    it(what, async () => {
      const r = await liveWithFault(series, 4_000, fault);
      expect(r.injected).toBe(true);
      expect(r.decodeErrors).toEqual([]);
      expect(new Set(r.execIds).size).toBe(r.execIds.length); // every fill once
      expect(r.persisted).toBe(r.execIds.length);
      if (logged) expect(r.logs.some((l) => logged.test(l))).toBe(true);
      expect(bt.engine.orders.length).toBeGreaterThan(10);
      expect(r.live.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
      expect(r.live.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
      expect(r.live.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
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
    expect(r.decodeErrors).toEqual([]);
    expect(new Set(r.execIds).size).toBe(r.execIds.length);
  }, 120_000);

  it('the kill switch: working orders cancelled, positions flattened, no new orders, journaled', async () => {
    const symbols = ['SPY'];
    const params = { fast: 10, slow: 30 };
    const cfg = config({ strategy: 'sma-cross', params, symbols, interval: '1m', sizing: { kind: 'fixed', quantity: 100 }, commission: { model: 'ibkr-fixed' }, risk: { limits: {}, breaker: { flattenOnTrip: true } } });
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' }, cash: cfg.cash });
    const journal = await openStore(':memory:');
    const runner = new LiveRunner(cfg, buildSlots('sma-cross', params, symbols), { host: '127.0.0.1', port: sim.port, clientId: 1, account: 'DU1234567', lockstep: true, journal: journal.conn, runId: 'kill', maxReqPerSec: 1_000_000 });
    try {
      await runner.start();
      // kill while long: wait for a position, then press the button
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (runner.engine.portfolio.position(0) > 0) {
            clearInterval(t);
            resolve();
          }
        }, 1);
      });
      await runner.kill('test kill switch');
      const ordersAtKill = runner.engine.orders.length;
      await sim.finished;
      const live = await runner.stop();
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
    } finally {
      await sim.close();
      journal.close();
    }
  }, 120_000);

  it('a connection dropped while a limit order is working: the order survives, fills once, as in the backtest', async () => {
    const spy = series[0];
    // a limit at the lowest low of bars 21..599: it rests until that bar, and the link drops halfway there
    let low = Infinity;
    for (let i = 21; i < 600; i++) low = Math.min(low, spy.low[i]);
    let touch = 21;
    while (spy.low[touch] > low) touch++;
    const dropAtBar = Math.floor((21 + touch) / 2);
    expect(touch - dropAtBar).toBeGreaterThan(5);
    const plan = [{ afterBar: 20, req: { symbol: 'SPY', side: 'BUY' as const, type: 'LMT' as const, qty: 100, limit: low, tif: 'GTC' as const } }];
    const cfg = config({ strategy: 'scripted', symbols: ['SPY'], interval: '1m', sizing: { kind: 'fixed', quantity: 100 }, commission: { model: 'ibkr-fixed' }, risk: RESEARCH_RISK });
    const backtest = runBacktest(series, cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }]);
    expect(backtest.journal.fills).toHaveLength(1);
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' }, cash: cfg.cash });
    const journal = await openStore(':memory:');
    const runner = new LiveRunner(cfg, [{ name: 'scripted', strategy: scripted(plan), weight: 1 }], { host: '127.0.0.1', port: sim.port, clientId: 1, account: 'DU1234567', lockstep: true, journal: journal.conn, runId: 'working', maxReqPerSec: 1_000_000 });
    let workingAtDrop = -1;
    const watch = setInterval(() => {
      if (workingAtDrop >= 0 || sim.stats.batches < 12 * dropAtBar) return;
      workingAtDrop = sim.account.liveOrders().length;
      sim.dropConnections();
    }, 1);
    try {
      await runner.start();
      await sim.finished;
      const live = await runner.stop();
      expect(workingAtDrop).toBe(1); // the limit order was working at the broker when the link dropped
      // a resting limit fills live on the 5-second bar that touches it, so compare the minute it falls in
      const byMinute = (f: Fill) => [f.ts - (f.ts % 60_000), f.symbol, f.qty, f.price, f.commission];
      expect(live.journal.fills.map(byMinute)).toEqual(backtest.journal.fills.map(byMinute));
      expect(live.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
      expect(sim.account.executions).toHaveLength(1);
    } finally {
      clearInterval(watch);
      await sim.close();
      journal.close();
    }
  }, 120_000);
});
