// npm run backtest -- [--strategy sma-cross] [--params '{"fast":10,"slow":30}'] [--symbols AAPL,MSFT] [--data dir|file|.duckdb] ...
// With no arguments: sma-cross on the bundled sample (imported into data/sample.duckdb on first use).
import path from 'node:path';
import { checkJournalWritable, openJournalTarget, openRunData } from './lib/run-data.ts';
import { perShareWarning } from '../engine/data/actions.ts';
import { collectChunks } from '../engine/data/load.ts';
import { predictHistory } from '../engine/ml/predictions.ts';
import { runBacktest, runBacktestChunked, type BacktestConfig } from '../engine/run/backtest.ts';
import { backtestReport } from '../engine/run/backtest-report.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { REPORT_MODES, writeRunOutputs } from '../engine/report/index.ts';
import { buildSlots, resolvedParams, strategyHelp } from '../strategies/index.ts';
import { printSummary, runId } from './lib/cli.ts';
import { defineFlags, flagHelp, parseFlags, parseJsonObjectFlag } from './lib/flags.ts';
import { isMain } from './lib/main.ts';
import { runInSample, runModel } from './lib/model-signals.ts';
import type { InSample } from '../engine/ml/in-sample.ts';
import { CHAIN_FLAGS, chainSelection, printRunConfig, RUN_FLAGS, runSettingsFlags, sizingRiskWarning } from './lib/run-options.ts';

export const FLAGS = defineFlags({
  ...RUN_FLAGS,
  params: { kind: 'string', default: '{}', arg: 'JSON', help: `strategy params, e.g. '{"fast":10,"slow":30}' (defaults otherwise)` },
  'volume-cap': { kind: 'number', default: 0, min: 0, max: 1, arg: 'F', help: "fill at most F of a bar's volume (default 0: no cap)" },
  'bracket-tie': { kind: 'choice', choices: ['stop', 'target'], default: 'stop', arg: 'T', help: 'stop (default, worst case) | target' },
  rf: { kind: 'number', default: 0, min: -0.1, max: 1, arg: 'R', help: 'annual risk-free rate for Sharpe/Sortino, a fraction (0.04 = 4%; default 0)' },
  out: { kind: 'string', default: 'out/backtest', arg: 'DIR', help: 'where report.json, report.html and journal.duckdb go (default out/backtest)' },
  report: {
    kind: 'choice',
    choices: REPORT_MODES,
    default: 'all',
    arg: 'WHAT',
    help: 'all (default: report.json and report.html) | json | html | none (the journal only);\na report not written is removed from DIR, so none is left from an earlier run',
  },
  journal: { kind: 'string', arg: 'FILE', help: 'journal database (default DIR/journal.duckdb)' },
  benchmark: { kind: 'string', arg: 'SYMBOL', help: 'buy-and-hold line in the report (default SPY if in the run, else the first symbol)' },
  ...CHAIN_FLAGS,
  'base-currency': {
    kind: 'choice',
    choices: ['USD', 'GBP', 'EUR'],
    default: 'USD',
    arg: 'CCY',
    help: "the account's currency (default USD): cash, equity, P&L and the report are in it; another\ncurrency the symbols are in is converted at the data's daily FX rates (e.g. GBP.USD, imported with --lean)",
  },
});

