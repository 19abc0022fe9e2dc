// npm run live -- --strategy sma-cross --params '{...}' --symbols SPY [--gateway host:port --account ID] --paper
// With no --gateway, the IB Gateway simulator runs in-process on the bundled sample (or --data).
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseInterval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { LiveRunner } from '../engine/live/runner.ts';
import { StreamingPredictor } from '../engine/ml/predictions.ts';
import { parseSizing } from '../engine/portfolio/sizing.ts';
import { writeReport } from '../engine/report/index.ts';
import { RESEARCH_RISK, SEED_RISK, parseRiskConfig } from '../engine/risk/limits.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { backtestReport } from '../engine/run/backtest-report.ts';
import { LiveJournal } from '../engine/journal/live-journal.ts';
import { buildSlots, resolvedParams, strategySources } from '../strategies/index.ts';
import { findPromotion, strategyHash } from '../engine/research/promotion.ts';
import { fail, printSummary, runId } from './lib/cli.ts';
import { runModel } from './lib/model-signals.ts';
import { loadSectors } from './lib/run-data.ts';
import { EmbeddedSimulator } from './lib/embedded-sim.ts';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const HELP = `usage: npm run live -- [options]
  --strategy NAME --params JSON --symbols A,B   as for npm run backtest (default sma-cross on SPY)
  --gateway HOST:PORT    IB Gateway or TWS (Gateway paper 4002, live 4001; TWS paper 7497, live 7496).
                         Without it, the built-in IB Gateway simulator runs in-process and replays --data.
  --account ID           the IB account (default the simulator's DU1234567)
  --paper                a paper account: any strategy may run. Without it (a live account) the strategy's
                         current source and params need a record from npm run promote (--promoted-dir DIR)
  --client-id N          API client id (default 1)
  --lockstep             step with a simulator that replays in lockstep (the embedded one, or ib-sim --lockstep);
                         without it the runner trades in real time, as against a real gateway
  --max-req-per-sec N    client message pacing (default 40: IB allows 50/s, and the client paces in 100 ms slices)
  --interval 1m|5m|1d    strategy bar interval (default 1m), built from IB's 5-second bars
  --cash N               capital allotted to the strategy (default 100000); refused if the account's
                         net liquidation is less
  --sizing percent --percent P (default 5, the seed position limit) | fixed --quantity N | vol-target
                         (all-in is refused live: a live order needs its quantity when sent)
  --risk seed|research|FILE.json   (default seed: DESIGN section 4 limits and breaker)
  --on-mismatch halt|warn          a broker position that differs from the journal's trips the breaker
                         (default) or only warns
  --reset-breaker        a restart whose journal has the breaker tripped resets it (journaled)
  --out DIR              report.json, report.html, journal.duckdb (default out/live)
  --status-every S       seconds between status lines (default 60; 0: none)
  --reconcile-every S    seconds between reconciliations with the broker while running (default 300)
  --quiet                no per-event lines nor status lines on stdout
  simulator only: --data PATH (default data/market.duckdb, the bundled sample), --from, --to, --speed N
                  (times real time, default 1), --commission M (the simulated broker's, default ibkr-fixed)
While it runs: SIGINT/SIGTERM stop it gracefully (also while connecting); SIGUSR2 trips the kill switch;
lines typed on standard input: 'kill' (kill switch), 'reset' (resets a tripped breaker), 'status'.`;

