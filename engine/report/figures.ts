// The one plotting module: every chart of the tearsheet and of the notebooks is a Figure built here,
// drawn offline by plotly (inlined, no network).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decimateCurve, MAX_CURVE_POINTS, mergeCandles, minMaxIndices, pick, type OhlcvColumns } from './decimate.ts';
import { jsonForScript } from './format.ts';
import { monthlyReturns } from '../metrics/series.ts';
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

/** A line of at most MAX_CURVE_POINTS points, min/max-decimated (the global extremes stay). */
const curve = (x: unknown[], y: (number | null)[], name: string, color: string, extra: PlotlySpec = {}): PlotlySpec => {
  const d = decimateCurve(x, y);
  return line(d.x, d.y, name, color, extra);
};

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
  const equity = report.equity.map((p) => p.equity);
  const traces = [
    curve(dates, equity, 'Equity', '#2563eb', { line: { color: '#2563eb', width: 2 } }),
    curve(
      dates,
      report.equity.map((p) => p.cash),
      'Cash',
      '#94a3b8',
      { visible: 'legendonly', line: { color: '#94a3b8', width: 1, dash: 'dot' } },
    ),
  ];
  if (report.benchmark) traces.push(curve(dates, report.benchmark.equity, `Buy & hold ${report.benchmark.symbol}`, '#f59e0b'));
  let lo = Infinity;
  let hi = -Infinity;
  for (const y of [...equity, ...(report.benchmark?.equity ?? [])]) {
    if (!(y > 0)) continue;
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  const height = 380;
  const yaxis: PlotlySpec =
    lo < Infinity && hi / lo > 20
      ? { gridcolor: GRID, type: 'log', hoverformat: ',.0f', ...logTicks(lo, hi, height - 68) }
      : { gridcolor: GRID, tickformat: ',.0f', type: 'linear' };
  return { traces, layout: layout({ yaxis }), height };
}

/** Pixels between two labels of a vertical axis: a 12 px label and some air. */
const MIN_TICK_GAP = 20;

/** 1 200 -> "1.2k", 70 000 -> "70k", 1 000 000 -> "1M": short labels for a log axis. */
export function compactNumber(v: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) if (Math.abs(v) >= size) return `${trimZeros((v / size).toFixed(2))}${unit}`;
  return trimZeros(v.toFixed(Math.abs(v) >= 1 ? 2 : 4));
}

const trimZeros = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);

/**
 * Explicit ticks of a log axis spanning [lo, hi] on `pixels` of plot height: the range padded by 3% of its
 * span, then the 1-2-5 values of each decade, decades first, then 5s, then 2s, each kept only when it is at
 * least MIN_TICK_GAP pixels from every tick kept before it, so labels never overlap (plotly's own log ticks
 * overlapped at 70,000-100,000 and 600,000-1,000,000 on the sample run).
 */
export function logTicks(lo: number, hi: number, pixels: number): { range: [number, number]; tickvals: number[]; ticktext: string[] } {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  const pad = Math.max((b - a) * 0.03, 0.01);
  const range: [number, number] = [a - pad, b + pad];
  const perDecade = pixels / (range[1] - range[0]);
  const kept: number[] = [];
  for (const mantissa of [1, 5, 2]) {
    for (let e = Math.floor(range[0]); e <= Math.ceil(range[1]); e++) {
      const v = mantissa * 10 ** e;
      const at = Math.log10(v);
      if (at < range[0] || at > range[1]) continue;
      if (kept.every((k) => Math.abs(Math.log10(k) - at) * perDecade >= MIN_TICK_GAP)) kept.push(v);
    }
  }
  // exact decimal values (5 * 10 ** 4 is 50000, but 2 * 10 ** -1 is 0.2 only after rounding)
  const tickvals = kept.map((v) => Number(v.toPrecision(1))).sort((x, y) => x - y);
  return { range, tickvals, ticktext: tickvals.map(compactNumber) };
}

