// A tax year's capital gains: its disposals (from matchDisposals), the totals against the annual exempt amount,
// and the two files a person keeps: a CSV with one row per match and an HTML page with a table per disposal,
// grouped by asset class (shares, options, futures, FX) with each class's totals.
import { escapeHtml } from '../report/format.ts';
import type { AssetGains, AssetKind, Disposal, Pool } from './cgt.ts';
import { annualExemptAmount, parseTaxYear, type TaxYear } from './tax-year.ts';

export interface TaxYearGains {
  year: TaxYear;
  /** 6 April .. 5 April, YYYY-MM-DD */
  start: string;
  end: string;
  /** the year's disposals, by date then asset */
  disposals: Disposal[];
  proceeds: number;
  cost: number;
  /** the sum of the disposals with a gain */
  gains: number;
  /** the sum of the disposals with a loss, as a positive number */
  losses: number;
  /** gains - losses (this year's losses only: losses brought forward are not in the journal) */
  net: number;
  /** the annual exempt amount; undefined when engine/tax/tax-year.ts has no figure for the year */
  exempt: number | undefined;
  /** max(0, net - exempt); undefined without an exempt amount */
  taxable: number | undefined;
  /** each asset's section 104 pool after all of its trades (not only this year's) */
  pools: { asset: string; pool: Pool }[];
  /** the totals of each asset class with a disposal in the year, in KINDS order */
  byKind: KindTotals[];
}

/** The asset classes in the report's order. */
export const KINDS: readonly AssetKind[] = ['shares', 'option', 'future', 'fx'];

export interface KindTotals {
  kind: AssetKind;
  disposals: number;
  proceeds: number;
  cost: number;
  gains: number;
  losses: number;
  /** gains - losses */
  net: number;
}

/** A disposal's class (a disposal without one is a share's: matchDisposals does not set it). */
export const kindOfDisposal = (d: Disposal): AssetKind => d.kind ?? 'shares';

function totalsOf(kind: AssetKind, ds: readonly Disposal[]): KindTotals {
  const sum = (f: (d: Disposal) => number) => ds.reduce((s, d) => s + f(d), 0);
  const gains = sum((d) => Math.max(0, d.gain));
  const losses = sum((d) => Math.max(0, -d.gain));
  return { kind, disposals: ds.length, proceeds: sum((d) => d.proceeds), cost: sum((d) => d.cost), gains, losses, net: gains - losses };
}

/** The disposals of `year` and their totals. The matching must have seen every trade (earlier years fill the pool). */
export function taxYearGains(assets: readonly AssetGains[], year: TaxYear): TaxYearGains {
  const { start, end } = parseTaxYear(year);
  const disposals = assets
    .flatMap((a) => a.disposals.filter((d) => d.taxYear === year))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  const sum = (f: (d: Disposal) => number) => disposals.reduce((s, d) => s + f(d), 0);
  const gains = sum((d) => Math.max(0, d.gain));
  const losses = sum((d) => Math.max(0, -d.gain));
  const net = gains - losses;
  const exempt = annualExemptAmount(year);
  return {
    year,
    start,
    end,
    disposals,
    proceeds: sum((d) => d.proceeds),
    cost: sum((d) => d.cost),
    gains,
    losses,
    net,
    exempt,
    taxable: exempt === undefined ? undefined : Math.max(0, net - exempt),
    pools: assets.map((a) => ({ asset: a.asset, pool: a.poolAfter })),
    byKind: KINDS.map((k) =>
      totalsOf(
        k,
        disposals.filter((d) => kindOfDisposal(d) === k),
      ),
    ).filter((t) => t.disposals > 0),
  };
}

/** The columns; `kind` (shares | option | future | fx) came last, after the shares-only report's columns. */
export const CSV_HEADER = ['date', 'asset', 'qty', 'proceeds', 'cost', 'gain', 'rule', 'acquired', 'kind'] as const;

/** Amounts in the CSV: to 6 decimals (pence and beyond), as the fixture's figures. */
const six = (x: number) => String(Number(x.toFixed(6)));

