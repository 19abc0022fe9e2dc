import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ATR as TiATR, BollingerBands as TiBB, MACD as TiMACD, RSI as TiRSI } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import type { Bar, BarSeries } from '../../engine/core/types.ts';
import {
  batchFeatures,
  buildDataset,
  COL,
  FEATURE_NAMES,
  FEATURE_WARMUP,
  FeaturePipeline,
  forwardReturnLabels,
  NF,
  purge,
  splitByTime,
  WARMUP_BARS,
} from '../../engine/ml/features.ts';
import { exactMean, exactSum } from '../reference/exact.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const DAY = 86_400_000;

function makeSeries(symbol: string, ts: number[], close: number[], opts: { high?: number[]; low?: number[]; volume?: number[] } = {}): BarSeries {
  const f = (xs: number[]) => Float64Array.from(xs);
  return {
    symbol,
    interval: '1d',
    ts: f(ts),
    open: f(close),
    high: f(opts.high ?? close.map((c) => c * 1.01)),
    low: f(opts.low ?? close.map((c) => c * 0.99)),
    close: f(close),
    volume: f(opts.volume ?? close.map((_, i) => 1000 + ((i * 37) % 11) * 100)),
  };
}

/** Feeds every series through the streaming pipeline, one slice per distinct timestamp (slice order shuffled by `order`). */
function streamAll(series: readonly BarSeries[], order: (k: number) => number = (k) => k): Float64Array[] {
  const out = series.map((s) => new Float64Array(s.ts.length * NF));
  const times = [...new Set(series.flatMap((s) => [...s.ts]))].sort((a, b) => a - b);
  const pos = series.map(() => 0);
  const pipe = new FeaturePipeline(series.length);
  const row = new Float64Array(series.length * NF);
  for (const t of times) {
    const bars: Bar[] = [];
    series.forEach((s, sid) => {
      const i = pos[sid];
      if (i < s.ts.length && s.ts[i] === t) {
        bars.push({ symbol: s.symbol, sid, ts: t, open: s.open[i], high: s.high[i], low: s.low[i], close: s.close[i], volume: s.volume[i] });
      }
    });
    bars.sort((a, b) => order(a.sid) - order(b.sid) || a.sid - b.sid);
    pipe.step(bars, bars.length, row);
    bars.forEach((b, k) => {
      out[b.sid].set(row.subarray(k * NF, (k + 1) * NF), pos[b.sid] * NF);
      pos[b.sid]++;
    });
  }
  return out;
}

/** Agreement to 1e-12, absolute or relative (whichever is looser), with identical NaN patterns. */
function firstDisagreement(a: readonly Float64Array[], b: readonly Float64Array[]): string | null {
  for (let s = 0; s < a.length; s++) {
    if (a[s].length !== b[s].length) return `series ${s}: lengths ${a[s].length} vs ${b[s].length}`;
    for (let i = 0; i < a[s].length; i++) {
      const x = a[s][i];
      const y = b[s][i];
      const where = `series ${s} row ${Math.floor(i / NF)} ${FEATURE_NAMES[i % NF]}: ${x} vs ${y}`;
      if (Number.isNaN(x) !== Number.isNaN(y)) return where;
      if (!Number.isNaN(x) && !(Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x), Math.abs(y)))) return where;
    }
  }
  return null;
}

const at = (m: Float64Array, t: number, name: (typeof FEATURE_NAMES)[number]) => m[t * NF + COL[name]];

/** Bit-for-bit agreement (Object.is on every value, NaN included). */
function firstBitDifference(a: readonly Float64Array[], b: readonly Float64Array[]): string | null {
  for (let s = 0; s < a.length; s++) {
    if (a[s].length !== b[s].length) return `series ${s}: lengths ${a[s].length} vs ${b[s].length}`;
    for (let i = 0; i < a[s].length; i++) {
      if (!Object.is(a[s][i], b[s][i])) return `series ${s} row ${Math.floor(i / NF)} ${FEATURE_NAMES[i % NF]}: ${a[s][i]} vs ${b[s][i]}`;
    }
  }
  return null;
}

