// npm run ib-sim -- [--port 4002] [--data <csv dir|.duckdb>] [--symbols SPY,IBM] [--interval 1m]
//                   [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--speed N | --lockstep] [--resume FILE]
// The IB Gateway simulator as a standalone server. Fault commands are read from stdin.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseInterval, type Interval } from '../engine/core/types.ts';
import { parseCommission } from '../engine/exec/costs.ts';
import { DEFAULT_TZ } from '../engine/data/import.ts';
import { localToUtc } from '../engine/data/timezone.ts';
import { listSymbols, loadBars } from '../engine/data/load.ts';
import { IbGatewaySimulator } from '../engine/ib/sim/simulator.ts';
import { fail } from './lib/cli.ts';
import { openRunStore } from './lib/run-data.ts';

const USAGE = `usage: npm run ib-sim -- [options]

A TCP server speaking the TWS API socket protocol (server version 193): point @stoqey/ib, the live
runner or any TWS API client at it. It replays the bars as 5-second bars and ticks and fills orders
with the backtest's fill model.

options:
  --port N              port on 127.0.0.1 (default 4002, IB Gateway's paper port; 0: any free port)
  --data PATH           a .duckdb database, or a folder/file of CSV bars (default: data/market.duckdb, the bundled sample)
  --symbols A,B         symbols to replay (default: every symbol with bars of the interval)
  --interval 1m         bar length of the stored bars (1m, 5m, 15m, 30m, 1h, 1d; default 1m)
  --from YYYY-MM-DD     first day replayed (exchange time)
  --to YYYY-MM-DD       last day replayed
  --history-from DAY    bars from this day to --from serve historical requests only (default: none)
  --speed N             replay at N x real time (default 1: real time, as a gateway)
  --lockstep            step with the clients instead: the next 5-second batch goes out once every
                        subscribed client has sent reqCurrentTime (as fast as they go)
  --max-msg-per-sec N   IB's limit on client messages per second and connection (default 50, off
                        with --lockstep; 0: off): error 100 over it, disconnect after 3 in 10 s
  --resume FILE         continue from a snapshot written by the snapshot command (same data and symbols)
  --account ID          account id (default DU1234567)
  --cash N              starting cash (default 100000)
  --commission MODEL    ibkr-fixed (default), ibkr-tiered, none, per-share:R[:MIN], percent:P[:MIN]
  --tz ZONE             exchange time zone (default ${DEFAULT_TZ})
  -h, --help

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
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string', default: '4002' },
        data: { type: 'string' },
        symbols: { type: 'string' },
        interval: { type: 'string', default: '1m' },
        from: { type: 'string' },
        to: { type: 'string' },
        'history-from': { type: 'string' },
        speed: { type: 'string' },
        lockstep: { type: 'boolean', default: false },
        'max-msg-per-sec': { type: 'string' },
        resume: { type: 'string' },
        account: { type: 'string', default: 'DU1234567' },
        cash: { type: 'string', default: '100000' },
        commission: { type: 'string', default: 'ibkr-fixed' },
        tz: { type: 'string', default: DEFAULT_TZ },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got '${v.port}'`);
  if (v.lockstep && v.speed !== undefined) fail('--speed and --lockstep exclude each other');
  if (v.speed === 'max') fail('--speed max is now --lockstep');
  const speed = v.lockstep ? 'max' : Number(v.speed ?? 1);
  if (speed !== 'max' && !(speed > 0)) fail(`--speed must be a number > 0, got '${v.speed}'`);
  const maxMsgPerSec = v['max-msg-per-sec'] === undefined ? undefined : Number(v['max-msg-per-sec']);
  if (maxMsgPerSec !== undefined && !(maxMsgPerSec >= 0)) fail(`--max-msg-per-sec must be a number >= 0, got '${v['max-msg-per-sec']}'`);
  const cash = Number(v.cash);
  if (!(cash > 0)) fail(`--cash must be a number > 0, got '${v.cash}'`);
  let interval: Interval;
  let commission;
  try {
    interval = parseInterval(v.interval);
    commission = parseCommission(v.commission);
  } catch (e) {
    fail((e as Error).message);
  }
  const symbolsFlag = v.symbols?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);

  const historyFrom = v['history-from'];
  const { store, source, from, to } = await openRunStore({ data: v.data, symbols: symbolsFlag, interval, from: historyFrom ?? v.from, to: v.to, tz: v.tz });
  let sim: IbGatewaySimulator;
  try {
    const symbols = symbolsFlag ?? (await listSymbols(store, interval));
    if (symbols.length === 0) fail(`no ${interval} bars in ${source}`);
    const series = await loadBars(store, { symbols, interval, from, to });
    const replayFrom = historyFrom && v.from ? dayStart(v.from, interval, v.tz) : undefined;
    const resume = v.resume ? JSON.parse(readFileSync(v.resume, 'utf8')) : undefined;
    sim = await IbGatewaySimulator.start({ port, series, speed, maxMsgPerSec, account: v.account, cash, commission, tz: v.tz, from: replayFrom, resume });
    const pace = speed === 'max' ? 'lockstep' : speed === 1 ? 'real time' : `${speed} x real time`;
    console.log(`IB Gateway simulator on 127.0.0.1:${sim.port} (account ${v.account}, ${symbols.length} symbol${symbols.length === 1 ? '' : 's'}, ${pace})`);
    if (resume) console.log(`resumed from ${v.resume} at ${new Date(sim.now()).toISOString()}`);
    console.log(`replaying ${symbols.join(',')} ${interval} bars from ${source}; type help for the fault commands`);
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
    if (!stopping) console.log(`replay finished at ${new Date(sim.now()).toISOString()} (${sim.stats.batches} batches); still serving`);
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
        return console.log(`clock ${new Date(sim.now()).toISOString()}, ${sim.clients} client(s), ${sim.stats.batches} batches, ${sim.stats.parseErrors} parse errors`);
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