/** One row per match: date, asset, qty, proceeds, cost, gain (GBP), rule, acquired (empty for the pool), kind. */
export function cgtCsv(y: TaxYearGains): string {
  const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = y.disposals.flatMap((d) =>
    d.matches.map((m) => [d.date, cell(d.asset), six(m.qty), six(m.proceeds), six(m.cost), six(m.gain), m.rule, m.acquired ?? '', kindOfDisposal(d)].join(',')),
  );
  return `${[CSV_HEADER.join(','), ...rows].join('\n')}\n`;
}

/** Where the figures came from, for the page's notes. */
export interface CgtSource {
  journal: string;
  runId: string;
  /** e.g. 'USD trades at GBPUSD, the mid of bid_close and ask_close of the trade date (…/oanda.csv)' */
  rates: string;
  /** the splits applied, or why none */
  splits: string;
}

const RULE_TEXT: Record<string, string> = {
  'same-day': 'same day (s.105)',
  'bed-and-breakfast': 'bed and breakfast, 30 days (s.106A)',
  'section-104': 'section 104 pool',
  'option-grant': 'written option: the grant (s.144(1)), less a closing purchase (s.148)',
  futures: 'futures contract closed out (s.143(5))',
  fx: 'FX pair round trip (simplified)',
};

const KIND_TEXT: Record<AssetKind, string> = { shares: 'Shares', option: 'Options', future: 'Futures', fx: 'FX pairs' };
const KIND_NOTE: Record<AssetKind, string> = {
  shares:
    "Matched by HMRC's rules in order: same day (TCGA 1992 s.105), bed and breakfast (s.106A), the section 104 pool; an option exercised or assigned into shares adds its cost or premium to them (s.144(2)/(3)).",
  option:
    'Each series is one asset matched like shares (CG55535); a bought option that expires is a disposal for nil (s.144(4), CG55415); a written option is a disposal of the premium at its grant (s.144(1)), a closing purchase its cost (s.148, CG55545); exercised and assigned options are in their shares.',
  future:
    "Each closed position's P&L (qty x price change x multiplier, less commissions) at the closing date's rate (s.143(5), CG56079); lots first in, first out.",
  fx: "Simplified: each closed pair round trip's P&L in its quote currency at the closing date's rate. Not covered: gains on currency balances, and the exemptions for individuals' foreign currency bank accounts from 6 April 2012 (s.252, CG78321) and personal expenditure (s.269, CG78315).",
};

