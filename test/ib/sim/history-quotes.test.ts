// The simulator's historical bars follow whatToShow (issue 15), asked by the unmodified @stoqey/ib client over TCP:
// BID and ASK from the series' quote columns, MIDPOINT the mid (where both sides are quoted), no volume or WAP on
// those (-1, as IB sends them); a pair's TRADES refused with IB's error 162 and BID_ASK with error 321. Real sample
// data (../shared/data/lean-sample): EUR.USD's Oanda minute bars of 2014-05-01 (UTC) and GOOG's 750 call of
// 2015-12-24 on 2015-12-23 (New York time), each expectation read off the CSV rows quoted in the test.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName, SecType, type Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../../engine/core/types.ts';
import { importPaths } from '../../../engine/data/import.ts';
import { importLean } from '../../../engine/data/lean-import.ts';
import { openStore } from '../../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';
import { openRunData } from '../../../engine/run/run-data.ts';
import { SHARED, sharedAvailable } from '../../shared-data.ts';
import { ApiClient } from './sim-helpers.ts';

const LEAN = 'data/lean-sample';
const available =
  sharedAvailable(`${LEAN}/forex/eurusd/minute/oanda_20140502.csv`) &&
  sharedAvailable(`${LEAN}/option/goog/20151223_quote.csv`) &&
  sharedAvailable(`${LEAN}/minute/goog`);