/** Underwater curve: E / cummax(E) - 1. */
export function drawdownFigure(report: Report): Figure {
  const trace = curve(
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
      curve(dates, report.rolling.sharpe, 'Sharpe', '#2563eb', { connectgaps: false }),
      curve(dates, report.rolling.volatility, 'Volatility', '#9333ea', { yaxis: 'y2', connectgaps: false }),
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
  const trace = curve(
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

/** Trade markers the trades figure carries over all its symbols (each symbol gets an equal share). */
const TRADE_MARKER_BUDGET = 10_000;
/** Points of price line the trades figure carries over all its symbols. */
const PRICE_POINT_BUDGET = 20_000;

export interface TradesFigureOptions {
  /** daily closes per symbol for the price lines; without them a symbol's line joins its fill prices */
  prices?: Record<string, { dates: string[]; close: number[] }>;
  /** trades marked per symbol (default: 10,000 shared by the symbols, 5 to 1,000 each); the largest |P&L| are kept */
  maxTradesPerSymbol?: number;
}

/** An ISO time as plotly reads it, short: the date alone at midnight UTC. */
function plotTime(iso: string): string {
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('T', ' ').replace(/(:00)?\.000Z$/, '');
}

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * A price to 7 significant digits, as much as a chart or its hover shows (adjusted prices carry 15-17):
 * exactly `Number(x.toPrecision(7))`, computed without the string round trip (a report has tens of thousands of
 * them). The 7 digits n are |x| scaled by a power of ten (exact) and rounded; the result, n over that power,
 * is one correctly rounded division, the double nearest to the decimal toPrecision writes. A scaled value too
 * near a half (where the product's rounding could tip n) or off the 7-digit range takes the string route.
 */
export function shown7(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return 0;
  const a = Math.abs(x);
  const k = 6 - Math.floor(Math.log10(a));
  if (k < -22 || k > 22) return Number(x.toPrecision(7));
  const s = k >= 0 ? a * POW10[k] : a / POW10[-k];
  if (s < 1e6 || s >= 1e7 || Math.abs(s - Math.floor(s) - 0.5) < 1e-6) return Number(x.toPrecision(7));
  const n = Math.round(s);
  const v = k >= 0 ? n / POW10[k] : n * POW10[-k];
  return x < 0 ? -v : v;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** One symbol's view of the trades figure: the data of its five traces and its title. */
interface SymbolView {
  symbol: string;
  title: string;
  x: unknown[][];
  y: unknown[][];
  customdata: unknown[][];
}

/** A symbol's fills as the trades figure uses them: their times and prices. */
interface FillLine {
  time: string[];
  price: number[];
}

function symbolView(symbol: string, trades: ReportTrade[], fills: FillLine, maxTrades: number, maxPrice: number, o: TradesFigureOptions): SymbolView {
  let shown = trades;
  if (trades.length > maxTrades) {
    const order = trades.map((_, i) => i).sort((i, j) => Math.abs(trades[j].pnl) - Math.abs(trades[i].pnl) || i - j);
    shown = order
      .slice(0, maxTrades)
      .sort((i, j) => i - j)
      .map((i) => trades[i]);
  }
  const closes = o.prices?.[symbol];
  let price: { x: unknown[]; y: number[] };
  if (closes) price = decimateCurve(closes.dates, closes.close, maxPrice);
  else {
    // decimateCurve of the fills' plot times and prices, with only the kept times converted
    const keep = minMaxIndices(fills.price, maxPrice);
    price = { x: keep.map((i) => plotTime(fills.time[i])), y: pick(fills.price, keep) };
  }
  const side = (long: boolean) => shown.filter((t) => (t.side === 'LONG') === long);
  const exits = (win: boolean) => shown.filter((t) => t.pnl > 0 === win);
  const entryTraces = [side(true), side(false)];
  const exitTraces = [exits(true), exits(false)];
  const name = esc(symbol);
  const title =
    shown.length < trades.length
      ? `${name}: the ${shown.length} trades of largest |P&amp;L| of ${trades.length} (all in report.json)`
      : `${name}: ${trades.length} trade${trades.length === 1 ? '' : 's'}`;
  return {
    symbol,
    title,
    x: [price.x, ...entryTraces.map((ts) => ts.map((t) => plotTime(t.entryTime))), ...exitTraces.map((ts) => ts.map((t) => plotTime(t.exitTime)))],
    y: [price.y.map(shown7), ...entryTraces.map((ts) => ts.map((t) => shown7(t.entryPrice))), ...exitTraces.map((ts) => ts.map((t) => shown7(t.exitPrice)))],
    customdata: [[], ...entryTraces.map((ts) => ts.map((t) => t.quantity)), ...exitTraces.map((ts) => ts.map((t) => Math.round(t.pnl * 100) / 100))],
  };
}

/**
 * Round trips one symbol at a time: a dropdown picks the symbol, drawn on its own price axis with its price
 * line (`o.prices` closes, else its fill prices joined), entries (triangles) and exits (green x for a win,
 * red for a loss). Each symbol's view carries at most its share of TRADE_MARKER_BUDGET trades (those of
 * largest |P&L|) and of PRICE_POINT_BUDGET price points (min/max-decimated), so 500 symbols over 20 years stay
 * a few MB.
 */
export function tradesFigure(report: Report, o: TradesFigureOptions = {}): Figure {
  const bySymbol = new Map<string, ReportTrade[]>();
  for (const t of report.trades) {
    if (!bySymbol.has(t.symbol)) bySymbol.set(t.symbol, []);
    bySymbol.get(t.symbol)!.push(t);
  }
  const symbols = [...bySymbol.keys()].sort();
  const n = Math.max(1, symbols.length);
  const maxTrades = o.maxTradesPerSymbol ?? clamp(Math.floor(TRADE_MARKER_BUDGET / n), 5, 1_000);
  const maxPrice = clamp(Math.floor(PRICE_POINT_BUDGET / n), 20, MAX_CURVE_POINTS);
  const fillsBySymbol = new Map<string, FillLine>();
  for (const f of report.fills) {
    if (!bySymbol.has(f.symbol)) continue;
    let line = fillsBySymbol.get(f.symbol);
    if (line === undefined) fillsBySymbol.set(f.symbol, (line = { time: [], price: [] }));
    line.time.push(f.time);
    line.price.push(f.price);
  }
  const views = symbols.map((s) => symbolView(s, bySymbol.get(s)!, fillsBySymbol.get(s) ?? { time: [], price: [] }, maxTrades, maxPrice, o));
  const first = views[0] ?? { symbol: '', title: 'No trades', x: [[], [], [], [], []], y: [[], [], [], [], []], customdata: [[], [], [], [], []] };
  const marker = (symbol: string, color: string, size = 10): PlotlySpec => ({ color, size, symbol, line: { width: 1, color: '#ffffff' } });
  const entry = (name: string, symbol: string): PlotlySpec => ({
    type: 'scatter',
    mode: 'markers',
    name,
    hovertemplate: `entry %{customdata} @ %{y:.4~f}<extra>${name}</extra>`,
    marker: marker(symbol, '#2563eb'),
  });
  const exit = (name: string, color: string): PlotlySpec => ({
    type: 'scatter',
    mode: 'markers',
    name,
    hovertemplate: `exit @ %{y:.4~f}, P&amp;L %{customdata:,.2f}<extra>${name}</extra>`,
    marker: marker('x', color, 9),
  });
  const traces: PlotlySpec[] = [
    {
      type: 'scatter',
      mode: 'lines',
      name: o.prices ? 'Close' : 'Fill price',
      line: { color: '#94a3b8', width: 1.2 },
      hovertemplate: '%{y:.4~f}<extra></extra>',
    },
    entry('Long entry', 'triangle-up'),
    entry('Short entry', 'triangle-down'),
    exit('Winning exit', '#16a34a'),
    exit('Losing / flat exit', '#dc2626'),
  ].map((t, i) => ({ ...t, x: first.x[i], y: first.y[i], ...(i > 0 ? { customdata: first.customdata[i] } : {}) }));
  const ids = [0, 1, 2, 3, 4];
  const menu: PlotlySpec = {
    type: 'dropdown',
    direction: 'down',
    x: 0,
    xanchor: 'left',
    y: 1.02,
    yanchor: 'bottom',
    active: 0,
    showactive: true,
    bgcolor: '#ffffff',
    bordercolor: '#cbd5e1',
    buttons: views.map((v) => ({
      label: esc(v.symbol),
      method: 'update',
      args: [
        { x: v.x, y: v.y, customdata: v.customdata.map((c, i) => (i === 0 ? null : c)) },
        { 'title.text': v.title, 'xaxis.autorange': true, 'yaxis.autorange': true },
        ids,
      ],
    })),
  };
  return {
    traces,
    layout: layout({
      hovermode: 'closest',
      margin: { l: 64, r: 16, t: 64, b: 36 },
      title: { text: first.title, x: 0.01, xanchor: 'left', y: 0.985, yanchor: 'top', yref: 'container', font: { size: 13 } },
      legend: { orientation: 'h', x: 0.16, y: 1.02, yanchor: 'bottom' },
      yaxis: { gridcolor: GRID, title: { text: 'price' } },
      updatemenus: views.length > 1 ? [menu] : [],
    }),
    height: 420,
  };
}

/** Monthly returns as a years x months heatmap, each cell's return printed, red below 0 and green above (centred on 0). */
export function monthlyFigure(report: Report): Figure {
  const months = monthlyReturns(report.equity.map((e) => ({ ts: Date.parse(`${e.date}T00:00:00Z`), equity: e.equity, cash: e.cash })));
  const years = [...new Set(months.map((m) => m.year))];
  const z = years.map(() => new Array<number | null>(12).fill(null));
  for (const m of months) z[years.indexOf(m.year)][m.month - 1] = m.return;
  const total = (row: (number | null)[]) => row.reduce<number>((acc, r) => (r === null ? acc : acc * (1 + r)), 1) - 1;
  const pct = (r: number) => `${r > 0 ? '+' : ''}${(r * 100).toFixed(1)}%`;
  const rows = years.map((y, i) => `${y} (${pct(total(z[i]))})`);
  const extreme = Math.max(1e-9, ...months.map((m) => Math.abs(m.return)).filter(Number.isFinite));
  return {
    traces: [
      {
        type: 'heatmap',
        x: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
        y: rows,
        z,
        text: z.map((r) => r.map((v) => (v === null ? '' : pct(v)))),
        texttemplate: '%{text}',
        hovertemplate: '%{x} %{y}: %{text}<extra></extra>',
        colorscale: [
          [0, '#dc2626'],
          [0.5, '#f8fafc'],
          [1, '#16a34a'],
        ],
        zmid: 0,
        zmin: -extreme,
        zmax: extreme,
        xgap: 2,
        ygap: 2,
        hoverongaps: false,
        colorbar: { tickformat: '.0%', thickness: 12 },
      },
    ],
    layout: layout({
      hovermode: 'closest',
      showlegend: false,
      margin: { l: 110, r: 16, t: 28, b: 28 },
      xaxis: { type: 'category' },
      yaxis: { type: 'category', autorange: 'reversed' },
    }),
    height: Math.max(160, 60 + 26 * years.length),
  };
}

/** The tearsheet's charts, keyed by the id of the element each is drawn in. */
export function reportFigures(report: Report): Record<string, Figure> {
  if (report.equity.length === 0) return {};
  return {
    'chart-equity': equityFigure(report),
    'chart-drawdown': drawdownFigure(report),
    'chart-rolling': rollingFigure(report),
    'chart-exposure': exposureFigure(report),
    ...(report.equity.length >= 2 ? { 'chart-monthly': monthlyFigure(report) } : {}),
    ...(report.trades.length > 0 ? { 'chart-trades': tradesFigure(report) } : {}),
  };
}

// ---- research figures ----

/**
 * Candlesticks with volume bars below, from columnar bars; with `trades`, their entries and exits on top. More bars
 * than a chart can draw are merged into weekly or monthly candles (mergeCandles), named in the title.
 */
export function candlesFigure(symbol: string, all: OhlcvColumns, trades: readonly ReportTrade[] = []): Figure {
  const { bars, daily, span } = mergeCandles(all);
  const when = (iso: string) => (daily ? iso.slice(0, 10) : iso);
  const x = Array.from(bars.ts, (t) => when(new Date(t).toISOString()));
  const title =
    span === 'bar'
      ? symbol
      : typeof span === 'object'
        ? `${symbol} (candles of ${span.bars} bars)`
        : `${symbol} (${span}ly candles of ${all.ts.length} daily bars)`;
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
        x: mine.map((t) => when(t.entryTime)),
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
        x: mine.map((t) => when(t.exitTime)),
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
      title: { text: esc(title) },
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
    traces: curves.map((c, i) => curve(c.dates, c.values, c.name, palette[i % palette.length])),
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
