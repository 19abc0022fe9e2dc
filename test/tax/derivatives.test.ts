// Options, futures and FX pairs in the UK capital gains report (engine/tax/options.ts, round-trips.ts,
// cgt-assets.ts): hand-worked cases, each with the HMRC rule that gives its figures and the arithmetic.
// Option cases are in GBP (no conversion) so the arithmetic is the rule's alone; the USD cases use real GBPUSD
// rates from the Oanda daily file (the mid of bid_close and ask_close of the date).
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContractTerms } from '../../engine/core/types.ts';
import { loadDailyRates } from '../../engine/fx/daily-rates.ts';
import { assetGains, kindOf, type TaxFill } from '../../engine/tax/cgt-assets.ts';
import { cgtCsv, taxYearGains } from '../../engine/tax/cgt-report.ts';
import type { AssetGains, Disposal } from '../../engine/tax/cgt.ts';
import { closedPositions, type RateOf } from '../../engine/tax/round-trips.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const GBPUSD = 'data/lean-sample/forex/gbpusd/daily/oanda.csv';
const TOL = 1e-9;

const call = (strike: number, expiry: string, underlying = 'XYZ', currency = 'GBP'): ContractTerms => ({
  secType: 'OPT',
  multiplier: 100,
  currency,
  expiry,
  strike,
  right: 'C',
  underlying,
});
const put = (strike: number, expiry: string): ContractTerms => ({ ...call(strike, expiry), right: 'P' });

let ts = 0;
/** a fill; `ts` increases so an exercise's option and share fills can share one instant (pass `at`) */
function fill(symbol: string, date: string, side: 'BUY' | 'SELL', qty: number, price: number, commission: number, extra: Partial<TaxFill> = {}): TaxFill {
  return { symbol, date, ts: extra.ts ?? ++ts, side, qty, price, commission, ...extra };
}
const gbpOnly = (cur: string) => {
  if (cur !== 'GBP') throw new Error(`no ${cur} rate in a GBP case`);
  return 1;
};
function run(fills: TaxFill[], contracts: Record<string, ContractTerms>, rateOf: RateOf = gbpOnly): AssetGains[] {
  return assetGains({ fills, contracts, shareCurrency: 'GBP', rateOf });
}
const disposalsOf = (gains: AssetGains[], asset: string) => gains.find((g) => g.asset === asset)?.disposals ?? [];
const near = (got: number, want: number, what: string) => expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(TOL);
function expectDisposal(
  d: Disposal | undefined,
  want: { date: string; kind: string; qty: number; proceeds: number; cost: number; gain: number; rules: string[] },
) {
  expect(d, `a disposal on ${want.date}`).toBeDefined();
  expect([d!.date, d!.kind, d!.matches.map((m) => m.rule)]).toEqual([want.date, want.kind, want.rules]);
  near(d!.qty, want.qty, 'qty');
  near(d!.proceeds, want.proceeds, 'proceeds');
  near(d!.cost, want.cost, 'cost');
  near(d!.gain, want.gain, 'gain');
  near(
    d!.gain,
    d!.matches.reduce((s, m) => s + m.gain, 0),
    'the matches add up',
  );
}

