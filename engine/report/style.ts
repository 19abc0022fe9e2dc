// The report's stylesheet (inlined; system fonts only, no external resources).
export const REPORT_CSS = `
:root {
  --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff;
  --accent: #2563eb; --pos: #15803d; --neg: #b91c1c;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header { background: #0f172a; color: #f8fafc; padding: 28px 40px 24px; }
header .brand { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; color: #93c5fd; font-weight: 600; }
header .brand span { color: #94a3b8; font-weight: 400; margin-left: 4px; }
header h1 { margin: 6px 0 4px; font-size: 28px; font-weight: 650; word-break: break-word; }
header .subtitle { color: #cbd5e1; display: flex; flex-wrap: wrap; gap: 6px 20px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-top: 20px; }
.kpi { background: #1e293b; border-radius: 10px; padding: 12px 16px; }
.kpi-label { color: #94a3b8; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.kpi-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.kpi-value.pos { color: #4ade80; } .kpi-value.neg { color: #f87171; }
main { max-width: 1320px; margin: 0 auto; padding: 8px 40px 24px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin: 20px 0; }
h2 { font-size: 17px; margin: 0 0 12px; font-weight: 650; }
h2 .count { display: inline-block; background: #eff6ff; color: var(--accent); font-size: 12px; border-radius: 999px; padding: 1px 9px; margin-left: 6px; vertical-align: 2px; }
.chart { width: 100%; height: 360px; }
.chart-short { height: 240px; }
.metric-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 18px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.metrics th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); border-bottom: 2px solid var(--line); padding: 6px 0; }
table.metrics td { padding: 6px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
table.metrics td.num { font-weight: 600; white-space: nowrap; padding-left: 12px; }
.hint { color: var(--muted); font-size: 11.5px; }
.table-wrap { overflow: auto; max-height: 560px; border: 1px solid var(--line); border-radius: 8px; }
table.data th, table.data td { padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; text-align: left; }
table.data thead th { position: sticky; top: 0; background: #f1f5f9; font-size: 12px; color: #475569; font-weight: 600; }
table.data tbody tr:nth-child(even) { background: #f8fafc; }
table.data tbody tr:hover { background: #eff6ff; }
table.monthly td, table.monthly th { text-align: right; }
table.monthly td.year { font-weight: 650; border-left: 2px solid var(--line); }
.num { text-align: right !important; }
.pos { color: var(--pos); } .neg { color: var(--neg); }
.empty { color: var(--muted); margin: 0; font-style: italic; }
.note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
details summary { cursor: pointer; color: var(--accent); margin-bottom: 10px; }
pre.config { background: #0f172a; color: #e2e8f0; border-radius: 8px; padding: 14px 16px; overflow: auto; font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; }
ul.conventions { margin: 0; padding-left: 20px; } ul.conventions li { margin: 4px 0; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 0 0 28px; }
@media print { body { background: #fff; } section { break-inside: avoid; } .table-wrap { max-height: none; } }
`;
