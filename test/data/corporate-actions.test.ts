// Raw prices with corporate actions as events (engine/data/actions.ts, engine/run/corporate-actions.ts), on the
// bundled sample's real LEAN daily and minute bars and factor files: AAPL's 7:1 split (ex 2014-06-09), its 4:1
// split (ex 2020-08-31) and its dividends.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayHistory } from '../../engine/core/corporate-action.ts';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries, Trade } from '../../engine/core/types.ts';
import { actionsFromFactors, adjustedSeries, perShareWarning, resolvePrices, splitRatio, type PriceBasis } from '../../engine/data/actions.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { ensureSampleDb, SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { Book } from '../../engine/portfolio/portfolio.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { runCli } from '../cli/run-cli.ts';
import { config } from '../engine/harness.ts';
import { tempDir } from './helpers.ts';

const FACTORS = path.join(SAMPLE_DIR, 'factor_files');
const DAILY = path.join(SAMPLE_DIR, 'daily');
const MINUTE = path.join(SAMPLE_DIR, 'minute');
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const isoOf = (t: number) => new Date(t).toISOString().slice(0, 10);

const tmp = tempDir('tradebench-actions-');
/** the sample imported raw (the new path) and adjusted at import (the old path), both daily and minute */
let raw: Store;
let old: Store;
const rawDb = path.join(tmp.dir, 'raw.duckdb');

beforeAll(async () => {
  raw = await openStore(rawDb);
  await importPaths(raw, [DAILY], { interval: '1d', factorsDir: FACTORS });
  await importPaths(raw, [MINUTE], { interval: '1m', factorsDir: FACTORS });
  old = await openStore(path.join(tmp.dir, 'old.duckdb'));
  await importPaths(old, [DAILY], { interval: '1d', factorsDir: FACTORS, adjustOnImport: true });
  await importPaths(old, [MINUTE], { interval: '1m', factorsDir: FACTORS, adjustOnImport: true });
}, 120_000);
afterAll(() => {
  raw?.close();
  old?.close();
  tmp.cleanup();
});

