// The simulator with the unmodified @stoqey/ib client over real TCP: every test asserts that the
// client decoded everything (no 505) and saw no error it did not expect.
//
// No assertion measures a duration, and no sleep stands for "nothing happened": that is shown with a
// round trip (Client.sync: the simulator answers a request after everything it was sent before it
// on that socket, and the client reads in order) and with the simulator's counters (stats), its
// virtual clock (sim.now()) and the client's events. Real time still sets the simulator's own timers
// (N x speed, the join grace, stall, restart, the pacing windows); the tests only assume that a
// local round trip takes far less than those.
import net from 'node:net';
import path from 'node:path';
import { ErrorCode, EventName, IBApi, OrderAction, OrderType, SecType, type Contract, type Order } from '@stoqey/ib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../../engine/core/types.ts';
import { importPaths } from '../../../engine/data/import.ts';
import { loadBars } from '../../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../../engine/data/sample.ts';
import { openStore } from '../../../engine/data/store.ts';
import { IN } from '../../../engine/ib/protocol/ids.ts';
import { IbGatewaySimulator, type SimulatorOptions } from '../../../engine/ib/sim/simulator.ts';

const DAY2_OPEN = Date.UTC(2013, 9, 8, 13, 30); // 2013-10-08 09:30 New York: the replay starts here, earlier bars are history
const stock = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });
const SPY = stock('SPY');

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

/** IBApi's event methods without their per-event overloads. */
interface Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** One @stoqey/ib client with every error and notice recorded. */
class Client {
  readonly errors: { code: number; reqId: number; message: string }[] = [];
  readonly infos: { code: number; message: string }[] = [];
  nextValidId = -1;

  private constructor(readonly api: IBApi) {
    api.on(EventName.error, (err: Error, code: number, reqId: number) => this.errors.push({ code, reqId, message: err.message }));
    api.on(EventName.info, (message: string, code: number) => this.infos.push({ code, message }));
    api.on(EventName.nextValidId, (id: number) => (this.nextValidId = id));
  }

  static async connect(port: number, clientId: number): Promise<Client> {
    const c = new Client(new IBApi({ host: '127.0.0.1', port, maxReqPerSec: 10_000 }));
    const ready = c.waitFor(EventName.nextValidId);
    c.api.connect(clientId);
    await ready;
    return c;
  }

  /** Resolves with the arguments of the next `event` that matches. */
  waitFor(event: EventName, pred: (...args: any[]) => boolean = () => true, timeoutMs = 3_000): Promise<any[]> {
    const events = this.api as unknown as Emitter;
    return new Promise((resolve, reject) => {
      const handler = (...args: any[]) => {
        if (!pred(...args)) return;
        clearTimeout(timer);
        events.off(event, handler);
        resolve(args);
      };
      const timer = setTimeout(() => {
        events.off(event, handler);
        reject(new Error(`no ${event} within ${timeoutMs} ms; errors: ${JSON.stringify(this.errors)}`));
      }, timeoutMs);
      events.on(event, handler);
    });
  }

  /** Every `event` from now on. */
  record(event: EventName): any[][] {
    const out: any[][] = [];
    (this.api as unknown as Emitter).on(event, (...args: any[]) => out.push(args));
    return out;
  }

  /**
   * A round trip that moves nothing: reqManagedAccts, answered at once (lockstep or not). When it
   * resolves, the client has read everything the simulator sent in answer to what this client sent
   * before it; so whatever has not arrived by then was not sent.
   */
  async sync(): Promise<void> {
    const answer = this.waitFor(EventName.managedAccounts);
    this.api.reqManagedAccts();
    await answer;
  }

  /** Lockstep: one reqCurrentTime per batch; resolves with the clock after the last. */
  async step(batches = 1): Promise<number> {
    let t = 0;
    for (let i = 0; i < batches; i++) {
      const answer = this.waitFor(EventName.currentTime);
      this.api.reqCurrentTime();
      [t] = await answer;
    }
    return t;
  }

  async close(): Promise<void> {
    if (!this.api.isConnected) return;
    const gone = this.waitFor(EventName.disconnected, () => true, 2_000).catch(() => undefined);
    this.api.disconnect();
    await gone;
  }

  /** Errors other than the expected codes (505, the decoding errors, never are). */
  unexpected(allowed: number[]): { code: number; reqId: number; message: string }[] {
    return this.errors.filter((e) => e.code === ErrorCode.UNKNOWN_ID || !allowed.includes(e.code));
  }
}

