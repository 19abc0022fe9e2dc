import fc from 'fast-check';
import { ATR as TiATR, EMA as TiEMA, RSI as TiRSI, SMA as TiSMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { ATR, EMA, RSI, RollingExtreme, RollingStd, SMA } from '../../engine/core/indicators.ts';

const prices = fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 200 });

/** Our streaming values where warm, aligned with a batch result that starts at the first warm bar. */
function streamed(xs: number[], update: (x: number, i: number) => number): number[] {
  return xs.map(update).filter((v) => !Number.isNaN(v));
}

describe('streaming indicators agree with technicalindicators (batch) on random series', () => {
  it('SMA', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 1, max: 25 }), (xs, n) => {
      const s = new SMA(n);
      const ours = streamed(xs, (x) => s.update(x));
      const ref = TiSMA.calculate({ period: n, values: xs });
      expect(ours.length).toBe(ref.length);
      ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
    }));
  });

  it('EMA', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 2, max: 25 }), (xs, n) => {
      const e = new EMA(n);
      const ours = streamed(xs, (x) => e.update(x));
      const ref = TiEMA.calculate({ period: n, values: xs });
      expect(ours.length).toBe(ref.length);
      ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
    }));
  });

  it('RSI (Wilder)', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 2, max: 20 }), (xs, n) => {
      const r = new RSI(n);
      const ours = streamed(xs, (x) => r.update(x));
      const ref = TiRSI.calculate({ period: n, values: xs });
      expect(ours.length).toBe(ref.length);
      // technicalindicators rounds RSI to 2 decimals
      ours.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(0.0051));
    }));
  });

  it('ATR (Wilder)', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 2, max: 20 }), (xs, n) => {
      const high = xs.map((x) => x * 1.01);
      const low = xs.map((x) => x * 0.99);
      const close = xs;
      const a = new ATR(n);
      const ours = streamed(xs, (_, i) => a.update(high[i], low[i], close[i]));
      const ref = TiATR.calculate({ period: n, high, low, close });
      expect(ours.length).toBe(ref.length);
      ours.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 8));
    }));
  });
});

describe('rolling windows match a brute-force recomputation', () => {
  it('max, min and sample std', () => {
    fc.assert(fc.property(prices, fc.integer({ min: 2, max: 30 }), (xs, n) => {
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
    }));
  });

  it('SMA of identical windows is bit-identical whatever came before (no running-sum drift)', () => {
    const a = new SMA(3);
    const b = new SMA(3);
    [1e9, 0.1, 0.2, 0.3].forEach((x) => a.update(x));
    [0.1, 0.2, 0.3].forEach((x) => b.update(x));
    expect(a.value).toBe(b.value);
  });
});
