// The tearsheet figures beside quantstats': benchmark statistics, drawdown periods, the return distribution and the
// short-run rule. Expected values are worked out by hand below from the literal data (and matched to 1e-9).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EquityPoint } from '../../engine/core/types.ts';
import { benchmarkStats } from '../../engine/metrics/benchmark-stats.ts';
import { returnDistribution, sampleExcessKurtosis, sampleSkew, yearlyReturns, Z_05 } from '../../engine/metrics/distribution.ts';
import { drawdownPeriods, worstDrawdowns } from '../../engine/metrics/drawdowns.ts';
import { computeMetrics, dailyReturns } from '../../engine/metrics/metrics.ts';
import { ANNUALISED_METRICS, annualisedNote, MIN_ANNUALISED_PERIODS } from '../../engine/metrics/short-run.ts';
import { buildReport } from '../../engine/report/build.ts';
import { renderReportHtml } from '../../engine/report/html.ts';

const DAY = 86_400_000;
const utc = (s: string): number => Date.parse(`${s}T00:00:00Z`);

function expectClose(actual: number | null | undefined, expected: number, tol = 1e-9): void {
  expect(actual).not.toBeNull();
  expect(actual).toBeDefined();
  const a = actual as number;
  expect(Math.abs(a - expected), `${a} vs ${expected}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

/** An equity curve from a start value and daily returns, one date per point (the first the start). */
function fromReturns(start: number, r: number[], dates: string[]): EquityPoint[] {
  expect(dates).toHaveLength(r.length + 1);
  const out: EquityPoint[] = [{ ts: utc(dates[0]), equity: start, cash: start }];
  for (let i = 0; i < r.length; i++) {
    const e = out[i].equity * (1 + r[i]);
    out.push({ ts: utc(dates[i + 1]), equity: e, cash: e });
  }
  return out;
}

function curve(values: number[], dates: string[]): EquityPoint[] {
  return values.map((equity, i) => ({ ts: utc(dates[i]), equity, cash: equity }));
}

// ---- one small case, every figure by hand ----
// Run r and benchmark b, ten daily returns; the first point 2023-12-26, the returns dated
// 12-27 12-28 12-29 | 01-02 01-03 01-04 01-05 01-30 01-31 | 02-01 (three months, two years).
const R = [0.01, -0.02, 0.03, 0.0, -0.01, 0.02, 0.01, -0.03, 0.02, 0.01];
const B = [0.005, -0.01, 0.02, 0.01, -0.005, 0.01, -0.01, -0.02, 0.015, 0.005];
const DATES = [
  '2023-12-26',
  '2023-12-27',
  '2023-12-28',
  '2023-12-29',
  '2024-01-02',
  '2024-01-03',
  '2024-01-04',
  '2024-01-05',
  '2024-01-30',
  '2024-01-31',
  '2024-02-01',
];
// sums: sum r = 0.04, mean(r) = m = 0.004; sum b = 0.02, mean(b) = 0.002
// r - m = [6, -24, 26, -4, -14, 16, 6, -34, 16, 6] e-3;  b - mean(b) = [3, -12, 18, 8, -7, 8, -12, -22, 13, 3] e-3
// S_rr = sum (r - m)^2 = (36 + 576 + 676 + 16 + 196 + 256 + 36 + 1156 + 256 + 36) e-6 = 3240e-6
// S_bb = (9 + 144 + 324 + 64 + 49 + 64 + 144 + 484 + 169 + 9) e-6 = 1460e-6
// S_rb = (18 + 288 + 468 - 32 + 98 + 128 - 72 + 748 + 208 + 18) e-6 = 1870e-6
// r - b = [5, -10, 10, -10, -5, 10, 20, -10, 5, 5] e-3, mean 0.002; deviations [3, -12, 8, -12, -7, 8, 18, -12, 3, 3] e-3
// S_aa = (9 + 144 + 64 + 144 + 49 + 64 + 324 + 144 + 9 + 9) e-6 = 960e-6  (= S_rr + S_bb - 2 S_rb)
const EQ = fromReturns(100, R, DATES);
const BEQ = fromReturns(100, B, DATES);

describe('benchmark statistics (quantstats greeks / information_ratio / corr, empyrical capture)', () => {
  const s = benchmarkStats(dailyReturns(EQ), dailyReturns(BEQ), { minAnnualisedPeriods: 0 });

  it('beta = S_rb / S_bb = 1870 / 1460 = 187 / 146 = 1.28082191780...', () => {
    expectClose(s.beta, 187 / 146);
    expectClose(s.beta, 1.2808219178082192);
  });

  it('alpha = 252 * (mean(r) - beta * mean(b)) = 252 * (0.004 - 0.002 * 187/146) = 252 * 0.21/146 = 0.3624657534...', () => {
    expectClose(s.alpha, (252 * 0.21) / 146);
    expectClose(s.alpha, 0.3624657534246575);
  });

  it('correlation = S_rb / sqrt(S_rr * S_bb) = 1870 / sqrt(3240 * 1460) = 1870 / 2174.948 = 0.859791', () => {
    expectClose(s.correlation, 1870 / Math.sqrt(3240 * 1460));
    expectClose(s.correlation, 0.859791, 1e-6);
  });

  it('information ratio = mean(r - b) / std(r - b) = 0.002 / sqrt(960e-6 / 9) = 0.19365 (daily)', () => {
    expectClose(s.informationRatio, 0.002 / Math.sqrt(960e-6 / 9));
    expectClose(s.informationRatio, 0.193649, 1e-6);
  });

  it('up capture over the 6 days b > 0, down capture over the 4 days b < 0 (annualised by 252 / n)', () => {
    // b > 0 on 12-27 (r .01, b .005), 12-29 (.03, .02), 01-02 (0, .01), 01-04 (.02, .01), 01-31 (.02, .015), 02-01 (.01, .005)
    const upR = (1.01 * 1.03 * 1.0 * 1.02 * 1.02 * 1.01) ** (252 / 6) - 1;
    const upB = (1.005 * 1.02 * 1.01 * 1.01 * 1.015 * 1.005) ** (252 / 6) - 1;
    // b < 0 on 12-28 (-.02, -.01), 01-03 (-.01, -.005), 01-05 (.01, -.01), 01-30 (-.03, -.02)
    const downR = (0.98 * 0.99 * 1.01 * 0.97) ** (252 / 4) - 1;
    const downB = (0.99 * 0.995 * 0.99 * 0.98) ** (252 / 4) - 1;
    expect([s.upDays, s.downDays]).toEqual([6, 4]);
    expectClose(s.upCapture, upR / upB);
    expectClose(s.downCapture, downR / downB);
    // (1.0931514012 ** 42 - 1) / (1.0666970280 ** 42 - 1) = 41.13 / 14.06; (0.95050494 ** 63 - 1) / (0.95569551 ** 63 - 1)
    expectClose(s.upCapture, 2.925912, 1e-6);
    expectClose(s.downCapture, 1.017739, 1e-6);
  });

  it('is annualised: alpha and capture are null under 63 returns, beta, correlation and IR are not', () => {
    const short = benchmarkStats(dailyReturns(EQ), dailyReturns(BEQ));
    expect([short.alpha, short.upCapture, short.downCapture]).toEqual([null, null, null]);
    expect(short.beta).toBe(s.beta);
    expect(short.correlation).toBe(s.correlation);
    expect(short.informationRatio).toBe(s.informationRatio);
  });

  it('rf: alpha = 252 * (mean(r - rf) - beta * mean(b - rf)); beta, correlation and IR do not move', () => {
    const rf = 1.05 ** (1 / 252) - 1;
    const w = benchmarkStats(dailyReturns(EQ), dailyReturns(BEQ), { minAnnualisedPeriods: 0, rfAnnual: 0.05 });
    expectClose(w.alpha, 252 * (0.004 - rf - (187 / 146) * (0.002 - rf)));
    expectClose(w.beta, 187 / 146);
    expect(w.correlation).toBe(s.correlation);
  });

  it('null when undefined: flat benchmark, fewer than two returns, no up day', () => {
    const flat = benchmarkStats([0.01, -0.01, 0.02], [0, 0, 0], { minAnnualisedPeriods: 0 });
    expect([flat.beta, flat.alpha, flat.correlation, flat.upCapture, flat.downCapture]).toEqual([null, null, null, null, null]);
    expect(flat.informationRatio).not.toBeNull();
    const one = benchmarkStats([0.01], [0.02], { minAnnualisedPeriods: 0 });
    expect([one.beta, one.alpha, one.correlation, one.informationRatio]).toEqual([null, null, null, null]);
    const same = benchmarkStats([0.01, -0.02, 0.03], [0.01, -0.02, 0.03], { minAnnualisedPeriods: 0 });
    expect(same.informationRatio).toBeNull(); // r - b flat
    expect(() => benchmarkStats([0.01], [0.01, 0.02])).toThrow(/1 returns but 2/);
  });
});

describe('return distribution (pandas skew / kurtosis, quantstats parametric VaR / CVaR, best / worst)', () => {
  const d = returnDistribution(EQ);

  it('skew = N sqrt(N-1) / (N-2) * S_3 / S_2^1.5 = 10 * 3 / 8 * (-29520e-9) / (3240e-6)^1.5 = -0.60025', () => {
    // S_3 = sum (r - m)^3 = (216 - 13824 + 17576 - 64 - 2744 + 4096 + 216 - 39304 + 4096 + 216) e-9 = -29520e-9
    expectClose(d.skew, (3.75 * -29520) / (3240 * Math.sqrt(3240)));
    expectClose(d.skew, -0.600246, 1e-5);
  });

  it('kurtosis = N(N+1)(N-1) S_4 / ((N-2)(N-3) S_2^2) - 3 (N-1)^2 / ((N-2)(N-3)) = -0.46810 (excess)', () => {
    // S_4 = (1296 + 331776 + 456976 + 256 + 38416 + 65536 + 1296 + 1336336 + 65536 + 1296) e-12 = 2298720e-12
    // = 990 * 2298720 / (56 * 3240^2) - 243 / 56 = 2275732800 / 587865600 - 4.339286
    expectClose(d.kurtosis, (990 * 2298720) / (56 * 3240 * 3240) - 243 / 56);
    expectClose(d.kurtosis, -0.468103, 1e-5);
  });

  it('VaR 95% = m + Phi^-1(0.05) s, CVaR 95% = m - s phi(1.6449) / 0.05, s = sqrt(3240e-6 / 9) = sqrt(360e-6)', () => {
    const s = Math.sqrt(360e-6); // 0.018973666
    expect(Z_05).toBeCloseTo(-1.6448536269514729, 15);
    expectClose(d.var95, 0.004 - 1.6448536269514729 * s); // -0.0272088
    // phi(1.6448536269514729) = exp(-1.6448536^2 / 2) / sqrt(2 pi) = 0.1031356403753712 (standard normal table)
    expectClose(d.cvar95, 0.004 - (s * 0.1031356403753712) / 0.05); // -0.0351373
    expectClose(d.var95, -0.0272088, 1e-6);
    expectClose(d.cvar95, -0.0351373, 1e-6);
  });

  it('best / worst day, month and year compound the daily returns by calendar period', () => {
    expectClose(d.bestDay, 0.03);
    expectClose(d.worstDay, -0.03);
    // 2023-12: 1.01 * 0.98 * 1.03 - 1 = 0.019494; 2024-01: 1.00 * 0.99 * 1.02 * 1.01 * 0.97 * 1.02 - 1 = 0.0090870812;
    // 2024-02: 0.01
    expectClose(d.bestMonth, 0.019494);
    expectClose(d.worstMonth, 0.0090870812);
    // 2023: 0.019494; 2024: 1.0090870812 * 1.01 - 1 = 0.019177952012
    expectClose(d.bestYear, 0.019494);
    expectClose(d.worstYear, 0.019177952012);
    expect(yearlyReturns(EQ).map((y) => y.year)).toEqual([2023, 2024]);
  });

  it('null when undefined: too few returns, a flat curve, no returns', () => {
    expect(sampleSkew([0.01, 0.02])).toBeNull();
    expect(sampleExcessKurtosis([0.01, 0.02, 0.03])).toBeNull();
    expect(sampleSkew([0.01, 0.01, 0.01, 0.01])).toBeNull();
    const empty = returnDistribution([]);
    expect(Object.values(empty).filter((v) => v !== null)).toEqual([0]); // only periods
  });
});

describe('drawdown periods (quantstats drawdown_details)', () => {
  it('the hand case: three periods, the deepest not recovered', () => {
    // equity 100, 101, 98.98, 101.9494, 101.9494, 100.929906, 102.948504, 103.977989, 100.858650, 102.875823, 103.904581
    // under water: 12-28 (-2%), 01-03 (-1%), 01-30 .. 02-01 (-3%, -1.06%, -0.0706%)
    const all = drawdownPeriods(EQ);
    expect(all).toHaveLength(3);
    const top = worstDrawdowns(EQ).map((p) => ({
      ...p,
      peak: iso(p.peak),
      start: iso(p.start),
      trough: iso(p.trough),
      end: iso(p.end),
      recovery: p.recovery && iso(p.recovery),
    }));
    expect(top.map((p) => [p.peak, p.start, p.trough, p.end, p.recovery, p.days])).toEqual([
      ['2024-01-05', '2024-01-30', '2024-01-30', '2024-02-01', null, 3],
      ['2023-12-27', '2023-12-28', '2023-12-28', '2023-12-28', '2023-12-29', 1],
      // the high of 12-29 is matched on 01-02 (r = 0): the peak is the last close at the high
      ['2024-01-02', '2024-01-03', '2024-01-03', '2024-01-03', '2024-01-04', 1],
    ]);
    expectClose(top[0].depth, -0.03);
    expectClose(top[1].depth, -0.02);
    expectClose(top[2].depth, -0.01);
  });

  it('a constructed curve with two drawdowns, the second unrecovered over a weekend', () => {
    const dates = ['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-11', '2024-03-14', '2024-03-15', '2024-03-18'];
    const E = curve([100, 110, 99, 104.5, 110, 121, 96.8, 102.85, 108.9], dates);
    const got = worstDrawdowns(E).map((p) => [
      iso(p.peak),
      iso(p.start),
      iso(p.trough),
      iso(p.end),
      p.recovery === null ? null : iso(p.recovery),
      p.depth,
      p.days,
    ]);
    // 1) 121 on Mon 03-11 -> 96.8 on Thu 03-14 (96.8 / 121 - 1 = -0.2), still under water on Mon 03-18 (108.9 / 121 - 1 = -0.1):
    //    not recovered, days = (03-18 - 03-14) + 1 = 5 calendar days
    // 2) 110 on Tue 03-05 -> 99 on Wed 03-06 (-0.1), 104.5 on Thu (-0.05), back at 110 on Fri 03-08: days = (03-07 - 03-06) + 1 = 2
    expect(got).toEqual([
      ['2024-03-11', '2024-03-14', '2024-03-14', '2024-03-18', null, expect.closeTo(-0.2, 12), 5],
      ['2024-03-05', '2024-03-06', '2024-03-06', '2024-03-07', '2024-03-08', expect.closeTo(-0.1, 12), 2],
    ]);
    // the deepest agrees with computeMetrics' max drawdown (empyrical dating: peak, trough, recovery)
    const m = computeMetrics({ equity: E, trades: [], fills: [] });
    expect([m.maxDrawdown, m.maxDrawdownStart, m.maxDrawdownTrough, m.maxDrawdownRecovery]).toEqual([
      worstDrawdowns(E)[0].depth,
      utc('2024-03-11'),
      utc('2024-03-14'),
      null,
    ]);
  });

  it('keeps the five deepest, deepest first; a curve that never falls has none', () => {
    // a sawtooth: fall k% from 100 and recover, for k = 3, 7, 1, 5, 2, 6, 4
    const ks = [3, 7, 1, 5, 2, 6, 4];
    const values = [100, ...ks.flatMap((k) => [100 * (1 - k / 100), 100])];
    const dates = values.map((_, i) => new Date(utc('2024-01-01') + i * DAY).toISOString().slice(0, 10));
    const top = worstDrawdowns(curve(values, dates));
    expect(top.map((p) => Math.round(-p.depth * 100))).toEqual([7, 6, 5, 4, 3]);
    expect(worstDrawdowns(curve([1, 2, 2, 3], dates.slice(0, 4)))).toEqual([]);
  });
});

describe('short runs: no annualised figures', () => {
  const shortDates = ['2024-01-08', '2024-01-09', '2024-01-10', '2024-01-11', '2024-01-12', '2024-01-15'];
  const input = (equity: EquityPoint[]) => ({
    version: '0.0.0',
    config: {},
    startingCash: equity[0].equity,
    equity,
    trades: [],
    fills: [],
    orders: [],
    riskEvents: [],
    openPositions: [],
    benchmark: { symbol: 'SPY', ts: equity.map((p) => p.ts), close: equity.map((p, i) => p.equity * (1 + 0.001 * i)) },
  });

  it('a one-week run: CAGR, volatility, Sharpe, Sortino, Calmar, alpha and capture are null, with the note', () => {
    const eq = curve([100_000, 99_500, 99_900, 99_200, 99_600, 99_860], shortDates);
    const raw = computeMetrics({ equity: eq, trades: [], fills: [] });
    expect(raw.sharpe).not.toBeNull(); // computeMetrics itself is unchanged (sweeps, promote)
    const r = buildReport(input(eq));
    for (const k of ANNUALISED_METRICS) expect(r.metrics[k], k).toBeNull();
    expect(r.metrics.totalReturn).toBe(raw.totalReturn);
    expect(r.metrics.maxDrawdown).toBe(raw.maxDrawdown);
    expect(r.annualisedNote).toBe(annualisedNote(5));
    expect(r.annualisedNote).toMatch(/^Annualised figures need at least 3 months \(63 daily returns\); this run has 5 days/);
    expect([r.benchmarkStats!.alpha, r.benchmarkStats!.upCapture, r.benchmarkStats!.downCapture]).toEqual([null, null, null]);
    expect(r.benchmarkStats!.beta).not.toBeNull();
    const html = renderReportHtml(r);
    expect(html).toContain('this run has 5 days');
    expect(html).toContain('<h2>Worst drawdowns');
  });

  it(`from ${MIN_ANNUALISED_PERIODS} returns on, the report keeps computeMetrics' values and has no note`, () => {
    const n = MIN_ANNUALISED_PERIODS;
    const values = Array.from({ length: n + 1 }, (_, i) => 100_000 * (1 + 0.01 * Math.sin(i)) * 1.0005 ** i);
    const dates = values.map((_, i) => new Date(utc('2024-01-01') + i * DAY).toISOString().slice(0, 10));
    const eq = curve(values, dates);
    const raw = computeMetrics({ equity: eq, trades: [], fills: [] });
    const r = buildReport(input(eq));
    for (const k of ANNUALISED_METRICS) expect(r.metrics[k], k).toBe(raw[k]);
    expect(r.annualisedNote).toBeUndefined();
    expect(r.benchmarkStats!.alpha).not.toBeNull();
    const one = buildReport(input(eq.slice(0, n)));
    expect(one.metrics.sharpe).toBeNull();
    expect(one.annualisedNote).toMatch(/this run has 62 days/);
  });
});

