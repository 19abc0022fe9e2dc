import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rollingSharpe, rollingVolatility } from '../../engine/metrics/metrics.ts';

/** Brute force: slice the window, then textbook mean and sample std (ddof = 1). */
function brute(r: number[], w: number, rf: number): { sharpe: (number | null)[]; vol: (number | null)[] } {
  const sharpe: (number | null)[] = [];
  const vol: (number | null)[] = [];
  for (let end = 0; end < r.length; end++) {
    if (end < w - 1) {
      sharpe.push(null);
      vol.push(null);
      continue;
    }
    const win = r.slice(end - w + 1, end + 1);
    const sd = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.map((x) => (x - m) ** 2).reduce((a, b) => a + b, 0) / (xs.length - 1));
    };
    const ex = win.map((x) => x - rf);
    const mEx = ex.reduce((a, b) => a + b, 0) / w;
    vol.push(sd(win) * Math.sqrt(252));
    const s = sd(ex);
    sharpe.push(s > 1e-12 ? (mEx / s) * Math.sqrt(252) : null);
  }
  return { sharpe, vol };
}

function expectSeriesClose(a: (number | null)[], b: (number | null)[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (b[i] === null) expect(a[i], `index ${i}`).toBeNull();
    else expect(Math.abs((a[i] as number) - (b[i] as number)), `index ${i}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b[i] as number)));
  }
}

describe('rollingSharpe / rollingVolatility', () => {
  it('match a brute-force recomputation of every window (random returns, rf > 0)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -0.1, max: 0.1, noNaN: true }), { minLength: 0, maxLength: 150 }), fc.integer({ min: 2, max: 70 }), (r, w) => {
        const rf = 0.0001;
        const want = brute(r, w, rf);
        expectSeriesClose(rollingSharpe(r, w, rf), want.sharpe);
        expectSeriesClose(rollingVolatility(r, w), want.vol);
      }),
      { numRuns: 200 },
    );
  });

  it('is null until the 63-return window is full, then defined; a flat window has a null Sharpe and zero volatility', () => {
    const r = Array.from({ length: 100 }, (_, i) => 0.01 * Math.sin(i));
    const s = rollingSharpe(r, 63);
    const v = rollingVolatility(r, 63);
    expect(s.slice(0, 62).every((x) => x === null)).toBe(true);
    expect(s.slice(62).every((x) => x !== null)).toBe(true);
    expect(v[62]).toBeCloseTo(brute(r, 63, 0).vol[62] as number, 12);
    const flat = new Array(70).fill(0.001);
    expect(rollingSharpe(flat, 63)[69]).toBeNull();
    expect(rollingVolatility(flat, 63)[69]).toBeCloseTo(0, 12);
    expect(rollingSharpe([NaN, ...r], 63)[62]).toBeNull();
    expect(() => rollingSharpe(r, 1)).toThrow(/window/);
  });
});
