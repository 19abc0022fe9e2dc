import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erfc, normCdf, normPdf } from '../../engine/options/normal.ts';

const relErr = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

// Reference values computed independently with mpmath at 30 significant digits (mpmath.ncdf, mpmath.erfc),
// rounded to 17 digits.
const CDF: [number, number][] = [
  [-30, 4.906713927148187e-198],
  [-20, 2.7536241186062337e-89],
  [-10, 7.619853024160525e-24],
  [-8.5, 9.479534822203318e-18],
  [-5, 2.866515718791939e-7],
  [-3, 0.0013498980316300946],
  [-1.96, 0.024997895148220435],
  [-1, 0.15865525393145705],
  [-0.5, 0.3085375387259869],
  [-0.1, 0.460172162722971],
  [0, 0.5],
  [0.3, 0.6179114221889527],
  [0.7, 0.758036347776927],
  [1, 0.8413447460685429],
  [2.5, 0.9937903346742238],
  [5, 0.9999997133484281],
  [8, 0.9999999999999993],
];
const ERFC: [number, number][] = [
  [-3, 1.9999779095030015],
  [-0.5, 1.5204998778130465],
  [0.2, 0.7772974107895215],
  [0.46875, 0.507386526782062], // the edge of Cody's first interval
  [0.5, 0.4795001221869535],
  [1, 0.15729920705028513],
  [3.9, 3.4792248597231765e-8], // either side of the edge at 4
  [4.1, 6.700027654084918e-9],
  [10, 2.088487583762545e-45],
  [26, 5.663192408856143e-296],
];

describe('erfc (Cody 1969)', () => {
  it.each(ERFC)('erfc(%d) to 2e-15 relative', (x, want) => {
    expect(relErr(erfc(x), want)).toBeLessThan(2e-15);
  });
  it('underflows to 0 past 26.55 and is NaN for NaN', () => {
    expect(erfc(27)).toBe(0);
    expect(erfc(Number.POSITIVE_INFINITY)).toBe(0);
    expect(erfc(Number.NEGATIVE_INFINITY)).toBe(2);
    expect(erfc(Number.NaN)).toBeNaN();
  });
});

describe('normCdf', () => {
  // relative in both tails: the far lower tail loses a few ulps to rounding x/sqrt(2) (relative error ~ x^2 * 1e-16)
  it.each(CDF)('normCdf(%d) relative to its value', (x, want) => {
    expect(relErr(normCdf(x), want)).toBeLessThan(Math.abs(x) > 8 ? 1e-13 : 2e-15);
  });
  it('N(x) + N(-x) = 1 and N rises with x', () => {
    fc.assert(
      fc.property(fc.double({ min: -12, max: 12, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }), (x, h) => {
        expect(Math.abs(normCdf(x) + normCdf(-x) - 1)).toBeLessThan(2e-16 * 4);
        expect(normCdf(x + h)).toBeGreaterThanOrEqual(normCdf(x));
      }),
    );
  });
  it('normPdf is the derivative of normCdf (central differences)', () => {
    for (const x of [-4, -1.3, 0, 0.8, 2.2]) {
      const h = 1e-5;
      expect(relErr((normCdf(x + h) - normCdf(x - h)) / (2 * h), normPdf(x))).toBeLessThan(1e-8);
    }
    expect(normPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 16);
  });
});
