// LEAN factor files: `yyyymmdd,price_factor,split_factor,reference_price`, ascending by date.
// A bar on date d takes the first row dated on or after d; its adjusted price is
// raw * price_factor * split_factor and its volume raw / split_factor. Dates after the last row
// are unadjusted (LEAN ends every file with a 20501231 row of ones). The events between rows
// (splits, dividends) are derived in actions.ts.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from './errors.ts';
import { displayPath } from './sources.ts';

export interface FactorRow {
  /** yyyymmdd as a number, e.g. 20140606 */
  date: number;
  priceFactor: number;
  splitFactor: number;
  /** the raw close on `date` the file measures a dividend against (4th column); NaN when absent or 0 */
  referencePrice: number;
  /** 1-based line in the file (for messages) */
  line: number;
}

/** What a symbol must look like to become a factor file name: no path separators, spaces or '..'. */
const FILE_SYMBOL = /^[A-Za-z0-9^][A-Za-z0-9._^=-]*$/;

/**
 * `<dir>/<symbol>.csv`, trying LEAN's lower case first. Only a file directly in `dir`: a symbol that
 * could name anything else (a path separator, '..', a leading dot, a space) has no factor file.
 */
export function findFactorFile(dir: string, symbol: string): string | undefined {
  if (!FILE_SYMBOL.test(symbol) || symbol.includes('..')) return undefined;
  const root = path.resolve(dir);
  for (const name of [symbol.toLowerCase(), symbol, symbol.toUpperCase()]) {
    const p = path.join(dir, `${name}.csv`);
    // the pattern already keeps the name inside; checked again on the resolved path
    if (path.dirname(path.resolve(p)) !== root) continue;
    if (isFile(p)) return p;
  }
  return undefined;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function readFactorFile(file: string): FactorRow[] {
  const shown = displayPath(path.resolve(file));
  const fail = (line: number, field: string, msg: string): never => {
    throw new DataError(`${shown} line ${line}: ${msg}`, { rule: 'bad-factor-file', file: shown, line, field });
  };
  const rows: FactorRow[] = [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    const lineNo = i + 1;
    const cells = text.split(',');
    if (cells.length < 3) fail(lineNo, 'date', `expected yyyymmdd,price_factor,split_factor[,reference_price], got '${text}'`);
    const [d, pf, sf, ref] = cells.map((c) => c.trim());
    if (!/^\d{8}$/.test(d!) || !validYmd(+d!)) fail(lineNo, 'date', `field 'date' = '${d}' is not a yyyymmdd date`);
    const priceFactor = Number(pf);
    const splitFactor = Number(sf);
    if (pf === '' || !Number.isFinite(priceFactor) || priceFactor <= 0) {
      fail(lineNo, 'price_factor', `field 'price_factor' = '${pf}' is not a positive number`);
    }
    if (sf === '' || !Number.isFinite(splitFactor) || splitFactor <= 0) {
      fail(lineNo, 'split_factor', `field 'split_factor' = '${sf}' is not a positive number`);
    }
    const date = +d!;
    const prev = rows[rows.length - 1];
    if (prev && date <= prev.date) {
      fail(lineNo, 'date', `field 'date' = ${date} is ${date === prev.date ? 'a duplicate of' : 'before'} the previous row's ${prev.date}; dates must ascend`);
    }
    const referencePrice = ref === undefined || ref === '' ? NaN : Number(ref);
    rows.push({ date, priceFactor, splitFactor, referencePrice: referencePrice > 0 ? referencePrice : NaN, line: lineNo });
  }
  return rows;
}

function validYmd(n: number): boolean {
  const y = Math.floor(n / 10000),
    m = Math.floor(n / 100) % 100,
    d = n % 100;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** The factors in force on a date (yyyymmdd): the first row dated on or after it, else ones. */
export function factorAt(rows: readonly FactorRow[], yyyymmdd: number): { priceFactor: number; splitFactor: number } {
  let lo = 0,
    hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.date < yyyymmdd) lo = mid + 1;
    else hi = mid;
  }
  const r = rows[lo];
  return r ? { priceFactor: r.priceFactor, splitFactor: r.splitFactor } : { priceFactor: 1, splitFactor: 1 };
}

/** yyyymmdd number -> 'YYYY-MM-DD' (for SQL DATE literals and appenders). */
export function ymdToIso(n: number): string {
  const s = String(n);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}
