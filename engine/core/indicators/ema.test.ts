import fc from 'fast-check';
import { EMA as TiEMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { prices, streamed } from '../../../test/engine/indicator-arbitraries.ts';
import { exactMean } from '../../../test/reference/exact.ts';
import { EMA } from './ema.ts';

describe('EMA', () => {
  it('agrees with technicalindicators (batch) on random series', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 25 }), (xs, n) => {
        const e = new EMA(n);
        const ours = streamed(xs, (x) => e.update(x));
        const ref = TiEMA.calculate({ period: n, values: xs });
        expect(ours.length).toBe(ref.length);
        ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
      }),
    );
  });

  it('the seed is the true mean of the first window, rounded once', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 60 }), fc.integer({ min: 2, max: 25 }), (xs, n) => {
        const e = new EMA(n);
        xs.slice(0, n).forEach((x) => e.update(x));
        expect(e.value).toBe(exactMean(xs.slice(0, n)));
      }),
      { numRuns: 200 },
    );
  });
});
