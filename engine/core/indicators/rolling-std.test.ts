import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prices } from '../../../test/engine/indicator-arbitraries.ts';
import { exactMean, exactSum } from '../../../test/reference/exact.ts';
import { RollingStd } from './rolling-std.ts';

describe('RollingStd', () => {
  it('sample std matches a brute-force recomputation', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 30 }), (xs, n) => {
        const sd = new RollingStd(n);
        xs.forEach((x, i) => {
          const d = sd.update(x);
          if (i + 1 < n) return expect([d].every(Number.isNaN)).toBe(true);
          const w = xs.slice(i + 1 - n, i + 1);
          const m = w.reduce((a, b) => a + b, 0) / n;
          expect(d).toBeCloseTo(Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)), 8);
        });
      }),
    );
  });

  it('a non-finite value gives NaN/Infinity while in the window, then exact values again', () => {
    const sd = new RollingStd(3);
    const xs = [1, 2, NaN, 3, 4, 5, Infinity, 0.1, 0.2, 0.3, 1e308, 1e308, 1, 2, 3];
    const got = xs.map((x) => sd.update(x));
    expect(got.at(-1)).toBe(1);
    expect(got[5]).toBe(1);
  });

  it('the mean and the sum of squared deviations are exactly rounded sums', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 1, max: 500, noNaN: true }), fc.constantFrom(1e8, 1e-8, 0.1, 0.2, 0.3)), { minLength: 2, maxLength: 80 }),
        fc.integer({ min: 2, max: 30 }),
        (xs, n) => {
          const sd = new RollingStd(n);
          xs.forEach((x, i) => {
            const d = sd.update(x);
            if (i + 1 < n) return expect(d).toBeNaN();
            const w = xs.slice(i + 1 - n, i + 1);
            const m = exactMean(w);
            expect(d).toBe(Math.sqrt(exactSum(w.map((v) => (v - m) * (v - m))) / (n - 1)));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
