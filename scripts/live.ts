// npm run live -- --strategy sma-cross --params '{...}' --symbols SPY [--gateway host:port --account ID] --paper
// With no --gateway, the IB Gateway simulator runs in-process on the bundled sample (or --data).
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseCommission } from '../engine/exec/costs.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { SAMPLE_DB_PATH } from '../engine/data/store-paths.ts';
import { LiveRunner } from '../engine/live/runner.ts';
import { StreamingPredictor } from '../engine/ml/predictions.ts';
import { writeReport } from '../engine/report/index.ts';
import type { BacktestConfig } from '../engine/run/backtest.ts';
import { backtestReport } from '../engine/run/backtest-report.ts';
import { LiveJournal } from '../engine/journal/live-journal.ts';
import { buildSlots, resolvedParams, strategyHelp, strategySources } from '../strategies/index.ts';
import { findPromotion, strategyHash } from '../engine/research/promotion.ts';
import { fail, MAX_CLIENT_ID, MAX_SPEED, printSummary, runId } from './lib/cli.ts';
import { defineFlags, FlagError, type FlagValues, flagHelp, fromFlag, parseFlags, parseJsonObjectFlag, parseNumber } from './lib/flags.ts';
import { runModel } from './lib/model-signals.ts';
import { loadSectors } from './lib/run-data.ts';
import { liveInstruments } from './lib/live-instruments.ts';
import {
  CHAIN_FLAGS,
  chainSelection,
  INTERVALS,
  printRunConfig,
  RUN_DEFAULTS,
  RUN_FLAGS,
  riskFlag,
  SIZING_FLAGS,
  sizingFlags,
  sizingRiskWarning,
} from './lib/run-options.ts';
import type { RunSettings } from '../engine/run/defaults.ts';
import { isMain } from './lib/main.ts';
import { EmbeddedSimulator } from './lib/embedded-sim.ts';
import { alertsFlag, OPS_FLAGS, parseHttp, sessionPrinter, startLiveOps } from './lib/live-ops.ts';
import { mkdirSync } from 'node:fs';

