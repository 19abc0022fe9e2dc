// Reader for the LEAN sample futures files (../shared/data/lean-sample/future/<root>/, DERIVATIVES.md
// "Futures"): daily_<kind>.csv, hour_<kind>.csv and <yyyymmdd>_<kind>.csv (minute), kind = trade, quote or
// openinterest. Every row is checked; a bad one throws a DataError naming the file, row, field and rule.
//
// Times: intraday rows carry time_utc (bar start, UTC) and time_et (America/New_York). The reader keeps
// time_utc as `ts` and checks time_et is the same instant. Minute file names are the UTC date of their rows.
// Daily rows are labelled by LEAN's date (not a UTC roll-up of the minutes): `ts` is 00:00 UTC of that date.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataError, type DataRule } from './errors.ts';
import { type IsoDate, isIsoDate } from '../instruments/iso-date.ts';
import { newYorkOffset } from '../futures/new-york-time.ts';

export type FuturesFileKind = 'trade' | 'quote' | 'openinterest';
export type FuturesResolution = 'daily' | 'hour' | 'minute';

interface RowBase {
  /** bar start, epoch ms UTC (daily: 00:00 UTC of `date`) */
  ts: number;
  /** daily: LEAN's date label; intraday: the New York date of the bar start */
  date: IsoDate;
  /** 'YYYYMM' */
  contractMonth: string;
  /** last trading day, as in the file */
  expiry: IsoDate;
}

export interface FuturesTradeRow extends RowBase {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** One side of a quote bar; NaN prices and size 0 when the side had no quote (an empty field). */
export interface QuoteSide {
  open: number;
  high: number;
  low: number;
  close: number;
  size: number;
}

export interface FuturesQuoteRow extends RowBase {
  bid: QuoteSide;
  ask: QuoteSide;
}

export interface FuturesOpenInterestRow extends RowBase {
  openInterest: number;
}

const TIME_COLS = { daily: ['date'], intraday: ['time_et', 'time_utc'] } as const;
const KIND_COLS: Record<FuturesFileKind, readonly string[]> = {
  trade: ['open', 'high', 'low', 'close', 'volume'],
  quote: ['bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_size', 'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_size'],
  openinterest: ['open_interest'],
};

const NY = 'America/New_York';
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Kind and resolution from a file name: daily_trade.csv, hour_quote.csv, 20131007_openinterest.csv. */
export function futuresFileInfo(file: string): { kind: FuturesFileKind; resolution: FuturesResolution; utcDate?: IsoDate } {
  const base = path.basename(file);
  const m = /^(daily|hour|(\d{4})(\d{2})(\d{2}))_(trade|quote|openinterest)\.csv$/.exec(base);
  if (!m) {
    throw new DataError(`${file}: not a LEAN futures file name (daily_<kind>.csv, hour_<kind>.csv or <yyyymmdd>_<kind>.csv, kind trade|quote|openinterest)`, {
      rule: 'unreadable-file',
      file,
    });
  }
  const kind = m[5] as FuturesFileKind;
  if (m[1] === 'daily' || m[1] === 'hour') return { kind, resolution: m[1] };
  return { kind, resolution: 'minute', utcDate: `${m[2]}-${m[3]}-${m[4]}` };
}

export function readFuturesTrades(file: string): FuturesTradeRow[] {
  return readFuturesFile(file, 'trade') as FuturesTradeRow[];
}

export function readFuturesQuotes(file: string): FuturesQuoteRow[] {
  return readFuturesFile(file, 'quote') as FuturesQuoteRow[];
}

export function readFuturesOpenInterest(file: string): FuturesOpenInterestRow[] {
  return readFuturesFile(file, 'openinterest') as FuturesOpenInterestRow[];
}

/** Rows grouped by contract month (ascending), each group in file order (ascending time). */
export function byContract<R extends RowBase>(rows: readonly R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of [...rows].sort((a, b) => (a.contractMonth < b.contractMonth ? -1 : a.contractMonth > b.contractMonth ? 1 : 0))) {
    let g = out.get(r.contractMonth);
    if (!g) out.set(r.contractMonth, (g = []));
    g.push(r);
  }
  return out;
}