const HELP = `usage: npm run backtest -- [options]
${flagHelp(FLAGS)}
A negative number is written with =, e.g. --rf=-0.01.

${strategyHelp()}`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) {
    console.log(HELP);
    return;
  }
  const rawParams = parseJsonObjectFlag('--params', v.params);
  const cash = v.cash;
  const volumeCap = v['volume-cap'];
  const { commission, slippage, sizing, risk } = runSettingsFlags(v);
  const interval = v.interval;
  const requested = v.symbols;
  // Validate the strategy and its params before reading any data.
  buildSlots(v.strategy, rawParams, requested ?? ['CHECK']);

  const base = v['base-currency'];
  const chain = chainSelection(v);
  const data = await openRunData({ data: v.data, symbols: requested, interval, from: v.from, to: v.to, tz: v.tz, prices: v.prices, baseCurrency: base, chain });
  const config: BacktestConfig = {
    strategy: v.strategy,
    // with their defaults filled: the report and the run id show what ran ('{}' and the defaults spelled out are one run)
    params: resolvedParams(v.strategy, rawParams),
    symbols: data.symbols,
    interval,
    from: v.from,
    to: v.to,
    cash,
    commission,
    slippage,
    sizing,
    risk,
    volumeCap,
    bracketTie: v['bracket-tie'],
    tz: v.tz,
    session: v.session,
    prices: data.prices,
    rfAnnual: v.rf,
    ...(v.benchmark ? { benchmark: v.benchmark.toUpperCase() } : {}),
    // only when they say something: a US stock run in USD keeps its config (and run id) as before
    ...(data.contracts ? { contracts: data.contracts } : {}),
    ...(base !== 'USD' ? { baseCurrency: base } : {}),
  };
  const slots = buildSlots(config.strategy, rawParams, data.symbols);
  printRunConfig(config as unknown as Record<string, unknown>);
  const clash = sizingRiskWarning(sizing, data.symbols.length, risk);
  if (clash) console.error(clash);
  const priceWarning = perShareWarning(commission, data.prices, data.unknownBasis);
  if (priceWarning) console.error(`warning: ${priceWarning}`);
  const out = path.resolve(v.out);
  const journalPath = v.journal ?? path.join(out, 'journal.duckdb');
  try {
    await checkJournalWritable(journalPath); // before the replay, not after it
  } catch (e) {
    data.close();
    throw new Error(`${(e as Error).message} Nothing was replaced: the previous outputs are intact.`);
  }
  const model = await runModel(config.strategy, rawParams);
  const t0 = performance.now();
  const progress = process.stderr.isTTY && process.env.CI !== 'true';
  let result;
  let inSample: InSample | undefined;
  try {
    if (model) {
      // a model's features need each symbol's whole history: batched inference over it, then the replay
      const series = await collectChunks(data.chunks);
      // bars the model was trained on make in-sample results: the run goes ahead, warned and flagged
      inSample = runInSample(config.strategy, rawParams, model.card, series);
      result = runBacktest(series, config, slots, data.sectors, { signals: await predictHistory(model, series), fx: data.fx });
    } else {
      result = await runBacktestChunked(
        data.chunks,
        config,
        slots,
        data.sectors,
        (bars) => {
          if (progress) process.stderr.write(`\rreplayed ${bars.toLocaleString('en-US')} bars`);
        },
        { fx: data.fx },
      );
    }
  } finally {
    data.close();
    await model?.model.close();
    if (progress) process.stderr.write('\r\x1b[K');
  }
  const seconds = (performance.now() - t0) / 1000;
  const report = backtestReport(result, data.source, { inSample, warnings: priceWarning ? [priceWarning] : [] });

  const id = runId(report.config);
  // all or nothing: the reports are streamed to temporary files, the journal is one transaction, then the
  // reports are renamed into place; on any failure the previous outputs stay as they were
  const files = await writeRunOutputs({
    dir: out,
    report,
    reports: v.report,
    journal: {
      path: journalPath,
      write: () =>
        openJournalTarget(journalPath, async (conn) => {
          // the journal's own database is open just for this write: its memory stays small (DuckDB spills the
          // rest), and its commit checkpoints (any commit is over the threshold): the tables go straight into
          // the file, with no write-ahead log written first and then checkpointed by the close, which blocks
          await conn.run(`SET memory_limit = '${JOURNAL_MEMORY}'; SET checkpoint_threshold = '0b'`);
          await writeJournal(
            conn,
            { runId: id, kind: 'backtest', strategy: config.strategy, config: report.config, bars: result.bars, finalEquity: report.finalEquity },
            result.journal,
            result.engine.orders,
            result.engine.portfolio,
          );
        }),
    },
    failure: { elsewhere: 'use --out (and --journal) on another disk', otherFile: 'use --journal with another file' },
  });
  const written = [files.json, files.html, journalPath].filter((f) => f !== undefined);
  printSummary(report, { bars: result.bars, seconds, files: written, removed: files.removed, runId: id });
  if (inSample) console.error(`warning: ${inSample.message}`);
}

/** DuckDB memory for writing the journal (its rows are appended in batches, so this bounds the write). */
const JOURNAL_MEMORY = '256MB';

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
