// Regular trading hours in the simulator, as at IB: an order without outsideRth placed outside 09:30-16:00
// New York is accepted, PreSubmitted with message 399, and fills from the open; with outsideRth it fills
// pre-market. Real @stoqey/ib client, real socket, the bundled SPY minute sample (04:00-20:00 ET).
import path from 'node:path';
import { EventName, OrderAction, OrderType, SecType, type Contract } from '@stoqey/ib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../../engine/core/types.ts';
import { importPaths } from '../../../engine/data/import.ts';
import { loadBars } from '../../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../../engine/data/sample.ts';
import { openStore } from '../../../engine/data/store.ts';
import { IbGatewaySimulator, type SimulatorOptions } from '../../../engine/ib/sim/simulator.ts';
import { ApiClient } from './sim-helpers.ts';

const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const at = (iso: string) => Date.parse(iso);

let series: BarSeries[];
let sim: IbGatewaySimulator | undefined;
let client: ApiClient | undefined;

beforeAll(async () => {
  const store = await openStore(':memory:');
  try {
    await importPaths(store, [path.join(SAMPLE_DIR, 'minute', 'spy', '20131007.csv'), path.join(SAMPLE_DIR, 'minute', 'spy', '20131008.csv')], {
      interval: '1m',
    });
    series = await loadBars(store, { symbols: ['SPY'], interval: '1m' });
  } finally {
    store.close();
  }
});

afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

async function session(o: Partial<SimulatorOptions>) {
  sim = await IbGatewaySimulator.start({ series, speed: 'max', ...o });
  client = await ApiClient.connect(sim.port, 1);
  client.api.reqRealTimeBars(1, SPY, 5, 'TRADES' as never, false);
  return { sim, c: client };
}

const s = () => series[0];
const openOf = (iso: string) => s().open[s().ts.indexOf(at(iso))];

describe('regular trading hours in the simulator', () => {
  it('holds an order without outsideRth placed pre-market until the open (399, PreSubmitted), and fills one with outsideRth at once', async () => {
    const { c } = await session({ from: at('2013-10-07T13:25:00Z') }); // 09:25 EDT
    const execs = c.record(EventName.execDetails);
    const statuses = c.record(EventName.orderStatus);
    await c.step(2);
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10, orderRef: 'rth' });
    c.api.placeOrder(2, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 5, orderRef: 'ext', outsideRth: true });
    await c.step(); // 09:25:10: the outsideRth order fills, the other waits
    expect(execs.map((e) => [e[2].orderRef, e[2].time])).toEqual([['ext', '20131007 09:25:10 US/Eastern']]);
    const held = c.errors.filter((e) => e.code === 399);
    expect(held.map((e) => [e.reqId, e.message.split('\n')])).toEqual([
      [1, ['Order Message:', 'BUY 10 SPY SMART', 'Warning: your order will not be placed at the exchange until 2013-10-07 09:30:00 US/Eastern']],
    ]);
    expect(statuses.filter((x) => x[0] === 1).map((x) => x[1])).toEqual(['PreSubmitted']);
    expect(sim!.account.order(1, 1)!.status).toBe('PreSubmitted');
    // no fill on any pre-market batch, then the 09:30:00 bar's open
    await c.step(12 * 5 - 3); // to 09:30:00
    expect(execs.length).toBe(1);
    await c.step();
    expect(execs.map((e) => [e[2].orderRef, e[2].price, e[2].time])[1]).toEqual(['rth', openOf('2013-10-07T13:30:00Z'), '20131007 09:30:00 US/Eastern']);
    const seen = statuses.filter((x) => x[0] === 1).map((x) => x[1]);
    expect(seen.filter((x, i) => x !== seen[i - 1])).toEqual(['PreSubmitted', 'Submitted', 'Filled']);
    expect(c.errors.filter((e) => e.code !== 399 && e.code < 2100)).toEqual([]);
  });

  it('after the close an order without outsideRth waits for the next open, one with outsideRth fills; MOO with outsideRth gets 2109', async () => {
    const { c } = await session({ from: at('2013-10-07T19:58:00Z') }); // 15:58 EDT
    const execs = c.record(EventName.execDetails);
    await c.step(12 * 2); // to 16:00:00
    // buy limits far above the market: they would fill on any bar, so only the hours keep one from filling
    const high = Math.max(...s().high) * 2;
    c.api.placeOrder(1, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: high, totalQuantity: 1, tif: 'GTC' as never, orderRef: 'late' });
    c.api.placeOrder(2, SPY, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: high,
      totalQuantity: 1,
      tif: 'GTC' as never,
      outsideRth: true,
      orderRef: 'ah',
    });
    c.api.placeOrder(3, SPY, { action: OrderAction.BUY, orderType: OrderType.MKT, tif: 'OPG' as never, totalQuantity: 1, outsideRth: true, orderRef: 'moo' });
    await c.step(12 * 60); // 16:00 .. 17:00: after hours
    expect(execs.map((e) => [e[2].orderRef, e[2].time])).toEqual([['ah', '20131007 16:00:00 US/Eastern']]);
    expect(c.errors.filter((e) => e.code === 2109).map((e) => e.reqId)).toEqual([3]);
    expect(c.errors.filter((e) => e.code === 399).map((e) => [e.reqId, e.message.split('\n').at(-1)])).toEqual([
      [1, 'Warning: your order will not be placed at the exchange until 2013-10-08 09:30:00 US/Eastern'],
      [3, 'Warning: your order will not be placed at the exchange until 2013-10-08 09:30:00 US/Eastern'],
    ]);
    expect([sim!.account.order(1, 1)!.status, sim!.account.order(1, 3)!.status]).toEqual(['PreSubmitted', 'PreSubmitted']);
  });

  it("session 'rth' replays the regular session only: the clock goes from 16:00 to the next day's 09:30", async () => {
    const { sim, c } = await session({ session: 'rth' });
    const bars = c.record(EventName.realtimeBar);
    await c.step(1);
    expect(bars[0][1] * 1000).toBe(at('2013-10-07T13:30:00Z'));
    await c.step(390 * 12 - 1);
    expect(sim.now()).toBe(at('2013-10-07T20:00:00Z'));
    await c.step(1);
    expect(bars.at(-1)![1] * 1000).toBe(at('2013-10-08T13:30:00Z'));
  });
});