/** Resolves once `cond()` holds (checked every few ms): for a counter to move, never to show that nothing happens. */
async function until(cond: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let sim: IbGatewaySimulator | undefined;
let clients: Client[] = [];
let allowed: number[] = [];

/** client messages the simulator has received with this id */
const received = (id: number): number => sim!.stats.received[id] ?? 0;

async function start(o: Partial<SimulatorOptions> = {}): Promise<IbGatewaySimulator> {
  // lockstep unless a test says otherwise: the replay moves only when the clients say so
  sim = await IbGatewaySimulator.start({ series, from: DAY2_OPEN, speed: 'max', ...o });
  return sim;
}

async function connect(clientId = 1): Promise<Client> {
  const c = await Client.connect(sim!.port, clientId);
  clients.push(c);
  return c;
}

afterEach(async () => {
  const all = clients;
  clients = [];
  await Promise.all(all.map((c) => c.close()));
  await sim?.close();
  sim = undefined;
  for (const c of all) expect(c.unexpected(allowed)).toEqual([]);
  allowed = [];
});

/** A simulator and a client subscribed to SPY's real-time bars, once the first replayed minute has closed. */
async function afterFirstMinute(clientId = 1): Promise<Client> {
  await start();
  const c = await connect(clientId);
  c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
  await c.step(12);
  return c;
}

/** The simulator's order `orderId` of client `clientId` (found by its fields: the account's map key is its own business). */
const simOrder = (clientId: number, orderId: number) => [...sim!.account.orders.values()].find((so) => so.clientId === clientId && so.id === orderId);

const spy = () => series[0];
const first = () => spy().ts.indexOf(DAY2_OPEN); // index of the first replayed SPY bar

describe('with @stoqey/ib: connection and reference data', () => {
  it('connects, gets the account and order ids, and an id for every reqIds', async () => {
    await start();
    const accounts = new Promise<string>((resolve) => {
      const api = new IBApi({ host: '127.0.0.1', port: sim!.port });
      api.once(EventName.managedAccounts, (a: string) => {
        resolve(a);
        api.disconnect();
      });
      api.connect(9);
    });
    expect(await accounts).toBe('DU1234567');
    const c = await connect();
    expect(c.nextValidId).toBe(1);
    expect(c.infos.map((i) => i.code)).toEqual([2104, 2106, 2158]);
    const ids = c.record(EventName.nextValidId);
    c.api.reqIds();
    c.api.reqIds();
    await c.sync(); // both answers (and no third) are in by now
    expect(received(IN.REQ_IDS)).toBe(2);
    expect(ids.length).toBe(2);
  });

  it('gives contract details for the replayed symbols and 200 for others', async () => {
    await start();
    const c = await connect();
    const details = c.waitFor(EventName.contractDetails, (reqId: number) => reqId === 11);
    const end = c.waitFor(EventName.contractDetailsEnd, (reqId: number) => reqId === 11);
    c.api.reqContractDetails(11, SPY);
    const [, d] = await details;
    await end;
    expect(d.contract).toMatchObject({ symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD', conId: sim!.contracts.conIds[0] });
    expect(d).toMatchObject({ minTick: 0.01, timeZoneId: 'US/Eastern', validExchanges: 'SMART' });
    allowed = [200];
    const err = c.waitFor(EventName.error, (_e: Error, code: number) => code === 200);
    c.api.reqContractDetails(12, stock('ZZZZ'));
    const [e, , reqId] = await err;
    expect(reqId).toBe(12);
    expect(e.message).toBe('No security definition has been found for the request');
    // the same conId every run
    const again = c.waitFor(EventName.contractDetails, (reqId: number) => reqId === 13);
    c.api.reqContractDetails(13, { conId: sim!.contracts.conIds[1] } as Contract);
    expect((await again)[1].contract.symbol).toBe('IBM');
  });
});

describe('with @stoqey/ib: replay', () => {
  it('replays 5-second bars in lockstep that aggregate back to the stored minute bars exactly', async () => {
    await start();
    const c = await connect();
    const bars = c.record(EventName.realtimeBar);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    c.api.reqRealTimeBars(2, stock('IBM'), 5, 'TRADES' as never, false);
    const minutes = 3;
    const t = await c.step(12 * minutes);
    expect(t).toBe(DAY2_OPEN / 1000 + 60 * minutes);
    expect(sim!.now()).toBe(DAY2_OPEN + 60_000 * minutes);
    for (const [reqId, s] of [
      [1, series[0]],
      [2, series[1]],
    ] as const) {
      const mine = bars.filter((b) => b[0] === reqId);
      expect(mine).toHaveLength(12 * minutes);
      expect(mine.map((b) => b[1])).toEqual(Array.from({ length: 12 * minutes }, (_, k) => DAY2_OPEN / 1000 + 5 * k));
      const i0 = s.ts.indexOf(DAY2_OPEN);
      for (let m = 0; m < minutes; m++) {
        const part = mine.slice(12 * m, 12 * m + 12);
        const [, , open] = part[0];
        const close = part[11][5];
        const high = Math.max(...part.map((b) => b[3]));
        const low = Math.min(...part.map((b) => b[4]));
        const volume = part.reduce((a, b) => a + b[6], 0);
        expect([open, high, low, close, volume]).toEqual([s.open[i0 + m], s.high[i0 + m], s.low[i0 + m], s.close[i0 + m], s.volume[i0 + m]]);
        expect(Object.is(high, s.high[i0 + m]) && Object.is(low, s.low[i0 + m]) && Object.is(close, s.close[i0 + m])).toBe(true);
        for (let k = 1; k < 12; k++) expect(part[k][2]).toBe(part[k - 1][5]); // each opens where the last closed
      }
    }
    // a reqCurrentTime before the next batch is answered with the next batch, not before it
    const more = c.record(EventName.realtimeBar);
    await c.step();
    expect(more.map((b) => b[1])).toEqual([DAY2_OPEN / 1000 + 180, DAY2_OPEN / 1000 + 180]);
  });

  it('streams ticks to market-data subscribers, live and delayed', async () => {
    await start();
    const c = await connect();
    const prices = c.record(EventName.tickPrice);
    const sizes = c.record(EventName.tickSize);
    const strings = c.record(EventName.tickString);
    const params = c.waitFor(EventName.tickReqParams);
    c.api.reqMktData(3, SPY, '', false, false);
    await params;
    await c.step(2);
    const s = spy();
    const i = first();
    const last = prices.filter((p) => p[1] === 4).map((p) => p[2]);
    expect(last).toHaveLength(2);
    expect(last[1]).not.toBeNaN();
    expect(prices.filter((p) => p[1] === 1)).toHaveLength(2); // bid
    expect(prices.filter((p) => p[1] === 2)).toHaveLength(2); // ask
    const volumes = sizes.filter((x) => x[1] === 8).map((x) => x[2]);
    expect(volumes).toHaveLength(2);
    expect(volumes[1]).toBeGreaterThanOrEqual(volumes[0]);
    expect(strings.filter((x) => x[1] === 45).map((x) => x[2])).toEqual([String(DAY2_OPEN / 1000 + 5), String(DAY2_OPEN / 1000 + 10)]);
    // after 12 batches the last price is the stored minute's close
    await c.step(10);
    expect(prices.filter((p) => p[1] === 4).at(-1)![2]).toBe(s.close[i]);

    const type = c.waitFor(EventName.marketDataType, (reqId: number) => reqId === 3);
    c.api.reqMarketDataType(3);
    expect((await type)[1]).toBe(3);
    await c.step();
    expect(prices.at(-1)![1]).toBeGreaterThanOrEqual(66); // delayed tick types
    expect(prices.some((p) => p[1] === 68)).toBe(true);
  });

  it('runs at N x real time without lockstep, and resolves finished after the last batch', async () => {
    const short = series.map((s) => {
      const i = s.ts.indexOf(DAY2_OPEN);
      const cut = (a: Float64Array) => a.slice(i, i + 1);
      return { ...s, ts: cut(s.ts), open: cut(s.open), high: cut(s.high), low: cut(s.low), close: cut(s.close), volume: cut(s.volume) };
    });
    await start({ series: short, from: undefined, speed: 300 }); // a 5-second bar every 16.7 ms
    const c = await connect();
    const bars = c.record(EventName.realtimeBar);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await sim!.finished;
    // no lockstep signal was needed: every batch went out before the client sent any reqCurrentTime
    expect(received(IN.REQ_CURRENT_TIME)).toBe(0);
    expect(sim!.stats.batches).toBe(12);
    expect(sim!.now()).toBe(DAY2_OPEN + 60_000);
    expect(await c.step()).toBe(DAY2_OPEN / 1000 + 60); // answered at once; it follows the last bar on the socket
    expect(received(IN.REQ_CURRENT_TIME)).toBe(1);
    expect(sim!.stats.batches).toBe(12);
    expect(bars.map((b) => b[1])).toEqual(Array.from({ length: 12 }, (_, k) => DAY2_OPEN / 1000 + 5 * k));
  });

  it('at N x real time, sends no batch before it is due', async () => {
    await start({ speed: 1 }); // real time: the first 5-second bar is due 5 s after the subscription
    const c = await connect();
    const bars = c.record(EventName.realtimeBar);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.sync(); // the subscription has been read; anything sent at once would be in by now
    expect(received(IN.REQ_REAL_TIME_BARS)).toBe(1);
    expect(bars).toEqual([]);
    expect(sim!.stats.batches).toBe(0);
    expect(sim!.now()).toBe(DAY2_OPEN);
  });

  it('resolves finished in lockstep once the client has acknowledged the last batch', async () => {
    const short = series.map((s) => {
      const i = s.ts.indexOf(DAY2_OPEN);
      const cut = (a: Float64Array) => a.slice(i, i + 2);
      return { ...s, ts: cut(s.ts), open: cut(s.open), high: cut(s.high), low: cut(s.low), close: cut(s.close), volume: cut(s.volume) };
    });
    await start({ series: short, from: undefined });
    const c = await connect();
    let done = false;
    void sim!.finished.then(() => (done = true));
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(24);
    expect(sim!.stats.batches).toBe(24); // the last batch is out, and answered
    expect(done).toBe(false);
    await c.step();
    // the simulator resolved finished when it read this 25th signal, before it answered it
    expect(received(IN.REQ_CURRENT_TIME)).toBe(25);
    expect(done).toBe(true);
    expect(sim!.stats.batches).toBe(24);
  });
});

describe('with @stoqey/ib: orders and account', () => {
  const buy = (qty: number, orderRef: string, extra: Partial<Order> = {}): Order => ({
    action: OrderAction.BUY,
    orderType: OrderType.MKT,
    totalQuantity: qty,
    orderRef,
    transmit: true,
    ...extra,
  });

  it('fills a market order at the next minute open: execDetails, orderStatus, commissionReport', async () => {
    const c = await afterFirstMinute();
    const statuses = c.record(EventName.orderStatus);
    const exec = c.waitFor(EventName.execDetails);
    const report = c.waitFor(EventName.commissionReport);
    const filled = c.waitFor(EventName.orderStatus, (_id: number, status: string) => status === 'Filled');
    c.api.placeOrder(c.nextValidId, SPY, buy(100, 'test-mkt'));
    await c.step();
    const [reqId, contract, e] = await exec;
    const s = spy();
    const i = first();
    expect(reqId).toBe(-1);
    expect(contract.symbol).toBe('SPY');
    expect(e).toMatchObject({
      orderId: 1,
      side: 'BOT',
      shares: 100,
      price: s.open[i + 1],
      cumQty: 100,
      avgPrice: s.open[i + 1],
      orderRef: 'test-mkt',
      acctNumber: 'DU1234567',
      time: '20131008 09:31:00 US/Eastern',
    });
    const [r] = await report;
    expect(r).toMatchObject({ execId: e.execId, commission: 1, currency: 'USD' });
    const [, , filledQty, remaining, avg] = await filled;
    expect([filledQty, remaining, avg]).toEqual([100, 0, s.open[i + 1]]);
    expect(statuses.map((x) => x[1]).slice(0, 2)).toEqual(['PreSubmitted', 'Submitted']);
  });

  it('fills a limit order at its price when the market comes to it, and cancels another (202)', async () => {
    allowed = [202];
    const c = await afterFirstMinute();
    const s = spy();
    const i = first();
    // the lowest low of the next five minutes: reached first in the minute it occurs, filled at the limit
    const lows = Array.from({ length: 5 }, (_, k) => s.low[i + 1 + k]);
    const limit = Math.min(...lows);
    const minute = lows.indexOf(limit);
    expect(s.open[i + 1 + minute]).toBeGreaterThanOrEqual(limit);
    const exec = c.waitFor(EventName.execDetails, () => true, 5_000);
    c.api.placeOrder(1, SPY, buy(50, 'test-lmt', { orderType: OrderType.LMT, lmtPrice: limit, tif: 'GTC' as never }));
    c.api.placeOrder(2, SPY, { action: OrderAction.SELL, orderType: OrderType.LMT, totalQuantity: 10, lmtPrice: 1000, orderRef: 'never' });
    await c.step(60);
    const [, , e] = await exec;
    expect(e).toMatchObject({ orderId: 1, price: limit, shares: 50 });
    expect(e.time.slice(9, 14)).toBe(`09:${String(31 + minute).padStart(2, '0')}`);

    const open = c.record(EventName.openOrder);
    const end = c.waitFor(EventName.openOrderEnd);
    c.api.reqOpenOrders();
    await end;
    expect(open.map((o) => [o[0], o[3].status])).toEqual([[2, 'Submitted']]);

    const cancelled = c.waitFor(EventName.orderStatus, (id: number, status: string) => id === 2 && status === 'Cancelled');
    const err = c.waitFor(EventName.error, (_e: Error, code: number) => code === 202);
    c.api.cancelOrder(2);
    await cancelled;
    expect((await err)[2]).toBe(2);
  });

  it('reports positions, executions, account summary and P&L, and keeps them across a reconnect', async () => {
    let c = await afterFirstMinute(5);
    const filled = c.waitFor(EventName.orderStatus, (_id: number, status: string) => status === 'Filled');
    c.api.placeOrder(c.nextValidId, SPY, buy(100, 'keep'));
    c.api.placeOrder(c.nextValidId + 1, SPY, {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      totalQuantity: 100,
      lmtPrice: 999,
      orderRef: 'working',
      tif: 'GTC' as never,
    });
    await c.step();
    await filled;
    const price = spy().open[first() + 1];

    const positions = c.record(EventName.position);
    const posEnd = c.waitFor(EventName.positionEnd);
    c.api.reqPositions();
    await posEnd;
    expect(positions).toHaveLength(1);
    const [account, contract, pos, avgCost] = positions[0];
    expect([account, contract.symbol, pos]).toEqual(['DU1234567', 'SPY', 100]);
    expect(avgCost).toBeCloseTo(price + 0.01, 10); // IB's average cost includes the commission

    const summary = c.record(EventName.accountSummary);
    const sumEnd = c.waitFor(EventName.accountSummaryEnd, (reqId: number) => reqId === 20);
    c.api.reqAccountSummary(20, 'All', 'NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds');
    await sumEnd;
    const values = Object.fromEntries(summary.map((x) => [x[2], Number(x[3])]));
    expect(Object.keys(values)).toEqual(['NetLiquidation', 'TotalCashValue', 'BuyingPower', 'AvailableFunds']);
    expect(values.TotalCashValue).toBeCloseTo(100_000 - 100 * price - 1, 2);
    expect(summary[0][4]).toBe('USD');

    const pnl = c.waitFor(EventName.pnl, (reqId: number) => reqId === 21);
    c.api.reqPnL(21, 'DU1234567', '');
    const [, daily, unrealized, realized] = await pnl;
    expect(realized).toBe(0);
    expect(daily).toBeCloseTo(unrealized, 6); // both count from the average cost, which includes the commission
    expect(unrealized).toBeCloseTo(100 * (sim!.account.marks[0] - price) - 1, 6);

    const execs = c.record(EventName.execDetails);
    const reports = c.record(EventName.commissionReport);
    const execEnd = c.waitFor(EventName.execDetailsEnd, (reqId: number) => reqId === 22);
    c.api.reqExecutions(22, {} as never);
    await execEnd;
    expect(execs.map((x) => [x[0], x[2].orderRef, x[2].shares])).toEqual([[22, 'keep', 100]]);
    expect(reports.map((x) => x[0].execId)).toEqual([execs[0][2].execId]);

    // the client goes away and comes back: the account, the working order and the ids are the gateway's
    await c.close();
    clients = clients.filter((x) => x !== c);
    await until(() => sim!.clients === 0, 'the simulator saw the client go');
    const pushed: any[][] = [];
    const c2 = new IBApi({ host: '127.0.0.1', port: sim!.port, maxReqPerSec: 10_000 });
    c2.on(EventName.openOrder, (...a: any[]) => pushed.push(a));
    const ready = new Promise<number>((resolve) => c2.once(EventName.nextValidId, resolve));
    c2.connect(5);
    expect(await ready).toBe(3);
    // what the gateway sends with the connection is in once a later request is answered
    const pong = new Promise((resolve) => c2.once(EventName.managedAccounts, resolve));
    c2.reqManagedAccts();
    await pong;
    expect(pushed.map((o) => [o[0], o[2].orderRef])).toEqual([[2, 'working']]);
    c2.disconnect();
    await until(() => sim!.clients === 0, 'the simulator saw the client go'); // client id 5 is free again
    c = await connect(5);
    const again = c.record(EventName.position);
    const end2 = c.waitFor(EventName.positionEnd);
    c.api.reqPositions();
    await end2;
    expect(again.map((p) => [p[1].symbol, p[2]])).toEqual([['SPY', 100]]);
    const execs2 = c.record(EventName.execDetails);
    const end3 = c.waitFor(EventName.execDetailsEnd);
    c.api.reqExecutions(23, { clientId: 5 } as never);
    await end3;
    expect(execs2.map((x) => x[2].execId)).toEqual([execs[0][2].execId]);
  });

  it('works a bracket: children held until the parent fills, then one-cancels-all', async () => {
    allowed = [202];
    const c = await afterFirstMinute();
    const s = spy();
    const i = first();
    const entry = s.open[i + 1];
    const statuses = c.record(EventName.orderStatus);
    const execs = c.record(EventName.execDetails);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10, transmit: false, orderRef: 'entry' });
    c.api.placeOrder(2, SPY, {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      totalQuantity: 10,
      lmtPrice: entry + 0.05,
      parentId: 1,
      transmit: false,
      orderRef: 'tp',
      tif: 'GTC' as never,
    });
    c.api.placeOrder(3, SPY, {
      action: OrderAction.SELL,
      orderType: OrderType.STP,
      totalQuantity: 10,
      auxPrice: entry - 0.05,
      parentId: 1,
      transmit: true,
      orderRef: 'sl',
      tif: 'GTC' as never,
    });
    await c.step();
    expect(execs.map((x) => x[2].orderRef)).toEqual(['entry']);
    expect(statuses.filter((x) => x[0] === 2).map((x) => [x[1], x[9]])).toContainEqual(['PreSubmitted', 'child']);
    // the legs work from the next minute; run until one fills
    for (let k = 0; k < 12 * 30 && execs.length < 2; k++) await c.step();
    expect(execs).toHaveLength(2);
    const leg = execs[1][2];
    expect(['tp', 'sl']).toContain(leg.orderRef);
    if (leg.orderRef === 'tp') expect(leg.price).toBeGreaterThanOrEqual(entry + 0.05);
    else expect(leg.price).toBeLessThanOrEqual(entry - 0.05);
    expect(leg.time >= '20131008 09:32:00').toBe(true); // not inside the parent's minute
    const other = leg.orderRef === 'tp' ? 3 : 2;
    await c.sync();
    expect(statuses.filter((x) => x[0] === other).at(-1)![1]).toBe('Cancelled');
    expect(c.errors.filter((e) => e.code === 202).map((e) => e.reqId)).toEqual([other]);
  });

  it('modifies a working order by placing it again with its id', async () => {
    await start();
    const c = await connect();
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 10, lmtPrice: 1, tif: 'GTC' as never });
    await c.waitFor(EventName.orderStatus, (id: number, status: string) => id === 1 && status === 'Submitted');
    const modified = c.waitFor(EventName.openOrder, (id: number, _k: Contract, o: Order) => id === 1 && o.lmtPrice === 2);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 20, lmtPrice: 2, tif: 'GTC' as never });
    const [, , o] = await modified;
    expect(o.totalQuantity).toBe(20);
    expect(simOrder(1, 1)!.engine).toMatchObject({ limit: 2, qty: { kind: 'shares', shares: 20 } });
  });
});