/** Random universes: each symbol trades on a random subset of a common calendar, so slices differ in size. */
const universe = fc
  .record({
    days: fc.integer({ min: 1, max: 140 }),
    symbols: fc.array(
      fc.record({
        start: fc.integer({ min: 0, max: 60 }),
        keep: fc.array(fc.boolean(), { minLength: 140, maxLength: 140 }),
        // integer-ish steps give equal closes (flat Bollinger windows, rank ties); small volume sets give flat volume windows
        steps: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 140, maxLength: 140 }),
        scale: fc.constantFrom(1, 0.37, 13.1),
        volumes: fc.array(fc.constantFrom(0, 500, 500, 500, 1200, 7e6), { minLength: 140, maxLength: 140 }),
        spread: fc.array(fc.double({ min: 0, max: 0.05, noNaN: true }), { minLength: 140, maxLength: 140 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ days, symbols }) =>
    symbols.map((sym, k) => {
      const ts: number[] = [];
      const close: number[] = [];
      const high: number[] = [];
      const low: number[] = [];
      const volume: number[] = [];
      let level = 50;
      for (let d = sym.start; d < sym.start + days; d++) {
        if (!sym.keep[d % 140] && d !== sym.start) continue;
        level = Math.max(1, level + sym.steps[d % 140]);
        const c = level * sym.scale;
        ts.push(Date.UTC(2020, 0, 1) + d * DAY);
        close.push(c);
        high.push(c * (1 + sym.spread[d % 140]));
        low.push(c * (1 - sym.spread[(d + 7) % 140]));
        volume.push(sym.volumes[d % 140]);
      }
      return makeSeries(`S${k}`, ts, close, { high, low, volume });
    }),
  );

function readCsv(symbol: string): BarSeries {
  const lines = readFileSync(path.join(SHARED, 'data/sp500-daily/adjusted', `${symbol}.csv`), 'utf8')
    .trim()
    .split(/\r?\n/);
  expect(lines[0]).toBe('date,open,high,low,close,volume');
  const rows = lines.slice(1).map((l) => l.split(','));
  const col = (c: number) => Float64Array.from(rows, (r) => Number(r[c]));
  return {
    symbol,
    interval: '1d',
    ts: Float64Array.from(rows, (r) => Date.parse(`${r[0]}T00:00:00Z`)),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    volume: col(5),
  };
}

describe('feature definitions', () => {
  it('has one warm-up per feature and WARMUP_BARS is the largest', () => {
    expect(FEATURE_WARMUP).toHaveLength(NF);
    expect(WARMUP_BARS).toBe(50);
    expect(FEATURE_NAMES.map((n) => COL[n])).toEqual(FEATURE_NAMES.map((_, i) => i));
  });
});

describe.skipIf(!sharedAvailable('data/sp500-daily'))('streaming and batched agree on S&P 500 daily bars', () => {
  // different first days (1999 .. 2020) and symbols with missing days (WELL, SPGI, VIAC)
  const symbols = ['AAPL', 'KIM', 'WELL', 'SPGI', 'VIAC', 'CMG', 'FB', 'FTV', 'LIN', 'CARR'];
  const series = symbols.map(readCsv);
  const batch = batchFeatures(series);
  const stream = streamAll(series);

  it('to 1e-12 with identical NaN patterns', () => {
    expect(firstDisagreement(stream, batch)).toBeNull();
  });

  it('bit for bit (the window means and sums are exactly rounded, so they do not depend on the path)', () => {
    expect(firstBitDifference(stream, batch)).toBeNull();
  });

  it('each feature is NaN exactly during its warm-up, then finite', () => {
    series.forEach((s, sid) => {
      for (let j = 0; j < NF; j++) {
        const nan: number[] = [];
        for (let t = 0; t < s.ts.length; t++) if (!Number.isFinite(batch[sid][t * NF + j])) nan.push(t);
        expect(nan, `${s.symbol} ${FEATURE_NAMES[j]}`).toEqual(Array.from({ length: FEATURE_WARMUP[j] - 1 }, (_, t) => t));
      }
    });
  });

  it('ranks each date over the symbols trading that date: the ranks of m symbols average 0.5 and span [0, 1]', () => {
    const byTs = new Map<number, number[]>();
    series.forEach((s, sid) =>
      s.ts.forEach((t, i) => {
        const r = at(batch[sid], i, 'xs_rank_ret_5');
        if (!Number.isNaN(r)) byTs.set(t, [...(byTs.get(t) ?? []), r]);
      }),
    );
    const sizes = new Set([...byTs.values()].map((rs) => rs.length));
    expect(sizes.size).toBeGreaterThanOrEqual(5); // the calendars really differ
    for (const rs of byTs.values()) {
      expect(rs.reduce((a, b) => a + b, 0) / rs.length).toBeCloseTo(0.5, 12);
      if (rs.length > 1) expect([Math.min(...rs), Math.max(...rs)]).toEqual([0, 1]);
    }
    // WELL misses days after its warm-up: on those dates the others are ranked among themselves
    const well = series[2];
    const missing = [...series[0].ts].filter((t) => t > well.ts[WARMUP_BARS] && !well.ts.includes(t));
    expect(missing.length).toBeGreaterThan(0);
    for (const t of missing) {
      const present = series.filter((s) => s.ts.indexOf(t) >= 5).length;
      expect(byTs.get(t)).toHaveLength(present);
    }
  });
});

describe('streaming and batched agree on random universes', () => {
  it('to 1e-12 with identical NaN patterns, whatever the order of bars inside a slice', () => {
    fc.assert(
      fc.property(universe, fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 6, maxLength: 6 }), (series, keys) => {
        const stream = streamAll(series, (sid) => keys[sid]);
        const batch = batchFeatures(series);
        expect(firstDisagreement(stream, batch)).toBeNull();
        expect(firstBitDifference(stream, batch)).toBeNull();
      }),
      { numRuns: 150 },
    );
  });
});

