import fc from 'fast-check';
import { RSI as TiRSI } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { prices, streamed } from '../../../test/engine/indicator-arbitraries.ts';
import { RSI } from './rsi.ts';

describe('RSI (Wilder)', () => {
  it('agrees with technicalindicators (batch) on random series', () => {
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
});
