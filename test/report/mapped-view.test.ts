// A backtest report's orders, fills and risk events are views of the engine's lists (mappedView): every way
// the report writers read them must see exactly the converted list.
import { describe, expect, it } from 'vitest';
import { mappedView } from '../../engine/run/backtest-report.ts';

const source = Array.from({ length: 700 }, (_, i) => ({ id: i, ts: i * 1000 }));
const map = (x: { id: number; ts: number }) => ({ n: x.id, t: new Date(x.ts).toISOString() });
const converted = source.map(map);

describe('mappedView', () => {
  it('reads as the converted array: indexing, length, slices, iteration, spread, JSON', () => {
    const v = mappedView(source, map);
    expect(Array.isArray(v)).toBe(true);
    expect(v.length).toBe(700);
    expect(v[0]).toEqual(converted[0]);
    expect(v[699]).toEqual(converted[699]);
    expect(v[700]).toBeUndefined();
    for (const [a, b] of [
      [0, 256],
      [512, 768],
      [-5, undefined],
      [650, -10],
      [undefined, undefined],
      [800, 900],
    ] as const)
      expect(v.slice(a, b)).toEqual(converted.slice(a, b));
    expect([...v]).toEqual(converted);
    const seen: unknown[] = [];
    for (const x of v) seen.push(x);
    expect(seen).toEqual(converted);
    expect(v.map((x) => x.n)).toEqual(converted.map((x) => x.n));
    expect(JSON.stringify(v, null, 2)).toBe(JSON.stringify(converted, null, 2));
  });

  it('keeps holes as holes (null in JSON), in slices and iteration too', () => {
    const holey: { id: number; ts: number }[] = [];
    holey[0] = source[0];
    holey[2] = source[2];
    const v = mappedView(holey, map);
    expect(JSON.stringify(v.slice(0))).toBe(JSON.stringify(holey.map(map)));
    expect([...v]).toEqual([converted[0], undefined, converted[2]]);
  });

  it('is read-only', () => {
    const v = mappedView(source, map);
    expect(() => {
      v[0] = converted[1];
    }).toThrow(TypeError);
  });
});
