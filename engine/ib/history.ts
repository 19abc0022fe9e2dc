import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName, WhatToShow, type BarSizeSetting } from '@stoqey/ib';
import { importPaths, type ImportSummary } from '../data/import.ts';
import { isPlausibleSymbol, SYMBOL_RULE } from '../data/sources.ts';
import type { Store } from '../data/store.ts';
import type { Interval } from '../core/types.ts';
import type { IbConnection } from './connection.ts';
import { stockContract } from './ib-broker.ts';

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

/** One historical request, answered with its bars (epoch seconds or IB dates as given) or error 162/other. */
function requestBars(conn: IbConnection, reqId: number, r: HistoryRequest): Promise<string[][]> {
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
      reject(Object.assign(new Error(`historical data for ${r.symbol}: IB error ${code}: ${err?.message ?? err}`), { code }));
    };
    const done = () => {
      api.off(EventName.historicalData, onBar);
      api.off(EventName.error, onError);
    };
    api.on(EventName.historicalData, onBar);
    api.on(EventName.error, onError);
    api.reqHistoricalData(reqId, stockContract(r.symbol), r.end ?? '', r.duration, r.barSize as BarSizeSetting, WhatToShow.TRADES, r.useRTH ?? false, 2, false);
  });
}

let nextReqId = 50_000;

/**
 * Downloads bars through the gateway into the store: paced under IB's rules, backing off and
 * retrying after a pacing violation (162), then imported with the same validation as files (all or
 * nothing).
 */
export async function downloadHistory(conn: IbConnection, store: Store, requests: HistoryRequest[], o: DownloadOptions = {}): Promise<ImportSummary> {
  const bad = requests.find((r) => !isPlausibleSymbol(r.symbol));
  if (bad) throw new Error(`history request: symbol '${bad.symbol}' is not a symbol (${SYMBOL_RULE})`);
  const pacer = o.pacer ?? new HistoricalPacer();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-ib-history-'));
  try {
    const interval = INTERVAL_OF[requests[0]?.barSize ?? ''];
    if (!interval) throw new Error(`bar size '${requests[0]?.barSize}' has no stored interval; use one of ${Object.keys(INTERVAL_OF).join(', ')}`);
    if (requests.some((r) => r.barSize !== requests[0].barSize)) throw new Error('one bar size per download');
    const files: string[] = [];
    for (const r of requests) {
      const key = `${r.symbol}|${r.barSize}|${r.duration}|${r.end ?? ''}|${r.useRTH ?? false}`;
      let rows: string[][] | undefined;
      for (let attempt = 0, wait = o.backoffMs ?? 10_000; rows === undefined; attempt++, wait *= 2) {
        await pacer.acquire(key, r.symbol);
        try {
          rows = await requestBars(conn, nextReqId++, r);
        } catch (e) {
          const err = e as Error & { code?: number };
          // 162 is also IB's code for "query returned no data": only a pacing violation is retried
          if (err.code === 162 && /no data/i.test(err.message)) {
            o.log?.(`${err.message}: nothing to store for ${r.symbol}`);
            rows = [];
            break;
          }
          if (err.code !== 162 || attempt >= (o.retries ?? 3)) throw e;
          o.log?.(`${(e as Error).message}: backing off ${wait} ms`);
          await new Promise((res) => setTimeout(res, wait));
        }
      }
      if (rows.length === 0) continue;
      // named by position, with the symbol in a column: a symbol never becomes a path
      const file = path.join(dir, `bars-${files.length}.csv`);
      const time = (t: string) =>
        /^\d{9,10}$/.test(t) ? new Date(Number(t) * 1000).toISOString() : /^\d{8}$/.test(t) ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}` : t;
      writeFileSync(
        file,
        `${['symbol,timestamp,open,high,low,close,volume', ...rows.map((x) => [r.symbol, time(x[0]), ...x.slice(1)].join(','))].join('\n')}\n`,
      );
      files.push(file);
    }
    if (files.length === 0)
      throw new Error(`the gateway returned no ${requests[0].barSize} bars for ${requests.map((r) => r.symbol).join(',')} over ${requests[0].duration}`);
    return await importPaths(store, files, { interval });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
