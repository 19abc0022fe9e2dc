// The tearsheet tables beside quantstats' (rendered by html.ts right after the metrics): the run against its
// benchmark, the return distribution and the worst drawdowns, each number with its formula, and the note that a
// short run has no annualised figures. A report without these fields (built before them) renders nothing.
import { DASH, escapeHtml, fmtInt, fmtNum, fmtPct, signClass } from './format.ts';
import type { Report, ReportBenchmarkStats, ReportDistribution, ReportDrawdown } from './report-types.ts';

type Row = [label: string, value: string, cls: string, hint: string];

/** The page lines of the tearsheet sections: none when the report has no distribution (an older report). */
export function tearsheetHtml(report: Report): string[] {
  const d = report.distribution;
  if (d === undefined) return [];
  const P = report.metrics.periodsPerYear;
  const tables = [
    ...(report.benchmarkStats !== undefined ? [metricTable(`Against ${report.benchmarkStats.symbol}`, benchmarkRows(report.benchmarkStats, P))] : []),
    metricTable('Return distribution', distributionRows(d)),
  ];
  const note =
    report.annualisedNote !== undefined ? `<p class="note annualised-note"><strong>Short run.</strong> ${escapeHtml(report.annualisedNote)}</p>` : '';
  const benchmarkNote =
    report.benchmarkStats !== undefined
      ? `<p class="note">r = the run's daily returns, b = buy-and-hold ${escapeHtml(report.benchmarkStats.symbol)}'s on the same days (N = ${fmtInt(report.benchmarkStats.periods)}; ${fmtInt(report.benchmarkStats.upDays)} up, ${fmtInt(report.benchmarkStats.downDays)} down); std and cov with ddof = 1.</p>`
      : '';
  return [
    `<section><h2>Benchmark and return distribution</h2>${note}<div class="metric-grid">${tables.join('')}</div>${benchmarkNote}</section>`,
    `<section><h2>Worst drawdowns <span class="count">${fmtInt((report.drawdowns ?? []).length)}</span></h2>${drawdownsHtml(report.drawdowns ?? [])}</section>`,
  ];
}

function benchmarkRows(s: ReportBenchmarkStats, P: number): Row[] {
  return [
    ['Alpha', fmtPct(s.alpha), signClass(s.alpha), `${P} · (mean(r − rf) − β · mean(b − rf)), annualised`],
    ['Beta', fmtNum(s.beta), '', 'cov(r, b) / var(b)'],
    ['Correlation', fmtNum(s.correlation), signClass(s.correlation), 'cov(r, b) / (std(r) · std(b))'],
    ['Information ratio', fmtNum(s.informationRatio, 3), signClass(s.informationRatio), 'mean(r − b) / std(r − b), daily'],
    ['Up capture', fmtNum(s.upCapture), '', `CAGR(r) / CAGR(b) on the days b > 0`],
    ['Down capture', fmtNum(s.downCapture), '', `CAGR(r) / CAGR(b) on the days b < 0`],
  ];
}

function distributionRows(d: ReportDistribution): Row[] {
  return [
    ['Skew', fmtNum(d.skew, 3), signClass(d.skew), 'N·√(N−1)/(N−2) · Σ(r−m)³ / (Σ(r−m)²)^1.5'],
    ['Kurtosis', fmtNum(d.kurtosis, 3), '', 'excess, sample (pandas): 0 for a normal'],
    ['Daily VaR 95%', fmtPct(d.var95), signClass(d.var95), 'mean(r) − 1.6449 · std(r), parametric'],
    ['Daily CVaR 95%', fmtPct(d.cvar95), signClass(d.cvar95), 'mean(r) − 2.0627 · std(r), normal expected shortfall'],
    ['Best day', fmtPct(d.bestDay), signClass(d.bestDay), 'max r'],
    ['Worst day', fmtPct(d.worstDay), signClass(d.worstDay), 'min r'],
    ['Best month', fmtPct(d.bestMonth), signClass(d.bestMonth), 'calendar month, Π(1 + r) − 1'],
    ['Worst month', fmtPct(d.worstMonth), signClass(d.worstMonth), ''],
    ['Best year', fmtPct(d.bestYear), signClass(d.bestYear), 'calendar year, Π(1 + r) − 1'],
    ['Worst year', fmtPct(d.worstYear), signClass(d.worstYear), ''],
  ];
}

function metricTable(title: string, rows: Row[]): string {
  return `<table class="metrics"><thead><tr><th colspan="2">${escapeHtml(title)}</th></tr></thead><tbody>${rows
    .map(
      ([label, value, cls, hint]) =>
        `<tr><td>${escapeHtml(label)}${hint ? `<div class="hint">${escapeHtml(hint)}</div>` : ''}</td><td class="${cls ? `num ${cls}` : 'num'}">${escapeHtml(value)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function drawdownsHtml(rows: readonly ReportDrawdown[]): string {
  if (rows.length === 0) return '<p class="empty">No drawdown: the equity never fell below its high.</p>';
  const cols: [title: string, num: boolean, cell: (d: ReportDrawdown, i: number) => string, cls?: (d: ReportDrawdown) => string][] = [
    ['#', true, (_d, i) => String(i + 1)],
    ['Peak', false, (d) => d.peak],
    ['Start', false, (d) => d.start],
    ['Trough', false, (d) => d.trough],
    ['End', false, (d) => d.end],
    ['Recovered', false, (d) => d.recovery ?? 'not recovered'],
    ['Depth', true, (d) => fmtPct(d.depth), (d) => signClass(d.depth)],
    ['Days', true, (d) => fmtInt(d.days)],
  ];
  const head = cols.map(([t, num]) => `<th${num ? ' class="num"' : ''}>${escapeHtml(t)}</th>`).join('');
  const body = rows
    .map(
      (d, i) =>
        `<tr>${cols
          .map(([, num, cell, cls]) => {
            const c = [num ? 'num' : '', cls ? cls(d) : ''].filter(Boolean).join(' ');
            return `<td${c ? ` class="${c}"` : ''}>${escapeHtml(cell(d, i) || DASH)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table class="data drawdowns"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div><p class="note">As quantstats' drawdown_details: depth = min(E / peak − 1); start and end are the first and last closes under water (end = the last close when not recovered); days = calendar days from start to end + 1; peak = the close before start, recovered = the first close back at the peak.</p>`;
}
