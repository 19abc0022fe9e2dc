// npm run ib-sim -- [--port 4002] [--data <csv dir|.duckdb>] [--symbols SPY,IBM] [--interval 1m]
//                   [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--speed N | --lockstep] [--resume FILE]
//                   [--session rth|extended] [--base-currency USD|GBP|EUR]
// The IB Gateway simulator as a standalone server. Fault commands are read from stdin.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Interval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { DEFAULT_TZ } from '../engine/data/import.ts';
import { localToUtc } from '../engine/core/timezone.ts';
import { listSymbols, loadBars } from '../engine/data/load.ts';
import { IbGatewaySimulator } from '../engine/ib/sim/simulator.ts';
import type { SimSnapshot } from '../engine/ib/sim/snapshot.ts';
import { fail, MAX_SPEED } from './lib/cli.ts';
import { defineFlags, flagHelp, fmt, fromFlag, parseFlags, parseNumber, readJsonFile } from './lib/flags.ts';
import { CHAIN_FLAGS, chainSelection, INTERVALS, MAX_CASH } from './lib/run-options.ts';
import { openRunStore } from './lib/run-data.ts';
import { liveInstruments } from './lib/live-instruments.ts';
import { loadSimDerivatives } from '../engine/ib/sim/option-data.ts';

const FLAGS = defineFlags({
  port: { kind: 'integer', default: 4002, min: 0, max: 65_535, help: "port on 127.0.0.1 (default 4002, IB Gateway's paper port; 0: any free port)" },
  data: { kind: 'string', arg: 'PATH', help: 'a .duckdb database, or a folder/file of CSV bars (default: data/sample.duckdb, the bundled sample)' },
  symbols: { kind: 'list', upper: true, help: 'symbols to replay (default: every symbol with bars of the interval)' },
  interval: { kind: 'choice', choices: INTERVALS, default: '1m', arg: '1m', help: 'bar length of the stored bars (1m, 5m, 15m, 30m, 1h, 1d; default 1m)' },
  from: { kind: 'string', arg: 'YYYY-MM-DD', help: 'first day replayed (exchange time)' },
  to: { kind: 'string', arg: 'YYYY-MM-DD', help: 'last day replayed' },
  'history-from': { kind: 'string', arg: 'DAY', help: 'bars from this day to --from serve historical requests only (default: none)' },
  // a string: 'max' gets its own message (it is now --lockstep)
  speed: { kind: 'string', arg: 'N', help: `replay at N x real time (default 1: real time, as a gateway; a number > 0 and <= ${fmt(MAX_SPEED)})` },
  lockstep: {
    kind: 'boolean',
    help: 'step with the clients instead: the next 5-second batch goes out once every\nsubscribed client has sent reqCurrentTime (as fast as they go)',
  },
  'max-msg-per-sec': {
    kind: 'number',
    min: 0,
    max: 1_000_000,
    help: "IB's limit on client messages per second and connection (default 50, off\nwith --lockstep; 0: off): error 100 over it, disconnect after 3 in 10 s",
  },
  resume: { kind: 'string', arg: 'FILE', help: 'continue from a snapshot written by the snapshot command (same data and symbols)' },
  account: { kind: 'string', default: 'DU1234567', arg: 'ID', help: 'account id (default DU1234567)' },
  cash: { kind: 'number', default: 100_000, min: 0, minExclusive: true, max: MAX_CASH, help: 'starting cash, in --base-currency (default 100000)' },
  'base-currency': {
    kind: 'choice',
    choices: ['USD', 'GBP', 'EUR'],
    default: 'USD',
    arg: 'CCY',
    help: "the account's base currency (default USD): cash is kept per currency and the account's totals\nare converted into it at the replayed pairs' prices, else at the daily FX rates of --data",
  },
  commission: { kind: 'string', default: 'ibkr-fixed', arg: 'MODEL', help: 'ibkr-fixed (default), ibkr-tiered, none, per-share:R[:MIN], percent:P[:MIN]' },
  tz: { kind: 'string', default: DEFAULT_TZ, arg: 'ZONE', help: `exchange time zone (default ${DEFAULT_TZ})` },
  session: {
    kind: 'choice',
    choices: ['rth', 'extended'],
    default: 'rth',
    help: 'rth: replay only the regular session, 09:30-16:00 --tz (13:00 on US half days);\nextended: every stored bar (pre- and post-market). Either way, as at IB, an order\nwithout outsideRth trades in regular hours only (outside them: held until the open, 399)',
  },
  ...CHAIN_FLAGS,
});

