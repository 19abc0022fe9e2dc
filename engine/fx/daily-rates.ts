// Daily FX rates from a LEAN forex daily file (`forex/<pair>/daily/oanda.csv`, see ../shared/data/lean-sample/
// DERIVATIVES.md): `date,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close`, prices in quote
// currency per unit of base currency (GBPUSD = USD per GBP). The day's rate is the MID of the close:
// (bid_close + ask_close) / 2. An Oanda daily bar covers the UTC calendar day named by `date`.
//
// A date without a row (a Saturday, a holiday, the source's 2016-12-10..15 gap) takes the latest earlier row,
// at most `maxStaleDays` days earlier; anything older (or a date before the file's first row) is an error.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** How many days back a date without a row may reach for a rate (a long weekend, the 2016-12-10..15 gap). */
export const DEFAULT_MAX_STALE_DAYS = 7;

export class RateError extends Error {
  override name = 'RateError';
}

/** The rate used for a date, and the row it came from. */
export interface RateOn {
  /** the date asked for, YYYY-MM-DD */
  date: string;
  /** the file's date the rate is from (the same date, or the latest earlier one with a row) */
  from: string;
  /** quote currency per unit of base (GBPUSD: USD per GBP), the mid of bid_close and ask_close */
  rate: number;
}

export interface DailyRates {
  /** e.g. 'GBPUSD': base currency then quote currency */
  pair: string;
  /** the file read, as given */
  file: string;
  /** first and last dates with a row */
  first: string;
  last: string;
  maxStaleDays: number;
  /** the rate of `date` (YYYY-MM-DD), or of the latest earlier date with a row within maxStaleDays */
  rate(date: string): number;
  /** rate() with the date of the row it came from */
  rateOn(date: string): RateOn;
}

export interface LoadOptions {
  /** the pair, e.g. 'GBPUSD' (default: the folder name in forex/<pair>/daily/, upper case) */
  pair?: string;
  maxStaleDays?: number;
  /** what to do when a date has no rate, appended to that error (default: give a file that covers it) */
  hint?: string;
}

const HEADER = ['date', 'bid_open', 'bid_high', 'bid_low', 'bid_close', 'ask_open', 'ask_high', 'ask_low', 'ask_close'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** Reads a LEAN forex daily file. Errors name the file, the line and the field. */
export function loadDailyRates(file: string, opts: LoadOptions = {}): DailyRates {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RateError(`cannot read the FX rates file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const pair = opts.pair ?? pairFromPath(file);
  if (pair === undefined) throw new RateError(`${file}: cannot tell the currency pair from the path (expected forex/<pair>/daily/<file>.csv): give the pair`);
  return parseDailyRates(text, { ...opts, pair, file });
}

/** The pair of a LEAN path `.../forex/gbpusd/daily/oanda.csv`: 'GBPUSD'. */
export function pairFromPath(file: string): string | undefined {
  const parts = path.resolve(file).split(path.sep);
  const i = parts.lastIndexOf('daily');
  const p = i > 0 ? parts[i - 1] : undefined;
  return p !== undefined && /^[a-z]{6}$/i.test(p) ? p.toUpperCase() : undefined;
}

/** Parses the text of a LEAN forex daily file (rows ascending by date, no duplicates). */
export function parseDailyRates(text: string, opts: LoadOptions & { pair: string; file: string }): DailyRates {
  const { pair, file } = opts;
  const maxStaleDays = opts.maxStaleDays ?? DEFAULT_MAX_STALE_DAYS;
  if (!/^[A-Z]{6}$/.test(pair)) throw new RateError(`pair '${pair}' must be six letters, base then quote currency (e.g. GBPUSD)`);
  if (!(Number.isInteger(maxStaleDays) && maxStaleDays >= 0)) throw new RateError(`maxStaleDays must be a whole number of days >= 0, got ${maxStaleDays}`);
  const lines = text.split(/\r?\n/);
  const head = lines[0]!.trim().split(',');
  if (head.join(',') !== HEADER.join(','))
    throw new RateError(`${file} line 1: expected the header ${HEADER.join(',')} (a LEAN forex daily file), got '${lines[0]!.slice(0, 120)}'`);
  const days: number[] = [];
  const rates: number[] = [];
  const bad = (line: number, field: string, msg: string): never => {
    throw new RateError(`${file} line ${line}: field '${field}' ${msg}`);
  };
  for (let i = 1; i < lines.length; i++) {
    const row = lines[i]!.trim();
    if (row === '') continue;
    const cells = row.split(',');
    if (cells.length !== HEADER.length) throw new RateError(`${file} line ${i + 1}: expected ${HEADER.length} fields, got ${cells.length}`);
    const day = dayNumber(cells[0]!);
    if (day === undefined) bad(i + 1, 'date', `= '${cells[0]}' is not a YYYY-MM-DD date`);
    const prev = days[days.length - 1];
    if (prev !== undefined && day! <= prev)
      bad(i + 1, 'date', `= ${cells[0]} is ${day === prev ? 'a duplicate' : 'before the previous row'}: dates must ascend`);
    const bid = Number(cells[4]);
    const ask = Number(cells[8]);
    if (!(cells[4] !== '' && bid > 0 && Number.isFinite(bid))) bad(i + 1, 'bid_close', `= '${cells[4]}' is not a positive number`);
    if (!(cells[8] !== '' && ask > 0 && Number.isFinite(ask))) bad(i + 1, 'ask_close', `= '${cells[8]}' is not a positive number`);
    days.push(day!);
    rates.push((bid + ask) / 2);
  }
  if (days.length === 0) throw new RateError(`${file}: no rows after the header`);
  const first = isoOf(days[0]!);
  const last = isoOf(days[days.length - 1]!);
  const hint = opts.hint ?? 'give a rates file that covers it';

  const rateOn = (date: string): RateOn => {
    const day = dayNumber(date);
    if (day === undefined) throw new RateError(`${pair} rate: '${date}' is not a YYYY-MM-DD date`);
    // the last row on or before the day
    let lo = 0;
    let hi = days.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (days[mid]! <= day) lo = mid + 1;
      else hi = mid;
    }
    const k = lo - 1;
    if (k < 0 || day - days[k]! > maxStaleDays) {
      const why =
        k < 0
          ? `it is before the file's first date ${first}`
          : `the latest earlier rate is ${isoOf(days[k]!)}, more than ${maxStaleDays} days before${day > days[days.length - 1]! ? ` (the file ends ${last})` : ''}`;
      throw new RateError(`no ${pair} rate for ${date} in ${file} (which covers ${first}..${last}): ${why}; ${hint}`);
    }
    return { date, from: isoOf(days[k]!), rate: rates[k]! };
  };
  return { pair, file, first, last, maxStaleDays, rateOn, rate: (date) => rateOn(date).rate };
}

/** Days since 1970-01-01 of a valid YYYY-MM-DD date, else undefined. */
function dayNumber(s: string): number | undefined {
  if (!DATE.test(s)) return undefined;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return undefined;
  return t / DAY_MS;
}

const isoOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