const gbp = (x: number) => {
  const s = Math.abs(x)
    .toFixed(2)
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${x < 0 && Math.abs(x) >= 0.005 ? '-' : ''}£${s}`;
};
const qty = (x: number) => String(Number(x.toPrecision(12)));
const DISPOSED: Record<AssetKind, string> = { shares: 'sold', option: 'contracts disposed of', future: 'contracts closed', fx: 'units closed' };

/** The HTML page: the totals, then a table per disposal with its matches. Self-contained, no script. */
export function cgtHtml(y: TaxYearGains, src: CgtSource): string {
  const e = escapeHtml;
  const totals: [string, string][] = [
    ['disposals', String(y.disposals.length)],
    ['disposal proceeds', gbp(y.proceeds)],
    ['allowable costs', gbp(y.cost)],
    ['gains', gbp(y.gains)],
    ['losses', gbp(y.losses)],
    ['net gain', gbp(y.net)],
    ['annual exempt amount', y.exempt === undefined ? `not in the table for ${y.year}` : gbp(y.exempt)],
    ['taxable after the exemption', y.taxable === undefined ? '—' : gbp(y.taxable)],
  ];
  const disposal = (d: Disposal) => `<section>
<h3>${e(d.date)} ${e(d.asset)}: ${e(qty(d.qty))} ${DISPOSED[kindOfDisposal(d)]}, ${d.gain < 0 ? 'loss' : 'gain'} ${e(gbp(Math.abs(d.gain)))}</h3>
<table>
<thead><tr><th>rule</th><th>acquired</th><th>qty</th><th>proceeds</th><th>cost</th><th>gain</th></tr></thead>
<tbody>
${d.matches
  .map(
    (m) =>
      `<tr><td>${e(RULE_TEXT[m.rule] ?? m.rule)}</td><td>${e(m.acquired ?? (m.rule === 'section-104' ? 'pool' : '—'))}</td><td>${e(qty(m.qty))}</td><td>${e(gbp(m.proceeds))}</td><td>${e(gbp(m.cost))}</td><td>${e(gbp(m.gain))}</td></tr>`,
  )
  .join('\n')}
<tr class="total"><td>disposal</td><td></td><td>${e(qty(d.qty))}</td><td>${e(gbp(d.proceeds))}</td><td>${e(gbp(d.cost))}</td><td>${e(gbp(d.gain))}</td></tr>
</tbody>
</table>
</section>`;
  const kindSection = (k: KindTotals, sections: string[]) => `<h2 class="kind">${e(KIND_TEXT[k.kind])}</h2>
<p class="note">${e(KIND_NOTE[k.kind])}</p>
<table class="kind-totals"><tbody>
<tr><td>disposals</td><td>${k.disposals}</td></tr>
<tr><td>proceeds</td><td>${e(gbp(k.proceeds))}</td></tr>
<tr><td>allowable costs</td><td>${e(gbp(k.cost))}</td></tr>
<tr><td>gains</td><td>${e(gbp(k.gains))}</td></tr>
<tr><td>losses</td><td>${e(gbp(k.losses))}</td></tr>
<tr class="total"><td>net ${e(KIND_TEXT[k.kind].toLowerCase())}</td><td>${e(gbp(k.net))}</td></tr>
</tbody></table>
${sections.join('\n')}`;
  const pools = y.pools.filter((p) => p.pool.qty > 0);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>UK capital gains ${e(y.year)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 60em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
h3 { margin: 1.2em 0 0.2em; font-size: 1em; }
.note { color: #555; }
</style>
</head>
<body>
<h1>UK capital gains, tax year ${e(y.year)}</h1>
<p class="note">${e(y.start)} to ${e(y.end)}. Shares matched by HMRC's rules in order: same day (TCGA 1992 s.105), bed and breakfast (acquisitions in the 30 days after, s.106A), then the section 104 pool. Purchase commissions add to cost, sale commissions reduce proceeds. Amounts in GBP. Options, futures and FX pairs: see each class's note.</p>
<h2>Totals</h2>
<table><tbody>
${totals.map(([k, v]) => `<tr><td>${e(k)}</td><td>${e(v)}</td></tr>`).join('\n')}
</tbody></table>
${y.byKind.length === 0 ? '' : `<table class="by-kind"><thead><tr><th>class</th><th>disposals</th><th>proceeds</th><th>cost</th><th>net</th></tr></thead><tbody>\n${y.byKind.map((k) => `<tr><td>${e(KIND_TEXT[k.kind])}</td><td>${k.disposals}</td><td>${e(gbp(k.proceeds))}</td><td>${e(gbp(k.cost))}</td><td>${e(gbp(k.net))}</td></tr>`).join('\n')}\n</tbody></table>`}
<h2>Disposals</h2>
${y.disposals.length === 0 ? `<p>No disposals in ${e(y.year)}.</p>` : y.byKind.map((k) => kindSection(k, y.disposals.filter((d) => kindOfDisposal(d) === k.kind).map(disposal))).join('\n')}
<h2>Section 104 pools after the journal's last trade (shares and option series)</h2>
${pools.length === 0 ? '<p>None: nothing held.</p>' : `<table><thead><tr><th>asset</th><th></th><th>qty</th><th>cost</th></tr></thead><tbody>\n${pools.map((p) => `<tr><td>${e(p.asset)}</td><td></td><td>${e(qty(p.pool.qty))}</td><td>${e(gbp(p.pool.cost))}</td></tr>`).join('\n')}\n</tbody></table>`}
<h2>Source</h2>
<ul class="note">
<li>journal ${e(src.journal)}, run ${e(src.runId)} (its whole history: earlier years fill the pools)</li>
<li>${e(src.rates)}</li>
<li>${e(src.splits)}</li>
<li>Not included: losses brought forward from earlier years, other income, and assets outside this journal.</li>
<li>Open at the journal's end: a future or FX pair is no disposal until it is closed; a written option still open counts its premium, with nil cost so far (s.144(1)).</li>
</ul>
</body>
</html>
`;
}
