// The simulated account's cash per currency (issue 15) as properties and hand cases, on the account itself: a GBP
// account with two replayed pairs (GBP.USD, EUR.USD: its rates), a US stock, a German stock in EUR, an option and
// an ES future. Properties (fast-check): a trade at the mark changes net liquidation by its commission only, in
// every currency and contract type; the reported NetLiquidation is the sum of every currency's
// NetLiquidationByCurrency times its ExchangeRate, and TotalCashValue the sum of CashBalance + FuturesPNL; a daily
// settlement moves futures P&L into cash and changes no total. Hand cases: an older USD-only snapshot restores
// with the same net liquidation; a currency without a rate is reported, never taken at 1.
import fc from 'fast-check';
import { EventName } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../../engine/core/types.ts';
import { Account, type AccountEvents } from '../../../engine/ib/sim/account.ts';
import { Contracts } from '../../../engine/ib/sim/contracts.ts';
import { NO_RATE_CODE } from '../../../engine/ib/sim/currency-rates.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';
import type { AccountSnapshot } from '../../../engine/ib/sim/snapshot.ts';
import { accountSummary, missingRates } from '../../../engine/ib/sim/summary.ts';
import { ApiClient } from './sim-helpers.ts';

const noEvents: AccountEvents = { openOrder() {}, orderStatus() {}, execution() {}, orderError() {}, positionChanged() {} };

const SYMBOLS = ['GBP.USD', 'EUR.USD', 'AAPL', 'SAP', 'AAPL140606C00600000', 'ESZ13'];
const TERMS: (ContractTerms | undefined)[] = [
  { secType: 'CASH', multiplier: 1, currency: 'USD' },
  { secType: 'CASH', multiplier: 1, currency: 'USD' },
  undefined,
  { secType: 'STK', multiplier: 1, currency: 'EUR' },
  { secType: 'OPT', multiplier: 100, currency: 'USD', expiry: '2014-06-06', strike: 600, right: 'C', underlying: 'AAPL' },
  { secType: 'FUT', multiplier: 50, currency: 'USD', expiry: '2013-12-20', underlying: 'ES', initialMargin: 5_060, maintenanceMargin: 4_600 },
];
const CCY = ['USD', 'USD', 'USD', 'EUR', 'USD', 'USD'];

function account(base = 'GBP', symbols = SYMBOLS, terms = TERMS): Account {
  return new Account(
    new Contracts(symbols, 'America/New_York', terms),
    {
      account: 'DU1',
      cash: 100_000,
      commission: { model: 'none' },
      intervalMs: 60_000,
      subMs: 5_000,
      tz: 'America/New_York',
      execPrefix: 'x',
      baseCurrency: base,
    },
    noEvents,
  );
}

const rowsOf = (a: Account, tags: string) => new Map(accountSummary(a, tags.split(',')).map((r) => [`${r.tag}|${r.currency}`, r.value]));

/** Prices that keep the marks in plausible ranges per symbol (GBP.USD, EUR.USD, AAPL, SAP, the call, ES). */
const RANGES: [number, number][] = [
  [1.2, 2.1],
  [1.03, 1.6],
  [50, 700],
  [20, 120],
  [0.05, 40],
  [1_500, 2_000],
];
const price = (sid: number) => fc.double({ min: RANGES[sid]![0], max: RANGES[sid]![1], noNaN: true });
const step = fc.integer({ min: 0, max: SYMBOLS.length - 1 }).chain((sid) =>
  fc.record({
    sid: fc.constant(sid),
    qty: fc
      .integer({ min: -5, max: 5 })
      .filter((q) => q !== 0)
      .map((q) => (sid < 2 ? q * 10_000 : q)),
    mark: price(sid),
    commission: fc.double({ min: 0, max: 5, noNaN: true }),
  }),
);

function seedMarks(a: Account): void {
  RANGES.forEach(([lo, hi], sid) => a.setMark(sid, (lo + hi) / 2));
}

