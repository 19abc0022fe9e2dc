// The simulator's account in several currencies (issue 15), with the unmodified @stoqey/ib client over TCP: a GBP
// account buys EUR.USD (the LEAN sample's Oanda minute quote bars of 2014-05-01, USD converted at the GBP.USD daily
// rates npm run backtest reads), and a USD account trades one ES Dec-13 contract across a daily settlement (the
// LEAN sample's minute trade bars of 2013-10-07/08). Every expected figure is worked out here from the fill the
// simulator reported (execDetails, commissionReport) and the stored bars read by SQL, with the rule in a comment.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName, OrderAction, OrderType, SecType, type Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../../engine/core/types.ts';
import { importLean } from '../../../engine/data/lean-import.ts';
import { openStore, type Store } from '../../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';
import type { SimSnapshot } from '../../../engine/ib/sim/snapshot.ts';
import { openRunData } from '../../../engine/run/run-data.ts';
import { SHARED, sharedAvailable } from '../../shared-data.ts';
import { ApiClient } from './sim-helpers.ts';

const FX = 'data/lean-sample/forex';
const ES = 'data/lean-sample/future/es';
const DAY = 86_400_000;
const EURUSD: Contract = { symbol: 'EUR', secType: SecType.CASH, currency: 'USD', exchange: 'IDEALPRO' };
const ESZ13: Contract = { symbol: 'ES', secType: SecType.FUT, currency: 'USD', exchange: 'CME', lastTradeDateOrContractMonth: '20131220' };

/** The summary rows of one request, by `tag|currency`, and the notices (id = reqId) it came with. */
async function summary(c: ApiClient, reqId: number, tags: string): Promise<{ rows: Map<string, string>; notices: number[] }> {
  const rows = new Map<string, string>();
  const notices: number[] = [];
  const onRow = (id: number, _acct: string, tag: string, value: string, currency: string) => id === reqId && rows.set(`${tag}|${currency}`, value);
  const onErr = (_e: Error, code: number, id: number) => id === reqId && notices.push(code);
  c.api.on(EventName.accountSummary, onRow);
  c.api.on(EventName.error, onErr);
  try {
    const end = c.waitFor(EventName.accountSummaryEnd, (id: number) => id === reqId);
    c.api.reqAccountSummary(reqId, 'All', tags);
    await end;
    c.api.cancelAccountSummary(reqId);
  } finally {
    c.api.off(EventName.accountSummary, onRow);
    c.api.off(EventName.error, onErr);
  }
  return { rows, notices };
}

const num = (rows: Map<string, string>, key: string): number => {
  const v = rows.get(key);
  if (v === undefined) throw new Error(`no ${key} row; rows: ${[...rows.keys()].join(', ')}`);
  return Number(v);
};

/** A market order of `qty` (negative sells); resolves with the fill's price and commission once filled. */
async function trade(c: ApiClient, contract: Contract, qty: number): Promise<{ price: number; commission: number }> {
  const id = c.nextValidId++;
  const exec = c.waitFor(EventName.execDetails, (_r: number, _c: unknown, e: { orderId: number }) => e.orderId === id, 10_000);
  const report = c.waitFor(EventName.commissionReport, () => true, 10_000);
  c.api.placeOrder(id, contract, {
    action: qty > 0 ? OrderAction.BUY : OrderAction.SELL,
    orderType: OrderType.MKT,
    totalQuantity: Math.abs(qty),
    transmit: true,
  });
  let done = false;
  const filled = exec.then((x) => {
    done = true;
    return x;
  });
  // lockstep: the fill's execDetails comes before the answer to the step it happened in
  while (!done) await c.step();
  const [, , e] = await filled;
  const [r] = await report;
  return { price: e.price as number, commission: r.commission as number };
}

const dataAvailable =
  sharedAvailable(`${FX}/eurusd/minute/oanda_20140501.csv`) && sharedAvailable(`${FX}/gbpusd/daily/oanda.csv`) && sharedAvailable(`${ES}/20131008_trade.csv`);
let dir = '';
let db = '';

