// The simulator's options, futures and FX (issue 15) with the unmodified @stoqey/ib client over TCP: contract
// details of OPT, FUT and CASH from the store's instruments, IB's matching (full, by local symbol, underspecified,
// no match), reqSecDefOptParams, and an option's bid/ask ticks and option computations from quote_bars.
// Expectations come from the store by SQL (what the LEAN importer wrote from the sample files) and from
// engine/options run here independently of the simulator. Every test asserts the client decoded everything
// (no 505) and saw no error it did not expect.
import path from 'node:path';
import { EventName, SecType, type Contract, type ContractDetails } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../../engine/data/import.ts';
import { importLean } from '../../../engine/data/lean-import.ts';
import { loadBars } from '../../../engine/data/load.ts';
import { openStore, type Store } from '../../../engine/data/store.ts';
import { conIdFor, derivativeConIdFor } from '../../../engine/ib/sim/contracts.ts';
import { loadSimDerivatives } from '../../../engine/ib/sim/option-data.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';
import { bsmGreeks, bsmPrice } from '../../../engine/options/black-scholes.ts';
import { yearsToExpiry } from '../../../engine/options/contract.ts';
import { SHARED, sharedAvailable } from '../../shared-data.ts';
import { ApiClient } from './sim-helpers.ts';

const LEAN = 'data/lean-sample';
const lean = (rel: string) => path.join(SHARED, LEAN, rel);
const FILES = [
  'option/goog/20151223_quote.csv',
  'option/goog/20151223_trade.csv',
  'future/es/20131007_quote.csv',
  'future/es/20131007_trade.csv',
  'forex/gbpusd/daily/oanda.csv',
];
/** 2015-12-23 09:30 New York (EST, UTC-5): the replay starts here */
const OPEN = Date.UTC(2015, 11, 23, 14, 30);
const RATE = 0.0025; // DERIVATIVES.md's assumed short rate for Dec 2015

/** the replay is in 2015, the ES contracts expired in 2013-14: IB lists them only with includeExpired */
const fut = (c: Partial<Contract>): Contract => ({ secType: SecType.FUT, currency: 'USD', includeExpired: true, ...c });
const opt = (c: Partial<Contract>): Contract => ({ secType: SecType.OPT, exchange: 'SMART', currency: 'USD', ...c });
const CALL_750: Contract = opt({ symbol: 'GOOG', lastTradeDateOrContractMonth: '20151224', strike: 750, right: 'C' as Contract['right'] });
const PUT_750: Contract = { ...CALL_750, right: 'P' as Contract['right'] };

