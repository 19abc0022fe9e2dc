// npm run live -- --strategy sma-cross --params '{...}' --symbols SPY [--gateway host:port --account ID] --paper
// With no --gateway, the IB Gateway simulator runs in-process on the bundled sample (or --data).
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { loadBars } from '../engine/data/load.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { LiveRunner } from '../engine/live/runner.ts';
import { StreamingPredictor } from '../engine/ml/predictions.ts';
import { parseSizing } from '../engine/portfolio/sizing.ts';
import { writeReport } from '../engine/report/index.ts';
import { RESEARCH_RISK, SEED_RISK, parseRiskConfig } from '../engine/risk/limits.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { backtestReport } from '../engine/run/backtest-report.ts';
import { openStore } from '../engine/data/store.ts';
import { IbGatewaySimulator } from '../engine/ib/sim/simulator.ts';
import { buildSlots, resolvedParams, strategySources } from '../strategies/index.ts';
import { findPromotion, strategyHash } from '../engine/research/promotion.ts';
import { fail, printSummary, runId } from './lib/cli.ts';
import { runModel } from './lib/model-signals.ts';
import { openRunStore } from './lib/run-data.ts';
import { readFileSync, existsSync } from 'node:fs';

const HELP = `usage: npm run live -- [options]
  --strategy NAME --params JSON --symbols A,B   as for npm run backtest (default sma-cross on SPY)
  --gateway HOST:PORT    IB Gateway or TWS (Gateway paper 4002, live 4001; TWS paper 7497, live 7496).
                         Without it, the built-in IB Gateway simulator runs in-process and replays --data.
  --account ID           the IB account (default the simulator's DU1234567)
  --paper                a paper account: any strategy may run. Without it (a live account) the strategy's
                         current source and params need a record from npm run promote (--promoted-dir DIR)
  --client-id N          API client id (default 1)
  --lockstep             with --gateway pointing at an ib-sim at speed max: step with its replay
  --max-req-per-sec N    client message pacing (default 45, under IB's 50/s; raise it only for a simulator)
  --interval 1m|5m|1d    strategy bar interval (default 1m), built from IB's 5-second bars
  --cash N               capital the strategy trades (default 100000)
  --sizing percent --percent P (default 5, the seed position limit) | fixed --quantity N | vol-target
                         (all-in is refused live: a live order needs its quantity when sent)
  --risk seed|research|FILE.json   (default seed: DESIGN section 4 limits and breaker)
  --out DIR              report.json, report.html, journal.duckdb (default out/live)
  simulator only: --data PATH (default data/market.duckdb, the bundled sample), --from, --to, --speed max|N,
                  --commission M (the simulated broker's commissions, default ibkr-fixed)
signals: SIGINT/SIGTERM stop gracefully; SIGUSR2 (or typing 'kill') trips the kill switch.`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      strategy: { type: 'string', default: 'sma-cross' },
      params: { type: 'string', default: '{}' },
      symbols: { type: 'string', default: 'SPY' },
      gateway: { type: 'string' },
      account: { type: 'string', default: 'DU1234567' },
      paper: { type: 'boolean', default: false },
      'promoted-dir': { type: 'string', default: 'strategies/promoted' },
      'client-id': { type: 'string', default: '1' },
      lockstep: { type: 'boolean', default: false },
      'max-req-per-sec': { type: 'string' },
      interval: { type: 'string', default: '1m' },
      cash: { type: 'string', default: '100000' },
      sizing: { type: 'string', default: 'percent' },
      quantity: { type: 'string' },
      percent: { type: 'string', default: '5' },
      risk: { type: 'string', default: 'seed' },
      out: { type: 'string', default: 'out/live' },
      data: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      speed: { type: 'string', default: 'max' },
      commission: { type: 'string', default: 'ibkr-fixed' },
      tz: { type: 'string', default: 'America/New_York' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(HELP);
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(v.params!);
  } catch (e) {
    fail(`--params is not valid JSON (${(e as Error).message}): ${v.params}`);
  }
  const symbols = v.symbols!.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const interval = parseInterval(v.interval!);
  const config: BacktestConfig = {
    strategy: v.strategy!,
    params,
    symbols,
    interval,
    from: v.from,
    to: v.to,
    cash: Number(v.cash),
    commission: parseCommission(v.commission!),
    slippage: { model: 'none' },
    sizing: parseSizing(v.sizing!, { quantity: v.quantity === undefined ? undefined : Number(v.quantity), percent: Number(v.percent) }),
    risk: v.risk === 'seed' ? SEED_RISK : v.risk === 'research' ? RESEARCH_RISK : existsSync(v.risk!) ? parseRiskConfig(JSON.parse(readFileSync(v.risk!, 'utf8')), v.risk!) : fail(`--risk must be seed, research or a JSON file, got '${v.risk}'`),
    volumeCap: 0,
    bracketTie: 'stop',
    tz: v.tz!,
    rfAnnual: 0,
  };
  const slots = buildSlots(config.strategy, params, symbols);
  if (!v.paper) {
    // a live account: only a strategy whose current source has a promotion record for these params
    const hash = strategyHash(strategySources(config.strategy, params));
    const record = findPromotion(v['promoted-dir']!, config.strategy, hash, resolvedParams(config.strategy, params));
    if (!record) fail(`a live account needs a promotion record for ${config.strategy} ${JSON.stringify(resolvedParams(config.strategy, params))} and its current source (hash ${hash.slice(0, 12)}) in ${v['promoted-dir']}: run npm run promote, or use --paper with a paper account`);
    console.error(`live account: ${config.strategy} promoted on ${record.promotedAt} (data ${record.data.from}..${record.data.to}, Sharpe ${record.metrics.sharpe})`);
  }

  const model = await runModel(config.strategy, params);
  if (model) console.error(`model ${model.card.name} (${model.card.version}): one prediction per bar once its features are warm`);

  let host: string;
  let port: number;
  let sim: IbGatewaySimulator | undefined;
  if (v.gateway) {
    [host, port] = [v.gateway.split(':')[0], Number(v.gateway.split(':')[1])];
    if (!host || !port) fail(`--gateway must be host:port, got '${v.gateway}'`);
  } else {
    const { store, from, to } = await openRunStore({ data: v.data, interval, from: v.from, to: v.to, tz: config.tz });
    const series = await loadBars(store, { symbols, interval, from, to }).finally(() => store.close());
    const speed = v.speed === 'max' ? 'max' : Number(v.speed);
    if (speed !== 'max' && !(speed > 0)) fail(`--speed must be max or a positive number, got '${v.speed}'`);
    sim = await IbGatewaySimulator.start({ series, speed, account: v.account, cash: config.cash, commission: config.commission, tz: config.tz });
    [host, port] = ['127.0.0.1', sim.port];
    console.error(`IB Gateway simulator on 127.0.0.1:${sim.port} replaying ${symbols.join(',')} ${interval} (speed ${v.speed})`);
  }

  const out = path.resolve(v.out!);
  const journalStore = await openStore(path.join(out, 'journal.duckdb'));
  const id = runId({ ...config, live: v.gateway ?? 'simulator', account: v.account });
  const runner = new LiveRunner(config, slots, {
    host,
    port,
    clientId: Number(v['client-id']),
    account: v.account!,
    lockstep: v.lockstep || (sim !== undefined && v.speed === 'max'),
    journal: journalStore.conn,
    runId: id,
    // IB allows 50 messages/s; the simulator does not enforce it (an external one: --max-req-per-sec)
    maxReqPerSec: v['max-req-per-sec'] ? Number(v['max-req-per-sec']) : sim ? 1_000_000 : undefined,
    log: (m) => console.error(m),
    signals: model && new StreamingPredictor(model, symbols.length),
  });
  const stop = async () => {
      const result = await runner.stop();
      await sim?.close();
      await model?.model.close();
      const report = backtestReport(result, v.gateway ?? `simulator: ${v.data ?? 'data/market.duckdb'}`);
      const files = await writeReport(out, report);
      await writeJournal(journalStore.conn, { runId: id, kind: 'live', strategy: config.strategy, config: report.config, bars: result.bars, finalEquity: report.finalEquity }, result.journal, result.engine.orders, result.engine.portfolio);
      journalStore.close();
      printSummary(report, { bars: result.bars, seconds: (performance.now() - started) / 1000, files: [files.json, files.html, path.join(out, 'journal.duckdb')], runId: id });
  };
  // the session ends on SIGINT/SIGTERM, or when the embedded simulator has replayed everything
  const ended = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    void sim?.finished.then(() => resolve());
  });
  process.on('SIGUSR2', () => void runner.kill('kill switch (SIGUSR2)'));
  if (process.stdin.isTTY) createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'kill' && void runner.kill('kill switch (command)'));
  const started = performance.now();
  await runner.start();
  await ended;
  await stop();
  process.exit(0);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