describe('LEAN factor-file semantics', () => {
  it('a split is the ratio of consecutive split factors (rounded to a small fraction), new shares per old', () => {
    expect(splitRatio(0.0357143, 0.25)).toBe(7); // 0.25 / 0.0357143 = 6.99999...
    expect(splitRatio(0.25, 1)).toBe(4);
    expect(splitRatio(0.00892857, 0.0178571)).toBe(2);
    expect(splitRatio(1, 1.5)).toBe(1.5);
    expect(splitRatio(10, 1)).toBe(0.1); // 1-for-10 reverse split
  });

  it('an event lies between rows i and i+1, ex the first trading day after D_i; dividend = ref_i x (1 - pf_i / pf_i+1)', () => {
    // AAPL's rows 20140507 .. 20141105 as in the file
    const rows = [
      { date: 20140507, priceFactor: 0.8961764, splitFactor: 0.0357143, referencePrice: 592.33 },
      { date: 20140606, priceFactor: 0.9011818, splitFactor: 0.0357143, referencePrice: 645.57 },
      { date: 20140806, priceFactor: 0.9011818, splitFactor: 0.25, referencePrice: 94.97 },
      { date: 20141105, priceFactor: 0.9056639, splitFactor: 0.25, referencePrice: 108.86 },
    ];
    const ex: Record<number, string> = { 20140507: '2014-05-08', 20140606: '2014-06-09', 20140806: '2014-08-07' };
    const a = actionsFromFactors('AAPL', rows, (d) => ex[d]!);
    expect(a.map((x) => [x.kind, x.exDate, x.factorDate, x.value])).toEqual([
      ['dividend', '2014-05-08', '2014-05-07', 3.29], // 592.33 x (1 - 0.8961764 / 0.9011818) = 3.2899...
      ['split', '2014-06-09', '2014-06-06', 7],
      ['dividend', '2014-08-07', '2014-08-06', 0.47], // 94.97 x (1 - 0.9011818 / 0.9056639) = 0.4700...
    ]);
  });

  it('the import stores the bars raw, the factor rows, the actions by ex-date and the price basis', async () => {
    const q = async (sql: string) => (await raw.conn.runAndReadAll(sql)).getRowObjectsJS();
    const [a] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', from: day('2014-06-06'), to: day('2014-06-09') });
    expect([...a!.close]).toEqual([645.57, 93.7]); // as in data/sample/daily/aapl.csv
    const acts = await q(
      `SELECT ex_date::VARCHAR AS ex, factor_date::VARCHAR AS fd, kind, value FROM corporate_actions WHERE symbol = 'AAPL' AND (kind = 'split' OR ex_date IN ('2014-05-08', '2014-08-07', '2020-08-07', '2020-11-06')) ORDER BY ex_date`,
    );
    expect(acts).toEqual([
      { ex: '2000-06-21', fd: '2000-06-20', kind: 'split', value: 2 },
      { ex: '2005-02-28', fd: '2005-02-25', kind: 'split', value: 2 },
      { ex: '2014-05-08', fd: '2014-05-07', kind: 'dividend', value: 3.29 },
      { ex: '2014-06-09', fd: '2014-06-06', kind: 'split', value: 7 },
      { ex: '2014-08-07', fd: '2014-08-06', kind: 'dividend', value: 0.47 },
      { ex: '2020-08-07', fd: '2020-08-06', kind: 'dividend', value: 0.82 },
      { ex: '2020-08-31', fd: '2020-08-28', kind: 'split', value: 4 }, // the factor row is dated Friday 08-28
      { ex: '2020-11-06', fd: '2020-11-05', kind: 'dividend', value: 0.205 },
    ]);
    expect(await q(`SELECT symbol, kind, count(*)::INTEGER AS n FROM corporate_actions GROUP BY ALL ORDER BY ALL`)).toEqual([
      { symbol: 'AAPL', kind: 'dividend', n: 35 },
      { symbol: 'AAPL', kind: 'split', n: 4 },
      { symbol: 'IBM', kind: 'dividend', n: 93 },
      { symbol: 'IBM', kind: 'split', n: 1 },
      { symbol: 'SPY', kind: 'dividend', n: 94 },
    ]);
    expect(await q(`SELECT count(*)::INTEGER AS n FROM price_factors WHERE symbol = 'AAPL'`)).toEqual([
      { n: readFileSync(path.join(FACTORS, 'aapl.csv'), 'utf8').trim().split('\n').length },
    ]);
    expect(await q(`SELECT symbol, "interval", basis FROM price_basis ORDER BY ALL`)).toEqual([
      { symbol: 'AAPL', interval: '1d', basis: 'raw' },
      { symbol: 'IBM', interval: '1d', basis: 'raw' },
      { symbol: 'IBM', interval: '1m', basis: 'raw' },
      { symbol: 'SPY', interval: '1d', basis: 'raw' },
      { symbol: 'SPY', interval: '1m', basis: 'raw' },
    ]);
  });
});

