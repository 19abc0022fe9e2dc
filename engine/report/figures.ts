import { jsonForScript } from './format.ts';
import { plotlyBundle } from './html.ts';

/** A plotly trace or layout, as plotly's JSON takes it. */
export type PlotlySpec = Record<string, unknown>;

let figureSeq = 0;

/**
 * One standalone, offline HTML fragment drawing a plotly figure (plotly inlined): for notebooks
 * (`tslab.display.html(figureHtml(...))`) and anything else that wants the report's charts.
 */
export function figureHtml(traces: PlotlySpec[], layout: PlotlySpec = {}, height = 420): string {
  const id = `tradebench-figure-${++figureSeq}`;
  const spec = jsonForScript({ traces, layout: { height, margin: { l: 60, r: 20, t: 40, b: 40 }, ...layout } });
  return `<div id="${id}" style="width:100%;height:${height}px"></div>
<script>if (typeof Plotly === 'undefined') {${plotlyBundle()}}</script>
<script>(function () { var f = ${spec}; Plotly.newPlot(${JSON.stringify(id)}, f.traces, f.layout, { displaylogo: false, responsive: true }); })();</script>`;
}

/** Candlesticks with volume bars below, from columnar bars. */
export function candlesFigure(symbol: string, bars: { ts: ArrayLike<number>; open: ArrayLike<number>; high: ArrayLike<number>; low: ArrayLike<number>; close: ArrayLike<number>; volume: ArrayLike<number> }): string {
  const x = Array.from(bars.ts, (t) => new Date(t).toISOString().slice(0, 10));
  return figureHtml(
    [
      { type: 'candlestick', name: symbol, x, open: Array.from(bars.open), high: Array.from(bars.high), low: Array.from(bars.low), close: Array.from(bars.close), yaxis: 'y' },
      { type: 'bar', name: 'volume', x, y: Array.from(bars.volume), yaxis: 'y2', marker: { color: '#94a3b8' } },
    ],
    { title: { text: symbol }, xaxis: { rangeslider: { visible: false } }, yaxis: { domain: [0.3, 1] }, yaxis2: { domain: [0, 0.22] }, showlegend: false },
    520,
  );
}
