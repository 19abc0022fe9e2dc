// Figures in notebooks: displayed inline under a running tslab kernel, plotly loaded once per kernel.
import { createRequire } from 'node:module';
import path from 'node:path';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { jsonForScript } from '../report/format.ts';
import { PLOTLY_CONFIG, type Figure } from '../report/figures.ts';
import { packedPlotlyLoader } from '../report/plotly-packed.ts';

/** Where displayed HTML goes: tslab's display.html under a kernel (tests plug in their own). */
export type HtmlSink = (html: string) => void;

const require = createRequire(import.meta.url);

/**
 * tslab's display.html when this process is a running tslab kernel, else undefined. The kernel's own tslab
 * module is the one whose `jupyter.js` holds the kernel's output channel (`lastWriteDisplayData`), found in
 * the module cache: a notebook in another project may load tradebench's dependencies from another folder.
 */
function kernelSink(): HtmlSink | undefined {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    if ((mod?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData == null) continue;
    const pub = require(path.join(path.dirname(file), 'public.js')) as { display: { html(s: string): void } };
    return (html) => pub.display.html(html);
  }
  return undefined;
}

let override: HtmlSink | null | undefined;
let plotlySent = false;
let plotlyUrl: string | undefined;
let seq = 0;

/** Replaces the display (tests); `undefined` restores the kernel detection, `null` displays nothing. Resets plotly's once-flag. */
export function setHtmlSink(sink: HtmlSink | null | undefined): void {
  override = sink;
  plotlySent = false;
}

/**
 * Where figures load plotly from. Default (undefined): plotly.min.js from plotly.js-dist-min, packed (LZMA, base64)
 * into the first figure's output of a kernel (1.5 MB in a saved notebook, however many figures; it works offline).
 * A URL (a CDN, or the copy your Jupyter server serves) inlines nothing: figures load it from there.
 */
export function setPlotlySource(url: string | undefined): void {
  plotlyUrl = url;
  plotlySent = false;
}

/** A figure's data above this size is sent gzipped (a chart's data compresses about fivefold). */
const GZIP_ABOVE = 16_000;

/**
 * A figure's spec as a script expression: a promise of the spec object. Fractions are cut to 8 significant
 * digits (more than a chart or its hover shows: cents up to a million); a large spec travels gzipped and
 * base64-encoded, unpacked by the browser's own DecompressionStream.
 */
function specExpression(figure: Figure): string {
  const json = JSON.stringify({ traces: figure.traces, layout: { height: figure.height, ...figure.layout } }, (_k, v) =>
    typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(8) : v,
  );
  if (json.length <= GZIP_ABOVE) return `Promise.resolve(${jsonForScript(JSON.parse(json))})`;
  const b64 = gzipSync(json, { level: 9 }).toString('base64');
  return `(function () { var s = atob("${b64}"), u = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
return new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream('gzip'))).json(); })()`;
}

/**
 * The HTML of one figure: a div and a script that draws it as soon as `window.Plotly` is there. The first
 * figure of a kernel also carries the plotly loader (the bundle, or a script tag for the URL); later ones
 * only wait for it, so each is a few kilobytes plus its data.
 */
export function figureFragment(figure: Figure): string {
  const id = `tb-figure-${process.pid}-${++seq}`;
  let loader = '';
  if (!plotlySent) {
    plotlySent = true;
    loader =
      plotlyUrl === undefined
        ? packedPlotlyLoader()
        : `<script>if (typeof window.Plotly === 'undefined') { var s = document.createElement('script'); s.src = ${jsonForScript(plotlyUrl)}; document.head.appendChild(s); }</script>\n`;
  }
  return `${loader}<div id="${id}" style="width:100%;height:${figure.height}px"></div>
<script>${specExpression(figure)}.then(function (f) { var n = 0; (function draw() { if (window.Plotly) Plotly.newPlot(${JSON.stringify(id)}, f.traces, f.layout, ${JSON.stringify(PLOTLY_CONFIG)}); else if (++n < 600) setTimeout(draw, 50); })(); });</script>`;
}

/** Displays a figure inline when running under a tslab kernel (nothing otherwise) and returns it. */
export function show(figure: Figure): Figure {
  const sink = override === undefined ? kernelSink() : override;
  if (sink) sink(figureFragment(figure));
  // as a cell's last value it prints as one line (it is drawn above), not as its traces
  Object.defineProperty(figure, inspect.custom, {
    value: () => `Figure (${figure.traces.length} traces, ${figure.height} px)`,
    enumerable: false,
    configurable: true,
  });
  return figure;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A cell of an HTML table: numbers to 6 significant digits, Dates as the date (and time when not midnight UTC). */
function cellText(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().replace('T00:00:00.000Z', '').replace('.000Z', 'Z');
  if (typeof v === 'number') return Number.isNaN(v) ? '' : Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
  return escapeHtml(String(v ?? ''));
}

type TableSource = { columns: string[]; shape: number[]; column(name: string): { values: unknown } };

/** The HTML table of a DataFrame's first `rows` rows (default 20), with the count of the rest below it. */
export function tableHtml(df: TableSource, rows = 20): string {
  const n = Math.min(rows, df.shape[0]);
  const cols = df.columns.map((c) => (df.column(c).values as unknown[]).slice(0, n));
  const head = `<tr>${df.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = Array.from({ length: n }, (_, i) => `<tr>${cols.map((c) => `<td>${cellText(c[i])}</td>`).join('')}</tr>`).join('');
  const more = df.shape[0] > n ? `<p>${df.shape[0] - n} more rows of ${df.shape[0]}</p>` : '';
  return `<table class="dataframe"><thead>${head}</thead><tbody>${body}</tbody></table>${more}`;
}

/**
 * Displays a DataFrame's first `rows` rows (default 20) as an HTML table under tslab; outside a kernel (a script)
 * prints them as text. Returns nothing, so a cell ending with it prints nothing more.
 */
export function table(df: TableSource, rows = 20): void {
  const sink = override === undefined ? kernelSink() : override;
  if (sink) sink(tableHtml(df, rows));
  else if (override === undefined) console.log(inspect(df));
}
