// HMRC share matching (engine/tax/cgt.ts): every case of ../shared/fixtures/cgt-cases.json, hand-computed cases
// for what the fixture does not cover (splits, same-day priority over a 30-day match, competing disposals, short
// sales), and invariants over random trade histories.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CgtError, gbpAmount, matchAll, matchDisposals, type CgtTrade, type Disposal, type ShareSplit } from '../../engine/tax/cgt.ts';
import { cgtCsv, cgtHtml, taxYearGains } from '../../engine/tax/cgt-report.ts';
import { ANNUAL_EXEMPT_AMOUNT, annualExemptAmount, parseTaxYear, taxYearOf } from '../../engine/tax/tax-year.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const FIXTURE = 'fixtures/cgt-cases.json';
const TOL = 1e-6;

interface FixtureMatch {
  rule: string;
  acquired: string | null;
  qty: number;
  proceeds: number;
  cost: number;
  gain: number;
}
interface FixtureCase {
  case: string;
  trades: CgtTrade[];
  disposals: { date: string; taxYear: string; qty: number; proceeds: number; matches: FixtureMatch[]; gain: number }[];
  poolAfter: { qty: number; cost: number };
}
interface Fixture {
  annualExemptAmount: Record<string, number>;
  fx: {
    buy: { date: string; qty: number; priceUsd: number; feeUsd: number; gbpusd: number; costGbp: number };
    sell: { date: string; qty: number; priceUsd: number; feeUsd: number; gbpusd: number; proceedsGbp: number };
    gainGbp: number;
  };
  cases: FixtureCase[];
}

const close = (got: number, want: number, what: string) => {
  expect(typeof want, `${what}: the fixture's figure`).toBe('number');
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(TOL);
};

function expectDisposal(got: Disposal, want: FixtureCase['disposals'][number], label: string): void {
  expect(got.date, label).toBe(want.date);
  expect(got.taxYear, label).toBe(want.taxYear);
  close(got.qty, want.qty, `${label} qty`);
  close(got.proceeds, want.proceeds, `${label} proceeds`);
  close(got.gain, want.gain, `${label} gain`);
  expect(got.matches.length, `${label} matches`).toBe(want.matches.length);
  want.matches.forEach((m, k) => {
    const g = got.matches[k]!;
    const at = `${label} match ${k + 1}`;
    expect(g.rule, at).toBe(m.rule);
    expect(g.acquired, at).toBe(m.acquired);
    close(g.qty, m.qty, `${at} qty`);
    close(g.proceeds, m.proceeds, `${at} proceeds`);
    close(g.cost, m.cost, `${at} cost`);
    close(g.gain, m.gain, `${at} gain`);
  });
}

describe.runIf(sharedAvailable(FIXTURE))('../shared/fixtures/cgt-cases.json', () => {
  const fixture = JSON.parse(readFileSync(path.join(SHARED, FIXTURE), 'utf8')) as Fixture;

  it('has cases (the file is the one described in fixtures/README.md)', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const c of fixture.cases) {
    it(`reproduces: ${c.case}`, () => {
      const r = matchDisposals({ asset: 'X', trades: c.trades });
      expect(r.disposals.length).toBe(c.disposals.length);
      c.disposals.forEach((d, i) => expectDisposal(r.disposals[i]!, d, `${c.case}, disposal ${i + 1}`));
      close(r.poolAfter.qty, c.poolAfter.qty, `${c.case} pool qty`);
      close(r.poolAfter.cost, c.poolAfter.cost, `${c.case} pool cost`);
    });
  }

  it('converts a USD trade at its own date rate: GBP = USD / GBPUSD, fees included', () => {
    const { buy, sell } = fixture.fx;
    const b: CgtTrade = { date: buy.date, side: 'BUY', qty: buy.qty, price: buy.priceUsd, fee: buy.feeUsd, currency: 'USD', rate: buy.gbpusd };
    const s: CgtTrade = { date: sell.date, side: 'SELL', qty: sell.qty, price: sell.priceUsd, fee: sell.feeUsd, currency: 'USD', rate: sell.gbpusd };
    close(gbpAmount(b), buy.costGbp, 'cost'); // (100 x 150 + 1) / 1.25 = 12000.8
    close(gbpAmount(s), sell.proceedsGbp, 'proceeds'); // (100 x 200 - 1) / 1.3 = 15383.846154
    const r = matchDisposals({ asset: 'USD-STOCK', trades: [b, s] });
    expect(r.disposals).toHaveLength(1);
    const d = r.disposals[0]!;
    expect(d.taxYear).toBe('2020-21');
    expect(d.matches.map((m) => m.rule)).toEqual(['section-104']);
    close(d.gain, fixture.fx.gainGbp, 'gain'); // 15383.846154 - 12000.8
    expect(r.poolAfter).toEqual({ qty: 0, cost: 0 });
  });

  it("the annual exempt amounts agree with engine/tax's table", () => {
    for (const [year, amount] of Object.entries(fixture.annualExemptAmount)) expect(annualExemptAmount(year), year).toBe(amount);
  });
});

