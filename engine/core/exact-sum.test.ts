import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wide } from '../../test/engine/indicator-arbitraries.ts';
import { exactMean, exactSma, exactSum } from '../../test/reference/exact.ts';
import { ExactSum, RunningWindow, fsum } from './exact-sum.ts';

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

/** mean()'s fast path alone: the correctly rounded mean, or NaN where it leaves the decision to exactMean. */
const fastMean = (acc: ExactSum, n: number) => {
  const internals = acc as unknown as { fastMean(n: number): boolean; out: Float64Array };
  return internals.fastMean(n) ? internals.out[0] : NaN;
};

/** Prices in cents, as market data has them: their window means are often exactly half-way between two doubles. */
const cents = fc.array(
  fc.integer({ min: 1, max: 5_000_000 }).map((c) => c / 100),
  { minLength: 1, maxLength: 150 },
);

/** n - 1 copies of m and one m + j ulps (anywhere): a mean of m + j/n ulps, a tie whenever 2j/n is odd. */
const nearTie = fc
  .tuple(
    fc.double({ min: 1, max: 2, maxExcluded: true, noNaN: true }),
    fc.integer({ min: -900, max: 900 }),
    fc.integer({ min: 2, max: 40 }),
    fc.integer({ min: -100, max: 100 }),
    fc.boolean(),
    fc.nat(),
  )
  .map(([mant, e, n, j, neg, rot]) => {
    const m = (neg ? -1 : 1) * mant * 2 ** e;
    const xs = Array.from({ length: n }, () => m);
    xs[rot % n] = m + j * 2 ** (e - 52);
    return xs;
  });

describe('the mean without the scratch partials (fast path)', () => {
  it('is the exact mean or NaN (undecided) on wide, near-tie and cent windows, and mean() always is exact', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(wide, { minLength: 1, maxLength: 40 }), nearTie, cents), (xs) => {
        const acc = new ExactSum();
        xs.forEach((x) => acc.add(x));
        const want = exactMean(xs);
        const fast = fastMean(acc, xs.length);
        if (!Number.isNaN(fast)) expect(fast).toBe(want);
        expect(acc.mean(xs.length)).toBe(want);
        const out = new Float64Array(2);
        acc.meanAt(xs.length, out, 1);
        expect(out[1]).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('a sum that is one double (one partial) gives the division by n, the exact mean', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { minLength: 2, maxLength: 40 }), fc.integer({ min: -60, max: 60 }), (ks, e) => {
        const xs = ks.map((k) => k * 2 ** e); // a sum of these is exact: a single partial
        const acc = new ExactSum();
        xs.forEach((x) => acc.add(x));
        const want = exactMean(xs);
        expect(acc.mean(xs.length)).toBe(want);
        const fast = fastMean(acc, xs.length);
        if (acc.n === 1) expect(fast).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });

  it('decides ties exactly (half to even) and nearly every window of prices', () => {
    // 1 + 2^-53 is half-way between 1 and 1 + 2^-52: to even; 1 + 3 * 2^-53 between 1 + 2^-52 and 1 + 2^-51
    const tie = new ExactSum();
    [1, 1 + 2 ** -52].forEach((x) => tie.add(x));
    expect(fastMean(tie, 2)).toBe(1);
    tie.reset();
    [1 + 2 ** -52, 1 + 2 ** -51].forEach((x) => tie.add(x));
    expect(fastMean(tie, 2)).toBe(1 + 2 ** -51);
    let decided = 0;
    let windows = 0;
    fc.assert(
      fc.property(cents, fc.integer({ min: 2, max: 40 }), (xs, n) => {
        const w = new RunningWindow(n);
        const acc = new ExactSum();
        const want = exactSma(xs, n);
        xs.forEach((x, t) => {
          if (!w.push(x)) return;
          expect(w.mean()).toBe(want[t]);
          acc.reset();
          for (let i = t - n + 1; i <= t; i++) acc.add(xs[i]);
          windows++;
          if (fastMean(acc, n) === want[t]) decided++;
        });
      }),
      { numRuns: 300 },
    );
    expect(decided / windows).toBeGreaterThan(0.99);
  });

  it('a running window over wide values with cancellations agrees with the exact mean of every window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(wide, fc.constantFrom(1e300, -1e300, 2 ** -900, 1e16, -1e16)), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 30 }),
        (xs, n) => {
          const w = new RunningWindow(n);
          const want = exactSma(xs, n);
          xs.forEach((x, t) => {
            if (w.push(x)) expect(w.mean()).toBe(want[t]);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