describe('adjusted at load', () => {
  it('is bit for bit what the import stored before bars were stored raw (daily and minute, every column)', async () => {
    for (const [interval, symbols] of [
      ['1d', ['AAPL', 'IBM', 'SPY']],
      ['1m', ['IBM', 'SPY']],
    ] as const) {
      const before = await loadBars(old, { symbols: [...symbols], interval });
      const now = await loadBars(raw, { symbols: [...symbols], interval, prices: 'adjusted' });
      for (let k = 0; k < symbols.length; k++) {
        for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) {
          const a = before[k]![c];
          const b = now[k]![c];
          expect(b.length).toBe(a.length);
          let differ = 0;
          for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
          expect(differ, `${interval} ${symbols[k]} ${c}`).toBe(0);
        }
      }
    }
  });

  it('a raw series carries its factors: model features take adjustedSeries, the same doubles (daily and minute)', async () => {
    for (const [interval, sym] of [
      ['1d', 'AAPL'],
      ['1m', 'SPY'],
    ] as const) {
      const [r] = await loadBars(raw, { symbols: [sym], interval, prices: 'raw' });
      const [a] = await loadBars(raw, { symbols: [sym], interval, prices: 'adjusted' });
      const viaRaw = adjustedSeries(r!);
      for (const c of ['open', 'high', 'low', 'close', 'volume'] as const)
        expect(Buffer.from(viaRaw[c].buffer).equals(Buffer.from(a![c].buffer)), `${sym} ${c}`).toBe(true);
      expect(r!.close).not.toEqual(a!.close); // the raw series itself is untouched
    }
  });

  it('is raw x price_factor x split_factor of the first row dated on or after the bar (the formula, in doubles)', async () => {
    const [a] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', from: day('2014-06-06'), to: day('2014-06-09'), prices: 'adjusted' });
    expect(a!.close[0]).toBe(645.57 * 0.9011818 * 0.0357143); // row 20140606
    expect(a!.close[1]).toBe(93.7 * 0.9011818 * 0.25); // row 20140806
  });
});

/** Buys with the run's sizing on the close of `entry`, closes the position on the close of `exit` (fills at the next opens). */
function hold(entry: string, exit: string, side: 'long' | 'short' = 'long'): Strategy {
  return {
    onBar(ctx, bar) {
      const d = isoOf(bar.ts);
      if (d === entry) side === 'long' ? ctx.buy(bar.sid) : ctx.sellShort(bar.sid);
      if (d === exit) ctx.closePosition(bar.sid);
    },
  };
}

function run(series: BarSeries[], strategy: Strategy, over: Parameters<typeof config>[0]) {
  return runBacktest(series, config({ symbols: series.map((s) => s.symbol), ...over }), [{ name: 'hold', strategy, weight: 1 }]);
}

/** The bar after `iso` (the fill of an order placed on its close): its index and open. */
function nextOpen(s: BarSeries, iso: string): number {
  const i = s.ts.indexOf(day(iso));
  return s.open[i + 1]!;
}

