// The notebook API's machine learning (engine/api/ml.ts): tb.backtest on a model strategy is `npm run backtest`'s
// run (same predictions, same in-sample flag, same report.json), tb.train is `npm run train`'s training (same card),
// and tb.sweep and tb.promote run it on its model's predictions too.
// All on the bundled sample (data/sample.duckdb) and the committed models/gbt-daily: nothing from ../shared.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DataFrame } from '../../engine/api/frame.ts';
import { ensureSampleDb } from '../../engine/data/sample.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import * as tb from '../../engine/index.ts';
import { runCli } from '../cli/run-cli.ts';

const col = (df: DataFrame, c: string) => df.column(c).values as unknown[];
const iso = (d: unknown) => (d as Date).toISOString().slice(0, 10);
const json = (x: unknown) => JSON.parse(JSON.stringify(x));

let tmp: string;
beforeAll(async () => {
  await ensureSampleDb(SAMPLE_DB_PATH);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-ml-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tb.backtest on ml-signal against npm run backtest', () => {
  it('gives the report.json of the CLI run, in-sample flag and all', async () => {
    const out = path.join(tmp, 'backtest');
    // from 2014: two years inside models/gbt-daily's training window (to 2015-12-23), so the run is flagged
    const cli = runCli('backtest.ts', [
      '--strategy',
      'ml-signal',
      '--symbols',
      'AAPL,IBM,SPY',
      '--from',
      '2014-01-01',
      '--params',
      '{"enter":0.56}',
      '--out',
      out,
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const r = await tb.backtest({ strategy: 'ml-signal', params: { enter: 0.56 }, symbols: ['AAPL', 'IBM', 'SPY'], from: '2014-01-01' });
    expect(json(r.report)).toEqual(fromCli);
    expect(fromCli.trades.length).toBeGreaterThan(0); // the model's predictions reached the strategy
    expect(r.report.inSample?.model).toBe('models/gbt-daily');
    expect(r.report.inSample?.trainedTo).toBe('2015-12-23');
    expect(r.report.inSample?.outOfSampleFrom).not.toBeNull();
    // the CLI also prints the message on stderr; the API leaves it in the report (a notebook fails on stderr output)
    expect(cli.stderr).toContain(`warning: ${r.report.inSample!.message}`);
  }, 120_000);

  it('flags nothing out of sample', async () => {
    const r = await tb.backtest({ strategy: 'ml-signal', symbols: ['AAPL', 'SPY'], from: '2016-06-01' });
    expect(r.report.inSample).toBeUndefined();
    expect(r.report.config.params).toEqual({ model: 'models/gbt-daily', enter: 0.55, exit: 0.5, fullAt: 0.65, maxWeight: 1 });
  }, 60_000);

  it('runs an inline definition that declares a model on that model', async () => {
    const mine = tb.defineStrategy({
      name: 'my-ml',
      description: 'half of its share long while P(up) >= 0.55',
      params: { model: { type: 'string', default: 'models/gbt-daily', description: 'model folder' } },
      model: (p) => p.model as string,
      create: (_p, symbols) => ({
        onBar(ctx, { sid, symbol, close }) {
          const p = ctx.signal(sid);
          if (Number.isNaN(p)) return;
          if (p >= 0.55 && ctx.isFlat(sid)) ctx.submit({ symbol, side: 'BUY', type: 'MKT', qty: Math.floor(ctx.equity / symbols.length / close / 2) });
          else if (p < 0.5 && ctx.position(sid) > 0) ctx.closePosition(sid);
        },
      }),
    });
    const r = await tb.backtest({ strategy: mine, symbols: ['AAPL', 'SPY'], from: '2016-06-01' });
    expect(r.report.trades.length).toBeGreaterThan(0);
    expect(r.report.inSample).toBeUndefined();
  }, 60_000);

  it('sweeps and promotes a model strategy on its predictions: the rows are its backtests', async () => {
    const run = { strategy: 'ml-signal', symbols: ['AAPL', 'SPY'], from: '2016-06-01' } as const;
    const grid = await tb.sweep({ ...run, symbols: [...run.symbols], grid: { enter: [0.55, 0.6] }, workers: 1 });
    const r = await tb.backtest({ ...run, symbols: [...run.symbols], params: { enter: 0.6 } });
    expect(r.report.trades.length).toBeGreaterThan(0);
    expect(col(grid, 'enter')).toEqual([0.55, 0.6]);
    expect(col(grid, 'trades')[1]).toBe(r.metrics.tradeCount);
    expect(col(grid, 'sharpe')[1]).toBeCloseTo(r.metrics.sharpe!, 12);
    expect(grid.inSample).toEqual([]); // out of sample: models/gbt-daily trained to 2015-12-23
    const early = await tb.sweep({ ...run, symbols: [...run.symbols], from: '2015-01-01', grid: { enter: [0.55] }, workers: 1 });
    expect(early.inSample.map((x) => x.model)).toEqual(['models/gbt-daily']);
    const p = await tb.promote(r, {}, { walkForward: 'train=2y,test=1y', workers: 1 });
    expect(p.evidence.sharpe).toBe(r.metrics.sharpe);
    expect(p.evidence.trades).toBe(r.metrics.tradeCount);
    expect(Number.isFinite(p.evidence.outOfSampleSharpe)).toBe(true);
  }, 120_000);

  it('reports a missing model folder', async () => {
    await expect(tb.backtest({ strategy: 'ml-signal', params: { model: 'models/no-such-model' }, symbols: ['AAPL'] })).rejects.toThrow(/no-such-model/);
  });
});

describe('tb.train against npm run train', () => {
  it('writes the card npm run train writes and returns its scores as a DataFrame', async () => {
    // the same folder name in two places: the card names its folder
    const cliOut = path.join(tmp, 'cli', 'lr');
    const cli = runCli('train.ts', ['--model', 'logistic', '--symbols', 'AAPL,SPY', '--test-from', '2014-01-01', '--folds', '3', '--out', cliOut]);
    expect(cli.code, cli.stderr).toBe(0);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    let t: Awaited<ReturnType<typeof tb.train>>;
    let logged: string[];
    try {
      t = await tb.train({ model: 'logistic', symbols: ['AAPL', 'SPY'], testFrom: '2014-01-01', folds: 3, out: path.join(tmp, 'api', 'lr') });
      logged = log.mock.calls.map((c) => c[0] as string);
    } finally {
      log.mockRestore();
    }
    const onDisk = JSON.parse(readFileSync(t.cardPath, 'utf8'));
    expect(onDisk).toEqual(JSON.parse(readFileSync(path.join(cliOut, 'card.json'), 'utf8')));
    expect(json(t.card)).toEqual(onDisk);
    expect(existsSync(path.join(t.dir, 'model.onnx'))).toBe(true);
    const timeless = (lines: string[]) => lines.slice(0, 3).map((l) => l.replace(/trained in [\d.]+ s/, 'trained in T s'));
    expect(timeless(logged)).toEqual(timeless(cli.stdout.trim().split('\n')));

    const m = t.metrics;
    expect(m.columns).toEqual(['set', 'trainTo', 'from', 'to', 'rows', 'baseRate', 'accuracy', 'auc']);
    expect(col(m, 'set')).toEqual(['train', 'test', 'fold 1', 'fold 2', 'fold 3']);
    const scored = [onDisk.training.scores, onDisk.evaluation.outOfSample, ...onDisk.evaluation.walkForward];
    for (const k of ['rows', 'baseRate', 'accuracy', 'auc']) expect(col(m, k)).toEqual(scored.map((s) => s[k]));
    expect(col(m, 'from').map(iso)).toEqual(scored.map((s) => s.from));
    expect(col(m, 'to').map(iso)).toEqual(scored.map((s) => s.to));
    expect(col(m, 'trainTo').map(iso)).toEqual([
      onDisk.training.to,
      onDisk.training.to,
      ...onDisk.evaluation.walkForward.map((f: { trainTo: string }) => f.trainTo),
    ]);
    expect(onDisk.training.to < '2014-01-01').toBe(true);
    expect(t.backtest).toEqual(onDisk.evaluation.backtest);

    // the model it wrote is one tb.backtest trades on
    const r = await tb.backtest({ strategy: 'ml-signal', params: { model: t.dir }, symbols: ['AAPL', 'SPY'], from: '2014-06-01' });
    expect(r.report.inSample).toBeUndefined();
  }, 120_000);

  it('never replaces a model unless out names it, and checks its options before reading data', async () => {
    // models/gbt-daily is committed: the default folder of a gbt model holds one
    await expect(tb.train()).rejects.toThrow(/models\/gbt-daily already holds a model.*--out/);
    await expect(tb.train({ model: 'forest' as 'gbt', out: path.join(tmp, 'x') })).rejects.toThrow(/model must be gbt or logistic/);
    await expect(tb.train({ horizon: 0, out: path.join(tmp, 'x') })).rejects.toThrow(/horizon must be an integer/);
    await expect(tb.train({ testFrom: '2016-13-01', out: path.join(tmp, 'x') })).rejects.toThrow(/test-from must be a date/);
    expect(existsSync(path.join(tmp, 'x'))).toBe(false);
  });
});
