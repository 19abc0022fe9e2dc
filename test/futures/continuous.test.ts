import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adjustedAtRoll, type ContractBar, contractFor, continuousSeries, RollError, rollSchedule } from '../../engine/futures/continuous.ts';
import { readFuturesOpenInterest, readFuturesTrades } from '../../engine/data/lean-futures.ts';
import { addDays } from '../../engine/instruments/iso-date.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const EXP: Record<string, string> = { '202003': '2020-03-20', '202006': '2020-06-19', '202009': '2020-09-18' };
const bar = (date: string, contractMonth: string, close: number, volume: number): ContractBar => ({
  date,
  contractMonth,
  expiry: EXP[contractMonth]!,
  open: close,
  high: close + 1,
  low: close - 1,
  close,
  volume,
});

// Three contracts, two volume crossovers:
//   date        202003 (close, vol)   202006          202009
//   2020-03-10  100, 1000             101, 200
//   2020-03-11  102, 800              103.5, 700
//   2020-03-12  104, 400              106, 900        <- 900 > 400: roll 202003 -> 202006 at this close
//   2020-03-13                        105, 1200
//   2020-06-10                        110, 500        112, 400
//   2020-06-11                        111, 100        114, 600   <- 600 > 100: roll 202006 -> 202009
//   2020-06-12                                        115, 700
const SYNTH: ContractBar[] = [
  bar('2020-03-10', '202003', 100, 1000),
  bar('2020-03-10', '202006', 101, 200),
  bar('2020-03-11', '202003', 102, 800),
  bar('2020-03-11', '202006', 103.5, 700),
  bar('2020-03-12', '202003', 104, 400),
  bar('2020-03-12', '202006', 106, 900),
  bar('2020-03-13', '202006', 105, 1200),
  bar('2020-06-10', '202006', 110, 500),
  bar('2020-06-10', '202009', 112, 400),
  bar('2020-06-11', '202006', 111, 100),
  bar('2020-06-11', '202009', 114, 600),
  bar('2020-06-12', '202009', 115, 700),
];

