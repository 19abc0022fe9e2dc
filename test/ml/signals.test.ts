import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalBoard } from '../../engine/core/signals.ts';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { Bar, BarSeries, Order } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { FEATURE_NAMES, forEachSlice, WARMUP_BARS } from '../../engine/ml/features.ts';
import { loadModel, writeModel, type LoadedModel } from '../../engine/ml/model-card.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../../engine/ml/onnx-export.ts';
import { PredictionTable, predictHistory, StreamingPredictor } from '../../engine/ml/predictions.ts';
import { trainOnHistory } from '../../engine/ml/train-run.ts';
import { repoRoot } from '../../engine/paths.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2020, 0, 6);
const day = (i: number) => D0 + i * DAY;

function config(symbols: string[], params: Record<string, unknown> = {}, cash = 10_000): BacktestConfig {
  return {
    strategy: 'ml-signal',
    params,
    symbols,
    interval: '1d',
    cash,
    commission: { model: 'none' },
    slippage: { model: 'none' },
    sizing: { kind: 'all-in' },
    risk: RESEARCH_RISK,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: 'America/New_York',
    rfAnnual: 0,
  };
}

function series(symbol: string, ts: number[], open: number[], close: number[]): BarSeries {
  const f = (xs: number[]) => Float64Array.from(xs);
  return {
    symbol,
    interval: '1d',
    ts: f(ts),
    open: f(open),
    close: f(close),
    high: f(open.map((o, i) => Math.max(o, close[i]) + 1)),
    low: f(open.map((o, i) => Math.min(o, close[i]) - 1)),
    volume: f(ts.map(() => 1e6)),
  };
}

const bar = (s: BarSeries, sid: number, i: number): Bar => ({
  symbol: s.symbol,
  sid,
  ts: s.ts[i],
  open: s.open[i],
  high: s.high[i],
  low: s.low[i],
  close: s.close[i],
  volume: s.volume[i],
});

/** the start of the bar an order was submitted on (an order is stamped with the close of the bar its strategy saw) */
const barOf = (o: Order) => o.submittedAt - DAY;

/** the index of a series' first bar after T (its length when there is none) */
const firstAfter = (s: BarSeries, T: number) => {
  const i = s.ts.findIndex((t) => t > T);
  return i < 0 ? s.ts.length : i;
};