describe('values on known series', () => {
  const n = 80;
  const close = Array.from({ length: n }, (_, t) => 100 + 10 * Math.sin(t / 5) + t * 0.3);
  const high = close.map((c, t) => c + 1 + (t % 3));
  const low = close.map((c, t) => c - 1 - (t % 4) * 0.5);
  const volume = close.map((_, t) => 1000 + ((t * 7919) % 13) * 50);
  const s = makeSeries(
    'X',
    close.map((_, t) => t * DAY),
    close,
    { high, low, volume },
  );
  const [m] = batchFeatures([s]);

  it('returns and distance to the SMAs, by hand', () => {
    const line = makeSeries(
      'L',
      Array.from({ length: 60 }, (_, t) => t * DAY),
      Array.from({ length: 60 }, (_, t) => 100 + t),
    );
    const [f] = batchFeatures([line]);
    expect(at(f, 0, 'ret_1')).toBeNaN();
    expect(at(f, 1, 'ret_1')).toBeCloseTo(101 / 100 - 1, 15);
    expect(at(f, 4, 'ret_5')).toBeNaN();
    expect(at(f, 5, 'ret_5')).toBeCloseTo(0.05, 15);
    expect(at(f, 30, 'ret_20')).toBeCloseTo(130 / 110 - 1, 15);
    expect(at(f, 18, 'dist_sma_20')).toBeNaN();
    expect(at(f, 19, 'dist_sma_20')).toBeCloseTo(119 / 109.5 - 1, 15); // mean of 100..119
    expect(at(f, 49, 'dist_sma_50')).toBeCloseTo(149 / 124.5 - 1, 15);
    // a straight line sits at the same place in its band every day: (x - mean)/(4 sd) + 0.5, sd of 0..19 (ddof=0)
    const sd = Math.sqrt(Array.from({ length: 20 }, (_, i) => (i - 9.5) ** 2).reduce((a, b) => a + b) / 20);
    expect(at(f, 19, 'bb_pctb_20')).toBeCloseTo(9.5 / (4 * sd) + 0.5, 14);
    expect(at(f, 59, 'bb_pctb_20')).toBeCloseTo(9.5 / (4 * sd) + 0.5, 12);
    expect(at(f, 30, 'rsi_14')).toBe(1); // only gains
  });

  it('RSI, MACD histogram, Bollinger %b and ATR match technicalindicators', () => {
    const tail = (xs: number[], name: (typeof FEATURE_NAMES)[number], scale: (t: number) => number) => {
      const ours = Array.from({ length: n }, (_, t) => at(m, t, name) * scale(t)).filter((v) => !Number.isNaN(v));
      expect(ours).toHaveLength(xs.length);
      return ours;
    };
    const rsi = TiRSI.calculate({ period: 14, values: close });
    tail(rsi, 'rsi_14', () => 100).forEach((v, i) => expect(Math.abs(v - rsi[i])).toBeLessThanOrEqual(0.0051)); // ti rounds to 2 decimals

    const macd = TiMACD.calculate({ values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false })
      .map((r) => r.histogram)
      .filter((h): h is number => h !== undefined);
    tail(macd, 'macd_hist', (t) => close[t]).forEach((v, i) => expect(v).toBeCloseTo(macd[i], 9));

    const bb = TiBB.calculate({ period: 20, stdDev: 2, values: close }).map((r) => r.pb);
    tail(bb, 'bb_pctb_20', () => 1).forEach((v, i) => expect(v).toBeCloseTo(bb[i], 9));

    const atr = TiATR.calculate({ period: 14, high, low, close });
    tail(atr, 'atr_14', (t) => close[t]).forEach((v, i) => expect(v).toBeCloseTo(atr[i], 9));
  });

  it('volume z-score against a direct sample std (ddof=1), and 0 over a flat window', () => {
    for (let t = 19; t < n; t++) {
      const w = volume.slice(t - 19, t + 1);
      const mean = w.reduce((a, b) => a + b) / 20;
      const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / 19);
      expect(at(m, t, 'vol_z_20')).toBeCloseTo((volume[t] - mean) / sd, 12);
    }
    expect(at(m, 18, 'vol_z_20')).toBeNaN();
    const flat = makeSeries(
      'F',
      close.map((_, t) => t * DAY),
      close,
      { volume: close.map(() => 0) },
    );
    expect(at(batchFeatures([flat])[0], 25, 'vol_z_20')).toBe(0);
    const still = makeSeries(
      'S',
      close.map((_, t) => t * DAY),
      close.map(() => 0.1 + 0.2),
    );
    expect(at(batchFeatures([still])[0], 25, 'bb_pctb_20')).toBe(0.5);
  });

  it('cross-sectional rank with ties averaged, over the symbols present at each date', () => {
    const ts = Array.from({ length: 7 }, (_, t) => t * DAY);
    // ret_5 at t = 5: +10%, +20%, +10%, -30%; D has no bar at t = 6
    const mk = (sym: string, r: number) => makeSeries(sym, ts, [100, 1, 1, 1, 1, 100 * (1 + r), 100 * (1 + r)]);
    const a = mk('A', 0.1);
    const b = mk('B', 0.2);
    const c = mk('C', 0.1);
    const d = makeSeries('D', ts.slice(0, 6), [100, 1, 1, 1, 1, 70]);
    const lone = makeSeries(
      'E',
      ts.map((t) => t + 1000),
      [1, 2, 3, 4, 5, 6, 7],
    );
    for (const f of [batchFeatures([a, b, c, d, lone]), streamAll([a, b, c, d, lone])]) {
      expect(f.map((x) => at(x, 5, 'xs_rank_ret_5'))).toEqual([0.5, 1, 0.5, 0, 0.5]);
      // t = 6: ret_5 = (1+r)*100 / 1 - 1, same order; without D: A, C tie at the bottom
      expect(f.slice(0, 3).map((x) => at(x, 6, 'xs_rank_ret_5'))).toEqual([0.25, 1, 0.25]);
      expect(at(f[0], 4, 'xs_rank_ret_5')).toBeNaN();
    }
  });
});

