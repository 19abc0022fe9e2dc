// What a live session trades beyond US stocks in a USD account: the contract terms of its symbols (FX pairs,
// options: the instruments table of --data), an underlying's options (--chain), and the daily FX rates into the
// account's currency (--base-currency), read by openRunData exactly as npm run backtest reads them, so the live
// kernel converts and multiplies as the backtest's does. For the embedded simulator, the run's series too: the
// quote bars (bid/ask, OHLC the mid) that pairs and options trade on.
//
// With --gateway, --chain's options come from the gateway (reqSecDefOptParams + reqContractDetails:
// engine/ib/option-chain-live.ts), selected by the store path's rule; the store (--data, else the sample) still
// gives the other symbols' terms and the FX rates. The strikes are placed around the underlying's first close in
// the session's dates when the store has its bars (so a replay against a simulator selects what a backtest
// selects), else around the gateway's snapshot price of it; the expiry window starts on the store's first day,
// else on --from, else today in New York.
import { existsSync } from 'node:fs';
import { EventName } from '@stoqey/ib';
import type { BarSeries, ContractTerms, Interval } from '../../engine/core/types.ts';
import { readInstruments } from '../../engine/data/instruments.ts';
import { sqlString } from '../../engine/data/store.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { IbConnection } from '../../engine/ib/connection.ts';
import { discoverChain, type LiveChain, snapshotPrice } from '../../engine/ib/option-chain-live.ts';
import { newYorkDate } from '../../engine/options/chain.ts';
import type { FxMarks } from '../../engine/portfolio/fx-marks.ts';
import { openRunData, openRunStore, type ChainSelection } from '../../engine/run/run-data.ts';

export interface LiveInstruments {
  /** the run's symbols: those asked for, then the --chain options */
  symbols: string[];
  /** the terms of the symbols that are not US stocks (absent: every one is) */
  contracts?: Record<string, ContractTerms>;
  /** the rates into the base currency (absent: every symbol is in it) */
  fx?: FxMarks;
  /** the run's bars whole, in symbol order (absent: a stock run, which the simulator loads itself) */
  series?: BarSeries[];
}

export interface LiveInstrumentOptions {
  data?: string;
  symbols: string[];
  interval: Interval;
  from?: string;
  to?: string;
  tz: string;
  baseCurrency: string;
  chain?: ChainSelection;
  /** a real gateway: without --data and the sample database, the symbols are taken as US stocks */
  gateway: boolean;
  /** the gateway --chain's options are discovered from (absent: read from the store); see the top of the file */
  chainGateway?: { host: string; port: number; clientId: number; timeoutMs?: number };
}

/** The run's instruments (see the top of the file); a stock run in USD reads nothing but the instruments rows. */
export async function liveInstruments(o: LiveInstrumentOptions): Promise<LiveInstruments> {
  if (o.chain && o.chainGateway) return withGatewayChain(o, o.chain, o.chainGateway);
  if (o.baseCurrency === 'USD' && !o.chain) {
    if (o.gateway && o.data === undefined && !existsSync(SAMPLE_DB_PATH)) return { symbols: o.symbols };
    const { store } = await openRunStore({ data: o.data, symbols: o.symbols, interval: o.interval, tz: o.tz });
    let rows;
    try {
      rows = await readInstruments(store, o.symbols);
    } finally {
      store.close();
    }
    const plain = o.symbols.every((s) => {
      const r = rows.get(s);
      return !r || (r.secType === 'STK' && r.multiplier === 1 && r.currency === 'USD');
    });
    if (plain) return { symbols: o.symbols };
  }
  const data = await openRunData({
    data: o.data,
    symbols: o.symbols,
    interval: o.interval,
    from: o.from,
    to: o.to,
    tz: o.tz,
    baseCurrency: o.baseCurrency,
    chain: o.chain,
  });
  try {
    const parts: BarSeries[][] = [];
    for (let c = await data.chunks.next(); c !== null; c = await data.chunks.next()) parts.push(c);
    return {
      symbols: data.symbols,
      ...(data.contracts ? { contracts: data.contracts } : {}),
      ...(data.fx ? { fx: data.fx } : {}),
      series: data.symbols.map((_, sid) => concatSeries(parts.map((p) => p[sid]!))),
    };
  } finally {
    data.close();
  }
}

/**
 * The symbols asked for (terms and rates from the store, as without --chain) and the chain discovered from the
 * gateway after them. No series: a gateway session replays nothing of its own.
 */
