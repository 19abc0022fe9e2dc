// Finding input files and their columns. Layouts: one file per symbol (AAPL.csv), a long file with
// a symbol column, or a folder per symbol with a file per day (spy/20131007.csv).
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DataError } from './errors.ts';

export type SourceFormat = 'csv' | 'parquet';

export interface SourceFile {
  /** absolute path */
  path: string;
  /** as shown in messages: relative to the working directory when that is shorter */
  display: string;
  format: SourceFormat;
  /** from the file name, or the folder name for date-named files; a symbol column overrides it */
  symbol: string;
  /** where `symbol` comes from */
  symbolFrom?: 'file' | 'folder';
}

/** Which input column plays which part. Names are as written in the file. */
export interface ColumnRoles {
  time: string;
  /** set when date and time of day are separate columns ('date' + 'time') */
  timeOfDay?: string;
  symbol?: string;
  open: string;
  high: string;
  low: string;
  close: string;
  /** absent: volume 0 */
  volume?: string;
}

const EXTENSIONS: [string, SourceFormat][] = [
  ['.csv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.parquet', 'parquet'],
];

function formatOf(file: string): { format: SourceFormat; stem: string } | undefined {
  const lower = file.toLowerCase();
  for (const [ext, format] of EXTENSIONS) {
    if (lower.endsWith(ext)) return { format, stem: path.basename(file).slice(0, -ext.length) };
  }
  return undefined;
}

/**
 * What a symbol may look like (after trimming and upper-casing): letters, digits and . - _ ^ = / and
 * space, starting with a letter, digit or ^, at most 32 characters, no '..'. Covers BRK.B, BF-B,
 * BRK B (IB), BRK/B, ^GSPC, EURUSD=X, ES=F and OCC option symbols; rejects anything that could walk
 * out of a folder when a symbol becomes a file name (../EVIL, /etc/passwd, .hidden).
 */
export const SYMBOL_PATTERN = '[A-Z0-9^][A-Z0-9._^=/ -]{0,31}';
const SYMBOL_RE = new RegExp(`^${SYMBOL_PATTERN}$`);
export const SYMBOL_RULE = "letters, digits and . - _ ^ = / space, starting with a letter, digit or ^, at most 32 characters, no '..'";

export function isPlausibleSymbol(symbol: string): boolean {
  return SYMBOL_RE.test(symbol) && !symbol.includes('..');
}

export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && rel.length < abs.length ? rel : abs;
}

function sourceFor(abs: string): SourceFile {
  const f = formatOf(abs)!;
  // A file named by date (20131007.csv) belongs to the symbol of its folder.
  const byDate = /^\d{8}$|^\d{4}-\d{2}-\d{2}$/.test(f.stem);
  const symbol = (byDate ? path.basename(path.dirname(abs)) : f.stem).trim().toUpperCase();
  return { path: abs, display: displayPath(abs), format: f.format, symbol, symbolFrom: byDate ? 'folder' : 'file' };
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (formatOf(e.name)) out.push(p);
  }
}

/** Expands files and directories (walked recursively, in name order) into input files. */
export function listSources(paths: string[]): SourceFile[] {
  if (paths.length === 0) throw new DataError('no input files given', { rule: 'no-files' });
  const seen = new Set<string>();
  const out: SourceFile[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new DataError(`${p}: no such file or directory`, { rule: 'no-files', file: p });
    }
    const files: string[] = [];
    if (st.isDirectory()) {
      walk(abs, files);
      if (files.length === 0) {
        throw new DataError(`${p}: no .csv, .csv.gz or .parquet files in this directory`, { rule: 'no-files', file: p });
      }
    } else {
      if (!formatOf(abs)) {
        throw new DataError(`${p}: not a .csv, .csv.gz or .parquet file`, { rule: 'no-files', file: p });
      }
      files.push(abs);
    }
    for (const f of files) {
      if (seen.has(f)) continue;
      seen.add(f);
      out.push(sourceFor(f));
    }
  }
  return out;
}

/** First line of a CSV (gzip or plain) with its delimiter. */
export function readCsvHeader(src: SourceFile): { names: string[]; delim: string } {
  let text: string;
  try {
    const fd = openSync(src.path, 'r');
    try {
      const buf = Buffer.alloc(src.path.toLowerCase().endsWith('.gz') ? 1 << 20 : 1 << 16);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const head = buf.subarray(0, n);
      const bytes: Buffer = src.path.toLowerCase().endsWith('.gz') ? gunzipHead(head) : head;
      text = bytes.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${src.display}: cannot read: ${(e as Error).message}`, { rule: 'unreadable-file', file: src.display });
  }
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  if (line.trim() === '') {
    throw new DataError(`${src.display} line 1: empty header; expected column names such as date,open,high,low,close,volume`, {
      rule: 'missing-column',
      file: src.display,
      line: 1,
    });
  }
  let delim = ',';
  let best = 0;
  for (const d of [',', ';', '\t', '|']) {
    const count = line.split(d).length - 1;
    if (count > best) [delim, best] = [d, count];
  }
  const names = line.split(delim).map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
  return { names, delim };
}

function gunzipHead(bytes: Buffer): Buffer {
  // The first block of a gzip file decompresses on its own; Z_SYNC_FLUSH accepts the cut-off end.
  try {
    return gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (e) {
    throw new Error(`not a gzip file (${(e as Error).message})`);
  }
}

export const TIME_COLUMNS = ['date', 'timestamp', 'time', 'time_et', 'datetime'] as const;

/** Maps a header onto roles; throws a DataError naming the missing column. */
export function detectRoles(src: SourceFile, names: string[]): ColumnRoles {
  const byLower = new Map<string, string>();
  for (const n of names) {
    const k = n.toLowerCase();
    if (byLower.has(k)) {
      throw new DataError(`${src.display} line 1: column '${n}' appears twice in the header`, {
        rule: 'missing-column',
        file: src.display,
        line: 1,
        field: n,
      });
    }
    byLower.set(k, n);
  }
  const get = (k: string) => byLower.get(k);
  let time: string | undefined;
  let timeOfDay: string | undefined;
  for (const k of ['datetime', 'timestamp', 'time_et']) {
    time ??= get(k);
  }
  if (!time) {
    if (get('date') && get('time')) [time, timeOfDay] = [get('date'), get('time')];
    else time = get('time') ?? get('date');
  }
  const header = names.join(',');
  const missing = (what: string): never => {
    throw new DataError(`${src.display} line 1: missing column ${what} (header: ${header})`, {
      rule: 'missing-column',
      file: src.display,
      line: 1,
      field: what,
    });
  };
  if (!time) missing(`for the time (one of ${TIME_COLUMNS.join(', ')})`);
  const roles: ColumnRoles = {
    time: time!,
    timeOfDay,
    symbol: get('symbol') ?? get('ticker'),
    open: get('open') ?? missing("'open'"),
    high: get('high') ?? missing("'high'"),
    low: get('low') ?? missing("'low'"),
    close: get('close') ?? missing("'close'"),
    volume: get('volume'),
  };
  return roles;
}