describe('no look-ahead', () => {
  it('changing or appending bars after ts T leaves every feature at or before T unchanged', () => {
    fc.assert(
      fc.property(universe, fc.integer({ min: 0, max: 200 }), fc.double({ min: 0.5, max: 2, noNaN: true }), (series, cutDay, factor) => {
        const T = Date.UTC(2020, 0, 1) + cutDay * DAY;
        const changed = series.map((s) => {
          const c = structuredClone(s);
          for (let i = 0; i < c.ts.length; i++) {
            if (c.ts[i] <= T) continue;
            for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) c[k][i] *= factor * (1 + (i % 3) * 0.1);
          }
          return c;
        });
        const truncated = series.map((s) => {
          const n = s.ts.findIndex((t) => t > T);
          const end = n < 0 ? s.ts.length : n;
          const c = structuredClone(s);
          for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) c[k] = c[k].slice(0, end);
          return c;
        });
        const base = batchFeatures(series);
        for (const other of [batchFeatures(changed), batchFeatures(truncated), streamAll(truncated)]) {
          series.forEach((s, sid) => {
            const upto = s.ts.filter((t) => t <= T).length * NF;
            expect([...other[sid].subarray(0, upto)]).toEqual([...base[sid].subarray(0, upto)]);
          });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('labels a flat move 0 and the last horizon bars NaN', () => {
    const s = makeSeries(
      'X',
      [0, 1, 2, 3, 4].map((t) => t * DAY),
      [10, 10, 11, 9, 12],
    );
    expect([...forwardReturnLabels(s, 1)]).toEqual([0, 1, 0, 1, NaN]);
    expect([...forwardReturnLabels(s, 2)]).toEqual([1, 0, 1, NaN, NaN]);
  });

  it('label t depends on close[t] and close[t+h] only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 100, noNaN: true }), { minLength: 3, maxLength: 60 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        (close, h, pick, factor) => {
          fc.pre(close.length > h);
          const t = pick % (close.length - h);
          const s = makeSeries(
            'X',
            close.map((_, i) => i * DAY),
            close,
          );
          const y = forwardReturnLabels(s, h);
          expect([...y.subarray(close.length - h)].every(Number.isNaN)).toBe(true);
          expect(y[t]).toBe(close[t + h] / close[t] - 1 > 0 ? 1 : 0);
          // bars other than t and t+h (before, between, after) do not matter
          const other = makeSeries(
            'X',
            [...s.ts],
            close.map((c, i) => (i === t || i === t + h ? c : c * factor)),
          );
          expect(forwardReturnLabels(other, h)[t]).toBe(y[t]);
          // close[t+h] does
          for (const [move, label] of [
            [1.01, 1],
            [0.99, 0],
          ] as const) {
            const moved = close.slice();
            moved[t + h] = close[t] * move;
            expect(forwardReturnLabels(makeSeries('X', [...s.ts], moved), h)[t]).toBe(label);
          }
        },
      ),
    );
  });
});