const buy = (date: string, qty: number, price: number, fee = 0): CgtTrade => ({ date, side: 'BUY', qty, price, fee });
const sell = (date: string, qty: number, price: number, fee = 0): CgtTrade => ({ date, side: 'SELL', qty, price, fee });
const rules = (d: Disposal) => d.matches.map((m) => [m.rule, m.acquired, m.qty, m.proceeds, m.cost, m.gain]);

describe('hand-computed cases', () => {
  it('a pool that spans a 7:1 split: the quantity multiplies, the cost stays', () => {
    const r = matchDisposals({
      asset: 'AAPL',
      trades: [buy('2019-05-01', 100, 700, 10), buy('2019-08-01', 300, 110, 5), sell('2019-12-02', 500, 120, 10)],
      splits: [{ date: '2019-06-10', ratio: 7 }],
    });
    // pool: 100 shares for 100 x 700 + 10 = 70,010; the split makes them 700 shares, still 70,010;
    // + 300 x 110 + 5 = 33,005: 1000 shares for 103,015. The sale of 500: proceeds 500 x 120 - 10 = 59,990,
    // cost 103,015 x 500 / 1000 = 51,507.5, gain 8,482.5; the pool keeps 500 shares for 51,507.5.
    expect(rules(r.disposals[0]!)).toEqual([['section-104', null, 500, 59990, 51507.5, 8482.5]]);
    expect(r.poolAfter).toEqual({ qty: 500, cost: 51507.5 });
  });

  it('a sale before a split is reported in its own units; the pool after in the new units', () => {
    const r = matchDisposals({
      asset: 'AAPL',
      trades: [buy('2020-01-02', 200, 300), sell('2020-06-01', 50, 350)],
      splits: [{ date: '2020-08-31', ratio: 4 }],
    });
    // 50 of 200 old shares: cost 60,000 x 50 / 200 = 15,000, proceeds 17,500, gain 2,500; 150 old shares
    // remain for 45,000, which the 4:1 split makes 600
    expect(rules(r.disposals[0]!)).toEqual([['section-104', null, 50, 17500, 15000, 2500]]);
    expect(r.poolAfter).toEqual({ qty: 600, cost: 45000 });
  });

  it('a 30-day repurchase across a split matches old shares with new ones at the split ratio', () => {
    // 100 old shares sold 2020-08-20 for 50,000; 4:1 ex 2020-08-31; 200 new shares (= 50 old) bought back
    // 2020-09-10 (21 days later) at 120: 50 old matched bed and breakfast at 24,000 (gain 25,000 - 24,000 = 1,000),
    // the other 50 old from the pool of 200 old for 80,000: cost 20,000, gain 5,000.
    const r = matchDisposals({
      asset: 'AAPL',
      trades: [buy('2020-01-02', 200, 400), sell('2020-08-20', 100, 500), buy('2020-09-10', 200, 120)],
      splits: [{ date: '2020-08-31', ratio: 4 }],
    });
    expect(rules(r.disposals[0]!)).toEqual([
      ['bed-and-breakfast', '2020-09-10', 50, 25000, 24000, 1000],
      ['section-104', null, 50, 25000, 20000, 5000],
    ]);
    // pool: 150 old (60,000) = 600 new; the 2020-09-10 shares were all used by the match
    expect(r.poolAfter).toEqual({ qty: 600, cost: 60000 });
  });

  it("a later day's own disposal takes that day's acquisition first (same day beats bed and breakfast)", () => {
    // 2019-06-10 buys 400 at 11 and sells 100 at 11.5: the same-day rule matches 100 (cost 1,100, gain 50);
    // the other 300 are the 30-day match of the 2019-06-03 sale of 300 at 12 (cost 3,300, gain 300);
    // the pool (1000 at 10) is untouched.
    const r = matchDisposals({
      asset: 'X',
      trades: [buy('2019-05-01', 1000, 10), sell('2019-06-03', 300, 12), buy('2019-06-10', 400, 11), sell('2019-06-10', 100, 11.5)],
    });
    expect(r.disposals.map(rules)).toEqual([[['bed-and-breakfast', '2019-06-10', 300, 3600, 3300, 300]], [['same-day', '2019-06-10', 100, 1150, 1100, 50]]]);
    expect(r.poolAfter).toEqual({ qty: 1000, cost: 10000 });
  });

  it('two disposals compete for one repurchase: the earlier disposal is matched first', () => {
    // sells of 100 on 06-01 and 06-05 (at 12), one buy of 150 at 9 on 06-20: 06-01 takes 100 (cost 900), 06-05
    // the other 50 (cost 450) and 50 from the pool (1000 at 10: cost 500); the pool keeps 950 for 9,500
    const r = matchDisposals({
      asset: 'X',
      trades: [buy('2019-05-01', 1000, 10), sell('2019-06-01', 100, 12), sell('2019-06-05', 100, 12), buy('2019-06-20', 150, 9)],
    });
    expect(r.disposals.map(rules)).toEqual([
      [['bed-and-breakfast', '2019-06-20', 100, 1200, 900, 300]],
      [
        ['bed-and-breakfast', '2019-06-20', 50, 600, 450, 150],
        ['section-104', null, 50, 600, 500, 100],
      ],
    ]);
    expect(r.poolAfter).toEqual({ qty: 950, cost: 9500 });
  });

  it('several repurchases in the window are matched earliest first; the rest joins the pool', () => {
    // sale of 500 at 10 on 2019-07-01: 200 from 07-05 (at 8: 1,600), 300 of the 400 from 07-20 (at 9: 2,700);
    // the remaining 100 of 07-20 (900) join the empty pool
    const r = matchDisposals({
      asset: 'X',
      trades: [buy('2019-06-03', 500, 7), sell('2019-07-01', 500, 10), buy('2019-07-20', 400, 9), buy('2019-07-05', 200, 8)],
    });
    expect(rules(r.disposals[0]!)).toEqual([
      ['bed-and-breakfast', '2019-07-05', 200, 2000, 1600, 400],
      ['bed-and-breakfast', '2019-07-20', 300, 3000, 2700, 300],
    ]);
    // the 2019-06-03 shares were never matched: 500 at 3,500, plus the 100 left of 07-20 (900)
    expect(r.poolAfter).toEqual({ qty: 600, cost: 4400 });
  });

  it('a disposal in March matched with an April repurchase keeps its loss in the earlier tax year', () => {
    // the fixture's boundary case again, through the tax-year totals: the loss of 100 is 2018-19's, and 2019-20 has none
    const assets = matchAll([{ asset: 'X', trades: [buy('2018-06-01', 500, 10), sell('2019-03-25', 500, 8), buy('2019-04-10', 500, 8.2)] }]);
    const y1819 = taxYearGains(assets, '2018-19');
    expect([y1819.disposals.length, y1819.gains, y1819.losses, y1819.net, y1819.exempt, y1819.taxable]).toEqual([1, 0, 100, -100, 11700, 0]);
    expect(taxYearGains(assets, '2019-20').disposals).toEqual([]);
  });

  it('a sale of shares not held and not bought back within 30 days is an error naming the asset, date and quantities', () => {
    const trades = [buy('2019-05-01', 100, 10), sell('2019-06-03', 150, 12)];
    expect(() => matchDisposals({ asset: 'IBM', trades })).toThrow(CgtError);
    expect(() => matchDisposals({ asset: 'IBM', trades })).toThrow(/IBM 2019-06-03: sells 150 shares, of which 150 .*pool holds only 100.*short sale/);
    // the same sale covered by a purchase 30 days later is a bed and breakfast match, not a short sale
    const covered = matchDisposals({ asset: 'IBM', trades: [...trades, buy('2019-07-03', 50, 11)] });
    expect(rules(covered.disposals[0]!)).toEqual([
      ['bed-and-breakfast', '2019-07-03', 50, 600, 550, 50],
      ['section-104', null, 100, 1200, 1000, 200],
    ]);
    // 31 days later is too late
    expect(() => matchDisposals({ asset: 'IBM', trades: [...trades, buy('2019-07-04', 50, 11)] })).toThrow(/pool holds only 100/);
  });

  it('refuses bad trades, naming the asset, the trade and the field', () => {
    const bad = (t: Partial<CgtTrade>) => () => matchDisposals({ asset: 'X', trades: [{ ...buy('2019-05-01', 1, 1), ...t }] });
    expect(bad({ date: '2019-02-30' })).toThrow(/X trade 1 \(2019-02-30\): date must be a YYYY-MM-DD date/);
    expect(bad({ qty: -5 })).toThrow(/qty must be a positive number/);
    expect(bad({ fee: Number.NaN })).toThrow(/fee must be a number >= 0/);
    expect(bad({ side: 'SHORT' as 'BUY' })).toThrow(/side must be 'BUY' or 'SELL'/);
    expect(bad({ currency: 'USD' })).toThrow(/rate must be the USD per GBP rate/);
    expect(() => matchDisposals({ asset: 'X', trades: [], splits: [{ date: '2019-01-01', ratio: 0 }] })).toThrow(/split 2019-01-01: ratio must be a positive/);
    expect(() =>
      matchAll([
        { asset: 'X', trades: [] },
        { asset: 'X', trades: [] },
      ]),
    ).toThrow(/asset X is given twice/);
  });
});

