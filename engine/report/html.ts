// Renders a Report as one standalone, offline HTML file: plotly inlined, data embedded as JSON,
// tables rendered server-side (readable without JavaScript), no external URL. It shows what a screen can show
// (decimate.ts: curves of at most 2,000 points, the ends of long tables and lists); report.json keeps it all.
import { monthlyReturns } from '../metrics/series.ts';
import { DASH, escapeHtml, fmtInt, fmtNum, fmtPct, fmtPrice, fmtValue, signClass } from './format.ts';
import { edges, embeddedReport, TABLE_EDGE_ROWS } from './decimate.ts';
import { jsonForScriptChunks } from './json-stream.ts';
import { PLOTLY_CONFIG, plotlyBundle, reportFigures } from './figures.ts';
import type { Report, ReportInSample, ReportMetrics, ReportOrder } from './report-types.ts';
import { runSettings } from './run-settings.ts';
import { REPORT_CSS } from './style.ts';
import { tearsheetHtml } from './tearsheet-html.ts';

/** The whole page as one string (small reports, tests); writeReport streams renderReportHtmlChunks instead. */
export function renderReportHtml(report: Report): string {
  return [...renderReportHtmlChunks(report)].join('');
}

/**
 * The page in pieces, concatenating to exactly renderReportHtml(report): long tables row by row and the
 * embedded JSON element by element, so a run with a million orders never needs its page as one string.
 */
export function* renderReportHtmlChunks(report: Report): Generator<string> {
  const h = header(report);
  const figures = reportFigures(report);
  const lines: (string | (() => Iterable<string>))[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`Tradebench report: ${h.strategy}${h.params ? ` ${h.params}` : ''}`)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    headerHtml(report, h),
    ...(report.inSample !== undefined ? [inSampleBanner(report.inSample)] : []),
    ...(report.warnings ?? []).map(warningBanner),
    '<main>',
    section('Metrics', metricsHtml(report.metrics)),
    ...tearsheetHtml(report),
    section('Equity', '<div id="chart-equity" class="chart"></div>'),
    section('Drawdown', '<div id="chart-drawdown" class="chart chart-short"></div>'),
    section(`Rolling Sharpe and volatility (${fmtInt(report.rolling.window)} days)`, '<div id="chart-rolling" class="chart chart-short"></div>'),
    section('Exposure', '<div id="chart-exposure" class="chart chart-short"></div>'),
    section('Monthly returns', monthlyHtml(report, figures['chart-monthly']?.height)),
    () =>
      sectionChunks(`Trades <span class="count">${fmtInt(report.trades.length)}</span>`, [
        figures['chart-trades'] ? `<div id="chart-trades" class="chart" style="height:${figures['chart-trades'].height}px"></div>` : '',
        tradesHtml(report),
      ]),
    () => sectionChunks(`Open positions <span class="count">${fmtInt(report.openPositions.length)}</span>`, [positionsHtml(report)]),
    ...(report.currencies !== undefined ? [() => sectionChunks('Currencies', [currenciesHtml(report)])] : []),
    ...(report.attribution.length > 1 ? [() => sectionChunks('Attribution by strategy', [attributionHtml(report)])] : []),
    () => sectionChunks(`Risk events <span class="count">${fmtInt(report.riskEvents.length)}</span>`, [riskHtml(report)]),
    () => sectionChunks(`Orders <span class="count">${fmtInt(report.orders.length)}</span>`, [ordersHtml(report)]),
    ...(report.corporateActions !== undefined
      ? [() => sectionChunks(`Corporate actions <span class="count">${fmtInt(report.corporateActions!.length)}</span>`, [actionsHtml(report)])]
      : []),
    section('Run config', `<pre class="config">${escapeHtml(JSON.stringify(report.config, null, 2))}</pre>`),
    section('Conventions', `<ul class="conventions">${report.tradebench.conventions.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>`),
    '</main>',
    `<footer>Tradebench ${escapeHtml(report.tradebench.version)} · standalone report, no network access needed</footer>`,
    () => wrapped('<script type="application/json" id="tradebench-report">', jsonForScriptChunks(embeddedReport(report)), '</script>'),
    () => wrapped('<script>', [plotlyBundle()], '</script>'),
    () => wrapped('<script type="application/json" id="tradebench-figures">', jsonForScriptChunks(figures), '</script>'),
    `<script>${CHARTS_JS}</script>`,
    '</body>',
    '</html>',
  ];
  // the lines joined by newlines, with a final newline
  for (const line of lines) {
    if (typeof line === 'string') yield `${line}\n`;
    else {
      yield* line();
      yield '\n';
    }
  }
}

