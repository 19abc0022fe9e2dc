import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EquityPoint, Trade } from '../../engine/core/types.ts';
import { computeMetrics, dailyReturns, drawdownSeries, monthlyReturns, type Metrics } from '../../engine/metrics/metrics.ts';

const DAY = 86_400_000;
const utc = (s: string): number => Date.parse(`${s}T00:00:00Z`);

function curve(values: number[], dates?: string[]): EquityPoint[] {
  const t0 = utc('2024-01-01');
  return values.map((equity, i) => ({
    ts: dates ? utc(dates[i]) : t0 + i * DAY,
    equity,
    cash: equity,
  }));
}

function expectClose(actual: number | null, expected: number, rel = 1e-9): void {
  expect(actual).not.toBeNull();
  const a = actual as number;
  const tol = rel * Math.max(Math.abs(expected), 1e-300);
  expect(Math.abs(a - expected), `${a} vs ${expected}`).toBeLessThanOrEqual(tol);
}

const RETURN_KEYS = ['totalReturn', 'cagr', 'volatility', 'sharpe', 'sortino', 'maxDrawdown', 'calmar'] as const;

describe('computeMetrics: a hand-computed case', () => {
  // Trading days Tue 2024-01-02 .. Tue 2024-01-09 (the weekend is skipped).
  const dates = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09'];
  const E = [100, 120, 90, 108, 135, 121.5];
  // returns r = [120/100-1, 90/120-1, 108/90-1, 135/108-1, 121.5/135-1] = [0.2, -0.25, 0.2, 0.25, -0.1], N = 5
  // mean = 0.3 / 5 = 0.06
  // deviations 0.14, -0.31, 0.14, 0.19, -0.16 -> squares 0.0196 + 0.0961 + 0.0196 + 0.0361 + 0.0256 = 0.197
  // var (ddof=1) = 0.197 / 4 = 0.04925, std = 0.221923...
  // Sharpe = 0.06 / sqrt(0.04925) * sqrt(252) = 4.291888...
  // Sortino: downside squares 0.25^2 + 0.1^2 = 0.0725, / N = 0.0145 -> 0.06 / sqrt(0.0145) * sqrt(252) = 7.909837...
  // volatility = sqrt(0.04925) * sqrt(252) = 3.522925...
  // cummax = [100,120,120,120,135,135], dd = [0,0,-0.25,-0.1,0,-0.1] -> max drawdown -0.25,
  //   peak 2024-01-03 (120), trough 2024-01-04 (90), recovered 2024-01-08 (135 >= 120): 5 calendar days
  // total return 121.5/100 - 1 = 0.215; CAGR = 1.215^(252/5) - 1 = 18307.15 (5 days annualised); Calmar = CAGR / 0.25
  const m = computeMetrics({ equity: curve(E, dates), trades: [], fills: [] });

  it('matches the hand derivation', () => {
    expect(m.periods).toBe(5);
    expectClose(m.sharpe, (0.06 / Math.sqrt(0.04925)) * Math.sqrt(252));
    expectClose(m.sharpe, 4.291888, 1e-6);
    expectClose(m.sortino, (0.06 / Math.sqrt(0.0145)) * Math.sqrt(252));
    expectClose(m.sortino, 7.909837, 1e-6);
    expectClose(m.volatility, Math.sqrt(0.04925) * Math.sqrt(252));
    expectClose(m.volatility, 3.522925, 1e-6);
    expectClose(m.totalReturn, 0.215);
    expectClose(m.cagr, 1.215 ** (252 / 5) - 1);
    expectClose(m.calmar, (1.215 ** (252 / 5) - 1) / 0.25);
    expectClose(m.maxDrawdown, -0.25);
    expect(m.maxDrawdownStart).toBe(utc('2024-01-03'));
    expect(m.maxDrawdownTrough).toBe(utc('2024-01-04'));
    expect(m.maxDrawdownRecovery).toBe(utc('2024-01-08'));
    expect(m.maxDrawdownDays).toBe(5);
  });

  it('matches an independent re-implementation with a risk-free rate', () => {
    const rfAnnual = 0.05;
    const got = computeMetrics({ equity: curve(E, dates), trades: [], fills: [], rfAnnual });
    // written differently on purpose: explicit loops and reduce, rf by exp/log
    const rf = Math.exp(Math.log(1.05) / 252) - 1;
    const ex: number[] = [];
    for (let i = 1; i < E.length; i++) ex.push((E[i] - E[i - 1]) / E[i - 1] - rf);
    const n = ex.length;
    const mu = ex.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(ex.reduce((a, x) => a + (x - mu) ** 2, 0) / (n - 1));
    const down = Math.sqrt(ex.reduce((a, x) => a + Math.min(x, 0) ** 2, 0) / n);
    expectClose(got.sharpe, (mu / sd) * Math.sqrt(252));
    expectClose(got.sortino, (mu / down) * Math.sqrt(252));
    // volatility and drawdown do not depend on rf
    expectClose(got.volatility, m.volatility as number);
    expect(got.maxDrawdown).toBe(m.maxDrawdown);
  });

  it('gives the series helpers', () => {
    const r = Array.from(dailyReturns(curve(E, dates)));
    [0.2, -0.25, 0.2, 0.25, -0.1].forEach((x, i) => expectClose(r[i], x));
    const dd = Array.from(drawdownSeries(curve(E, dates)));
    [0, 0, -0.25, -0.1, 0, -0.1].forEach((x, i) => expect(Math.abs(dd[i] - x)).toBeLessThan(1e-12));
  });
});