describe('the tax-year report', () => {
  // 2019-20: X gains 15,000 (1000 bought at 10, sold at 25), Y<&> loses 2,000 (500 at 20, sold at 16); net 13,000,
  // less the 12,000 annual exempt amount: 1,000 taxable. The 2020-21 sale of X is another year's.
  const assets = matchAll([
    { asset: 'X', trades: [buy('2019-05-01', 2000, 10), sell('2019-09-02', 1000, 25), sell('2020-05-01', 100, 30)] },
    { asset: 'Y<&>', trades: [buy('2019-05-01', 500, 20), sell('2019-10-01', 500, 16)] },
  ]);
  const y = taxYearGains(assets, '2019-20');

  it('totals gains and losses per disposal, then the exemption', () => {
    expect(y.disposals.map((d) => [d.date, d.asset, d.gain])).toEqual([
      ['2019-09-02', 'X', 15000],
      ['2019-10-01', 'Y<&>', -2000],
    ]);
    expect([y.proceeds, y.cost, y.gains, y.losses, y.net, y.exempt, y.taxable]).toEqual([33000, 20000, 15000, 2000, 13000, 12000, 1000]);
    // a year the table lacks: no exemption, no taxable figure (not a guess)
    const old = taxYearGains(assets, '1999-00');
    expect([old.exempt, old.taxable]).toEqual([undefined, undefined]);
  });

  it('writes one CSV row per match and an HTML table per disposal, escaped', () => {
    expect(cgtCsv(y)).toBe(
      'date,asset,qty,proceeds,cost,gain,rule,acquired,kind\n2019-09-02,X,1000,25000,10000,15000,section-104,,shares\n2019-10-01,Y<&>,500,8000,10000,-2000,section-104,,shares\n',
    );
    const html = cgtHtml(y, { journal: 'j.duckdb', runId: 'r1', rates: 'GBP trades', splits: 'no splits' });
    expect(html).toContain('<h3>2019-10-01 Y&lt;&amp;&gt;: 500 sold, loss £2,000.00</h3>');
    expect(html).toContain('<tr><td>net gain</td><td>£13,000.00</td></tr>');
    expect(html).toContain('<tr><td>annual exempt amount</td><td>£12,000.00</td></tr>');
    expect(html).toContain('<tr><td>taxable after the exemption</td><td>£1,000.00</td></tr>');
    expect(html).not.toContain('Y<&>');
    expect(cgtHtml(taxYearGains(assets, '2021-22'), { journal: 'j', runId: 'r', rates: '', splits: '' })).toContain('<p>No disposals in 2021-22.</p>');
  });
});