describe('raw prices in the engine', () => {
  it('over the 7:1 split the raw run makes the adjusted run P&L, less the commission difference and a share-rounding term', async () => {
    const window = { from: day('2014-05-09'), to: day('2014-08-06') }; // no dividend inside (ex 2014-05-08, 2014-08-07)
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...window, prices: 'raw' });
    const [a] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...window, prices: 'adjusted' });
    const over = { sizing: { kind: 'percent', percent: 50 } as const, commission: { model: 'per-share', perShare: 0.005, min: 1 } as const };
    const rr = run([r!], hold('2014-05-12', '2014-08-01'), { ...over, prices: 'raw' });
    const ra = run([a!], hold('2014-05-12', '2014-08-01'), { ...over, prices: 'adjusted' });

    // hand check, raw: 50% of 100,000 at the 05-12 close 592.83 is floor(50,000 / 592.83) = 84 shares, bought at the
    // 05-13 open; the split makes them 588 on 2014-06-09; sold at the 08-04 open
    expect(r!.close[r!.ts.indexOf(day('2014-05-12'))]).toBe(592.83);
    const E = nextOpen(r!, '2014-05-12');
    const X = nextOpen(r!, '2014-08-01');
    const qr = 84;
    const commR = 3.94; // per share on the shares traded: 1 (the minimum; 84 x 0.005 = 0.42) + 588 x 0.005 = 2.94
    expect(rr.corporateActions!.map((x) => [x.kind, x.exDate, x.positionBefore, x.positionAfter, x.cash])).toEqual([['split', '2014-06-09', 84, 588, 0]]);
    const tradeR = rr.engine.trades[0]!;
    expect([tradeR.quantity, tradeR.commission]).toEqual([588, commR]);
    const pnlR = rr.engine.portfolio.equity() - 100_000;
    expect(pnlR).toBeCloseTo(7 * qr * X - qr * E - commR, 6);

    // adjusted: the same 50% buys split-adjusted shares at a 28th of the price (x the dividend factor 0.9011818)
    const pf = 0.9011818;
    const qa = Math.floor(50_000 / (592.83 * pf * 0.0357143)); // 2,620 adjusted shares
    const Ea = E * pf * 0.0357143;
    const Xa = X * pf * 0.25;
    const commA = 2 * Math.max(1, 0.005 * qa); // 13.17 a leg: per share on 2,634 shares that never traded
    const tradeA = ra.engine.trades[0]!;
    expect([tradeA.quantity, tradeA.commission]).toEqual([qa, commA]);
    expect(ra.corporateActions).toEqual([]);
    const pnlA = ra.engine.portfolio.equity() - 100_000;
    expect(pnlA).toBeCloseTo(qa * (Xa - Ea) - commA, 6);

    // the same trade: per dollar invested the gross P&L agrees (to the factors' 7 digits: 0.0357143 x 7 = 0.2500001);
    // the totals differ by the share rounding (84 raw shares are 84 / (pf x 0.0357143) = 2,609.9 adjusted ones, not
    // 2,634: each run rounds 50% of its equity down at its own price) and the commissions (3.94 raw, 26.34 adjusted)
    const perDollarR = (pnlR + commR) / (qr * E);
    const perDollarA = (pnlA + commA) / (qa * Ea);
    expect(Math.abs(perDollarR - perDollarA)).toBeLessThan(1e-6);
    const rounding = (qr / (pf * 0.0357143) - qa) * (Xa - Ea);
    expect(pnlR + commR - (pnlA + commA)).toBeCloseTo(rounding, 0);
  });

  it('a split multiplies the position and divides cost, mark and history; a 4:1 split on 2020-08-31 too', async () => {
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', from: day('2020-08-03'), to: day('2020-09-30'), prices: 'raw' });
    const seen: { close1: number; cost: number; pos: number }[] = [];
    const strategy: Strategy = {
      ...hold('2020-08-10', '2020-09-15'),
      onCorporateAction(ctx, a) {
        if (a.kind === 'split') seen.push({ close1: ctx.close(a.sid, 0), cost: ctx.avgCost(a.sid), pos: ctx.position(a.sid) });
      },
    };
    const res = run([r!], strategy, { sizing: { kind: 'fixed', quantity: 10 }, prices: 'raw' });
    const E = nextOpen(r!, '2020-08-10');
    // the history's last close (08-28: 499.23) is on the new basis when the strategy hears of the split
    expect(seen).toEqual([{ close1: 499.23 / 4, cost: E / 4, pos: 40 }]);
    // the dividend ex 2020-08-07 came before the entry: listed with no position, no cash
    expect(res.corporateActions!.map((x) => [x.kind, x.exDate, x.value, x.prevClose, x.positionBefore, x.positionAfter, x.cash])).toEqual([
      ['dividend', '2020-08-07', 0.82, 455.61, 0, 0, 0],
      ['split', '2020-08-31', 4, 499.23, 10, 40, 0],
    ]);
    expect(res.engine.trades[0]).toMatchObject({ quantity: 40, entryPrice: E / 4, exitPrice: nextOpen(r!, '2020-09-15') });
    expect(res.journal.logs.some((l) => /corporate action: AAPL split 4 for 1 \(ex 2020-08-31, last close 499.23\): position 10 -> 40/.test(l.message))).toBe(
      true,
    );
  });

  it('a dividend pays a long position x amount on the ex-date and charges a short (AAPL 0.47, ex 2014-08-07)', async () => {
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', from: day('2014-07-01'), to: day('2014-08-29'), prices: 'raw' });
    const E = nextOpen(r!, '2014-08-01');
    const X = nextOpen(r!, '2014-08-20');
    const long = run([r!], hold('2014-08-01', '2014-08-20'), { sizing: { kind: 'fixed', quantity: 100 }, prices: 'raw' });
    expect(long.corporateActions!.map((x) => [x.kind, x.exDate, x.value, x.positionBefore, x.cash])).toEqual([['dividend', '2014-08-07', 0.47, 100, 47]]);
    expect(long.engine.portfolio.books[0]!.dividends).toBe(47);
    expect(long.engine.portfolio.equity() - 100_000).toBeCloseTo(100 * (X - E) + 47, 8);
    expect(long.engine.trades[0]!.pnl).toBeCloseTo(100 * (X - E) + 47, 8);
    const short = run([r!], hold('2014-08-01', '2014-08-20', 'short'), { sizing: { kind: 'fixed', quantity: 100 }, prices: 'raw' });
    expect(short.corporateActions!.map((x) => x.cash)).toEqual([-47]);
    expect(short.engine.portfolio.equity() - 100_000).toBeCloseTo(100 * (E - X) - 47, 8);
  });

  it('working orders follow a split as IB adjusts them: quantity x ratio, limit / ratio; with no whole share left, cancelled', async () => {
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', from: day('2014-06-02'), to: day('2014-06-13'), prices: 'raw' });
    const strategy: Strategy = {
      onBar(ctx, bar) {
        if (isoOf(bar.ts) !== '2014-06-04') return;
        ctx.submit({ symbol: 'AAPL', side: 'BUY', type: 'LMT', qty: 3, limit: 350, tif: 'GTC' });
        ctx.submit({ symbol: 'AAPL', side: 'SELL', type: 'STP', qty: 2, stop: 300, tif: 'GTC' });
      },
    };
    const res = run([r!], strategy, { sizing: { kind: 'fixed', quantity: 1 }, prices: 'raw' });
    const [buy, stop] = res.engine.orders;
    expect([buy!.qty, buy!.limit, buy!.status]).toEqual([{ kind: 'shares', shares: 21 }, 50, 'SUBMITTED']);
    expect([stop!.qty, stop!.stop]).toEqual([{ kind: 'shares', shares: 14 }, 300 / 7]);
    expect(res.corporateActions![0]).toMatchObject({ ordersAdjusted: 2, ordersCancelled: 0 });
  });

  it('sma-cross, rsi-reversion and donchian-breakout take the same trades raw as adjusted (AAPL 2012-2021: both splits, 35 dividends)', async () => {
    const range = { from: day('2012-01-01'), to: day('2021-03-31') };
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...range, prices: 'raw' });
    const [a] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...range, prices: 'adjusted' });
    const dates = (t: readonly Trade[]) => t.map((x) => `${isoOf(x.entryTime)}>${isoOf(x.exitTime)}`);
    for (const [name, params] of [
      ['sma-cross', {}],
      ['rsi-reversion', {}],
      ['donchian-breakout', {}],
    ] as const) {
      const cfg = { symbols: ['AAPL'], sizing: { kind: 'percent', percent: 50 } as const };
      const rr = runBacktest([r!], config({ ...cfg, prices: 'raw' }), buildSlots(name, params, ['AAPL']));
      const ra = runBacktest([a!], config({ ...cfg, prices: 'adjusted' }), buildSlots(name, params, ['AAPL']));
      expect(rr.engine.trades.length, name).toBeGreaterThan(5);
      expect(dates(rr.engine.trades), name).toEqual(dates(ra.engine.trades));
      // equity agrees to within the share rounding of each entry (well under 1%)
      expect(Math.abs(rr.engine.portfolio.equity() / ra.engine.portfolio.equity() - 1), name).toBeLessThan(0.01);
    }
  });

  it('vol-target sizing measures its volatility on the new basis after a split: the entry after it is sized as on adjusted prices', async () => {
    const range = { from: day('2014-03-01'), to: day('2014-06-20') };
    const [r] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...range, prices: 'raw' });
    const [a] = await loadBars(raw, { symbols: ['AAPL'], interval: '1d', ...range, prices: 'adjusted' });
    // buys once, three bars after the 7:1 split (ex 2014-06-09), while the 20-bar window still spans it
    const buyOn = (iso: string): Strategy => ({
      onBar(ctx, bar) {
        if (isoOf(bar.ts) === iso) ctx.buy(bar.sid);
      },
    });
    const sizing = { kind: 'vol-target', targetVol: 0.1, lookback: 20 } as const;
    const rr = run([r!], buyOn('2014-06-11'), { sizing, prices: 'raw' });
    const ra = run([a!], buyOn('2014-06-11'), { sizing, prices: 'adjusted' });
    const value = (x: typeof rr) => {
      const o = x.engine.orders[0]!;
      return (o.qty as { shares: number }).shares * o.avgFillPrice;
    };
    expect(rr.engine.orders).toHaveLength(1);
    // without the rebase the split's -86% log return dominates the window and the entry is a fraction of this
    expect(Math.abs(value(rr) / value(ra) - 1)).toBeLessThan(0.01);
  });

  it('replayHistory rebuilds an indicator from the history a context shows, oldest first', () => {
    const closes = [1, 2, 3, 4];
    const ctx = { count: () => closes.length, close: (_: number, ago: number) => closes[closes.length - 1 - ago]! } as never;
    const seen: number[] = [];
    replayHistory({ update: (x: number) => seen.push(x) }, ctx, 0);
    expect(seen).toEqual([1, 2, 3, 4]);
  });
});

