import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Order } from '../../engine/core/types.ts';
import {
  buildReport,
  plotlyBundle,
  renderReportHtml,
  toReportBenchmark,
  toReportOrder,
  writeReport,
  type OrderLike,
  type Report,
} from '../../engine/report/index.ts';
import { sampleReport } from './sample-report.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { backtestReport } from '../../engine/run/backtest-report.ts';
import { config } from '../engine/harness.ts';
import { escapeHtml, fmtNum, fmtPct, fmtPrice, fmtValue, jsonForScript } from '../../engine/report/format.ts';

const EVIL = '<img src=x onerror=alert(1)>';
const EVIL_MSG = 'bad </script><script>alert("x")</script> & <!-- done';

function evilReport(): Report {
  const r = sampleReport({ symbols: [EVIL, 'MSFT'], days: 120 });
  r.riskEvents[0].message = EVIL_MSG;
  r.orders[r.orders.length - 1].reason = EVIL_MSG;
  return r;
}

/** The page without the inlined plotly bundle (whose text holds URLs that are never fetched). */
function withoutPlotly(html: string): string {
  const bundle = plotlyBundle();
  const i = html.indexOf(bundle);
  expect(i).toBeGreaterThan(0);
  return html.slice(0, i) + html.slice(i + bundle.length);
}

function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="tradebench-report">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

