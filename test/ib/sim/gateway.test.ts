// The simulator behaving as a real gateway: real time by default, order ids per client id, execIds
// unique across lifetimes, IB's 50 messages/s per connection, and resuming from a snapshot. Real
// @stoqey/ib clients and the raw client over TCP; no timing assertions.
import path from 'node:path';
import { EventName, OrderAction, OrderType, SecType, type Contract, type Order } from '@stoqey/ib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../../engine/core/types.ts';
import { importPaths } from '../../../engine/data/import.ts';
import { loadBars } from '../../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../../engine/data/sample.ts';
import { openStore } from '../../../engine/data/store.ts';
import { RawClient } from '../../../engine/ib/protocol/raw-client.ts';
import type { SimSnapshot } from '../../../engine/ib/sim/snapshot.ts';
import { IbGatewaySimulator, type SimulatorOptions } from '../../../engine/ib/sim/simulator.ts';
import { ApiClient } from './sim-helpers.ts';

const DAY2_OPEN = Date.UTC(2013, 9, 8, 13, 30); // 2013-10-08 09:30 New York: the replay starts here
const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const mkt = (qty: number, orderRef: string): Order => ({ action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: qty, orderRef, transmit: true });
const lmt = (qty: number, price: number, orderRef: string): Order => ({
  ...mkt(qty, orderRef),
  orderType: OrderType.LMT,
  lmtPrice: price,
  tif: 'GTC' as never,
});

let series: BarSeries[];
beforeAll(async () => {
  const store = await openStore(':memory:');
  try {
    const files = ['spy', 'ibm'].flatMap((s) => ['20131007', '20131008'].map((d) => path.join(SAMPLE_DIR, 'minute', s, `${d}.csv`)));
    await importPaths(store, files, { interval: '1m' });
    series = await loadBars(store, { symbols: ['SPY', 'IBM'], interval: '1m' });
  } finally {
    store.close();
  }
});

const sims: IbGatewaySimulator[] = [];
const clients: ApiClient[] = [];
const raws: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(raws.splice(0).map((c) => c.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function start(o: Partial<SimulatorOptions> = {}): Promise<IbGatewaySimulator> {
  const sim = await IbGatewaySimulator.start({ series, from: DAY2_OPEN, ...o });
  sims.push(sim);
  return sim;
}

async function connect(sim: IbGatewaySimulator, clientId: number, maxReqPerSec?: number): Promise<ApiClient> {
  const c = await ApiClient.connect(sim.port, clientId, maxReqPerSec);
  clients.push(c);
  return c;
}

/** A lockstep simulator and client 1 subscribed to SPY's 5-second bars, after the first replayed minute. */
async function afterFirstMinute(o: Partial<SimulatorOptions> = {}): Promise<{ sim: IbGatewaySimulator; c: ApiClient }> {
  const sim = await start({ speed: 'max', ...o });
  const c = await connect(sim, 1);
  c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
  await c.step(12);
  return { sim, c };
}

describe('speed', () => {
  it('is real time by default: a subscribed client is not stepped, its reqCurrentTime is answered at once', async () => {
    const sim = await start();
    const c = await connect(sim, 1);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    // in lockstep this reqCurrentTime would release the first batch and be answered with its end
    expect((await c.step()) * 1000).toBe(DAY2_OPEN);
    expect(sim.stats.batches).toBe(0);
  });
});

describe('order ids per client id', () => {
  it('gives each client its own id space; executions, openOrder, orderStatus and cancel address (clientId, orderId)', async () => {
    const { sim, c: a } = await afterFirstMinute();
    const b = await connect(sim, 2);
    expect([a.nextValidId, b.nextValidId]).toEqual([1, 1]);

    // both clients use order id 1 (working limits far below the market) and 2 (market orders)
    const openA = a.record(EventName.openOrder);
    const openB = b.record(EventName.openOrder);
    const execA = a.record(EventName.execDetails);
    const execB = b.record(EventName.execDetails);
    const working = (c: ApiClient, id: number) => c.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === id && status === 'Submitted');
    const placed = [working(a, 1), working(b, 1), working(a, 2), working(b, 2)];
    a.api.placeOrder(1, SPY, lmt(10, 100, 'a-1'));
    b.api.placeOrder(1, SPY, lmt(20, 100, 'b-1'));
    a.api.placeOrder(2, SPY, mkt(5, 'a-2'));
    b.api.placeOrder(2, SPY, mkt(7, 'b-2'));
    await Promise.all(placed);
    const filled = [a, b].map((c) => c.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === 2 && status === 'Filled'));
    await a.step();
    await Promise.all(filled);
    expect(a.errors.concat(b.errors)).toEqual([]);
    expect(openA.map((o) => [o[0], o[2].orderRef])).toEqual([
      [1, 'a-1'],
      [2, 'a-2'],
      [2, 'a-2'],
    ]);
    expect(openB.map((o) => [o[0], o[2].orderRef])).toEqual([
      [1, 'b-1'],
      [2, 'b-2'],
      [2, 'b-2'],
    ]);
    expect(execA.map((x) => [x[2].clientId, x[2].orderId, x[2].shares])).toEqual([[1, 2, 5]]);
    expect(execB.map((x) => [x[2].clientId, x[2].orderId, x[2].shares])).toEqual([[2, 2, 7]]);
    expect(execA[0][2].execId).not.toBe(execB[0][2].execId);
    expect(sim.account.ledger.qty[0]).toBe(12);

    // client 2 cancels its order 1: client 1's order 1 keeps working
    const cancelled = b.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === 1 && status === 'Cancelled');
    b.api.cancelOrder(1);
    await cancelled;
    const all = a.record(EventName.openOrder);
    const end = a.waitFor(EventName.openOrderEnd);
    a.api.reqAllOpenOrders();
    await end;
    expect(all.map((o) => [o[2].clientId, o[0], o[2].orderRef, o[3].status])).toEqual([[1, 1, 'a-1', 'Submitted']]);
    expect(sim.account.order(1, 1)!.status).toBe('Submitted');
    expect(sim.account.order(2, 1)!.status).toBe('Cancelled');

    // a duplicate is a duplicate within one client only
    const dup = a.waitFor(EventName.error, (_e: Error, code: number) => code === 103);
    a.api.placeOrder(2, SPY, mkt(1, 'again'));
    expect((await dup)[2]).toBe(2);
    a.errors.length = 0;

    // reqExecutions (all clients) carries each execution's client id
    const rows = a.record(EventName.execDetails);
    const execEnd = a.waitFor(EventName.execDetailsEnd);
    a.api.reqExecutions(7, {});
    await execEnd;
    expect(rows.filter((r) => r[0] === 7).map((r) => [r[2].clientId, r[2].orderId, r[2].orderRef])).toEqual([
      [1, 2, 'a-2'],
      [2, 2, 'b-2'],
    ]);

    // nextValidId stays per client across a reconnect; a new client starts at 1
    await b.close();
    const b2 = await connect(sim, 2);
    const c3 = await connect(sim, 3);
    expect([b2.nextValidId, c3.nextValidId]).toEqual([3, 1]);
  });
});