describe('ml-signal on a hand-made prediction table', () => {
  // A: 10 bars, opens 100..109, closes 0.5 above. B: closes near 1,600, opens 5 below.
  const n = 10;
  const ts = Array.from({ length: n }, (_, i) => day(i));
  const aOpen = ts.map((_, i) => 100 + i);
  const A = series(
    'A',
    ts,
    aOpen,
    aOpen.map((o) => o + 0.5),
  );
  const bClose = [1650, 1660, 1680, 1700, 1500, 1520, 1540, 1560, 1580, 1600];
  const B = series(
    'B',
    ts,
    bClose.map((c) => c - 5),
    bClose,
  );
  // B's table has no row for its bars 4 and 5 (and a row at noon of day 4, which is no bar at all)
  const aP = [NaN, 0.54, 0.6, 0.7, NaN, 0.52, 0.45, NaN, 0.65, 0.3];
  const bRows: [number, number][] = [
    [day(0), NaN],
    [day(1), 0.5],
    [day(2), 0.3],
    [day(3), 0.56],
    [day(4) + DAY / 2, 0.99],
    [day(6), 0.51],
    [day(7), 0.4],
    [day(8), 0.8],
    [day(9), NaN],
  ];
  const table = () => new PredictionTable([A.ts, Float64Array.from(bRows, (r) => r[0])], [Float64Array.from(aP), Float64Array.from(bRows, (r) => r[1])]);
  const params = { enter: 0.55, exit: 0.5, fullAt: 0.65, maxWeight: 0.8 };

  it("the board holds each bar its own prediction, NaN for a bar without one (never the previous bar's)", () => {
    const seen: [number, number, number][] = [];
    const recorder: Strategy = { onBar: (ctx, b) => void seen.push([b.sid, b.ts, ctx.signal(b.sid)]) };
    runBacktest([A, B], config(['A', 'B']), [{ name: 'rec', strategy: recorder, weight: 1 }], undefined, { signals: table() });
    const bAt = new Map(bRows);
    const expected = ts.flatMap((t, i) => [
      [0, t, aP[i]],
      [1, t, bAt.get(t) ?? NaN],
    ]);
    expect(seen).toEqual(expected);
    // B bars 4 and 5 follow a 0.56 and have no row: NaN
    expect(seen.filter(([sid, t]) => sid === 1 && (t === day(4) || t === day(5))).map((r) => r[2])).toEqual([NaN, NaN]);
  });

  it('enters at p >= enter sized by confidence, exits at p < exit, fills at the next open, does nothing on NaN', () => {
    const slots = buildSlots('ml-signal', params, ['A', 'B']);
    const r = runBacktest([A, B], config(['A', 'B'], params), slots, undefined, { signals: table() });
    const orders = r.engine.orders.map((o) => ({ symbol: o.symbol, side: o.side, qty: o.qty, at: barOf(o), status: o.status }));
    // Qty = floor(equity / 2 symbols * 0.8 * min(1, (p - 0.5) / 0.15) / close):
    //  A bar 2, p 0.60: equity 10,000 (nothing held) -> 4,000 * 2/3 / 102.5 = 26.02 -> 26
    //  A bar 6, p 0.45 < 0.5: sell the 26 (bought at 103, sold at 107: cash 10,104)
    //  A bar 8, p 0.65: equity 10,104 -> 4,041.6 * 1 / 108.5 = 37.25 -> 37
    //  B bar 8, p 0.80: the same equity -> 4,041.6 / 1,580 = 2.56 -> 2
    //  A bar 9, p 0.30: sell the 37 (no bar left to fill it)
    // Not orders: A bars 0, 4, 7 (NaN), bar 1 (0.54 < enter), bars 3, 4, 5 (held, p >= exit);
    // B bar 3 (0.56: 10,013 / 2 * 0.8 * 0.4 / 1,700 = 0.94 -> 0 shares), bars 4 and 5 (no prediction: had 0.56
    // leaked into them, 1,602 / 1,500 would buy 1 share), bars 6, 7 (0.51, 0.40 < enter).
    expect(orders).toEqual([
      { symbol: 'A', side: 'BUY', qty: { kind: 'shares', shares: 26 }, at: day(2), status: 'FILLED' },
      { symbol: 'A', side: 'SELL', qty: { kind: 'shares', shares: 26 }, at: day(6), status: 'FILLED' },
      { symbol: 'A', side: 'BUY', qty: { kind: 'shares', shares: 37 }, at: day(8), status: 'FILLED' },
      { symbol: 'B', side: 'BUY', qty: { kind: 'shares', shares: 2 }, at: day(8), status: 'FILLED' },
      { symbol: 'A', side: 'SELL', qty: { kind: 'shares', shares: 37 }, at: day(9), status: 'SUBMITTED' },
    ]);
    expect(r.engine.orders.slice(0, 4).map((o) => o.tag)).toEqual(['p=0.6000', '', 'p=0.6500', 'p=0.8000']);
    // market orders fill at the open of the symbol's next bar (DESIGN section 3)
    expect(r.journal.fills.map((f) => ({ symbol: f.symbol, ts: f.ts, qty: f.qty, price: f.price }))).toEqual([
      { symbol: 'A', ts: day(3), qty: 26, price: 103 },
      { symbol: 'A', ts: day(7), qty: -26, price: 107 },
      { symbol: 'A', ts: day(9), qty: 37, price: 109 },
      { symbol: 'B', ts: day(9), qty: 2, price: 1595 },
    ]);
    // cash 10,104 - 37 * 109 - 2 * 1,595 = 2,881, marked at the last closes 109.5 and 1,600
    expect(r.engine.portfolio.equity()).toBeCloseTo(2881 + 37 * 109.5 + 2 * 1600, 9);
  });

  it('sizes by confidence up to fullAt and caps at maxWeight', () => {
    // one symbol, one bar of prediction each run: the order's quantity for several p
    const S = series('S', [day(0), day(1)], [50, 50], [50, 50]);
    const qtyFor = (p: number, prm: Record<string, unknown>) => {
      const t = new PredictionTable([S.ts], [Float64Array.from([p, NaN])]);
      const r = runBacktest([S], config(['S'], prm, 100_000), buildSlots('ml-signal', prm, ['S']), undefined, { signals: t });
      return r.engine.orders.map((o) => (o.qty.kind === 'shares' ? o.qty.shares : NaN));
    };
    // 100,000 * maxWeight * min(1, (p - 0.5) / (fullAt - 0.5)) / 50
    expect(qtyFor(0.6, { fullAt: 0.7, maxWeight: 0.5 })).toEqual([500]); // 50,000 * 0.5 / 50
    expect(qtyFor(0.7, { fullAt: 0.7, maxWeight: 0.5 })).toEqual([1000]);
    expect(qtyFor(0.95, { fullAt: 0.7, maxWeight: 0.5 })).toEqual([1000]); // capped
    expect(qtyFor(0.54, { enter: 0.55 })).toEqual([]);
    expect(qtyFor(0.55, { enter: 0.55, fullAt: 0.6 })).toEqual([1000]); // p = enter enters: 100,000 * 0.5 / 50
  });
});

