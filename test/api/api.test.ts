// The notebook API (engine/index.ts, `import * as tb from 'tradebench'`) on the bundled sample, in process:
// every function, the DataFrames' shapes, dtypes and values against the report.json object of the same run.
import { inspect } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setHtmlSink } from '../../engine/api/display.ts';
import type { DataFrame } from '../../engine/api/frame.ts';
import * as tb from '../../engine/index.ts';
import { loadRunSeries } from '../../engine/run/run-data.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { ensureSampleDb } from '../../engine/data/sample.ts';

const col = (df: DataFrame, c: string) => df.column(c).values as unknown[];
const sum = (xs: unknown[]) => (xs as number[]).reduce((a, b) => a + b, 0);
/** Every value of every column is a number, a string, a boolean or a Date: never a BigInt, null or '6.5%'. */
function plainValues(df: DataFrame, numeric: string[], dates: string[]): void {
  for (const c of numeric)
    expect(
      col(df, c).every((v) => typeof v === 'number'),
      c,
    ).toBe(true);
  for (const c of dates)
    expect(
      col(df, c).every((v) => v instanceof Date && !Number.isNaN(v.getTime())),
      c,
    ).toBe(true);
}

const RUN = { strategy: 'sma-cross', params: { fast: 20, slow: 100 }, symbols: ['AAPL', 'SPY'], from: '2010-01-01', to: '2020-12-31' } as const;
let result: tb.Result;

beforeAll(async () => {
  await ensureSampleDb(SAMPLE_DB_PATH);
  result = await tb.backtest({ ...RUN, symbols: [...RUN.symbols] });
});
afterEach(() => setHtmlSink(undefined));

describe('tb.bars', () => {
  it('returns one row per stored bar: date as a Date, symbol, OHLCV as numbers', async () => {
    const df = await tb.bars(['AAPL', 'SPY'], { from: '2020-01-01', to: '2020-06-30' });
    expect(df.columns).toEqual(['date', 'symbol', 'open', 'high', 'low', 'close', 'volume']);
    const { series } = await loadRunSeries({ data: SAMPLE_DB_PATH, symbols: ['AAPL', 'SPY'], interval: '1d', from: undefined, to: undefined, tz: 'UTC' });
    const inRange = series.map((s) => [...s.ts].filter((t) => t >= Date.UTC(2020, 0, 1) && t < Date.UTC(2020, 6, 1)).length);
    expect(df.shape).toEqual([inRange[0] + inRange[1], 7]);
    plainValues(df, ['open', 'high', 'low', 'close', 'volume'], ['date']);
    expect(col(df, 'symbol')[0]).toBe('AAPL');
    expect((col(df, 'date')[0] as Date).toISOString()).toBe('2020-01-02T00:00:00.000Z');
  });
  it('intraday bars under rth (the default) are the regular session only; extended gives every stored bar', async () => {
    const rth = await tb.bars(['SPY'], { interval: '1m', from: '2013-10-07', to: '2013-10-07' });
    const ext = await tb.bars(['SPY'], { interval: '1m', from: '2013-10-07', to: '2013-10-07', session: 'extended' });
    expect(rth.shape[0]).toBe(390);
    expect(ext.shape[0]).toBeGreaterThan(390);
  });
});