describe('tax years', () => {
  it('run from 6 April to 5 April', () => {
    expect(taxYearOf('2019-04-05')).toBe('2018-19');
    expect(taxYearOf('2019-04-06')).toBe('2019-20');
    expect(taxYearOf('2020-01-15')).toBe('2019-20');
    expect(taxYearOf('1999-12-31')).toBe('1999-00');
    expect(parseTaxYear('2019-20')).toEqual({ year: '2019-20', start: '2019-04-06', end: '2020-04-05' });
    expect(parseTaxYear('1999-00').end).toBe('2000-04-05');
  });

  it('refuse any other spelling, saying the form', () => {
    for (const s of ['2019/20', '2019-2020', '2019-21', '19-20', '2019', ''])
      expect(() => parseTaxYear(s), s).toThrow(/must be written YYYY-YY.*e\.g\. 2019-20/);
  });

  it('every tax year of the table is a valid one, and the table has no gaps', () => {
    const years = Object.keys(ANNUAL_EXEMPT_AMOUNT);
    for (const y of years) expect(parseTaxYear(y).year).toBe(y);
    for (let i = 1; i < years.length; i++) expect(Number(years[i]!.slice(0, 4)), years[i]).toBe(Number(years[i - 1]!.slice(0, 4)) + 1);
  });
});

