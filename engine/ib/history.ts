import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName, WhatToShow, type BarSizeSetting, type Contract } from '@stoqey/ib';
import { importPaths, type ImportSummary } from '../data/import.ts';
import { INSTRUMENT_ROW_COLUMNS, instrumentRow, instrumentValues, type InstrumentRow } from '../data/instruments.ts';
import { isPlausibleSymbol, SYMBOL_RULE } from '../data/sources.ts';
import { sqlString, type Store } from '../data/store.ts';
import type { ContractTerms, Interval } from '../core/types.ts';
import type { Instrument } from '../instruments/instrument.ts';
import { parseCashLocalSymbol, parseFuturesLocalSymbol, parseOccSymbol } from '../instruments/local-symbol.ts';
import { futureContract, idealproPair, usEquityOption } from '../instruments/specs.ts';
import type { IbConnection } from './connection.ts';
import { ibContract } from './contracts.ts';

/** IB's historical-data pacing: at most 60 requests in 10 minutes, no identical request within 15 s, at most 6 for one contract within 2 s. */
export const IB_HISTORICAL_PACING = { perWindow: 60, windowMs: 600_000, identicalMs: 15_000, perContract: 6, contractMs: 2_000 };

/**
 * Waits as long as IB's historical pacing rules require before a request goes out. Pacing is about
 * the gateway's real time, so it reads the wall clock (injected for tests).
 */
export class HistoricalPacer {
  private sent: { at: number; key: string; contract: string }[] = [];