describe('computeMetrics: trade statistics', () => {
  const t = (pnl: number, days: number): Trade => ({
    symbol: 'AAA',
    side: 'LONG',
    entryTime: utc('2024-01-02'),
    exitTime: utc('2024-01-02') + days * DAY,
    entryPrice: 10,
    exitPrice: 11,
    quantity: 10,
    pnl,
    commission: 1,
    strategy: 's',
  });
  const equity = curve([1000, 1000, 1100, 1050, 1150]);

  it('computes count, win rate, profit factor, averages, expectancy, holding time', () => {
    const m = computeMetrics({
      equity,
      exposure: [0, 500, 0, 800, 800],
      trades: [t(100, 1), t(-50, 2), t(30, 3), t(0, 6)],
      fills: [
        { qty: 10, price: 50, commission: 1 },
        { qty: -10, price: 55, commission: 1.5 },
      ],
    });
    expect(m.tradeCount).toBe(4);
    expect(m.winRate).toBe(0.5); // 2 of 4 (a zero-pnl trade is not a win)
    expectClose(m.profitFactor, 130 / 50);
    expectClose(m.avgWin, 65);
    expectClose(m.avgLoss, -50);
    expectClose(m.expectancy, 20);
    expectClose(m.avgHoldingDays, 3);
    expectClose(m.exposure, 3 / 4); // points 1..4: 500, 0, 800, 800
    expectClose(m.turnover, (500 + 550) / 1060); // mean equity (1000+1000+1100+1050+1150)/5 = 1060
    expectClose(m.totalCommission, 2.5);
  });

  it('reports null profit factor and avg loss when no trade lost, null stats with no trades', () => {
    const m = computeMetrics({ equity, trades: [t(10, 1), t(20, 1)], fills: [] });
    expect(m.profitFactor).toBeNull();
    expect(m.avgLoss).toBeNull();
    expect(m.winRate).toBe(1);
    const none = computeMetrics({ equity, trades: [], fills: [] });
    for (const k of ['winRate', 'profitFactor', 'avgWin', 'avgLoss', 'expectancy', 'avgHoldingDays'] as const) {
      expect(none[k], k).toBeNull();
    }
    expect(none.tradeCount).toBe(0);
    expect(none.exposure).toBe(0);
    expect(none.turnover).toBe(0);
    expect(none.totalCommission).toBe(0);
  });
});