/** Each time slice's bars (as forEachSlice visits them, in sid order), copied out for async stepping. */
function slices(all: readonly BarSeries[]): Bar[][] {
  const out: Bar[][] = [];
  forEachSlice(
    all.map((s) => s.ts),
    (_t, sids, idx, count) => {
      out.push(Array.from({ length: count }, (_, k) => bar(all[sids[k]], sids[k], idx[k])));
    },
  );
  return out;
}

describe.skipIf(!sharedAvailable('data/sp500-daily'))('batched and per-bar inference agree on S&P 500 daily bars', () => {
  // first days from 1999 (AAPL, KIM) to 2020 (CARR); WELL misses days
  const symbols = ['AAPL', 'KIM', 'WELL', 'CMG', 'FB', 'FTV', 'LIN', 'CARR'];
  let all: BarSeries[];
  let loaded: LoadedModel;
  let tmp: string;

  beforeAll(async () => {
    const store = await openStore(':memory:');
    try {
      await importPaths(
        store,
        symbols.map((s) => path.join(SHARED, 'data/sp500-daily/adjusted', `${s}.csv`)),
        { interval: '1d' },
      );
      all = await loadBars(store, { symbols, interval: '1d' });
    } finally {
      store.close();
    }
    const t = trainOnHistory({ series: all, kind: 'gbt', horizon: 5, testFrom: Date.UTC(2016, 0, 1), folds: 1, gbtOptions: { nTrees: 40 } });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-signals-'));
    writeModel(tmp, t.onnx, {
      name: 'test-gbt',
      version: '1',
      description: 'signals test',
      input: INPUT_NAME,
      output: OUTPUT_NAME,
      features: [...FEATURE_NAMES],
      label: { kind: 'forward-return-sign', horizon: 5, definition: 'test' },
    });
    loaded = await loadModel(tmp);
  });
  afterAll(async () => {
    await loaded?.model.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('predictHistory and StreamingPredictor stepping every slice: same NaN pattern, |diff| <= 1e-6', async () => {
    expect(new Set(all.map((s) => s.ts[0])).size).toBeGreaterThanOrEqual(6);
    const table = await predictHistory(loaded, all);
    const predictor = new StreamingPredictor(loaded, all.length);
    const board = new SignalBoard(all.length);
    const streamed = all.map((s) => new Float64Array(s.ts.length));
    const pos = new Int32Array(all.length);
    for (const group of slices(all)) {
      await predictor.fill(group, group.length, board);
      for (const b of group) {
        expect(board.stamp(b.sid)).toBe(b.ts);
        streamed[b.sid][pos[b.sid]++] = board.get(b.sid);
      }
    }
    let compared = 0;
    all.forEach((s, sid) => {
      const batch = table.values[sid];
      for (let i = 0; i < s.ts.length; i++) {
        const where = `${s.symbol} bar ${i}: batched ${batch[i]}, streamed ${streamed[sid][i]}`;
        // every feature is warm from bar WARMUP_BARS - 1 on, so is the prediction
        expect(Number.isNaN(batch[i]), where).toBe(i < WARMUP_BARS - 1);
        expect(Number.isNaN(streamed[sid][i]), where).toBe(i < WARMUP_BARS - 1);
        if (i < WARMUP_BARS - 1) continue;
        expect(batch[i] > 0 && batch[i] < 1, where).toBe(true);
        expect(Math.abs(batch[i] - streamed[sid][i]), where).toBeLessThanOrEqual(1e-6);
        compared++;
      }
    });
    expect(compared).toBe(all.reduce((n, s) => n + s.ts.length - (WARMUP_BARS - 1), 0));
  });
});

describe('ml-signal with the committed models/gbt-daily on the bundled sample', () => {
  let sample: BarSeries[];
  let symbols: string[];
  let model: LoadedModel;
  const cfg = () => ({ ...config(symbols, {}, 100_000), commission: { model: 'ibkr-fixed' as const } });
  const backtest = async (bars: BarSeries[]) => {
    const signals = await predictHistory(model, bars);
    return { signals, r: runBacktest(bars, cfg(), buildSlots('ml-signal', {}, symbols), undefined, { signals }) };
  };

  beforeAll(async () => {
    const store = await openStore(':memory:');
    try {
      const imported = await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
      symbols = imported.symbols;
      sample = await loadBars(store, { symbols, interval: '1d' });
    } finally {
      store.close();
    }
    model = await loadModel(path.join(repoRoot(), 'models/gbt-daily'));
  });
  afterAll(async () => {
    await model?.model.close();
  });

  it('orders only on bars with a finite prediction, entries at p >= 0.55 and exits at p < 0.5; identical across two runs', async () => {
    const a = await backtest(sample);
    const b = await backtest(sample);
    const orders = a.r.engine.orders;
    expect(orders.length).toBeGreaterThan(20);
    for (const o of orders) {
      const i = sample[o.sid].ts.indexOf(barOf(o));
      expect(i, `order ${o.id}`).toBeGreaterThanOrEqual(WARMUP_BARS - 1);
      const p = a.signals.values[o.sid][i];
      expect(Number.isFinite(p), `order ${o.id} on ${o.symbol} bar ${i}`).toBe(true);
      if (o.side === 'BUY') {
        expect(p).toBeGreaterThanOrEqual(0.55);
        expect(o.tag).toBe(`p=${p.toFixed(4)}`);
      } else expect(p).toBeLessThan(0.5);
    }
    expect(orders.some((o) => o.side === 'SELL')).toBe(true);
    const fingerprint = (r: typeof a.r) =>
      JSON.stringify([r.engine.orders, r.journal.fills, r.journal.equityCurve, r.engine.trades, r.engine.portfolio.equity()]);
    expect(fingerprint(b.r)).toBe(fingerprint(a.r));
    expect(b.signals.values).toEqual(a.signals.values);
    // one table serves any number of runs (its cursors start again when a run starts again)
    const again = runBacktest(sample, cfg(), buildSlots('ml-signal', {}, symbols), undefined, { signals: a.signals });
    expect(fingerprint(again)).toBe(fingerprint(a.r));
  });

  it('no look-ahead: predictions and orders up to bar t are unchanged when the bars after t are changed or cut', async () => {
    const base = await backtest(sample);
    const times = [...new Set(sample.flatMap((s) => [...s.ts]))].sort((x, y) => x - y);
    const submitted = (os: readonly Order[], T: number) => os.filter((o) => barOf(o) <= T).map((o) => [o.id, o.symbol, o.side, o.qty, o.tag, o.submittedAt]);
    const cutAfter = (T: number, change: (c: BarSeries, from: number) => void) =>
      sample.map((s) => {
        const c = structuredClone(s);
        change(c, firstAfter(s, T));
        return c;
      });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: WARMUP_BARS, max: times.length - 10 }), fc.double({ min: 0.5, max: 2, noNaN: true }), async (k, factor) => {
        const T = times[k];
        const changed = cutAfter(T, (c, from) => {
          for (let i = from; i < c.ts.length; i++) {
            const m = factor * (1 + (i % 3) * 0.1);
            for (const f of ['open', 'high', 'low', 'close', 'volume'] as const) c[f][i] *= m;
          }
        });
        const cut = cutAfter(T, (c, from) => {
          for (const f of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) c[f] = c[f].slice(0, from);
        });
        let differsAfter = false;
        for (const bars of [changed, cut]) {
          const run = await backtest(bars);
          sample.forEach((s, sid) => {
            const upto = firstAfter(s, T);
            expect(run.signals.values[sid].subarray(0, upto)).toEqual(base.signals.values[sid].subarray(0, upto));
            if (bars === changed) differsAfter ||= run.signals.values[sid].some((v, i) => i >= upto && v !== base.signals.values[sid][i]);
          });
          expect(submitted(run.r.engine.orders, T)).toEqual(submitted(base.r.engine.orders, T));
        }
        // the changed bars did reach the model, so the equalities above are not vacuous
        expect(differsAfter).toBe(true);
      }),
      { numRuns: 5 },
    );
  });
});