const USAGE = `usage: npm run ib-sim -- [options]

A TCP server speaking the TWS API socket protocol (server version 193): point @stoqey/ib, the live
runner or any TWS API client at it. It replays the bars as 5-second bars and ticks and fills orders
with the backtest's fill model. When the replay has ended it tells every client (and every later one)
with notice 2900 'Tradebench simulator: the replay has ended at ...' (id -1; a real gateway never
sends it): the live runner stops on it, writing its report and journal.

options:
${flagHelp(FLAGS, { width: 22 })}

commands on stdin:
  drop                  close every client connection
  lost                  notice 1100 (connectivity lost): market data stops
  restored              notice 1101 (restored, data lost: clients must resubscribe)
  restored-keep         notice 1102 (restored, data maintained)
  restart MS            gateway restart: refuse connections for MS milliseconds
  reject REASON         the next order is rejected (error 201)
  pacing                the next historical request gets error 162
  stall MS              send nothing for MS milliseconds
  snapshot FILE         write the simulator's state (account, orders, ids, clock) as JSON for --resume
  status                clock, clients, batches
  quit                  stop`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const port = v.port;
  if (v.lockstep && v.speed !== undefined) fail('--speed and --lockstep exclude each other');
  if (v.speed === 'max') fail('--speed max is now --lockstep');
  const speed = v.lockstep ? 'max' : v.speed === undefined ? 1 : parseNumber('--speed', v.speed, { min: 0, minExclusive: true, max: MAX_SPEED });
  const maxMsgPerSec = v['max-msg-per-sec'];
  const cash = v.cash;
  const interval: Interval = v.interval;
  let commission;
  try {
    commission = fromFlag('--commission', v.commission, parseCommission);
  } catch (e) {
    fail((e as Error).message);
  }
  const resume = v.resume ? (readJsonFile('--resume', v.resume) as SimSnapshot) : undefined;
  if (resume !== undefined && (typeof resume !== 'object' || resume === null || Array.isArray(resume)))
    fail(`--resume ${v.resume} must hold a snapshot (a JSON object) written by the snapshot command`);
  const symbolsFlag = v.symbols;

  const historyFrom = v['history-from'];
  const { store, source, from, to } = await openRunStore({ data: v.data, symbols: symbolsFlag, interval, from: historyFrom ?? v.from, to: v.to, tz: v.tz });
  let sim: IbGatewaySimulator;
  try {
    const listed = symbolsFlag ?? (await listSymbols(store, interval));
    if (listed.length === 0) fail(`no ${interval} bars in ${source}`);
    // FX pairs and options (the instruments table, --chain): their quote bars and contract terms, traded as at IB
    const inst = await liveInstruments({
      data: v.data,
      symbols: listed,
      interval,
      from: historyFrom ?? v.from,
      to: v.to,
      tz: v.tz,
      baseCurrency: v['base-currency'],
      chain: chainSelection(v),
      gateway: false,
    });
    const symbols = inst.symbols;
    const series = inst.series ?? (await loadBars(store, { symbols, interval, from, to }));
    const replayFrom = historyFrom && v.from ? dayStart(v.from, interval, v.tz) : undefined;
    // with options, the chains and contract details a client discovers them by (reqSecDefOptParams, live --chain)
    const hasOptions = Object.values(inst.contracts ?? {}).some((c) => c.secType === 'OPT');
    const derivatives = hasOptions ? await loadSimDerivatives(store, { interval, from, to, symbols }) : undefined;
    sim = await IbGatewaySimulator.start({
      port,
      series,
      speed,
      maxMsgPerSec,
      account: v.account,
      cash,
      commission,
      tz: v.tz,
      from: replayFrom,
      resume,
      session: v.session,
      ...(inst.contracts ? { contracts: inst.contracts } : {}),
      ...(derivatives ? { derivatives } : {}),
      // the rates are this process's alone: the simulator advances them on its clock
      baseCurrency: v['base-currency'],
      ...(inst.fx ? { fx: inst.fx } : {}),
    });
    const pace = speed === 'max' ? 'lockstep' : speed === 1 ? 'real time' : `${speed} x real time`;
    console.log(
      `IB Gateway simulator on 127.0.0.1:${sim.port} (account ${v.account} in ${v['base-currency']}, ${symbols.length} symbol${symbols.length === 1 ? '' : 's'}, ${pace})`,
    );
    if (resume) console.log(`resumed from ${v.resume} at ${new Date(sim.now()).toISOString()}`);
    console.log(
      `replaying ${symbols.join(',')} ${interval} bars from ${source} (${v.session === 'rth' ? 'regular session only' : 'extended hours'}); type help for the fault commands`,
    );
  } finally {
    store.close();
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  void sim.finished.then(() => {
    if (stopping) return;
    // notice 2900 to every client (and every later one): the live runner stops on it
    sim.announceEnd();
    console.log(`replay finished at ${new Date(sim.now()).toISOString()} (${sim.stats.batches} batches); told the clients (notice 2900); still serving`);
  });

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    const arg = rest.join(' ');
    const ms = (dflt: number) => (arg === '' ? dflt : Number(arg));
    switch (cmd) {
      case '':
        return;
      case 'drop':
        sim.dropConnections();
        return console.log('dropped every connection');
      case 'lost':
        sim.connectivityLost();
        return console.log('sent 1100: connectivity lost');
      case 'restored':
        sim.connectivityRestored(true);
        return console.log('sent 1101: restored, data lost');
      case 'restored-keep':
        sim.connectivityRestored(false);
        return console.log('sent 1102: restored, data maintained');
      case 'restart': {
        const down = ms(2000);
        if (!(down >= 0)) return console.log('usage: restart MS');
        console.log(`restarting: down for ${down} ms`);
        void sim.restart(down).then(() => console.log('accepting connections again'));
        return;
      }
      case 'reject':
        sim.rejectNextOrder(arg || 'rejected by the simulator');
        return console.log(`the next order will be rejected: ${arg || 'rejected by the simulator'}`);
      case 'pacing':
        sim.pacingViolationNext();
        return console.log('the next historical request gets 162');
      case 'stall': {
        const d = ms(1000);
        if (!(d >= 0)) return console.log('usage: stall MS');
        sim.stall(d);
        return console.log(`stalling for ${d} ms`);
      }
      case 'snapshot': {
        if (arg === '') return console.log('usage: snapshot FILE');
        try {
          writeFileSync(arg, JSON.stringify(sim.snapshot()));
        } catch (e) {
          return console.log(`cannot write ${arg}: ${(e as Error).message}`);
        }
        return console.log(`wrote the state at ${new Date(sim.now()).toISOString()} to ${arg}`);
      }
      case 'status':
        return console.log(
          `clock ${new Date(sim.now()).toISOString()}, ${sim.clients} client(s), ${sim.stats.batches} batches, ${sim.stats.parseErrors} parse errors`,
        );
      case 'quit':
      case 'exit':
        void stop();
        return;
      case 'help':
        return console.log(USAGE.slice(USAGE.indexOf('commands on stdin:')));
      default:
        console.log(`unknown command '${cmd}': type help`);
    }
  });
}

/** The first instant of an exchange-local day (daily bars: 00:00 UTC of the date). */
function dayStart(day: string, interval: Interval, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) fail(`--from must be a date YYYY-MM-DD, got '${day}'`);
  const utc = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  return interval === '1d' ? utc : localToUtc(tz, utc);
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
