// report.html shows what a screen can show (curves of at most MAX_CURVE_POINTS points, the ends of long tables,
// capped trade markers) and stays under its 8 MB budget; report.json keeps everything. The size and the time
// Chromium takes to open the page are measured by `npm run bench -- --only report`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimateCurve, edges, MAX_CURVE_POINTS, mergeCandles, minMaxIndices } from '../../engine/report/decimate.ts';
import { renderReportHtmlChunks } from '../../engine/report/html.ts';
import { reportJsonChunks } from '../../engine/report/write.ts';
import type { Figure } from '../../engine/report/figures.ts';
import { sampleReport } from './sample-report.ts';

describe('minMaxIndices', () => {
  it('keeps every point of a short series', () => {
    expect(minMaxIndices([3, 1, 2], 10)).toEqual([0, 1, 2]);
  });

  it('keeps the first and last points and the global min and max, in order, at most `max` of them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3_000 }),
        fc.integer({ min: 4, max: 400 }),
        (ys, max) => {
          const keep = minMaxIndices(ys, max);
          expect(keep.length).toBeLessThanOrEqual(max);
          expect(keep[0]).toBe(0);
          expect(keep[keep.length - 1]).toBe(ys.length - 1);
          for (let i = 1; i < keep.length; i++) expect(keep[i]).toBeGreaterThan(keep[i - 1]);
          const kept = keep.map((i) => ys[i]);
          expect(Math.min(...kept)).toBe(Math.min(...ys));
          expect(Math.max(...kept)).toBe(Math.max(...ys));
        },
      ),
    );
  });

  it('keeps a gap a gap: the nulls at the edges of a run of nulls stay', () => {
    const ys = Array.from({ length: 10_000 }, (_, i) => (i < 63 || (i >= 5_000 && i < 5_400) ? null : Math.sin(i / 50)));
    const d = decimateCurve(
      ys.map((_, i) => i),
      ys,
      500,
    );
    expect(d.y.length).toBeLessThanOrEqual(510);
    expect(d.y[0]).toBeNull();
    // a null sits between the last value before the inner gap and the first after it
    const before = d.x.findIndex((x) => x >= 5_000);
    expect(d.y[before]).toBeNull();
    expect(d.x.filter((x) => x >= 5_000 && x < 5_400).every((x) => ys[x] === null)).toBe(true);
    expect(d.x).toContain(5_400);
  });

  it('edges: the first and last rows of a long list and how many are left out', () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => i);
    const e = edges(rows, 100);
    expect([e.head.length, e.tail.length, e.omitted, e.tailStart]).toEqual([100, 100, 800, 900]);
    expect(edges(rows.slice(0, 200), 100)).toMatchObject({ omitted: 0, tail: [] });
  });
});

describe('report.html of a 500-symbol, 20-year run', () => {
  it('stays under 8 MB while report.json keeps every row, and its curves keep the extremes', { timeout: 120_000 }, () => {
    const symbols = Array.from({ length: 500 }, (_, i) => `S${String(i).padStart(3, '0')}`);
    const report = sampleReport({ symbols, days: 5_040 });
    // spike the curve where a decimation by stride would miss it: one day's peak and the deepest trough
    const peakAt = 2_503;
    const troughAt = 4_001;
    const top = Math.max(...report.equity.map((p) => p.equity));
    report.equity[peakAt] = { ...report.equity[peakAt], equity: top * 1.5 };
    const deepest = Math.min(...report.equity.map((p) => p.drawdown)) - 0.01;
    report.equity[troughAt] = { ...report.equity[troughAt], drawdown: deepest };

    const html = [...renderReportHtmlChunks(report)].join('');
    expect(Buffer.byteLength(html)).toBeLessThan(8_000_000);
    let jsonBytes = 0;
    for (const piece of reportJsonChunks(report)) jsonBytes += piece.length;
    expect(jsonBytes).toBeGreaterThan(100_000_000);

    const figures = JSON.parse(/<script type="application\/json" id="tradebench-figures">([\s\S]*?)<\/script>/.exec(html)![1]) as Record<string, Figure>;
    for (const [id, f] of Object.entries(figures))
      for (const t of f.traces) if (Array.isArray(t.y)) expect((t.y as unknown[]).length, id).toBeLessThanOrEqual(MAX_CURVE_POINTS);
    const equity = figures['chart-equity'].traces[0];
    const drawdown = figures['chart-drawdown'].traces[0];
    const maxEquity = Math.max(...report.equity.map((p) => p.equity));
    const minEquity = Math.min(...report.equity.map((p) => p.equity));
    expect(maxEquity).toBe(report.equity[peakAt].equity);
    expect(Math.max(...(equity.y as number[]))).toBe(maxEquity);
    expect(Math.min(...(equity.y as number[]))).toBe(minEquity);
    expect((equity.x as string[])[(equity.y as number[]).indexOf(maxEquity)]).toBe(report.equity[peakAt].date);
    expect(Math.min(...(drawdown.y as number[]))).toBe(deepest);
    expect((drawdown.x as string[])[(drawdown.y as number[]).indexOf(deepest)]).toBe(report.equity[troughAt].date);

    // one symbol at a time, all 500 in the selector, each view within its share of the marker budget
    const trades = figures['chart-trades'];
    const buttons = (trades.layout.updatemenus as { buttons: { label: string; args: [{ x: unknown[][] }] }[] }[])[0].buttons;
    expect(buttons.map((b) => b.label)).toEqual(symbols);
    for (const b of buttons) expect(b.args[0].x.slice(1, 3).reduce((n, xs) => n + xs.length, 0)).toBeLessThanOrEqual(20);
    expect(html).toContain(`all ${report.trades.length.toLocaleString('en-US')} rows are in report.json`);
  });
});

