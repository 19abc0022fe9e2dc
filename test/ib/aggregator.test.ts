import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BarAggregator } from '../../engine/ib/aggregator.ts';

const MIN = 60_000;

/** 12 five-second sub-bars whose aggregate is exactly the minute bar: O -> H -> L -> C along the boundaries. */
function split(o: number, h: number, l: number, c: number, v: number): number[][] {
  const path = [o, ...Array(3).fill(o), h, ...Array(3).fill(h), l, ...Array(3).fill(l), c];
  return Array.from({ length: 12 }, (_, k) => {
    const a = path[k];
    const b = path[k + 1];
    const vol = k < 11 ? Math.floor(v / 12) : v - 11 * Math.floor(v / 12);
    return [a, Math.max(a, b), Math.min(a, b), b, vol];
  });
}

const minuteBar = fc.record({
  o: fc.integer({ min: 100, max: 200 }),
  up: fc.integer({ min: 0, max: 5 }),
  dn: fc.integer({ min: 0, max: 5 }),
  dc: fc.integer({ min: -5, max: 5 }),
  v: fc.integer({ min: 0, max: 10_000 }),
  present: fc.boolean(),
});

describe('BarAggregator: 5-second bars back into minute bars', () => {
  it('gives back every stored minute bar exactly, grouped by time in symbol order, with gaps', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(minuteBar, minuteBar), { minLength: 1, maxLength: 30 }), (minutes) => {
        const agg = new BarAggregator(['A', 'B'], MIN);
        const got: string[] = [];
        const want: string[] = [];
        const t0 = Date.UTC(2013, 9, 7, 13, 30);
        const emit = (ts: number, bars: readonly { symbol: string; open: number; high: number; low: number; close: number; volume: number }[]) => {
          got.push(`${ts}:${bars.map((b) => `${b.symbol}/${b.open}/${b.high}/${b.low}/${b.close}/${b.volume}`).join(',')}`);
        };
        minutes.forEach((pair, m) => {
          const ts = t0 + m * MIN;
          const parts: string[] = [];
          pair.forEach((x, sid) => {
            if (!x.present) return;
            const c = x.o + x.dc;
            const h = Math.max(x.o, c) + x.up;
            const l = Math.min(x.o, c) - x.dn;
            parts.push(`${sid === 0 ? 'A' : 'B'}/${x.o}/${h}/${l}/${c}/${x.v}`);
            split(x.o, h, l, c, x.v).forEach((b, k) => agg.add(sid, ts + k * 5000, b[0], b[1], b[2], b[3], b[4]));
          });
          if (parts.length) want.push(`${ts}:${parts.join(',')}`);
          agg.flush(ts + MIN, emit); // the batch marker: everything before the next minute has arrived
        });
        expect(got).toEqual(want);
      }),
    );
  });

  it('without time knowledge, a group waits until every symbol has finished or moved past it', () => {
    const agg = new BarAggregator(['A', 'B'], MIN);
    const seen: number[] = [];
    const t = Date.UTC(2020, 0, 2, 15, 0);
    for (let k = 0; k < 12; k++) agg.add(0, t + k * 5000, 1, 1, 1, 1, 1);
    agg.flush(-Infinity, (ts) => seen.push(ts));
    expect(seen).toEqual([]); // B has said nothing yet
    agg.add(1, t + MIN, 2, 2, 2, 2, 1); // B's first bar is in the next minute: it had none at t
    agg.flush(-Infinity, (ts, bars) => seen.push(ts, bars.length));
    expect(seen).toEqual([t, 1]);
  });

  it('never emits a partial bar: one that began mid-bar, lost sub-bars, or was cut off', () => {
    const partial: string[] = [];
    const agg = new BarAggregator(['A'], MIN, 5000, undefined, (p) => partial.push(`${(p.ts - t) / MIN}:${(p.first - p.ts) / 1000}-${(p.last - p.ts) / 1000}`));
    const t = Date.UTC(2020, 0, 2, 15, 0);
    const got: number[] = [];
    const sub = (m: number, k: number) => agg.add(0, t + m * MIN + k * 5000, 1, 1, 1, 1, 1);
    for (let k = 7; k < 12; k++) sub(0, k); // minute 0: subscribed at :35
    for (let k = 0; k < 12; k++) if (k !== 4) sub(1, k); // minute 1: the :20 sub-bar was lost
    for (let k = 0; k < 6; k++) sub(2, k); // minute 2: cut off at :30 ...
    for (let k = 0; k < 12; k++) sub(3, k); // ... minute 3 is whole
    for (let k = 0; k < 3; k++) sub(4, k); // minute 4: the stream ends mid-bar
    agg.flush(t + 5 * MIN, (ts) => got.push((ts - t) / MIN));
    expect(got).toEqual([3]);
    expect(partial).toEqual(['0:35-60', '1:0-60', '2:0-30', '4:0-15']);
  });
});
