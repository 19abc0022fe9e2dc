// The one plotting module: every chart of the tearsheet and of the notebooks is a Figure built here,
// drawn offline by plotly (inlined, no network).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { jsonForScript } from './format.ts';
import type { Report, ReportTrade } from './report-types.ts';

/** A plotly trace or layout, as plotly's JSON takes it. */
export type PlotlySpec = Record<string, unknown>;

/** A chart: plotly traces and layout, and its height in pixels. */
export interface Figure {
  traces: PlotlySpec[];
  layout: PlotlySpec;
  height: number;
}

let plotlyCache: string | undefined;

/** plotly.min.js from plotly.js-dist-min, read once. */
export function plotlyBundle(): string {
  if (plotlyCache === undefined) {
    const path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
    const text = readFileSync(path, 'utf8');
    if (/<\/?script/i.test(text)) throw new Error(`${path} contains a <script> tag and cannot be inlined into a page safely`);
    plotlyCache = text;
  }
  return plotlyCache;
}

export const PLOTLY_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] };

const FONT = { family: '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif', size: 12, color: '#334155' };
const GRID = '#eef2f7';

/** The house layout, with `extra` laid over it. */
function layout(extra: PlotlySpec = {}): PlotlySpec {
  return {
    font: FONT,
    margin: { l: 64, r: 16, t: 32, b: 36 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    hovermode: 'x unified',
    showlegend: true,
    legend: { orientation: 'h', x: 0, y: 1.08 },
    xaxis: { type: 'date', gridcolor: GRID, linecolor: '#cbd5e1' },
    yaxis: { gridcolor: GRID, zerolinecolor: '#cbd5e1' },
    ...extra,
  };
}

/** plotly renders a subset of HTML in names and hover text: data must be escaped before it gets there. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const line = (x: unknown[], y: unknown[], name: string, color: string, extra: PlotlySpec = {}): PlotlySpec => ({
  x,
  y,
  name: esc(name),
  type: 'scatter',
  mode: 'lines',
  line: { color, width: 1.5 },
  ...extra,
});

let figureSeq = 0;

/**
 * One standalone, offline HTML fragment drawing a figure (plotly inlined once per page): for notebooks,
 * `tslab.display.html(figureHtml(equityFigure(report)))`.
 */
export function figureHtml(figure: Figure): string {
  const id = `tradebench-figure-${++figureSeq}`;
  const spec = jsonForScript({ traces: figure.traces, layout: { height: figure.height, ...figure.layout } });
  return `<div id="${id}" style="width:100%;height:${figure.height}px"></div>
<script>if (typeof Plotly === 'undefined') {${plotlyBundle()}}</script>
<script>(function () { var f = ${spec}; Plotly.newPlot(${JSON.stringify(id)}, f.traces, f.layout, ${JSON.stringify(PLOTLY_CONFIG)}); })();</script>`;
}

// ---- the tearsheet's figures, from a Report ----

/** Equity (and cash, hidden) against the buy-and-hold benchmark; a log axis when the curves span more than 20x. */
export function equityFigure(report: Report): Figure {
  const dates = report.equity.map((p) => p.date);
  const traces = [
    line(
      dates,
      report.equity.map((p) => p.equity),
      'Equity',
      '#2563eb',
      { line: { color: '#2563eb', width: 2 } },
    ),
    line(
      dates,
      report.equity.map((p) => p.cash),
      'Cash',
      '#94a3b8',
      { visible: 'legendonly', line: { color: '#94a3b8', width: 1, dash: 'dot' } },
    ),
  ];
  if (report.benchmark) traces.push(line(dates, report.benchmark.equity, `Buy & hold ${report.benchmark.symbol}`, '#f59e0b'));
  const ys = [...report.equity.map((p) => p.equity), ...(report.benchmark?.equity ?? [])].filter((y) => y > 0);
  const log = ys.length > 0 && Math.max(...ys) / Math.min(...ys) > 20;
  return { traces, layout: layout({ yaxis: { gridcolor: GRID, tickformat: ',.0f', type: log ? 'log' : 'linear' } }), height: 380 };
}

/** Underwater curve: E / cummax(E) - 1. */
export function drawdownFigure(report: Report): Figure {
  const trace = line(
    report.equity.map((p) => p.date),
    report.equity.map((p) => p.drawdown),
    'Drawdown',
    '#dc2626',
    {
      fill: 'tozeroy',
      line: { color: '#dc2626', width: 1 },
      fillcolor: 'rgba(220,38,38,0.18)',
    },
  );
  return { traces: [trace], layout: layout({ showlegend: false, yaxis: { gridcolor: GRID, tickformat: '.0%', rangemode: 'tozero' } }), height: 240 };
}

/** Rolling Sharpe (left axis) and volatility (right axis). */
export function rollingFigure(report: Report): Figure {
  const dates = report.equity.map((p) => p.date);
  return {
    traces: [
      line(dates, report.rolling.sharpe, 'Sharpe', '#2563eb', { connectgaps: false }),
      line(dates, report.rolling.volatility, 'Volatility', '#9333ea', { yaxis: 'y2', connectgaps: false }),
    ],
    layout: layout({
      margin: { l: 64, r: 64, t: 32, b: 36 },
      yaxis: { gridcolor: GRID, zerolinecolor: '#cbd5e1', title: { text: 'Sharpe' }, tickformat: '.2f' },
      yaxis2: { overlaying: 'y', side: 'right', showgrid: false, title: { text: 'volatility' }, tickformat: '.0%', rangemode: 'tozero' },
    }),
    height: 240,
  };
}

/** Gross exposure: market value / equity at each close. */
export function exposureFigure(report: Report): Figure {
  const trace = line(
    report.equity.map((p) => p.date),
    report.equity.map((p) => p.exposure),
    'Gross exposure',
    '#0d9488',
    {
      fill: 'tozeroy',
      connectgaps: false,
      line: { color: '#0d9488', width: 1 },
      fillcolor: 'rgba(13,148,136,0.18)',
    },
  );
  return { traces: [trace], layout: layout({ showlegend: false, yaxis: { gridcolor: GRID, tickformat: '.0%', rangemode: 'tozero' } }), height: 240 };
}

/** Round trips as entry → exit segments, winners and losers apart. */
export function tradesFigure(report: Report): Figure {
  const group = (win: boolean): PlotlySpec => {
    const x: (string | null)[] = [];
    const y: (number | null)[] = [];
    const symbol: string[] = [];
    const text: string[] = [];
    report.trades.forEach((t, i) => {
      if (t.pnl > 0 !== win) return;
      const label = `#${i + 1} ${esc(t.symbol)} ${t.side} ${t.quantity}`;
      x.push(t.entryTime, t.exitTime, null);
      y.push(t.entryPrice, t.exitPrice, null);
      symbol.push(t.side === 'LONG' ? 'triangle-up' : 'triangle-down', 'x', 'circle');
      text.push(`${label} entry`, `${label} exit, P&L ${t.pnl.toFixed(2)}`, '');
    });
    const color = win ? '#16a34a' : '#dc2626';
    return {
      x,
      y,
      text,
      name: win ? 'Winning trades' : 'Losing / flat trades',
      type: 'scatter',
      mode: 'lines+markers',
      connectgaps: false,
      hovertemplate: '%{text}<br>%{y:.4f}<extra></extra>',
      line: { color, width: 1.5 },
      marker: { color, size: 9, symbol, line: { width: 1, color: '#ffffff' } },
    };
  };
  return { traces: [group(true), group(false)], layout: layout({ hovermode: 'closest', yaxis: { gridcolor: GRID, title: { text: 'price' } } }), height: 380 };
}

/** The tearsheet's charts, keyed by the id of the element each is drawn in. */
export function reportFigures(report: Report): Record<string, Figure> {
  if (report.equity.length === 0) return {};
  return {
    'chart-equity': equityFigure(report),
    'chart-drawdown': drawdownFigure(report),
    'chart-rolling': rollingFigure(report),
    'chart-exposure': exposureFigure(report),
    ...(report.trades.length > 0 ? { 'chart-trades': tradesFigure(report) } : {}),
  };
}

// ---- research figures ----

/** Candlesticks with volume bars below, from columnar bars; with `trades`, their entries and exits on top. */
export function candlesFigure(
  symbol: string,
  bars: {
    ts: ArrayLike<number>;
    open: ArrayLike<number>;
    high: ArrayLike<number>;
    low: ArrayLike<number>;
    close: ArrayLike<number>;
    volume: ArrayLike<number>;
  },
  trades: readonly ReportTrade[] = [],
): Figure {
  const x = Array.from(bars.ts, (t) => new Date(t).toISOString().slice(0, 10));
  const traces: PlotlySpec[] = [
    {
      type: 'candlestick',
      name: esc(symbol),
      x,
      open: Array.from(bars.open),
      high: Array.from(bars.high),
      low: Array.from(bars.low),
      close: Array.from(bars.close),
      yaxis: 'y',
    },
    { type: 'bar', name: 'volume', x, y: Array.from(bars.volume), yaxis: 'y2', marker: { color: '#94a3b8' } },
  ];
  const mine = trades.filter((t) => t.symbol === symbol);
  if (mine.length > 0) {
    const marker = (sym: string[], color: string[]) => ({ size: 11, symbol: sym, color, line: { width: 1, color: '#0f172a' } });
    traces.push(
      {
        type: 'scatter',
        mode: 'markers',
        name: 'entries',
        yaxis: 'y',
        x: mine.map((t) => t.entryTime.slice(0, 10)),
        y: mine.map((t) => t.entryPrice),
        text: mine.map((t) => `${t.side} ${t.quantity} @ ${t.entryPrice.toFixed(2)}`),
        hovertemplate: '%{text}<extra>entry</extra>',
        marker: marker(
          mine.map((t) => (t.side === 'LONG' ? 'triangle-up' : 'triangle-down')),
          mine.map(() => '#2563eb'),
        ),
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'exits',
        yaxis: 'y',
        x: mine.map((t) => t.exitTime.slice(0, 10)),
        y: mine.map((t) => t.exitPrice),
        text: mine.map((t) => `exit @ ${t.exitPrice.toFixed(2)}, P&L ${t.pnl.toFixed(2)}`),
        hovertemplate: '%{text}<extra>exit</extra>',
        marker: marker(
          mine.map(() => 'x'),
          mine.map((t) => (t.pnl > 0 ? '#16a34a' : '#dc2626')),
        ),
      },
    );
  }
  return {
    traces,
    layout: layout({
      title: { text: esc(symbol) },
      xaxis: { type: 'date', rangeslider: { visible: false } },
      yaxis: { domain: [0.3, 1], gridcolor: GRID },
      yaxis2: { domain: [0, 0.22] },
      showlegend: mine.length > 0,
      hovermode: 'x',
    }),
    height: 520,
  };
}

/** Several equity curves (or any daily series) on one chart: a strategy comparison. */
export function curvesFigure(title: string, curves: { name: string; dates: string[]; values: number[] }[]): Figure {
  const palette = ['#2563eb', '#f59e0b', '#16a34a', '#dc2626', '#9333ea', '#0d9488', '#64748b'];
  return {
    traces: curves.map((c, i) => line(c.dates, c.values, c.name, palette[i % palette.length])),
    layout: layout({ title: { text: esc(title) }, yaxis: { gridcolor: GRID, tickformat: ',.0f' } }),
    height: 400,
  };
}

/**
 * A labelled heatmap: z[row][col] with the value printed in each cell (null cells stay empty).
 * Parameter grids (Sharpe by fast x slow) and correlation matrices.
 */
export function heatmapFigure(
  title: string,
  x: (string | number)[],
  y: (string | number)[],
  z: (number | null)[][],
  opts: { zmid?: number; format?: string; xTitle?: string; yTitle?: string } = {},
): Figure {
  const fmt = (v: number | null) => (v === null ? '' : v.toFixed(opts.format === 'pct' ? 1 : 2));
  return {
    traces: [
      {
        type: 'heatmap',
        x: x.map(String),
        y: y.map(String),
        z,
        text: z.map((r) => r.map(fmt)),
        texttemplate: '%{text}',
        // red below the midpoint, green above, white at it
        colorscale: [
          [0, '#dc2626'],
          [0.5, '#f8fafc'],
          [1, '#16a34a'],
        ],
        zmid: opts.zmid ?? 0,
        hoverongaps: false,
      },
    ],
    layout: layout({
      title: { text: esc(title) },
      hovermode: 'closest',
      xaxis: { type: 'category', title: { text: esc(opts.xTitle ?? '') } },
      yaxis: { type: 'category', title: { text: esc(opts.yTitle ?? '') }, autorange: 'reversed' },
    }),
    height: Math.max(260, 60 + 40 * y.length),
  };
}

/** Grouped bars, e.g. in-sample vs out-of-sample Sharpe per walk-forward window. */
export function barsFigure(title: string, categories: string[], groups: { name: string; values: (number | null)[] }[]): Figure {
  const palette = ['#2563eb', '#f59e0b', '#16a34a', '#dc2626'];
  return {
    traces: groups.map((g, i) => ({ type: 'bar', name: esc(g.name), x: categories, y: g.values, marker: { color: palette[i % palette.length] } })),
    layout: layout({ title: { text: esc(title) }, barmode: 'group', hovermode: 'x', xaxis: { type: 'category' } }),
    height: 320,
  };
}
