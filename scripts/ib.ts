// npm run ib -- status|account|positions|orders|executions|cancel-all|kill [--gateway host:port] [--client-id N] [--json]
import { EventName, OrderAction, OrderType, type Contract, type Execution, type Order } from '@stoqey/ib';
import { IbConnection } from '../engine/ib/connection.ts';
import { stockContract } from '../engine/ib/ib-broker.ts';
import { downloadHistory } from '../engine/ib/history.ts';
import { openStore } from '../engine/data/store.ts';
import { MAX_CLIENT_ID } from './lib/cli.ts';
import { defineFlags, flagHelp, parseFlags, parseNumber } from './lib/flags.ts';

const FLAGS = defineFlags({
  gateway: { kind: 'string', default: '127.0.0.1:4002', arg: 'HOST:PORT', help: 'the gateway, port 1..65535 (default 127.0.0.1:4002)' },
  'client-id': { kind: 'integer', default: 99, min: 0, max: MAX_CLIENT_ID, help: 'API client id (default 99)' },
  json: { kind: 'boolean', help: 'one JSON object instead of a table' },
  bar: { kind: 'string', default: '1 min', arg: 'SIZE', help: "history: IB bar size (default '1 min')" },
  duration: { kind: 'string', default: '2 D', arg: 'SPAN', help: "history: IB duration (default '2 D')" },
  db: { kind: 'string', default: 'data/market.duckdb', arg: 'FILE', help: 'history: the DuckDB file (default data/market.duckdb)' },
});

const USAGE = `usage: npm run ib -- <command> [--gateway host:port] [--client-id N] [--json]
commands:
  status       connection, server time, accounts
  account      account summary (net liquidation, cash, buying power)
  positions    positions with average cost
  orders       open orders of every client (order ids are per client id)
  executions   today's executions with commissions
  cancel-all   cancel every open order (reqGlobalCancel)
  kill         cancel every open order, then flatten every position with market orders
  history SYMBOLS  download bars into DuckDB (--bar '1 min', --duration '2 D', --db data/market.duckdb),
               paced under IB's historical-data rules, backing off after a pacing violation (162). Symbols
               as the store keys them: stocks 'SPY' (TRADES), futures 'ESZ13' (TRADES of that contract month),
               options 'GOOG151224C00750000' (TRADES, plus BID and ASK into quote_bars), FX pairs 'GBP.USD'
               (MIDPOINT, plus BID and ASK into quote_bars); derivatives get their instruments row (the terms)
default gateway 127.0.0.1:4002 (IB Gateway paper); TWS paper is 7497, live 7496, Gateway live 4001.
options:
${flagHelp(FLAGS)}`;