describe('renderReportHtml', () => {
  const report = evilReport();
  const html = renderReportHtml(report);

  it('is standalone: no external src, href, stylesheet or import', () => {
    const page = withoutPlotly(html);
    expect(page).not.toMatch(/https?:\/\//i);
    expect(page).not.toMatch(/<script[^>]*\ssrc\s*=/i);
    expect(page).not.toMatch(/<link[^>]*href\s*=/i);
    expect(page).not.toMatch(/<(img|iframe|object|embed)\b/i);
    expect(page).not.toMatch(/@import|url\(/i);
    // anywhere in the file, bundle included: no tag that loads a URL
    expect(html).not.toMatch(/<script[^>]*\ssrc\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/<link[^>]*href\s*=\s*["']?https?:/i);
  });

  it('inlines plotly and has exactly four script elements (report JSON, figures JSON, plotly, the drawing script)', () => {
    expect(html).toContain('plotly.js v4');
    expect(html.match(/<script\b/gi)).toHaveLength(4);
    expect(html.match(/<\/script>/gi)).toHaveLength(4);
  });

  it('embeds the report as JSON that parses back to the same value', () => {
    expect(embedded(html)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('escapes interpolated text (symbols, reasons, messages)', () => {
    const page = withoutPlotly(html);
    expect(page).not.toContain(EVIL);
    expect(page).not.toContain('<script>alert');
    expect(page).toContain(escapeHtml(EVIL));
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)');
    expect(page).not.toMatch(/<!--/);
  });

  it('shows the header, the tables and the conventions', () => {
    // the title shows the params, the line under it the rest of the run's config
    expect(html).toMatch(/<h1>sma-cross <span class="params"[^>]*>\{&quot;fast&quot;:10,&quot;slow&quot;:40\}<\/span><\/h1>/);
    expect(html).toMatch(/class="subtitle run-settings".*interval<\/span> 1d.*commission<\/span> ibkr-fixed.*slippage<\/span> none/);
    expect(html).toContain(`${escapeHtml(EVIL)}, MSFT`);
    expect(html).toContain('2022-01-03 → ');
    for (const id of ['chart-equity', 'chart-drawdown', 'chart-rolling', 'chart-exposure', 'chart-monthly', 'chart-trades'])
      expect(html).toContain(`id="${id}"`);
    // the benchmark's name reaches plotly escaped (plotly renders HTML in trace names)
    expect(html).toContain(`"name":${jsonForScript(`Buy &amp; hold ${escapeHtml(EVIL)}`)}`);
    for (const title of [
      'Metrics',
      'Equity',
      'Drawdown',
      'Rolling Sharpe and volatility (63 days)',
      'Exposure',
      'Monthly returns',
      'Open positions',
      'Risk events',
      'Orders',
      'Run config',
      'Conventions',
    ]) {
      expect(html).toContain(`<h2>${title}`);
    }
    expect(html).toContain('marked at the last close, not sold');
    expect(html).toContain(fmtPct(report.metrics.totalReturn));
  });

  it('renders an empty run without failing', () => {
    const r = buildReport({
      version: '0.0.0',
      config: {},
      startingCash: 1000,
      equity: [],
      trades: [],
      fills: [],
      orders: [],
      riskEvents: [],
      openPositions: [],
    });
    const page = renderReportHtml(r);
    expect(page).toContain('No closed trades.');
    expect(page).not.toContain('id="chart-trades"');
    expect(r.finalEquity).toBe(1000);
  });
});

describe('buildReport', () => {
  const r = sampleReport({ days: 60 });

  it('keeps the documented key order and ISO times', () => {
    expect(Object.keys(r)).toEqual([
      'tradebench',
      'config',
      'startingCash',
      'finalEquity',
      'metrics',
      'annualisedNote',
      'trades',
      'openPositions',
      'attribution',
      'orders',
      'fills',
      'riskEvents',
      'equity',
      'benchmark',
      'rolling',
      'benchmarkStats',
      'drawdowns',
      'distribution',
    ]);
    expect(Object.keys(r.equity[0])).toEqual(['date', 'equity', 'cash', 'drawdown', 'exposure']);
    expect(Object.keys(r.benchmark!)).toEqual(['symbol', 'equity']);
    expect(Object.keys(r.rolling)).toEqual(['window', 'sharpe', 'volatility']);
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    for (const t of r.trades) expect(t.entryTime).toMatch(iso);
    for (const f of r.fills) expect(f.time).toMatch(iso);
    for (const o of r.orders) expect(o.submittedAt).toMatch(iso);
    for (const e of r.riskEvents) expect(e.time).toMatch(iso);
    for (const e of r.equity) expect(e.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.metrics.maxDrawdownStart === null || iso.test(r.metrics.maxDrawdownStart)).toBe(true);
    expect(r.equity[0].drawdown).toBe(0);
    expect(r.finalEquity).toBe(r.equity[r.equity.length - 1].equity);
    expect(r.tradebench.conventions.join(' ')).toMatch(/ddof = 1/);
    expect(r.tradebench.conventions.join(' ')).toMatch(/252 periods a year/);
  });

  it('has a benchmark, rolling series and exposure aligned with the equity rows', () => {
    const big = sampleReport({ days: 200 });
    const n = big.equity.length;
    expect(big.benchmark!.symbol).toBe('AAPL');
    expect(big.benchmark!.equity).toHaveLength(n);
    expect(big.benchmark!.equity[0]).toBe(big.startingCash);
    expect(big.rolling.window).toBe(63);
    expect(big.rolling.sharpe).toHaveLength(n);
    expect(big.rolling.volatility).toHaveLength(n);
    // row i uses the 63 returns ending at row i: null through row 62, a number from row 63
    expect(big.rolling.sharpe.slice(0, 63).every((x) => x === null)).toBe(true);
    expect(big.rolling.volatility.slice(0, 63).every((x) => x === null)).toBe(true);
    expect(big.rolling.volatility.slice(63).every((x) => typeof x === 'number' && x > 0)).toBe(true);
    const E = big.equity.map((e) => e.equity);
    const r = E.slice(1, 64).map((e, i) => e / E[i] - 1);
    const m = r.reduce((a, b) => a + b, 0) / 63;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / 62);
    expect(big.rolling.volatility[63]).toBeCloseTo(sd * Math.sqrt(252), 10);
    expect(big.rolling.sharpe[63]).toBeCloseTo((m / sd) * Math.sqrt(252), 8);
    for (const e of big.equity) {
      expect(e.exposure).not.toBeNull();
      expect(e.exposure!).toBeGreaterThanOrEqual(0);
    }
    expect(big.equity.some((e) => e.exposure! > 0)).toBe(true);
    expect(big.equity.some((e) => e.exposure === 0)).toBe(true);
  });

  it('aligns the benchmark by date, carrying the last close forward over days without a bar', () => {
    const d = (s: string) => Date.parse(`${s}T00:00:00Z`);
    const dates = ['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08'];
    const equity = dates.map((s) => ({ ts: d(s), equity: 1000, cash: 1000 }));
    const rr = buildReport({
      version: '0',
      config: {},
      startingCash: 1000,
      equity,
      trades: [],
      fills: [],
      orders: [],
      riskEvents: [],
      openPositions: [],
      exposure: [0, 500, 1000, 0, 0],
      // no bar on 01-04 and 01-08; an extra bar on 01-06 (after 01-05, before 01-08)
      benchmark: { symbol: 'SPY', ts: [d('2024-01-02'), d('2024-01-03'), d('2024-01-05'), d('2024-01-06')], close: [100, 110, 90, 120] },
    });
    expect(rr.benchmark).toEqual({ symbol: 'SPY', equity: [1000, 1100, 1100, 900, 1200] });
    expect(rr.equity.map((e) => e.exposure)).toEqual([0, 0.5, 1, 0, 0]);
    // the symbol starts after the run: flat at the starting cash until its first close
    const late = toReportBenchmark(equity, 1000, { symbol: 'X', ts: [d('2024-01-04')], close: [50] });
    expect(late.equity).toEqual([1000, 1000, 1000, 1000, 1000]);
    // no gross values given: exposure unknown; rolling still aligned (all null for a short run)
    const bare = buildReport({ version: '0', config: {}, startingCash: 1000, equity, trades: [], fills: [], orders: [], riskEvents: [], openPositions: [] });
    expect(bare.equity.every((e) => e.exposure === null)).toBe(true);
    expect(bare.benchmark).toBeUndefined();
    expect(bare.rolling).toEqual({ window: 63, sharpe: [null, null, null, null, null], volatility: [null, null, null, null, null] });
  });

  it('a backtest records the first benchmark close and one close per day (the last bar of the day), and reports it per equity row', () => {
    const DAY = 86_400_000;
    const t0 = Date.UTC(2024, 0, 2, 14, 30);
    const ts: number[] = [];
    const close: number[] = [];
    for (let day = 0; day < 3; day++)
      for (let k = 0; k < 4; k++) {
        ts.push(t0 + day * DAY + k * 60_000);
        close.push(100 + day * 10 + k);
      }
    const f = Float64Array.from(ts);
    const c = Float64Array.from(close);
    const series = [{ symbol: 'SPY', interval: '1m' as const, ts: f, open: c, high: c, low: c, close: c, volume: c.map(() => 1000) }];
    const res = runBacktest(series, config({ symbols: ['SPY'], interval: '1m', tz: 'UTC' }), [{ name: 'idle', strategy: { onBar() {} }, weight: 1 }]);
    expect(res.benchmark).toEqual({ symbol: 'SPY', ts: [ts[0], ts[3], ts[7], ts[11]], close: [100, 103, 113, 123] });
    const rep = backtestReport(res, 'test');
    expect(rep.benchmark!.symbol).toBe('SPY');
    expect(rep.benchmark!.equity).toHaveLength(rep.equity.length);
    const eq = res.journal.equityCurve;
    expect(eq.map((p) => p.ts)).toEqual([ts[0], ts[3], ts[7], ts[11]]);
    expect(rep.benchmark!.equity).toEqual([100_000, 103_000, 113_000, 123_000]);
    expect(() => runBacktest(series, config({ symbols: ['SPY'], benchmark: 'QQQ' }), [])).toThrow(/benchmark QQQ/);
  });

  it('converts orders: all-in quantity, limit/stop only where the type uses them, reason when set', () => {
    const base: OrderLike = {
      id: 3,
      symbol: 'X',
      side: 'BUY',
      type: 'MKT',
      qty: { kind: 'all-in' },
      limit: NaN,
      stop: 0,
      tif: 'DAY',
      status: 'FILLED',
      submittedAt: Date.UTC(2024, 0, 2),
      filledQty: 10,
      avgFillPrice: 5,
      commission: 1,
      reason: '',
    };
    const mkt = toReportOrder(base);
    expect(mkt.quantity).toBe('all-in');
    expect('limit' in mkt || 'stop' in mkt || 'reason' in mkt).toBe(false);
    const stpLmt = toReportOrder({ ...base, type: 'STP LMT', limit: 10, stop: 9.5, qty: { kind: 'shares', shares: 7 }, reason: 'r' });
    expect(stpLmt).toMatchObject({ quantity: 7, limit: 10, stop: 9.5, reason: 'r', submittedAt: '2024-01-02T00:00:00.000Z' });
    // a full core Order fits OrderLike
    const full = { ...base } as unknown as Order;
    expect(toReportOrder(full).id).toBe(3);
  });

  it('marks open positions, short ones too', () => {
    const rr = buildReport({
      version: '0',
      config: {},
      startingCash: 1000,
      equity: [],
      trades: [],
      fills: [],
      orders: [],
      riskEvents: [],
      openPositions: [{ symbol: 'S', quantity: -10, avgCost: 50, lastPrice: 45, markedAt: Date.UTC(2024, 5, 28) }],
    });
    expect(rr.openPositions[0]).toEqual({
      symbol: 'S',
      quantity: -10,
      avgCost: 50,
      lastPrice: 45,
      marketValue: -450,
      unrealizedPnl: 50,
      markedAt: '2024-06-28T00:00:00.000Z',
    });
  });
});

describe('format helpers', () => {
  it('formats without locale', () => {
    expect(fmtNum(1234567.891)).toBe('1,234,567.89');
    expect(fmtNum(-0.001)).toBe('0.00');
    expect(fmtNum(-1234.5, 1)).toBe('-1,234.5');
    expect(fmtNum(null)).toBe('—');
    expect(fmtPct(-0.25)).toBe('-25.00%');
    expect(fmtPrice(97.9)).toBe('97.90');
    expect(fmtPrice(97.12345)).toBe('97.1235');
    expect(fmtValue(61250)).toBe('61,250');
    expect(fmtValue(0.071)).toBe('0.071');
    expect(fmtValue(0)).toBe('0');
  });

  it('jsonForScript cannot close the script element', () => {
    const s = jsonForScript({ a: '</script><!-- & \u2028' });
    expect(s).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(s)).toEqual({ a: '</script><!-- & \u2028' });
  });
});

describe('writeReport', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes report.json and report.html, creating the directory, leaving no temp file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tb-report-'));
    dirs.push(root);
    const dir = join(root, 'runs', 'a');
    const report = sampleReport({ days: 80 });
    const out = await writeReport(dir, report);
    expect(out).toEqual({ json: join(dir, 'report.json'), html: join(dir, 'report.html') });
    expect((await readdir(dir)).sort()).toEqual(['report.html', 'report.json']);
    const json = await readFile(out.json, 'utf8');
    expect(json).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(json).not.toMatch(/NaN|Infinity/);
    const html = await readFile(out.html, 'utf8');
    expect(embedded(html)).toEqual(JSON.parse(json));
  });

  it('gives byte-identical files for the same report, whatever the wall clock says', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tb-report-'));
    dirs.push(root);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2001-02-03T04:05:06Z'));
    const a = await writeReport(join(root, 'a'), sampleReport({ days: 80 }));
    vi.setSystemTime(new Date('2037-12-31T23:59:59Z'));
    const b = await writeReport(join(root, 'b'), sampleReport({ days: 80 }));
    vi.useRealTimers();
    // and once more into the same directory (overwrite)
    const c = await writeReport(join(root, 'a'), sampleReport({ days: 80 }));
    for (const k of ['json', 'html'] as const) {
      const bytesA = await readFile(a[k]);
      expect(bytesA.equals(await readFile(b[k]))).toBe(true);
      expect(bytesA.equals(await readFile(c[k]))).toBe(true);
    }
    const html = await readFile(a.html, 'utf8');
    expect(html).not.toContain('2001-02-03');
    expect(html).not.toContain('2037-12-31');
  });
});
