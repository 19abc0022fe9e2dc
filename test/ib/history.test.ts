import path from 'node:path';
import { EventName, SecType, WhatToShow, BarSizeSetting } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { IbConnection } from '../../engine/ib/connection.ts';
import { downloadHistory, HistoricalPacer, IB_HISTORICAL_PACING } from '../../engine/ib/history.ts';
import { history } from '../../engine/ib/sim/historical.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { ApiClient, untilBatch } from './sim/sim-helpers.ts';

describe('historical pacing (IB rules) with a fake clock', () => {
  const make = () => {
    let t = 0;
    const pacer = new HistoricalPacer(
      undefined,
      () => t,
      async (ms) => void (t += ms),
    );
    return { pacer, at: () => t };
  };
  it('a 7th request for one contract within 2 s waits', async () => {
    const { pacer, at } = make();
    for (let i = 0; i < 6; i++) await pacer.acquire(`k${i}`, 'SPY');
    expect(at()).toBe(0);
    await pacer.acquire('k6', 'SPY');
    expect(at()).toBe(2_000);
    await pacer.acquire('x', 'IBM');
    expect(at()).toBe(2_000);
  });
  it('an identical request waits 15 s; the 61st within 10 minutes waits for the window', async () => {
    const { pacer, at } = make();
    await pacer.acquire('same', 'SPY');
    await pacer.acquire('same', 'SPY');
    expect(at()).toBe(15_000);
    const p2 = make();
    for (let i = 0; i < 60; i++) await p2.pacer.acquire(`k${i}`, `C${i}`);
    expect(p2.at()).toBe(0);
    await p2.pacer.acquire('k60', 'C60');
    expect(p2.at()).toBe(600_000);
  });
});

const DIR = 'data/lean-sample/minute/spy';
describe.skipIf(!sharedAvailable(DIR))('historical download through the simulator into DuckDB', () => {
  it('backs off after a pacing violation (162), retries, and stores exactly the bars the gateway has', async () => {
    const src = await openStore(':memory:');
    await importPaths(src, [path.join(SHARED, DIR)], { interval: '1m' });
    const day2 = Date.parse('2013-10-08T00:00:00-04:00');
    const series = await loadBars(src, {
      symbols: ['SPY'],
      interval: '1m',
      from: Date.parse('2013-10-07T00:00:00-04:00'),
      to: Date.parse('2013-10-08T23:59:59-04:00'),
    });
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', from: day2 });
    const conn = new IbConnection({ host: '127.0.0.1', port: sim.port, clientId: 5 });
    const dest = await openStore(':memory:');
    const errors: number[] = [];
    conn.api.on(EventName.error, (_e: Error, code: number) => void errors.push(code));
    const logs: string[] = [];
    try {
      await conn.start();
      sim.pacingViolationNext();
      const summary = await downloadHistory(conn, dest, [{ symbol: 'SPY', barSize: '1 min', duration: '1 D' }], {
        backoffMs: 50,
        pacer: new HistoricalPacer({ ...IB_HISTORICAL_PACING, identicalMs: 100 }),
        log: (m) => logs.push(m),
      });
      expect(errors).toContain(162);
      expect(errors).not.toContain(505);
      expect(logs.some((l) => /162.*backing off 50 ms/.test(l))).toBe(true);
      const got = (await loadBars(dest, { symbols: ['SPY'], interval: '1m' }))[0];
      const want = (await loadBars(src, { symbols: ['SPY'], interval: '1m', from: Date.parse('2013-10-07T00:00:00-04:00'), to: day2 - 1 }))[0];
      expect(summary.rows).toBe(want.ts.length);
      expect([...got.ts]).toEqual([...want.ts]);
      expect([...got.close]).toEqual([...want.close]);
      expect([...got.volume]).toEqual([...want.volume]);
    } finally {
      conn.stop();
      await sim.close();
      src.close();
      dest.close();
    }
  }, 60_000);

  it('a symbol that could climb out of the download folder (../EVIL) is refused before any request goes out', async () => {
    const dest = await openStore(':memory:');
    const conn = new IbConnection({ host: '127.0.0.1', port: 4002, clientId: 5 }); // never started: a request would fail otherwise
    try {
      await expect(
        downloadHistory(conn, dest, [
          { symbol: 'SPY', barSize: '1 min', duration: '1 D' },
          { symbol: '../EVIL', barSize: '1 min', duration: '1 D' },
        ]),
      ).rejects.toThrow("history request: symbol '../EVIL' is not a symbol");
    } finally {
      dest.close();
    }
  });
});