describe('with @stoqey/ib: historical data', () => {
  it('serves bars up to the virtual clock in 1 min, 5 mins and 1 day bars', async () => {
    await start();
    const c = await connect();
    const get = async (reqId: number, duration: string, barSize: string, useRTH: number) => {
      const bars: any[][] = [];
      const done = new Promise<string>((resolve) =>
        c.api.on(EventName.historicalData, (id: number, date: string, ...rest: any[]) => {
          if (id !== reqId) return;
          if (date.startsWith('finished')) resolve(date);
          else bars.push([date, ...rest]);
        }),
      );
      c.api.reqHistoricalData(reqId, SPY, '', duration, barSize as never, 'TRADES' as never, useRTH, 1, false);
      return { bars, end: await done };
    };
    const s = spy();
    const i = first();
    const day2 = await get(30, '1 D', '1 min', 0);
    const day2Start = s.ts.findIndex((t) => t >= Date.UTC(2013, 9, 8, 8));
    expect(day2.bars).toHaveLength(i - day2Start); // the pre-market of day 2, up to the replay's start
    const lastBar = day2.bars.at(-1)!;
    expect(lastBar[0]).toBe('20131008 09:29:00 US/Eastern');
    expect(lastBar.slice(1, 6)).toEqual([s.open[i - 1], s.high[i - 1], s.low[i - 1], s.close[i - 1], s.volume[i - 1]]);
    expect(day2.end).toBe('finished-20131008 04:00:00-20131008 09:30:00');

    const fives = await get(31, '2 D', '5 mins', 1);
    expect(fives.bars).toHaveLength(78); // day 1's regular session; day 2's has not started
    expect(fives.bars[0][0]).toBe('20131007 09:30:00 US/Eastern');
    const j = s.ts.indexOf(Date.UTC(2013, 9, 7, 13, 30));
    expect(fives.bars[0].slice(1, 6)).toEqual([
      s.open[j],
      Math.max(...s.high.slice(j, j + 5)),
      Math.min(...s.low.slice(j, j + 5)),
      s.close[j + 4],
      s.volume.slice(j, j + 5).reduce((a, b) => a + b, 0),
    ]);

    const daily = await get(32, '1 W', '1 day', 1);
    expect(daily.bars.map((b) => b[0])).toEqual(['20131007']);
    const k = s.ts.indexOf(Date.UTC(2013, 9, 7, 19, 59));
    expect(daily.bars[0].slice(1, 5)).toEqual([s.open[j], Math.max(...s.high.slice(j, k + 1)), Math.min(...s.low.slice(j, k + 1)), s.close[k]]);

    // the clock moves on: the next request sees the bars replayed since
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(24);
    const later = await get(33, '1800 S', '1 min', 1);
    expect(later.bars.map((b) => b[0])).toEqual(['20131008 09:30:00 US/Eastern', '20131008 09:31:00 US/Eastern']);
  });

  it('keeps a 5-minute bar up to date as the replay completes stored bars (keepUpToDate)', async () => {
    await start();
    const c = await connect();
    const updates = c.record(EventName.historicalDataUpdate);
    const initial = c.waitFor(EventName.historicalData, (id: number, date: string) => id === 34 && date.startsWith('finished'));
    c.api.reqHistoricalData(34, SPY, '', '3600 S', '5 mins' as never, 'TRADES' as never, 0, 1, true);
    await initial;
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(24);
    const s = spy();
    const i = first();
    expect(updates.map((u) => u.slice(0, 7))).toEqual([
      [34, '20131008 09:30:00 US/Eastern', s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]],
      [
        34,
        '20131008 09:30:00 US/Eastern',
        s.open[i],
        Math.max(s.high[i], s.high[i + 1]),
        Math.min(s.low[i], s.low[i + 1]),
        s.close[i + 1],
        s.volume[i] + s.volume[i + 1],
      ],
    ]);
    c.api.cancelHistoricalData(34);
    await c.step(12);
    expect(updates).toHaveLength(2);
  });

  it('enforces IB pacing (162): identical request within 15 s, more than 6 per contract in 2 s, and on command', async () => {
    allowed = [162];
    await start();
    const c = await connect();
    const outcome = (reqId: number) =>
      Promise.race([
        c.waitFor(EventName.historicalData, (id: number, date: string) => id === reqId && date.startsWith('finished')).then(() => 'data'),
        c.waitFor(EventName.error, (_e: Error, code: number, id: number) => id === reqId && code === 162).then(() => '162'),
      ]);
    const req = (reqId: number, duration: string) => {
      const o = outcome(reqId);
      c.api.reqHistoricalData(reqId, SPY, '', duration, '1 min' as never, 'TRADES' as never, 0, 1, false);
      return o;
    };
    expect(await req(40, '1 D')).toBe('data');
    expect(await req(41, '1 D')).toBe('162'); // identical
    const results = [];
    for (let k = 0; k < 6; k++) results.push(await req(42 + k, `${600 + k} S`));
    expect(results).toEqual(['data', 'data', 'data', 'data', 'data', '162']); // 6 accepted in 2 s (with the first), the 7th refused
    sim!.pacingViolationNext();
    expect(await req(50, '1 D')).toBe('162');
    expect(c.errors.find((e) => e.code === 162)!.message).toBe('Historical Market Data Service error message:Historical data request pacing violation');
  });
});

