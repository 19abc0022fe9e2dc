// Importing the LEAN sample options, futures and FX files (../shared/data/lean-sample, DERIVATIVES.md) into the
// store: trade bars into `bars`, bid/ask bars into `quote_bars`, open interest into `open_interest`, and one
// `instruments` row per contract or pair (built by engine/instruments). FX rows also give mid bars in `bars`.
//
// One transaction per call: every file is read and checked (lean-options.ts, lean-forex.ts, lean-future-rows.ts:
// each field, each bar's shape per side, each symbol's times strictly increasing), staged, checked across files
// (no two files give the same symbol, interval and time), then written; any error rolls everything back.
//
// Re-import: each file replaces, per symbol (and interval), the stored rows in the time range it covers (the
// stock importer's --replace-range): stored rows in that range are deleted and the file's rows written. So
// importing a file twice leaves the store as once, and a corrected file drops the rows it no longer has. The rows
// deleted are counted (`replaced`). Instruments are upserted (every column but sector, which stays).
//
// Crossed quotes (bid close > ask close, both sides there) are real data (FXCM daily, a few ES and GC minutes):
// imported as they are and counted per file, for the caller to warn about.
import type { DuckDBAppender } from '@duckdb/node-api';
import type { Interval } from '../core/types.ts';
import { DataError } from './errors.ts';
import { type LeanFile, type LeanKind, listLeanFiles } from './lean-files.ts';
import { readForexFile } from './lean-forex.ts';
import { readFutureFile } from './lean-future-rows.ts';
import { readOptionFile } from './lean-options.ts';
import type { LeanSink, QuoteSide } from './lean-rows.ts';
import { INSTRUMENT_ROW_COLUMNS, type InstrumentRow, instrumentValues } from './instruments.ts';
import { sqlString, type Store } from './store.ts';

export interface LeanImportOptions {
  /** files read so far of all (0 of n first) */
  onProgress?: (done: number, total: number) => void;
}

export interface LeanKindCounts {
  files: number;
  /** distinct instruments the files define */
  instruments: number;
  /** rows written to bars (FX: the mid bars) */
  bars: number;
  quoteBars: number;
  openInterest: number;
  /** quote bars with bid close > ask close (both sides there), imported as they are */
  crossed: number;
}

export interface LeanImportSummary {
  files: number;
  kinds: Record<LeanKind, LeanKindCounts>;
  /** stored rows deleted because a file covered their time range (re-imports), per table */
  replaced: { bars: number; quoteBars: number; openInterest: number };
  /** files with crossed quote bars, and how many each */
  crossedFiles: { file: string; crossed: number }[];
  /** the intervals written, per kind */
  intervals: Record<LeanKind, Interval[]>;
}

const KINDS: readonly LeanKind[] = ['option', 'future', 'forex'];

