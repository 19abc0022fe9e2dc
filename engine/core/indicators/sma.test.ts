import fc from 'fast-check';
import { SMA as TiSMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { prices, streamed, wide } from '../../../test/engine/indicator-arbitraries.ts';
import { exactMean, exactSma } from '../../../test/reference/exact.ts';
import { fsum } from '../exact-sum.ts';
import { SMA } from './sma.ts';

describe('SMA', () => {
  it('agrees with technicalindicators (batch) on random series', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 1, max: 25 }), (xs, n) => {
        const s = new SMA(n);
        const ours = streamed(xs, (x) => s.update(x));
        const ref = TiSMA.calculate({ period: n, values: xs });
        expect(ours.length).toBe(ref.length);
        ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
      }),
    );
  });

  it('SMA of identical windows is bit-identical whatever came before (no running-sum drift)', () => {
    const a = new SMA(3);
    const b = new SMA(3);
    [1e9, 0.1, 0.2, 0.3].forEach((x) => a.update(x));
    [0.1, 0.2, 0.3].forEach((x) => b.update(x));
    expect(a.value).toBe(b.value);
  });

  it('known cases: the true mean rounded once, where plain summation is one ulp off', () => {
    const s = new SMA(3);
    [1e16, 1, -1e16].forEach((x) => s.update(x));
    expect(s.value).toBe(1 / 3);
    const a = new SMA(3);
    const b = new SMA(1);
    [0.1, 0.2, 0.3].forEach((x) => a.update(x));
    b.update(0.2);
    // the true mean of the doubles 0.1, 0.2, 0.3 rounds to 0.2: plain summation gives 0.20000000000000004,
    // and even fsum/3 gives 0.19999999999999998 (two roundings)
    expect(a.value).toBe(0.2);
    expect(a.value).toBe(b.value);
    expect(fsum([0.1, 0.2, 0.3]) / 3).toBe(0.19999999999999998);
  });

  it('SMA equals the true window mean (exact BigInt sum / period) rounded once, on wide and adversarial values', () => {
    fc.assert(
      fc.property(fc.array(wide, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 30 }), (xs, n) => {
        const s = new SMA(n);
        const want = exactSma(xs, n);
        xs.forEach((x, t) => expect(s.update(x)).toBe(want[t]));
      }),
      { numRuns: 300 },
    );
  });

  it('updateAt (the value by index, nothing returned) is update', () => {
    fc.assert(
      fc.property(fc.array(wide, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (xs, n) => {
        const a = new SMA(n);
        const b = new SMA(n);
        const src = Float64Array.from(xs);
        xs.forEach((x, t) => {
          a.update(x);
          b.updateAt(src, t);
          expect(b.value).toBe(a.value);
          expect(b.previous).toBe(a.previous);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('the running exact sum does not depend on history: a long prefix, then the same window, gives the same bits', () => {
    fc.assert(
      fc.property(
        fc.array(wide, { minLength: 0, maxLength: 300 }),
        fc.array(wide, { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (prefix, w, n) => {
          const a = new SMA(n);
          const b = new SMA(n);
          prefix.forEach((x) => a.update(x));
          w.forEach((x) => {
            a.update(x);
            b.update(x);
          });
          expect(a.value).toBe(b.value);
          expect(a.value).toBe(exactMean(w.slice(30 - n)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a non-finite value gives NaN/Infinity while in the window, then exact values again', () => {
    const s = new SMA(3);
    const xs = [1, 2, NaN, 3, 4, 5, Infinity, 0.1, 0.2, 0.3, 1e308, 1e308, 1, 2, 3];
    expect(xs.map((x) => s.update(x))).toEqual([
      NaN,
      NaN,
      NaN,
      NaN,
      NaN,
      4,
      Infinity,
      Infinity,
      Infinity,
      0.2,
      (0.2 + 0.3 + 1e308) / 3,
      Infinity,
      Infinity,
      (1e308 + 1 + 2) / 3,
      2,
    ]);
  });
});
