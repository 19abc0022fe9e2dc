import { readFileSync, statSync } from 'node:fs';
import type { Bar, Fill, Order, OrderEvent, RiskEvent } from '../core/types.ts';
import type { EquitySample, LogKind } from './journal.ts';

/**
 * One record of a live session's journal. `runId` on each, so one file can hold several runs; `seq` is
 * the record's index in its run's list (the same numbering writeJournal uses for a finished run).
 */
export type JournalEntry =
  | { t: 'order'; runId: string; order: Order } // on create and on every modify: the latest spec wins (live_orders)
  | { t: 'orderEvent'; runId: string; seq: number; e: OrderEvent }
  | { t: 'fill'; runId: string; seq: number; f: Fill }
  | { t: 'risk'; runId: string; seq: number; e: RiskEvent }
  | { t: 'equity'; runId: string; p: EquitySample }
  | { t: 'bar'; runId: string; seq: number; b: Bar }
  | { t: 'log'; runId: string; seq: number; ts: number; kind: LogKind; message: string }
  | { t: 'state'; runId: string; ts: number; state: unknown }; // the runner's safety state snapshot; the latest wins

/** A write-ahead record: an entry and its global sequence number (unique and increasing across the file's life). */
export interface WalRecord {
  g: number;
  e: JournalEntry;
}

/** The write-ahead file of a journal database (DuckDB itself uses `<file>.wal`). */
export function walPathOf(file: string): string {
  return `${file}.wal.jsonl`;
}

// JSON has no NaN, Infinity or -0: they are written as strings that start with a NUL character
// ("\u0000NaN"); a real string that starts with NUL gets one more, so every value round-trips.
const NUL = '\u0000';

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number') {
    if (v - v !== 0) return Number.isNaN(v) ? '\u0000NaN' : v > 0 ? '\u0000Infinity' : '\u0000-Infinity';
    if (v === 0 && 1 / v < 0) return '\u0000-0';
    return v;
  }
  if (typeof v === 'string' && v.charCodeAt(0) === 0) return NUL + v;
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (typeof v === 'string' && v.charCodeAt(0) === 0) return v.charCodeAt(1) === 0 ? v.slice(1) : Number(v.slice(1));
  return v;
}

/** JSON that keeps NaN, ±Infinity and -0 (see decodeJson). */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text, reviver) as T;
}

/** One write-ahead line: `{"g":N,"e":{...}}` and a newline. */
export function walLine(g: number, e: JournalEntry): string {
  return `{"g":${g},"e":${JSON.stringify(e, replacer)}}\n`;
}

/** The global sequence number at the start of a line (`{"g":N,`), or -1. */
function lineSeq(text: string, from: number): number {
  if (!text.startsWith('{"g":', from)) return -1;
  let g = 0;
  let i = from + 5;
  for (; ; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    g = g * 10 + c;
  }
  return i > from + 5 && text.charCodeAt(i) === 44 ? g : -1;
}

export interface WalContents {
  /** the records after `after`, in file order */
  records: WalRecord[];
  /** the highest sequence number in the file (records at or before `after` included), 0 if none */
  last: number;
  /** bytes at the end that are not a whole line (a write cut short by a crash or power loss): ignored */
  tornBytes: number;
}

/**
 * Reads the records of a write-ahead text with a sequence number above `after`. An unfinished last
 * line (a torn write) is ignored; a damaged line with whole lines after it is an error (strict) or
 * skipped and reported through `warn`.
 */
export function parseWal(text: string, after: number, where: string, o: { strict: boolean; warn?: (m: string) => void }): WalContents {
  const records: WalRecord[] = [];
  let last = 0;
  let pos = 0;
  let line = 0;
  let lastGoodLine = 0;
  let bad: { line: number; text: string } | undefined;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    line++;
    const g = lineSeq(text, pos);
    let ok = false;
    if (g > 0 && g <= after)
      ok = true; // already in the database: not parsed
    else if (g > 0) {
      try {
        const r = decodeJson<WalRecord>(text.slice(pos, nl));
        if (r !== null && typeof r === 'object' && r.g === g && typeof r.e === 'object' && r.e !== null && typeof r.e.t === 'string') {
          records.push(r);
          ok = true;
        }
      } catch {
        // a damaged line: reported below
      }
    }
    if (ok) {
      if (g > last) last = g;
      lastGoodLine = line;
    } else if (!bad) bad = { line, text: text.slice(pos, Math.min(nl, pos + 60)).replace(/[\u0000-\u001f]/g, '?') };
    pos = nl + 1;
  }
  if (bad) {
    const message = `${where} line ${bad.line} is not a journal record ('${bad.text}')`;
    if (o.strict && lastGoodLine > bad.line) {
      throw new Error(
        `${message} and whole records follow it: the write-ahead file is damaged. Move it aside to open the journal without it (the entries it holds that the database lacks are then lost), or repair that line`,
      );
    }
    o.warn?.(`${message}: ignored`);
  }
  return { records, last, tornBytes: text.length - pos };
}

/** Reads a write-ahead file (missing: empty). */
export function readWal(path: string, after: number, o: { strict: boolean; warn?: (m: string) => void }): WalContents {
  let text: string;
  try {
    // a device or a pipe (e.g. /dev/zero) would never end: only a regular file is a write-ahead file
    if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file: move it aside (the journal's write-ahead file must be one)`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], last: 0, tornBytes: 0 };
    throw new Error(`cannot read the write-ahead file ${path}: ${(e as Error).message}`);
  }
  const r = parseWal(text, after, path, o);
  if (r.tornBytes > 0) o.warn?.(`${path}: the last ${r.tornBytes} bytes are not a whole line (a write cut short): ignored`);
  return r;
}