describe('mergeCandles', () => {
  const DAY = 86_400_000;
  /** bar i: open 100+i, high 101+i (bar 3: 120), low 99+i (bar 6: 90), close 100.5+i, volume 10*(i+1) */
  const bars = (ts: number[]) => ({
    ts,
    open: ts.map((_, i) => 100 + i),
    high: ts.map((_, i) => (i === 3 ? 120 : 101 + i)),
    low: ts.map((_, i) => (i === 6 ? 90 : 99 + i)),
    close: ts.map((_, i) => 100.5 + i),
    volume: ts.map((_, i) => 10 * (i + 1)),
  });
  // Monday 2020-01-06 to Friday 2020-01-17: two weeks of weekdays
  const weekdays = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11].map((d) => Date.UTC(2020, 0, 6) + d * DAY);

  it('keeps bars as they are when a chart can draw them all', () => {
    const b = bars(weekdays);
    expect(mergeCandles(b, 10)).toEqual({ bars: b, daily: true, span: 'bar' });
  });
  it('merges daily bars into weeks: first open, highest high, lowest low, last close, summed volume', () => {
    const { bars: w, span } = mergeCandles(bars(weekdays), 5);
    expect(span).toBe('week');
    expect(w.ts).toEqual([Date.UTC(2020, 0, 6), Date.UTC(2020, 0, 13)]);
    expect(w.open).toEqual([100, 105]);
    expect(w.high).toEqual([120, 110]);
    expect(w.low).toEqual([99, 90]);
    expect(w.close).toEqual([104.5, 109.5]);
    expect(w.volume).toEqual([10 + 20 + 30 + 40 + 50, 60 + 70 + 80 + 90 + 100]);
  });
  it('merges into months when weeks are still too many, dated at the first of the month', () => {
    const days = Array.from({ length: 12 }, (_, i) => Date.UTC(2020, 0, 27) + i * 2 * DAY); // 2020-01-27 .. 2020-02-18
    const { bars: m, span } = mergeCandles(bars(days), 2);
    expect(span).toBe('month');
    expect(m.ts).toEqual([Date.UTC(2020, 0, 1), Date.UTC(2020, 1, 1)]);
    expect(m.open).toEqual([100, 103]); // Jan 27, 29, 31; Feb from the fourth bar
    expect(m.close).toEqual([102.5, 111.5]);
    expect(m.volume).toEqual([60, 720]);
  });
  it('merges intraday bars in runs of k, dated at the first bar of each run', () => {
    const minutes = Array.from({ length: 10 }, (_, i) => Date.UTC(2020, 0, 6, 14, 30 + i));
    const { bars: r, span, daily } = mergeCandles(bars(minutes), 4);
    expect({ span, daily }).toEqual({ span: { bars: 3 }, daily: false });
    expect(r.ts).toEqual([minutes[0], minutes[3], minutes[6], minutes[9]]);
    expect(r.high).toEqual([103, 120, 109, 110]);
    expect(r.low).toEqual([99, 102, 90, 108]);
    expect(r.volume).toEqual([60, 150, 240, 100]);
  });
});
