// GBP.USD on the simulator with the unmodified @stoqey/ib client over TCP: the daily OANDA bid/ask bars of the
// LEAN sample (imported by importLean) replayed as bid/ask ticks as the clock passes each bar, delayed tick types
// after reqMarketDataType(3), and a snapshot. Expected values are read from the store's quote_bars by SQL.
import path from 'node:path';
import { EventName, SecType, type Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLean } from '../../../engine/data/lean-import.ts';
import { loadBars } from '../../../engine/data/load.ts';
import { openStore, type Store } from '../../../engine/data/store.ts';
import { loadQuotes } from '../../../engine/ib/sim/option-data.ts';
import { SecDefs } from '../../../engine/ib/sim/secdef.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';
import { SHARED, sharedAvailable } from '../../shared-data.ts';
import { ApiClient } from './sim-helpers.ts';

const LEAN = 'data/lean-sample';
const DAY = 86_400_000;
const FROM = Date.UTC(2018, 11, 3); // Monday 2018-12-03: the replay starts with this day's bar
const GBPUSD: Contract = { symbol: 'GBP', secType: SecType.CASH, currency: 'USD', exchange: 'IDEALPRO' };

describe.runIf(sharedAvailable(LEAN))('GBP.USD bid/ask ticks from quote_bars', () => {
  let store: Store;
  let sim: IbGatewaySimulator;
  let client: ApiClient;

  beforeAll(async () => {
    store = await openStore(':memory:');
    await importLean(store, [path.join(SHARED, LEAN, 'forex/gbpusd/daily/oanda.csv')]);
    const series = await loadBars(store, { symbols: ['GBP.USD'], interval: '1d' }); // the mid bars drive the clock
    const quotes = await loadQuotes(store, { interval: '1d', symbols: ['GBP.USD'], from: FROM - 7 * DAY, to: FROM + 30 * DAY });
    sim = await IbGatewaySimulator.start({ series, speed: 'max', from: FROM, derivatives: { secDefs: await SecDefs.load(store), quotes } });
    client = await ApiClient.connect(sim.port, 1);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await sim?.close();
    store?.close();
  });

  async function quoteRows(from: number, to: number): Promise<{ bid: number; ask: number; bidSize: number; askSize: number }[]> {
    const r = await store.conn.runAndReadAll(
      `SELECT bid_close, ask_close, bid_size, ask_size FROM quote_bars WHERE symbol = 'GBP.USD' AND "interval" = '1d' AND ts >= ${from} AND ts < ${to} ORDER BY ts`,
    );
    return r.getRowObjectsJS().map((x) => ({ bid: Number(x.bid_close), ask: Number(x.ask_close), bidSize: Number(x.bid_size), askSize: Number(x.ask_size) }));
  }

  it('each day that ends sends its closing bid and ask, live (1, 2) and after reqMarketDataType(3) delayed (66, 67)', async () => {
    const prices = client.record(EventName.tickPrice);
    const sizes = client.record(EventName.tickSize);
    client.api.reqMktData(1, GBPUSD, '', false, false);
    await client.step(3); // the 12-03, 12-04 and 12-05 bars end
    expect(sim.now()).toBe(FROM + 3 * DAY);
    const live = await quoteRows(FROM, FROM + 3 * DAY);
    expect(live).toHaveLength(3);
    expect(prices.filter(([id]) => id === 1).map(([, t, v]) => [t, v])).toEqual(
      live.flatMap((q) => [
        [1, q.bid],
        [2, q.ask],
      ]),
    );
    // OANDA daily bars carry no sizes: 0 (tickSize 0 and 3; @stoqey/ib adds a 3 of the ask tickPrice's size)
    expect(sizes.filter(([id, t]) => id === 1 && (t === 0 || t === 3)).map(([, t, s]) => [t, s])).toEqual(
      live.flatMap(() => [
        [0, 0],
        [3, 0],
        [3, 0],
      ]),
    );
    expect(live.every((q) => q.bid < q.ask)).toBe(true);

    const typeEvent = client.waitFor(EventName.marketDataType, (id, type) => id === 1 && type === 3);
    client.api.reqMarketDataType(3);
    await typeEvent;
    prices.length = 0;
    await client.step(2);
    const delayed = await quoteRows(FROM + 3 * DAY, FROM + 5 * DAY);
    expect(prices.filter(([id]) => id === 1).map(([, t, v]) => [t, v])).toEqual(
      delayed.flatMap((q) => [
        [66, q.bid],
        [67, q.ask],
      ]),
    );
    client.api.cancelMktData(1);
    expect(client.errors).toEqual([]);
  });

  it('a snapshot: the last bar that has ended, then tickSnapshotEnd', async () => {
    const prices = client.record(EventName.tickPrice);
    const end = client.waitFor(EventName.tickSnapshotEnd, (id) => id === 2);
    client.api.reqMktData(2, GBPUSD, '', true, false);
    await end;
    const [last] = (await quoteRows(sim.now() - 7 * DAY, sim.now() - DAY + 1)).slice(-1);
    expect(prices.filter(([id]) => id === 2).map(([, , v]) => v)).toEqual([last.bid, last.ask]);
    expect(client.errors).toEqual([]);
  });
});
