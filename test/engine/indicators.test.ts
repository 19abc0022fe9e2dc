import fc from 'fast-check';
import { ATR as TiATR, EMA as TiEMA, RSI as TiRSI, SMA as TiSMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { ExactSum, fsum } from '../../engine/core/exact-sum.ts';
import { ATR, EMA, RSI, RollingExtreme, RollingStd, SMA } from '../../engine/core/indicators.ts';
import { exactMean, exactSma, exactSum } from '../reference/exact.ts';

const prices = fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 200 });

/** Our streaming values where warm, aligned with a batch result that starts at the first warm bar. */
function streamed(xs: number[], update: (x: number, i: number) => number): number[] {
  return xs.map(update).filter((v) => !Number.isNaN(v));
}

describe('streaming indicators agree with technicalindicators (batch) on random series', () => {
  it('SMA', () => {
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

  it('EMA', () => {
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

  it('RSI (Wilder)', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 20 }), (xs, n) => {
        const r = new RSI(n);
        const ours = streamed(xs, (x) => r.update(x));
        const ref = TiRSI.calculate({ period: n, values: xs });
        expect(ours.length).toBe(ref.length);
        // technicalindicators rounds RSI to 2 decimals
        ours.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(0.0051));
      }),
    );
  });

  it('ATR (Wilder)', () => {
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
});

describe('rolling windows match a brute-force recomputation', () => {
  it('max, min and sample std', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 2, max: 30 }), (xs, n) => {
        const hi = new RollingExtreme(n, 'max');
        const lo = new RollingExtreme(n, 'min');
        const sd = new RollingStd(n);
        xs.forEach((x, i) => {
          const h = hi.update(x);
          const l = lo.update(x);
          const d = sd.update(x);
          if (i + 1 < n) return expect([h, l, d].every(Number.isNaN)).toBe(true);
          const w = xs.slice(i + 1 - n, i + 1);
          const m = w.reduce((a, b) => a + b, 0) / n;
          expect(h).toBe(Math.max(...w));
          expect(l).toBe(Math.min(...w));
          expect(d).toBeCloseTo(Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)), 8);
        });
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
});

/**
 * Doubles whose magnitudes span most of the normal range (2^-900 .. 2^996), mixed with adversarial constants
 * that cancel (1e16, 1, -1e16, 2^53, ...). A window of up to 40 of them cannot overflow, and a nonzero sum
 * or mean of them stays a normal number (the BigInt reference refuses subnormal results).
 */
const wide = fc.oneof(
  fc
    .tuple(fc.double({ min: 1, max: 2, maxExcluded: true, noNaN: true }), fc.integer({ min: -900, max: 996 }), fc.boolean())
    .map(([m, e, neg]) => (neg ? -1 : 1) * m * 2 ** e),
  fc.constantFrom(1e16, -1e16, 1, -1, 0.1, 0.2, 0.3, 2 ** 53, -(2 ** 53), 1e-16, 1e300, -1e300, 0),
  fc.double({ min: 1, max: 500, noNaN: true }),
);

describe('windowed sums are exactly rounded (math.fsum) and the SMA is the true window mean rounded once', () => {
  it('known cases: cancellation and one-ulp artefacts of plain summation', () => {
    expect(fsum([1e16, 1, -1e16])).toBe(1); // plain: 0
    expect(fsum([0.1, 0.2, 0.3])).toBe(0.6); // plain: 0.6000000000000001
    expect(fsum([1, 1e100, 1, -1e100])).toBe(2); // plain: 0
    expect(fsum([1e308, 1e308, -1e308])).toBe(Infinity); // an intermediate overflows: plain sum
    expect(fsum([1, NaN])).toBeNaN();
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

  it('the mean is the true mean rounded once, ties to even', () => {
    const mean = (xs: number[]) => {
      const acc = new ExactSum();
      xs.forEach((x) => acc.add(x));
      return acc.mean(xs.length);
    };
    expect(mean([1, 1 + 2 ** -52])).toBe(1); // 1 + 2^-53 exactly: a tie, to even
    expect(mean([1 + 2 ** -52, 1 + 2 ** -51])).toBe(1 + 2 ** -51); // 1 + 3 * 2^-53: a tie, to even
    expect(mean([1e16, 1, -1e16])).toBe(1 / 3);
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
    const sd = new RollingStd(3);
    const xs = [1, 2, NaN, 3, 4, 5, Infinity, 0.1, 0.2, 0.3, 1e308, 1e308, 1, 2, 3];
    const got = xs.map((x) => [s.update(x), sd.update(x)]);
    expect(got.map(([m]) => m)).toEqual([
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
    expect(got.at(-1)?.[1]).toBe(1);
    expect(got[5][1]).toBe(1);
  });

  it('RollingStd: the mean and the sum of squared deviations are exactly rounded sums', () => {
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

  it('EMA and ATR seeds are the true means of their first windows, rounded once', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 60 }), fc.integer({ min: 2, max: 25 }), (xs, n) => {
        const e = new EMA(n);
        xs.slice(0, n).forEach((x) => e.update(x));
        expect(e.value).toBe(exactMean(xs.slice(0, n)));
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
