import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wide } from '../../test/engine/indicator-arbitraries.ts';
import { exactMean, exactSum } from '../../test/reference/exact.ts';
import { ExactSum, fsum } from './exact-sum.ts';

describe('windowed sums are exactly rounded (math.fsum)', () => {
  it('known cases: cancellation and one-ulp artefacts of plain summation', () => {
    expect(fsum([1e16, 1, -1e16])).toBe(1); // plain: 0
    expect(fsum([0.1, 0.2, 0.3])).toBe(0.6); // plain: 0.6000000000000001
    expect(fsum([1, 1e100, 1, -1e100])).toBe(2); // plain: 0
    expect(fsum([1e308, 1e308, -1e308])).toBe(Infinity); // an intermediate overflows: plain sum
    expect(fsum([1, NaN])).toBeNaN();
  });

  it('the mean is the true mean rounded once, ties to even', () => {
    const mean = (xs: number[]) => {
      const acc = new ExactSum();
      xs.forEach((x) => acc.add(x));
      return acc.mean(xs.length);
    };
    expect(mean([1, 1 + 2 ** -52])).toBe(1); // 1 + 2^-53 exactly: a tie, to even
    expect(mean([1 + 2 ** -52, 1 + 2 ** -51])).toBe(1 + 2 ** -51); // 1 + 3 * 2^-53: a tie, to even
    expect(mean([1e16, 1, -1e16])).toBe(1 / 3);
    // a mean above 2^996 (found by the SMA property test in CI): round(round(sum) / 3) is one ulp off
    const big = [-1.1155135185260747e300, -1e300, -9007199254740992];
    expect(mean(big)).toBe(exactMean(big));
    expect(mean(big)).not.toBe(fsum(big) / 3);
    fc.assert(
      fc.property(fc.array(wide, { minLength: 1, maxLength: 40 }), (xs) => {
        expect(mean(xs)).toBe(exactMean(xs));
      }),
      { numRuns: 1000 },
    );
  });

  it('half-way cases round to even, as Python math.fsum', () => {
    // 1 + 2^-53 is half-way between 1 and 1 + 2^-52: ties to even gives 1; a tiny extra term breaks the tie upwards
    expect(fsum([1, 2 ** -53])).toBe(1);
    expect(fsum([1, 2 ** -53, 2 ** -80])).toBe(1 + 2 ** -52);
    expect(fsum([1, 2 ** -53, -(2 ** -80)])).toBe(1);
    expect(fsum([1 + 2 ** -52, 2 ** -53])).toBe(1 + 2 ** -51);
    expect(fsum([1 + 2 ** -52, 2 ** -53, -(2 ** -80)])).toBe(1 + 2 ** -52);
  });

  it('fsum equals an independent exact BigInt sum rounded once, for any order', () => {
    fc.assert(
      fc.property(fc.array(wide, { minLength: 0, maxLength: 40 }), (xs) => {
        const want = exactSum(xs);
        expect(fsum(xs)).toBe(want);
        expect(fsum([...xs].reverse())).toBe(want);
        const acc = new ExactSum();
        xs.forEach((x) => acc.add(x));
        expect(acc.value()).toBe(want);
      }),
      { numRuns: 500 },
    );
  });
});