describe('execution ids', () => {
  it('never repeat across simulator lifetimes, and stay unique within one', async () => {
    const fills = async (): Promise<string[]> => {
      const { sim, c } = await afterFirstMinute();
      const execs = c.record(EventName.execDetails);
      const done = c.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === 2 && status === 'Filled');
      c.api.placeOrder(1, SPY, mkt(3, 'one'));
      c.api.placeOrder(2, SPY, mkt(4, 'two'));
      await c.step();
      await done;
      await c.close();
      await sim.close();
      return execs.map((x) => x[2].execId);
    };
    const first = await fills();
    const second = await fills();
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
    expect(new Set([...first, ...second]).size).toBe(4);
    for (const id of [...first, ...second]) expect(id).toMatch(/^[0-9a-f]{8}\.[0-9a-z]+\.[0-9a-f]{8}\.01\.01$/);
  });
});

describe('message rate (50 messages/s per connection)', () => {
  const startApi = RawClient.frame([71, 2, 1, '']);
  const currentTime = RawClient.frame([49, 1]);
  const rawClient = async (sim: IbGatewaySimulator) => {
    const c = await RawClient.connect(sim.port);
    raws.push(c);
    return c;
  };

  it('answers a burst over the limit with error 100 for each message over it, and disconnects at the third', async () => {
    const sim = await start();
    const violations: number[] = [];
    sim.events.on('pacingViolation', (_clientId: number, n: number) => violations.push(n));
    const c = await rawClient(sim);
    // startApi and 60 requests in one write: messages 51, 52 and 53 are over the limit
    await c.write(Buffer.concat([RawClient.handshake(), startApi, ...Array(60).fill(currentTime)]));
    await c.closed;
    const errors = c.frames.filter((f) => f[0] === '4' && f[3] === '100');
    expect(errors).toEqual(
      [1, 2, 3].map((n) => ['4', '2', String(n), '100', `Max rate of messages per second has been exceeded:max=50 rec=${50 + n} (${n})`, '']),
    );
    expect(c.frames.filter((f) => f[0] === '49')).toHaveLength(49); // the ones within the limit were answered
    expect(violations).toEqual([1, 2, 3]);
    expect(sim.stats.pacing).toEqual({ violations: 3, disconnects: 1 });
    expect(sim.clients).toBe(0);
  });

  it('lets @stoqey/ib at maxReqPerSec 40 (its default) through, 150 requests and no error', async () => {
    const sim = await start();
    const c = await connect(sim, 2, 40);
    let n = 0;
    const all = c.waitFor(EventName.currentTime, () => ++n === 150, 15_000);
    for (let i = 0; i < 150; i++) c.api.reqCurrentTime();
    await all;
    expect(c.errors).toEqual([]);
    expect(sim.stats.pacing.violations).toBe(0);
  }, 30_000);

  it('is not enforced with maxMsgPerSec 0, nor by default in lockstep', async () => {
    for (const o of [{ maxMsgPerSec: 0 }, { speed: 'max' as const }]) {
      const sim = await start(o);
      const c = await rawClient(sim);
      await c.write(Buffer.concat([RawClient.handshake(), startApi, ...Array(200).fill(currentTime)]));
      for (let i = 0; i < 200; i++) await c.nextMatching((f) => f[0] === '49');
      expect(sim.stats.pacing.violations).toBe(0);
    }
  });
});