function readFuturesFile(file: string, expected: FuturesFileKind): (FuturesTradeRow | FuturesQuoteRow | FuturesOpenInterestRow)[] {
  const info = futuresFileInfo(file);
  if (info.kind !== expected) throw new DataError(`${file}: a ${info.kind} file, read as ${expected}`, { rule: 'unreadable-file', file });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`, { rule: 'unreadable-file', file });
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  const daily = info.resolution === 'daily';
  const cols = [...(daily ? TIME_COLS.daily : TIME_COLS.intraday), 'contract_month', 'expiry', ...KIND_COLS[info.kind]];
  if (header.join(',') !== cols.join(',')) {
    const missing = cols.filter((c) => !header.includes(c));
    throw new DataError(
      `${file} line 1: header must be '${cols.join(',')}'${missing.length ? ` (missing ${missing.join(', ')})` : ''}, got '${header.join(',')}'`,
      {
        rule: 'missing-column',
        file,
        line: 1,
        field: missing[0],
      },
    );
  }
  const out: (FuturesTradeRow | FuturesQuoteRow | FuturesOpenInterestRow)[] = [];
  const expiries = new Map<string, { expiry: string; row: number }>();
  let prevTs = -Infinity;
  let prevMonth = '';
  for (let i = 1; i < lines.length; i++) {
    const row = i;
    const cells = lines[i]!.replace(/\r$/, '').split(',');
    const fail = (rule: DataRule, field: string | undefined, msg: string): never => {
      throw new DataError(`${file} row ${row} (line ${i + 1})${field ? ` field '${field}'` : ''}: ${msg}`, { rule, file, row, line: i + 1, field });
    };
    if (cells.length !== cols.length) fail('missing-value', undefined, `${cells.length} fields, the header has ${cols.length}`);
    const cell = (name: string) => cells[cols.indexOf(name)]!;
    let ts: number;
    let date: IsoDate;
    if (daily) {
      date = cell('date');
      if (!isIsoDate(date)) fail('bad-time', 'date', `'${date}' is not a date YYYY-MM-DD`);
      ts = Date.parse(`${date}T00:00:00Z`);
    } else {
      const utc = parseTime(cell('time_utc'));
      if (Number.isNaN(utc)) fail('bad-time', 'time_utc', `'${cell('time_utc')}' is not a time YYYY-MM-DD HH:MM:SS`);
      const et = parseTime(cell('time_et'));
      if (Number.isNaN(et)) fail('bad-time', 'time_et', `'${cell('time_et')}' is not a time YYYY-MM-DD HH:MM:SS`);
      const etFromUtc = utc + newYorkOffset(utc);
      if (et !== etFromUtc) {
        fail(
          'bad-time',
          'time_et',
          `'${cell('time_et')}' is not time_utc ${cell('time_utc')} in ${NY} (that is ${new Date(etFromUtc).toISOString().slice(0, 19).replace('T', ' ')})`,
        );
      }
      if (info.utcDate && cell('time_utc').slice(0, 10) !== info.utcDate) {
        fail('bad-time', 'time_utc', `'${cell('time_utc')}' is not on the file's UTC date ${info.utcDate} (minute file names are UTC dates)`);
      }
      ts = utc;
      date = new Date(et).toISOString().slice(0, 10);
    }
    const cm = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(cell('contract_month'));
    if (!cm) fail('bad-time', 'contract_month', `'${cell('contract_month')}' is not a contract month YYYY-MM`);
    const contractMonth = cm![1]! + cm![2]!;
    const expiry = cell('expiry');
    if (!isIsoDate(expiry)) fail('bad-time', 'expiry', `'${expiry}' is not a date YYYY-MM-DD`);
    const seen = expiries.get(contractMonth);
    if (seen && seen.expiry !== expiry)
      fail('out-of-range', 'expiry', `${expiry} for contract ${cell('contract_month')}, which row ${seen.row} gives expiry ${seen.expiry}`);
    if (!seen) expiries.set(contractMonth, { expiry, row });
    if (ts < prevTs || (ts === prevTs && contractMonth <= prevMonth)) {
      fail(
        ts === prevTs && contractMonth === prevMonth ? 'duplicate-timestamp' : 'out-of-order',
        daily ? 'date' : 'time_utc',
        `rows must ascend by time, then contract month; this one (${contractMonth}) ${ts === prevTs && contractMonth === prevMonth ? 'repeats' : 'comes after'} the previous row's (${prevMonth})`,
      );
    }
    prevTs = ts;
    prevMonth = contractMonth;
    const base: RowBase = { ts, date, contractMonth, expiry };
    if (info.kind === 'openinterest') {
      out.push({ ...base, openInterest: count(cell('open_interest'), 'open_interest', fail) });
    } else if (info.kind === 'trade') {
      const [open, high, low, close] = (['open', 'high', 'low', 'close'] as const).map((f) => price(cell(f), f, fail));
      checkShape(open!, high!, low!, close!, '', fail);
      out.push({ ...base, open: open!, high: high!, low: low!, close: close!, volume: count(cell('volume'), 'volume', fail) });
    } else {
      const side = (s: 'bid' | 'ask'): QuoteSide => {
        const f = (n: string) => `${s}_${n}`;
        const size = count(cell(f('size')), f('size'), fail);
        if (cell(f('open')) === '' && cell(f('high')) === '' && cell(f('low')) === '' && cell(f('close')) === '') {
          return { open: NaN, high: NaN, low: NaN, close: NaN, size };
        }
        const [open, high, low, close] = ['open', 'high', 'low', 'close'].map((n) => price(cell(f(n)), f(n), fail));
        checkShape(open!, high!, low!, close!, `${s}_`, fail);
        return { open: open!, high: high!, low: low!, close: close!, size };
      };
      out.push({ ...base, bid: side('bid'), ask: side('ask') });
    }
  }
  return out;
}

