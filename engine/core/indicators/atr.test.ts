import fc from 'fast-check';
import { ATR as TiATR } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { prices, streamed } from '../../../test/engine/indicator-arbitraries.ts';
import { exactMean } from '../../../test/reference/exact.ts';
import { ATR } from './atr.ts';

describe('ATR (Wilder)', () => {
  it('agrees with technicalindicators (batch) on random series', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 20 }), (xs, n) => {
        const high = xs.map((x) => x * 1.01);
        const low = xs.map((x) => x * 0.99);
        const close = xs;
        const a = new ATR(n);
        const ours = streamed(xs, (_, i) => a.update(high[i], low[i], close[i]));
        const ref = TiATR.calculate({ period: n, high, low, close });
        expect(ours.length).toBe(ref.length);
        ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
      }),
    );
  });

  it('the seed is the true mean of the first `period` true ranges, rounded once', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 60 }), fc.integer({ min: 2, max: 25 }), (xs, n) => {
        const a = new ATR(n);
        const trs: number[] = [];
        xs.slice(0, n + 1).forEach((x, i) => {
          a.update(x * 1.01, x * 0.99, x);
          if (i > 0) trs.push(Math.max(x * 1.01 - x * 0.99, Math.abs(x * 1.01 - xs[i - 1]), Math.abs(x * 0.99 - xs[i - 1])));
        });
        expect(a.value).toBe(exactMean(trs));
      }),
      { numRuns: 200 },
    );
  });
});