describe('with @stoqey/ib: faults', () => {
  const bars = (c: Client) => c.record(EventName.realtimeBar);
  const times = (rec: any[][]) => rec.map((b) => b[1] - DAY2_OPEN / 1000);

  it('drops every connection; the client reconnects and the replay goes on where it was', async () => {
    await start();
    const c = await connect(3);
    const seen = bars(c);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(3);
    const gone = c.waitFor(EventName.disconnected);
    sim!.dropConnections();
    await gone;
    expect(sim!.clients).toBe(0);
    const c2 = await connect(3);
    const after = bars(c2);
    c2.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c2.step(2);
    expect(times(seen)).toEqual([0, 5, 10]);
    expect(times(after)).toEqual([15, 20]);
  });

  it('1100 pauses market data; 1102 resumes it with the subscriptions kept', async () => {
    await start();
    const c = await connect();
    const seen = bars(c);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(2);
    const lost = c.waitFor(EventName.info, (_m: string, code: number) => code === 1100);
    sim!.connectivityLost();
    await lost;
    let answered = false;
    const answer = c.waitFor(EventName.currentTime).then(() => (answered = true));
    c.api.reqCurrentTime();
    await c.sync(); // the signal has been read, and held: no batch, no answer
    expect(received(IN.REQ_CURRENT_TIME)).toBe(3);
    expect(answered).toBe(false);
    expect(seen).toHaveLength(2);
    expect(sim!.stats.batches).toBe(2);
    expect(sim!.now()).toBe(DAY2_OPEN + 10_000);
    const restored = c.waitFor(EventName.info, (_m: string, code: number) => code === 1102);
    sim!.connectivityRestored(false);
    await restored;
    await answer;
    expect(times(seen)).toEqual([0, 5, 10]);
  });

  it('after 1101 the subscriptions are gone until requested again, and no batch is skipped', async () => {
    await start();
    const c = await connect();
    const seen = bars(c);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(2);
    sim!.connectivityLost();
    const restored = c.waitFor(EventName.info, (_m: string, code: number) => code === 1101);
    sim!.connectivityRestored(true);
    await restored;
    await c.step(); // not subscribed: answered at once, no bar
    expect(seen).toHaveLength(2);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(2);
    expect(times(seen)).toEqual([0, 5, 10, 15]);
  });

  it('keeps one lockstep signal in flight when a client resubscribes after 1101 with a request held', async () => {
    await start();
    const c = await connect();
    const seen = bars(c);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step(2);
    const answers = c.record(EventName.currentTime);
    const lost = c.waitFor(EventName.info, (_m: string, code: number) => code === 1100);
    sim!.connectivityLost();
    await lost;
    c.api.reqCurrentTime(); // held: the replay is paused
    await c.sync(); // ... and read by now
    expect(received(IN.REQ_CURRENT_TIME)).toBe(3);
    const restored = c.waitFor(EventName.info, (_m: string, code: number) => code === 1101);
    sim!.connectivityRestored(true);
    await restored;
    await c.sync(); // anything 1101 had released would be in by now
    expect(answers).toHaveLength(0);
    expect(sim!.stats.batches).toBe(2);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step();
    await c.sync(); // a second answer (two signals in flight) would be in by now
    expect(received(IN.REQ_CURRENT_TIME)).toBe(4);
    expect(answers).toHaveLength(1);
    expect(sim!.stats.batches).toBe(3);
    expect(times(seen)).toEqual([0, 5, 10]);
  });

  it('restarts: refuses connections while down, then serves the same account', async () => {
    const c = await afterFirstMinute(4);
    const filled = c.waitFor(EventName.orderStatus, (_id: number, status: string) => status === 'Filled');
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 7, orderRef: 'before-restart' });
    await c.step();
    await filled;
    const gone = c.waitFor(EventName.disconnected);
    const back = sim!.restart(300);
    await gone;
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: sim!.port });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await back;
    const c2 = await connect(4);
    expect(c2.nextValidId).toBe(2);
    const positions = c2.record(EventName.position);
    const end = c2.waitFor(EventName.positionEnd);
    c2.api.reqPositions();
    await end;
    expect(positions.map((p) => [p[1].symbol, p[2]])).toEqual([['SPY', 7]]);
  });

  it('rejects the next order on command: 201 and Inactive', async () => {
    allowed = [201];
    await start();
    const c = await connect();
    sim!.rejectNextOrder('margin check failed');
    const err = c.waitFor(EventName.error, (_e: Error, code: number) => code === 201);
    const inactive = c.waitFor(EventName.orderStatus, (id: number, status: string) => id === 1 && status === 'Inactive');
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1 });
    const [e, , id] = await err;
    await inactive;
    expect([e.message, id]).toEqual(['Order rejected - reason:margin check failed', 1]);
    const ok = c.waitFor(EventName.orderStatus, (id: number, status: string) => id === 2 && status === 'Submitted');
    c.api.placeOrder(2, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1 });
    await ok;
  });

  it('stalls: sends nothing for the given time, then everything held back', async () => {
    await start();
    const c = await connect();
    const seen = bars(c);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step();
    // what the client receives from now on, and whether the simulator was still stalled then
    const got: string[] = [];
    const duringStall: string[] = [];
    for (const event of [EventName.realtimeBar, EventName.currentTime, EventName.managedAccounts]) {
      (c.api as unknown as Emitter).on(event, () => {
        got.push(event);
        if (sim!.stalled()) duringStall.push(event);
      });
    }
    sim!.stall(500); // (long enough for the two requests below to be read within it)
    const t = c.step(); // a lockstep signal: the batch waits for the stall
    c.api.reqManagedAccts(); // answered at once, but held back
    await until(() => received(IN.REQ_MANAGED_ACCTS) === 1, 'the simulator read both requests');
    expect(sim!.stalled()).toBe(true); // (read within the stall)
    expect(sim!.stats.batches).toBe(1);
    // after the stall: what was held back first, then the batch and its answer
    expect(await t).toBe(DAY2_OPEN / 1000 + 10);
    expect(duringStall).toEqual([]);
    expect(got).toEqual([EventName.managedAccounts, EventName.realtimeBar, EventName.currentTime]);
    expect(sim!.stats.batches).toBe(2);
    expect(times(seen)).toEqual([0, 5]);
  });
});

