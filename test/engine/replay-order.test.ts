import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EventQueue } from '../../engine/core/event-queue.ts';
import type { SlotSpec } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { config, DAY, T0 } from './harness.ts';

/** A symbol's bars on the given day offsets from T0 (duplicates dropped), close = 1, 2, 3, ... */
function seriesOn(symbol: string, days: number[]): BarSeries {
  const ts = Float64Array.from(
    [...new Set(days)].sort((a, b) => a - b),
    (d) => T0 + d * DAY,
  );
  const close = Float64Array.from(ts, (_, i) => i + 1);
  return { symbol, interval: '1d', ts, open: close, high: close, low: close, close, volume: close };
}

/** Replays each symbol's bars (on the given day offsets) through a probe: what it saw, and whether the heap merged. */
function replay(days: number[][]) {
  const symbols = days.map((_, i) => `S${i}`);
  const series = days.map((d, i) => seriesOn(symbols[i], d));
  const seen: number[][] = [];
  const counts: number[][] = [];
  const probe: SlotSpec = {
    name: 'probe',
    weight: 1,
    strategy: {
      onBar(ctx, bar) {
        seen.push([bar.ts, bar.sid, bar.close, ctx.now]);
        counts.push(symbols.map((_, s) => ctx.count(s)));
      },
    },
  };
  const push = vi.spyOn(EventQueue.prototype, 'push');
  try {
    const r = runBacktest(series, config({ strategy: 'probe', symbols }), [probe]);
    return { series, seen, counts, bars: r.bars, heap: push.mock.calls.length > 0 };
  } finally {
    push.mockRestore();
  }
}

/** The replay gives every bar by time then symbol, each instant as one group with all of its bars already in the history. */
function expectReplayOrder({ series, seen, counts, bars }: ReturnType<typeof replay>) {
  const want = series.flatMap((s, sid) => Array.from(s.ts, (ts, i) => [ts, sid, i + 1])).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  expect(seen.map(([ts, sid, close]) => [ts, sid, close])).toEqual(want);
  expect(bars).toBe(want.length);
  seen.forEach(([ts, , , now], k) => {
    // shown when the bar closes, with every bar of its instant already in the history (one group)
    expect(now).toBe(ts + DAY);
    expect(counts[k]).toEqual(series.map((s) => s.ts.filter((t) => t <= ts).length));
  });
}

describe('the replay feed', () => {
  it('gives bars in time order, each instant as one group of every symbol with a bar there, in run symbol order', () => {
    const days = fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(days, (days) => {
        const r = replay(days);
        expectReplayOrder(r);
        // few symbols: scanning them per instant costs a few steps per bar
        expect(r.heap).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps that order when few of many symbols have a bar at each instant (the merge goes over to a heap)', () => {
    const days = fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 2, maxLength: 5 }), { minLength: 100, maxLength: 140 });
    fc.assert(
      fc.property(days, (days) => {
        const r = replay(days);
        expectReplayOrder(r);
        expect(r.heap).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});