describe('datasets', () => {
  it('hold exactly the usable rows, in (ts, sid) order, with their features and labels', () => {
    fc.assert(
      fc.property(universe, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), (series, h, a, b) => {
        const feats = batchFeatures(series);
        const from = Date.UTC(2020, 0, 1) + Math.min(a, b) * DAY;
        const to = Date.UTC(2020, 0, 1) + Math.max(a, b) * DAY;
        const ds = buildDataset(series, feats, { horizon: h, from, to });
        const expected: [number, number, number][] = [];
        series.forEach((s, sid) => {
          const y = forwardReturnLabels(s, h);
          s.ts.forEach((t, i) => {
            const row = feats[sid].subarray(i * NF, (i + 1) * NF);
            if (t >= from && t <= to && !Number.isNaN(y[i]) && row.every(Number.isFinite)) expected.push([t, sid, i]);
          });
        });
        expected.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        expect(ds.length).toBe(expected.length);
        expected.forEach(([t, sid, i], r) => {
          expect([ds.ts[r], ds.sid[r], ds.labelTs[r], ds.y[r]]).toEqual([t, sid, series[sid].ts[i + h], forwardReturnLabels(series[sid], h)[i]]);
          expect([...ds.X.subarray(r * NF, (r + 1) * NF)]).toEqual([...feats[sid].subarray(i * NF, (i + 1) * NF)]);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('purged training rows have label horizons ending before testFrom, and only those rows are dropped', () => {
    fc.assert(
      fc.property(universe, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 200 }), (series, h, cut) => {
        const feats = batchFeatures(series);
        const testFrom = Date.UTC(2020, 0, 1) + cut * DAY;
        const { train, test } = splitByTime(series, feats, { horizon: h, testFrom });
        const before = buildDataset(series, feats, { horizon: h, to: testFrom - 1 });
        for (let r = 0; r < train.length; r++) {
          expect(train.ts[r]).toBeLessThan(testFrom);
          expect(train.labelTs[r]).toBeLessThan(testFrom);
          // the label's bar is h bars of the same symbol after the row: each symbol's training ends h bars before its first test-window bar
          const s = series[train.sid[r]];
          const i = s.ts.indexOf(train.ts[r]);
          const firstTest = s.ts.findIndex((t) => t >= testFrom);
          if (firstTest >= 0) expect(i + h).toBeLessThan(firstTest);
        }
        let kept = 0;
        for (let r = 0; r < before.length; r++) if (before.labelTs[r] < testFrom) kept++;
        expect(train.length).toBe(kept);
        expect(purge(before, testFrom).length).toBe(kept);
        expect([...purge(before, testFrom).labelTs]).toEqual([...train.labelTs]);
        for (let r = 0; r < test.length; r++) expect(test.ts[r]).toBeGreaterThanOrEqual(testFrom);
        expect(test.length).toBe(buildDataset(series, feats, { horizon: h, from: testFrom }).length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('streaming input checks', () => {
  const bar = (sid: number, ts: number, close = 10): Bar => ({ symbol: `S${sid}`, sid, ts, open: close, high: close, low: close, close, volume: 1 });
  it('rejects mixed timestamps, repeated or unknown sids and time going back, without changing state', () => {
    const p = new FeaturePipeline(2);
    const out = new Float64Array(2 * NF);
    p.step([bar(0, DAY)], 1, out);
    expect(() => p.step([bar(0, 2 * DAY), bar(1, 3 * DAY)], 2, out)).toThrow(/one timestamp/);
    expect(() => p.step([bar(1, 2 * DAY), bar(1, 2 * DAY)], 2, out)).toThrow(/twice/);
    expect(() => p.step([bar(2, 2 * DAY)], 1, out)).toThrow(/outside/);
    expect(() => p.step([bar(0, DAY)], 1, out)).toThrow(/out of order/);
    expect([p.barsSeen(0), p.barsSeen(1)]).toEqual([1, 0]);
    p.step([bar(0, 2 * DAY, 11), bar(1, 2 * DAY)], 2, out);
    expect(at(out, 0, 'ret_1')).toBeCloseTo(0.1, 15);
    expect(at(out, 1, 'ret_1')).toBeNaN();
  });
});

describe('window means and sums of squares are exactly rounded (independent BigInt reference)', () => {
  const wild = fc.oneof(fc.double({ min: 1, max: 500, noNaN: true }), fc.constantFrom(0.1, 0.2, 0.3, 1e7, 1e-7, 12.5758755));
  it('dist_sma_20/50, bb_pctb_20 and vol_z_20 equal their definitions with true means rounded once', () => {
    fc.assert(
      fc.property(
        fc.array(wild, { minLength: 50, maxLength: 90 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.double({ min: 0, max: 1e12, noNaN: true })), { minLength: 90, maxLength: 90 }),
        (close, vol) => {
          const volume = vol.slice(0, close.length);
          const [f] = batchFeatures([
            makeSeries(
              'X',
              close.map((_, t) => t * DAY),
              close,
              { volume },
            ),
          ]);
          for (let t = 49; t < close.length; t++) {
            const w20 = close.slice(t - 19, t + 1);
            const m20 = exactMean(w20);
            expect(at(f, t, 'dist_sma_20')).toBe(close[t] / m20 - 1);
            expect(at(f, t, 'dist_sma_50')).toBe(close[t] / exactMean(close.slice(t - 49, t + 1)) - 1);
            if (w20.some((x) => x !== w20[0])) {
              const ss = exactSum(w20.map((x) => (x - m20) * (x - m20)));
              expect(at(f, t, 'bb_pctb_20')).toBe((close[t] - m20) / (2 * 2 * Math.sqrt(ss / 20)) + 0.5);
            }
            const v20 = volume.slice(t - 19, t + 1);
            if (v20.some((x) => x !== v20[0])) {
              const mv = exactMean(v20);
              const ssv = exactSum(v20.map((x) => (x - mv) * (x - mv)));
              expect(at(f, t, 'vol_z_20')).toBe((volume[t] - mv) / Math.sqrt(ssv / 19));
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