describe('the books', () => {
  it('cash in lieu of a fractional share at the last close; a reverse split that leaves no whole share closes the trip', () => {
    const b = new Book('s', 10_000, 1);
    const trades: Trade[] = [];
    b.apply({ orderId: 1, strategy: 's', symbol: 'X', sid: 0, ts: 0, qty: 3, price: 90, commission: 0, execId: 'a' }, trades);
    // 3-for-2: 4.5 shares, 4 kept, 0.5 paid at 120 / 1.5 = 80; cost 90 / 1.5 = 60 a share
    expect(b.applySplit(0, 1.5, 120, 1, 'X', trades)).toBe(40);
    expect([b.qty[0], b.avgCost[0], b.cash, b.realized]).toEqual([4, 60, 10_000 - 270 + 40, 0.5 * (80 - 60)]);
    // 1-for-10 on 4 shares: 0.4 of a share at 50 / 0.1 = 500, nothing left
    expect(b.applySplit(0, 0.1, 50, 2, 'X', trades)).toBeCloseTo(200, 10);
    expect(b.qty[0]).toBe(0);
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ symbol: 'X', side: 'LONG', exitTime: 2, quantity: 0.45 });
    expect(trades[0]!.pnl).toBeCloseTo(40 - 30 + 200 - 0.4 * 600, 8); // 3 bought for 270, 40 + 200 back
  });
});