describe('computeMetrics: edge cases', () => {
  it('flat curve: null Sharpe and Sortino, zero volatility and drawdown', () => {
    const m = computeMetrics({ equity: curve([100, 100, 100, 100]), trades: [], fills: [] });
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull();
    expect(m.volatility).toBe(0);
    expect(m.maxDrawdown).toBe(0);
    expect(m.maxDrawdownStart).toBeNull();
    expect(m.maxDrawdownDays).toBe(0);
    expect(m.calmar).toBeNull();
    expect(m.cagr).toBe(0);
  });

  it('constant compounding (std at float noise): null Sharpe, not 1e15', () => {
    const vals = [100];
    for (let i = 0; i < 50; i++) vals.push(vals[i] * 1.001);
    const m = computeMetrics({ equity: curve(vals), trades: [], fills: [] });
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull(); // no period below rf = 0
    expect(m.volatility as number).toBeLessThan(1e-10);
  });

  it('never-recovered drawdown: recovery null, duration to the last point', () => {
    const m = computeMetrics({ equity: curve([100, 110, 105, 88, 95]), trades: [], fills: [] });
    expectClose(m.maxDrawdown, 88 / 110 - 1);
    expect(m.maxDrawdownStart).toBe(utc('2024-01-02'));
    expect(m.maxDrawdownTrough).toBe(utc('2024-01-04'));
    expect(m.maxDrawdownRecovery).toBeNull();
    expect(m.maxDrawdownDays).toBe(3);
  });

  it('recovery at exactly the peak equity counts; peak is the last point at that high', () => {
    const m = computeMetrics({ equity: curve([100, 120, 120, 100, 120, 130]), trades: [], fills: [] });
    expect(m.maxDrawdownStart).toBe(utc('2024-01-03'));
    expect(m.maxDrawdownTrough).toBe(utc('2024-01-04'));
    expect(m.maxDrawdownRecovery).toBe(utc('2024-01-05'));
    expect(m.maxDrawdownDays).toBe(2);
  });

  it('fewer than two returns: null ratios; single point; empty curve', () => {
    const one = computeMetrics({ equity: curve([100, 90]), trades: [], fills: [] });
    expect(one.sharpe).toBeNull();
    expect(one.volatility).toBeNull();
    expect(one.periods).toBe(1);
    const single = computeMetrics({ equity: curve([100]), trades: [], fills: [] });
    expect(single.totalReturn).toBe(0);
    expect(single.cagr).toBeNull();
    expect(single.sortino).toBeNull();
    const empty = computeMetrics({ equity: [], trades: [], fills: [] });
    expect(empty.totalReturn).toBeNull();
    expect(empty.turnover).toBeNull();
    expect(JSON.stringify(empty)).not.toMatch(/NaN|Infinity/);
  });

  it('equity wiped out to 0: return ratios null, no NaN or Infinity anywhere', () => {
    const m = computeMetrics({ equity: curve([100, 50, 0, 0]), trades: [], fills: [] });
    expect(m.maxDrawdown).toBe(-1);
    expect(m.totalReturn).toBe(-1);
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull();
    expect(m.volatility).toBeNull();
    for (const v of Object.values(m)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
  });

  it('rejects bad input', () => {
    expect(() => computeMetrics({ equity: curve([0, 1]), trades: [], fills: [] })).toThrow(/starting equity/);
    expect(() => computeMetrics({ equity: curve([1, NaN]), trades: [], fills: [] })).toThrow(/finite/);
    expect(() => computeMetrics({ equity: curve([1, 2]), exposure: [0], trades: [], fills: [] })).toThrow(/exposure/);
  });
});

describe('monthlyReturns', () => {
  it('compounds within calendar months from the previous month end', () => {
    const eq = curve([100, 110, 121, 110, 99], ['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-29', '2024-03-01']);
    const m = monthlyReturns(eq);
    expect(m.map((x) => [x.year, x.month])).toEqual([
      [2024, 1],
      [2024, 2],
      [2024, 3],
    ]);
    expectClose(m[0].return, 0.1);
    expectClose(m[1].return, 0);
    expectClose(m[2].return, -0.1);
  });
});

// ---- properties ----

/** an equity curve from basis-point daily returns: returns are 0 or at least 1 bp, never float-noise */
const arbCurve = fc
  .record({
    start: fc.integer({ min: 1_000, max: 10_000_000 }),
    bps: fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 2, maxLength: 120 }),
  })
  .map(({ start, bps }) => {
    const vals = [start];
    for (const b of bps) vals.push(vals[vals.length - 1] * (1 + b / 10_000));
    return curve(vals);
  });

function sameMetric(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('computeMetrics: properties', () => {
  it('maxDrawdown is in [-1, 0] for positive equity', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-6, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 100 }), (vals) => {
        const m = computeMetrics({ equity: curve(vals), trades: [], fills: [] });
        return m.maxDrawdown >= -1 && m.maxDrawdown <= 0;
      }),
    );
  });

  it('scaling the equity curve leaves every return metric unchanged', () => {
    fc.assert(
      fc.property(arbCurve, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.constantFrom(0, 0.03), (eq, k, rf) => {
        const scaled = eq.map((p) => ({ ...p, equity: p.equity * k, cash: p.cash * k }));
        const a: Metrics = computeMetrics({ equity: eq, trades: [], fills: [], rfAnnual: rf });
        const b: Metrics = computeMetrics({ equity: scaled, trades: [], fills: [], rfAnnual: rf });
        for (const key of RETURN_KEYS) {
          if (!sameMetric(a[key], b[key])) throw new Error(`${key}: ${a[key]} vs ${b[key]} (k=${k})`);
        }
        expect(b.maxDrawdownStart).toBe(a.maxDrawdownStart);
        expect(b.maxDrawdownTrough).toBe(a.maxDrawdownTrough);
      }),
    );
  });

  it('Sharpe has the sign of the mean excess return', () => {
    fc.assert(
      fc.property(arbCurve, (eq) => {
        const m = computeMetrics({ equity: eq, trades: [], fills: [] });
        let s = 0;
        for (let i = 1; i < eq.length; i++) s += eq[i].equity / eq[i - 1].equity - 1;
        const mu = s / (eq.length - 1);
        if (m.sharpe === null || Math.abs(mu) < 1e-12) return true;
        return Math.sign(m.sharpe) === Math.sign(mu);
      }),
    );
  });

  it('never emits NaN or Infinity', () => {
    fc.assert(
      fc.property(arbCurve, (eq) => {
        const m = computeMetrics({ equity: eq, trades: [], fills: [] });
        return !/NaN|Infinity/.test(JSON.stringify(m)) && Object.values(m).every((v) => v === null || typeof v === 'number');
      }),
    );
  });
});