  constructor(
    private readonly limits = IB_HISTORICAL_PACING,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** How long a request must wait now (0: it may go). */
  delay(key: string, contract: string): number {
    const t = this.now();
    const L = this.limits;
    this.sent = this.sent.filter((s) => s.at > t - L.windowMs);
    let wait = 0;
    if (this.sent.length >= L.perWindow) wait = Math.max(wait, this.sent[this.sent.length - L.perWindow].at + L.windowMs - t);
    const same = this.sent.filter((s) => s.key === key).pop();
    if (same) wait = Math.max(wait, same.at + L.identicalMs - t);
    const forContract = this.sent.filter((s) => s.contract === contract && s.at > t - L.contractMs);
    if (forContract.length >= L.perContract) wait = Math.max(wait, forContract[forContract.length - L.perContract].at + L.contractMs - t);
    return Math.max(0, wait);
  }

  async acquire(key: string, contract: string): Promise<void> {
    for (let d = this.delay(key, contract); d > 0; d = this.delay(key, contract)) await this.sleep(d);
    this.sent.push({ at: this.now(), key, contract });
  }
}

export interface HistoryRequest {
  symbol: string;
  /** IB bar size: '1 min', '5 mins', '1 day', ... */
  barSize: string;
  /** IB duration: '1 D', '2 D', '1 W', '1 Y' */
  duration: string;
  /** 'yyyymmdd hh:mm:ss zone' or '' for now */
  end?: string;
  useRTH?: boolean;
}

const INTERVAL_OF: Record<string, Interval> = { '1 min': '1m', '5 mins': '5m', '15 mins': '15m', '30 mins': '30m', '1 hour': '1h', '1 day': '1d' };

export interface DownloadOptions {
  pacer?: HistoricalPacer;
  /** after error 162 (pacing violation): wait this long, doubling, this many times */
  backoffMs?: number;
  retries?: number;
  log?: (message: string) => void;
}

/**
 * What a store key names, for a download: an option by its compact OCC symbol ('GOOG151224C00750000'), a future by
 * root, month code and two-digit year ('ESZ13'), an IDEALPRO pair as BASE.QUOTE ('GBP.USD'); anything else a US
 * stock (undefined: no terms, no instruments row of its own).
 */
export interface HistoryInstrument {
  symbol: string;
  /** the terms the IB contract is built from (engine/ib/contracts.ts); undefined for a stock */
  terms: ContractTerms | undefined;
  /** the instruments row written with the bars (undefined for a stock: the bars import writes its STK row) */
  row: InstrumentRow | undefined;
  /** the bars' whatToShow: TRADES, or MIDPOINT for a pair (IB has no trades of a CASH pair) */
  bars: WhatToShow;
  /** quoted instruments (pairs, options): the BID and ASK bars go into quote_bars */
  quotes: boolean;
}

const OCC_COMPACT = /^[A-Z]{1,6}\d{6}[CP]\d{8}$/;
const FUTURE_KEY = /^[A-Z0-9]{1,5}[FGHJKMNQUVXZ]\d{2}$/;
const PAIR_KEY = /^[A-Z]{3}\.[A-Z]{3}$/;

/** The instrument a downloaded symbol names (see HistoryInstrument); a malformed derivative key throws, naming the form. */
export function historyInstrument(symbol: string): HistoryInstrument {
  let inst: Instrument;
  let tz: string;
  try {
    if (OCC_COMPACT.test(symbol)) {
      const p = parseOccSymbol(symbol);
      inst = usEquityOption({ underlying: p.root, expiry: p.expiry, strike: p.strike, right: p.right });
      tz = 'America/New_York';
    } else if (FUTURE_KEY.test(symbol)) {
      const f = parseFuturesLocalSymbol(symbol);
      inst = futureContract(f.root, f.contractMonth);
      tz = 'America/New_York';
    } else if (PAIR_KEY.test(symbol)) {
      parseCashLocalSymbol(symbol);
      inst = idealproPair(symbol);
      tz = 'UTC';
    } else return { symbol, terms: undefined, row: undefined, bars: WhatToShow.TRADES, quotes: false };
  } catch (e) {
    throw new Error(`history request: ${symbol}: ${(e as Error).message}`);
  }
  const row = instrumentRow(symbol, inst, tz);
  const terms: ContractTerms = {
    secType: row.secType,
    multiplier: row.multiplier,
    currency: row.currency,
    ...(row.expiry !== null ? { expiry: row.expiry } : {}),
    ...(row.strike !== null ? { strike: row.strike } : {}),
    ...(row.right !== null ? { right: row.right } : {}),
    ...(row.underlying !== null ? { underlying: row.underlying } : {}),
  };
  const quotes = row.secType === 'CASH' || row.secType === 'OPT';
  return { symbol, terms, row, bars: row.secType === 'CASH' ? WhatToShow.MIDPOINT : WhatToShow.TRADES, quotes };
}

/** One historical request, answered with its bars (epoch seconds or IB dates as given) or error 162/other. */
function requestBars(conn: IbConnection, reqId: number, r: HistoryRequest, contract: Contract, what: WhatToShow): Promise<string[][]> {
  const api = conn.api;
  return new Promise((resolve, reject) => {
    const rows: string[][] = [];
    const onBar = (id: number, time: string, open: number, high: number, low: number, close: number, volume: number) => {
      if (id !== reqId) return;
      if (time.startsWith('finished')) {
        done();
        resolve(rows);
      } else rows.push([time, String(open), String(high), String(low), String(close), String(volume)]);
    };
    const onError = (err: Error, code: number, id: number) => {
      if (id !== reqId) return;
      done();
      reject(Object.assign(new Error(`historical data for ${r.symbol} (${what}): IB error ${code}: ${err?.message ?? err}`), { code }));
    };
    const done = () => {
      api.off(EventName.historicalData, onBar);
      api.off(EventName.error, onError);
    };
    api.on(EventName.historicalData, onBar);
    api.on(EventName.error, onError);
    api.reqHistoricalData(reqId, contract, r.end ?? '', r.duration, r.barSize as BarSizeSetting, what, r.useRTH ?? false, 2, false);
  });
}

let nextReqId = 50_000;

/** What a download stored: the bars' import summary, and the quote bars and instruments rows written with them. */
export interface HistorySummary extends ImportSummary {
  /** rows written to quote_bars (pairs and options: one per bar time with a bid or an ask) */
  quoteRows: number;
  /** the instruments rows written with their terms (options, futures, pairs), by symbol */
  instruments: string[];
}

/** One quote bar as stored: each side's OHLC (NULL: no such side's bar at that time) and size (IB's history has none: 0). */
interface QuoteRow {
  symbol: string;
  ts: number;
  bid: number[] | null;
  ask: number[] | null;
}

/** A historical bar's time as epoch ms: epoch seconds (formatDate 2), or a date YYYYMMDD (daily bars: 00:00 UTC of that date, as stored). */
function barTime(t: string): number {
  if (/^\d{9,10}$/.test(t)) return Number(t) * 1000;
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  return d ? Date.UTC(+d[1], +d[2] - 1, +d[3]) : Number.NaN;
}

/**
 * One side's bars as prices [open, high, low, close], checked as the import checks bars: prices finite and not
 * negative (an option's bid may be 0), low <= open, close <= high. Throws naming the symbol, side, bar and rule.
 */
function sidePrices(symbol: string, side: 'BID' | 'ASK', rows: string[][]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const x of rows) {
    const ts = barTime(x[0]);
    const [o, h, l, c] = x.slice(1, 5).map(Number);
    const at = `${symbol} ${side} bar ${x[0]}`;
    if (Number.isNaN(ts)) throw new Error(`history: ${at}: the time is not epoch seconds or YYYYMMDD`);
    if (![o, h, l, c].every((v) => Number.isFinite(v) && v >= 0)) throw new Error(`history: ${at}: prices ${x.slice(1, 5).join(', ')} must be finite and >= 0`);
    if (l > Math.min(o, c) || h < Math.max(o, c)) throw new Error(`history: ${at}: low ${l} and high ${h} must bound open ${o} and close ${c}`);
    out.set(ts, [o, h, l, c]);
  }
  return out;
}