async function withGatewayChain(
  o: LiveInstrumentOptions,
  chain: ChainSelection,
  gw: NonNullable<LiveInstrumentOptions['chainGateway']>,
): Promise<LiveInstruments> {
  const rest = await liveInstruments({ ...o, chain: undefined, chainGateway: undefined });
  const anchor = await storeAnchor(o, chain.underlying);
  const found = await fromGateway(gw, async (api) => {
    const firstDay = anchor?.firstDay ?? o.from ?? newYorkDate(Date.now());
    const spot = anchor?.spot ?? (await snapshotPrice(api, chain.underlying, { timeoutMs: gw.timeoutMs }));
    return discoverChain(api, chain, { firstDay, spot, timeoutMs: gw.timeoutMs });
  });
  const symbols = [...rest.symbols, ...found.symbols.filter((s) => !rest.symbols.includes(s))];
  return { symbols, contracts: { ...rest.contracts, ...found.contracts }, ...(rest.fx ? { fx: rest.fx } : {}) };
}

/**
 * The store path's anchor of a chain: the underlying's first bar in the session's dates, its close (the strikes'
 * money) and its UTC date (the expiry window's first day), as chainSymbols (engine/run/run-data.ts) reads them.
 * Undefined when the store (--data, else the sample when it exists) has no such bar.
 */
async function storeAnchor(o: LiveInstrumentOptions, underlying: string): Promise<{ firstDay: string; spot: number } | undefined> {
  if (o.data === undefined && !existsSync(SAMPLE_DB_PATH)) return undefined;
  const { store, from, to } = await openRunStore({ data: o.data, symbols: [underlying], interval: o.interval, from: o.from, to: o.to, tz: o.tz });
  try {
    const range = [from !== undefined ? `ts >= ${from}` : '', to !== undefined ? `ts <= ${to}` : ''].filter(Boolean).join(' AND ') || 'true';
    const r = await store.conn.runAndReadAll(
      `SELECT ts::DOUBLE AS ts, close FROM bars WHERE symbol = ${sqlString(underlying.toUpperCase())} AND "interval" = ${sqlString(o.interval)} AND ${range} ORDER BY ts LIMIT 1`,
    );
    const first = r.getRowObjectsJS()[0];
    return first ? { firstDay: new Date(Number(first.ts)).toISOString().slice(0, 10), spot: Number(first.close) } : undefined;
  } finally {
    store.close();
  }
}

/** Runs `ask` on a connection of its own to the gateway, closed (and gone from the gateway) before it returns. */
async function fromGateway(gw: NonNullable<LiveInstrumentOptions['chainGateway']>, ask: (api: IbConnection['api']) => Promise<LiveChain>): Promise<LiveChain> {
  const conn = new IbConnection({ host: gw.host, port: gw.port, clientId: gw.clientId });
  const connectMs = gw.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const started = conn.start();
  started.catch(() => {}); // a time-out below stops the connection, which rejects this: already said
  try {
    await Promise.race([
      started,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `--chain: no answer from the gateway at ${gw.host}:${gw.port} within ${connectMs / 1000} s (client id ${gw.clientId}) to discover the option chain`,
              ),
            ),
          connectMs,
        );
      }),
    ]);
    return await ask(conn.api);
  } finally {
    clearTimeout(timer);
    // the session connects next with the same client id: the gateway must have let this one go
    const gone = conn.ready ? new Promise<void>((resolve) => conn.api.once(EventName.disconnected, () => resolve())) : Promise.resolve();
    conn.stop();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}

const COLS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
const QUOTE_COLS = ['bidOpen', 'bidHigh', 'bidLow', 'bidClose', 'bidSize', 'askOpen', 'askHigh', 'askLow', 'askClose', 'askSize'] as const;

/** One symbol's time windows as one series (the windows come in time order). */
function concatSeries(windows: BarSeries[]): BarSeries {
  if (windows.length === 1) return windows[0]!;
  const cat = (get: (s: BarSeries) => Float64Array) => {
    const out = new Float64Array(windows.reduce((n, w) => n + get(w).length, 0));
    let at = 0;
    for (const w of windows) {
      out.set(get(w), at);
      at += get(w).length;
    }
    return out;
  };
  const out = { ...windows[0]! };
  for (const c of COLS) out[c] = cat((s) => s[c]);
  if (windows.every((w) => w.bidOpen !== undefined)) for (const c of QUOTE_COLS) out[c] = cat((s) => s[c]!);
  return out;
}
