// npm run cgt -- --journal <file.duckdb> --tax-year 2019-20 [--base GBP] [--fx <GBPUSD daily csv>] [--out DIR]
// The UK capital gains of a journal's trades in one tax year: every fill of the run (its whole history, since
// earlier years fill the section 104 pool), converted to GBP at the trade date's rate. Shares are matched by
// HMRC's rules (engine/tax/cgt.ts), options per series with expiry and exercise (engine/tax/options.ts),
// futures and FX pairs per closed position (engine/tax/round-trips.ts); a symbol's class comes from the run
// config's `contracts` or the journal's instruments table (none: a share). Writes DIR/cgt-<year>.csv (one row
// per match, with its kind) and DIR/cgt-<year>.html (grouped by kind, with each kind's totals).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readPriceInfo } from '../engine/data/load.ts';
import { openStore } from '../engine/data/store.ts';
import { loadDailyRates } from '../engine/fx/daily-rates.ts';
import { repoRoot } from '../engine/paths.ts';
import type { ShareSplit } from '../engine/tax/cgt.ts';
import { assetGains, kindOf } from '../engine/tax/cgt-assets.ts';
import { cgtCsv, cgtHtml, taxYearGains, type TaxYearGains } from '../engine/tax/cgt-report.ts';
import { readJournalTrades, EXCHANGE_TZ, type RunInfo } from '../engine/tax/journal-trades.ts';
import { parseTaxYear } from '../engine/tax/tax-year.ts';
import { defineFlags, FlagError, flagHelp, parseFlags } from './lib/flags.ts';
import { isMain } from './lib/main.ts';

/** The LEAN sample's forex folder, beside the repo: <pair>/daily/oanda.csv. */
const FOREX_DIR = path.join(repoRoot(), '../shared/data/lean-sample/forex');
/** The Oanda GBPUSD daily file of the shared sample data (2007-2018), beside the repo. */
export const DEFAULT_FX = path.join(FOREX_DIR, 'gbpusd/daily/oanda.csv');

export const FLAGS = defineFlags({
  journal: { kind: 'string', nonEmpty: true, arg: 'FILE', help: "a run's journal database, e.g. out/backtest/journal.duckdb" },
  'tax-year': { kind: 'string', nonEmpty: true, arg: 'YYYY-YY', help: 'the UK tax year to report, e.g. 2019-20 (6 April 2019 to 5 April 2020)' },
  base: { kind: 'choice', choices: ['GBP'], default: 'GBP', help: "the report's currency: GBP (HMRC's; the only one)" },
  currency: {
    kind: 'choice',
    choices: ['USD', 'GBP'],
    default: 'USD',
    help: "the currency of the shares' prices and commissions (default USD: the US stocks the engine trades;\noptions, futures and FX pairs use their contract terms' currency)",
  },
  fx: {
    kind: 'string',
    nonEmpty: true,
    arg: 'FILE',
    help: 'GBPUSD daily rates, a LEAN forex daily csv: the mid of bid_close and ask_close of the trade date\n(default ../shared/data/lean-sample/forex/gbpusd/daily/oanda.csv, 2007-2018)',
  },
  run: { kind: 'string', nonEmpty: true, arg: 'ID', help: "the run to report (default: the journal's only run)" },
  data: {
    kind: 'string',
    nonEmpty: true,
    arg: 'FILE',
    help: 'market-data store whose splits apply to the shares (default: the store a raw-price backtest read;\nnone for an adjusted-price run, whose shares are already split-adjusted)',
  },
  out: { kind: 'string', default: 'out/cgt', arg: 'DIR', help: 'where cgt-<year>.csv and cgt-<year>.html go (default out/cgt)' },
});