/** Imports LEAN files and folders (see lean-files.ts for the layouts) in one transaction. */
export async function importLean(store: Store, paths: readonly string[], opts: LeanImportOptions = {}): Promise<LeanImportSummary> {
  if (store.readOnly) throw new Error(`${store.path} is open read-only: an import needs it read-write`);
  const files = listLeanFiles(paths);
  const conn = store.conn;
  await conn.run('BEGIN TRANSACTION');
  try {
    const summary = await stageAndWrite(store, files, opts);
    await dropTemps(store);
    await conn.run('COMMIT');
    return summary;
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

const STAGE_SQL = `
CREATE OR REPLACE TEMP TABLE _lean_files (fid INTEGER, display VARCHAR, kind VARCHAR, "interval" VARCHAR);
CREATE OR REPLACE TEMP TABLE _lean_bars (fid INTEGER, symbol VARCHAR, ts DOUBLE, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE);
CREATE OR REPLACE TEMP TABLE _lean_quotes (fid INTEGER, symbol VARCHAR, ts DOUBLE,
  bid_open DOUBLE, bid_high DOUBLE, bid_low DOUBLE, bid_close DOUBLE, bid_size DOUBLE,
  ask_open DOUBLE, ask_high DOUBLE, ask_low DOUBLE, ask_close DOUBLE, ask_size DOUBLE);
CREATE OR REPLACE TEMP TABLE _lean_oi (fid INTEGER, symbol VARCHAR, ts DOUBLE, open_interest DOUBLE);`;

async function stageAndWrite(store: Store, files: LeanFile[], opts: LeanImportOptions): Promise<LeanImportSummary> {
  const conn = store.conn;
  await conn.run(STAGE_SQL);
  const values = files.map((f, fid) => `(${fid}, ${sqlString(f.display)}, ${sqlString(f.kind)}, ${sqlString(f.interval)})`);
  await conn.run(`INSERT INTO _lean_files VALUES ${values.join(', ')}`);

  const summary: LeanImportSummary = {
    files: files.length,
    kinds: Object.fromEntries(KINDS.map((k) => [k, { files: 0, instruments: 0, bars: 0, quoteBars: 0, openInterest: 0, crossed: 0 }])) as Record<
      LeanKind,
      LeanKindCounts
    >,
    replaced: { bars: 0, quoteBars: 0, openInterest: 0 },
    crossedFiles: [],
    intervals: { option: [], future: [], forex: [] },
  };
  const instruments = new Map<string, { row: InstrumentRow; file: string }>();
  const instrumentsOf: Record<LeanKind, Set<string>> = { option: new Set(), future: new Set(), forex: new Set() };
  const appenders = {
    bars: await conn.createAppender('_lean_bars', null, 'temp'),
    quotes: await conn.createAppender('_lean_quotes', null, 'temp'),
    oi: await conn.createAppender('_lean_oi', null, 'temp'),
  };
  try {
    opts.onProgress?.(0, files.length);
    for (let fid = 0; fid < files.length; fid++) {
      const file = files[fid]!;
      const counts = summary.kinds[file.kind];
      const sink = new StagingSink(fid, file, appenders, (row) => {
        const had = instruments.get(row.symbol);
        if (had && JSON.stringify(had.row) !== JSON.stringify(row)) {
          throw new DataError(`${file.display}: contract ${row.symbol} differs from the one ${had.file} gives (${JSON.stringify(had.row)})`, {
            rule: 'out-of-range',
            file: file.display,
          });
        }
        if (!had) instruments.set(row.symbol, { row, file: file.display });
        instrumentsOf[file.kind].add(row.symbol);
      });
      if (file.kind === 'option') readOptionFile(file, sink);
      else if (file.kind === 'forex') readForexFile(file, sink);
      else readFutureFile(file, sink);
      counts.files++;
      counts.bars += sink.bars;
      counts.quoteBars += sink.quotes;
      counts.openInterest += sink.oi;
      counts.crossed += sink.crossed;
      if (sink.crossed > 0) summary.crossedFiles.push({ file: file.display, crossed: sink.crossed });
      if (!summary.intervals[file.kind].includes(file.interval)) summary.intervals[file.kind].push(file.interval);
      // the appenders' buffers stay small however many files
      for (const a of Object.values(appenders)) a.flushSync();
      opts.onProgress?.(fid + 1, files.length);
    }
  } finally {
    for (const a of Object.values(appenders)) a.closeSync();
  }
  for (const k of KINDS) summary.kinds[k].instruments = instrumentsOf[k].size;
  const total = summary.kinds.option.bars + summary.kinds.future.bars + summary.kinds.forex.bars;
  const totalQ = summary.kinds.option.quoteBars + summary.kinds.future.quoteBars + summary.kinds.forex.quoteBars;
  const totalOi = summary.kinds.option.openInterest + summary.kinds.future.openInterest + summary.kinds.forex.openInterest;
  if (total + totalQ + totalOi === 0) {
    const what = files.length === 1 ? files[0]!.display : `${files.length} files`;
    throw new DataError(`no rows in ${what} (headers only)`, { rule: 'no-files', file: files[0]!.display });
  }

  await checkAcrossFiles(store);
  summary.replaced = {
    bars: await replace(store, 'bars', '_lean_bars', true),
    quoteBars: await replace(store, 'quote_bars', '_lean_quotes', true),
    openInterest: await replace(store, 'open_interest', '_lean_oi', false),
  };
  await conn.run(`
INSERT INTO bars (symbol, "interval", ts, open, high, low, close, volume)
SELECT b.symbol, f."interval", b.ts::BIGINT, b.open, b.high, b.low, b.close, b.volume FROM _lean_bars b JOIN _lean_files f USING (fid)
ORDER BY b.symbol, b.ts;
INSERT INTO quote_bars (symbol, "interval", ts, bid_open, bid_high, bid_low, bid_close, bid_size, ask_open, ask_high, ask_low, ask_close, ask_size)
SELECT q.symbol, f."interval", q.ts::BIGINT, q.bid_open, q.bid_high, q.bid_low, q.bid_close, q.bid_size, q.ask_open, q.ask_high, q.ask_low, q.ask_close, q.ask_size
FROM _lean_quotes q JOIN _lean_files f USING (fid) ORDER BY q.symbol, f."interval", q.ts;
INSERT INTO open_interest (symbol, ts, open_interest) SELECT symbol, ts::BIGINT, open_interest FROM _lean_oi ORDER BY symbol, ts;
-- the prices are as traded (no splits or dividends to apply): runs need not warn about an unknown basis
INSERT INTO price_basis (symbol, "interval", basis)
SELECT DISTINCT b.symbol, f."interval", 'raw' FROM _lean_bars b JOIN _lean_files f USING (fid)
ON CONFLICT (symbol, "interval") DO UPDATE SET basis = excluded.basis;`);
  await upsertInstruments(
    store,
    [...instruments.values()].map((i) => i.row),
  );
  return summary;
}

type Appenders = { bars: DuckDBAppender; quotes: DuckDBAppender; oi: DuckDBAppender };

/** Stages one file's rows; checks each symbol's times strictly increase (per table) and counts crossed quotes. */
class StagingSink implements LeanSink {
  bars = 0;
  quotes = 0;
  oi = 0;
  crossed = 0;
  private readonly last = { bars: new Map<string, number>(), quotes: new Map<string, number>(), oi: new Map<string, number>() };

  constructor(
    private readonly fid: number,
    private readonly file: LeanFile,
    private readonly a: Appenders,
    readonly instrument: (row: InstrumentRow) => void,
  ) {}

  bar(row: number, symbol: string, ts: number, open: number, high: number, low: number, close: number, volume: number): void {
    this.order('bars', row, symbol, ts);
    const a = this.a.bars;
    a.appendInteger(this.fid);
    a.appendVarchar(symbol);
    a.appendDouble(ts);
    a.appendDouble(open);
    a.appendDouble(high);
    a.appendDouble(low);
    a.appendDouble(close);
    a.appendDouble(volume);
    a.endRow();
    this.bars++;
  }

  quote(row: number, symbol: string, ts: number, bid: QuoteSide, ask: QuoteSide): void {
    this.order('quotes', row, symbol, ts);
    const a = this.a.quotes;
    a.appendInteger(this.fid);
    a.appendVarchar(symbol);
    a.appendDouble(ts);
    for (const s of [bid, ask]) {
      for (const v of [s.open, s.high, s.low, s.close]) {
        if (Number.isNaN(v)) a.appendNull();
        else a.appendDouble(v);
      }
      a.appendDouble(s.size);
    }
    a.endRow();
    this.quotes++;
    if (bid.close > ask.close) this.crossed++; // false when a side is missing (NaN)
  }

  openInterest(row: number, symbol: string, ts: number, openInterest: number): void {
    this.order('oi', row, symbol, ts);
    const a = this.a.oi;
    a.appendInteger(this.fid);
    a.appendVarchar(symbol);
    a.appendDouble(ts);
    a.appendDouble(openInterest);
    a.endRow();
    this.oi++;
  }

  private order(table: 'bars' | 'quotes' | 'oi', row: number, symbol: string, ts: number): void {
    const prev = this.last[table].get(symbol);
    if (prev !== undefined && ts <= prev) {
      const field = this.file.kind === 'option' ? 'time_et' : this.file.interval === '1d' ? 'date' : 'time_utc';
      const what = table === 'oi' ? 'open-interest row' : table === 'quotes' ? 'quote bar' : 'bar';
      throw new DataError(
        `${this.file.display} row ${row} (line ${row + 1}) field '${field}': ${symbol}'s ${what} at ${iso(ts)} ${ts === prev ? 'repeats' : 'comes before'} its previous one (${iso(prev)}): times must strictly increase per symbol`,
        { rule: ts === prev ? 'duplicate-timestamp' : 'out-of-order', file: this.file.display, row, line: row + 1, field },
      );
    }
    this.last[table].set(symbol, ts);
  }
}

function iso(ts: number): string {
  return `${new Date(ts).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** No two files may give a row of the same symbol (and interval) at the same time. */
async function checkAcrossFiles(store: Store): Promise<void> {
  const checks: [string, string, boolean][] = [
    ['_lean_bars', 'bar', true],
    ['_lean_quotes', 'quote bar', true],
    ['_lean_oi', 'open-interest row', false],
  ];
  for (const [table, what, byInterval] of checks) {
    const r = await store.conn.runAndReadAll(`
SELECT t.symbol, ${byInterval ? 'f."interval"' : "''"} AS iv, t.ts, min(f.display) AS a, max(f.display) AS b
FROM ${table} t JOIN _lean_files f USING (fid)
GROUP BY ALL HAVING count(*) > 1 ORDER BY t.ts LIMIT 1`);
    const d = r.getRowObjectsJS()[0];
    if (d) {
      throw new DataError(
        `${d.a} and ${d.b} both have a ${what} of ${d.symbol}${d.iv ? ` (${d.iv})` : ''} at ${iso(Number(d.ts))}: import one of them (or files that do not overlap)`,
        { rule: 'duplicate-timestamp', file: String(d.b) },
      );
    }
  }
}

/**
 * Deletes the stored rows of each staged file and symbol (and interval) within the time range the file covers
 * for that symbol; returns how many.
 */
async function replace(store: Store, target: string, staged: string, byInterval: boolean): Promise<number> {
  const iv = byInterval ? `, f."interval"` : '';
  // per file: two files of one call (two minute days) leave the stored rows between them alone
  await store.conn.run(`
CREATE OR REPLACE TEMP TABLE _lean_rng AS
SELECT fid, s.symbol${iv}, min(s.ts)::BIGINT AS lo, max(s.ts)::BIGINT AS hi FROM ${staged} s JOIN _lean_files f USING (fid) GROUP BY ALL`);
  const on = `t.symbol = r.symbol${byInterval ? ` AND t."interval" = r."interval"` : ''} AND t.ts BETWEEN r.lo AND r.hi`;
  const n = Number((await store.conn.runAndReadAll(`SELECT count(*) AS n FROM ${target} t SEMI JOIN _lean_rng r ON ${on}`)).getRowObjectsJS()[0]!.n);
  if (n > 0) await store.conn.run(`DELETE FROM ${target} t USING _lean_rng r WHERE ${on}`);
  return n;
}

/** Inserts or updates the instruments (every column but sector, which an import of sectors may have set). */
async function upsertInstruments(store: Store, rows: InstrumentRow[]): Promise<void> {
  const cols = INSTRUMENT_ROW_COLUMNS;
  const lit = (v: string | number | null, col: string) =>
    v === null ? 'NULL' : typeof v === 'number' ? `'${v}'::DOUBLE` : col === 'expiry' ? `DATE ${sqlString(v)}` : sqlString(v);
  const update = cols.filter((c) => c !== 'symbol' && c !== 'sector').map((c) => `${c} = excluded.${c}`);
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows
      .slice(i, i + 500)
      .map(
        (r) =>
          `(${instrumentValues(r)
            .map((v, j) => lit(v, cols[j]!))
            .join(', ')})`,
      )
      .join(',\n');
    await store.conn.run(`INSERT INTO instruments (${cols.join(', ')}) VALUES ${values} ON CONFLICT (symbol) DO UPDATE SET ${update.join(', ')}`);
  }
}

async function dropTemps(store: Store): Promise<void> {
  const names = ['_lean_files', '_lean_bars', '_lean_quotes', '_lean_oi', '_lean_rng'];
  await store.conn.run(names.map((n) => `DROP TABLE IF EXISTS temp.${n};`).join('\n'));
}

const KIND_NAMES: Record<LeanKind, string> = { option: 'options', future: 'futures', forex: 'forex' };

/**
 * The summary as printed by npm run import -- --lean: a line per kind imported, the rows replaced by a re-import,
 * and a warning for crossed quote bars (`warning` is undefined when there are none).
 */
export function formatLeanSummary(s: LeanImportSummary, db: string, secs: string): { lines: string[]; warning?: string } {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [`imported ${n(s.files)} LEAN file${s.files === 1 ? '' : 's'} into ${db} in ${secs} s:`];
  for (const k of KINDS) {
    const c = s.kinds[k];
    if (c.files === 0) continue;
    const iv = s.intervals[k].join(', ');
    lines.push(
      `  ${KIND_NAMES[k]}: ${n(c.files)} file${c.files === 1 ? '' : 's'} (${iv}), ${n(c.instruments)} instrument${c.instruments === 1 ? '' : 's'}, ` +
        `${n(c.bars)} bars${k === 'forex' ? ' (mid)' : ''}, ${n(c.quoteBars)} quote bars, ${n(c.openInterest)} open-interest rows`,
    );
  }
  const r = s.replaced;
  if (r.bars + r.quoteBars + r.openInterest > 0) {
    lines.push(
      `  replaced the stored rows in the files' time ranges: ${n(r.bars)} bars, ${n(r.quoteBars)} quote bars, ${n(r.openInterest)} open-interest rows`,
    );
  }
  const crossed = s.crossedFiles.reduce((a, f) => a + f.crossed, 0);
  if (crossed === 0) return { lines };
  const where = s.crossedFiles.map((f) => `${f.file} ${n(f.crossed)}`).join(', ');
  return { lines, warning: `${n(crossed)} crossed quote bar${crossed === 1 ? '' : 's'} (bid close above ask close) imported as in the source: ${where}` };
}
