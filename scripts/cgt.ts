// npm run cgt -- --journal <file.duckdb> --tax-year 2019-20 [--base GBP] [--fx <GBPUSD daily csv>] [--out DIR]
// The UK capital gains of a journal's trades in one tax year: every fill of the run (its whole history, since
// earlier years fill the section 104 pool), converted to GBP at the trade date's rate, matched by HMRC's rules
// (engine/tax/cgt.ts); writes DIR/cgt-<year>.csv (one row per match) and DIR/cgt-<year>.html.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readPriceInfo } from '../engine/data/load.ts';
import { openStore } from '../engine/data/store.ts';
import { loadDailyRates } from '../engine/fx/daily-rates.ts';
import { repoRoot } from '../engine/paths.ts';
import { matchAll, type AssetHistory, type CgtTrade, type ShareSplit } from '../engine/tax/cgt.ts';
import { cgtCsv, cgtHtml, taxYearGains, type TaxYearGains } from '../engine/tax/cgt-report.ts';
import { readJournalTrades, EXCHANGE_TZ, type JournalTrade, type RunInfo } from '../engine/tax/journal-trades.ts';
import { parseTaxYear } from '../engine/tax/tax-year.ts';
import { defineFlags, FlagError, flagHelp, parseFlags } from './lib/flags.ts';
import { isMain } from './lib/main.ts';

/** The Oanda GBPUSD daily file of the shared sample data (2007-2018), beside the repo. */
export const DEFAULT_FX = path.join(repoRoot(), '../shared/data/lean-sample/forex/gbpusd/daily/oanda.csv');

export const FLAGS = defineFlags({
  journal: { kind: 'string', nonEmpty: true, arg: 'FILE', help: "a run's journal database, e.g. out/backtest/journal.duckdb" },
  'tax-year': { kind: 'string', nonEmpty: true, arg: 'YYYY-YY', help: 'the UK tax year to report, e.g. 2019-20 (6 April 2019 to 5 April 2020)' },
  base: { kind: 'choice', choices: ['GBP'], default: 'GBP', help: "the report's currency: GBP (HMRC's; the only one)" },
  currency: {
    kind: 'choice',
    choices: ['USD', 'GBP'],
    default: 'USD',
    help: "the currency of the journal's prices and commissions (default USD: the US stocks the engine trades)",
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
needs a rate, not only the tax year's. Trade dates are the exchange's (${EXCHANGE_TZ}).`;

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
  const splits = await splitsFor(run, symbols, v.data);
  const fx = v.currency === 'GBP' ? undefined : ratesFile(v.fx, v.currency);
  const histories: AssetHistory[] = symbols.map((asset) => ({
    asset,
    trades: trades.filter((t) => t.symbol === asset).map((t) => cgtTrade(t, v.currency, fx)),
    splits: splits.bySymbol.get(asset) ?? [],
  }));
  const gains = taxYearGains(matchAll(histories), year.year);

  const out = path.resolve(v.out);
  mkdirSync(out, { recursive: true });
  const csv = path.join(out, `cgt-${year.year}.csv`);
  const html = path.join(out, `cgt-${year.year}.html`);
  const rates = fx
    ? `${v.currency} trades converted at ${fx.pair}, the mid of bid_close and ask_close of the trade date (or the latest earlier date with a rate, up to ${fx.maxStaleDays} days): ${fx.file}`
    : 'trades in GBP: no conversion';
  writeFileSync(csv, cgtCsv(gains));
  writeFileSync(html, cgtHtml(gains, { journal: file, runId: run.runId, rates, splits: splits.note }));
  printSummary(gains, { file, runId: run.runId, trades: trades.length, pending, rates, splits: splits.note });
  console.log(`wrote ${csv}`);
  console.log(`wrote ${html}`);
}

type Rates = ReturnType<typeof loadDailyRates>;

function ratesFile(given: string | undefined, currency: string): Rates {
  const file = given ?? DEFAULT_FX;
  if (!existsSync(file))
    throw new FlagError(
      given ? `--fx ${file}: no such file` : `no --fx given and the default rates file ${file} is missing: give --fx with a GBP${currency} daily csv`,
    );
  const rates = loadDailyRates(file, {
    hint: `give --fx a GBP${currency} daily file that covers it (the pool needs a rate for every trade, from the journal's first)`,
  });
  if (rates.pair !== `GBP${currency}`) throw new FlagError(`--fx ${file} holds ${rates.pair} rates: the trades need GBP${currency}`);
  return rates;
}

function cgtTrade(t: JournalTrade, currency: string, fx: Rates | undefined): CgtTrade {
  const trade: CgtTrade = { date: t.date, side: t.side, qty: t.qty, price: t.price, fee: t.commission };
  if (!fx) return trade;
  let rate: number;
  try {
    rate = fx.rate(t.date);
  } catch (e) {
    throw new Error(`${t.symbol} ${t.side} ${t.qty} on ${t.date}: ${(e as Error).message}`);
  }
  return { ...trade, currency, rate };
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
  }
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    if (e instanceof FlagError && !e.message.includes('--help')) console.error('(see npm run cgt -- --help)');
    process.exit(1);
  });