const HELP = `usage: npm run cgt -- --journal FILE --tax-year YYYY-YY [options]
${flagHelp(FLAGS)}
Shares are matched by HMRC's rules in order: same day (TCGA 1992 s.105), bed and breakfast (acquisitions in
the 30 days after the disposal, s.106A), then the section 104 pool; purchase commissions add to cost, sale
commissions reduce proceeds. A USD trade is converted at its own date's rate (GBP = USD / GBPUSD; a date
without a rate takes the latest earlier one up to 7 days back). The whole journal is read: every trade
needs a rate, not only the tax year's. Trade dates are the exchange's (${EXCHANGE_TZ}).
Options (the run config's contracts with secType OPT): each series matched like shares; an expiry is a
disposal for nil (bought) or leaves the premium as the gain (written, s.144(1)); exercise and assignment
move the option's cost or premium into the share trade (s.144(2)/(3)). Futures: each closed position's P&L
at the closing date's rate (s.143(5)). FX pairs: each closed round trip's P&L in the quote currency at the
closing date's rate (simplified; see the report's note). Other currencies than USD take their rates from
the sample's forex/gbp<ccy> or forex/<ccy>gbp daily file.`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(HELP);
  if (v.journal === undefined) throw new FlagError('give the journal with --journal FILE (see --help)');
  if (v['tax-year'] === undefined) throw new FlagError('give the tax year with --tax-year YYYY-YY, e.g. 2019-20');
  let year: ReturnType<typeof parseTaxYear>;
  try {
    year = parseTaxYear(v['tax-year']);
  } catch (e) {
    throw new FlagError(`--tax-year: ${(e as Error).message}`);
  }
  const file = v.journal;
  if (!existsSync(file)) throw new Error(`no such journal file: ${file} (a run writes <out>/journal.duckdb; check the path)`);
  if (!statSync(file).isFile()) throw new Error(`${file} is not a file: give the journal database itself, e.g. ${file.replace(/\/$/, '')}/journal.duckdb`);

  const { run, trades, pending } = await readJournalTrades(file, v.run);
  if (trades.length === 0) throw new Error(`run ${run.runId} of ${file} has no fills: nothing to report`);
  const symbols = [...new Set(trades.map((t) => t.symbol))].sort();
  const shareSymbols = symbols.filter((sym) => kindOf(sym, run.contracts[sym]) === 'shares');
  const splits = await splitsFor(run, shareSymbols, v.data);
  const currencyOf = (sym: string) => run.contracts[sym]?.currency ?? v.currency;
  const rates = new Map<string, Rates>();
  for (const cur of new Set(symbols.map(currencyOf))) if (cur !== 'GBP') rates.set(cur, ratesFor(cur, cur === 'USD' ? v.fx : undefined));
  // every fill needs its date's rate (the pool depends on every earlier trade): say which fill lacks one
  for (const t of trades) {
    const r = rates.get(currencyOf(t.symbol));
    if (!r) continue;
    try {
      r.rate(t.date);
    } catch (e) {
      throw new Error(`${t.symbol} ${t.side} ${t.qty} on ${t.date}: ${(e as Error).message}`);
    }
  }
  const gains = taxYearGains(
    assetGains({
      fills: trades,
      contracts: run.contracts,
      shareCurrency: v.currency,
      rateOf: (cur, date) => (cur === 'GBP' ? 1 : rates.get(cur)!.rate(date)),
      splits: splits.bySymbol,
    }),
    year.year,
  );

  const out = path.resolve(v.out);
  mkdirSync(out, { recursive: true });
  const csv = path.join(out, `cgt-${year.year}.csv`);
  const html = path.join(out, `cgt-${year.year}.html`);
  const rateNote =
    rates.size === 0
      ? 'trades in GBP: no conversion'
      : [...rates]
          .map(
            ([cur, r]) =>
              `${cur} trades converted at ${r.pair}, the mid of bid_close and ask_close of the trade date (or the latest earlier date with a rate, up to ${r.maxStaleDays} days)${r.inverted ? ', inverted' : ''}: ${r.file}`,
          )
          .join('; ');
  writeFileSync(csv, cgtCsv(gains));
  writeFileSync(html, cgtHtml(gains, { journal: file, runId: run.runId, rates: rateNote, splits: splits.note }));
  printSummary(gains, { file, runId: run.runId, trades: trades.length, pending, rates: rateNote, splits: splits.note });
  console.log(`wrote ${csv}`);
  console.log(`wrote ${html}`);
}

/** A currency's daily rates as units of it per GBP; `inverted`: read from a <ccy>GBP file and inverted. */
type Rates = { pair: string; file: string; maxStaleDays: number; inverted: boolean; rate(date: string): number };

/** USD: --fx or the sample's GBPUSD file; another currency: the sample's GBP<ccy> file, else its <ccy>GBP inverted. */
function ratesFor(currency: string, given: string | undefined): Rates {
  const hint = `give --fx a GBP${currency} daily file that covers it (the pool needs a rate for every trade, from the journal's first)`;
  if (given !== undefined || currency === 'USD') {
    const file = given ?? DEFAULT_FX;
    if (!existsSync(file))
      throw new FlagError(
        given ? `--fx ${file}: no such file` : `no --fx given and the default rates file ${file} is missing: give --fx with a GBP${currency} daily csv`,
      );
    const r = loadDailyRates(file, { hint });
    if (r.pair !== `GBP${currency}`) throw new FlagError(`--fx ${file} holds ${r.pair} rates: the trades need GBP${currency}`);
    return { pair: r.pair, file: r.file, maxStaleDays: r.maxStaleDays, inverted: false, rate: (d) => r.rate(d) };
  }
  const direct = path.join(FOREX_DIR, `gbp${currency.toLowerCase()}/daily/oanda.csv`);
  const inverse = path.join(FOREX_DIR, `${currency.toLowerCase()}gbp/daily/oanda.csv`);
  if (existsSync(direct)) {
    const r = loadDailyRates(direct, { hint });
    return { pair: r.pair, file: r.file, maxStaleDays: r.maxStaleDays, inverted: false, rate: (d) => r.rate(d) };
  }
  if (existsSync(inverse)) {
    const r = loadDailyRates(inverse, { hint });
    return { pair: r.pair, file: r.file, maxStaleDays: r.maxStaleDays, inverted: true, rate: (d) => 1 / r.rate(d) };
  }
  throw new Error(`the journal trades in ${currency}, but there is no GBP${currency} or ${currency}GBP daily file in ${FOREX_DIR} to convert it to GBP`);
}

