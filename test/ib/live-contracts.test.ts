// Pairs and options at IB (issue 15): the contracts the runner sends for them, the run symbol of what IB reports
// back, the simulator's matching of a request's contract to a replayed symbol, its ledger with a multiplier, and
// its option expiry (exercise, assignment, worthless), each figure worked out by hand.
import { SecType, WhatToShow, type Contract } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { ContractTerms } from '../../engine/core/types.ts';
import { ContractIndex, ibContract, realTimeBarsOf } from '../../engine/ib/contracts.ts';
import type { IbContract } from '../../engine/ib/protocol/contract.ts';
import { Account, type AccountEvents } from '../../engine/ib/sim/account.ts';
import { Contracts } from '../../engine/ib/sim/contracts.ts';
import { Ledger } from '../../engine/ib/sim/ledger.ts';
import { dayNumber } from '../../engine/instruments/iso-date.ts';

const PAIR: ContractTerms = { secType: 'CASH', multiplier: 1, currency: 'USD' };
const CALL: ContractTerms = { secType: 'OPT', multiplier: 100, currency: 'USD', expiry: '2015-12-24', strike: 750, right: 'C', underlying: 'GOOG' };
const PUT: ContractTerms = { ...CALL, strike: 760, right: 'P' };
const FUTURE: ContractTerms = { secType: 'FUT', multiplier: 50, currency: 'USD', expiry: '2013-12-20', underlying: 'ES' };
const CALL_KEY = 'GOOG151224C00750000';
const PUT_KEY = 'GOOG151224P00760000';

/** A request's contract as the protocol parser gives it: every field a string, empty when not sent. */
const req = (c: Partial<IbContract>): IbContract => ({
  conId: 0,
  symbol: '',
  secType: '',
  lastTradeDateOrContractMonth: '',
  strike: '',
  right: '',
  multiplier: '',
  exchange: '',
  primaryExch: '',
  currency: '',
  localSymbol: '',
  tradingClass: '',
  ...c,
});