type Fail = (rule: DataRule, field: string | undefined, msg: string) => never;

function price(s: string, field: string, fail: Fail): number {
  if (s === '') fail('missing-value', field, 'is empty');
  const v = Number(s);
  if (!Number.isFinite(v)) fail('not-a-number', field, `'${s}' is not a number`);
  if (v <= 0) fail('non-positive-price', field, `${s} is not a price > 0`);
  return v;
}

function count(s: string, field: string, fail: Fail): number {
  if (s === '') fail('missing-value', field, 'is empty');
  const v = Number(s);
  if (!Number.isFinite(v)) fail('not-a-number', field, `'${s}' is not a number`);
  if (v < 0 || !Number.isInteger(v)) fail('negative-volume', field, `${s} is not a whole number of contracts >= 0`);
  return v;
}

function checkShape(open: number, high: number, low: number, close: number, prefix: string, fail: Fail): void {
  if (high < Math.max(open, close)) fail('high-below-max', `${prefix}high`, `${high} is below max(open ${open}, close ${close})`);
  if (low > Math.min(open, close)) fail('low-above-min', `${prefix}low`, `${low} is above min(open ${open}, close ${close})`);
}

/** 'YYYY-MM-DD HH:MM:SS' as ms, read as UTC (wall-clock ms for time_et); NaN when not a real time. */
function parseTime(s: string): number {
  const m = TIME_RE.exec(s);
  if (!m || !isIsoDate(`${m[1]}-${m[2]}-${m[3]}`) || +m[4]! > 23 || +m[5]! > 59 || +m[6]! > 59) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}