describe('roll rules on a small synthetic series', () => {
  it('volume crossover: rolls at the close of the first date the next contract trades more', () => {
    const s = rollSchedule(SYNTH, { kind: 'volume' });
    expect(s.first).toBe('202003');
    expect(s.rolls).toEqual([
      { date: '2020-03-12', from: '202003', to: '202006', fromPrice: 104, toPrice: 106, reason: 'volume', detail: 'volume 900 (202006) > 400 (202003)' },
      { date: '2020-06-11', from: '202006', to: '202009', fromPrice: 111, toPrice: 114, reason: 'volume', detail: 'volume 600 (202009) > 100 (202006)' },
    ]);
    // the held (real) contract: the roll date's session is still the old contract's
    expect(['2020-03-11', '2020-03-12', '2020-03-13', '2020-06-11', '2020-06-12'].map((d) => contractFor(s, d))).toEqual([
      '202003',
      '202003',
      '202006',
      '202006',
      '202009',
    ]);
  });
  it("'none': the raw held bars, jumps at the rolls left in", () => {
    const c = continuousSeries(SYNTH, rollSchedule(SYNTH, { kind: 'volume' }), 'none');
    expect(c.map((b) => [b.date, b.contractMonth, b.close])).toEqual([
      ['2020-03-10', '202003', 100],
      ['2020-03-11', '202003', 102],
      ['2020-03-12', '202003', 104],
      ['2020-03-13', '202006', 105],
      ['2020-06-10', '202006', 110],
      ['2020-06-11', '202006', 111],
      ['2020-06-12', '202009', 115],
    ]);
  });
  it("'difference': every bar before a roll shifted by that roll's gap and every later one's", () => {
    // gaps: 106 - 104 = +2 (first roll), 114 - 111 = +3 (second roll)
    // 202003 bars: + 2 + 3 = +5 -> 105, 107, 109; 202006 bars: +3 -> 108, 113, 114; 202009: as is -> 115
    const s = rollSchedule(SYNTH, { kind: 'volume' });
    const c = continuousSeries(SYNTH, s, 'difference');
    expect(c.map((b) => b.close)).toEqual([105, 107, 109, 108, 113, 114, 115]);
    expect(c.map((b) => b.high - b.close)).toEqual([1, 1, 1, 1, 1, 1, 1]); // the whole bar moves
    expect(c.map((b) => b.rawClose)).toEqual([100, 102, 104, 105, 110, 111, 115]);
    // at each roll the old contract's adjusted close meets the new contract's: 104 + 5 = 106 + 3 = 109; 111 + 3 = 114
    expect(adjustedAtRoll(s, 0, 'difference')).toEqual({ from: 109, to: 109 });
    expect(adjustedAtRoll(s, 1, 'difference')).toEqual({ from: 114, to: 114 });
  });
  it("'ratio': every bar before a roll multiplied by that roll's ratio and every later one's", () => {
    // ratios: 106 / 104 (first roll), 114 / 111 (second)
    const r1 = 106 / 104;
    const r2 = 114 / 111;
    const s = rollSchedule(SYNTH, { kind: 'volume' });
    const c = continuousSeries(SYNTH, s, 'ratio');
    const want = [100 * r1 * r2, 102 * r1 * r2, 104 * r1 * r2, 105 * r2, 110 * r2, 111 * r2, 115];
    c.forEach((b, i) => expect(b.close).toBeCloseTo(want[i]!, 10));
    // 104 x (106/104) x (114/111) = 106 x (114/111) = 108.8648...; 111 x 114/111 = 114
    expect(c[2]!.close).toBeCloseTo(108.86486486486487, 10);
    const at0 = adjustedAtRoll(s, 0, 'ratio');
    expect(at0.from).toBeCloseTo(at0.to, 10);
    // a ratio adjustment keeps each day's return: 102 -> 104 is +1.9608% raw and adjusted
    expect(c[2]!.close / c[1]!.close).toBeCloseTo(104 / 102, 12);
  });
  it('days-before-expiry: N = 9 rolls at the close 9 days before 2020-03-20, i.e. 2020-03-11', () => {
    const s = rollSchedule(SYNTH, { kind: 'days-before-expiry', days: 9 });
    expect(s.rolls[0]).toMatchObject({ date: '2020-03-11', fromPrice: 102, toPrice: 103.5, reason: 'days-before-expiry' });
    // 202006 expires 2020-06-19: 2020-06-10 is 9 days before
    expect(s.rolls[1]).toMatchObject({ date: '2020-06-10', from: '202006', to: '202009', fromPrice: 110, toPrice: 112 });
  });
  it('never holds a contract past its last trading day: forced roll on the expiry date', () => {
    const bars = [
      bar('2020-03-19', '202003', 100, 1000),
      bar('2020-03-19', '202006', 101, 10),
      bar('2020-03-20', '202003', 100.5, 900),
      bar('2020-03-20', '202006', 102, 20),
      bar('2020-03-23', '202006', 103, 30),
    ];
    const s = rollSchedule(bars, { kind: 'volume' });
    expect(s.rolls).toEqual([
      { date: '2020-03-20', from: '202003', to: '202006', fromPrice: 100.5, toPrice: 102, reason: 'expiry', detail: 'last trading day of 202003' },
    ]);
  });
  it('open interest: a crossover on a date without both closes waits for the next date that has them', () => {
    const bars = [
      bar('2020-03-10', '202003', 100, 1000),
      bar('2020-03-10', '202006', 101, 10),
      bar('2020-03-11', '202003', 101, 1000),
      bar('2020-03-12', '202003', 102, 900),
      bar('2020-03-12', '202006', 103, 50),
    ];
    const oi = [
      { date: '2020-03-10', contractMonth: '202003', openInterest: 500 },
      { date: '2020-03-10', contractMonth: '202006', openInterest: 400 },
      { date: '2020-03-11', contractMonth: '202003', openInterest: 450 },
      { date: '2020-03-11', contractMonth: '202006', openInterest: 460 }, // crossover, but 202006 has no bar on 03-11
    ];
    const s = rollSchedule(bars, { kind: 'open-interest' }, { openInterest: oi });
    expect(s.rolls).toEqual([
      {
        date: '2020-03-12',
        from: '202003',
        to: '202006',
        fromPrice: 102,
        toPrice: 103,
        reason: 'open-interest',
        detail: 'open interest 460 (202006) > 450 (202003)',
      },
    ]);
    expect(() => rollSchedule(bars, { kind: 'open-interest' })).toThrow(/needs open interest rows/);
  });
  it('a gap in the data across an expiry is an error naming the contract and dates', () => {
    const bars = [
      bar('2020-03-10', '202003', 100, 1000),
      bar('2020-03-10', '202006', 101, 10),
      bar('2020-06-10', '202006', 110, 500),
      bar('2020-06-10', '202009', 112, 10),
    ];
    expect(() => rollSchedule(bars, { kind: 'volume' })).toThrow(RollError);
    expect(() => rollSchedule(bars, { kind: 'volume' })).toThrow(/contract 202003 expired on 2020-03-20 and the data's next date is 2020-06-10/);
    expect(() => rollSchedule(bars, { kind: 'days-before-expiry', days: -1 })).toThrow(/whole number >= 0/);
  });
  it('property: at every roll the adjusted prices meet; the held contract is never past its expiry', () => {
    // random walks of two quarterly contracts with random volumes, one bar each per weekday
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), {
          minLength: 5,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: 12 }),
        (steps, basisTicks) => {
          const bars: ContractBar[] = [];
          let p = 2000;
          let d = '2020-02-03';
          for (const [step, va, vb] of steps) {
            p += step / 4;
            bars.push(bar(d, '202003', p, va), bar(d, '202006', p + basisTicks / 4, vb));
            d = addDays(d, 1);
          }
          const rows = bars.filter((b) => b.date <= b.expiry);
          for (const rule of [{ kind: 'volume' as const }, { kind: 'days-before-expiry' as const, days: 5 }]) {
            const s = rollSchedule(rows, rule);
            s.rolls.forEach((_, k) => {
              const diff = adjustedAtRoll(s, k, 'difference');
              expect(diff.from).toBe(diff.to);
              const ratio = adjustedAtRoll(s, k, 'ratio');
              expect(ratio.from).toBeCloseTo(ratio.to, 9);
            });
            for (const b of continuousSeries(rows, s, 'difference')) {
              expect(b.contractMonth).toBe(contractFor(s, b.date));
              expect(b.date <= b.expiry).toBe(true);
            }
          }
        },
      ),
    );
  });
});