const MINUTE = 'data/lean-sample/minute/spy';
describe.skipIf(!sharedAvailable(MINUTE))('"1 D" of 1-minute bars with useRTH before the open (lean sample, history from 2013-10-04)', () => {
  it('returns the previous session again once the replay has moved into the pre-market, not 162 "no data"', async () => {
    // as npm run ib-sim -- --history-from 2013-10-04 --from 2013-10-07 --to 2013-10-08 loads it (SPY only)
    const src = await openStore(':memory:');
    await importPaths(src, [path.join(SHARED, MINUTE)], { interval: '1m' });
    const series = await loadBars(src, {
      symbols: ['SPY'],
      interval: '1m',
      from: Date.parse('2013-10-04T00:00:00-04:00'),
      to: Date.parse('2013-10-08T23:59:59.999-04:00'),
    });
    src.close();
    const sim = await IbGatewaySimulator.start({ series, speed: 600, from: Date.parse('2013-10-07T00:00:00-04:00') });
    const c = await ApiClient.connect(sim.port, 3);
    const spy = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
    const oneDay = (reqId: number) =>
      new Promise<string[]>((resolve, reject) => {
        const dates: string[] = [];
        const onBar = (id: number, date: string) => {
          if (id !== reqId) return;
          if (!date.startsWith('finished')) return void dates.push(date);
          done();
          resolve(dates);
        };
        const onError = (e: Error, code: number, id: number) => {
          if (id !== reqId) return;
          done();
          reject(new Error(`${code} ${e.message}`));
        };
        const done = () => {
          c.api.off(EventName.historicalData, onBar);
          c.api.off(EventName.error, onError);
        };
        c.api.on(EventName.historicalData, onBar);
        c.api.on(EventName.error, onError);
        c.api.reqHistoricalData(reqId, spy, '', '1 D', BarSizeSetting.MINUTES_ONE, WhatToShow.TRADES, 1, 1, false);
      });
    try {
      expect(sim.now()).toBe(Date.parse('2013-10-07T04:00:00-04:00')); // the lean sample starts its days at 04:00
      const first = await oneDay(1);
      expect(first).toHaveLength(390);
      expect([first[0], first[389]]).toEqual(['20131004 09:30:00 US/Eastern', '20131004 15:59:00 US/Eastern']);
      // the clock moves only while a client takes market data
      c.api.reqRealTimeBars(9, spy, 5, WhatToShow.TRADES, false);
      await untilBatch(sim, () => sim.now() >= Date.parse('2013-10-07T04:05:00-04:00'));
      expect(await oneDay(2)).toEqual(first);
      // after the open, "1 D" is today's session so far; without useRTH, today from 04:00
      const at = (t: string, useRTH: boolean) =>
        history(series[0], { endDateTime: '', barSize: '1 min', duration: '1 D', useRTH, formatDate: 1 }, Date.parse(t), 'America/New_York');
      const open = at('2013-10-07T09:32:00-04:00', true);
      expect(open.ok && open.bars.map((b) => b.date)).toEqual(['20131007 09:30:00 US/Eastern', '20131007 09:31:00 US/Eastern']);
      const pre = at('2013-10-07T04:05:00-04:00', false);
      expect(pre.ok && pre.bars.length).toBe(5);
    } finally {
      await c.close();
      await sim.close();
    }
  }, 120_000);
});