describe('with @stoqey/ib: lockstep contract, daily bars, auctions, trailing stops', () => {
  /** The bars of `s` whose start is in [from, to) (or a filter), as a new series. */
  const cut = (s: BarSeries, keep: (t: number) => boolean): BarSeries => {
    const idx = [...s.ts.keys()].filter((i) => keep(s.ts[i]));
    const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
    return { ...s, ts: pick(s.ts), open: pick(s.open), high: pick(s.high), low: pick(s.low), close: pick(s.close), volume: pick(s.volume) };
  };
  const rth = (t: number) => {
    const m = ((((t - 4 * 3_600_000) / 60_000) % 1440) + 1440) % 1440; // New York in October: UTC-4
    return m >= 570 && m < 960;
  };

  it('waits for every subscribed client before the next batch', async () => {
    await start({ joinGraceMs: 0 }); // strict: a subscribed client is always waited for
    const a = await connect(1);
    const b = await connect(2);
    a.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    b.api.reqRealTimeBars(1, stock('IBM'), 5, 'TRADES' as never, false);
    for (let round = 1; round <= 2; round++) {
      let answered = false;
      const aDone = a.step().then(() => (answered = true));
      await a.sync(); // a's signal has been read, and held
      expect(received(IN.REQ_CURRENT_TIME)).toBe(2 * round - 1);
      expect(answered).toBe(false);
      expect(sim!.stats.batches).toBe(round - 1);
      await b.step();
      await aDone;
      expect(sim!.stats.batches).toBe(round);
    }
  });

  it('starts a client that never signals after the join grace, one batch at a time', async () => {
    await start({ joinGraceMs: 100 });
    const c = await connect();
    const first = c.waitFor(EventName.realtimeBar);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    expect((await first)[1]).toBe(DAY2_OPEN / 1000);
    await c.sync();
    expect(received(IN.REQ_CURRENT_TIME)).toBe(0); // the batch went out on the grace alone
    expect(sim!.stats.batches).toBe(1);
    // the grace was for joining only: the next batch waits for the signal (and there was one batch
    // between the subscription and it, or the answer would carry a later clock)
    expect(await c.step()).toBe(DAY2_OPEN / 1000 + 10);
    expect(sim!.stats.batches).toBe(2);
  });

  it('replays daily bars one bar per day and fills a market order at the next open', async () => {
    const day = (d: number) => Date.UTC(2013, 9, d);
    const daily: BarSeries = {
      symbol: 'SPY',
      interval: '1d',
      ts: Float64Array.from([day(7), day(8), day(9)]),
      open: Float64Array.from([167, 168, 165.5]),
      high: Float64Array.from([168, 168.5, 166]),
      low: Float64Array.from([166, 165, 164]),
      close: Float64Array.from([167.5, 165.2, 165.8]),
      volume: Float64Array.from([1e6, 2e6, 1.5e6]),
    };
    await start({ series: [daily], from: day(8) });
    const c = await connect();
    const bars = c.record(EventName.realtimeBar);
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    await c.step();
    expect(bars.map((b) => b.slice(1, 7))).toEqual([[day(8) / 1000, 168, 168.5, 165, 165.2, 2e6]]);
    const exec = c.waitFor(EventName.execDetails);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10 });
    await c.step();
    expect((await exec)[2]).toMatchObject({ price: 165.5, time: '20131008 20:00:00 US/Eastern' });
  });

  it('fills MOC at the session close and MOO (MKT, OPG) at the next session open', async () => {
    const onlyRth = series.map((s) => cut(s, rth));
    const s = onlyRth[0];
    const lastMinute = Date.UTC(2013, 9, 7, 19, 59);
    await start({ series: onlyRth, from: Date.UTC(2013, 9, 7, 19, 58) });
    const c = await connect();
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    const execs = c.record(EventName.execDetails);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MOC, totalQuantity: 10, orderRef: 'moc' });
    await c.step(24); // 15:58 and 15:59
    expect(execs.map((e) => [e[2].orderRef, e[2].price, e[2].time])).toEqual([['moc', s.close[s.ts.indexOf(lastMinute)], '20131007 15:59:55 US/Eastern']]);
    // placed at 16:00, after the close and without outsideRth: held until the open, as IB says with its message 399
    allowed = [399];
    c.api.placeOrder(2, SPY, { action: OrderAction.SELL, orderType: OrderType.MKT, tif: 'OPG' as never, totalQuantity: 10, orderRef: 'moo' });
    await c.step();
    expect(execs.map((e) => [e[2].orderRef, e[2].price, e[2].time])[1]).toEqual(['moo', s.open[s.ts.indexOf(DAY2_OPEN)], '20131008 09:30:00 US/Eastern']);
    expect(c.errors.filter((e) => e.code === 399).map((e) => [e.reqId, e.message.split('\n').at(-1)])).toEqual([
      [2, 'Warning: your order will not be placed at the exchange until 2013-10-08 09:30:00 US/Eastern'],
    ]);
  });

  it('fills a stop at its price, expires IOC, GTD and DAY orders, and cancels the rest globally', async () => {
    allowed = [202];
    const onlyRth = series.map((s) => cut(s, rth));
    const s = onlyRth[0];
    const from = Date.UTC(2013, 9, 7, 19, 55); // 15:55 on day 1
    const i = s.ts.indexOf(from);
    await start({ series: onlyRth, from });
    const c = await connect();
    c.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
    const execs = c.record(EventName.execDetails);
    const cancelled = c.record(EventName.orderStatus);
    const far = (id: number, extra: Partial<Order>) =>
      c.api.placeOrder(id, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 1, lmtPrice: 1, orderRef: `o${id}`, ...extra });
    const stop = Math.max(s.high[i], s.high[i + 1], s.high[i + 2]);
    const hit = [s.high[i], s.high[i + 1], s.high[i + 2]].indexOf(stop);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.STP, totalQuantity: 5, auxPrice: stop, tif: 'GTC' as never, orderRef: 'stop' });
    far(2, { tif: 'IOC' as never });
    far(3, { tif: 'GTD' as never, goodTillDate: '20131007 15:56:30 US/Eastern' });
    far(4, { tif: 'DAY' as never });
    far(5, { tif: 'GTC' as never });
    await c.step(12 * 5); // to the close of day 1
    const status = (id: number) => cancelled.filter((x) => x[0] === id).at(-1)![1];
    expect(execs.map((e) => [e[2].orderRef, e[2].price, e[2].time.slice(9, 14)])).toEqual([['stop', stop, `15:${55 + hit}`]]);
    expect([status(2), status(3), status(4), status(5)]).toEqual(['Cancelled', 'Cancelled', 'Submitted', 'Submitted']);
    await c.step(); // day 2 opens: the DAY order is gone
    expect([status(4), status(5)]).toEqual(['Cancelled', 'Submitted']);
    const done = c.waitFor(EventName.orderStatus, (id: number, st: string) => id === 5 && st === 'Cancelled');
    c.api.reqGlobalCancel();
    await done;
    expect(c.errors.filter((e) => e.code === 202).map((e) => e.reqId)).toEqual([2, 3, 4, 5]);
    expect(sim!.account.liveOrders()).toEqual([]);
  });

  it('works a trailing stop from the last price and reports where its stop is', async () => {
    const c = await afterFirstMinute();
    const mark = sim!.account.marks[0];
    const opened = c.waitFor(EventName.openOrder, (id: number) => id === 1);
    c.api.placeOrder(1, SPY, { action: OrderAction.SELL, orderType: OrderType.TRAIL, totalQuantity: 10, auxPrice: 0.02, tif: 'GTC' as never });
    await opened;
    expect(simOrder(1, 1)!.engine.stop).toBeCloseTo(mark - 0.02, 10);
    const exec = c.waitFor(EventName.execDetails, () => true, 10_000);
    let filled = false;
    void exec.then(() => (filled = true));
    for (let k = 0; k < 12 * 60 && !filled; k++) await c.step();
    const [, , e] = await exec;
    expect(e).toMatchObject({ orderId: 1, side: 'SLD', shares: 10 });
    const open = c.record(EventName.openOrder);
    const end = c.waitFor(EventName.openOrderEnd);
    c.api.reqAllOpenOrders();
    await end;
    expect(open).toEqual([]);
  });
});