function* wrapped(open: string, body: Iterable<string>, close: string): Generator<string> {
  yield open;
  yield* body;
  yield close;
}

// ---- header ----

interface HeaderInfo {
  strategy: string;
  /** the run's params as JSON (resolved: defaults filled), '' when the config has none */
  params: string;
  symbols: string[];
  from: string;
  to: string;
}

function header(report: Report): HeaderInfo {
  const c = report.config;
  const strategies = unique(report.trades.map((t) => t.strategy));
  const strategy =
    (typeof c.strategy === 'string' && c.strategy) || (typeof c.name === 'string' && c.name) || (strategies.length > 0 ? strategies.join(', ') : 'Backtest');
  let symbols: string[];
  if (Array.isArray(c.symbols) && c.symbols.every((s) => typeof s === 'string')) symbols = c.symbols as string[];
  else if (typeof c.symbol === 'string') symbols = [c.symbol];
  else symbols = unique([...report.orders.map((o) => o.symbol), ...report.trades.map((t) => t.symbol), ...report.openPositions.map((p) => p.symbol)]);
  const eq = report.equity;
  const from = eq.length > 0 ? eq[0].date : typeof c.start === 'string' ? c.start : DASH;
  const to = eq.length > 0 ? eq[eq.length - 1].date : typeof c.end === 'string' ? c.end : DASH;
  const params = typeof c.params === 'object' && c.params !== null && Object.keys(c.params).length > 0 ? JSON.stringify(c.params) : '';
  return { strategy, params, symbols, from, to };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function headerHtml(report: Report, h: HeaderInfo): string {
  const m = report.metrics;
  const kpi = (label: string, value: string, cls = '') =>
    `<div class="kpi"><div class="kpi-label">${escapeHtml(label)}</div><div class="kpi-value ${cls}">${escapeHtml(value)}</div></div>`;
  const symbols = h.symbols.length > 0 ? h.symbols.join(', ') : DASH;
  return `<header>
<div class="brand">Tradebench <span>${escapeHtml(report.tradebench.version)}</span></div>
<h1>${escapeHtml(h.strategy)}${h.params ? ` <span class="params" style="font-size:16px;font-weight:400;color:#cbd5e1">${escapeHtml(h.params)}</span>` : ''}</h1>
<div class="subtitle"><span>${escapeHtml(symbols)}</span><span>${escapeHtml(h.from)} → ${escapeHtml(h.to)}</span><span>${fmtInt(m.periods)} daily returns</span></div>
${settingsHtml(report)}<div class="kpis">
${kpi('Total return', fmtPct(m.totalReturn), signClass(m.totalReturn))}
${kpi('CAGR', fmtPct(m.cagr), signClass(m.cagr))}
${kpi('Sharpe', fmtNum(m.sharpe), signClass(m.sharpe))}
${kpi('Max drawdown', fmtPct(m.maxDrawdown), signClass(m.maxDrawdown))}
${kpi('Final equity', fmtNum(report.finalEquity))}
${kpi('Trades', fmtInt(m.tradeCount))}
</div>
</header>`;
}

/** The rest of the effective config under the title: interval, cash, sizing in words, costs, risk profile. */
function settingsHtml(report: Report): string {
  const shown = new Set(['strategy', 'symbols', 'dates']);
  const rows = runSettings(report.config).filter(([k]) => !shown.has(k));
  if (rows.length === 0) return '';
  const cells = rows.map(([k, v]) => `<span><span style="color:#94a3b8">${escapeHtml(k)}</span> ${escapeHtml(v)}</span>`).join('');
  return `<div class="subtitle run-settings" style="margin-top:4px;font-size:13px">${cells}</div>\n`;
}

/**
 * The warning shown above the metrics when the run traded its model over bars the model was trained on
 * (styled inline: a report without the flag renders exactly as before).
 */
function inSampleBanner(s: ReportInSample): string {
  const style =
    'margin:16px auto 0;max-width:1240px;padding:10px 14px;border:1px solid #b45309;border-left:6px solid #b45309;background:#fffbeb;color:#78350f;border-radius:4px';
  return `<div class="in-sample-warning" role="alert" style="${style}"><strong>In-sample results.</strong> ${escapeHtml(s.message)}</div>`;
}

/** A warning about the run's settings above the metrics (styled inline, as the in-sample banner). */
function warningBanner(message: string): string {
  const style =
    'margin:16px auto 0;max-width:1240px;padding:10px 14px;border:1px solid #b45309;border-left:6px solid #b45309;background:#fffbeb;color:#78350f;border-radius:4px';
  return `<div class="run-warning" role="alert" style="${style}"><strong>Warning.</strong> ${escapeHtml(message)}</div>`;
}

/** A multi-currency run's exposure per currency at its end. */
function* currenciesHtml(report: Report): Generator<string> {
  const base = String(report.config.baseCurrency ?? 'USD');
  yield* table(
    report.currencies ?? [],
    [
      { title: 'Currency', cell: (c) => c.currency },
      { title: 'Cash', cell: (c) => fmtNum(c.cash), num: true },
      { title: 'Positions', cell: (c) => fmtNum(c.positions), num: true },
      { title: `Rate (${base})`, cell: (c) => fmtValue(c.rate), num: true },
      { title: `Exposure (${base})`, cell: (c) => fmtNum(c.exposure), num: true, cls: (c) => signClass(c.exposure) },
    ],
    'No currency held.',
  );
  yield `<p class="note">At the end of the run, in ${escapeHtml(base)} at the last daily rates. An FX pair's position counts in its base currency; the cash paid for it is in its quote currency. Equity, cash and P&amp;L elsewhere in this report are in ${escapeHtml(base)}; prices and open positions' values are in each symbol's own currency.</p>`;
}

/** The splits and dividends a raw-price run applied. */
function actionsHtml(report: Report): Iterable<string> {
  return table(
    report.corporateActions ?? [],
    [
      { title: 'Ex-date', cell: (a) => a.exDate },
      { title: 'Symbol', cell: (a) => a.symbol },
      { title: 'Action', cell: (a) => (a.kind === 'split' ? `split ${fmtValue(a.value)} for 1` : `dividend ${fmtPrice(a.value)}`) },
      { title: 'Last close', cell: (a) => fmtPrice(a.prevClose), num: true },
      {
        title: 'Position',
        cell: (a) => (a.kind === 'split' ? `${fmtValue(a.positionBefore)} → ${fmtValue(a.positionAfter)}` : fmtValue(a.positionBefore)),
        num: true,
      },
      { title: 'Cash', cell: (a) => fmtNum(a.cash), num: true },
      { title: 'Orders adjusted / cancelled', cell: (a) => `${a.ordersAdjusted} / ${a.ordersCancelled}`, num: true },
    ],
    'No corporate actions.',
  );
}

function section(title: string, body: string): string {
  // `title` is trusted markup built here; callers escape any data inside it
  return `<section><h2>${title}</h2>${body}</section>`;
}

/** section() in pieces: each body part a string or the pieces of one. */
function* sectionChunks(title: string, body: (string | Iterable<string>)[]): Generator<string> {
  yield `<section><h2>${title}</h2>`;
  for (const b of body) {
    if (typeof b === 'string') yield b;
    else yield* b;
  }
  yield '</section>';
}

// ---- metrics ----

type Row = [label: string, value: string, cls: string, hint: string];

function metricsHtml(m: ReportMetrics): string {
  const days = (d: number | null) => (d === null ? DASH : `${fmtNum(d, Number.isInteger(d) ? 0 : 1)} d`);
  const date = (s: string | null) => (s === null ? DASH : s.slice(0, 10));
  const returns: Row[] = [
    ['Total return', fmtPct(m.totalReturn), signClass(m.totalReturn), 'E_end / E_0 − 1'],
    ['CAGR', fmtPct(m.cagr), signClass(m.cagr), `(E_end / E_0)^(${m.periodsPerYear}/N) − 1`],
    ['Sharpe', fmtNum(m.sharpe), signClass(m.sharpe), `mean(r − rf) / std(r − rf) · √${m.periodsPerYear}`],
    ['Sortino', fmtNum(m.sortino), signClass(m.sortino), 'downside deviation over all N'],
    ['Calmar', fmtNum(m.calmar), signClass(m.calmar), 'CAGR / |max drawdown|'],
    ['Volatility', fmtPct(m.volatility), '', `std(r) · √${m.periodsPerYear}, annualised`],
    ['Risk-free rate', fmtPct(m.rfAnnual), '', 'annual'],
    ['Daily returns (N)', fmtInt(m.periods), '', ''],
  ];
  const risk: Row[] = [
    ['Max drawdown', fmtPct(m.maxDrawdown), signClass(m.maxDrawdown), 'min(E / cummax(E) − 1)'],
    ['Drawdown peak', date(m.maxDrawdownStart), '', ''],
    ['Drawdown trough', date(m.maxDrawdownTrough), '', ''],
    ['Recovered', m.maxDrawdown < 0 && m.maxDrawdownRecovery === null ? 'not recovered' : date(m.maxDrawdownRecovery), '', ''],
    ['Drawdown length', days(m.maxDrawdownDays), '', 'calendar days, peak to recovery or end'],
    ['Exposure', fmtPct(m.exposure), '', 'share of daily closes in the market'],
    ['Turnover', `${fmtNum(m.turnover)}×`, '', 'traded value / mean equity'],
    ['Total commission', fmtNum(m.totalCommission), '', ''],
  ];
  const trades: Row[] = [
    ['Trades', fmtInt(m.tradeCount), '', 'closed round trips'],
    ['Win rate', fmtPct(m.winRate), '', 'pnl > 0'],
    ['Profit factor', fmtNum(m.profitFactor), '', 'gross profit / gross loss'],
    ['Average win', fmtNum(m.avgWin), signClass(m.avgWin), ''],
    ['Average loss', fmtNum(m.avgLoss), signClass(m.avgLoss), ''],
    ['Expectancy', fmtNum(m.expectancy), signClass(m.expectancy), 'mean pnl per trade'],
    ['Average holding', days(m.avgHoldingDays), '', 'calendar days'],
  ];
  const table = (title: string, rows: Row[]) =>
    `<table class="metrics"><thead><tr><th colspan="2">${escapeHtml(title)}</th></tr></thead><tbody>${rows
      .map(
        ([label, value, cls, hint]) =>
          `<tr><td>${escapeHtml(label)}${hint ? `<div class="hint">${escapeHtml(hint)}</div>` : ''}</td><td class="${cls ? `num ${cls}` : 'num'}">${escapeHtml(value)}</td></tr>`,
      )
      .join('')}</tbody></table>`;
  return `<div class="metric-grid">${table('Returns', returns)}${table('Risk & activity', risk)}${table('Trades', trades)}</div>`;
}

// ---- tables ----

interface Col<T> {
  title: string;
  cell: (row: T, index: number) => string;
  num?: boolean;
  cls?: (row: T) => string;
}

/** Characters of table rows per piece. */
const TABLE_PIECE = 32_768;

/**
 * A table of rows, in pieces of about TABLE_PIECE characters; `cell` returns plain text, escaped here. A long
 * table shows its first and last TABLE_EDGE_ROWS rows, a row saying how many are left out between them, and
 * a note under it: all rows are in report.json. `subRows`: raw rows (already escaped) shown under a row, e.g. a
 * combo order's legs ('' for none).
 */
function* table<T>(rows: readonly T[], cols: Col<T>[], empty: string, subRows?: (row: T) => string): Generator<string> {
  if (rows.length === 0) return void (yield `<p class="empty">${escapeHtml(empty)}</p>`);
  const head = cols.map((c) => `<th${c.num ? ' class="num"' : ''}>${escapeHtml(c.title)}</th>`).join('');
  yield `<div class="table-wrap"><table class="data"><thead><tr>${head}</tr></thead><tbody>\n`;
  const cut = edges(rows);
  const shown = [...cut.head.keys(), ...cut.tail.map((_, k) => cut.tailStart + k)];
  let batch = '';
  for (const i of shown) {
    const r = rows[i];
    if (cut.omitted > 0 && i === cut.tailStart)
      batch += `\n<tr class="gap"><td colspan="${cols.length}" style="text-align:center;color:#64748b">… ${fmtInt(cut.omitted)} rows not shown …</td></tr>`;
    batch += `${i > 0 ? '\n' : ''}<tr>${cols
      .map((c) => {
        const cls = [c.num ? 'num' : '', c.cls ? c.cls(r) : ''].filter(Boolean).join(' ');
        return `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(c.cell(r, i))}</td>`;
      })
      .join('')}</tr>`;
    if (subRows !== undefined) batch += subRows(r);
    if (batch.length >= TABLE_PIECE) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
  yield '\n</tbody></table></div>';
  if (cut.omitted > 0)
    yield `<p class="note">The first and last ${fmtInt(cut.head.length)} of ${fmtInt(rows.length)} rows; all ${fmtInt(rows.length)} rows are in report.json.</p>`;
}

const time = (iso: string) =>
  iso
    .replace('T', ' ')
    .replace(/:00\.000Z$|\.000Z$/, '')
    .replace(/ 00:00$/, '');

function tradesHtml(report: Report): Iterable<string> {
  return table(
    report.trades,
    [
      { title: '#', cell: (_t, i) => String(i + 1), num: true },
      { title: 'Symbol', cell: (t) => t.symbol },
      { title: 'Side', cell: (t) => t.side },
      { title: 'Entry', cell: (t) => time(t.entryTime) },
      { title: 'Exit', cell: (t) => time(t.exitTime) },
      { title: 'Qty', cell: (t) => fmtValue(t.quantity), num: true },
      { title: 'Entry price', cell: (t) => fmtPrice(t.entryPrice), num: true },
      { title: 'Exit price', cell: (t) => fmtPrice(t.exitPrice), num: true },
      { title: 'Commission', cell: (t) => fmtNum(t.commission), num: true },
      { title: 'P&L', cell: (t) => fmtNum(t.pnl), num: true, cls: (t) => signClass(t.pnl) },
      { title: 'Strategy', cell: (t) => t.strategy },
    ],
    'No closed trades.',
  );
}

function* positionsHtml(report: Report): Generator<string> {
  yield* table(
    report.openPositions,
    [
      { title: 'Symbol', cell: (p) => p.symbol },
      { title: 'Qty', cell: (p) => fmtValue(p.quantity), num: true },
      { title: 'Avg cost', cell: (p) => fmtPrice(p.avgCost), num: true },
      { title: 'Last price', cell: (p) => fmtPrice(p.lastPrice), num: true },
      { title: 'Market value', cell: (p) => fmtNum(p.marketValue), num: true },
      { title: 'Unrealized P&L', cell: (p) => fmtNum(p.unrealizedPnl), num: true, cls: (p) => signClass(p.unrealizedPnl) },
      { title: 'Marked at', cell: (p) => time(p.markedAt) },
    ],
    'No open positions at the end of the run.',
  );
  if (report.openPositions.length > 0) yield '<p class="note">Marked at the last close, not sold; unrealized P&amp;L is not in the trade statistics.</p>';
}

function attributionHtml(report: Report): Iterable<string> {
  return table(
    report.attribution,
    [
      { title: 'Strategy', cell: (a) => a.strategy },
      { title: 'Starting cash', cell: (a) => fmtNum(a.startingCash), num: true },
      { title: 'Equity', cell: (a) => fmtNum(a.equity), num: true },
      { title: 'Realized P&L', cell: (a) => fmtNum(a.realizedPnl), num: true, cls: (a) => signClass(a.realizedPnl) },
      { title: 'Unrealized P&L', cell: (a) => fmtNum(a.unrealizedPnl), num: true, cls: (a) => signClass(a.unrealizedPnl) },
      { title: 'Commission', cell: (a) => fmtNum(a.commission), num: true },
      { title: 'Trades', cell: (a) => fmtInt(a.trades), num: true },
    ],
    'No strategies.',
  );
}

function riskHtml(report: Report): Iterable<string> {
  return table(
    report.riskEvents,
    [
      { title: 'Time', cell: (e) => time(e.time) },
      { title: 'Order', cell: (e) => String(e.orderId), num: true },
      { title: 'Check', cell: (e) => e.check },
      { title: 'Value', cell: (e) => fmtValue(e.value), num: true },
      { title: 'Limit', cell: (e) => fmtValue(e.limit), num: true },
      { title: 'Message', cell: (e) => e.message },
    ],
    'No risk events.',
  );
}

function* ordersHtml(report: Report): Generator<string> {
  if (report.orders.length === 0) return void (yield '<p class="empty">No orders.</p>');
  const t = table(
    report.orders,
    [
      { title: 'Id', cell: (o) => String(o.id), num: true },
      { title: 'Submitted', cell: (o) => time(o.submittedAt) },
      { title: 'Symbol', cell: (o) => o.symbol },
      { title: 'Side', cell: (o) => o.side },
      { title: 'Type', cell: (o) => o.type },
      { title: 'Qty', cell: (o) => (o.quantity === 'all-in' ? 'all-in' : fmtValue(o.quantity)), num: true },
      { title: 'Limit', cell: (o) => (o.limit === undefined ? '' : fmtPrice(o.limit)), num: true },
      { title: 'Stop', cell: (o) => (o.stop === undefined ? '' : fmtPrice(o.stop)), num: true },
      { title: 'TIF', cell: (o) => o.tif },
      { title: 'Status', cell: (o) => o.status },
      { title: 'Filled', cell: (o) => fmtValue(o.filledQty), num: true },
      { title: 'Avg price', cell: (o) => (o.filledQty > 0 ? fmtPrice(o.avgFillPrice) : ''), num: true },
      { title: 'Commission', cell: (o) => fmtNum(o.commission), num: true },
      { title: 'Reason', cell: (o) => o.reason ?? '' },
    ],
    '',
    legRows,
  );
  yield `<details><summary>Show ${fmtInt(report.orders.length)} orders and ${fmtInt(report.fills.length)} fills (full detail in ${report.orders.length > 2 * TABLE_EDGE_ROWS || report.fills.length > 2 * TABLE_EDGE_ROWS ? 'report.json' : 'the embedded JSON'})</summary>`;
  yield* t;
  yield '</details>';
}

/** A combo order's legs, one row each under it: the leg's symbol, its action and ratio as defined, what it filled and at what average price. */
function legRows(o: ReportOrder): string {
  if (o.legs === undefined) return '';
  return o.legs
    .map(
      (l, k) =>
        `\n<tr class="leg"><td></td><td>leg ${k + 1}</td><td>${escapeHtml(l.symbol)}</td><td>${l.side}</td><td></td><td class="num">x ${fmtInt(l.ratio)}</td><td></td><td></td><td></td><td></td>` +
        `<td class="num">${escapeHtml(fmtValue(l.filledQty))}</td><td class="num">${l.filledQty !== 0 ? escapeHtml(fmtPrice(l.avgFillPrice)) : ''}</td><td></td><td></td></tr>`,
    )
    .join('');
}

/** The monthly heatmap (figures.ts monthlyFigure), and the same returns as a table with the years' totals, folded. */
function monthlyHtml(report: Report, chartHeight: number | undefined): string {
  const points = report.equity.map((e) => ({ ts: Date.parse(`${e.date}T00:00:00Z`), equity: e.equity, cash: e.cash }));
  const months = monthlyReturns(points);
  if (months.length === 0) return '<p class="empty">Not enough data.</p>';
  const byYear = new Map<number, (number | null)[]>();
  for (const m of months) {
    if (!byYear.has(m.year)) byYear.set(m.year, new Array<number | null>(12).fill(null));
    byYear.get(m.year)![m.month - 1] = m.return;
  }
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const cell = (r: number | null) => {
    if (r === null) return '<td class="num"></td>';
    // shade by size: 5% or more is the full colour
    const a = Math.min(1, Math.abs(r) / 0.05) * 0.55;
    const bg = r >= 0 ? `rgba(22,163,74,${a.toFixed(3)})` : `rgba(220,38,38,${a.toFixed(3)})`;
    return `<td class="num" style="background:${bg}">${escapeHtml(fmtPct(r, 1))}</td>`;
  };
  const rows = [...byYear.entries()].map(([y, rs]) => {
    const year = rs.reduce<number>((acc, r) => (r === null ? acc : acc * (1 + r)), 1) - 1;
    return `<tr><th>${y}</th>${rs.map(cell).join('')}<td class="num year ${signClass(year)}">${escapeHtml(fmtPct(year, 1))}</td></tr>`;
  });
  const chart = chartHeight === undefined ? '' : `<div id="chart-monthly" class="chart" style="height:${chartHeight}px"></div>`;
  return `${chart}<details><summary>Show as a table</summary><div class="table-wrap"><table class="data monthly"><thead><tr><th></th>${names.map((n) => `<th class="num">${n}</th>`).join('')}<th class="num">Year</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

// ---- charts: the figures module's specs, drawn in the page ----

const CHARTS_JS = `
(function () {
  if (typeof Plotly === 'undefined') return;
  var figures = JSON.parse(document.getElementById('tradebench-figures').textContent);
  for (var id in figures) {
    if (!document.getElementById(id)) continue;
    var f = figures[id];
    Plotly.newPlot(id, f.traces, f.layout, ${JSON.stringify(PLOTLY_CONFIG)});
  }
})();
`;