export const FLAGS = defineFlags({
  strategy: { kind: 'string', default: 'sma-cross', arg: 'NAME', help: 'a strategy listed below, or portfolio (default sma-cross)' },
  params: { kind: 'string', default: '{}', arg: 'JSON', help: 'strategy params, as for npm run backtest' },
  symbols: { kind: 'list', upper: true, default: ['SPY'], help: 'symbols to trade (default SPY)' },
  gateway: {
    kind: 'string',
    arg: 'HOST:PORT',
    help: 'IB Gateway or TWS (Gateway paper 4002, live 4001; TWS paper 7497, live 7496), port 1..65535.\nWithout it, the built-in IB Gateway simulator runs in-process and replays --data.',
  },
  account: { kind: 'string', default: 'DU1234567', arg: 'ID', help: "the IB account (default the simulator's DU1234567)" },
  paper: {
    kind: 'boolean',
    help: "a paper account: any strategy may run. Without it (a live account) the strategy's\ncurrent source and params need a record from npm run promote (--promoted-dir DIR)",
  },
  'promoted-dir': { kind: 'string', default: 'strategies/promoted', arg: 'DIR', help: 'where promotion records are (default strategies/promoted)' },
  'client-id': { kind: 'integer', default: 1, min: 0, max: MAX_CLIENT_ID, help: 'API client id (default 1)' },
  lockstep: {
    kind: 'boolean',
    help: 'step with a simulator that replays in lockstep (the embedded one, or ib-sim --lockstep);\nwithout it the runner trades in real time, as against a real gateway',
  },
  'max-req-per-sec': {
    kind: 'number',
    default: 40,
    min: 0,
    minExclusive: true,
    max: 50,
    help: 'client message pacing (default 40: IB allows 50/s, and the client paces in 100 ms slices)',
  },
  interval: { kind: 'choice', choices: INTERVALS, default: '1m', help: "strategy bar interval (default 1m), built from IB's 5-second bars" },
  cash: { ...SIZING_FLAGS.cash, help: "capital allotted to the strategy (default 100000); refused if the account's\nnet liquidation is less" },
  sizing: {
    ...SIZING_FLAGS.sizing,
    help: `equal-weight (default, as for npm run backtest: 1/N of equity per entry, sized when sent) | percent --percent P |\nfixed --quantity N | vol-target (all-in is refused live: a live order needs its quantity when sent)`,
  },
  quantity: SIZING_FLAGS.quantity,
  percent: SIZING_FLAGS.percent,
  'target-vol': SIZING_FLAGS['target-vol'],
  lookback: SIZING_FLAGS.lookback,
  risk: {
    kind: 'string',
    arg: 'R',
    help: `research | seed (DESIGN section 4 limits and breaker) | FILE.json: required for a live account (no --paper),\nwhich must not run without loss limits by default; with --paper the default is ${RUN_DEFAULTS.risk}, as for npm run backtest`,
  },
  'on-mismatch': {
    kind: 'choice',
    choices: ['halt', 'warn'],
    default: 'halt',
    help: "a broker position that differs from the journal's trips the breaker\n(halt, the default) or only warns",
  },
  'reset-breaker': { kind: 'boolean', help: 'a restart whose journal has the breaker tripped resets it (journaled)' },
  out: { kind: 'string', default: 'out/live', arg: 'DIR', help: 'report.json, report.html, journal.duckdb (default out/live)' },
  'status-every': { kind: 'number', default: 60, min: 0, max: 86_400, arg: 'S', help: 'seconds between status lines (default 60; 0: none)' },
  'reconcile-every': {
    kind: 'number',
    default: 300,
    min: 0,
    minExclusive: true,
    max: 86_400,
    arg: 'S',
    help: 'seconds between reconciliations with the broker while running (default 300)',
  },
  quiet: { kind: 'boolean', help: 'no per-event lines nor status lines on stdout' },
  data: {
    kind: 'string',
    arg: 'PATH',
    help: 'the bars the simulator replays (default data/sample.duckdb, the bundled sample); with --gateway too,\nthe instruments of pairs and options, --base-currency rates, and the bars of the --chain underlying (the\nprice and first day its options are selected by; the options themselves come from the gateway)',
  },
  from: { kind: 'string', arg: 'DATE', help: 'simulator only: first day replayed' },
  to: { kind: 'string', arg: 'DATE', help: 'simulator only: last day replayed' },
  speed: { kind: 'number', default: 1, min: 0, minExclusive: true, max: MAX_SPEED, help: 'simulator only: times real time (default 1)' },
  commission: {
    ...RUN_FLAGS.commission,
    help: `the simulated broker's commission, and what sizing leaves room for (default ${RUN_DEFAULTS.commission}, as for npm run backtest)`,
  },
  tz: { kind: 'string', default: 'America/New_York', arg: 'ZONE', help: 'exchange time zone (default America/New_York)' },
  ...OPS_FLAGS,
  session: {
    kind: 'choice',
    choices: ['rth', 'extended'],
    default: 'rth',
    help: 'rth: bars outside 09:30-16:00 --tz (13:00 on US half days) are not traded and orders go\nwithout outsideRth (IB holds them until the open); extended: every bar, orders with outsideRth',
  },
  'base-currency': {
    kind: 'choice',
    choices: ['USD', 'GBP', 'EUR'],
    default: 'USD',
    arg: 'CCY',
    help: "the account's currency (default USD), as for npm run backtest: another currency the symbols\nare in is converted at the daily FX rates of --data (e.g. GBP.USD, imported with --lean)",
  },
  ...CHAIN_FLAGS,
});

const HELP = `usage: npm run live -- [options]
${flagHelp(FLAGS)}
While it runs: SIGINT/SIGTERM stop it gracefully (also while connecting); SIGUSR2 trips the kill switch;
lines typed on standard input: 'kill' (kill switch), 'reset' (resets a tripped breaker), 'status'.

${strategyHelp()}`;

/**
 * The commission, slippage, sizing and risk of a session from its flags: the run defaults of npm run
 * backtest (engine/run/defaults.ts), except that a live account must name its risk profile.
 */