// every flag is checked before anything connects
const { values: v, positionals } = (() => {
  try {
    return parseFlags(FLAGS, { positionals: true });
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
})();

type Row = Record<string, string | number>;

function print(title: string, rows: Row[]): void {
  if (v.json) {
    console.log(JSON.stringify({ [title]: rows }));
    return;
  }
  if (rows.length === 0) {
    console.log(`${title}: none`);
    return;
  }
  const cols = Object.keys(rows[0]);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((s, i) => (typeof rows[0][cols[i]] === 'number' ? s.padStart(w[i]) : s.padEnd(w[i]))).join('  ');
  console.log(line(cols));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

/** Collects `event` rows until `end` fires (or times out). */
// biome-ignore lint/suspicious/noExplicitAny: @stoqey/ib types each event's arguments differently
function collect<T>(conn: IbConnection, event: EventName, end: EventName, request: () => void, map: (...args: any[]) => T, timeoutMs = 10_000): Promise<T[]> {
  const api = conn.api as unknown as import('node:events').EventEmitter;
  return new Promise((resolve, reject) => {
    const rows: T[] = [];
    const on = (...args: unknown[]) => void rows.push(map(...args));
    const timer = setTimeout(() => reject(new Error(`the gateway did not finish ${end} within ${timeoutMs / 1000} s`)), timeoutMs);
    api.on(event, on);
    api.once(end, () => {
      clearTimeout(timer);
      api.off(event, on);
      resolve(rows);
    });
    request();
  });
}

async function main(): Promise<void> {
  const cmd = positionals[0];
  if (v.help || !cmd) {
    console.log(USAGE);
    if (!cmd && !v.help) process.exitCode = 2;
    return;
  }
  const m = /^([^:]+):(\d+)$/.exec(v.gateway);
  if (!m) throw new Error(`--gateway must be host:port, got '${v.gateway.slice(0, 60)}'`);
  const [host, port] = [m[1], parseNumber('--gateway port', m[2], { integer: true, min: 1, max: 65_535 })];
  const conn = new IbConnection({ host, port, clientId: v['client-id'] });
  const timeout = setTimeout(() => {
    console.error(
      `error: no answer from a gateway at ${v.gateway} within 10 s: is IB Gateway/TWS (or npm run ib-sim) running with the API enabled on that port?`,
    );
    process.exit(1);
  }, 10_000);
  let accounts: string[] = [];
  conn.api.on(EventName.managedAccounts, (list: string) => (accounts = list.split(',').filter(Boolean)));
  await conn.start();
  clearTimeout(timeout);
  const api = conn.api;
  try {
    switch (cmd) {
      case 'status': {
        const time = await new Promise<number>((resolve) => {
          api.once(EventName.currentTime, resolve);
          api.reqCurrentTime();
        });
        print('status', [{ gateway: v.gateway!, connected: 'yes', serverTime: new Date(time * 1000).toISOString(), accounts: accounts.join(',') }]);
        break;
      }
      case 'account': {
        const rows = await collect(
          conn,
          EventName.accountSummary,
          EventName.accountSummaryEnd,
          () => api.reqAccountSummary(1, 'All', 'NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds,GrossPositionValue'),
          (_r: number, account: string, tag: string, value: string, currency: string) => ({ account, tag, value, currency }),
        );
        api.cancelAccountSummary(1);
        print('account', rows);
        break;
      }
      case 'positions': {
        const rows = await collect(
          conn,
          EventName.position,
          EventName.positionEnd,
          () => api.reqPositions(),
          (account: string, c: Contract, pos: number, avgCost?: number) => ({ account, symbol: c.symbol ?? '', position: pos, avgCost: avgCost ?? 0 }),
        );
        api.cancelPositions();
        print('positions', rows);
        break;
      }
      case 'orders': {
        const rows = await collect(
          conn,
          EventName.openOrder,
          EventName.openOrderEnd,
          () => api.reqAllOpenOrders(),
          (id: number, c: Contract, o: Order, state: { status?: string }) => ({
            clientId: o.clientId ?? '',
            id,
            symbol: c.symbol ?? '',
            action: o.action ?? '',
            qty: o.totalQuantity ?? 0,
            type: o.orderType ?? '',
            limit: o.lmtPrice ?? '',
            stop: o.auxPrice ?? '',
            tif: o.tif ?? '',
            status: state?.status ?? '',
            orderRef: o.orderRef ?? '',
          }),
        );
        print('orders', rows);
        break;
      }
      case 'executions': {
        const commissions = new Map<string, number>();
        api.on(EventName.commissionReport, (r: { execId?: string; commission?: number }) => commissions.set(r.execId ?? '', r.commission ?? 0));
        const rows = await collect(
          conn,
          EventName.execDetails,
          EventName.execDetailsEnd,
          () => api.reqExecutions(1, {}),
          (_r: number, c: Contract, e: Execution) => ({
            execId: e.execId ?? '',
            time: e.time ?? '',
            symbol: c.symbol ?? '',
            side: e.side ?? '',
            shares: e.shares ?? 0,
            price: e.price ?? 0,
            clientId: e.clientId ?? '',
            orderId: e.orderId ?? 0,
            orderRef: e.orderRef ?? '',
          }),
        );
        await new Promise((r) => setTimeout(r, 200)); // commission reports follow their executions
        print(
          'executions',
          rows.map((r) => ({ ...r, commission: commissions.get(r.execId) ?? '' })),
        );
        break;
      }
      case 'cancel-all':
      case 'kill': {
        api.reqGlobalCancel();
        const flattened: Row[] = [];
        if (cmd === 'kill') {
          const positions = await collect(
            conn,
            EventName.position,
            EventName.positionEnd,
            () => api.reqPositions(),
            (_a: string, c: Contract, pos: number) => ({ symbol: c.symbol ?? '', pos }),
          );
          api.cancelPositions();
          for (const p of positions.filter((x) => x.pos !== 0)) {
            const id = conn.nextOrderId();
            api.placeOrder(id, stockContract(p.symbol), {
              action: p.pos > 0 ? OrderAction.SELL : OrderAction.BUY,
              totalQuantity: Math.abs(p.pos),
              orderType: OrderType.MKT,
              orderRef: 'tb:kill',
              transmit: true,
            });
            flattened.push({ symbol: p.symbol, orderId: id, action: p.pos > 0 ? 'SELL' : 'BUY', qty: Math.abs(p.pos) });
          }
        }
        await new Promise((r) => setTimeout(r, 300)); // let the requests leave the client's pacing queue
        print(cmd === 'kill' ? 'kill' : 'cancel-all', cmd === 'kill' ? flattened : [{ sent: 'reqGlobalCancel' }]);
        break;
      }
      case 'history': {
        const symbols = (positionals[1] ?? '')
          .split(',')
          .map((x) => x.trim().toUpperCase())
          .filter(Boolean);
        if (symbols.length === 0) throw new Error('history needs symbols: npm run ib -- history SPY,ESZ13,GBP.USD,GOOG151224C00750000');
        const store = await openStore(v.db!);
        try {
          const r = await downloadHistory(
            conn,
            store,
            symbols.map((symbol) => ({ symbol, barSize: v.bar!, duration: v.duration! })),
            { log: (m) => console.error(m) },
          );
          print('history', [
            { symbols: r.symbols.join(','), interval: r.interval, rows: r.rows, quote_rows: r.quoteRows, instruments: r.instruments.join(','), db: v.db! },
          ]);
        } finally {
          store.close();
        }
        break;
      }
      default:
        throw new Error(`unknown command '${cmd}'\n${USAGE}`);
    }
  } finally {
    conn.stop();
  }
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