/** A side's bars merged by time: a time with only one side's bar has NULL prices on the other. */
function quoteRows(symbol: string, bid: string[][], ask: string[][]): QuoteRow[] {
  const b = sidePrices(symbol, 'BID', bid);
  const a = sidePrices(symbol, 'ASK', ask);
  const times = [...new Set([...b.keys(), ...a.keys()])].sort((x, y) => x - y);
  return times.map((ts) => ({ symbol, ts, bid: b.get(ts) ?? null, ask: a.get(ts) ?? null }));
}

/** Inserts or updates instruments rows (every column but sector, which an import of sectors may have set). */
async function upsertInstruments(store: Store, rows: readonly InstrumentRow[]): Promise<void> {
  const cols = INSTRUMENT_ROW_COLUMNS;
  const lit = (v: string | number | null, col: string) =>
    v === null ? 'NULL' : typeof v === 'number' ? `'${v}'::DOUBLE` : col === 'expiry' ? `DATE ${sqlString(v)}` : sqlString(v);
  const update = cols.filter((c) => c !== 'symbol' && c !== 'sector').map((c) => `${c} = excluded.${c}`);
  const values = rows.map(
    (r) =>
      `(${instrumentValues(r)
        .map((v, j) => lit(v, cols[j]!))
        .join(', ')})`,
  );
  await store.conn.run(`INSERT INTO instruments (${cols.join(', ')}) VALUES ${values.join(',\n')} ON CONFLICT (symbol) DO UPDATE SET ${update.join(', ')}`);
}

async function writeQuotes(store: Store, interval: Interval, rows: readonly QuoteRow[]): Promise<void> {
  const side = (p: number[] | null) => (p === null ? 'NULL, NULL, NULL, NULL, 0' : `${p.map((v) => `'${v}'::DOUBLE`).join(', ')}, 0`);
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows.slice(i, i + 1000).map((q) => `(${sqlString(q.symbol)}, ${sqlString(interval)}, ${q.ts}, ${side(q.bid)}, ${side(q.ask)})`);
    await store.conn.run(`INSERT OR REPLACE INTO quote_bars (symbol, "interval", ts, bid_open, bid_high, bid_low, bid_close, bid_size,
  ask_open, ask_high, ask_low, ask_close, ask_size) VALUES ${values.join(',\n')}`);
  }
}

/**
 * Downloads bars through the gateway into the store: paced under IB's rules, backing off and
 * retrying after a pacing violation (162), then imported with the same validation as files (all or
 * nothing). Symbols in the store's key form: a stock's TRADES; a future's TRADES ('ESZ13': its contract
 * month's contract); an option's TRADES plus its BID and ASK bars into quote_bars ('GOOG151224C00750000'); a
 * pair's MIDPOINT (IB has no trades of a CASH pair) plus BID and ASK ('GBP.USD'). Options, futures and pairs get
 * their instruments row (the terms). Everything is downloaded before anything is written; the quote bars and
 * instruments rows are written first and taken back if the bars' import then fails.
 */