beforeAll(async () => {
  if (!dataAvailable) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-sim-currency-'));
  db = path.join(dir, 'lean.duckdb');
  const store = await openStore(db);
  try {
    await importLean(store, [
      path.join(SHARED, FX, 'eurusd/minute/oanda_20140501.csv'),
      path.join(SHARED, FX, 'gbpusd/daily/oanda.csv'),
      ...['20131007_trade.csv', '20131008_trade.csv'].map((f) => path.join(SHARED, ES, f)),
    ]);
  } finally {
    store.close();
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sql(rel: string, q: string): Promise<Record<string, unknown>[]> {
  const store: Store = await openStore(rel, { readOnly: true });
  try {
    return (await store.conn.runAndReadAll(q)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    store.close();
  }
}

describe.runIf(dataAvailable)('a GBP account buys 100,000 EUR.USD (Oanda 2014-05-01, GBP.USD daily rates)', () => {
  let sim: IbGatewaySimulator;
  let client: ApiClient;
  let series: BarSeries;
  let contracts: Record<string, ContractTerms>;
  let fill: { price: number; commission: number };
  let snap: SimSnapshot;
  const START = 1_000_000; // GBP

  beforeAll(async () => {
    const run = await openRunData({
      data: db,
      symbols: ['EUR.USD'],
      interval: '1m',
      from: '2014-05-01',
      to: '2014-05-01',
      tz: 'America/New_York',
      baseCurrency: 'GBP',
    });
    try {
      const chunk = await run.chunks.next();
      series = chunk![0]!;
      contracts = run.contracts!;
      // the simulator's rates are its own FxMarks (it advances them on its clock)
      sim = await IbGatewaySimulator.start({ series: [series], speed: 'max', cash: START, contracts, baseCurrency: 'GBP', fx: run.fx });
    } finally {
      run.close();
    }
    client = await ApiClient.connect(sim.port, 1);
    client.api.reqMktData(1, EURUSD, '', false, false);
    await client.step(12); // the first minute
    fill = await trade(client, EURUSD, 100_000);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await sim?.close();
  });

  /** The GBP.USD daily close in force at t: the last Oanda day (a UTC day) that had ended by t, its mid. */
  async function gbpusdAt(t: number): Promise<number> {
    const r = await sql(db, `SELECT close FROM bars WHERE symbol = 'GBP.USD' AND "interval" = '1d' AND ts + ${DAY} <= ${t} ORDER BY ts DESC LIMIT 1`);
    return Number(r[0]!.close);
  }

  /** Steps to the end of the current stored minute; the mark is then that minute's close (the mid). */
  async function toMinuteEnd(): Promise<number> {
    while (sim.now() % 60_000 !== 0) await client.step();
    const i = series.ts.indexOf(sim.now() - 60_000);
    expect(i).toBeGreaterThanOrEqual(0);
    return series.close[i]!;
  }

  it('EUR + 100,000, USD - 100,000 x price - commission, GBP unchanged; in GBP at the rates in force', async () => {
    const mark = await toMinuteEnd();
    const gbpusd = await gbpusdAt(sim.now());
    // 2014-05-01 trades on the 2014-04-30 close: mid (1.68741 + 1.68762) / 2
    expect(gbpusd).toBeCloseTo(1.687515, 9);
    // IDEALPRO: 0.2 bp of the value, at least 2, in the quote currency (USD)
    expect(fill.commission).toBeCloseTo(Math.max(2, 0.00002 * 100_000 * fill.price), 9);
    const { rows, notices } = await summary(client, 10, '$LEDGER:ALL,NetLiquidation,TotalCashValue,AvailableFunds,GrossPositionValue');
    expect(notices).toEqual([]);
    const usd = -100_000 * fill.price - fill.commission;
    expect(num(rows, 'CashBalance|EUR')).toBeCloseTo(100_000, 2);
    expect(num(rows, 'CashBalance|USD')).toBeCloseTo(usd, 2);
    expect(num(rows, 'CashBalance|GBP')).toBeCloseTo(START, 2);
    // rates into GBP: USD 1 / GBPUSD; EUR through the replayed pair, EURUSD's mark / GBPUSD
    expect(num(rows, 'ExchangeRate|USD')).toBeCloseTo(1 / gbpusd, 7);
    expect(num(rows, 'ExchangeRate|EUR')).toBeCloseTo(mark / gbpusd, 7);
    expect(rows.get('ExchangeRate|GBP')).toBe('1.00');
    expect(rows.get('ExchangeRate|BASE')).toBe('1.00');
    // the pair is cash in two currencies: net liquidation is the balances converted (no position value on top)
    const netLiq = START + (100_000 * mark + usd) / gbpusd;
    expect(num(rows, 'NetLiquidation|GBP')).toBeCloseTo(netLiq, 2);
    expect(num(rows, 'TotalCashValue|GBP')).toBeCloseTo(netLiq, 2);
    expect(num(rows, 'NetLiquidationByCurrency|BASE')).toBeCloseTo(netLiq, 2);
    expect(num(rows, 'NetLiquidationByCurrency|EUR')).toBeCloseTo(100_000, 2);
    expect(num(rows, 'GrossPositionValue|GBP')).toBe(0);
    expect(num(rows, 'AvailableFunds|GBP')).toBeCloseTo(netLiq, 2);
    // the position is also reported (IB lists a pair's position): unrealized in USD at the mark against the cost
    expect(num(rows, 'UnrealizedPnL|USD')).toBeCloseTo(100_000 * (mark - fill.price) - fill.commission, 2);
    // each block in its own currency: the currency's code first
    expect(rows.get('Currency|EUR')).toBe('EUR');
    expect(rows.get('Currency|BASE')).toBe('BASE');
  });

  it('the invariant: NetLiquidation = the sum of every currency NetLiquidationByCurrency x ExchangeRate', async () => {
    for (let k = 0; k < 5; k++) {
      await client.step(7);
      const { rows } = await summary(client, 20 + k, '$LEDGER:ALL,NetLiquidation');
      let sum = 0;
      for (const c of ['GBP', 'USD', 'EUR']) sum += num(rows, `NetLiquidationByCurrency|${c}`) * num(rows, `ExchangeRate|${c}`);
      // the rows are rounded to the cent (rates to 8 places): 100,000 EUR x 1e-8 is 0.001
      expect(num(rows, 'NetLiquidation|GBP')).toBeCloseTo(sum, 1);
    }
  });

  it("$LEDGER is the BASE block alone, $LEDGER:EUR the EUR block alone; the live runner's three tags in GBP", async () => {
    const base = await summary(client, 30, '$LEDGER');
    expect([...base.rows.keys()].every((k) => k.endsWith('|BASE'))).toBe(true);
    expect(base.rows.get('Currency|BASE')).toBe('BASE');
    const eur = await summary(client, 31, '$LEDGER:EUR');
    expect([...eur.rows.keys()].every((k) => k.endsWith('|EUR'))).toBe(true);
    expect(num(eur.rows, 'CashBalance|EUR')).toBeCloseTo(100_000, 2);
    // what IbBroker.account() asks for at the runner's start-up
    const runner = await summary(client, 32, 'NetLiquidation,TotalCashValue,AvailableFunds');
    expect([...runner.rows.keys()]).toEqual(['NetLiquidation|GBP', 'TotalCashValue|GBP', 'AvailableFunds|GBP']);
  });

  it('a snapshot, through JSON, resumes the balances per currency: the same $LEDGER:ALL', async () => {
    const before = await summary(client, 40, '$LEDGER:ALL,NetLiquidation,TotalCashValue');
    snap = JSON.parse(JSON.stringify(sim.snapshot())) as SimSnapshot;
    expect(snap.state.base).toBe('GBP');
    expect(snap.state.balances!.EUR).toBeCloseTo(100_000, 6);
    const again = await IbGatewaySimulator.start({ series: [series], speed: 'max', contracts, resume: snap, baseCurrency: 'GBP', fx: await freshFx() });
    const c2 = await ApiClient.connect(again.port, 1);
    try {
      const after = await summary(c2, 41, '$LEDGER:ALL,NetLiquidation,TotalCashValue');
      expect(after.rows).toEqual(before.rows);
    } finally {
      await c2.close();
      await again.close();
    }
    // resuming it in another base currency is refused, saying why
    await expect(IbGatewaySimulator.start({ series: [series], speed: 'max', contracts, resume: snap, baseCurrency: 'USD' })).rejects.toThrow(
      /base currency is GBP/,
    );
  });

  async function freshFx() {
    const run = await openRunData({
      data: db,
      symbols: ['EUR.USD'],
      interval: '1m',
      from: '2014-05-01',
      to: '2014-05-01',
      tz: 'America/New_York',
      baseCurrency: 'GBP',
    });
    run.close();
    return run.fx;
  }
});

describe.runIf(dataAvailable)('a USD account trades one ES Dec-13 contract across a daily settlement', () => {
  let sim: IbGatewaySimulator;
  let client: ApiClient;
  let series: BarSeries;
  let terms: ContractTerms;
  const START = 100_000;
  // 2013-10-07 15:50 New York (EDT): ten minutes before the close; the replay is the regular session only
  const FROM = Date.parse('2013-10-07T15:50:00-04:00');

  beforeAll(async () => {
    const run = await openRunData({ data: db, symbols: ['ESZ13'], interval: '1m', from: '2013-10-07', to: '2013-10-08', tz: 'America/New_York' });
    try {
      const chunk = await run.chunks.next();
      const all = chunk![0]!;
      // up to 10:00 of the 8th: enough for a sale the next morning
      const end = Date.parse('2013-10-08T10:00:00-04:00');
      const keep = Array.from(all.ts, (t, i) => (t < end ? i : -1)).filter((i) => i >= 0);
      const col = (a: Float64Array) => Float64Array.from(keep, (i) => a[i]!);
      series = { ...all, ts: col(all.ts), open: col(all.open), high: col(all.high), low: col(all.low), close: col(all.close), volume: col(all.volume) };
      terms = run.contracts!.ESZ13!;
      sim = await IbGatewaySimulator.start({ series: [series], speed: 'max', cash: START, contracts: run.contracts, from: FROM, session: 'rth' });
    } finally {
      run.close();
    }
    client = await ApiClient.connect(sim.port, 1);
    client.api.reqMktData(1, ESZ13, '', false, false);
    await client.step();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await sim?.close();
  });

  /** the close of the stored minute that starts at `t` */
  const closeAt = (t: number) => {
    const i = series.ts.indexOf(t);
    expect(i).toBeGreaterThanOrEqual(0);
    return series.close[i]!;
  };

  it('only the commission at the trade; the P&L (50 a point) settled into cash at the close mark, then at the sale', async () => {
    expect(terms).toMatchObject({ secType: 'FUT', multiplier: 50 });
    const buy = await trade(client, ESZ13, 1);
    expect(buy.commission).toBe(0.85); // ES: 0.85 a contract (engine/exec/costs.ts)
    // to 15:55: the mark is the 15:54 minute's close
    while (sim.now() < Date.parse('2013-10-07T15:55:00-04:00')) await client.step();
    const mark = closeAt(Date.parse('2013-10-07T15:54:00-04:00'));
    let s = (await summary(client, 50, '$LEDGER:ALL,NetLiquidation,TotalCashValue,InitMarginReq,MaintMarginReq,GrossPositionValue')).rows;
    // the trade moved only the commission; the open P&L is FuturesPNL, counted in the total cash, not in CashBalance
    expect(num(s, 'CashBalance|USD')).toBeCloseTo(START - 0.85, 2);
    expect(num(s, 'FuturesPNL|USD')).toBeCloseTo(50 * (mark - buy.price), 2);
    expect(num(s, 'TotalCashValue|USD')).toBeCloseTo(START - 0.85 + 50 * (mark - buy.price), 2);
    expect(num(s, 'NetLiquidation|USD')).toBeCloseTo(START - 0.85 + 50 * (mark - buy.price), 2);
    expect(num(s, 'InitMarginReq|USD')).toBeCloseTo(terms.initialMargin!, 2);
    expect(num(s, 'MaintMarginReq|USD')).toBeCloseTo(terms.maintenanceMargin!, 2);
    expect(num(s, 'GrossPositionValue|USD')).toBe(0);

    // the next day's first batch settles the 7th at its regular-hours close (the 15:59 minute's close); at 09:31
    // the mark is the 09:30 minute's close
    while (sim.now() < Date.parse('2013-10-08T09:31:00-04:00')) await client.step();
    const settle = closeAt(Date.parse('2013-10-07T15:59:00-04:00'));
    // (the figures below would not tell the settlement from the fill if the prices were the same)
    expect(settle).not.toBe(buy.price);
    s = (await summary(client, 51, '$LEDGER:ALL,TotalCashValue')).rows;
    expect(num(s, 'CashBalance|USD')).toBeCloseTo(START - 0.85 + 50 * (settle - buy.price), 2);
    const first = closeAt(Date.parse('2013-10-08T09:30:00-04:00'));
    expect(num(s, 'FuturesPNL|USD')).toBeCloseTo(50 * (first - settle), 2);

    const sell = await trade(client, ESZ13, -1);
    expect(sell.price).not.toBe(settle);
    s = (await summary(client, 52, '$LEDGER:ALL,TotalCashValue,InitMarginReq')).rows;
    // closed: the day's P&L from the settlement to the sale waits in FuturesPNL for the day's settlement
    expect(num(s, 'CashBalance|USD')).toBeCloseTo(START - 0.85 - 0.85 + 50 * (settle - buy.price), 2);
    expect(num(s, 'FuturesPNL|USD')).toBeCloseTo(50 * (sell.price - settle), 2);
    expect(num(s, 'TotalCashValue|USD')).toBeCloseTo(START - 1.7 + 50 * (sell.price - buy.price), 2);
    expect(num(s, 'RealizedPnL|USD')).toBeCloseTo(50 * (sell.price - buy.price) - 1.7, 2);
    expect(num(s, 'InitMarginReq|USD')).toBe(0);

    // the replay's end settles its last day: the cash moved by the commissions and the round trip's P&L only
    let finished = false;
    void sim.finished.then(() => (finished = true));
    while (!finished) await client.step();
    s = (await summary(client, 53, '$LEDGER:ALL')).rows;
    expect(num(s, 'CashBalance|USD')).toBeCloseTo(START - 1.7 + 50 * (sell.price - buy.price), 2);
    expect(num(s, 'FuturesPNL|USD')).toBe(0);
    expect(client.errors.filter((e) => e.code < 2100 || e.code > 2999)).toEqual([]);
  });
});
