import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalBoard } from '../../engine/core/signals.ts';
import type { Bar } from '../../engine/core/types.ts';
import type { LiveOptions } from '../../engine/live/runner.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { FEATURE_NAMES, WARMUP_BARS } from '../../engine/ml/features.ts';
import { loadModel, writeModel, type LoadedModel } from '../../engine/ml/model-card.ts';
import { INPUT_NAME, OUTPUT_NAME } from '../../engine/ml/onnx-export.ts';
import { predictHistory, StreamingPredictor } from '../../engine/ml/predictions.ts';
import { trainOnHistory } from '../../engine/ml/train-run.ts';
import { repoRoot } from '../../engine/paths.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { fillRow, liveRun, liveSession, orderRow, tradeRow } from './live-harness.ts';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { LiveOpsSource } from '../../engine/ops/live-source.ts';

// the bundled sample (data/sample): SPY and IBM minute bars 2013-10-04..11, extended hours included
const SAMPLE = path.join(repoRoot(), 'data/sample/minute');
const SYMBOLS = ['SPY', 'IBM'];
const TEST_FROM = Date.parse('2013-10-09T00:00:00Z');
const FROM = Date.parse('2013-10-09T00:00:00-04:00');
const TO = Date.parse('2013-10-10T23:59:59-04:00');
const MINUTE = 60_000;

type Source = NonNullable<LiveOptions['signals']>;