describe('tb.backtest', () => {
  it('runs with the run defaults (RUN_DEFAULTS, the sample, rth, its raw prices) as npm run backtest does', () => {
    const c = result.report.config as Record<string, unknown>;
    expect(c.data).toBe(SAMPLE_DB_PATH);
    expect(c.commission).toEqual({ model: tb.RUN_DEFAULTS.commission });
    expect(c.sizing).toEqual({ kind: tb.RUN_DEFAULTS.sizing });
    expect((c.risk as { name: string }).name).toBe(tb.RUN_DEFAULTS.risk);
    expect(c.session).toBe('rth');
    expect(c.prices).toBe('raw');
    expect(c.params).toEqual({ fast: 20, slow: 100 });
    expect(result.metrics).toBe(result.report.metrics);
    expect(result.report.trades.length).toBeGreaterThan(10);
  });
  it('trades(): one row per report trade, the same P&L, times as Dates', () => {
    const df = result.trades();
    expect(df.shape).toEqual([result.report.trades.length, 10]);
    expect(sum(col(df, 'pnl'))).toBeCloseTo(sum(result.report.trades.map((t) => t.pnl)), 9);
    plainValues(df, ['entryPrice', 'exitPrice', 'quantity', 'pnl', 'commission'], ['entryTime', 'exitTime']);
    expect((col(df, 'exitTime')[0] as Date).toISOString()).toBe(result.report.trades[0].exitTime);
  });
  it('orders() and fills(): every order and fill of the report, commissions adding up to the metrics', () => {
    const o = result.orders();
    const f = result.fills();
    expect(o.shape[0]).toBe(result.report.orders.length);
    expect(f.shape[0]).toBe(result.report.fills.length);
    plainValues(o, ['id', 'quantity', 'filledQty', 'avgFillPrice', 'commission'], ['submittedAt']);
    plainValues(f, ['orderId', 'quantity', 'price', 'commission'], ['time']);
    expect(sum(col(f, 'commission'))).toBeCloseTo(result.metrics.totalCommission, 6);
    // the fills add up to the open positions, less what splits added (raw prices)
    expect(sum(col(f, 'quantity')) + splitShares()).toBe(sum(result.report.openPositions.map((p) => p.quantity)));
  });
  it('positions(), equity() and returns() match the report', () => {
    const p = result.positions();
    expect(p.shape[0]).toBe(result.report.openPositions.length);
    const e = result.equity();
    expect(e.columns).toEqual(['date', 'equity', 'cash', 'drawdown', 'exposure', 'benchmark']);
    expect(e.shape[0]).toBe(result.report.equity.length);
    expect(col(e, 'equity').at(-1)).toBe(result.report.finalEquity);
    expect(col(e, 'benchmark')).toEqual(result.report.benchmark!.equity);
    plainValues(e, ['equity', 'cash', 'drawdown', 'exposure', 'benchmark'], ['date']);
    const r = result.returns();
    expect(r.shape[0]).toBe(result.report.equity.length - 1);
    const growth = (col(r, 'return') as number[]).reduce((g, x) => g * (1 + x), 1);
    expect(growth - 1).toBeCloseTo(result.metrics.totalReturn!, 9);
  });
  it('stats(): metric, value and the benchmark beside it, all numbers', () => {
    const s = result.stats();
    expect(s.columns).toEqual(['metric', 'value', 'SPY']);
    const metric = col(s, 'metric') as string[];
    const value = col(s, 'value') as number[];
    expect(value[metric.indexOf('sharpe')]).toBe(result.metrics.sharpe);
    expect(value[metric.indexOf('tradeCount')]).toBe(result.report.trades.length);
    plainValues(s, ['value', 'SPY'], []);
    const spy = col(s, 'SPY') as number[];
    const b = result.report.benchmark!.equity;
    expect(spy[metric.indexOf('totalReturn')]).toBeCloseTo(b.at(-1)! / b[0] - 1, 12);
    expect(spy[metric.indexOf('tradeCount')]).toBeNaN();
  });
  it('monthly(): the months compound to the total return', () => {
    const m = result.monthly();
    const growth = (col(m, 'return') as number[]).reduce((g, x) => g * (1 + x), 1);
    expect(growth - 1).toBeCloseTo(result.metrics.totalReturn!, 9);
    expect(m.shape[0]).toBe(new Set(result.report.equity.map((e) => e.date.slice(0, 7))).size);
  });
  it('plot(kind) returns the figure of every kind, and displays it inline with plotly sent once', () => {
    const shown: string[] = [];
    setHtmlSink((h) => shown.push(h));
    for (const kind of ['equity', 'drawdown', 'rolling', 'exposure', 'trades', 'monthly'] as const) {
      const f = result.plot(kind);
      expect(f.traces.length).toBeGreaterThan(0);
    }
    expect(shown).toHaveLength(6);
    const withBundle = shown.filter((h) => h.length > 1_000_000);
    expect(withBundle).toHaveLength(1);
    expect(shown[0]).toBe(withBundle[0]);
    for (const h of shown) expect(h).toContain('Plotly.newPlot');
    expect(shown.slice(1).every((h) => h.length < 600_000)).toBe(true);
  });
  it('table(df) displays an HTML table of the first rows; frames and figures print short as a cell value', () => {
    const shown: string[] = [];
    setHtmlSink((h) => shown.push(h));
    expect(tb.table(result.trades(), 5)).toBeUndefined(); // as a cell's last value it prints nothing more
    const html = tb.tableHtml(result.trades(), 5);
    expect(shown).toEqual([html]);
    expect(html.match(/<tr>/g)).toHaveLength(6);
    expect(html).toContain(`${result.report.trades.length - 5} more rows of ${result.report.trades.length}`);
    expect(html).toContain(`<td>${result.report.trades[0].entryTime.slice(0, 10)}</td>`);
    expect(inspect(result.stats())).toContain('sharpe');
    expect(inspect(result.stats())).not.toContain('$data');
    const derived = result.trades().query((col(result.trades(), 'pnl') as number[]).map((p) => p > 0));
    expect(inspect(derived)).toContain('pnl');
    expect(inspect(derived)).not.toContain('$data');
    expect(inspect(derived.column('pnl'))).not.toContain('$data');
    expect(inspect(result.plot('equity'))).toMatch(/^Figure \(\d+ traces, \d+ px\)$/);
  });
  it('candles(symbol): the bars of one of the run symbols as candlesticks, its trades on top', async () => {
    const f = await result.candles('aapl', { from: '2019-01-01' });
    const [c, volume, entries, exits] = f.traces as Record<string, unknown[]>[];
    expect(c.type).toBe('candlestick');
    const { series } = await loadRunSeries({ data: SAMPLE_DB_PATH, symbols: ['AAPL'], interval: '1d', from: '2019-01-01', to: RUN.to, tz: 'UTC' });
    expect(c.x).toEqual(Array.from(series[0].ts, (t) => new Date(t).toISOString().slice(0, 10)));
    expect(c.close).toEqual(Array.from(series[0].close));
    expect(volume.y).toEqual(Array.from(series[0].volume));
    const aapl = result.report.trades.filter((t) => t.symbol === 'AAPL');
    expect(entries.y).toEqual(aapl.map((t) => t.entryPrice));
    expect(exits.y).toEqual(aapl.map((t) => t.exitPrice));
    await expect(result.candles('MSFT')).rejects.toThrow(/MSFT is not in this run \(AAPL, SPY\)/);
    const spy = await tb.candles('SPY', { from: '2020-03-02', to: '2020-03-06' });
    expect(spy.traces[0].x).toEqual(['2020-03-02', '2020-03-03', '2020-03-04', '2020-03-05', '2020-03-06']);
    expect(spy.traces).toHaveLength(2); // no trades: candles and volume
  });
  it('plot() displays nothing outside a kernel and still returns the figure', () => {
    expect(result.plot('equity').traces.length).toBeGreaterThan(0);
  });
  it('refuses unknown strategies and bad params before reading data', async () => {
    await expect(tb.backtest({ strategy: 'nope' })).rejects.toThrow(/unknown strategy 'nope'/);
    await expect(tb.backtest({ strategy: 'sma-cross', params: { fast: 50, slow: 10 } })).rejects.toThrow(/fast/);
  });
});