describe('the IB contract of a run symbol', () => {
  it('a pair is CASH on IDEALPRO: base currency as symbol, quote currency as currency; MIDPOINT bars', () => {
    expect(ibContract('EUR.USD', PAIR)).toEqual({ symbol: 'EUR', secType: SecType.CASH, exchange: 'IDEALPRO', currency: 'USD', localSymbol: 'EUR.USD' });
    expect(realTimeBarsOf(PAIR)).toBe(WhatToShow.MIDPOINT);
  });

  it('an option: the underlying, its last trading day as YYYYMMDD, strike, right, multiplier, SMART', () => {
    expect(ibContract(CALL_KEY, CALL)).toEqual({
      symbol: 'GOOG',
      secType: SecType.OPT,
      lastTradeDateOrContractMonth: '20151224',
      strike: 750,
      right: 'C',
      multiplier: 100,
      exchange: 'SMART',
      currency: 'USD',
    });
    expect(realTimeBarsOf(CALL)).toBe(WhatToShow.MIDPOINT);
  });

  it('a future: the root, its last trading day, multiplier 50, CME; a stock: STK on SMART with TRADES bars', () => {
    expect(ibContract('ESZ13', FUTURE)).toMatchObject({
      symbol: 'ES',
      secType: SecType.FUT,
      lastTradeDateOrContractMonth: '20131220',
      multiplier: 50,
      exchange: 'CME',
    });
    expect(ibContract('SPY')).toEqual({ symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' });
    expect(realTimeBarsOf(undefined)).toBe(WhatToShow.TRADES);
    expect(realTimeBarsOf(FUTURE)).toBe(WhatToShow.TRADES);
  });

  it('refuses a pair without a quote currency and an option without its terms, naming the symbol', () => {
    expect(() => ibContract('EURUSD', PAIR)).toThrow(/EURUSD.*BASE\.QUOTE/);
    expect(() => ibContract(CALL_KEY, { secType: 'OPT', multiplier: 100, currency: 'USD' })).toThrow(new RegExp(CALL_KEY));
  });

  it('what IB reports (positions, executions) maps back to the run symbol', () => {
    const index = new ContractIndex(['GOOG', 'EUR.USD', CALL_KEY, PUT_KEY], { 'EUR.USD': PAIR, [CALL_KEY]: CALL, [PUT_KEY]: PUT });
    // as @stoqey/ib decodes them: the derivative fields filled in, a localSymbol IB's own
    const reported = (c: Partial<Contract>): Contract => ({ conId: 1, exchange: 'SMART', ...c });
    expect(index.symbolOf(reported({ symbol: 'EUR', secType: SecType.CASH, currency: 'USD', localSymbol: 'EUR.USD' }))).toBe('EUR.USD');
    expect(
      index.symbolOf(
        reported({
          symbol: 'GOOG',
          secType: SecType.OPT,
          currency: 'USD',
          lastTradeDateOrContractMonth: '20151224',
          strike: 760,
          right: 'P' as Contract['right'],
          localSymbol: 'GOOG  151224P00760000',
        }),
      ),
    ).toBe(PUT_KEY);
    expect(index.symbolOf(reported({ symbol: 'GOOG', secType: SecType.STK, currency: 'USD' }))).toBe('GOOG');
    // not the run's: a pair by its two currencies, an option by its OCC symbol without the padding
    expect(index.symbolOf(reported({ symbol: 'GBP', secType: SecType.CASH, currency: 'USD' }))).toBe('GBP.USD');
    expect(
      index.symbolOf(
        reported({ symbol: 'GOOG', secType: SecType.OPT, lastTradeDateOrContractMonth: '20151224', strike: 755, localSymbol: 'GOOG  151224C00755000' }),
      ),
    ).toBe('GOOG151224C00755000');
  });
});

describe("the simulator's contracts of pairs and options", () => {
  const contracts = new Contracts(['GOOG', 'EUR.USD', CALL_KEY], 'America/New_York', [undefined, PAIR, CALL]);

  it('describes them as IB does', () => {
    expect(contracts.contract(1)).toMatchObject({
      symbol: 'EUR',
      secType: 'CASH',
      exchange: 'IDEALPRO',
      currency: 'USD',
      localSymbol: 'EUR.USD',
      multiplier: '',
    });
    expect(contracts.contract(2)).toMatchObject({
      symbol: 'GOOG',
      secType: 'OPT',
      localSymbol: 'GOOG  151224C00750000',
      strike: 750,
      right: 'C',
      multiplier: '100',
    });
    expect([...contracts.multipliers]).toEqual([1, 1, 100]);
  });

  it('resolves a request by its fields, its localSymbol or its conId, and nothing else', () => {
    expect(contracts.resolve(req({ symbol: 'EUR', secType: 'CASH', currency: 'USD', exchange: 'IDEALPRO' }))).toBe(1);
    expect(contracts.resolve(req({ secType: 'CASH', localSymbol: 'EUR.USD' }))).toBe(1);
    expect(contracts.resolve(req({ symbol: 'EUR', secType: 'CASH', currency: 'GBP' }))).toBe(-1);
    const call = { symbol: 'GOOG', secType: 'OPT', lastTradeDateOrContractMonth: '20151224', strike: '750', right: 'C', multiplier: '100', currency: 'USD' };
    expect(contracts.resolve(req(call))).toBe(2);
    expect(contracts.resolve(req({ ...call, right: 'CALL' }))).toBe(2);
    expect(contracts.resolve(req({ ...call, strike: '755' }))).toBe(-1);
    expect(contracts.resolve(req({ ...call, right: 'P' }))).toBe(-1);
    expect(contracts.resolve(req({ secType: 'OPT', localSymbol: 'GOOG  151224C00750000' }))).toBe(2);
    expect(contracts.resolve(req({ secType: 'OPT', localSymbol: CALL_KEY }))).toBe(2);
    expect(contracts.resolve(req({ secType: 'OPT', conId: contracts.conIds[2] }))).toBe(2);
    // the stock stays a stock: the option's underlying symbol alone names the stock
    expect(contracts.resolve(req({ symbol: 'GOOG', secType: 'STK', currency: 'USD' }))).toBe(0);
    expect(contracts.resolve(req({ symbol: 'GOOG' }))).toBe(0);
  });
});

describe("the simulator's ledger with a multiplier", () => {
  it('an option bought at 1.55: 155 a contract in cash and average cost, marked at 100 x its price', () => {
    const l = new Ledger(10_000, 2, [1, 100]);
    // 2 contracts at 1.55, commission 1.30: cash 10,000 - 2 x 155 - 1.30 = 9,688.70; avgCost (310 + 1.30) / 2
    expect(l.apply(1, 2, 1.55, 1.3)).toBeUndefined();
    expect(l.cash).toBeCloseTo(9_688.7, 9);
    expect(l.avgCost[1]).toBeCloseTo(155.65, 9);
    const marks = Float64Array.from([0, 2]);
    // marked at 2.00: 2 x 200 = 400; unrealized 400 - 311.30
    expect(l.netLiquidation(marks)).toBeCloseTo(9_688.7 + 400, 9);
    expect(l.unrealized(marks)).toBeCloseTo(88.7, 9);
    // sold at 2.00 with 1.30 commission: realized 2 x (200 - 155.65) - 1.30 = 87.40
    expect(l.apply(1, -2, 2, 1.3)).toBeCloseTo(87.4, 9);
    expect(l.cash).toBeCloseTo(9_688.7 + 400 - 1.3, 9);
  });
});

describe("the simulator's option expiry", () => {
  const noEvents: AccountEvents = { openOrder() {}, orderStatus() {}, execution() {}, orderError() {}, positionChanged() {} };
  const account = () => {
    const contracts = new Contracts(['GOOG', CALL_KEY, PUT_KEY], 'America/New_York', [undefined, CALL, PUT]);
    const changed: number[] = [];
    const a = new Account(
      contracts,
      { account: 'DU1', cash: 100_000, commission: { model: 'none' }, intervalMs: 60_000, subMs: 5_000, tz: 'America/New_York', execPrefix: 'x' },
      { ...noEvents, positionChanged: (sid) => changed.push(sid) },
    );
    return { a, changed };
  };
  const day = dayNumber('2015-12-24');

  it('a short call 10 in the money is assigned: 100 shares sold at the strike; a long put out of the money expires', () => {
    const { a, changed } = account();
    const l = a.ledger;
    l.apply(0, 100, 740, 0); // 100 GOOG at 740: cash 26,000
    l.apply(1, -1, 12, 0); // a call written at 12: cash + 1,200
    l.apply(2, 1, 3, 0); // a 760 put bought at 3: cash - 300
    expect(l.cash).toBe(26_900);
    a.setMark(0, 760);
    a.settleExpired(day - 1); // the day before: nothing yet
    expect([...l.qty]).toEqual([100, -1, 1]);
    a.settleExpired(day);
    // GOOG closed at 760: the 750 call is 10 in (assigned: -100 shares at 750, cash + 75,000); the 760 put is 0 in
    // (below OCC's 0.01: expires worthless, closed at 0)
    expect([...l.qty]).toEqual([0, 0, 0]);
    expect(l.cash).toBe(26_900 + 75_000);
    // realized: the call +1,200 (closed at 0), the put -300, the shares 100 x (750 - 740)
    expect(l.realized).toBe(1_200 - 300 + 1_000);
    expect(changed.sort()).toEqual([0, 1, 2]);
    // once settled, never again
    a.settleExpired(day + 1);
    expect(l.cash).toBe(101_900);
  });

  it("settles against the underlying's regular-hours close, not a later post-market trade", () => {
    const { a } = account();
    const l = a.ledger;
    l.apply(1, -1, 12, 0); // a 750 call written at 12: cash + 1,200
    const bar = (ts: number, close: number) => ({ sid: 0, ts, storedTs: ts, index: 0, last: true, open: close, high: close, low: close, close, volume: 100 });
    // Christmas Eve 2015 closed at 13:00 New York (a half day): 760 at its last 5 seconds, 745 after hours
    a.onBatch([bar(Date.parse('2015-12-24T12:59:55-05:00'), 760)], Date.parse('2015-12-24T13:00:00-05:00'));
    a.onBatch([bar(Date.parse('2015-12-24T13:05:00-05:00'), 745)], Date.parse('2015-12-24T13:05:05-05:00'));
    a.settleExpired(day);
    // 10 in the money at the 760 close: assigned, 100 shares sold at 750 (at 745 it would have expired worthless)
    expect([...l.qty]).toEqual([-100, 0, 0]);
    expect(l.cash).toBe(100_000 + 1_200 + 75_000);
  });

  it('a long put in the money is exercised: 100 shares sold at the strike, a short position from none', () => {
    const { a } = account();
    const l = a.ledger;
    l.apply(2, 2, 5, 0); // 2 puts of 760 at 5: cash 100,000 - 1,000
    a.setMark(0, 755.5);
    a.settleExpired(day);
    expect([...l.qty]).toEqual([-200, 0, 0]);
    // 200 shares sold at 760: cash 99,000 + 152,000; the short marked at 755.5: net liquidation 251,000 - 151,100
    expect(l.cash).toBe(251_000);
    expect(l.netLiquidation(a.marks.map((m) => (Number.isNaN(m) ? 0 : m)))).toBe(99_900);
  });
});