describe('price modes', () => {
  const basis = (o: Record<string, PriceBasis>) => new Map(Object.entries(o));
  it('raw by default where every symbol is stored raw; adjusted, or as stored, otherwise; raw refused on other bases', () => {
    expect(resolvePrices(undefined, basis({ AAPL: 'raw', SPY: 'raw' }), ['AAPL', 'SPY'])).toBe('raw');
    expect(resolvePrices('adjusted', basis({ AAPL: 'raw' }), ['AAPL'])).toBe('adjusted');
    expect(resolvePrices(undefined, basis({ AAPL: 'adjusted' }), ['AAPL'])).toBe('adjusted');
    expect(resolvePrices(undefined, basis({ AAPL: 'raw', X: 'unknown' }), ['AAPL', 'X'])).toBe('adjusted');
    expect(resolvePrices(undefined, basis({}), ['AAPL'])).toBe('as-stored');
    expect(() => resolvePrices('raw', basis({ AAPL: 'adjusted' }), ['AAPL'])).toThrow(/--prices raw needs raw bars .* AAPL \(stored adjusted\).*--factors DIR/);
  });

  it('per-share commissions on adjusted or unknown-basis prices are warned about, with what to do', () => {
    expect(perShareWarning({ model: 'ibkr-fixed' }, 'raw')).toBeNull();
    expect(perShareWarning({ model: 'percent' }, 'adjusted')).toBeNull();
    expect(perShareWarning({ model: 'none' }, 'as-stored')).toBeNull();
    for (const model of ['ibkr-fixed', 'ibkr-tiered', 'per-share']) {
      expect(perShareWarning({ model }, 'adjusted')).toMatch(/charged per share, and this run trades split-adjusted prices .*--prices raw/);
    }
    expect(perShareWarning({ model: 'ibkr-fixed' }, 'as-stored', ['AAPL'])).toMatch(/prices of unknown basis \(AAPL\), probably split-adjusted/);
  });
});