describe('options (TCGA s.144, s.148; CG55400+)', () => {
  const C50 = 'XYZ190621C00050000';
  const P40 = 'XYZ190621P00040000';

  it('a bought call that expires worthless: a disposal for nil, the loss its premium and commission (s.144(4), CG55415)', () => {
    // 2 contracts bought at 1.50: 2 x 1.50 x 100 = 300, + 1.30 commission = 301.30 allowable cost (the series' pool).
    // At expiry (2019-06-21) the abandonment is a disposal for 0: loss 301.30.
    for (const expiry of [fill(C50, '2019-06-21', 'SELL', 2, 0, 0, { event: 'expiry' }), fill(C50, '2019-06-21', 'SELL', 2, 0, 0)]) {
      // the second: no reason journaled, but a price-0 fill on the expiry date is an expiry
      const g = run([fill(C50, '2019-05-01', 'BUY', 2, 1.5, 1.3), expiry], { [C50]: call(50, '2019-06-21') });
      const [d] = disposalsOf(g, C50);
      expectDisposal(d, { date: '2019-06-21', kind: 'option', qty: 2, proceeds: 0, cost: 301.3, gain: -301.3, rules: ['section-104'] });
      expect(g.find((a) => a.asset === C50)!.poolAfter).toEqual({ qty: 0, cost: 0 });
    }
  });

  it('a bought call exercised: no disposal of the option, its cost added to the shares (s.144(3)(a)); the shares sold later', () => {
    // call bought 1 x 2.00 x 100 + 1 commission = 201. Exercised at expiry: 100 XYZ bought at the strike 50 = 5,000
    // (no commission on an exercise), cost 5,000 + 201 = 5,201. Sold 100 at 56 less 1 commission = 5,599: gain 398.
    const at = Date.UTC(2019, 5, 21, 20);
    const g = run(
      [
        fill(C50, '2019-05-01', 'BUY', 1, 2, 1),
        fill(C50, '2019-06-21', 'SELL', 1, 0, 0, { event: 'exercise', ts: at }),
        fill('XYZ', '2019-06-21', 'BUY', 100, 50, 0, { event: 'exercise', ts: at }),
        fill('XYZ', '2019-07-15', 'SELL', 100, 56, 1),
      ],
      { [C50]: call(50, '2019-06-21') },
    );
    expect(disposalsOf(g, C50)).toEqual([]);
    const [d] = disposalsOf(g, 'XYZ');
    expectDisposal(d, { date: '2019-07-15', kind: 'shares', qty: 100, proceeds: 5599, cost: 5201, gain: 398, rules: ['section-104'] });
  });

  it("a written put assigned: the premium reduces the shares' cost (s.144(2)(b)); no disposal of the option", () => {
    // put written: 1 x 1.20 x 100 = 120 less 1 commission = 119 received. Assigned at expiry: 100 XYZ bought at 40 =
    // 4,000, less the premium: cost 3,881. Sold 100 at 42 less 1 = 4,199: gain 318 (= 199 on the shares + 119).
    const at = Date.UTC(2019, 5, 21, 20);
    const g = run(
      [
        fill(P40, '2019-05-01', 'SELL', 1, 1.2, 1),
        fill(P40, '2019-06-21', 'BUY', 1, 0, 0, { event: 'assignment', ts: at }),
        fill('XYZ', '2019-06-21', 'BUY', 100, 40, 0, { event: 'assignment', ts: at }),
        fill('XYZ', '2019-08-01', 'SELL', 100, 42, 1),
      ],
      { [P40]: put(40, '2019-06-21') },
    );
    expect(disposalsOf(g, P40)).toEqual([]);
    expectDisposal(disposalsOf(g, 'XYZ')[0], { date: '2019-08-01', kind: 'shares', qty: 100, proceeds: 4199, cost: 3881, gain: 318, rules: ['section-104'] });
  });

  it('a written call that expires: the grant is the disposal, the premium less commission its gain, on the grant date (s.144(1))', () => {
    // 2 calls written 2019-05-01 at 0.80: 2 x 0.80 x 100 = 160 less 2 commission = 158 proceeds, nil cost: gain 158,
    // dated on the grant, not on the expiry.
    const g = run([fill(C50, '2019-05-01', 'SELL', 2, 0.8, 2), fill(C50, '2019-06-21', 'BUY', 2, 0, 0, { event: 'expiry' })], {
      [C50]: call(50, '2019-06-21'),
    });
    const [d] = disposalsOf(g, C50);
    expectDisposal(d, { date: '2019-05-01', kind: 'option', qty: 2, proceeds: 158, cost: 0, gain: 158, rules: ['option-grant'] });
    expect(d!.matches[0]!.acquired).toBeNull();
  });

  it("a written call closed by a purchase: the purchase is the grant's cost (s.148, CG55545), and the gain stays in the grant's tax year", () => {
    // written 2019-03-20 (2018-19) at 3.00: 300 - 1 = 299; bought back 2019-04-10 (2019-20) at 1.00: 100 + 1 = 101.
    // Gain 198 on the grant: tax year 2018-19.
    const g = run([fill(C50, '2019-03-20', 'SELL', 1, 3, 1), fill(C50, '2019-04-10', 'BUY', 1, 1, 1)], { [C50]: call(50, '2019-06-21') });
    const [d] = disposalsOf(g, C50);
    expectDisposal(d, { date: '2019-03-20', kind: 'option', qty: 1, proceeds: 299, cost: 101, gain: 198, rules: ['option-grant'] });
    expect([d!.taxYear, d!.matches[0]!.acquired]).toEqual(['2018-19', '2019-04-10']);
  });

  it('a written call assigned adds its premium to the share proceeds; a bought put exercised takes its cost off them (s.144(2)(a), s.144(3)(b))', () => {
    // 200 XYZ bought 2019-01-02 at 50 + 2 = 10,002 (pool: 50.01 a share).
    // Call K=55 written: 1.50 x 100 - 1 = 149; assigned 2019-06-21: 100 sold at 55 = 5,500 + 149 = 5,649 proceeds.
    // Put K=45 bought: 2.50 x 100 + 1 = 251; exercised 2019-06-21: 100 sold at 45 = 4,500 - 251 = 4,249 proceeds.
    // Both sales are on one day: one disposal (s.105) of 200, proceeds 9,898, cost the whole pool 10,002: loss 104.
    const C55 = 'XYZ190621C00055000';
    const P45 = 'XYZ190621P00045000';
    const t1 = Date.UTC(2019, 5, 21, 20);
    const t2 = t1 + 1;
    const g = run(
      [
        fill('XYZ', '2019-01-02', 'BUY', 200, 50, 2),
        fill(C55, '2019-05-01', 'SELL', 1, 1.5, 1),
        fill(P45, '2019-05-01', 'BUY', 1, 2.5, 1),
        fill(C55, '2019-06-21', 'BUY', 1, 0, 0, { event: 'assignment', ts: t1 }),
        fill('XYZ', '2019-06-21', 'SELL', 100, 55, 0, { event: 'assignment', ts: t1 }),
        fill(P45, '2019-06-21', 'SELL', 1, 0, 0, { event: 'exercise', ts: t2 }),
        fill('XYZ', '2019-06-21', 'SELL', 100, 45, 0, { event: 'exercise', ts: t2 }),
      ],
      { [C55]: call(55, '2019-06-21'), [P45]: put(45, '2019-06-21') },
    );
    expect([...disposalsOf(g, C55), ...disposalsOf(g, P45)]).toEqual([]);
    expectDisposal(disposalsOf(g, 'XYZ')[0], { date: '2019-06-21', kind: 'shares', qty: 200, proceeds: 9898, cost: 10002, gain: -104, rules: ['section-104'] });
  });

  it("part sold and part exercised on one day: the exercised share of the day's matched cost moves to the shares", () => {
    // 3 calls bought 2019-05-01 at 2.00: 600 + 3 = 603 (201 each). On 2019-06-21 1 sold at 4.00 (400 - 1 = 399) and 2
    // exercised: one disposal of 3 (s.105) costs 603; the exercised 2/3 (402) go to the 200 shares bought at 50
    // (10,000 + 402 = 10,402); the option disposal keeps 1 contract: 399 - 201 = 198.
    const at = Date.UTC(2019, 5, 21, 20);
    const g = run(
      [
        fill(C50, '2019-05-01', 'BUY', 3, 2, 3),
        fill(C50, '2019-06-21', 'SELL', 1, 4, 1),
        fill(C50, '2019-06-21', 'SELL', 2, 0, 0, { event: 'exercise', ts: at }),
        fill('XYZ', '2019-06-21', 'BUY', 200, 50, 0, { event: 'exercise', ts: at }),
        fill('XYZ', '2019-09-02', 'SELL', 200, 52, 0),
      ],
      { [C50]: call(50, '2019-06-21') },
    );
    expectDisposal(disposalsOf(g, C50)[0], { date: '2019-06-21', kind: 'option', qty: 1, proceeds: 399, cost: 201, gain: 198, rules: ['section-104'] });
    // 200 x 52 = 10,400 - 10,402 = -2
    expectDisposal(disposalsOf(g, 'XYZ')[0], { date: '2019-09-02', kind: 'shares', qty: 200, proceeds: 10400, cost: 10402, gain: -2, rules: ['section-104'] });
  });

  it('over a whole history the gains of the series and the shares add up to all the money in less all the money out', () => {
    // bought, sold and written contracts at random; at expiry what is held is exercised into shares (sold later)
    // and what is written lapses. Whatever the matching (same day, 30 days, pool, grants closed by purchases) and
    // whatever moves from the series into the shares, no money may be lost or counted twice.
    const step = fc.record({
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 4 }),
      cents: fc.integer({ min: 0, max: 500 }),
      fee: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), fc.integer({ min: 40, max: 60 }), (steps, sale) => {
        let pos = 0;
        let money = 0;
        const at = Date.UTC(2019, 5, 21, 20);
        const fills: TaxFill[] = steps.map((x, i) => {
          const price = x.cents / 100;
          money += x.buy ? -(x.qty * price * 100 + x.fee) : x.qty * price * 100 - x.fee;
          pos += x.buy ? x.qty : -x.qty;
          return fill(C50, `2019-05-${String(i + 1).padStart(2, '0')}`, x.buy ? 'BUY' : 'SELL', x.qty, price, x.fee);
        });
        if (pos > 0) {
          fills.push(fill(C50, '2019-06-21', 'SELL', pos, 0, 0, { event: 'exercise', ts: at }));
          fills.push(fill('XYZ', '2019-06-21', 'BUY', pos * 100, 50, 0, { event: 'exercise', ts: at }));
          fills.push(fill('XYZ', '2019-08-01', 'SELL', pos * 100, sale, 1));
          money += pos * 100 * (sale - 50) - 1;
        } else if (pos < 0) fills.push(fill(C50, '2019-06-21', 'BUY', -pos, 0, 0, { event: 'expiry' }));
        const g = run(fills, { [C50]: call(50, '2019-06-21') });
        const total = g.flatMap((a) => a.disposals).reduce((t, d) => t + d.gain, 0);
        expect(Math.abs(total - money), `gains ${total}, money ${money}`).toBeLessThanOrEqual(1e-6);
        for (const a of g) expect(a.poolAfter.qty).toBe(0);
      }),
    );
  });

  it('refuses an exercise whose share fill is not in the journal, naming the option and the fill it expected', () => {
    const at = Date.UTC(2019, 5, 21, 20);
    expect(() =>
      run(
        [
          fill(C50, '2019-05-01', 'BUY', 1, 2, 1),
          fill(C50, '2019-06-21', 'SELL', 1, 0, 0, { event: 'exercise', ts: at }),
          fill('XYZ', '2019-06-21', 'BUY', 100, 51, 0, { ts: at }),
        ],
        { [C50]: call(50, '2019-06-21') },
      ),
    ).toThrow(/option XYZ190621C00050000: its exercise on 2019-06-21T20:00:00.000Z should have bought 100 XYZ at the strike 50 at the same instant/);
    expect(() => run([fill(C50, '2019-05-01', 'BUY', 1, 2, 1)], { [C50]: { secType: 'OPT', multiplier: 100, currency: 'GBP' } })).toThrow(
      /option XYZ190621C00050000: its contract terms need right \(C or P\)/,
    );
  });
});

