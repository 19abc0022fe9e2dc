// npm run backtest -- [--strategy sma-cross] [--params '{"fast":10,"slow":30}'] [--symbols AAPL,MSFT] [--data dir|file|.duckdb] ...
// With no arguments: sma-cross on the bundled sample (imported into data/market.duckdb on first use).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { parseCommission, parseSlippage } from '../engine/exec/costs.ts';
import { openJournalTarget, openRunData, DEFAULT_DB_PATH } from './lib/run-data.ts';
import { RESEARCH_RISK, SEED_RISK, parseRiskConfig, type RiskConfig } from '../engine/risk/limits.ts';
import { collectChunks } from '../engine/data/load.ts';
import { predictHistory } from '../engine/ml/predictions.ts';
import { runBacktest, runBacktestChunked, type BacktestConfig } from '../engine/run/backtest.ts';
import { backtestReport } from '../engine/run/backtest-report.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { writeReport } from '../engine/report/index.ts';
import { buildSlots } from '../strategies/index.ts';
import { fail, printSummary, runId } from './lib/cli.ts';
import { runModel } from './lib/model-signals.ts';
import { numberFlag, RUN_OPTIONS, sizingFlags, symbolsFlag } from './lib/run-options.ts';

const HELP = `usage: npm run backtest -- [options]
  --strategy NAME        sma-cross (default), rsi-reversion, donchian-breakout, portfolio
  --params JSON          strategy params, e.g. '{"fast":10,"slow":30}' (defaults otherwise)
  --symbols A,B          symbols in this order (default: every symbol in the data)
  --data PATH            a .duckdb file, a CSV/Parquet file or a folder of them (default ${DEFAULT_DB_PATH},
                         created from the bundled sample on first use)
  --interval 1d|1m|...   bar interval (default 1d)
  --from / --to DATE     inclusive range, YYYY-MM-DD
  --cash N               starting cash (default 100000)
  --commission M         none | ibkr-fixed | ibkr-tiered | per-share:RATE[:MIN] | percent:PCT[:MIN]
  --slippage M           none | bps:N | range:FRACTION
  --sizing S             all-in (default) | fixed --quantity N | percent --percent P | vol-target [--target-vol 0.1] [--lookback 20]
  --risk R               research (default: leverage <= 1) | seed (DESIGN section 4 limits) | FILE.json
  --volume-cap F         fill at most F of a bar's volume (default 0: no cap)
  --bracket-tie T        stop (default, worst case) | target
  --rf R                 annual risk-free rate for Sharpe/Sortino (default 0)
  --tz ZONE              exchange time zone for intraday data (default America/New_York)
  --out DIR              where report.json, report.html and journal.duckdb go (default out/backtest)
  --journal FILE         journal database (default DIR/journal.duckdb)
  --benchmark SYMBOL     buy-and-hold line in the report (default SPY if in the run, else the first symbol)`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      ...RUN_OPTIONS,
      params: { type: 'string', default: '{}' },
      risk: { type: 'string', default: 'research' },
      'volume-cap': { type: 'string', default: '0' },
      'bracket-tie': { type: 'string', default: 'stop' },
      rf: { type: 'string', default: '0' },
      out: { type: 'string', default: 'out/backtest' },
      journal: { type: 'string' },
      benchmark: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    console.log(HELP);
    return;
  }
  const num = numberFlag;
  let rawParams: Record<string, unknown>;
  try {
    rawParams = JSON.parse(v.params!);
  } catch (e) {
    throw new Error(`--params is not valid JSON (${(e as Error).message}): ${v.params}`);
  }
  if (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams)) throw new Error(`--params must be a JSON object, got ${v.params}`);
  const cash = num('cash', v.cash)!;
  if (!(cash > 0)) throw new Error(`--cash must be > 0, got ${v.cash}`);
  const volumeCap = num('volume-cap', v['volume-cap'])!;
  if (!(volumeCap >= 0 && volumeCap <= 1)) throw new Error(`--volume-cap must be a fraction in [0, 1], got ${v['volume-cap']}`);
  if (v['bracket-tie'] !== 'stop' && v['bracket-tie'] !== 'target') throw new Error(`--bracket-tie must be stop or target, got '${v['bracket-tie']}'`);
  const risk: RiskConfig =
    v.risk === 'research' ? RESEARCH_RISK : v.risk === 'seed' ? SEED_RISK : existsSync(v.risk!) ? parseRiskConfig(JSON.parse(readFileSync(v.risk!, 'utf8')), v.risk!) : fail(`--risk must be research, seed or a JSON file; '${v.risk}' is none of these`);
  const interval = parseInterval(v.interval!);
  const sizing = sizingFlags(v);
  const commission = parseCommission(v.commission!);
  const slippage = parseSlippage(v.slippage!);
  const requested = symbolsFlag(v.symbols);
  // Validate the strategy and its params before reading any data.
  buildSlots(v.strategy!, rawParams, requested ?? ['CHECK']);

  const data = await openRunData({ data: v.data, symbols: requested, interval, from: v.from, to: v.to, tz: v.tz! });
  const config: BacktestConfig = {
    strategy: v.strategy!,
    params: rawParams,
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
    bracketTie: v['bracket-tie'] as 'stop' | 'target',
    tz: v.tz!,
    rfAnnual: num('rf', v.rf)!,
    ...(v.benchmark ? { benchmark: v.benchmark.toUpperCase() } : {}),
  };
  const slots = buildSlots(config.strategy, rawParams, data.symbols);
  const model = await runModel(config.strategy, rawParams);
  const t0 = performance.now();
  const progress = process.stderr.isTTY && process.env.CI !== 'true';
  let result;
  try {
    if (model) {
      // a model's features need each symbol's whole history: batched inference over it, then the replay
      const series = await collectChunks(data.chunks);
      result = runBacktest(series, config, slots, data.sectors, { signals: await predictHistory(model, series) });
    } else {
      result = await runBacktestChunked(data.chunks, config, slots, data.sectors, (bars) => {
        if (progress) process.stderr.write(`\rreplayed ${bars.toLocaleString('en-US')} bars`);
      });
    }
  } finally {
    data.close();
    await model?.model.close();
    if (progress) process.stderr.write('\r\x1b[K');
  }
  const seconds = (performance.now() - t0) / 1000;
  const report = backtestReport(result, data.source);

  const out = path.resolve(v.out!);
  const files = await writeReport(out, report);
  const journalPath = v.journal ?? path.join(out, 'journal.duckdb');
  const id = runId(report.config);
  await openJournalTarget(journalPath, (conn) =>
    writeJournal(conn, { runId: id, kind: 'backtest', strategy: config.strategy, config: report.config, bars: result.bars, finalEquity: report.finalEquity }, result.journal, result.engine.orders, result.engine.portfolio),
  );
  printSummary(report, { bars: result.bars, seconds, files: [files.json, files.html, journalPath], runId: id });
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
