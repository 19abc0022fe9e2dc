import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prices } from '../../../test/engine/indicator-arbitraries.ts';
import { ATR, EMA, Highest, type Indicator, Lowest, RollingStd, RSI, SMA } from './index.ts';

/** Every indicator, fed a price series (ATR a bar around each price). */
const all: [string, (n: number) => { ind: Indicator<number[]>; feed: (x: number) => number }][] = [
  ['SMA', (n) => price(new SMA(n))],
  ['EMA', (n) => price(new EMA(n))],
  ['RSI', (n) => price(new RSI(n))],
  ['Highest', (n) => price(new Highest(n))],
  ['Lowest', (n) => price(new Lowest(n))],
  ['RollingStd', (n) => price(new RollingStd(n))],
  [
    'ATR',
    (n) => {
      const a = new ATR(n);
      return { ind: a as Indicator<number[]>, feed: (x: number) => a.update(x * 1.01, x * 0.99, x) };
    },
  ],
];
function price(ind: Indicator) {
  return { ind: ind as Indicator<number[]>, feed: (x: number) => ind.update(x) };
}

describe('every indicator implements Indicator: value, previous, isReady', () => {
  for (const [name, make] of all) {
    it(`${name}: NaN exactly until isReady (finite inputs); previous is the value before the last update`, () => {
      fc.assert(
        fc.property(prices, fc.integer({ min: 2, max: 25 }), (xs, n) => {
          const { ind, feed } = make(n);
          expect(ind.period).toBe(n);
          expect(ind.isReady).toBe(false);
          expect(ind.value).toBeNaN();
          expect(ind.previous).toBeNaN();
          let before = Number.NaN;
          for (const x of xs) {
            const v = feed(x);
            expect(ind.value).toBe(v);
            expect(ind.previous).toBe(before);
            expect(ind.isReady).toBe(!Number.isNaN(v));
            before = v;
          }
        }),
        { numRuns: 50 },
      );
    });
  }

  it('refuses a period that is not a whole number, naming the indicator', () => {
    expect(() => new SMA(0)).toThrow('SMA period must be a whole number >= 1, got 0');
    expect(() => new EMA(2.5)).toThrow('EMA period must be a whole number >= 1, got 2.5');
    expect(() => new RollingStd(1)).toThrow('std window must be a whole number >= 2, got 1');
    expect(() => new Highest(-1)).toThrow('window must be a whole number >= 1, got -1');
  });
});
