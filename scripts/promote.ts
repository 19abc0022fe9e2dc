// npm run promote -- --strategy sma-cross --params '{...}' [--symbols SPY] [--config promote.json]
// Runs the backtest and a walk-forward check, compares them with the thresholds, and writes a promotion
// record to strategies/promoted/ that the live runner requires for a live account.
import path from 'node:path';
import { readModelCard } from '../engine/ml/model-card.ts';
import { evaluatePromotion, writePromotion } from '../engine/research/promote.ts';
import { parseWalkForward } from '../engine/research/grid.ts';
import { DEFAULT_THRESHOLDS, parseThresholds, type PromotionThresholds } from '../engine/research/promotion.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots, resolvedParams, strategySources } from '../strategies/index.ts';
import { runModelDir, signalsFor } from './lib/model-signals.ts';
import { SWEEP_WORKER } from './lib/sweep-worker.ts';
import { loadRunSeries } from './lib/run-data.ts';
import { perShareWarning } from '../engine/data/actions.ts';
import { isMain } from './lib/main.ts';
import { printRunConfig, RUN_FLAGS, runSettingsFlags, sizingRiskWarning } from './lib/run-options.ts';
import { defineFlags, FlagError, flagHelp, fromFlag, parseFlags, parseJsonObjectFlag, readJsonFile, withoutFileValues } from './lib/flags.ts';

export const FLAGS = defineFlags({
  ...RUN_FLAGS,
  params: { kind: 'string', default: '{}', arg: 'JSON', help: 'strategy params, as for npm run backtest' },
  'walk-forward': { kind: 'string', default: 'train=5y,test=1y', arg: 'SPEC', help: 'out-of-sample check (default train=5y,test=1y)' },
  config: { kind: 'string', arg: 'FILE', help: `JSON thresholds: ${JSON.stringify(DEFAULT_THRESHOLDS)} (these are the defaults)` },
  'out-dir': { kind: 'string', default: 'strategies/promoted', arg: 'DIR', help: 'where records go (default strategies/promoted)' },
});

const HELP = `usage: npm run promote -- --strategy NAME [--params JSON] [options]
${flagHelp(FLAGS)}
A record ties the strategy's source file hash, params, data range and hash, metrics and thresholds together.
The live runner accepts a live account only for a strategy whose current file hash has a record.`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(HELP);
  const raw = parseJsonObjectFlag('--params', v.params);
  const thresholds = v.config ? thresholdsFlag(v.config) : DEFAULT_THRESHOLDS;
  fromFlag('--walk-forward', v['walk-forward'], parseWalkForward); // checked before any data is read
  const params = resolvedParams(v.strategy, raw);
  const interval = v.interval;
  const { commission, slippage, sizing, risk } = runSettingsFlags(v);
  const loaded = await loadRunSeries({ data: v.data, symbols: v.symbols, interval, from: v.from, to: v.to, tz: v.tz, prices: v.prices });
  const { series, source } = loaded;
  const symbols = series.map((s) => s.symbol);
  refuseModelInSample(v.strategy, params, series);
  const config: BacktestConfig = {
    strategy: v.strategy,
    params,
    symbols,
    interval,
    from: v.from,
    to: v.to,
    cash: v.cash,
    commission,
    slippage,
    sizing,
    risk,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: v.tz,
    session: v.session,
    prices: loaded.prices,
    rfAnnual: 0,
  };

  printRunConfig(config as unknown as Record<string, unknown>, {}, [['walk-forward', v['walk-forward']!]]);
  const clash = sizingRiskWarning(sizing, symbols.length, risk);
  if (clash) console.error(clash);
  const priceWarning = perShareWarning(commission, loaded.prices, loaded.unknownBasis);
  if (priceWarning) console.error(`warning: ${priceWarning}`);

  const outcome = await evaluatePromotion({
    config,
    series,
    source,
    buildSlots,
    signalsFor,
    worker: SWEEP_WORKER,
    walkForward: v['walk-forward']!,
    thresholds,
    strategyFiles: strategySources(config.strategy, raw),
  });
  const e = outcome.evidence;
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  console.log(
    `${config.strategy} ${JSON.stringify(params)} on ${symbols.join(',')}: Sharpe ${f(e.sharpe)}, max drawdown ${(e.maxDrawdown * 100).toFixed(1)}%, ${e.trades} trades; walk-forward (${v['walk-forward']}) Sharpe in-sample ${f(e.inSampleSharpe)}, out-of-sample ${f(e.outOfSampleSharpe)}`,
  );
  if (outcome.failures.length > 0) {
    console.error(`not promoted:\n${outcome.failures.map((x) => `  - ${x}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`promoted: wrote ${writePromotion(v['out-dir']!, outcome.record)}`);
}

/** --config FILE: the thresholds; errors name the flag and the file, never the file's contents. */
function thresholdsFlag(file: string): PromotionThresholds {
  const raw = readJsonFile('--config', file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FlagError(`--config ${file} must hold a JSON object of thresholds`);
  try {
    return parseThresholds(raw, file);
  } catch (e) {
    throw new FlagError(`--config ${withoutFileValues((e as Error).message)}`);
  }
}

/**
 * A model strategy's evidence must come from bars its model never trained on: otherwise every "out of
 * sample" period is in sample for the model.
 */
function refuseModelInSample(strategy: string, params: Record<string, unknown>, series: { ts: Float64Array }[]): void {
  const dir = runModelDir(strategy, params);
  if (dir === undefined) return;
  const trainedTo = String(readModelCard(path.join(dir, 'card.json')).training?.to ?? '');
  const first = new Date(Math.min(...series.map((s) => s.ts[0]))).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(trainedTo))
    throw new Error(`model ${dir}: its card has no training.to date, so promotion cannot tell in-sample bars from out-of-sample ones`);
  if (first <= trainedTo)
    throw new Error(
      `model ${dir} was trained on bars up to ${trainedTo}, but the promotion data starts ${first}: evaluate it on later bars only (--from after ${trainedTo}, with a --walk-forward that fits)`,
    );
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