describe('price basis of an import', () => {
  it('--adjusted records adjusted files, no flag unknown, --factors raw; --adjusted with --factors is refused', async () => {
    const s = await openStore(':memory:');
    try {
      const aapl = path.join(DAILY, 'aapl.csv');
      const basis = async () => (await s.conn.runAndReadAll(`SELECT basis FROM price_basis WHERE symbol = 'AAPL'`)).getRowObjectsJS()[0]!.basis;
      await importPaths(s, [aapl], { interval: '1d' });
      expect(await basis()).toBe('unknown');
      await importPaths(s, [aapl], { interval: '1d', adjustedFiles: true });
      expect(await basis()).toBe('adjusted');
      await importPaths(s, [aapl], { interval: '1d', factorsDir: FACTORS });
      expect(await basis()).toBe('raw');
      await expect(importPaths(s, [aapl], { interval: '1d', factorsDir: FACTORS, adjustedFiles: true })).rejects.toThrow(/give one/);
    } finally {
      s.close();
    }
  });

  it('npm run import --factors says how many actions it stored; --adjusted is recorded', { timeout: 60_000 }, () => {
    const db = path.join(tmp.dir, 'cli-import.duckdb');
    const r = runCli('import.ts', [path.join(DAILY, 'aapl.csv'), '--interval', '1d', '--factors', FACTORS, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/; 1 stored raw with factor files, 39 splits and dividends/);
    const a = runCli('import.ts', [path.join(DAILY, 'spy.csv'), '--interval', '1d', '--adjusted', '--db', db]);
    expect(a.code, a.stderr).toBe(0);
  });
});

describe('databases from before raw storage', () => {
  /** bars and instruments only, the bars adjusted as the old import stored them (no price tables) */
  async function oldStyleDb(file: string): Promise<void> {
    const inst = await DuckDBInstance.create(file);
    const conn = await inst.connect();
    await conn.run(`
CREATE TABLE instruments (symbol VARCHAR PRIMARY KEY, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, sector VARCHAR, tick_size DOUBLE, tz VARCHAR);
CREATE TABLE bars (symbol VARCHAR NOT NULL, "interval" VARCHAR NOT NULL, ts BIGINT NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);
ATTACH '${path.join(tmp.dir, 'old.duckdb')}' AS src (READ_ONLY);
INSERT INTO instruments SELECT symbol, sec_type, exchange, currency, sector, tick_size, tz FROM src.instruments;
INSERT INTO bars SELECT * FROM src.bars;
DETACH src;`);
    conn.closeSync();
    inst.closeSync();
  }

  it('still load as stored (no basis: as-stored), and a backtest on them warns about per-share commissions', { timeout: 120_000 }, async () => {
    old.close();
    const file = path.join(tmp.dir, 'old-style.duckdb');
    await oldStyleDb(file);
    old = await openStore(path.join(tmp.dir, 'old.duckdb'));
    const s = await openStore(file, { readOnly: true });
    try {
      const [a] = await loadBars(s, { symbols: ['AAPL'], interval: '1d', prices: 'raw' });
      const [b] = await loadBars(old, { symbols: ['AAPL'], interval: '1d' });
      expect([...a!.close]).toEqual([...b!.close]);
    } finally {
      s.close();
    }
    const out = path.join(tmp.dir, 'bt-old');
    const args = ['--data', file, '--symbols', 'AAPL', '--from', '2014-01-01', '--to', '2014-12-31', '--commission', 'ibkr-fixed', '--out', out];
    const r = runCli('backtest.ts', args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: commission ibkr-fixed is charged per share, and this run trades prices of unknown basis \(AAPL\)/);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.config.prices).toBe('as-stored');
    expect(report.warnings[0]).toMatch(/unknown basis/);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('class="run-warning"');
    expect(runCli('backtest.ts', [...args, '--prices', 'raw']).stderr).toMatch(
      /error: --prices raw needs raw bars with their corporate actions, and AAPL \(of unknown basis/,
    );
  });

  it('ensureSampleDb imports an adjusted sample database again, raw with its actions', { timeout: 120_000 }, async () => {
    const file = path.join(tmp.dir, 'old-sample.duckdb');
    await oldStyleDb(file);
    const quiet = process.stderr.write;
    const said: string[] = [];
    process.stderr.write = ((m: string) => said.push(String(m)) > 0) as typeof process.stderr.write;
    try {
      expect(await ensureSampleDb(file)).toBe(true);
      expect(await ensureSampleDb(file)).toBe(false);
    } finally {
      process.stderr.write = quiet;
    }
    expect(said.join('')).toMatch(/held the sample adjusted \(imported before raw prices\): imported the bundled sample/);
    const s = await openStore(file, { readOnly: true });
    try {
      const [a] = await loadBars(s, { symbols: ['AAPL'], interval: '1d', from: day('2014-06-06'), to: day('2014-06-09') });
      expect([...a!.close]).toEqual([645.57, 93.7]);
    } finally {
      s.close();
    }
  });
});

describe('npm run backtest on the bundled sample: raw by default', () => {
  it('names the price mode, lists the actions it applied and journals them; --prices adjusted warns about ibkr-fixed', { timeout: 120_000 }, () => {
    const env = { TRADEBENCH_SAMPLE_DB: rawDb };
    raw.close(); // the CLI reads it as the sample database
    {
      const out = path.join(tmp.dir, 'bt-raw');
      const args = ['--symbols', 'AAPL', '--from', '2014-01-01', '--to', '2014-12-31', '--strategy', 'sma-cross', '--sizing', 'fixed', '--quantity', '10'];
      const r = runCli('backtest.ts', [...args, '--commission', 'ibkr-fixed', '--out', out], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/warning: commission/);
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(report.config.prices).toBe('raw');
      expect(report.tradebench.conventions.some((c: string) => c.startsWith('Prices: raw (as traded)'))).toBe(true);
      expect(report.corporateActions.map((a: { exDate: string; kind: string }) => `${a.kind} ${a.exDate}`)).toEqual([
        'dividend 2014-02-06',
        'dividend 2014-05-08',
        'split 2014-06-09',
        'dividend 2014-08-07',
        'dividend 2014-11-06',
      ]);
      expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/Corporate actions <span class="count">5<\/span>/);
      expect(existsSync(path.join(out, 'journal.duckdb'))).toBe(true);

      const adj = runCli('backtest.ts', [...args, '--commission', 'ibkr-fixed', '--prices', 'adjusted', '--out', path.join(tmp.dir, 'bt-adj')], env);
      expect(adj.code, adj.stderr).toBe(0);
      expect(adj.stderr).toMatch(/warning: commission ibkr-fixed is charged per share, and this run trades split-adjusted prices \(--prices adjusted\)/);
      const ra = JSON.parse(readFileSync(path.join(tmp.dir, 'bt-adj', 'report.json'), 'utf8'));
      expect(ra.config.prices).toBe('adjusted');
      expect(ra.corporateActions).toBeUndefined();
    }
  });
});