describe('futures (s.143(5), CG56079) and FX pairs', () => {
  it('classes a symbol by its terms: none or STK a share', () => {
    expect([
      kindOf('AAPL', undefined),
      kindOf('ESZ13', { secType: 'FUT', multiplier: 50, currency: 'USD' }),
      kindOf('EUR.USD', { secType: 'CASH', multiplier: 1, currency: 'USD' }),
    ]).toEqual(['shares', 'future', 'fx']);
  });

  it('a short future closed at a loss: nil proceeds, the payment and commissions the cost (GBP terms)', () => {
    // 1 Z sold at 7,000, bought back at 7,010, multiplier 10: paid 100, + 2 x 1.5 commission: loss 103
    const d = closedPositions(
      {
        asset: 'ZZ',
        kind: 'future',
        multiplier: 10,
        currency: 'GBP',
        fills: [
          { date: '2019-05-01', side: 'SELL', qty: 1, price: 7000, fee: 1.5 },
          { date: '2019-05-03', side: 'BUY', qty: 1, price: 7010, fee: 1.5 },
        ],
      },
      () => 1,
    );
    expectDisposal(d[0], { date: '2019-05-03', kind: 'future', qty: 1, proceeds: 0, cost: 103, gain: -103, rules: ['futures'] });
  });

  it('the P&L of any sequence of fills that ends flat is the sum of the gains (FIFO lots, flips included)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: -5, max: 5 }).filter((q) => q !== 0),
            fc.integer({ min: 90, max: 110 }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        (steps) => {
          let pos = 0;
          let cash = 0;
          const fills = steps.map(([q, p], i) => {
            pos += q;
            cash -= q * p * 50;
            return {
              date: `2019-05-${String(i + 1).padStart(2, '0')}`,
              side: q > 0 ? ('BUY' as const) : ('SELL' as const),
              qty: Math.abs(q),
              price: p,
              fee: 0,
            };
          });
          // close what is left on the last day
          if (pos !== 0) {
            fills.push({ date: '2019-05-28', side: pos > 0 ? 'SELL' : 'BUY', qty: Math.abs(pos), price: 100, fee: 0 });
            cash += pos * 100 * 50;
          }
          const ds = closedPositions({ asset: 'ES', kind: 'future', multiplier: 50, currency: 'GBP', fills }, () => 1);
          near(
            ds.reduce((s, d) => s + d.gain, 0),
            cash,
            'sum of gains',
          );
        },
      ),
    );
  });

  describe.runIf(sharedAvailable(GBPUSD))('in USD, at the real GBPUSD of the closing date', () => {
    const rates = loadDailyRates(path.join(SHARED, GBPUSD));
    const rateOf = (cur: string, date: string) => (cur === 'GBP' ? 1 : rates.rate(date));
    // GBPUSD 2013-10-08 in the Oanda file: bid_close 1.6118, ask_close 1.61208, mid 1.61194
    const oct8 = (1.6118 + 1.61208) / 2;

    it('2 ES bought at 1700, sold at 1712: 2 x 12 x 50 = 1,200 USD, less 4 x 2.05 commission, at 1.61194', () => {
      expect(rates.rate('2013-10-08')).toBe(oct8);
      const g = run(
        [fill('ESZ13', '2013-10-07', 'BUY', 2, 1700, 4.1), fill('ESZ13', '2013-10-08', 'SELL', 2, 1712, 4.1)],
        { ESZ13: { secType: 'FUT', multiplier: 50, currency: 'USD', expiry: '2013-12-20', underlying: 'ES' } },
        rateOf,
      );
      // proceeds 1,200 / 1.61194 = £744.44; cost 8.20 / 1.61194 = £5.09; gain 1,191.80 / 1.61194 = £739.36
      const [d] = disposalsOf(g, 'ESZ13');
      expectDisposal(d, { date: '2013-10-08', kind: 'future', qty: 2, proceeds: 1200 / oct8, cost: 8.2 / oct8, gain: 1191.8 / oct8, rules: ['futures'] });
      expect(d!.gain.toFixed(2)).toBe('739.36');
      expect(d!.matches[0]!.acquired).toBe('2013-10-07');
      expect(d!.taxYear).toBe('2013-14');
    });

    it('an EUR.USD round trip: 10,000 EUR bought at 1.3550, sold at 1.3598: 48 USD less 4 commission, at 1.61194', () => {
      const g = run(
        [fill('EUR.USD', '2013-10-07', 'BUY', 10000, 1.355, 2), fill('EUR.USD', '2013-10-08', 'SELL', 10000, 1.3598, 2)],
        { 'EUR.USD': { secType: 'CASH', multiplier: 1, currency: 'USD' } },
        rateOf,
      );
      // 10,000 x 0.0048 = 48 USD (to the float: 10,000 x (1.3598 - 1.355)); 44 / 1.61194 = £27.30
      const pnl = 10000 * (1.3598 - 1.355);
      const [d] = disposalsOf(g, 'EUR.USD');
      expectDisposal(d, { date: '2013-10-08', kind: 'fx', qty: 10000, proceeds: pnl / oct8, cost: 4 / oct8, gain: (pnl - 4) / oct8, rules: ['fx'] });
      expect(d!.gain.toFixed(2)).toBe('27.30');
    });

    it("a USD call bought and expired: the loss is its cost at its own date's rate (GOOG 750 call, 2015-12)", () => {
      // 1 GOOG151224C00750000 bought 2015-12-21 at 5.00: 500 + 0.65 = 500.65 USD at GBPUSD 1.489295 (mid of 1.48902
      // and 1.48957) = £336.17; expired 2015-12-24 for nil: loss £336.17
      const sym = 'GOOG151224C00750000';
      const g = run(
        [fill(sym, '2015-12-21', 'BUY', 1, 5, 0.65), fill(sym, '2015-12-24', 'SELL', 1, 0, 0, { event: 'expiry' })],
        { [sym]: call(750, '2015-12-24', 'GOOG', 'USD') },
        rateOf,
      );
      const cost = 500.65 / ((1.48902 + 1.48957) / 2);
      expectDisposal(disposalsOf(g, sym)[0], { date: '2015-12-24', kind: 'option', qty: 1, proceeds: 0, cost, gain: -cost, rules: ['section-104'] });
      expect(cost.toFixed(2)).toBe('336.17');
    });
  });
});