const ES = 'data/lean-sample/future/es';

describe.runIf(sharedAvailable(ES))('ES daily data, 2013: the Dec-13 -> Mar-14 roll', () => {
  // read on first use: a skipped suite's body still runs when vitest collects it
  let bars: ContractBar[] = [];
  let oi: ReturnType<typeof readFuturesOpenInterest> = [];
  beforeAll(() => {
    bars = readFuturesTrades(path.join(SHARED, ES, 'daily_trade.csv'));
    oi = readFuturesOpenInterest(path.join(SHARED, ES, 'daily_openinterest.csv'));
  });
  const in2013 = { to: '2013-12-31' };

  it('volume rule: 2013-12-13, when Mar-14 trades 868,208 against Dec-13 347,764', () => {
    // daily_trade.csv: 2013-12-12 Dec 1,113,344 vs Mar 354,874 (no roll); 2013-12-13 Dec 347,764 vs Mar 868,208 (roll)
    const s = rollSchedule(bars, { kind: 'volume' }, in2013);
    expect(s.first).toBe('201312');
    expect(s.rolls).toEqual([
      {
        date: '2013-12-13',
        from: '201312',
        to: '201403',
        fromPrice: 1775,
        toPrice: 1768.75,
        reason: 'volume',
        detail: 'volume 868208 (201403) > 347764 (201312)',
      },
    ]);
    expect(contractFor(s, '2013-12-13')).toBe('201312');
    expect(contractFor(s, '2013-12-16')).toBe('201403');
  });
  it('open-interest rule: 2013-12-20, the first OI date after the crossover (12-16 Dec 1,701,691 > Mar 1,445,598; 12-20 Mar 2,658,894 > Dec 782,646)', () => {
    const s = rollSchedule(bars, { kind: 'open-interest' }, { ...in2013, openInterest: oi });
    expect(s.rolls).toEqual([
      {
        date: '2013-12-20',
        from: '201312',
        to: '201403',
        fromPrice: 1810.25,
        toPrice: 1816.5,
        reason: 'open-interest',
        detail: 'open interest 2658894 (201403) > 782646 (201312)',
      },
    ]);
  });
  it("days-before-expiry 8 (CME's roll date): Thursday 2013-12-12, 8 days before Friday 2013-12-20", () => {
    const s = rollSchedule(bars, { kind: 'days-before-expiry', days: 8 }, in2013);
    expect(s.rolls).toMatchObject([{ date: '2013-12-12', from: '201312', to: '201403', fromPrice: 1773.75, toPrice: 1767.5 }]);
  });
  it('the adjusted series is continuous at the roll and trades real contracts', () => {
    const s = rollSchedule(bars, { kind: 'volume' }, in2013);
    const diff = continuousSeries(bars, s, 'difference', in2013);
    const ratio = continuousSeries(bars, s, 'ratio', in2013);
    const rollBar = diff.find((b) => b.date === '2013-12-13')!;
    // Dec-13 closed 1775 on the roll date; Mar-14 closed 1768.75: difference -6.25 moves Dec's close onto Mar's
    expect([rollBar.contractMonth, rollBar.rawClose, rollBar.close]).toEqual(['201312', 1775, 1768.75]);
    expect(ratio.find((b) => b.date === '2013-12-13')!.close).toBeCloseTo(1768.75, 9);
    // the first Dec-13 bar, 2013-10-06, close 1676.5: 1676.5 - 6.25 = 1670.25; ratio 1676.5 x 1768.75 / 1775
    expect(diff[0]!.close).toBe(1670.25);
    expect(ratio[0]!.close).toBeCloseTo((1676.5 * 1768.75) / 1775, 9);
    // after the roll, Mar-14 as traded (2013-12-15 has no Mar-14 bar: the first is 12-16, close 1779)
    const after = diff.filter((b) => b.date > '2013-12-13');
    expect(after[0]).toMatchObject({ date: '2013-12-16', contractMonth: '201403', close: 1779, rawClose: 1779 });
    for (const b of after) expect(b.close).toBe(b.rawClose);
    // every continuous bar is a real bar of the contract held that date
    const raw = new Map(bars.map((b) => [`${b.date}|${b.contractMonth}`, b]));
    for (const b of diff) {
      expect(b.contractMonth).toBe(contractFor(s, b.date));
      expect(raw.get(`${b.date}|${b.contractMonth}`)!.close).toBe(b.rawClose);
    }
  });
  it('over the whole file the 2014-2020 gap is an error, not a silent splice', () => {
    expect(() => rollSchedule(bars, { kind: 'volume' })).toThrow(/contract 201403 expired on 2014-03-21 and the data's next date is 2020-01-02/);
    expect(rollSchedule(bars, { kind: 'volume' }, { from: '2020-01-01' }).first).toBe('202003');
  });
});

const GC = 'data/lean-sample/future/gc';

describe.runIf(sharedAvailable(GC))('GC daily data: the cycle option keeps the roll on the active months', () => {
  it('Oct-13 -> Dec-13 at the first close with the cycle; through the serial Nov-13 without it', () => {
    const bars = readFuturesTrades(path.join(SHARED, GC, 'daily_trade.csv'));
    const to = '2013-12-31';
    // daily_trade.csv 2013-10-07: Oct-13 1323 (83 lots), Nov-13 1321.8 (92), Dec-13 1323.4 (51,773)
    const active = rollSchedule(bars, { kind: 'volume' }, { to, cycle: [2, 4, 6, 8, 10, 12] });
    expect(active.rolls).toMatchObject([{ date: '2013-10-07', from: '201310', to: '201312', fromPrice: 1323, toPrice: 1323.4 }]);
    // without it, 92 > 83 moves to Nov-13 first; 2013-10-08 Dec-13 72,318 > Nov-13 73 moves on
    const all = rollSchedule(bars, { kind: 'volume' }, { to });
    expect(all.rolls.map((r) => [r.date, r.from, r.to])).toEqual([
      ['2013-10-07', '201310', '201311'],
      ['2013-10-08', '201311', '201312'],
    ]);
  });
});
