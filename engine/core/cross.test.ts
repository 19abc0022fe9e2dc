import { describe, expect, it } from 'vitest';
import { crossedAbove, crossedBelow } from './cross.ts';
import { SMA } from './indicators/index.ts';

const pt = (previous: number, value: number) => ({ previous, value });

describe('crossedAbove / crossedBelow', () => {
  it('compare strictly: a[t-1] < b[t-1] and a[t] > b[t] (and the reverse)', () => {
    expect(crossedAbove(pt(1, 3), pt(2, 2))).toBe(true);
    expect(crossedBelow(pt(1, 3), pt(2, 2))).toBe(false);
    expect(crossedBelow(pt(3, 1), pt(2, 2))).toBe(true);
    expect(crossedAbove(pt(3, 1), pt(2, 2))).toBe(false);
    // touching is not crossing: equal before or after never signals
    expect(crossedAbove(pt(2, 3), pt(2, 2))).toBe(false);
    expect(crossedAbove(pt(1, 2), pt(2, 2))).toBe(false);
    expect(crossedBelow(pt(2, 1), pt(2, 2))).toBe(false);
    expect(crossedBelow(pt(3, 2), pt(2, 2))).toBe(false);
    // a warming-up series (NaN) never crosses
    expect(crossedAbove(pt(Number.NaN, 3), pt(2, 2))).toBe(false);
    expect(crossedBelow(pt(3, 1), pt(Number.NaN, 2))).toBe(false);
  });

  it('a constant level', () => {
    expect(crossedAbove(pt(29, 31), 30)).toBe(true);
    expect(crossedAbove(pt(30, 31), 30)).toBe(false);
    expect(crossedBelow(pt(31, 29), 30)).toBe(true);
    expect(crossedBelow(pt(31, 30), 30)).toBe(false);
  });

  it('on indicators: the same signals as comparing the values before and after each update', () => {
    const xs = [5, 4, 3, 4, 5, 6, 5, 4, 3, 3, 3, 4, 5, 5, 5, 4, 2, 6, 1, 7];
    const fast = new SMA(2);
    const slow = new SMA(4);
    const got: string[] = [];
    const want: string[] = [];
    xs.forEach((x, t) => {
      const pf = fast.value;
      const ps = slow.value;
      fast.update(x);
      slow.update(x);
      if (crossedAbove(fast, slow)) got.push(`up ${t}`);
      if (crossedBelow(fast, slow)) got.push(`down ${t}`);
      if (pf < ps && fast.value > slow.value) want.push(`up ${t}`);
      if (pf > ps && fast.value < slow.value) want.push(`down ${t}`);
    });
    expect(got).toEqual(want);
    expect(got.length).toBeGreaterThan(3);
  });
});