describe('real data: the bundled sample SPY', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const rows = readFileSync(path.join(root, 'data/sample/daily/spy.csv'), 'utf8').trim().split('\n').slice(1);
  const ts = rows.map((l) => utc(l.slice(0, 10)));
  const close = rows.map((l) => Number(l.split(',')[4]));
  const spy: EquityPoint[] = close.map((c, i) => ({ ts: ts[i], equity: (100_000 * c) / close[0], cash: 0 }));
  const report = (equity: EquityPoint[]) =>
    buildReport({
      version: '0.0.0',
      config: {},
      startingCash: 100_000,
      equity,
      trades: [],
      fills: [],
      orders: [],
      riskEvents: [],
      openPositions: [],
      benchmark: { symbol: 'SPY', ts, close },
    });

  it('SPY against its own buy-and-hold: beta 1, correlation 1, capture 1, alpha 0, no tracking error', () => {
    const s = report(spy).benchmarkStats!;
    expect(s.periods).toBe(rows.length - 1);
    expectClose(s.beta, 1, 1e-12);
    expectClose(s.correlation, 1, 1e-12);
    expectClose(s.upCapture, 1, 1e-9);
    expectClose(s.downCapture, 1, 1e-9);
    expect(Math.abs(s.alpha!)).toBeLessThan(1e-12);
    expect(s.informationRatio).toBeNull();
  });

  it('twice the daily returns of SPY: beta 2, correlation 1, alpha 0', () => {
    const r = dailyReturns(spy);
    const levered: EquityPoint[] = [spy[0]];
    for (let i = 0; i < r.length; i++) levered.push({ ts: ts[i + 1], equity: levered[i].equity * (1 + 2 * r[i]), cash: 0 });
    const s = report(levered).benchmarkStats!;
    expectClose(s.beta, 2, 1e-9);
    expectClose(s.correlation, 1, 1e-9);
    expect(Math.abs(s.alpha!)).toBeLessThan(1e-9);
  });

  it('the worst drawdown of SPY 1998-2021 is the 2007-2009 bear market, as the metrics date it', () => {
    const r = report(spy);
    const worst = r.drawdowns![0];
    expect(worst.depth).toBe(r.metrics.maxDrawdown);
    expect(worst.peak).toBe(r.metrics.maxDrawdownStart!.slice(0, 10));
    expect(worst.trough).toBe(r.metrics.maxDrawdownTrough!.slice(0, 10));
    expect(worst.recovery).toBe(r.metrics.maxDrawdownRecovery?.slice(0, 10) ?? null);
    expect(worst.peak.slice(0, 4)).toBe('2007');
    expect(worst.trough.slice(0, 7)).toBe('2009-03');
    expect(r.drawdowns).toHaveLength(5);
    const d = r.distribution!;
    expect(d.worstDay).toBe(Math.min(...dailyReturns(spy)));
    expect(d.var95!).toBeLessThan(0);
    expect(d.cvar95!).toBeLessThan(d.var95!);
  });
});

function iso(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}
