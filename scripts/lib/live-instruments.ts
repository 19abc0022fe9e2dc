// What a live session trades beyond US stocks in a USD account: the contract terms of its symbols (FX pairs,
// options: the instruments table of --data), an underlying's options (--chain), and the daily FX rates into the
// account's currency (--base-currency), read by openRunData exactly as npm run backtest reads them, so the live
// kernel converts and multiplies as the backtest's does. For the embedded simulator, the run's series too: the
// quote bars (bid/ask, OHLC the mid) that pairs and options trade on.
import { existsSync } from 'node:fs';
import type { BarSeries, ContractTerms, Interval } from '../../engine/core/types.ts';
import { readInstruments } from '../../engine/data/instruments.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
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
}

/** The run's instruments (see the top of the file); a stock run in USD reads nothing but the instruments rows. */
export async function liveInstruments(o: LiveInstrumentOptions): Promise<LiveInstruments> {
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