/** A numeric flag, checked before anything connects: the message names the flag and the rule. */
function numberFlag(flag: string, raw: string, rule: (x: number) => boolean, what: string): number {
  const x = Number(raw);
  if (raw.trim() === '' || !rule(x)) fail(`--${flag} must be ${what}, got '${raw}'`);
  return x;
}
const whole = (x: number) => Number.isInteger(x) && x >= 0;

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
      'max-req-per-sec': { type: 'string', default: '40' },
      interval: { type: 'string', default: '1m' },
      cash: { type: 'string', default: '100000' },
      sizing: { type: 'string', default: 'percent' },
      quantity: { type: 'string' },
      percent: { type: 'string', default: '5' },
      risk: { type: 'string', default: 'seed' },
      'on-mismatch': { type: 'string', default: 'halt' },
      'reset-breaker': { type: 'boolean', default: false },
      out: { type: 'string', default: 'out/live' },
      'status-every': { type: 'string', default: '60' },
      'reconcile-every': { type: 'string', default: '300' },
      quiet: { type: 'boolean', default: false },
      data: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      speed: { type: 'string', default: '1' },
      commission: { type: 'string', default: 'ibkr-fixed' },
      tz: { type: 'string', default: 'America/New_York' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(HELP);
  // every flag is checked before anything is opened or connected
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(v.params!);
  } catch (e) {
    fail(`--params is not valid JSON (${(e as Error).message}): ${v.params}`);
  }
  const symbols = v.symbols!.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  if (symbols.length === 0) fail('--symbols names no symbol');
  const interval = parseInterval(v.interval!);
  const clientId = numberFlag('client-id', v['client-id']!, whole, 'a whole number >= 0');
  const cash = numberFlag('cash', v.cash!, (x) => x > 0 && x <= 1e12, 'a positive amount up to 1e12');
  const maxReqPerSec = numberFlag('max-req-per-sec', v['max-req-per-sec']!, (x) => x > 0, 'a positive number');
  const reconcileEvery = numberFlag('reconcile-every', v['reconcile-every']!, (x) => x > 0 && Number.isFinite(x), 'a positive number of seconds');
  const statusEvery = numberFlag('status-every', v['status-every']!, (x) => x >= 0 && Number.isFinite(x), 'a number of seconds >= 0');
  const speed = numberFlag('speed', v.speed!, (x) => x > 0 && Number.isFinite(x), 'a positive number (times real time)');
  const onMismatch = v['on-mismatch'] === 'halt' || v['on-mismatch'] === 'warn' ? v['on-mismatch'] : fail(`--on-mismatch must be halt or warn, got '${v['on-mismatch']}'`);
  let gateway: { host: string; port: number } | undefined;
  if (v.gateway) {
    const m = /^([^:]+):(\d+)$/.exec(v.gateway);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port > 0 && port < 65_536)) fail(`--gateway must be host:port with a port 1..65535, got '${v.gateway}'`);
    gateway = { host: m[1], port };
  }
  const config: BacktestConfig = {
    strategy: v.strategy!,
    params,
    symbols,
    interval,
    from: v.from,
    to: v.to,
    cash,
    commission: parseCommission(v.commission!),
    slippage: { model: 'none' },
    sizing: parseSizing(v.sizing!, { quantity: v.quantity === undefined ? undefined : numberFlag('quantity', v.quantity, (x) => Number.isInteger(x) && x > 0 && x <= 1e9, 'a whole number of shares 1..1e9'), percent: numberFlag('percent', v.percent!, (x) => x > 0 && x <= 100, 'a percentage in (0, 100]') }),
    risk: v.risk === 'seed' ? SEED_RISK : v.risk === 'research' ? RESEARCH_RISK : existsSync(v.risk!) ? parseRiskConfig(readJson(v.risk!, '--risk'), v.risk!) : fail(`--risk must be seed, research or a JSON file, got '${v.risk}'`),
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

  // a stop asked for at any point (even while connecting) is honoured
  let stopAsked!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stopAsked = resolve));
  process.once('SIGINT', () => stopAsked());
  process.once('SIGTERM', () => stopAsked());

  const model = await runModel(config.strategy, params);
  if (model) console.error(`model ${model.card.name} (${model.card.version}): one prediction per bar once its features are warm`);

  const out = path.resolve(v.out!);
  mkdirSync(out, { recursive: true });
  const journal = await LiveJournal.open(path.join(out, 'journal.duckdb'));
  const id = runId({ ...config, live: v.gateway ?? 'simulator', account: v.account });
  const sectors = await loadSectors({ data: v.data, symbols, interval, tz: config.tz, optional: Boolean(gateway) });

  let sim: EmbeddedSimulator | undefined;
  if (!gateway) {
    sim = await EmbeddedSimulator.start({ journal, runId: id, data: v.data, interval, from: v.from, to: v.to, symbols, speed, lockstep: v.lockstep, account: v.account!, cash: config.cash, commission: config.commission, tz: config.tz });
    gateway = { host: '127.0.0.1', port: sim.port };
    console.error(`IB Gateway simulator on 127.0.0.1:${sim.port} replaying ${symbols.join(',')} ${interval} (${v.lockstep ? 'lockstep' : `${speed}x real time`})${sim.resumed ? ', resumed from the journal' : ''}`);
  }

  const print = v.quiet ? undefined : (line: string) => console.log(line);
  const runner = new LiveRunner(config, slots, {
    host: gateway.host,
    port: gateway.port,
    clientId,
    account: v.account!,
    lockstep: v.lockstep,
    journal,
    runId: id,
    sectors,
    // lockstep asks the time after every 5-second batch: a test harness mode, not paced (the embedded simulator does not enforce pacing then)
    maxReqPerSec: v.lockstep ? 1_000_000 : maxReqPerSec,
    statusEveryMs: statusEvery * 1000,
    reconcileEveryMs: reconcileEvery * 1000,
    onMismatch,
    resetBreaker: v['reset-breaker'] ? 'the command line (--reset-breaker)' : undefined,
    print,
    onCommitted: sim && (() => sim!.save()),
    signals: model && new StreamingPredictor(model, symbols.length),
  });
  process.on('SIGUSR2', () => void runner.kill('kill switch (SIGUSR2)'));
  createInterface({ input: process.stdin }).on('line', (l) => {
    const cmd = l.trim();
    if (cmd === 'kill') void runner.kill('kill switch (typed command)');
    else if (cmd === 'reset') runner.resetBreaker('the operator (typed command)');
    else if (cmd === 'status') console.log(runner.status());
    else if (cmd) console.error(`unknown command '${cmd}': kill, reset or status`);
  });

  const started = performance.now();
  console.error(`connecting to the gateway at ${gateway.host}:${gateway.port} as client ${clientId}`);
  const connecting = runner.start();
  const first = await Promise.race([connecting.then(() => 'running' as const), stopRequested.then(() => 'stop' as const)]);
  if (first === 'stop') {
    runner.conn.stop();
    await connecting.catch(() => {});
    await sim?.close();
    await journal.close();
    console.error('stopped before the session started');
    process.exit(0);
  }
  // the session ends on SIGINT/SIGTERM, when the embedded simulator has replayed everything, or when the journal fails
  const simEnded = sim ? sim.finished.then(() => sim!.heardBy(() => runner.gatewayTime)) : new Promise<void>(() => {});
  const ended = await Promise.race([stopRequested, simEnded, runner.fatal]).then(
    () => null,
    (e: Error) => e,
  );
  const result = await runner.stop();
  await sim?.close();
  await model?.model.close();
  if (ended) {
    await journal.close().catch(() => {});
    throw ended;
  }
  const report = backtestReport(result, v.gateway ?? `simulator: ${v.data ?? 'data/market.duckdb'}`);
  if (runner.account) report.config = { ...report.config, account: runner.account };
  const files = await writeReport(out, report);
  await journal.use((conn) => writeJournal(conn, { runId: id, kind: 'live', strategy: config.strategy, config: report.config, bars: result.bars, finalEquity: report.finalEquity }, result.journal, result.engine.orders, result.engine.portfolio));
  await journal.close();
  printSummary(report, { bars: result.bars, seconds: (performance.now() - started) / 1000, files: [files.json, files.html, path.join(out, 'journal.duckdb')], runId: id });
  process.exit(0);
}

/** A JSON file's contents; the error names the flag and the file, never echoing what is in it. */
function readJson(file: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`${flag} ${file} is not a valid JSON file (${(e as Error).name === 'SyntaxError' ? 'it does not parse as JSON' : (e as Error).message})`);
  }
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