async function rows(store: Store, sql: string): Promise<Record<string, unknown>[]> {
  return (await store.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

describe.runIf(sharedAvailable(LEAN))('the simulator serves options, futures and FX', () => {
  let store: Store;
  let sim: IbGatewaySimulator;
  let client: ApiClient;
  let nextReqId = 100;

  beforeAll(async () => {
    store = await openStore(':memory:');
    await importLean(store, FILES.map(lean));
    await importPaths(store, [lean('minute/goog/20151223.csv')], { interval: '1m' });
    const series = await loadBars(store, { symbols: ['GOOG'], interval: '1m' });
    // the first hour's quote bars
    const derivatives = await loadSimDerivatives(store, { interval: '1m', from: OPEN, to: OPEN + 3_600_000, pricing: { rate: RATE } });
    sim = await IbGatewaySimulator.start({ series, speed: 'max', from: OPEN, derivatives });
    client = await ApiClient.connect(sim.port, 1);
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await sim?.close();
    store?.close();
  });

  /** Every contractDetails of one request, after its end; or the error code it got. */
  async function details(contract: Contract): Promise<ContractDetails[] | { error: number }> {
    const reqId = nextReqId++;
    const got: ContractDetails[] = [];
    const on = (id: number, d: ContractDetails) => id === reqId && got.push(d);
    client.api.on(EventName.contractDetails, on);
    try {
      const end = client.waitFor(EventName.contractDetailsEnd, (id) => id === reqId).then(() => got);
      const err = client.waitFor(EventName.error, (_e, _code, id) => id === reqId).then(([, code]) => ({ error: code as number }));
      client.api.reqContractDetails(reqId, contract);
      return await Promise.race([end, err]);
    } finally {
      client.api.off(EventName.contractDetails, on);
    }
  }

  const unexpected = () => client.errors.filter((e) => e.code !== 200);

  it('ESZ13: one future, multiplier 50, local symbol ESZ3, contract month 201312, by month or local symbol', async () => {
    const byMonth = await details(fut({ symbol: 'ES', exchange: 'CME', lastTradeDateOrContractMonth: '201312' }));
    expect(Array.isArray(byMonth) && byMonth).toHaveLength(1);
    const [d] = byMonth as ContractDetails[];
    expect(d.contract).toMatchObject({
      symbol: 'ES',
      secType: 'FUT',
      exchange: 'CME',
      currency: 'USD',
      localSymbol: 'ESZ3',
      tradingClass: 'ES',
      multiplier: 50,
      // ES expires on the 3rd Friday of its month: 2013-12-20
      lastTradeDateOrContractMonth: '20131220',
      conId: derivativeConIdFor('ESZ13'),
    });
    expect(d.contractMonth).toBe('201312');
    expect(d.minTick).toBe(0.25);
    expect(d.realExpirationDate).toBe('20131220');
    // the same contract by IB's local symbol, by the store key, and on IB's old exchange name GLOBEX
    for (const c of [
      fut({ localSymbol: 'ESZ3' }),
      fut({ localSymbol: 'ESZ13' }),
      fut({ symbol: 'ES', exchange: 'GLOBEX', lastTradeDateOrContractMonth: '20131220' }),
    ]) {
      const again = await details(c);
      expect(Array.isArray(again) && again.map((x) => x.contract.conId)).toEqual([d.contract.conId]);
    }
    // ES alone: every ES contract month in the store
    const [{ n }] = await rows(store, `SELECT count(*)::INT AS n FROM instruments WHERE sec_type = 'FUT' AND underlying = 'ES'`);
    const all = await details(fut({ symbol: 'ES' }));
    expect(Array.isArray(all) && all.length).toBe(n);
    expect(n).toBeGreaterThan(1);
    expect(unexpected()).toEqual([]);
  });

  it('GOOG 2015-12-24 750 call: multiplier 100, strike, right, expiry, OCC local symbol, the stock as underlying', async () => {
    const r = await details(CALL_750);
    expect(Array.isArray(r) && r).toHaveLength(1);
    const [d] = r as ContractDetails[];
    expect(d.contract).toMatchObject({
      symbol: 'GOOG',
      secType: 'OPT',
      exchange: 'SMART',
      currency: 'USD',
      lastTradeDateOrContractMonth: '20151224',
      strike: 750,
      right: 'C',
      multiplier: 100,
      localSymbol: 'GOOG  151224C00750000',
      tradingClass: 'GOOG',
      conId: derivativeConIdFor('GOOG151224C00750000'),
    });
    expect(d.underConId).toBe(conIdFor('GOOG')); // the replayed stock's conId
    expect(d.underSymbol).toBe('GOOG');
    expect(d.minTick).toBe(0.01);
    const byLocal = await details(opt({ localSymbol: 'GOOG  151224C00750000' }));
    expect(Array.isArray(byLocal) && byLocal.map((x) => x.contract.conId)).toEqual([d.contract.conId]);
    const byConId = await details({ conId: d.contract.conId, secType: SecType.OPT, exchange: 'SMART' });
    expect(Array.isArray(byConId) && byConId.map((x) => x.contract.localSymbol)).toEqual(['GOOG  151224C00750000']);
    expect(unexpected()).toEqual([]);
  });

  it('GBP.USD on IDEALPRO: base currency as symbol, quote currency, half-pip tick', async () => {
    const r = await details({ symbol: 'GBP', secType: SecType.CASH, currency: 'USD', exchange: 'IDEALPRO' });
    expect(Array.isArray(r) && r).toHaveLength(1);
    const [d] = r as ContractDetails[];
    expect(d.contract).toMatchObject({ symbol: 'GBP', secType: 'CASH', exchange: 'IDEALPRO', currency: 'USD', localSymbol: 'GBP.USD' });
    expect(d.contract.conId).toBe(derivativeConIdFor('GBP.USD'));
    expect(d.minTick).toBe(0.00005);
    expect(d.contract.multiplier || 0).toBe(0); // IB leaves a pair's multiplier empty
    expect(unexpected()).toEqual([]);
  });

  it('an option request with only the symbol (or symbol, month and right) gets the whole matching chain, as the store has it', async () => {
    const [{ n }] = await rows(store, `SELECT count(*)::INT AS n FROM instruments WHERE sec_type = 'OPT' AND underlying = 'GOOG'`);
    const all = await details({ symbol: 'GOOG', secType: SecType.OPT });
    expect(Array.isArray(all) && all.length).toBe(n);
    expect(n).toBe(116); // DERIVATIVES.md: goog/20151223_quote.csv has 116 contracts (58 calls, 58 puts), the trade file a subset
    expect(new Set((all as ContractDetails[]).map((d) => d.contract.conId)).size).toBe(n);
    const [{ p }] = await rows(
      store,
      `SELECT count(*)::INT AS p FROM instruments WHERE sec_type = 'OPT' AND underlying = 'GOOG' AND option_right = 'P' AND strftime(expiry, '%Y%m') = '201512'`,
    );
    const puts = await details(opt({ symbol: 'GOOG', lastTradeDateOrContractMonth: '201512', right: 'P' as Contract['right'] }));
    expect(Array.isArray(puts) && puts.length).toBe(p);
    expect((puts as ContractDetails[]).every((d) => d.contract.right === 'P')).toBe(true);
    expect(unexpected()).toEqual([]);
  });

  it('reqSecDefOptParams for GOOG: SMART, trading class GOOG, multiplier 100, the store expirations and strikes, then the end', async () => {
    const reqId = nextReqId++;
    const params = client.record(EventName.securityDefinitionOptionParameter);
    const end = client.waitFor(EventName.securityDefinitionOptionParameterEnd, (id) => id === reqId);
    client.api.reqSecDefOptParams(reqId, 'GOOG', '', 'STK', 0); // the answer carries the underlying's conId all the same
    await end;
    const mine = params.filter(([id]) => id === reqId);
    expect(mine).toHaveLength(1);
    const [, exchange, underlyingConId, tradingClass, multiplier, expirations, strikes] = mine[0];
    expect({ exchange, underlyingConId, tradingClass, multiplier }).toEqual({
      exchange: 'SMART',
      underlyingConId: conIdFor('GOOG'),
      tradingClass: 'GOOG',
      multiplier: 100,
    });
    const exp = await rows(store, `SELECT DISTINCT strftime(expiry, '%Y%m%d') AS e FROM instruments WHERE sec_type = 'OPT' AND underlying = 'GOOG' ORDER BY e`);
    const str = await rows(store, `SELECT DISTINCT strike FROM instruments WHERE sec_type = 'OPT' AND underlying = 'GOOG' ORDER BY strike`);
    expect(expirations).toEqual(exp.map((r) => r.e));
    expect(strikes).toEqual(str.map((r) => r.strike));
    expect(strikes).toContain(750);
    // an underlying without options: just the end
    const none = nextReqId++;
    const noneEnd = client.waitFor(EventName.securityDefinitionOptionParameterEnd, (id) => id === none);
    client.api.reqSecDefOptParams(none, 'IBM', '', 'STK', 0);
    await noneEnd;
    expect(params.filter(([id]) => id === none)).toEqual([]);
    expect(unexpected()).toEqual([]);
  });

  it('error 200 for a future, option or pair the store does not have, and for an expired one without includeExpired', async () => {
    expect(await details(fut({ symbol: 'ES', lastTradeDateOrContractMonth: '201312', includeExpired: false }))).toEqual({ error: 200 });
    expect(await details(fut({ symbol: 'ES', lastTradeDateOrContractMonth: '202012' }))).toEqual({ error: 200 });
    expect(await details(fut({ symbol: 'NQ' }))).toEqual({ error: 200 });
    expect(await details({ ...CALL_750, strike: 751 })).toEqual({ error: 200 });
    expect(await details({ symbol: 'EUR', secType: SecType.CASH, currency: 'JPY', exchange: 'IDEALPRO' })).toEqual({ error: 200 });
    expect(unexpected()).toEqual([]);
  });

  it("an option's market data: bid/ask ticks and sizes from quote_bars, and computations whose IV re-prices the price", async () => {
    const callId = nextReqId++;
    const putId = nextReqId++;
    const prices = client.record(EventName.tickPrice);
    const sizes = client.record(EventName.tickSize);
    const comps = client.record(EventName.tickOptionComputation);
    client.api.reqMktData(callId, CALL_750, '', false, false);
    client.api.reqMktData(putId, PUT_750, '', false, false);
    // an ambiguous request (the whole chain) cannot be subscribed: error 200
    const ambiguous = nextReqId++;
    const amb = client.waitFor(EventName.error, (_e, _c, id) => id === ambiguous);
    client.api.reqMktData(ambiguous, { symbol: 'GOOG', secType: SecType.OPT }, '', false, false);
    expect((await amb)[1]).toBe(200);
    // lockstep: 24 five-second batches from 09:30 take the clock to 09:32, past the ends of the 09:30 and 09:31 bars
    await client.step(24);
    expect(sim.now()).toBe(OPEN + 120_000);

    const q = await rows(
      store,
      `SELECT symbol, ts, bid_close, bid_size, ask_close, ask_size FROM quote_bars
       WHERE symbol IN ('GOOG151224C00750000', 'GOOG151224P00750000') AND "interval" = '1m' AND ts < ${OPEN + 120_000} ORDER BY symbol, ts`,
    );
    const under = await rows(store, `SELECT ts, close FROM bars WHERE symbol = 'GOOG' AND "interval" = '1m' AND ts IN (${OPEN}, ${OPEN + 60_000}) ORDER BY ts`);
    expect(q).toHaveLength(4);
    expect(under).toHaveLength(2); // the underlying traded in both minutes, so each quote bar prices against the bar ending with it

    for (const [reqId, symbol, right] of [
      [callId, 'GOOG151224C00750000', 'C'],
      [putId, 'GOOG151224P00750000', 'P'],
    ] as const) {
      const bars = q.filter((r) => r.symbol === symbol);
      // each bar: bid (tick 1) and ask (tick 2) at its close, and their sizes (tickSize 0 and 3; @stoqey/ib also
      // makes a tickSize 3 of the ask tickPrice's size, and drops the bid's: its tick type 0 tests false)
      expect(prices.filter(([id]) => id === reqId).map(([, type, value]) => [type, value])).toEqual(
        bars.flatMap((b) => [
          [1, b.bid_close],
          [2, b.ask_close],
        ]),
      );
      expect(sizes.filter(([id, type]) => id === reqId && (type === 0 || type === 3)).map(([, type, size]) => [type, size])).toEqual(
        bars.flatMap((b) => [
          [0, b.bid_size],
          [3, b.ask_size],
          [3, b.ask_size],
        ]),
      );
      const mine = comps.filter(([id]) => id === reqId);
      expect(mine.map(([, type]) => type)).toEqual(bars.flatMap(() => [10, 11, 13])); // bid, ask, model: per bar
      for (const [i, b] of bars.entries()) {
        const bid = Number(b.bid_close);
        const ask = Number(b.ask_close);
        const end = Number(b.ts) + 60_000;
        const spot = Number(under[i].close);
        const years = yearsToExpiry('2015-12-24', end); // to 13:00 on Christmas Eve, a half day
        for (const [, type, , iv, delta, optPrice, pvDividend, gamma, vega, theta, undPrice] of mine.slice(3 * i, 3 * i + 3)) {
          const price = type === 10 ? bid : type === 11 ? ask : (bid + ask) / 2;
          expect(optPrice).toBeCloseTo(price, 12);
          expect(undPrice).toBe(spot);
          expect(pvDividend).toBe(0);
          const inputs = { spot, strike: 750, years, rate: RATE, dividendYield: 0, vol: iv };
          // the IV re-prices the price it came from (Black-Scholes, the simulator's default model)
          expect(Math.abs(bsmPrice(right, inputs) - price)).toBeLessThan(1e-8);
          expect(iv).toBeGreaterThan(0.01);
          expect(iv).toBeLessThan(2);
          if (right === 'C') expect(delta).toBeGreaterThan(0);
          else expect(delta).toBeLessThan(0);
          expect(Math.abs(delta)).toBeLessThan(1);
          expect(gamma).toBeGreaterThan(0);
          // IB's units: vega per volatility point, theta per calendar day (engine/options: per 1.00, per year)
          const g = bsmGreeks(right, inputs);
          expect(vega).toBeCloseTo(g.vega / 100, 10);
          expect(theta).toBeCloseTo(g.theta / 365, 10);
          expect(theta).toBeLessThan(0);
        }
      }
    }
    client.api.cancelMktData(callId);
    client.api.cancelMktData(putId);
    expect(unexpected()).toEqual([]);
  });
});