describe('ml-signal live (streaming features, one inference per bar) = backtest (batched features and inference)', () => {
  let store: Store;
  let dir: string;
  let model: LoadedModel;
  let params: Record<string, unknown>;
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(
      store,
      SYMBOLS.map((s) => path.join(SAMPLE, s.toLowerCase())),
      { interval: '1m' },
    );
    const all = await loadBars(store, { symbols: SYMBOLS, interval: '1m' });
    const t = trainOnHistory({ series: all, kind: 'gbt', horizon: 5, testFrom: TEST_FROM, folds: 1, gbtOptions: { nTrees: 30 } });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-ml-live-'));
    writeModel(dir, t.onnx, {
      name: 'ml-live-test',
      version: 'test',
      description: 'gbt on the sample minute bars',
      input: INPUT_NAME,
      output: OUTPUT_NAME,
      features: [...FEATURE_NAMES],
      label: { kind: 'forward-return-sign', horizon: 5, definition: 'sign of close[t+5] / close[t] - 1' },
    });
    model = await loadModel(dir);
    params = { model: dir };
  }, 60_000);
  afterAll(async () => {
    await model?.model.close();
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const mlConfig = () =>
    config({
      strategy: 'ml-signal',
      params,
      symbols: SYMBOLS,
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
    });

  it('same orders, fills and trades; no order before the features are warm', async () => {
    const series = await loadBars(store, { symbols: SYMBOLS, interval: '1m', from: FROM, to: TO });
    const cfg = mlConfig();
    const bt = runBacktest(series, cfg, buildSlots('ml-signal', params, SYMBOLS), undefined, { signals: await predictHistory(model, series) });
    let runner!: LiveRunner;
    const { result: live, logs } = await liveSession(series, cfg, buildSlots('ml-signal', params, SYMBOLS), {
      runId: 'ml-live',
      runner: { signals: new StreamingPredictor(model, SYMBOLS.length) },
      created: (_sim, r) => {
        runner = r;
      },
    });
    // the dashboard's strategy panel shows the model's latest probability per symbol
    const shown = new LiveOpsSource(runner).snapshot().strategies[0].signals;
    expect(shown).toEqual(Object.fromEntries(SYMBOLS.map((sym, sid) => [sym, runner.engine.signals.get(sid)])));
    for (const p of Object.values(shown!)) expect(p > 0 && p < 1).toBe(true);

    expect(logs.filter((l) => /prediction failed/.test(l.message))).toEqual([]);
    expect(bt.engine.orders.length).toBeGreaterThan(50);
    expect(live.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
    expect(live.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
    expect(live.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
    // an order is decided at a bar's close, and a symbol's first prediction is at its WARMUP_BARS-th bar
    for (const o of live.engine.orders) expect(o.submittedAt).toBeGreaterThanOrEqual(series[o.sid].ts[WARMUP_BARS - 1] + MINUTE);
  }, 180_000);

  it('a restarted runner replays its journaled bars through the predictor, so its predictions carry on exactly', async () => {
    const cut = Date.parse('2013-10-09T11:00:00-04:00');
    const before = await loadBars(store, { symbols: SYMBOLS, interval: '1m', from: FROM, to: cut - 1 });
    const after = await loadBars(store, { symbols: SYMBOLS, interval: '1m', from: cut, to: Date.parse('2013-10-09T12:00:00-04:00') });
    const whole = await predictHistory(
      model,
      await loadBars(store, { symbols: SYMBOLS, interval: '1m', from: FROM, to: Date.parse('2013-10-09T12:00:00-04:00') }),
    );
    const cfg = mlConfig();
    const journal = await LiveJournal.open(':memory:');
    try {
      await liveRun(before, cfg, buildSlots('ml-signal', params, SYMBOLS), {
        journal,
        runId: 'ml-restart',
        signals: new StreamingPredictor(model, SYMBOLS.length),
      });
      // the second session: a fresh predictor, fed the first session's bars by resume(), then the new ones
      const seen: { sid: number; ts: number; p: number }[] = [];
      const predictor = new StreamingPredictor(model, SYMBOLS.length);
      const recording: Source = {
        async fill(bars: readonly Bar[], n: number, board: SignalBoard) {
          await predictor.fill(bars, n, board);
          for (let k = 0; k < n; k++) seen.push({ sid: bars[k].sid, ts: bars[k].ts, p: board.get(bars[k].sid) });
        },
      };
      await liveRun(after, cfg, buildSlots('ml-signal', params, SYMBOLS), { journal, runId: 'ml-restart', signals: recording });

      const replayed = seen.filter((s) => s.ts < cut);
      expect(replayed.length).toBe(before.reduce((n, s) => n + s.ts.length, 0));
      const expected = (s: { sid: number; ts: number }) => whole.values[s.sid][whole.ts[s.sid].indexOf(s.ts)];
      const fresh = seen.filter((s) => s.ts >= cut);
      expect(fresh.length).toBe(after.reduce((n, s) => n + s.ts.length, 0));
      expect(Number.isFinite(fresh[0].p)).toBe(true); // warm from the first new bar on
      expect(seen.map((s) => s.p)).toEqual(seen.map(expected));
    } finally {
      await journal.close();
    }
  }, 180_000);

  it('a prediction failure is journaled, leaves its bars without a signal, and the runner trades on', async () => {
    const series = await loadBars(store, {
      symbols: ['SPY'],
      interval: '1m',
      from: Date.parse('2013-10-09T09:30:00-04:00'),
      to: Date.parse('2013-10-09T10:29:59-04:00'),
    });
    const ts = series[0].ts;
    const FAIL = 20;
    let group = 0;
    // buy signals on even bars, sell signals on odd ones: an order at every bar's close; group FAIL sets a buy signal, then throws
    const flaky: Source = {
      async fill(bars: readonly Bar[], n: number, board: SignalBoard) {
        const g = group++;
        for (let k = 0; k < n; k++) board.set(bars[k].sid, bars[k].ts, g % 2 === 0 ? 0.9 : 0.1);
        if (g === FAIL) throw new Error('onnxruntime: session run failed');
      },
    };
    const cfg = config({
      strategy: 'ml-signal',
      params,
      symbols: ['SPY'],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
    });
    const { result: live, logs } = await liveRun(series, cfg, buildSlots('ml-signal', params, ['SPY']), { runId: 'ml-live', signals: flaky });

    expect(logs.filter((l) => /prediction failed/.test(l.message)).map((l) => l.message)).toEqual([
      `prediction failed for the bars at ${new Date(ts[FAIL]).toISOString().replace('.000Z', 'Z')}: onnxruntime: session run failed; no signal for them`,
    ]);
    expect(live.bars).toBe(ts.length);
    const decided = live.engine.orders.map((o) => o.submittedAt);
    expect(decided).not.toContain(ts[FAIL] + MINUTE);
    expect(decided).toContain(ts[FAIL - 2] + MINUTE);
    expect(decided).toContain(ts[FAIL + 2] + MINUTE);
    expect(decided).toContain(ts[ts.length - 1] + MINUTE);
    expect(live.engine.orders.length).toBe(ts.length - 2); // every bar but the failed one and the next (nothing to sell)
  }, 120_000);
});