/** The splits of the traded symbols: what a raw-price run applied as events, from its market-data store. */
async function splitsFor(run: RunInfo, symbols: string[], given: string | undefined): Promise<{ bySymbol: Map<string, ShareSplit[]>; note: string }> {
  const none = (why: string) => ({ bySymbol: new Map<string, ShareSplit[]>(), note: `no splits applied: ${why}` });
  if (given === undefined && run.prices !== 'raw')
    return none(
      run.prices === 'adjusted'
        ? 'the run traded split-adjusted prices, so its share counts are adjusted already'
        : 'the journal does not say which market data the run read (give --data STORE if a traded symbol split)',
    );
  const named = given ?? run.data;
  if (named === undefined)
    throw new Error(`run ${run.runId} traded raw prices (splits applied as events) but does not name its data store: give it with --data FILE`);
  const store = given !== undefined || existsSync(named) ? named : path.join(repoRoot(), named);
  if (!existsSync(store))
    throw new Error(
      `the splits come from the run's market-data store ${named}, which is missing: give the store it read with --data FILE (its shares are as traded, before splits)`,
    );
  const s = await openStore(store, { readOnly: true });
  try {
    // the corporate actions do not depend on the interval (only the price basis does)
    const info = await readPriceInfo(s, symbols, '1d');
    const bySymbol = new Map<string, ShareSplit[]>();
    let n = 0;
    for (const [sym, acts] of info.actions) {
      const splits = acts.filter((a) => a.kind === 'split').map((a) => ({ date: a.exDate, ratio: a.value }));
      if (splits.length) bySymbol.set(sym, splits);
      n += splits.length;
    }
    const list = [...bySymbol].flatMap(([sym, l]) => l.map((x) => `${sym} ${x.ratio}:1 ex ${x.date}`));
    return { bySymbol, note: n === 0 ? `no splits of the traded symbols in ${store}` : `splits from ${store}: ${list.join(', ')}` };
  } finally {
    s.close();
  }
}

const money = (x: number) =>
  `${x < 0 ? '-' : ''}£${Math.abs(x)
    .toFixed(2)
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;

function printSummary(y: TaxYearGains, src: { file: string; runId: string; trades: number; pending: number; rates: string; splits: string }): void {
  console.log(
    `UK capital gains ${y.year} (${y.start} .. ${y.end}): run ${src.runId} of ${src.file}, ${src.trades} fills read${src.pending ? ` (${src.pending} from the write-ahead file)` : ''}`,
  );
  console.log(src.rates);
  console.log(src.splits);
  if (y.disposals.length === 0) {
    console.log(`no disposals in ${y.year}: nothing was sold between ${y.start} and ${y.end}`);
  } else {
    const rows: [string, string][] = [
      ['disposals', String(y.disposals.length)],
      ['proceeds', money(y.proceeds)],
      ['allowable costs', money(y.cost)],
      ['gains', money(y.gains)],
      ['losses', money(y.losses)],
      ['net gain', money(y.net)],
      ['annual exempt', y.exempt === undefined ? `not in engine/tax/tax-year.ts's table for ${y.year}` : money(y.exempt)],
      ['taxable', y.taxable === undefined ? '—' : money(y.taxable)],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, val] of rows) console.log(`${k.padEnd(w)}  ${val}`);
    for (const k of y.byKind)
      console.log(
        `${k.kind}: ${k.disposals} disposal${k.disposals === 1 ? '' : 's'}, proceeds ${money(k.proceeds)}, costs ${money(k.cost)}, gains ${money(k.gains)}, losses ${money(k.losses)}, net ${money(k.net)}`,
      );
  }
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    if (e instanceof FlagError && !e.message.includes('--help')) console.error('(see npm run cgt -- --help)');
    process.exit(1);
  });
