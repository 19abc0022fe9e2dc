// tb.promotions(dir): the promotion records of a folder as a DataFrame, each checked the way `npm run live` checks
// it (the strategy's current files hash to the record's strategyFileHash, and findPromotion finds the record).
// Records are written through the writers the CLI and notebooks use (writePromotion, Promotion.write).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataFrame } from '../../engine/api/frame.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { ensureSampleDb } from '../../engine/data/sample.ts';
import * as tb from '../../engine/index.ts';
import { writePromotion } from '../../engine/research/promote.ts';
import { strategyHash, type PromotionRecord } from '../../engine/research/promotion.ts';
import { strategySources } from '../../strategies/index.ts';

const col = (df: DataFrame, c: string) => df.column(c).values as unknown[];
const COLUMNS = [
  'file',
  'strategy',
  'params',
  'symbols',
  'promotedAt',
  'dataFrom',
  'dataTo',
  'bars',
  'sharpe',
  'maxDrawdown',
  'trades',
  'walkForward',
  'inSampleSharpe',
  'outOfSampleSharpe',
  'strategyFileHash',
  'dataHash',
  'matches',
  'note',
];

function record(strategy: string, params: Record<string, unknown>, hash: string): PromotionRecord {
  return {
    strategy,
    strategyFile: `strategies/${strategy}.ts`,
    strategyFileHash: hash,
    params,
    symbols: ['SPY', 'AAPL'],
    data: { source: 'sample', from: '2015-01-02', to: '2019-12-31', bars: 1258, hash: 'ab'.repeat(32) },
    metrics: { sharpe: 0.8, maxDrawdown: -0.2, trades: 25, cagr: 0.1 },
    walkForward: { spec: 'train=2y,test=1y', inSampleSharpe: 0.9, outOfSampleSharpe: null, windows: [] },
    thresholds: tb.DEFAULT_THRESHOLDS,
    promotedAt: '2026-01-02T03:04:05.000Z',
  };
}

describe('tb.promotions', () => {
  beforeAll(() => ensureSampleDb(SAMPLE_DB_PATH));

  it('one row per record file: params as JSON, promotedAt a Date, evidence numbers; a changed hash or unknown strategy does not match', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-promotions-'));
    const current = strategyHash(strategySources('sma-cross', {}));
    const good = writePromotion(dir, record('sma-cross', { fast: 10, slow: 30 }, current));
    const tampered = writePromotion(dir, record('sma-cross', { fast: 5, slow: 30 }, current));
    // the record of an older version of the file: its hash no longer matches
    const text = readFileSync(tampered, 'utf8');
    writeFileSync(tampered, text.replace(current, '0'.repeat(64)));
    const gone = writePromotion(dir, record('no-such-strategy', { n: 1 }, current));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a record'); // only .json files are records

    const df = tb.promotions(dir);
    expect(df.columns).toEqual(COLUMNS);
    expect(df.shape[0]).toBe(3);
    // by file name
    expect(col(df, 'file')).toEqual([good, tampered, gone].map((f) => path.basename(f)).sort());
    const row = (f: string) => col(df, 'file').indexOf(path.basename(f));
    const g = row(good);
    expect(col(df, 'strategy')[g]).toBe('sma-cross');
    expect(col(df, 'params')[g]).toBe('{"fast":10,"slow":30}');
    expect(col(df, 'symbols')[g]).toBe('SPY,AAPL');
    expect(col(df, 'promotedAt')[g]).toEqual(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect([col(df, 'dataFrom')[g], col(df, 'dataTo')[g], col(df, 'bars')[g]]).toEqual(['2015-01-02', '2019-12-31', 1258]);
    expect([col(df, 'sharpe')[g], col(df, 'maxDrawdown')[g], col(df, 'trades')[g], col(df, 'inSampleSharpe')[g]]).toEqual([0.8, -0.2, 25, 0.9]);
    expect(col(df, 'outOfSampleSharpe')[g]).toBeNaN(); // null in the record
    expect([col(df, 'strategyFileHash')[g], col(df, 'dataHash')[g], col(df, 'walkForward')[g]]).toEqual([current, 'ab'.repeat(32), 'train=2y,test=1y']);
    expect([col(df, 'matches')[g], col(df, 'note')[g]]).toEqual([true, '']);

    expect(col(df, 'matches')[row(tampered)]).toBe(false);
    expect(col(df, 'strategyFileHash')[row(tampered)]).toBe('0'.repeat(64));
    expect(col(df, 'note')[row(tampered)]).toMatch(/strategy's files changed since it was promoted \(strategies\/sma-cross\.ts\)/);
    expect(col(df, 'matches')[row(gone)]).toBe(false);
    expect(col(df, 'note')[row(gone)]).toMatch(/^cannot hash the strategy's current files: .*no-such-strategy/);
  });

  it('reads back what Promotion.write wrote, with its evidence', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-promotions-'));
    const r = await tb.backtest({ strategy: 'sma-cross', params: { fast: 10, slow: 30 }, symbols: ['SPY'], from: '2015-01-01', to: '2019-12-31' });
    const p = await tb.promote(r, { minSharpe: -10, maxDrawdown: -1, minTrades: 0, minOosToIsSharpe: -10 }, { walkForward: 'train=2y,test=1y', workers: 1 });
    expect(p.failures).toEqual([]);
    const file = p.write(dir);
    const df = tb.promotions(dir);
    expect(col(df, 'file')).toEqual([path.basename(file)]);
    expect(col(df, 'matches')).toEqual([true]);
    expect(col(df, 'params')).toEqual(['{"fast":10,"slow":30}']);
    expect(col(df, 'sharpe')).toEqual([p.evidence.sharpe]);
    expect(col(df, 'trades')).toEqual([p.evidence.trades]);
    expect(col(df, 'inSampleSharpe')).toEqual([p.evidence.inSampleSharpe]);
    expect(col(df, 'outOfSampleSharpe')).toEqual([p.evidence.outOfSampleSharpe]);
    expect((col(df, 'promotedAt')[0] as Date).toISOString()).toBe(p.record!.promotedAt);
  }, 60_000);

  it('a folder without records gives an empty frame with the columns', () => {
    const df = tb.promotions(path.join(os.tmpdir(), 'tradebench-no-such-folder'));
    expect(df.shape[0]).toBe(0);
    expect(df.columns).toEqual(COLUMNS);
  });
});
