// npm run promote -- --strategy sma-cross --params '{...}' [--symbols SPY] [--config promote.json]
// Runs the backtest and a walk-forward check, compares them with the thresholds, and writes a promotion
// record to strategies/promoted/ that the live runner requires for a live account.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { readModelCard } from '../engine/ml/model-card.ts';
import { evaluatePromotion, writePromotion } from '../engine/research/promote.ts';
import { DEFAULT_THRESHOLDS, parseThresholds } from '../engine/research/promotion.ts';
import { RESEARCH_RISK } from '../engine/risk/limits.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots, resolvedParams, strategySources } from '../strategies/index.ts';
import { runModelDir, signalsFor } from './lib/model-signals.ts';
import { SWEEP_WORKER } from './lib/sweep-worker.ts';
import { loadRunSeries } from './lib/run-data.ts';
import { RUN_OPTIONS, sizingFlags, symbolsFlag } from './lib/run-options.ts';

const HELP = `usage: npm run promote -- --strategy NAME [--params JSON] [options]
  --symbols A,B --data PATH --from --to --interval --cash --commission --sizing --percent --quantity   as for npm run backtest
  --walk-forward SPEC    out-of-sample check (default train=5y,test=1y)
  --config FILE          JSON thresholds: ${JSON.stringify(DEFAULT_THRESHOLDS)} (these are the defaults)
  --out-dir DIR          where records go (default strategies/promoted)
A record ties the strategy's source file hash, params, data range and hash, metrics and thresholds together.
The live runner accepts a live account only for a strategy whose current file hash has a record.`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      ...RUN_OPTIONS,
      params: { type: 'string', default: '{}' },
      commission: { type: 'string', default: 'ibkr-fixed' },
      sizing: { type: 'string', default: 'percent' },
      percent: { type: 'string', default: '95' },
      'walk-forward': { type: 'string', default: 'train=5y,test=1y' },
      config: { type: 'string' },
      'out-dir': { type: 'string', default: 'strategies/promoted' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(HELP);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(v.params!);
  } catch (e) {
    throw new Error(`--params is not valid JSON (${(e as Error).message}): ${v.params}`);
  }
  const thresholds = v.config ? parseThresholds(JSON.parse(readFileSync(v.config, 'utf8')), v.config) : DEFAULT_THRESHOLDS;
  const params = resolvedParams(v.strategy!, raw);
  const interval = parseInterval(v.interval!);
  const { series, source } = await loadRunSeries({ data: v.data, symbols: symbolsFlag(v.symbols), interval, from: v.from, to: v.to, tz: v.tz! });
  const symbols = series.map((s) => s.symbol);
  refuseModelInSample(v.strategy!, params, series);
  const config: BacktestConfig = {
    strategy: v.strategy!, params, symbols, interval, from: v.from, to: v.to, cash: Number(v.cash),
    commission: parseCommission(v.commission!), slippage: { model: 'none' },
    sizing: sizingFlags(v),
    risk: RESEARCH_RISK, volumeCap: 0, bracketTie: 'stop', tz: v.tz!, rfAnnual: 0,
  };

  const outcome = await evaluatePromotion({
    config, series, source, buildSlots, signalsFor, worker: SWEEP_WORKER, walkForward: v['walk-forward']!, thresholds, strategyFiles: strategySources(config.strategy, raw),
  });
  const e = outcome.evidence;
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  console.log(`${config.strategy} ${JSON.stringify(params)} on ${symbols.join(',')}: Sharpe ${f(e.sharpe)}, max drawdown ${(e.maxDrawdown * 100).toFixed(1)}%, ${e.trades} trades; walk-forward (${v['walk-forward']}) Sharpe in-sample ${f(e.inSampleSharpe)}, out-of-sample ${f(e.outOfSampleSharpe)}`);
  if (outcome.failures.length > 0) {
    console.error(`not promoted:\n${outcome.failures.map((x) => `  - ${x}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`promoted: wrote ${writePromotion(v['out-dir']!, outcome.record)}`);
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
  if (!/^\d{4}-\d{2}-\d{2}$/.test(trainedTo)) throw new Error(`model ${dir}: its card has no training.to date, so promotion cannot tell in-sample bars from out-of-sample ones`);
  if (first <= trainedTo) throw new Error(`model ${dir} was trained on bars up to ${trainedTo}, but the promotion data starts ${first}: evaluate it on later bars only (--from after ${trainedTo}, with a --walk-forward that fits)`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