export function liveSettings(v: FlagValues<typeof FLAGS>): RunSettings {
  if (v.risk === undefined && !v.paper)
    throw new FlagError(
      `--risk is required for a live account (no --paper): the default profile ${RUN_DEFAULTS.risk} has no loss limits, and a live account must not run without them unless you say so. Name it: --risk seed (DESIGN section 4 limits and breaker), --risk FILE.json, or --risk ${RUN_DEFAULTS.risk}`,
    );
  return {
    commission: fromFlag('--commission', v.commission, parseCommission),
    // no modelled slippage: a real gateway fills at real prices, the simulator at its bars' prices
    slippage: { model: 'none' },
    sizing: sizingFlags(v),
    risk: riskFlag(v.risk ?? RUN_DEFAULTS.risk),
  };
}

async function main(): Promise<void> {
  // every flag is checked before anything is opened or connected
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(HELP);
  const settings = liveSettings(v);
  const params = parseJsonObjectFlag('--params', v.params);
  const interval = v.interval;
  const clientId = v['client-id'];
  const maxReqPerSec = v['max-req-per-sec'];
  const reconcileEvery = v['reconcile-every'];
  const statusEvery = v['status-every'];
  const speed = v.speed;
  const onMismatch = v['on-mismatch'];
  const http = parseHttp(v.http);
  const alerts = alertsFlag(v.alerts);
  let gateway: { host: string; port: number } | undefined;
  if (v.gateway !== undefined) {
    const m = /^([^:]+):(\d+)$/.exec(v.gateway);
    if (!m) fail(`--gateway must be host:port with a port 1..65535, got '${v.gateway.slice(0, 60)}'`);
    gateway = { host: m[1], port: parseNumber('--gateway port', m[2], { integer: true, min: 1, max: 65_535 }) };
  }
  // Validate the strategy and its params before reading any data.
  buildSlots(v.strategy, params, v.symbols);
  const base = v['base-currency'];
  // pairs and options: their contract terms, --chain's options and the FX rates, read as npm run backtest reads them
  const inst = await liveInstruments({
    data: v.data,
    symbols: v.symbols,
    interval,
    from: v.from,
    to: v.to,
    tz: v.tz,
    baseCurrency: base,
    chain: chainSelection(v),
    gateway: gateway !== undefined,
    // a real gateway lists the chain itself (reqSecDefOptParams + reqContractDetails); the embedded simulator's is the store's
    ...(gateway ? { chainGateway: { ...gateway, clientId } } : {}),
  });
  const symbols = inst.symbols;
  const config: BacktestConfig = {
    strategy: v.strategy,
    // with their defaults filled, as in a backtest's report
    params: resolvedParams(v.strategy, params),
    symbols,
    interval,
    from: v.from,
    to: v.to,
    cash: v.cash,
    ...settings,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: v.tz,
    session: v.session,
    rfAnnual: 0,
    // only when they say something: a US stock session in USD keeps its config (and run id) as before
    ...(inst.contracts ? { contracts: inst.contracts } : {}),
    ...(base !== 'USD' ? { baseCurrency: base } : {}),
  };
  const slots = buildSlots(config.strategy, params, symbols);
  if (!v.quiet) printRunConfig(config as unknown as Record<string, unknown>, { slippage: "fills at the gateway's prices" });
  const clash = sizingRiskWarning(config.sizing, symbols.length, config.risk);
  if (clash) console.error(clash);
  if (!v.paper) {
    // a live account: only a strategy whose current source has a promotion record for these params
    const hash = strategyHash(strategySources(config.strategy, params));
    const record = findPromotion(v['promoted-dir']!, config.strategy, hash, resolvedParams(config.strategy, params));
    if (!record)
      fail(
        `a live account needs a promotion record for ${config.strategy} ${JSON.stringify(resolvedParams(config.strategy, params))} and its current source (hash ${hash.slice(0, 12)}) in ${v['promoted-dir']}: run npm run promote, or use --paper with a paper account`,
      );
    console.error(
      `live account: ${config.strategy} promoted on ${record.promotedAt} (data ${record.data.from}..${record.data.to}, Sharpe ${record.metrics.sharpe})`,
    );
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
    sim = await EmbeddedSimulator.start({
      journal,
      runId: id,
      data: v.data,
      interval,
      from: v.from,
      to: v.to,
      symbols,
      speed,
      lockstep: v.lockstep,
      account: v.account!,
      cash: config.cash,
      commission: config.commission,
      tz: config.tz,
      series: inst.series,
      contracts: inst.contracts,
      // the simulated account keeps cash per currency in the session's base, as the backtest's portfolio does
      baseCurrency: base,
    });
    gateway = { host: '127.0.0.1', port: sim.port };
    console.error(
      `IB Gateway simulator on 127.0.0.1:${sim.port} replaying ${symbols.join(',')} ${interval} (${v.lockstep ? 'lockstep' : `${speed}x real time`})${sim.resumed ? ', resumed from the journal' : ''}`,
    );
  }

  const print = v.quiet ? undefined : sessionPrinter(v['log-format'], id);
  const runner = new LiveRunner(config, slots, {
    host: gateway.host,
    port: gateway.port,
    clientId,
    account: v.account!,
    lockstep: v.lockstep,
    journal,
    runId: id,
    sectors,
    fx: inst.fx,
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
  // a simulator (npm run ib-sim) says when its replay is over (notice 2900): the session then ends as on SIGINT
  const gatewayEnded = new Promise<string>((resolve) => runner.conn.once('replayEnded', resolve));
  process.on('SIGUSR2', () => void runner.kill('kill switch (SIGUSR2)'));
  createInterface({ input: process.stdin }).on('line', (l) => {
    const cmd = l.trim();
    if (cmd === 'kill') void runner.kill('kill switch (typed command)');
    else if (cmd === 'reset') runner.resetBreaker('the operator (typed command)');
    else if (cmd === 'status') console.log(runner.status());
    else if (cmd) console.error(`unknown command '${cmd}': kill, reset or status`);
  });

  // the operations server is up before the connection: /ready answers 503 with the reasons until the session is ready
  const ops = await startLiveOps(runner, { http, tokenFile: v['token-file'], out, alerts, say: (line) => console.error(line) });

  const started = performance.now();
  console.error(`connecting to the gateway at ${gateway.host}:${gateway.port} as client ${clientId}`);
  const connecting = runner.start();
  const first = await Promise.race([connecting.then(() => 'running' as const), stopRequested.then(() => 'stop' as const)]);
  if (first === 'stop') {
    runner.conn.stop();
    await connecting.catch(() => {});
    await ops.close();
    await sim?.close();
    await journal.close();
    console.error('stopped before the session started');
    process.exit(0);
  }
  // the session ends on SIGINT/SIGTERM, when the simulator has replayed everything (embedded, or ib-sim's notice), or when the journal fails
  const simEnded = sim ? sim.finished.then(() => sim!.heardBy(() => runner.gatewayTime)) : new Promise<void>(() => {});
  const replayEnded = gatewayEnded.then((m) => console.error(`stopping: ${m} (notice 2900 from the gateway)`));
  const ended = await Promise.race([stopRequested, simEnded, runner.fatal, replayEnded]).then(
    () => null,
    (e: Error) => e,
  );
  const result = await runner.stop();
  await ops.close();
  await sim?.close();
  await model?.model.close();
  if (ended) {
    await journal.close().catch(() => {});
    throw ended;
  }
  const report = backtestReport(result, v.gateway ?? `simulator: ${v.data ?? SAMPLE_DB_PATH}`);
  if (runner.account) report.config = { ...report.config, account: runner.account };
  const files = await writeReport(out, report);
  await journal.use((conn) =>
    writeJournal(
      conn,
      { runId: id, kind: 'live', strategy: config.strategy, config: report.config, bars: result.bars, finalEquity: report.finalEquity },
      result.journal,
      result.engine.orders,
      result.engine.portfolio,
    ),
  );
  await journal.close();
  printSummary(report, {
    bars: result.bars,
    seconds: (performance.now() - started) / 1000,
    files: [files.json, files.html, path.join(out, 'journal.duckdb')],
    runId: id,
  });
  process.exit(0);
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