describe('the simulated account in several currencies (properties)', () => {
  it('a trade at the mark changes net liquidation by its commission (converted) only', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const a = account();
        seedMarks(a);
        const l = a.ledger;
        for (const s of steps) {
          a.setMark(s.sid, s.mark);
          const before = l.netLiquidation(a.marks);
          const rate = l.rates.toBase(a.marks)[l.currencies.indexOf(CCY[s.sid]!)]!;
          l.apply(s.sid, s.qty, s.mark, s.commission);
          // the rates come from the pairs' marks, which a trade does not move
          expect(l.netLiquidation(a.marks)).toBeCloseTo(before - s.commission * rate, 6);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('NetLiquidation = sum of NetLiquidationByCurrency x ExchangeRate; TotalCashValue = sum of (CashBalance + FuturesPNL) x rate; a settlement moves no total', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0.9, max: 1.1, noNaN: true })), { maxLength: 6 }),
        (steps, moves) => {
          const a = account();
          seedMarks(a);
          for (const s of steps) a.ledger.apply(s.sid, s.qty, s.mark, s.commission);
          for (const [sid, f] of moves) a.setMark(sid, a.marks[sid]! * f);
          const check = () => {
            const r = rowsOf(a, '$LEDGER:ALL,NetLiquidation,TotalCashValue');
            const n = (k: string) => Number(r.get(k));
            let netLiq = 0;
            let cash = 0;
            for (const c of ['GBP', 'USD', 'EUR']) {
              netLiq += n(`NetLiquidationByCurrency|${c}`) * n(`ExchangeRate|${c}`);
              cash += (n(`CashBalance|${c}`) + n(`FuturesPNL|${c}`)) * n(`ExchangeRate|${c}`);
            }
            // rows to the cent, rates to 8 places: a few cents on these sizes
            expect(n('NetLiquidation|GBP')).toBeCloseTo(netLiq, 0);
            expect(n('TotalCashValue|GBP')).toBeCloseTo(cash, 0);
            expect(n('NetLiquidationByCurrency|BASE')).toBeCloseTo(n('NetLiquidation|GBP'), 1);
            return { netLiq: a.ledger.netLiquidation(a.marks), cash: a.ledger.totalCash(a.marks) };
          };
          const before = check();
          a.settleExpired(16_000); // 2013-10-22: no option expires; the future settles at its mark
          const after = check();
          expect(after.netLiq).toBeCloseTo(before.netLiq, 6);
          expect(after.cash).toBeCloseTo(before.cash, 6);
          expect([...a.ledger.futuresPnl]).toEqual([0, 0, 0]);
          // the future's open variation counts from its settlement now
          const es = a.ledger.qty[5]!;
          if (es !== 0) expect(a.ledger.settleRef[5]).toBeCloseTo(a.marks[5]! * 50, 9);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the simulated account in several currencies (hand cases)', () => {
  it('EUR.USD in a GBP account: EUR + 10,000, USD - 13,800 - 2, GBP unchanged; EUR in GBP through both pairs', () => {
    const a = account();
    a.setMark(0, 1.6); // GBP.USD
    a.setMark(1, 1.38); // EUR.USD
    a.ledger.apply(1, 10_000, 1.38, 2);
    const r = rowsOf(a, '$LEDGER:ALL,NetLiquidation');
    expect(r.get('CashBalance|EUR')).toBe('10000.00');
    expect(r.get('CashBalance|USD')).toBe('-13802.00');
    expect(r.get('CashBalance|GBP')).toBe('100000.00');
    // USD in GBP: 1 / 1.6 = 0.625; EUR: 1.38 / 1.6 = 0.8625
    expect(r.get('ExchangeRate|USD')).toBe('0.625');
    expect(r.get('ExchangeRate|EUR')).toBe('0.8625');
    // 100,000 + 10,000 x 0.8625 - 13,802 x 0.625 = 100,000 + 8,625 - 8,626.25
    expect(r.get('NetLiquidation|GBP')).toBe('99998.75');
  });

  it('an ES contract: the trade moves the commission; 50 a point waits in FuturesPNL until the settlement', () => {
    const a = account('USD');
    a.setMark(5, 1_680);
    a.ledger.apply(5, 1, 1_680, 0.85);
    a.setMark(5, 1_690.25);
    let r = rowsOf(a, '$LEDGER:USD,NetLiquidation,TotalCashValue,InitMarginReq');
    expect(r.get('CashBalance|USD')).toBe('99999.15');
    // 10.25 points x 50 = 512.50
    expect(r.get('FuturesPNL|USD')).toBe('512.50');
    expect(r.get('TotalCashBalance|USD')).toBe('100511.65');
    expect(r.get('TotalCashValue|USD')).toBe('100511.65');
    expect(r.get('NetLiquidation|USD')).toBe('100511.65');
    expect(r.get('InitMarginReq|USD')).toBe('5060.00');
    a.settleExpired(15_985); // the day ends: settled at 1690.25
    r = rowsOf(a, '$LEDGER:USD,TotalCashValue');
    expect(r.get('CashBalance|USD')).toBe('100511.65');
    expect(r.get('FuturesPNL|USD')).toBe('0.00');
    // sold the next day at 1685: -5.25 points x 50 = -262.50 since the settlement; commission 0.85
    a.ledger.apply(5, -1, 1_685, 0.85);
    r = rowsOf(a, '$LEDGER:USD,TotalCashValue');
    expect(r.get('CashBalance|USD')).toBe('100510.80');
    expect(r.get('FuturesPNL|USD')).toBe('-262.50');
    // the round trip: 5 points x 50 - 1.70 of commissions
    expect(r.get('TotalCashValue|USD')).toBe('100248.30');
    expect(r.get('RealizedPnL|USD')).toBe('248.30');
  });

  it('an older snapshot (one USD cash, futures paid at full value) restores with the same net liquidation', () => {
    // the old simulator: 1 ES bought at 1680 with 0.85 commission: cash 100,000 - 84,000 - 0.85, avgCost 84,000.85
    const older = account('USD').snapshot() as AccountSnapshot & Record<string, unknown>;
    for (const k of ['base', 'balances', 'futuresPnl', 'realizedBy', 'commissionBy', 'settleRef']) delete older[k];
    Object.assign(older, {
      cash: 15_999.15,
      commission: 0.85,
      qty: [0, 0, 0, 0, 0, 1],
      avgCost: [0, 0, 0, 0, 0, 84_000.85],
      traded: [false, false, false, false, false, true],
    });
    older.marks = [null, null, null, null, null, 1_690];
    const a = account('USD');
    a.restore(older, 0);
    const r = rowsOf(a, '$LEDGER:USD,NetLiquidation');
    // old net liquidation: 15,999.15 + 50 x 1690 = 100,499.15; the future's cost goes back to the cash
    expect(r.get('NetLiquidation|USD')).toBe('100499.15');
    expect(r.get('CashBalance|USD')).toBe('100000.00');
    expect(r.get('FuturesPNL|USD')).toBe('499.15');
    // into a GBP account it is refused, saying why
    expect(() => account('GBP').restore(older, 0)).toThrow(/USD account .* base currency is GBP/);
  });

  it('a currency without a rate: its block is reported, the base totals that need it are not (and never at 1)', () => {
    const a = account('USD', ['AAPL', 'SAP'], [undefined, { secType: 'STK', multiplier: 1, currency: 'EUR' }]);
    a.setMark(1, 50);
    a.ledger.apply(1, 10, 50, 1);
    const r = rowsOf(a, '$LEDGER:ALL,NetLiquidation,TotalCashValue,AvailableFunds');
    expect(r.get('CashBalance|EUR')).toBe('-501.00');
    expect(r.get('StockMarketValue|EUR')).toBe('500.00');
    expect(r.has('ExchangeRate|EUR')).toBe(false);
    expect(r.has('NetLiquidation|USD')).toBe(false);
    expect(r.has('TotalCashValue|USD')).toBe(false);
    expect(r.has('AvailableFunds|USD')).toBe(false);
    expect(r.get('CashBalance|USD')).toBe('100000.00');
    expect(missingRates(a)).toEqual(['EUR']);
  });

  it('over TCP, a summary that needs a missing rate comes with notice 2901 naming it', async () => {
    const ts = Float64Array.from({ length: 30 }, (_, i) => Date.parse('2013-10-07T09:30:00-04:00') + i * 60_000);
    const flat = (x: number) => new Float64Array(ts.length).fill(x);
    const bars = (symbol: string, px: number): BarSeries => ({
      symbol,
      interval: '1m',
      ts,
      open: flat(px),
      high: flat(px),
      low: flat(px),
      close: flat(px),
      volume: flat(1_000),
    });
    const sim = await IbGatewaySimulator.start({
      series: [bars('AAPL', 480), bars('SAP', 50)],
      speed: 'max',
      contracts: { SAP: { secType: 'STK', multiplier: 1, currency: 'EUR' } },
    });
    const c = await ApiClient.connect(sim.port, 1);
    try {
      sim.account.ledger.apply(1, 10, 50, 1);
      const rows: string[] = [];
      const onRow = (id: number, _a: string, tag: string, _v: string, currency: string) => id === 7 && rows.push(`${tag}|${currency}`);
      c.api.on(EventName.accountSummary, onRow);
      const notice = c.waitFor(EventName.error, (_e: Error, code: number, id: number) => code === NO_RATE_CODE && id === 7);
      const end = c.waitFor(EventName.accountSummaryEnd, (id: number) => id === 7);
      c.api.reqAccountSummary(7, 'All', 'NetLiquidation,TotalCashValue,$LEDGER:EUR');
      const [err] = await notice;
      await end;
      expect((err as Error).message).toMatch(/no EUR\/USD rate known/);
      expect(rows).not.toContain('NetLiquidation|USD');
      expect(rows).toContain('CashBalance|EUR');
    } finally {
      await c.close();
      await sim.close();
    }
  });
});