describe('the report by kind', () => {
  it('totals each kind and writes the kind last in each CSV row', () => {
    const C50 = 'XYZ190621C00050000';
    const g = run(
      [
        fill('XYZ', '2019-05-01', 'BUY', 10, 10, 0),
        fill('XYZ', '2019-06-03', 'SELL', 10, 12, 0),
        fill(C50, '2019-05-01', 'SELL', 1, 1, 0),
        fill(C50, '2019-06-21', 'BUY', 1, 0, 0, { event: 'expiry' }),
        fill('ZZ', '2019-05-01', 'BUY', 1, 100, 0),
        fill('ZZ', '2019-05-02', 'SELL', 1, 90, 0),
      ],
      { [C50]: call(50, '2019-06-21'), ZZ: { secType: 'FUT', multiplier: 10, currency: 'GBP' } },
    );
    const y = taxYearGains(g, '2019-20');
    // shares +20 (10 x 2); option grant +100 (1 x 1 x 100); future -100 (10 points x 10)
    expect(y.byKind.map((k) => [k.kind, k.disposals, k.net])).toEqual([
      ['shares', 1, 20],
      ['option', 1, 100],
      ['future', 1, -100],
    ]);
    expect([y.gains, y.losses, y.net]).toEqual([120, 100, 20]);
    expect(cgtCsv(y).split('\n').slice(1, 4)).toEqual([
      '2019-05-01,XYZ190621C00050000,1,100,0,100,option-grant,,option',
      '2019-05-02,ZZ,1,0,100,-100,futures,2019-05-01,future',
      '2019-06-03,XYZ,10,120,100,20,section-104,,shares',
    ]);
  });
});
