import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { candlesFigure, figureHtml, heatmapFigure, reportFigures, tradesFigure } from '../../engine/report/index.ts';
import { compactNumber, equityFigure, logTicks, monthlyFigure, shown7 } from '../../engine/report/figures.ts';
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
    expect(Object.keys(figures)).toEqual(['chart-equity', 'chart-drawdown', 'chart-rolling', 'chart-exposure', 'chart-monthly', 'chart-trades']);
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

  it('draws monthly returns as a years x months heatmap centred on 0, with the values printed and the year in the label', () => {
    const report = sampleReport({ days: 300 });
    const f = monthlyFigure(report);
    const t = f.traces[0] as { z: (number | null)[][]; y: string[]; text: string[][]; zmid: number; zmin: number; zmax: number };
    expect(t).toMatchObject({ type: 'heatmap', zmid: 0 });
    expect(t.zmin).toBe(-t.zmax);
    expect(t.y.map((y) => y.slice(0, 4))).toEqual(['2022', '2023']);
    expect(t.z[0][0]).toBeCloseTo(report.equity.find((p) => p.date === '2022-01-31')!.equity / report.equity[0].equity - 1, 12);
    expect(t.text[0][0]).toMatch(/^[+-]?\d+\.\d%$/);
    // months after the run's end are empty cells
    expect(t.z[1].slice(3)).toEqual(new Array(9).fill(null));
    expect(t.text[1][11]).toBe('');
  });

  it('shows the trades one symbol at a time: a dropdown entry per symbol, each with its price line and its own markers', () => {
    const report = sampleReport({ symbols: ['AAPL', 'MSFT', 'IBM'], days: 200 });
    const f = tradesFigure(report);
    expect(f.traces.map((t) => t.name)).toEqual(['Fill price', 'Long entry', 'Short entry', 'Winning exit', 'Losing / flat exit']);
    const menu = (f.layout.updatemenus as { buttons: { label: string; args: [{ x: unknown[][]; y: unknown[][] }, Record<string, unknown>, number[]] }[] }[])[0];
    expect(menu.buttons.map((b) => b.label)).toEqual(['AAPL', 'IBM', 'MSFT']);
    for (const b of menu.buttons) {
      const mine = report.trades.filter((t) => t.symbol === b.label);
      const fills = report.fills.filter((x) => x.symbol === b.label);
      const [price, long, , win, loss] = b.args[0].y;
      expect(price).toEqual(fills.map((x) => x.price));
      expect(long).toEqual(mine.map((t) => t.entryPrice));
      expect([...(win as number[]), ...(loss as number[])].sort()).toEqual(mine.map((t) => t.exitPrice).sort());
      expect(b.args[1]['title.text']).toBe(`${b.label}: ${mine.length} trades`);
      expect(b.args[1]['yaxis.autorange']).toBe(true);
    }
    // the first symbol is drawn at first
    expect(f.traces[1].y).toEqual(menu.buttons[0].args[0].y[1]);
    // closes, when given, are the price line; a cap keeps the trades of largest |P&L|
    const aapl = report.trades.filter((t) => t.symbol === 'AAPL');
    const g = tradesFigure(report, { prices: { AAPL: { dates: ['2022-01-03', '2022-01-04'], close: [1, 2] } }, maxTradesPerSymbol: 2 });
    expect(g.traces[0]).toMatchObject({ name: 'Close', x: ['2022-01-03', '2022-01-04'], y: [1, 2] });
    const kept = [...aapl].sort((a, b) => Math.abs(b.pnl) - Math.abs(a.pnl)).slice(0, 2);
    const shown = [...(g.traces[3].customdata as number[]), ...(g.traces[4].customdata as number[])].sort();
    expect(shown).toEqual(kept.map((t) => Math.round(t.pnl * 100) / 100).sort());
    expect(g.layout.title).toMatchObject({ text: `AAPL: the 2 trades of largest |P&amp;L| of ${aapl.length} (all in report.json)` });
  });

  it('labels a log axis 1-2-5 per decade, never two labels closer than 20 px', () => {
    // the sample run's span, whose plotly labels overlapped at 70,000-100,000 and 600,000-1,000,000
    expect(logTicks(70_000, 1_000_000, 312)).toMatchObject({ tickvals: [100_000, 200_000, 500_000, 1_000_000], ticktext: ['100k', '200k', '500k', '1M'] });
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1e9, noNaN: true }),
        fc.double({ min: 20.5, max: 1e6, noNaN: true }),
        fc.integer({ min: 120, max: 900 }),
        (lo, span, px) => {
          const { range, tickvals, ticktext } = logTicks(lo, lo * span, px);
          expect(tickvals.length).toBeGreaterThan(0);
          expect(ticktext).toHaveLength(tickvals.length);
          const perDecade = px / (range[1] - range[0]);
          for (const v of tickvals) {
            expect(Math.log10(v)).toBeGreaterThanOrEqual(range[0] - 1e-9);
            expect(Math.log10(v)).toBeLessThanOrEqual(range[1] + 1e-9);
            expect([1, 2, 5]).toContain(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9)));
          }
          for (let i = 1; i < tickvals.length; i++) expect((Math.log10(tickvals[i]) - Math.log10(tickvals[i - 1])) * perDecade).toBeGreaterThanOrEqual(19.99);
        },
      ),
    );
    expect([0.5, 2_000, 70_000, 1_500_000, 2e9].map(compactNumber)).toEqual(['0.5', '2k', '70k', '1.5M', '2B']);
  });

  it('puts the equity on a log axis with those ticks when the curves span over 20x, linear otherwise', () => {
    const report = sampleReport({ days: 120 });
    expect(equityFigure(report).layout.yaxis).toMatchObject({ type: 'linear', tickformat: ',.0f' });
    const grown = { ...report, benchmark: undefined, equity: report.equity.map((p, i) => ({ ...p, equity: 70_000 * 1.03 ** i })) };
    const axis = equityFigure(grown).layout.yaxis as { type: string; tickvals: number[] };
    expect(axis.type).toBe('log');
    expect(axis.tickvals.length).toBeGreaterThan(1);
  });
});

describe('shown7 (prices of the trades figure to 7 significant digits)', () => {
  const viaString = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

  it('is exactly Number(x.toPrecision(7)) for any double', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(shown7(x)).toBe(viaString(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact for prices with many decimals, and at halves and powers of ten (where rounding could tip)', () => {
    const prices = fc.integer({ min: 1, max: 2_000_000_000 }).chain((n) => fc.integer({ min: 0, max: 12 }).map((d) => n / 10 ** d));
    fc.assert(
      fc.property(prices, fc.boolean(), (p, neg) => {
        const x = neg ? -p : p;
        expect(shown7(x)).toBe(viaString(x));
      }),
      { numRuns: 20_000 },
    );
    const halves = [9_999_999.5, 999_999.95, 1_234_567.5, 0.000_123_456_75, 12.345_675, 99_999_995, 1e6, 1e7, 1e22, 1e23, 1e-16, 1e-17, 5e-324];
    for (const x of [...halves, ...halves.map((h) => -h), 0, Infinity, -Infinity]) expect(shown7(x)).toBe(viaString(x));
    expect(shown7(Number.NaN)).toBeNaN();
  });
});