/** The shares splits added to positions during the run. */
function splitShares(): number {
  return sum((result.report.corporateActions ?? []).map((a) => a.positionAfter - a.positionBefore));
}

const ONE_SHARE = tb.defineStrategy({
  name: 'buy-first-bar',
  description: 'buys each symbol once on its first bar and holds',
  params: { qty: { type: 'int', default: 1, min: 1, description: 'unused' } },
  create(p, symbols) {
    const bought = symbols.map(() => false);
    return {
      onBar(ctx, { sid }) {
        if (!bought[sid] && p.qty > 0) {
          bought[sid] = true;
          ctx.buy(sid);
        }
      },
    };
  },
});

describe('inline strategies (tb.defineStrategy, no file, no registration)', () => {
  it('backtests an inline definition', async () => {
    const r = await tb.backtest({ strategy: ONE_SHARE, symbols: ['SPY'], from: '2019-01-01', to: '2019-12-31', commission: 'none' });
    expect(r.config.strategy).toBe('buy-first-bar');
    expect(r.fills().shape[0]).toBe(1);
    expect(r.positions().shape[0]).toBe(1);
    expect(r.trades().shape[0]).toBe(0);
    expect(r.trades().columns).toContain('pnl');
  });
  it('sweeps an inline definition (in this thread) and cannot promote it', async () => {
    const s = await tb.sweep({ strategy: ONE_SHARE, grid: { qty: [1, 2] }, symbols: ['SPY'], from: '2019-01-01', to: '2019-12-31' });
    expect(s.shape[0]).toBe(2);
    expect(col(s, 'finalEquity')[0]).toBe(col(s, 'finalEquity')[1]);
  });
  it('promote: an inline copy of sma-cross gets the evidence of the registered one, and no record', async () => {
    const copy = tb.defineStrategy({ ...(tb.STRATEGIES['sma-cross'] as tb.DefinedStrategy<tb.ParamSchema>).definition, name: 'sma-copy' });
    const r = await tb.backtest({ ...RUN, symbols: [...RUN.symbols], strategy: copy });
    expect(r.metrics).toEqual(result.metrics);
    const inline = await tb.promote(r, { minTrades: 1 }, { walkForward: 'train=3y,test=1y' });
    const registered = await tb.promote(result, { minTrades: 1 }, { walkForward: 'train=3y,test=1y', workers: 1 });
    expect(inline.evidence).toEqual(registered.evidence);
    expect(inline.failures).toEqual(registered.failures);
    expect(inline.record).toBeUndefined();
    expect(() => inline.write()).toThrow(/inline definition/);
  });
});