// ---- invariants over random histories that never sell short ----

interface Generated {
  trades: CgtTrade[];
  splits: ShareSplit[];
  /** final units per unit of each trade's date */
  factor: (date: string) => number;
}

const iso = (day: number) => new Date(Date.UTC(2018, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);

/**
 * Trades on days 0..~400 from 2018-01-01 (often several a day, often within 30 days of each other), splits
 * between them; a sale never exceeds the shares held (so the rules never meet a short sale). `roundTrip` sells
 * the rest the day after the last trade.
 */
const history = (roundTrip: boolean) =>
  fc
    .record({
      steps: fc.array(
        fc.record({
          gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
          side: fc.constantFrom('BUY' as const, 'SELL' as const),
          qty: fc.integer({ min: 1, max: 500 }),
          price: fc.double({ min: 0.5, max: 500, noNaN: true }),
          fee: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 20, noNaN: true })),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      splits: fc.array(fc.record({ day: fc.integer({ min: 1, max: 400 }), ratio: fc.constantFrom(2, 3, 7, 0.5) }), { maxLength: 2 }),
    })
    .map(({ steps, splits: raw }): Generated => {
      const splits = raw.map((s) => ({ date: iso(s.day), ratio: s.ratio }));
      const factor = (date: string) => splits.reduce((f, s) => (s.date > date ? f * s.ratio : f), 1);
      const trades: CgtTrade[] = [];
      let day = 0;
      let held = 0; // final units
      for (const s of steps) {
        day += s.gap;
        const date = iso(day);
        const f = factor(date);
        const qty = s.side === 'BUY' ? s.qty : Math.min(s.qty, Math.floor(held / f + 1e-9));
        if (qty <= 0) continue;
        trades.push({ date, side: s.side, qty, price: s.price, fee: s.fee });
        held += s.side === 'BUY' ? qty * f : -qty * f;
      }
      if (roundTrip && held > 1e-9) {
        const date = iso(day + 1);
        trades.push({ date, side: 'SELL', qty: held / factor(date), price: 10, fee: 1 });
      }
      return { trades, splits, factor };
    });

describe('invariants', () => {
  it('over a full round trip the gains add up to all net proceeds less all allowable costs', () => {
    fc.assert(
      fc.property(history(true), ({ trades, splits }) => {
        const r = matchDisposals({ asset: 'X', trades, splits });
        const total = r.disposals.reduce((s, d) => s + d.gain, 0);
        const proceeds = trades.filter((t) => t.side === 'SELL').reduce((s, t) => s + (t.qty * t.price - t.fee), 0);
        const costs = trades.filter((t) => t.side === 'BUY').reduce((s, t) => s + (t.qty * t.price + t.fee), 0);
        expect(Math.abs(total - (proceeds - costs))).toBeLessThanOrEqual(1e-6 * Math.max(1, proceeds + costs));
        expect(Math.abs(r.poolAfter.qty)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(r.poolAfter.cost)).toBeLessThanOrEqual(1e-6 * Math.max(1, costs));
      }),
    );
  });

  it('the pool holds what was bought less what was sold (in the units after the splits), at the cost not yet matched', () => {
    fc.assert(
      fc.property(history(false), ({ trades, splits, factor }) => {
        const r = matchDisposals({ asset: 'X', trades, splits });
        const net = trades.reduce((s, t) => s + (t.side === 'BUY' ? 1 : -1) * t.qty * factor(t.date), 0);
        expect(Math.abs(r.poolAfter.qty - net)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(net)));
        // every pound of cost is either matched to a disposal or still in the pool, once
        const costs = trades.filter((t) => t.side === 'BUY').reduce((s, t) => s + (t.qty * t.price + t.fee), 0);
        const matched = r.disposals.reduce((s, d) => s + d.cost, 0);
        expect(Math.abs(matched + r.poolAfter.cost - costs)).toBeLessThanOrEqual(1e-6 * Math.max(1, costs));
      }),
    );
  });

  it('never matches an acquisition twice, matches every share sold, and keeps each rule to its window', () => {
    fc.assert(
      fc.property(history(false), ({ trades, splits, factor }) => {
        const r = matchDisposals({ asset: 'X', trades, splits });
        const bought = new Map<string, number>();
        for (const t of trades) if (t.side === 'BUY') bought.set(t.date, (bought.get(t.date) ?? 0) + t.qty * factor(t.date));
        const used = new Map<string, number>();
        const dayOf = (d: string) => Date.parse(`${d}T00:00:00Z`) / 86_400_000;
        for (const d of r.disposals) {
          const sold = trades.filter((t) => t.side === 'SELL' && t.date === d.date).reduce((s, t) => s + t.qty, 0);
          expect(Math.abs(d.qty - sold)).toBeLessThanOrEqual(1e-9 * sold);
          expect(Math.abs(d.matches.reduce((s, m) => s + m.qty, 0) - d.qty)).toBeLessThanOrEqual(1e-6 * d.qty);
          expect(Math.abs(d.matches.reduce((s, m) => s + m.proceeds, 0) - d.proceeds)).toBeLessThanOrEqual(1e-6 * Math.max(1, d.proceeds));
          for (const m of d.matches) {
            expect(m.qty).toBeGreaterThan(0);
            if (m.rule === 'section-104') expect(m.acquired).toBeNull();
            else {
              const gap = dayOf(m.acquired!) - dayOf(d.date);
              if (m.rule === 'same-day') expect(gap).toBe(0);
              else expect(gap >= 1 && gap <= 30, `bed and breakfast ${d.date} -> ${m.acquired}`).toBe(true);
              used.set(m.acquired!, (used.get(m.acquired!) ?? 0) + m.qty * factor(d.date));
            }
          }
          // the order of the rules
          const order = d.matches.map((m) => ['same-day', 'bed-and-breakfast', 'section-104'].indexOf(m.rule));
          expect([...order].sort((a, b) => a - b)).toEqual(order);
        }
        for (const [date, q] of used) expect(q, `acquisition ${date}`).toBeLessThanOrEqual(bought.get(date)! * (1 + 1e-9));
      }),
    );
  });
});
