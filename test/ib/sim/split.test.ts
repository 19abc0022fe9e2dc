import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../../engine/core/types.ts';
import { fillPrice } from '../../../engine/exec/fill-model.ts';
import { aggregateBars, splitBar, type OHLCV } from '../../../engine/ib/sim/split.ts';

/** A consistent bar: low <= open, close <= high; prices on a cent grid or arbitrary doubles (adjusted data). */
const barArb = (cents: boolean): fc.Arbitrary<OHLCV> =>
  fc
    .record({
      low: cents ? fc.integer({ min: 1, max: 500_000 }).map((c) => c / 100) : fc.double({ min: 0.01, max: 5000, noNaN: true }),
      range: cents ? fc.integer({ min: 0, max: 5_000 }).map((c) => c / 100) : fc.double({ min: 0, max: 100, noNaN: true }),
      fo: fc.double({ min: 0, max: 1, noNaN: true }),
      fc: fc.double({ min: 0, max: 1, noNaN: true }),
      volume: fc.oneof(fc.nat({ max: 2_000_000_000 }), fc.double({ min: 0, max: 1e9, noNaN: true })),
    })
    .map(({ low, range, fo, fc: fcl, volume }) => {
      const high = low + range;
      const snap = (x: number) => (cents ? Math.min(Math.max(Math.round(x * 100) / 100, low), high) : x);
      return { open: snap(low + range * fo), high, low, close: snap(low + range * fcl), volume };
    });

const partsArb = fc.oneof(fc.constant(12), fc.integer({ min: 1, max: 64 }));

describe('splitBar', () => {
  it('follows O -> nearer extreme -> other extreme -> C with the extremes on sub-bar boundaries', () => {
    const subs = splitBar({ open: 10, high: 12, low: 9, close: 11, volume: 1200 }, 12);
    expect(subs).toHaveLength(12);
    const path = [subs[0].open, ...subs.map((s) => s.close)];
    const iLow = path.indexOf(9);
    const iHigh = path.indexOf(12);
    expect(iLow).toBeGreaterThan(0);
    expect(iHigh).toBeGreaterThan(iLow);
    expect(path[12]).toBe(11);
    expect(subs.every((s) => s.volume === 100)).toBe(true);
    expect(aggregateBars(subs)).toEqual({ open: 10, high: 12, low: 9, close: 11, volume: 1200 });
  });

  it('leaves a bar whole with one part, and splits a flat bar into flat bars', () => {
    expect(splitBar({ open: 1, high: 2, low: 0.5, close: 1.5, volume: 7 }, 1)).toEqual([{ open: 1, high: 2, low: 0.5, close: 1.5, volume: 7 }]);
    const flat = splitBar({ open: 5, high: 5, low: 5, close: 5, volume: 13 }, 12);
    expect(flat.every((s) => s.open === 5 && s.high === 5 && s.low === 5 && s.close === 5)).toBe(true);
    expect(flat.reduce((a, s) => a + s.volume, 0)).toBe(13);
  });

  for (const cents of [true, false]) {
    it(`aggregates back to the stored bar bit for bit (${cents ? 'cent prices' : 'arbitrary doubles'})`, () => {
      fc.assert(
        fc.property(barArb(cents), partsArb, (bar, parts) => {
          const subs = splitBar(bar, parts);
          expect(subs).toHaveLength(Math.max(1, parts));
          const agg = aggregateBars(subs);
          expect(Object.is(agg.open, bar.open)).toBe(true);
          expect(Object.is(agg.high, bar.high)).toBe(true);
          expect(Object.is(agg.low, bar.low)).toBe(true);
          expect(Object.is(agg.close, bar.close)).toBe(true);
          expect(Object.is(agg.volume, bar.volume)).toBe(true);
        }),
        { numRuns: 2_000 },
      );
    });
  }

  it('makes a continuous path of consistent sub-bars with whole volumes', () => {
    fc.assert(
      fc.property(barArb(true), partsArb, (bar, parts) => {
        const subs = splitBar(bar, parts);
        subs.forEach((s, k) => {
          if (k > 0) expect(s.open).toBe(subs[k - 1].close);
          expect(s.low).toBeLessThanOrEqual(Math.min(s.open, s.close));
          expect(s.high).toBeGreaterThanOrEqual(Math.max(s.open, s.close));
          expect(s.low).toBeGreaterThanOrEqual(bar.low);
          expect(s.high).toBeLessThanOrEqual(bar.high);
          if (Number.isInteger(bar.volume)) expect(Number.isInteger(s.volume) && s.volume >= 0).toBe(true);
        });
      }),
      { numRuns: 2_000 },
    );
  });

  // the reason for a continuous path: limit and stop orders fill on the sub-bars at the price they
  // fill at on the stored bar, so a live run against the simulator matches the backtest
  it('fills limit and stop orders on the sub-bars exactly as on the stored bar', () => {
    const order = (side: 'BUY' | 'SELL', type: 'LMT' | 'STP', price: number): Order =>
      ({ side, type, limit: price, stop: price, triggered: false }) as Order;
    fc.assert(
      fc.property(barArb(true), fc.double({ min: -0.2, max: 1.2, noNaN: true }), fc.constantFrom('BUY', 'SELL'), fc.constantFrom('LMT', 'STP'), (bar, f, side, type) => {
        const price = Math.round((bar.low + (bar.high - bar.low) * f) * 100) / 100;
        const onBar = fillPrice(order(side as 'BUY' | 'SELL', type as 'LMT' | 'STP', price), bar, false, false);
        let onSubs = NaN;
        for (const s of splitBar(bar, 12)) {
          onSubs = fillPrice(order(side as 'BUY' | 'SELL', type as 'LMT' | 'STP', price), s, false, false);
          if (!Number.isNaN(onSubs)) break;
        }
        expect(Object.is(onSubs, onBar)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });
});
