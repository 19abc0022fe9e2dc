// npm run promote -- --strategy sma-cross --params '{...}' [--symbols SPY] [--config promote.json]
// Runs the backtest and a walk-forward check, compares them with the thresholds, and writes a promotion
// record to strategies/promoted/ that the live runner requires for a live account.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { computeMetrics } from '../engine/metrics/metrics.ts';
import { parseWalkForward } from '../engine/research/grid.ts';
import { DEFAULT_THRESHOLDS, dataHash, parseThresholds, promotionFailures, sha256, type PromotionRecord } from '../engine/research/promotion.ts';
import { runSweep, shareSeries } from '../engine/research/sweep.ts';
import { RESEARCH_RISK } from '../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../engine/run/backtest.ts';
import { buildSlots, resolvedParams, strategySources } from '../strategies/index.ts';
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

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

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
  const config: BacktestConfig = {
    strategy: v.strategy!, params, symbols, interval, from: v.from, to: v.to, cash: Number(v.cash),
    commission: parseCommission(v.commission!), slippage: { model: 'none' },
    sizing: sizingFlags(v),
    risk: RESEARCH_RISK, volumeCap: 0, bracketTie: 'stop', tz: v.tz!, rfAnnual: 0,
  };

  const full = runBacktest(series, config, buildSlots(config.strategy, params, symbols));
  const m = computeMetrics({ equity: full.journal.equityCurve, exposure: full.journal.equityCurve.map((e) => e.gross), trades: full.engine.trades, fills: full.journal.fills });
  const worker = SWEEP_WORKER;
  const wf = await runSweep({ config, grid: Object.fromEntries(Object.entries(params).map(([k, x]) => [k, [x]])), series: shareSeries(series), worker, walkForward: parseWalkForward(v['walk-forward']!) });
  const inSample = mean(wf.results.filter((r) => r.phase === 'train').map((r) => r.sharpe));
  const outOfSample = mean(wf.results.filter((r) => r.phase === 'test').map((r) => r.sharpe));
  const failures = promotionFailures({ sharpe: m.sharpe, maxDrawdown: m.maxDrawdown, trades: m.tradeCount, inSampleSharpe: inSample, outOfSampleSharpe: outOfSample }, thresholds);
  const f = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  console.log(`${config.strategy} ${JSON.stringify(params)} on ${symbols.join(',')}: Sharpe ${f(m.sharpe)}, max drawdown ${(m.maxDrawdown * 100).toFixed(1)}%, ${m.tradeCount} trades; walk-forward (${v['walk-forward']}) Sharpe in-sample ${f(inSample)}, out-of-sample ${f(outOfSample)}`);
  if (failures.length > 0) {
    console.error(`not promoted:\n${failures.map((x) => `  - ${x}`).join('\n')}`);
    process.exit(1);
  }

  const files = strategySources(config.strategy, raw);
  const hash = sha256(files.map((x) => readFileSync(x, 'utf8')).join('\0'));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const first = Math.min(...series.map((s) => s.ts[0]));
  const last = Math.max(...series.map((s) => s.ts[s.ts.length - 1]));
  const record: PromotionRecord = {
    strategy: config.strategy,
    strategyFile: files.map((x) => path.relative(process.cwd(), x)).join(', '),
    strategyFileHash: hash,
    params,
    symbols,
    data: { source, from: day(first), to: day(last), bars: full.bars, hash: dataHash(series) },
    metrics: { sharpe: m.sharpe, sortino: m.sortino, cagr: m.cagr, maxDrawdown: m.maxDrawdown, volatility: m.volatility, trades: m.tradeCount, winRate: m.winRate, profitFactor: m.profitFactor },
    walkForward: { spec: v['walk-forward']!, inSampleSharpe: inSample, outOfSampleSharpe: outOfSample, windows: wf.windows.map((w, i) => ({ test: `${day(w.testFrom)}..${day(w.testTo)}`, sharpe: wf.results.filter((r) => r.phase === 'test')[i]?.sharpe ?? null })) },
    thresholds,
    promotedAt: new Date().toISOString(), // the record's own time, not part of any result
  };
  mkdirSync(v['out-dir']!, { recursive: true });
  const file = path.join(v['out-dir']!, `${config.strategy}-${sha256(JSON.stringify(params)).slice(0, 8)}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  console.log(`promoted: wrote ${file}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
