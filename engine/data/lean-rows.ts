// What the LEAN readers (lean-options.ts, lean-forex.ts, lean-future-rows.ts) hand on, row by row, and the
// per-row checks they share. A reader checks each field; the sink checks each symbol's times strictly increase
// and counts crossed quotes, so every kind gets the same rules and the same messages.
import { DataError, type DataRule } from './errors.ts';
import type { LeanFile } from './lean-files.ts';
import type { InstrumentRow } from './instruments.ts';

/** One side of a quote bar: NaN prices when the side had no quote that bar (stored NULL), size 0. */
export interface QuoteSide {
  open: number;
  high: number;
  low: number;
  close: number;
  size: number;
}

/** Where a reader's rows go. `row` is the 1-based data row of the file (the header is not a row). */
export interface LeanSink {
  bar(row: number, symbol: string, ts: number, open: number, high: number, low: number, close: number, volume: number): void;
  quote(row: number, symbol: string, ts: number, bid: QuoteSide, ask: QuoteSide): void;
  openInterest(row: number, symbol: string, ts: number, openInterest: number): void;
  /** once per symbol and file (a sink may be told again; the rows must then be equal) */
  instrument(row: InstrumentRow): void;
}

export type Fail = (rule: DataRule, field: string | undefined, msg: string) => never;

/** A fail() for a data row of a file: the message says file, row, line and field. */
export function rowFail(file: LeanFile, row: number): Fail {
  return (rule, field, msg) => {
    throw new DataError(`${file.display} row ${row} (line ${row + 1})${field ? ` field '${field}'` : ''}: ${msg}`, {
      rule,
      file: file.display,
      row,
      line: row + 1,
      field,
    });
  };
}

/** The lines of a CSV text without its header, after checking the header is exactly `cols`. */
export function csvLines(file: LeanFile, text: string, cols: readonly string[]): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '').split(',');
  if (header.join(',') !== cols.join(',')) {
    const missing = cols.filter((c) => !header.includes(c));
    throw new DataError(
      `${file.display} line 1: header must be '${cols.join(',')}'${missing.length ? ` (missing ${missing.join(', ')})` : ''}, got '${header.join(',')}'`,
      { rule: 'missing-column', file: file.display, line: 1, field: missing[0] },
    );
  }
  lines.shift();
  return lines;
}

export function price(s: string, field: string, fail: Fail): number {
  if (s === '') fail('missing-value', field, 'is empty');
  const v = Number(s);
  if (!Number.isFinite(v)) fail('not-a-number', field, `'${s}' is not a number`);
  if (v <= 0) fail('non-positive-price', field, `${s} is not a price > 0`);
  return v;
}

/** A size, volume or open interest: a whole number >= 0. */
export function count(s: string, field: string, fail: Fail): number {
  if (s === '') fail('missing-value', field, 'is empty');
  const v = Number(s);
  if (!Number.isFinite(v)) fail('not-a-number', field, `'${s}' is not a number`);
  if (v < 0 || !Number.isInteger(v)) fail('negative-volume', field, `${s} is not a whole number >= 0`);
  return v;
}

/** high >= max(open, close) and low <= min(open, close); `prefix` names the side ('bid_'). */
export function checkShape(open: number, high: number, low: number, close: number, prefix: string, fail: Fail): void {
  if (high < Math.max(open, close)) fail('high-below-max', `${prefix}high`, `${high} is below max(open ${open}, close ${close})`);
  if (low > Math.min(open, close)) fail('low-above-min', `${prefix}low`, `${low} is above min(open ${open}, close ${close})`);
}

const NO_SIDE: QuoteSide = { open: NaN, high: NaN, low: NaN, close: NaN, size: 0 };

/**
 * One side of a quote row from its five cells (open, high, low, close, size). All four prices empty: no quote
 * that bar (NaN prices; the size must then be 0). Otherwise every price must be there and the bar well shaped.
 * `size` undefined: the file has no size column (FX), stored as 0 as LEAN does.
 */
export function quoteSide(cells: readonly string[], at: number, side: 'bid' | 'ask', hasSize: boolean, fail: Fail): QuoteSide {
  const f = (n: string) => `${side}_${n}`;
  const size = hasSize ? count(cells[at + 4]!, f('size'), fail) : 0;
  if (cells[at] === '' && cells[at + 1] === '' && cells[at + 2] === '' && cells[at + 3] === '') {
    if (size !== 0) fail('missing-value', f('open'), `no ${side} prices but ${f('size')} ${size} (a side with no quote has size 0)`);
    return NO_SIDE;
  }
  const open = price(cells[at]!, f('open'), fail);
  const high = price(cells[at + 1]!, f('high'), fail);
  const low = price(cells[at + 2]!, f('low'), fail);
  const close = price(cells[at + 3]!, f('close'), fail);
  checkShape(open, high, low, close, `${side}_`, fail);
  return { open, high, low, close, size };
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD HH:MM:SS' as ms read as UTC (wall-clock ms for a local time); NaN when not a real time. */
export function parseTime(s: string): number {
  const m = TIME_RE.exec(s);
  if (!m || +m[4]! > 23 || +m[5]! > 59 || +m[6]! > 59) return NaN;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return new Date(t).getUTCDate() === +m[3]! && new Date(t).getUTCMonth() === +m[2]! - 1 ? t : NaN;
}

/** 'YYYY-MM-DD' as 00:00 UTC of that date; NaN when not a real date. */
export function parseDate(s: string): number {
  const m = DATE_RE.exec(s);
  if (!m) return NaN;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  return new Date(t).getUTCDate() === +m[3]! && new Date(t).getUTCMonth() === +m[2]! - 1 ? t : NaN;
}