describe('snapshot and resume', () => {
  /** The snapshot without what differs between lifetimes (the lifetime and the execIds it stamps). */
  const sameState = (s: SimSnapshot) => ({ ...s, lifetime: 0, state: { ...s.state, executions: s.state.executions.map((e) => ({ ...e, execId: '' })) } });

  it('continues exactly where the snapshotted simulator was: clock, account, working orders, ids; new execIds never collide', async () => {
    const { sim: a, c } = await afterFirstMinute();
    const filled = c.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === 1 && status === 'Filled');
    c.api.placeOrder(1, SPY, mkt(100, 'position'));
    await c.step();
    await filled;
    // a buy limit at the lowest low of the next minutes: working now, filled within the next 15 minutes
    const s = series[0];
    const i = s.ts.indexOf(DAY2_OPEN) + 2;
    const limit = Math.min(...s.low.slice(i, i + 14));
    const working = c.waitFor(EventName.orderStatus, (oid: number, status: string) => oid === 2 && status === 'Submitted');
    c.api.placeOrder(2, SPY, lmt(50, limit, 'limit'));
    await working;

    const snap: SimSnapshot = JSON.parse(JSON.stringify(a.snapshot()));
    expect(snap.clock).toBe(DAY2_OPEN + 65_000);
    expect(snap.state.qty[0]).toBe(100);
    expect(snap.state.orders.map((o) => [o.clientId, o.id, o.status])).toEqual([[1, 2, 'Submitted']]);

    const b = await start({ speed: 'max', resume: snap });
    expect(b.now()).toBe(snap.clock);
    expect(sameState(b.snapshot())).toEqual(sameState(snap));
    expect(b.snapshot().lifetime).toBeGreaterThan(snap.lifetime);

    // the client reconnects to the resumed simulator: its position, working order and order ids are there
    const c2 = await ApiClient.connect(b.port, 1);
    clients.push(c2);
    const positions = c2.record(EventName.position);
    const posEnd = c2.waitFor(EventName.positionEnd);
    c2.api.reqPositions();
    await posEnd;
    expect(c2.nextValidId).toBe(3);
    expect(positions.map((p) => [p[1].symbol, p[2]])).toEqual([['SPY', 100]]);
    const oo = c2.record(EventName.openOrder);
    const ooEnd = c2.waitFor(EventName.openOrderEnd);
    c2.api.reqOpenOrders();
    await ooEnd;
    expect(oo.map((o) => [o[0], o[2].orderRef, o[2].permId, o[3].status])).toEqual([[2, 'limit', snap.state.orders[0].permId, 'Submitted']]);

    // both replay the same 15 minutes: the limit fills in each, and they end in the same state
    c2.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(180);
    await c2.step(180);
    const sa = a.snapshot();
    const sb = b.snapshot();
    expect(sa.state.executions.map((e) => e.orderRef)).toEqual(['position', 'limit']);
    expect(sameState(sb)).toEqual(sameState(sa));
    expect(sb.state.executions[0].execId).toBe(sa.state.executions[0].execId); // the earlier execution, as it was
    expect(sb.state.executions[1].execId).not.toBe(sa.state.executions[1].execId);
    expect(new Set([...sa.state.executions, ...sb.state.executions].map((e) => e.execId)).size).toBe(3);
  });

  it('refuses a snapshot that does not fit the series', async () => {
    const { sim } = await afterFirstMinute();
    const snap = sim.snapshot();
    await expect(start({ series: [series[1], series[0]], resume: snap })).rejects.toThrow(/symbols SPY,IBM, the series are IBM,SPY/);
    await expect(start({ resume: { ...snap, interval: '5m' } })).rejects.toThrow(/5m bars/);
    await expect(start({ resume: { ...snap, clock: Date.UTC(2020, 0, 2, 15) } })).rejects.toThrow(/outside the series/);
    await expect(start({ resume: { ...snap, clock: snap.clock + 1_000 } })).rejects.toThrow(/5-second boundary/);
    await expect(start({ account: 'DU999', resume: snap })).rejects.toThrow(/account DU1234567, not DU999/);
  });
});
