import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prices } from '../../../test/engine/indicator-arbitraries.ts';
import { Highest, Lowest, RollingExtreme } from './rolling-extreme.ts';

describe('RollingExtreme (Highest, Lowest)', () => {
  it('max and min match a brute-force recomputation', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 30 }), (xs, n) => {
        const hi = new RollingExtreme(n, 'max');
        const lo = new RollingExtreme(n, 'min');
        const highest = new Highest(n);
        const lowest = new Lowest(n);
        xs.forEach((x, i) => {
          const h = hi.update(x);
          const l = lo.update(x);
          expect(highest.update(x)).toBe(h);
          expect(lowest.update(x)).toBe(l);
          if (i + 1 < n) return expect([h, l].every(Number.isNaN)).toBe(true);
          const w = xs.slice(i + 1 - n, i + 1);
          expect(h).toBe(Math.max(...w));
          expect(l).toBe(Math.min(...w));
        });
      }),
    );
  });
});
