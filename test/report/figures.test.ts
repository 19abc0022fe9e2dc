import { describe, expect, it } from 'vitest';
import { candlesFigure, figureHtml, heatmapFigure, reportFigures } from '../../engine/report/index.ts';
import { renderReportHtml } from '../../engine/report/html.ts';
import { sampleReport } from './sample-report.ts';

describe('one plotting module for the tearsheet and the notebooks', () => {
  it('is a standalone, offline fragment: plotly inlined once per page, data escaped, unique ids', () => {
    const a = figureHtml({ traces: [{ type: 'scatter', y: [1, 2], name: '</script><b>x</b>' }], layout: { title: { text: 't' } }, height: 300 });
    const b = figureHtml({ traces: [{ type: 'scatter', y: [3] }], layout: {}, height: 300 });
    expect(a).toMatch(/if \(typeof Plotly === 'undefined'\)/);
    expect(a).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(a).not.toContain('</script><b>x</b>');
    expect(a.match(/id="([^"]+)"/)![1]).not.toBe(b.match(/id="([^"]+)"/)![1]);
  });

  it('draws candles with volume from columnar bars', () => {
    const t = Date.UTC(2020, 0, 2);
    const f = candlesFigure('X', { ts: [t, t + 864e5], open: [1, 2], high: [2, 3], low: [0.5, 1.5], close: [1.5, 2.5], volume: [10, 20] });
    expect(f.traces[0]).toMatchObject({ type: 'candlestick', x: ['2020-01-02', '2020-01-03'], close: [1.5, 2.5] });
    expect(f.traces[1]).toMatchObject({ type: 'bar', yaxis: 'y2', y: [10, 20] });
    expect(f.traces).toHaveLength(2);
  });

  it("puts a symbol's own trades on its candles, and no one else's", () => {
    const report = sampleReport({ days: 120 });
    const symbol = report.trades[0].symbol;
    const t = Date.UTC(2022, 0, 3);
    const bars = { ts: [t], open: [1], high: [1], low: [1], close: [1], volume: [1] };
    const f = candlesFigure(symbol, bars, report.trades);
    const mine = report.trades.filter((x) => x.symbol === symbol);
    expect(mine.length).toBeLessThan(report.trades.length);
    expect(f.traces[2]).toMatchObject({ name: 'entries', y: mine.map((x) => x.entryPrice) });
    expect(f.traces[3]).toMatchObject({ name: 'exits', y: mine.map((x) => x.exitPrice), x: mine.map((x) => x.exitTime.slice(0, 10)) });
  });

  it('the tearsheet embeds exactly the figures a notebook gets for the same report', () => {
    const report = sampleReport({ days: 120 });
    const figures = reportFigures(report);
    expect(Object.keys(figures)).toEqual(['chart-equity', 'chart-drawdown', 'chart-rolling', 'chart-exposure', 'chart-trades']);
    const html = renderReportHtml(report);
    const embedded = JSON.parse(html.match(/<script type="application\/json" id="tradebench-figures">([\s\S]*?)<\/script>/)![1]);
    expect(embedded).toEqual(JSON.parse(JSON.stringify(figures)));
    // the equity figure carries the equity and the benchmark, point for point
    const eq = figures['chart-equity'].traces;
    expect(eq[0].y).toEqual(report.equity.map((p) => p.equity));
    if (report.benchmark) expect(eq[2].y).toEqual(report.benchmark.equity);
    expect(figures['chart-drawdown'].traces[0].y).toEqual(report.equity.map((p) => p.drawdown));
  });

  it('prints each heatmap cell and leaves missing cells empty', () => {
    const f = heatmapFigure(
      'Sharpe',
      [30, 50],
      [5, 10],
      [
        [0.5, null],
        [-0.25, 1],
      ],
    );
    expect(f.traces[0]).toMatchObject({
      type: 'heatmap',
      x: ['30', '50'],
      y: ['5', '10'],
      text: [
        ['0.50', ''],
        ['-0.25', '1.00'],
      ],
    });
  });
});