export async function downloadHistory(conn: IbConnection, store: Store, requests: HistoryRequest[], o: DownloadOptions = {}): Promise<HistorySummary> {
  const bad = requests.find((r) => !isPlausibleSymbol(r.symbol));
  if (bad) throw new Error(`history request: symbol '${bad.symbol}' is not a symbol (${SYMBOL_RULE})`);
  const interval = INTERVAL_OF[requests[0]?.barSize ?? ''];
  if (!interval) throw new Error(`bar size '${requests[0]?.barSize}' has no stored interval; use one of ${Object.keys(INTERVAL_OF).join(', ')}`);
  if (requests.some((r) => r.barSize !== requests[0].barSize)) throw new Error('one bar size per download');
  const instruments = requests.map((r) => historyInstrument(r.symbol));
  const pacer = o.pacer ?? new HistoricalPacer();

  const fetch = async (r: HistoryRequest, contract: Contract, what: WhatToShow): Promise<string[][]> => {
    const key = `${r.symbol}|${what}|${r.barSize}|${r.duration}|${r.end ?? ''}|${r.useRTH ?? false}`;
    for (let attempt = 0, wait = o.backoffMs ?? 10_000; ; attempt++, wait *= 2) {
      // IB paces identical requests, and requests for one contract and tick type
      await pacer.acquire(key, `${r.symbol}|${what}`);
      try {
        return await requestBars(conn, nextReqId++, r, contract, what);
      } catch (e) {
        const err = e as Error & { code?: number };
        // 162 is also IB's code for "query returned no data": only a pacing violation is retried
        if (err.code === 162 && /no data/i.test(err.message)) {
          o.log?.(`${err.message}: nothing to store for ${r.symbol} (${what})`);
          return [];
        }
        if (err.code !== 162 || attempt >= (o.retries ?? 3)) throw e;
        o.log?.(`${(e as Error).message}: backing off ${wait} ms`);
        await new Promise((res) => setTimeout(res, wait));
      }
    }
  };

  // everything from the gateway first: a failure here leaves the store as it was
  const bars: string[][][] = [];
  const quotes: QuoteRow[] = [];
  for (let k = 0; k < requests.length; k++) {
    const r = requests[k];
    const inst = instruments[k];
    const contract = ibContract(r.symbol, inst.terms);
    bars.push(await fetch(r, contract, inst.bars));
    if (inst.quotes) quotes.push(...quoteRows(r.symbol, await fetch(r, contract, WhatToShow.BID), await fetch(r, contract, WhatToShow.ASK)));
  }
  if (bars.every((b) => b.length === 0) && quotes.length === 0)
    throw new Error(`the gateway returned no ${requests[0].barSize} bars for ${requests.map((r) => r.symbol).join(',')} over ${requests[0].duration}`);

  const rows = instruments.flatMap((i) => (i.row ? [i.row] : []));
  const symbols = rows.map((r) => r.symbol);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-ib-history-'));
  const c = store.conn;
  const inList = symbols.map(sqlString).join(', ');
  try {
    const files: string[] = [];
    bars.forEach((b, k) => {
      if (b.length === 0) return;
      const r = requests[k];
      // a MIDPOINT bar has no volume (IB sends -1): 0, as FX data has none
      const volume = (v: string) => (instruments[k].bars === WhatToShow.MIDPOINT ? '0' : v);
      // named by position, with the symbol in a column: a symbol never becomes a path
      const file = path.join(dir, `bars-${files.length}.csv`);
      const time = (t: string) =>
        /^\d{9,10}$/.test(t) ? new Date(Number(t) * 1000).toISOString() : /^\d{8}$/.test(t) ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}` : t;
      writeFileSync(
        file,
        `${['symbol,timestamp,open,high,low,close,volume', ...b.map((x) => [r.symbol, time(x[0]), ...x.slice(1, 5), volume(x[5])].join(','))].join('\n')}\n`,
      );
      files.push(file);
    });
    // the rows the quote bars and instruments rows replace, kept to put back if the bars' import fails
    if (rows.length > 0) {
      await c.run(`CREATE OR REPLACE TEMP TABLE _hist_instruments AS SELECT * FROM instruments WHERE symbol IN (${inList});
CREATE OR REPLACE TEMP TABLE _hist_quotes AS SELECT * FROM quote_bars WHERE symbol IN (${inList}) AND "interval" = ${sqlString(interval)}`);
      await c.run('BEGIN TRANSACTION');
      try {
        await upsertInstruments(store, rows);
        if (quotes.length > 0) await writeQuotes(store, interval, quotes);
        await c.run('COMMIT');
      } catch (e) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
    let summary: ImportSummary;
    try {
      summary =
        files.length > 0
          ? await importPaths(store, files, { interval })
          : { files: 0, rows: 0, symbols: [], interval, inserted: 0, updated: 0, unchanged: 0, removed: 0, adjusted: [] };
    } catch (e) {
      if (rows.length > 0) await undo(store, inList, interval);
      throw e;
    }
    const all = [...new Set([...summary.symbols, ...quotes.map((q) => q.symbol)])].sort();
    return { ...summary, symbols: all, quoteRows: quotes.length, instruments: symbols };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (rows.length > 0) await c.run('DROP TABLE IF EXISTS temp._hist_instruments; DROP TABLE IF EXISTS temp._hist_quotes').catch(() => undefined);
  }
}

/** Puts back the instruments rows and quote bars of `inList` as they were before the download. */
async function undo(store: Store, inList: string, interval: Interval): Promise<void> {
  const c = store.conn;
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(`DELETE FROM quote_bars WHERE symbol IN (${inList}) AND "interval" = ${sqlString(interval)};
INSERT INTO quote_bars SELECT * FROM temp._hist_quotes;
DELETE FROM instruments WHERE symbol IN (${inList});
INSERT INTO instruments SELECT * FROM temp._hist_instruments;`);
    await c.run('COMMIT');
  } catch (e) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw new Error(`the bars' import failed, and putting back the quote bars and instruments rows written before it failed too: ${(e as Error).message}`);
  }
}