const NY = 'America/New_York';
let dir = '';
let db = '';

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-history-quotes-'));
  db = path.join(dir, 'source.duckdb');
  const store = await openStore(db);
  try {
    await importPaths(store, [path.join(SHARED, LEAN, 'minute/goog')], {});
    await importLean(store, [
      ...['oanda_20140501.csv', 'oanda_20140502.csv'].map((f) => path.join(SHARED, LEAN, 'forex/eurusd/minute', f)),
      path.join(SHARED, LEAN, 'option/goog/20151223_quote.csv'),
    ]);
  } finally {
    store.close();
  }
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A simulator replaying `symbols` (an option chain of GOOG's calls with `chain`) from `from`, and a client. */
async function gateway(symbols: string[], range: [string, string], from: number, chain = false) {
  const d = await openRunData({
    data: db,
    symbols,
    interval: '1m',
    from: range[0],
    to: range[1],
    tz: NY,
    ...(chain ? { chain: { underlying: 'GOOG', days: 1, strikes: 4, right: 'C' as const } } : {}),
  });
  const series: BarSeries[] = [];
  for (let c = await d.chunks.next(); c; c = await d.chunks.next()) series.push(...c);
  d.close();
  const sim = await IbGatewaySimulator.start({ series, speed: 'max', from, contracts: (d.contracts ?? {}) as Record<string, ContractTerms>, tz: NY });
  const client = await ApiClient.connect(sim.port, 1);
  return {
    sim,
    client,
    symbols: d.symbols,
    close: async () => {
      await client.close();
      await sim.close();
    },
  };
}

type HistBar = [time: string, open: number, high: number, low: number, close: number, volume: number, wap: number];
let nextReqId = 1;

/** One reqHistoricalData (dates as epoch seconds): its bars, or the error's code and text. */
function history(client: ApiClient, contract: Contract, end: string, duration: string, barSize: string, what: string) {
  const reqId = nextReqId++;
  return new Promise<{ bars: HistBar[] } | { code: number; message: string }>((resolve) => {
    const bars: HistBar[] = [];
    const api = client.api as unknown as { on(e: string, f: (...a: any[]) => void): void; off(e: string, f: (...a: any[]) => void): void };
    const onBar = (id: number, time: string, open: number, high: number, low: number, close: number, volume: number, _count: number, wap: number) => {
      if (id !== reqId) return;
      if (time.startsWith('finished')) {
        done();
        resolve({ bars });
      } else bars.push([time, open, high, low, close, volume, wap]);
    };
    const onError = (err: Error, code: number, id: number) => {
      if (id !== reqId) return;
      done();
      resolve({ code, message: err.message });
    };
    const done = () => {
      api.off(EventName.historicalData, onBar);
      api.off(EventName.error, onError);
    };
    api.on(EventName.historicalData, onBar);
    api.on(EventName.error, onError);
    client.api.reqHistoricalData(reqId, contract, end, duration, barSize as never, what as never, 0, 2, false);
  });
}

const sec = (iso: string) => String(Date.parse(iso) / 1000);
/** [time, open, high, low, close] of bars, for comparing prices only */
const prices = (r: Awaited<ReturnType<typeof history>>) => {
  if (!('bars' in r)) throw new Error(`expected bars, got error ${r.code}: ${r.message}`);
  return r.bars.map((b) => b.slice(0, 5));
};

describe.runIf(available)('historical bars by whatToShow at the simulator: EUR.USD (IDEALPRO CASH)', () => {
  const EUR: Contract = { symbol: 'EUR', secType: SecType.CASH, exchange: 'IDEALPRO', currency: 'USD' };
  let g: Awaited<ReturnType<typeof gateway>>;
  beforeAll(async () => {
    g = await gateway(['EUR.USD'], ['2014-05-01', '2014-05-02'], Date.parse('2014-05-02T00:00:00Z'));
  }, 60_000);
  afterAll(async () => g?.close());

  // forex/eurusd/minute/oanda_20140501.csv (time_utc, bid_open, bid_high, bid_low, bid_close, ask_open, ask_high, ask_low, ask_close):
  // 2014-05-01 10:00:00,1.38803,1.38803,1.38799,1.38801,1.38813,1.38815,1.38812,1.38814
  // 2014-05-01 10:01:00,1.38799,1.38799,1.38792,1.38793,1.38813,1.38813,1.38804,1.38805
  // 2014-05-01 10:02:00,1.38793,1.38795,1.38790,1.38791,1.38804,1.38806,1.38804,1.38804
  // 2014-05-01 10:03:00,1.38789,1.38790,1.38788,1.38790,1.38801,1.38803,1.38800,1.38800
  // 2014-05-01 10:04:00,1.38788,1.38788,1.38781,1.38782,1.38801,1.38802,1.38794,1.38795
  const END = '20140501-10:05:00'; // UTC: "300 S" back are the five minutes 10:00-10:04
  const t = (m: number) => sec(`2014-05-01T10:0${m}:00Z`);

  it('BID and ASK 1-minute bars are the rows’ sides, with no volume or WAP (-1)', async () => {
    const bid = await history(g.client, EUR, END, '300 S', '1 min', 'BID');
    expect(prices(bid)).toEqual([
      [t(0), 1.38803, 1.38803, 1.38799, 1.38801],
      [t(1), 1.38799, 1.38799, 1.38792, 1.38793],
      [t(2), 1.38793, 1.38795, 1.3879, 1.38791],
      [t(3), 1.38789, 1.3879, 1.38788, 1.3879],
      [t(4), 1.38788, 1.38788, 1.38781, 1.38782],
    ]);
    expect((bid as { bars: HistBar[] }).bars.every((b) => b[5] === -1 && b[6] === -1)).toBe(true);
    const ask = await history(g.client, EUR, END, '300 S', '1 min', 'ASK');
    expect(prices(ask)).toEqual([
      [t(0), 1.38813, 1.38815, 1.38812, 1.38814],
      [t(1), 1.38813, 1.38813, 1.38804, 1.38805],
      [t(2), 1.38804, 1.38806, 1.38804, 1.38804],
      [t(3), 1.38801, 1.38803, 1.388, 1.388],
      [t(4), 1.38801, 1.38802, 1.38794, 1.38795],
    ]);
  });

  it('a 5-minute BID bar: the first bid open, the highest bid high, the lowest bid low, the last bid close (ASK alike)', async () => {
    // bid: open 1.38803 (10:00), high max(1.38803, 1.38799, 1.38795, 1.38790, 1.38788) = 1.38803,
    // low min(1.38799, 1.38792, 1.38790, 1.38788, 1.38781) = 1.38781, close 1.38782 (10:04)
    expect(prices(await history(g.client, EUR, END, '300 S', '5 mins', 'BID'))).toEqual([[t(0), 1.38803, 1.38803, 1.38781, 1.38782]]);
    // ask: open 1.38813, high max(1.38815, 1.38813, 1.38806, 1.38803, 1.38802) = 1.38815, low 1.38794, close 1.38795
    expect(prices(await history(g.client, EUR, END, '300 S', '5 mins', 'ASK'))).toEqual([[t(0), 1.38813, 1.38815, 1.38794, 1.38795]]);
  });

  it('MIDPOINT is the mid of each field ((bid + ask) / 2); TRADES is refused (error 162), BID_ASK too (error 321)', async () => {
    const mid = prices(await history(g.client, EUR, END, '120 S', '1 min', 'MIDPOINT'));
    // 10:03: (1.38789 + 1.38801) / 2 = 1.38795, (1.38790 + 1.38803) / 2 = 1.387965, (1.38788 + 1.38800) / 2 = 1.38794, (1.38790 + 1.38800) / 2 = 1.38795
    // 10:04: (1.38788 + 1.38801) / 2 = 1.387945, (1.38788 + 1.38802) / 2 = 1.38795, (1.38781 + 1.38794) / 2 = 1.387875, (1.38782 + 1.38795) / 2 = 1.387885
    const want = [
      [t(3), 1.38795, 1.387965, 1.38794, 1.38795],
      [t(4), 1.387945, 1.38795, 1.387875, 1.387885],
    ];
    expect(mid.map((b) => b[0])).toEqual(want.map((b) => b[0]));
    mid.forEach((b, i) => b.slice(1).forEach((p, k) => expect(p).toBeCloseTo(want[i]![k + 1] as number, 12)));
    const trades = await history(g.client, EUR, END, '300 S', '1 min', 'TRADES');
    expect(trades).toEqual({ code: 162, message: expect.stringContaining('No historical market data for EUR/CASH@IDEALPRO TRADES') });
    expect((trades as { message: string }).message).toMatch(/ask MIDPOINT, BID or ASK/);
    const both = await history(g.client, EUR, END, '300 S', '1 min', 'BID_ASK');
    expect(both).toEqual({ code: 321, message: expect.stringContaining('whatToShow BID_ASK') });
  });
});

describe.runIf(available)('historical bars by whatToShow at the simulator: GOOG 2015-12-24 750 call (OPT)', () => {
  const CALL: Contract = {
    symbol: 'GOOG',
    secType: SecType.OPT,
    exchange: 'SMART',
    currency: 'USD',
    lastTradeDateOrContractMonth: '20151224',
    strike: 750,
    right: 'C' as Contract['right'],
  };
  let g: Awaited<ReturnType<typeof gateway>>;
  beforeAll(async () => {
    g = await gateway(['GOOG'], ['2015-12-23', '2015-12-23'], Date.parse('2015-12-23T12:00:00-05:00'), true);
  }, 60_000);
  afterAll(async () => g?.close());

  // option/goog/20151223_quote.csv (time_et, right, strike, expiry, bid_open, bid_high, bid_low, bid_close, bid_size, ask_open, ...):
  // 2015-12-23 10:00:00,C,750,2015-12-24,3.0000,3.1000,3.0000,3.1000,7,3.5000,3.5000,3.5000,3.5000,25
  // 2015-12-23 10:01:00,C,750,2015-12-24,3.1000,3.1000,3.0000,3.0000,41,3.5000,3.7000,3.4000,3.7000,2
  // 2015-12-23 10:02:00,C,750,2015-12-24,3.0000,3.4000,2.9000,2.9500,46,3.8000,3.8000,3.6000,3.6000,21
  // 2015-12-23 10:03:00,C,750,2015-12-24,2.9500,2.9500,2.9500,2.9500,46,3.6000,3.6000,3.6000,3.6000,46
  // 2015-12-23 10:04:00,C,750,2015-12-24,,,,,0,3.5000,3.5000,3.5000,3.5000,40         (no bid that minute)
  const END = '20151223-15:05:00'; // 10:05 New York (EST, UTC-5)
  const t = (m: number) => sec(`2015-12-23T10:0${m}:00-05:00`);

  it('the chain has the call', () => {
    expect(g.symbols).toContain('GOOG151224C00750000');
  });

  it('BID has no bar in the minute without a bid; ASK has all five; MIDPOINT only where both sides are quoted', async () => {
    expect(prices(await history(g.client, CALL, END, '300 S', '1 min', 'BID'))).toEqual([
      [t(0), 3, 3.1, 3, 3.1],
      [t(1), 3.1, 3.1, 3, 3],
      [t(2), 3, 3.4, 2.9, 2.95],
      [t(3), 2.95, 2.95, 2.95, 2.95],
    ]);
    expect(prices(await history(g.client, CALL, END, '300 S', '1 min', 'ASK'))).toEqual([
      [t(0), 3.5, 3.5, 3.5, 3.5],
      [t(1), 3.5, 3.7, 3.4, 3.7],
      [t(2), 3.8, 3.8, 3.6, 3.6],
      [t(3), 3.6, 3.6, 3.6, 3.6],
      [t(4), 3.5, 3.5, 3.5, 3.5],
    ]);
    // 10:00: (3.00 + 3.50) / 2 = 3.25, (3.10 + 3.50) / 2 = 3.30, (3.00 + 3.50) / 2 = 3.25, (3.10 + 3.50) / 2 = 3.30;
    // 10:03: (2.95 + 3.60) / 2 = 3.275 each; 10:04 has no bid: no midpoint
    const mid = prices(await history(g.client, CALL, END, '300 S', '1 min', 'MIDPOINT'));
    expect(mid.map((b) => b[0])).toEqual([t(0), t(1), t(2), t(3)]);
    [3.25, 3.3, 3.25, 3.3].forEach((p, k) => expect(mid[0]![k + 1]).toBeCloseTo(p, 12));
    [3.275, 3.275, 3.275, 3.275].forEach((p, k) => expect(mid[3]![k + 1]).toBeCloseTo(p, 12));
  });

  it('5-minute BID and ASK bars skip the unquoted minute: bid 3.00/3.40/2.90/2.95, ask 3.50/3.80/3.40/3.50', async () => {
    // bid: open 3.00 (10:00), high max(3.1, 3.1, 3.4, 2.95) = 3.40, low min(3.0, 3.0, 2.9, 2.95) = 2.90, close 2.95 (10:03, the last bid)
    expect(prices(await history(g.client, CALL, END, '300 S', '5 mins', 'BID'))).toEqual([[t(0), 3, 3.4, 2.9, 2.95]]);
    // ask: open 3.50 (10:00), high 3.80 (10:02), low 3.40 (10:01), close 3.50 (10:04)
    expect(prices(await history(g.client, CALL, END, '300 S', '5 mins', 'ASK'))).toEqual([[t(0), 3.5, 3.8, 3.4, 3.5]]);
    // an option's TRADES are served (IB has them): the series' own bars, with their volume
    const trades = await history(g.client, CALL, END, '300 S', '1 min', 'TRADES');
    expect('bars' in trades && trades.bars.length).toBe(5);
  });
});