describe('tb.sweep, tb.heatmap, tb.compare, tb.promote', () => {
  it('sweep: one row per combination, params as columns, the metrics of the same backtest', async () => {
    const s = await tb.sweep({
      strategy: 'sma-cross',
      grid: { fast: [10, 20], slow: [50, 100] },
      symbols: [...RUN.symbols],
      from: RUN.from,
      to: RUN.to,
      workers: 1,
    });
    expect(s.shape[0]).toBe(4);
    expect(s.columns.slice(0, 2)).toEqual(['fast', 'slow']);
    plainValues(s, ['fast', 'slow', 'bars', 'finalEquity', 'sharpe', 'maxDrawdown', 'trades'], ['from', 'to']);
    const i = (col(s, 'fast') as number[]).findIndex((f, k) => f === 20 && col(s, 'slow')[k] === 100);
    expect(col(s, 'sharpe')[i]).toBe(result.metrics.sharpe);
    expect(col(s, 'trades')[i]).toBe(result.metrics.tradeCount);
    expect(col(s, 'finalEquity')[i]).toBeCloseTo(result.report.finalEquity, 6);
    const h = s.heatmap('fast', 'slow');
    expect(h.traces[0].z).toEqual([
      [col(s, 'sharpe')[0], col(s, 'sharpe')[2]],
      [col(s, 'sharpe')[1], col(s, 'sharpe')[3]],
    ]);
    expect(tb.heatmap(s, 'fast', 'slow', 'trades').traces[0].x).toEqual(['10', '20']);
  });
  it('sweep with walkForward: train and test rows per window', async () => {
    const s = await tb.sweep({ strategy: 'sma-cross', grid: { fast: [10, 20] }, symbols: ['SPY'], walkForward: 'train=5y,test=5y', workers: 1 });
    expect(s.windows.length).toBeGreaterThan(0);
    expect(s.shape[0]).toBe(2 * 2 * s.windows.length);
    expect(new Set(col(s, 'phase'))).toEqual(new Set(['train', 'test']));
    const w = s.walkForward();
    expect(w.shape).toEqual([s.windows.length, 8]);
    expect(col(w, 'outOfSampleShortRun')).toEqual(s.windows.map(() => false));
    // each window's best in-sample Sharpe is the largest of its training rows
    const train = (k: number) => (col(s, 'sharpe') as number[]).filter((_, i) => col(s, 'window')[i] === k && col(s, 'phase')[i] === 'train');
    expect(col(w, 'inSampleSharpe')[0]).toBe(Math.max(...train(0)));
    expect((await tb.sweep({ strategy: 'sma-cross', grid: { fast: [10] }, symbols: ['SPY'], to: '2000-12-31', workers: 1 })).walkForward().shape[0]).toBe(0);
  });
  it('compare: metrics side by side and an equity chart', async () => {
    const other = await tb.backtest({ ...RUN, symbols: [...RUN.symbols], strategy: 'rsi-reversion', params: {} });
    const c = tb.compare([result, other], ['sma', 'rsi']);
    expect(c.columns).toEqual(['metric', 'sma', 'rsi']);
    const metric = col(c, 'metric') as string[];
    expect(col(c, 'rsi')[metric.indexOf('sharpe')]).toBe(other.metrics.sharpe ?? Number.NaN);
    expect(c.figure.traces).toHaveLength(2);
    expect(tb.compare([result, result]).columns.slice(1)).toEqual([`${result.name} #1`, `${result.name} #2`]);
  });
  it('promote: the promotion check of npm run promote on the run', async () => {
    const p = await tb.promote(result, { minTrades: 1 }, { workers: 1 });
    expect(p.evidence.sharpe).toBe(result.metrics.sharpe);
    expect(p.evidence.trades).toBe(result.metrics.tradeCount);
    expect(p.record!.thresholds.minTrades).toBe(1);
    expect(p.promoted).toBe(p.failures.length === 0);
    const strict = await tb.promote(result, { minSharpe: 99 }, { workers: 1 });
    expect(strict.promoted).toBe(false);
    expect(() => strict.write('/nonexistent')).toThrow(/not promoted/);
  });
  it('exports the run defaults', () => {
    expect(tb.RUN_DEFAULTS).toEqual({ commission: 'ibkr-fixed', slippage: 'none', sizing: 'equal-weight', risk: 'research' });
    expect(tb.defaultRunSettings().sizing).toEqual({ kind: 'equal-weight' });
  });
});
