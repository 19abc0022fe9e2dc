// Importing bar files (CSV, Parquet) into the store: read with DuckDB's readers as text, validate in SQL
// over all files at once, write in one transaction. With LEAN factor files the bars are stored raw (as in
// the files) and the factor rows and the corporate actions between them beside them (price_factors,
// corporate_actions; see actions.ts); the checks look at the adjusted values, so a split is not a jump.
//
// Re-import semantics (default): upsert by (symbol, interval, ts). A row whose key is not stored is
// inserted; a row equal to the stored bar leaves it as it is; a row that differs replaces it. Stored
// bars the files do not mention are kept, so a two-row correction file changes two bars.
// With `replaceRange` (npm run import --replace-range), each file is the truth for the time range it
// covers, per symbol: stored bars in that range that the file no longer has are deleted (counted in
// `removed`). So a day's minute file replaces that day only, and a corrected vendor file drops the
// bogus bar it no longer contains.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { INTERVAL_MS, parseInterval, type Interval } from '../core/types.ts';
import { DataError } from './errors.ts';
import { barsKeyed, INDEX_BYTES_PER_ROW, isOutOfMemory, MemoryCap, WORK_MEMORY } from './import-memory.ts';
import { actionsFromFactors } from './actions.ts';
import { findFactorFile, readFactorFile, ymdToIso } from './factors.ts';
import { detectRoles, displayPath, isPlausibleSymbol, listSources, readCsvHeader, SYMBOL_RULE, type ColumnRoles, type SourceFile } from './sources.ts';
import { sqlIdent, sqlString, type Store } from './store.ts';
import { assertTimeZone, hourOffsets, tzOffsetMs } from '../core/timezone.ts';
import {
  barsSql,
  checkRows,
  DAY_MS,
  HOUR_KEYS_SQL,
  intervalOfMs,
  smallestGap,
  storedSql,
  COUNT_SQL,
  DATELIKE_SQL,
  DESCENDING_SQL,
  unknownIntervalError,
  type FileInfo,
} from './validate.ts';

export const DEFAULT_TZ = 'America/New_York';

export type ImportPhase = 'read' | 'check' | 'write';

export interface ImportOptions {
  /** bar length; inferred when absent (date-only times: 1d, else the smallest step within a day) */
  interval?: Interval | string;
  /** exchange time zone of times without an offset (default America/New_York) */
  tz?: string;
  /**
   * folder of LEAN factor files `<symbol>.csv` for the raw prices: the bars are stored raw, the factor rows and
   * the corporate actions derived from them beside them (price basis 'raw')
   */
  factorsDir?: string;
  /** the files' prices are already split- and dividend-adjusted (price basis 'adjusted'); not with factorsDir */
  adjustedFiles?: boolean;
  /**
   * Store the bars adjusted with the factor files, as imports did before bars were stored raw (price basis
   * 'adjusted'); for comparisons with that path (tests). Default: raw.
   */
  adjustOnImport?: boolean;
  /** constituents csv `Symbol,Name,Sector` for instruments.sector */
  sectors?: string;
  /**
   * Reject a bar whose close (as stored, after adjustment) is more than maxJump times, or less than
   * 1/maxJump of, the previous bar's close of the same symbol in the imported data. > 1; off when absent.
   */
  maxJump?: number;
  /**
   * Each file and symbol replaces the stored bars in the time range it covers: stored bars in that
   * range that it does not have are deleted. Default: upsert, nothing deleted.
   */
  replaceRange?: boolean;
  /** read: files read so far of all; check and write: rows (0 of n when starting, n of n when done) */
  onProgress?: (done: number, total: number, phase: ImportPhase) => void;
}

export interface ImportSummary {
  files: number;
  rows: number;
  /** sorted */
  symbols: string[];
  interval: Interval;
  /** rows whose (symbol, interval, ts) was not stored */
  inserted: number;
  /** rows that replaced a stored bar with different values */
  updated: number;
  /** rows equal to the stored bar, which is left as it was */
  unchanged: number;
  /** with replaceRange: stored bars deleted because a file covering their time no longer has them; else 0 */
  removed: number;
  /** symbols with a factor file (stored raw with their factors and actions, or adjusted with adjustOnImport) */
  adjusted: string[];
  /** corporate actions stored for those symbols (only with factorsDir) */
  actions?: number;
}

interface ReadGroup {
  format: SourceFile['format'];
  delim: string;
  names: string[];
  roles: ColumnRoles;
  fids: number[];
}

const BATCH_FILES = 64;

export async function importPaths(store: Store, paths: string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  const tz = opts.tz ?? DEFAULT_TZ;
  try {
    assertTimeZone(tz);
  } catch (e) {
    throw new DataError((e as Error).message, { rule: 'unknown-timezone' });
  }
  let given: Interval | undefined;
  if (opts.interval !== undefined) {
    try {
      given = parseInterval(opts.interval);
    } catch (e) {
      throw new DataError((e as Error).message, { rule: 'unknown-interval' });
    }
  }
  if (opts.factorsDir !== undefined && !isDir(opts.factorsDir)) {
    throw new DataError(`factor files: ${opts.factorsDir} is not a directory`, { rule: 'bad-factor-file', file: opts.factorsDir });
  }
  if (opts.adjustedFiles && opts.factorsDir !== undefined) {
    throw new DataError(`factor files and already-adjusted files: give one (--factors for raw files, --adjusted for adjusted ones)`, {
      rule: 'bad-option',
    });
  }
  if (opts.maxJump !== undefined && !(Number.isFinite(opts.maxJump) && opts.maxJump > 1)) {
    throw new DataError(`max jump: expected a ratio greater than 1 (e.g. 1.5 for +50%/-33%), got ${opts.maxJump}`, { rule: 'bad-option' });
  }
  if (opts.sectors !== undefined && !existsSync(opts.sectors)) {
    throw new DataError(`sectors file: ${opts.sectors}: no such file`, { rule: 'bad-sectors-file', file: opts.sectors });
  }

  const sources = listSources(paths);
  const conn = store.conn;
  const { files, groups } = await planReads(store, sources);

  // Row numbers come from the order rows land in the staging table: keep DuckDB's default.
  await conn.run('SET preserve_insertion_order = true');
  const memory = await MemoryCap.open(store, await barsKeyed(store));
  const state = { committing: false };
  try {
    try {
      return await importOnce(store, files, groups, given, tz, opts, memory, state);
    } catch (e) {
      // The cap was too tight after all (say, the estimate of an old database's index was low): once
      // more under DuckDB's own limit, as the import ran before it had caps. Never after a failed
      // COMMIT (the data was fine; that failure is reported as it is).
      if (state.committing || !memory.capped || !isOutOfMemory(e)) throw e;
      memory.disable();
      return await importOnce(store, files, groups, given, tz, opts, memory, state);
    }
  } finally {
    await memory.restore();
  }
}

async function importOnce(
  store: Store,
  files: FileInfo[],
  groups: ReadGroup[],
  given: Interval | undefined,
  tz: string,
  opts: ImportOptions,
  memory: MemoryCap,
  state: { committing: boolean },
): Promise<ImportSummary> {
  const conn = store.conn;
  await memory.set(WORK_MEMORY);
  await conn.run('BEGIN TRANSACTION');
  try {
    const summary = await runImport(store, files, groups, given, tz, opts, async (rows) => {
      if (!memory.keyed) return;
      const stored = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM bars`)).getRowObjectsJS()[0]!.n);
      await memory.set(WORK_MEMORY + (stored + rows) * INDEX_BYTES_PER_ROW);
    });
    await dropTemps(store);
    // With a key, committing merges the new rows' index entries into the table's index, briefly
    // holding both: under DuckDB's own limit, not the cap.
    if (memory.keyed) await memory.restore();
    state.committing = true;
    await conn.run('COMMIT');
    return summary;
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function planReads(store: Store, sources: SourceFile[]): Promise<{ files: FileInfo[]; groups: ReadGroup[] }> {
  const files: FileInfo[] = [];
  const byKey = new Map<string, ReadGroup>();
  for (const src of sources) {
    const { names, delim } = src.format === 'csv' ? readCsvHeader(src) : await parquetColumns(store, src);
    const roles = detectRoles(src, names);
    if (!roles.symbol && !isPlausibleSymbol(src.symbol)) {
      const from = src.symbolFrom ?? 'file';
      throw new DataError(
        `${src.display}: the symbol '${src.symbol}' taken from the ${from} name is not a plausible ticker (${SYMBOL_RULE}); rename the ${from} or add a symbol column`,
        { rule: 'bad-symbol', file: src.display, field: 'symbol' },
      );
    }
    const fid = files.length;
    files.push({ src, roles });
    const key = `${src.format}\u0000${delim}\u0000${names.join('\u0000')}`;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { format: src.format, delim, names, roles, fids: [] }));
    g.fids.push(fid);
  }
  return { files, groups: [...byKey.values()] };
}

async function parquetColumns(store: Store, src: SourceFile): Promise<{ names: string[]; delim: string }> {
  try {
    const r = await store.conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(src.path)})`);
    return { names: r.getRowObjectsJS().map((row) => String(row.column_name)), delim: '' };
  } catch (e) {
    throw new DataError(`${src.display}: cannot read as Parquet: ${firstLine(e)}`, { rule: 'unreadable-file', file: src.display });
  }
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0]!;
}

async function runImport(
  store: Store,
  files: FileInfo[],
  groups: ReadGroup[],
  given: Interval | undefined,
  tz: string,
  opts: ImportOptions,
  beforeWrite: (rows: number) => Promise<void>,
): Promise<ImportSummary> {
  const conn = store.conn;
  const progress = opts.onProgress ?? (() => undefined);

  // 1. Stage every file as text, in file order.
  await conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_files (fid INTEGER, display VARCHAR, path VARCHAR, fmt VARCHAR);
CREATE OR REPLACE TEMP TABLE _imp_raw (fid INTEGER, sym VARCHAR, t VARCHAR, o VARCHAR, h VARCHAR, l VARCHAR, c VARCHAR, v VARCHAR);
CREATE OR REPLACE TEMP TABLE _imp_tz (hk BIGINT, off BIGINT);
CREATE OR REPLACE TEMP TABLE _imp_tzu (hk BIGINT, off BIGINT);
CREATE OR REPLACE TEMP TABLE _imp_fac (sym VARCHAR, dms BIGINT, pf DOUBLE, sf DOUBLE, line INTEGER, ref DOUBLE);`);
  await insertValues(
    store,
    '_imp_files',
    files.map((f, fid) => [fid, f.src.display, f.src.path, f.src.format]),
  );
  let done = 0;
  progress(0, files.length, 'read');
  for (const g of groups) {
    for (let i = 0; i < g.fids.length; i += BATCH_FILES) {
      const batch = g.fids.slice(i, i + BATCH_FILES);
      await readBatch(store, files, g, batch);
      done += batch.length;
      progress(done, files.length, 'read');
    }
  }

  // 2. Symbols and factors: the checks look at the values as they will be stored.
  const stats = (await conn.runAndReadAll(COUNT_SQL)).getRowObjectsJS()[0]!;
  const rows = Number(stats.n);
  if (rows === 0) {
    const what = files.length === 1 ? files[0]!.src.display : `${files.length} files`;
    throw new DataError(`no bars in ${what} (headers only)`, { rule: 'no-files', file: files[0]!.src.display });
  }
  progress(0, rows, 'check');
  const symbols = (await conn.runAndReadAll(`SELECT DISTINCT sym FROM _imp_raw WHERE sym <> '' ORDER BY sym`)).getRowObjectsJS().map((r) => String(r.sym));
  const badSymbols = symbols.filter((sym) => !isPlausibleSymbol(sym));
  const factors = opts.factorsDir
    ? await loadFactors(store, opts.factorsDir, symbols.filter(isPlausibleSymbol))
    : { adjusted: [], files: new Map<string, string>() };
  const adj = factors.adjusted.length > 0;

  // 3. Type, decide daily or intraday, place in time, check.
  let daily = given === '1d';
  if (!given) {
    const t = (await conn.runAndReadAll(DATELIKE_SQL)).getRowObjectsJS()[0]!;
    daily = Number(t.datelike) === Number(t.valid);
  }
  if (!daily) await fillOffsets(store, tz);
  await conn.run(barsSql(daily, adj));
  await conn.run(DESCENDING_SQL);
  const anyDescending = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM _imp_desc`)).getRowObjectsJS()[0]!.n) > 0;

  let interval: Interval;
  let intervalMs: number;
  let unknown: DataError | undefined;
  if (given) {
    interval = given;
    intervalMs = INTERVAL_MS[given];
  } else if (daily) {
    interval = '1d';
    intervalMs = DAY_MS;
  } else {
    const g = await smallestGap(conn);
    if (!g) {
      const f = files[0]!;
      throw new DataError(`${f.src.display}: cannot infer the interval (no two bars of a symbol on the same day); pass --interval`, {
        rule: 'unknown-interval',
        file: f.src.display,
        field: f.roles.time,
      });
    }
    intervalMs = g.gap;
    const known = intervalOfMs(g.gap);
    if (!known) unknown = unknownIntervalError(files, g);
    interval = known ?? '1m';
  }
  const crossFile = Number(stats.nfilesym) > Number(stats.nsym);
  await checkRows({
    conn,
    files,
    interval,
    intervalMs,
    tz,
    crossFile,
    anyDescending,
    adjusted: adj,
    factorFiles: factors.files,
    badSymbols,
    maxJump: opts.maxJump,
  });
  if (unknown) throw unknown;
  progress(rows, rows, 'check');

  // 4. Write: upsert, or replace the files' time ranges.
  progress(0, rows, 'write');
  await beforeWrite(rows);
  const removed = opts.replaceRange ? await deleteStale(store, interval) : 0;
  const counts = await writeBars(store, interval, adj && opts.adjustOnImport === true, rows);
  await upsertInstruments(store, tz, opts.sectors);
  const actions = await writeActions(store, interval, factors.adjusted, factors.files, opts);
  progress(rows, rows, 'write');
  return {
    files: files.length,
    rows,
    symbols,
    interval,
    ...counts,
    removed,
    adjusted: factors.adjusted,
    ...(opts.factorsDir !== undefined ? { actions } : {}),
  };
}

/**
 * Upsert by (symbol, interval, ts): rows not stored are inserted, rows that differ from the stored
 * bar replace it, equal rows are left alone. bars has no key to conflict on (see SCHEMA in store.ts;
 * databases created with one keep it), so a replaced bar is deleted and inserted again, in the
 * import's transaction: the table never holds a key twice. Inserted sorted, so that row groups hold
 * few symbols each and loads skip the others by their min/max.
 */
async function writeBars(store: Store, interval: Interval, adj: boolean, rows: number): Promise<{ inserted: number; updated: number; unchanged: number }> {
  const conn = store.conn;
  const v = storedSql(adj);
  const iv = sqlString(interval);
  // The stored bars the files have, and whether the file's values differ.
  await conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_m AS
SELECT b.sym, b.ts, (s.open <> ${v.o} OR s.high <> ${v.h} OR s.low <> ${v.l} OR s.close <> ${v.c} OR s.volume <> ${v.v}) AS changed
FROM _imp_b b JOIN bars s ON s.symbol = b.sym AND s.ts = b.ts
WHERE s."interval" = ${iv} AND s.symbol IN (SELECT DISTINCT sym FROM _imp_b)`);
  const m = (await conn.runAndReadAll(`SELECT count(*) AS matched, count(*) FILTER (WHERE changed) AS changed FROM _imp_m`)).getRowObjectsJS()[0]!;
  const matched = Number(m.matched);
  const updated = Number(m.changed);
  if (updated > 0) {
    await conn.run(`
DELETE FROM bars USING (SELECT sym, ts FROM _imp_m WHERE changed) m
WHERE bars."interval" = ${iv} AND bars.symbol = m.sym AND bars.ts = m.ts`);
  }
  if (matched - updated < rows) {
    // every row but the unchanged ones (none: all of them)
    const keep = matched > updated ? `ANTI JOIN (SELECT sym, ts FROM _imp_m WHERE NOT changed) u ON u.sym = b.sym AND u.ts = b.ts` : '';
    await conn.run(`
INSERT INTO bars (symbol, "interval", ts, open, high, low, close, volume)
SELECT b.sym, ${iv}, b.ts, ${v.o}, ${v.h}, ${v.l}, ${v.c}, ${v.v}
FROM _imp_b b ${keep}
ORDER BY b.sym, b.ts`);
  }
  return { inserted: rows - matched, updated, unchanged: matched - updated };
}

async function readBatch(store: Store, files: FileInfo[], g: ReadGroup, fids: number[]): Promise<void> {
  const paths = `[${fids.map((fid) => sqlString(files[fid]!.src.path)).join(', ')}]`;
  const fidList = `[${fids.join(', ')}]`;
  const symList = `[${fids.map((fid) => sqlString(files[fid]!.src.symbol)).join(', ')}]`;
  const txt = g.format === 'parquet' ? (c: string) => `CAST(${sqlIdent(c)} AS VARCHAR)` : sqlIdent;
  const r = g.roles;
  const t = r.timeOfDay ? `${txt(r.time)} || ' ' || ${txt(r.timeOfDay)}` : txt(r.time);
  const from =
    g.format === 'parquet'
      ? `read_parquet(${paths})`
      : `read_csv(${paths}, header = true, auto_detect = false, delim = ${sqlString(g.delim)}, quote = '"', escape = '"',
          columns = {${g.names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}})`;
  const sql = `
INSERT INTO _imp_raw
SELECT ${fidList}[(file_index + 1)::BIGINT],
  ${r.symbol ? `coalesce(upper(trim(${txt(r.symbol)})), '')` : `${symList}[(file_index + 1)::BIGINT]`}, ${t},
  ${txt(r.open)}, ${txt(r.high)}, ${txt(r.low)}, ${txt(r.close)}, ${r.volume ? txt(r.volume) : `'0'`}
FROM ${from}`;
  try {
    await store.conn.run(sql);
  } catch (e) {
    // Errors about the input become DataErrors; anything else is a bug here and stays as it is.
    if (!/CSV Error|IO Error|Invalid Input Error|Conversion Error|parquet/i.test(String((e as Error).message))) throw e;
    throw readError(e, files, fids, g.format);
  }
}

function readError(e: unknown, files: FileInfo[], fids: number[], format: string): DataError {
  const msg = String((e as Error).message ?? e);
  const named = /file = (.*)/.exec(msg)?.[1]?.trim() ?? /"([^"]+\.(?:csv|gz|parquet))"/i.exec(msg)?.[1];
  const file = fids.map((fid) => files[fid]!.src).find((s) => s.path === named) ?? (fids.length === 1 ? files[fids[0]!]!.src : undefined);
  const shown = file?.display ?? named ?? 'input';
  // DuckDB's CSV errors carry a page of reader settings: keep the lines about the data.
  const detail = msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Possible fixes|^\*|=/.test(l))
    .join('; ');
  return new DataError(`${shown}: cannot read as ${format === 'parquet' ? 'Parquet' : 'CSV'}: ${detail}`, {
    rule: 'unreadable-file',
    file: shown,
  });
}

/** UTC offsets per local hour (times without an offset) and per UTC hour (with one). */
async function fillOffsets(store: Store, tz: string): Promise<void> {
  const HOUR = 3_600_000;
  const local: (number | null)[][] = [];
  const utc: number[][] = [];
  for (const r of (await store.conn.runAndReadAll(HOUR_KEYS_SQL)).getRowObjectsJS()) {
    const hk = Number(r.hk);
    if (r.kind === 'z') {
      utc.push([hk, tzOffsetMs(tz, hk * HOUR)]);
    } else {
      const day = Math.floor((hk * HOUR) / DAY_MS) * DAY_MS;
      const off = hourOffsets(tz, day)[(hk * HOUR - day) / HOUR]!;
      local.push([hk, Number.isNaN(off) ? null : off]);
    }
  }
  await insertValues(store, '_imp_tz', local);
  await insertValues(store, '_imp_tzu', utc);
}

async function loadFactors(store: Store, dir: string, symbols: string[]): Promise<{ adjusted: string[]; files: Map<string, string> }> {
  const adjusted: string[] = [];
  const files = new Map<string, string>();
  const rows: (string | number | null)[][] = [];
  for (const sym of symbols) {
    const file = findFactorFile(dir, sym);
    if (!file) continue;
    adjusted.push(sym);
    files.set(sym, displayPath(path.resolve(file)));
    for (const f of readFactorFile(file)) {
      rows.push([
        sym,
        Date.parse(`${ymdToIso(f.date)}T00:00:00Z`),
        f.priceFactor,
        f.splitFactor,
        f.line,
        Number.isNaN(f.referencePrice) ? null : f.referencePrice,
      ]);
    }
  }
  await insertValues(store, '_imp_fac', rows);
  return { adjusted, files };
}

/**
 * The price basis of every imported symbol, and with factor files (stored raw) their factor rows and
 * corporate actions, each symbol's replaced whole. An action's ex-date is the first day after its factor row
 * with a bar of the symbol (in this import, else stored, else the next weekday). Returns the actions written.
 */
async function writeActions(store: Store, interval: Interval, withFactors: string[], files: Map<string, string>, opts: ImportOptions): Promise<number> {
  const conn = store.conn;
  const iv = sqlString(interval);
  const raw = opts.factorsDir !== undefined && opts.adjustOnImport !== true;
  // symbols with a factor file are raw; the others of a --factors import have no actions: raw as well
  const basis = raw ? `'raw'` : opts.adjustedFiles || (opts.adjustOnImport && opts.factorsDir !== undefined) ? `'adjusted'` : `'unknown'`;
  await conn.run(`
INSERT INTO price_basis (symbol, "interval", basis)
SELECT DISTINCT sym, ${iv}, ${basis} FROM _imp_b
ON CONFLICT (symbol, "interval") DO UPDATE SET basis = excluded.basis`);
  if (!raw || withFactors.length === 0) return 0;
  const list = `(${withFactors.map(sqlString).join(', ')})`;
  await conn.run(`
DELETE FROM price_factors WHERE symbol IN ${list};
DELETE FROM corporate_actions WHERE symbol IN ${list};`);
  const file = (sym: string) => files.get(sym) ?? '';
  const rows = (
    await conn.runAndReadAll(`
SELECT f.sym, f.dms::DOUBLE AS dms, f.pf, f.sf, f.ref,
  (SELECT min(d) FROM (SELECT min(b.ldms) AS d FROM _imp_b b WHERE b.sym = f.sym AND b.ldms > f.dms
    UNION ALL SELECT min(x.ts) FROM bars x WHERE x.symbol = f.sym AND x."interval" = '1d' AND x.ts > f.dms))::DOUBLE AS ex,
  coalesce((SELECT arg_max(b.pc, b.ts) FROM _imp_b b WHERE b.sym = f.sym AND b.ldms <= f.dms),
    (SELECT arg_max(x.close, x.ts) FROM bars x WHERE x.symbol = f.sym AND x."interval" = '1d' AND x.ts <= f.dms)) AS close_on
FROM _imp_fac f ORDER BY f.sym, f.dms`)
  ).getRowObjectsJS();
  const bySym = new Map<string, { date: number; priceFactor: number; splitFactor: number; referencePrice: number; ex: number; close: number }[]>();
  for (const r of rows) {
    const sym = String(r.sym);
    const dms = Number(r.dms);
    const d = new Date(dms);
    const date = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
    const list = bySym.get(sym) ?? [];
    bySym.set(sym, list);
    list.push({
      date,
      priceFactor: Number(r.pf),
      splitFactor: Number(r.sf),
      referencePrice: r.ref === null ? NaN : Number(r.ref),
      ex: r.ex === null ? nextWeekday(dms) : Number(r.ex),
      close: r.close_on === null ? NaN : Number(r.close_on),
    });
  }
  const factorRows: (string | number | null)[][] = [];
  const actionRows: (string | number | null)[][] = [];
  for (const [sym, list] of bySym) {
    for (const f of list)
      factorRows.push([sym, ymdToIso(f.date), f.priceFactor, f.splitFactor, Number.isNaN(f.referencePrice) ? null : f.referencePrice, file(sym)]);
    const byDate = new Map(list.map((f) => [f.date, f]));
    const acts = actionsFromFactors(
      sym,
      list,
      (ymd) => new Date(byDate.get(ymd)!.ex).toISOString().slice(0, 10),
      (ymd) => byDate.get(ymd)!.close,
    );
    for (const a of acts) actionRows.push([sym, a.exDate, a.factorDate, a.kind, a.value, Number.isNaN(a.referencePrice) ? null : a.referencePrice]);
  }
  await insertValues(store, 'price_factors', factorRows);
  await insertValues(store, 'corporate_actions', actionRows);
  return actionRows.length;
}

/** The weekday after the day starting at dms (UTC midnight). */
function nextWeekday(dms: number): number {
  let t = dms + DAY_MS;
  while (new Date(t).getUTCDay() === 0 || new Date(t).getUTCDay() === 6) t += DAY_MS;
  return t;
}

/**
 * replaceRange: deletes the stored bars in the time range of an imported file and symbol that the new
 * data does not have; returns how many.
 */
async function deleteStale(store: Store, interval: Interval): Promise<number> {
  await store.conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_stale AS
WITH rng AS (SELECT fid, sym, min(ts) AS lo, max(ts) AS hi FROM _imp_b GROUP BY fid, sym),
stored AS (
  SELECT DISTINCT bars.symbol, bars.ts
  FROM bars JOIN rng ON bars.symbol = rng.sym AND bars.ts BETWEEN rng.lo AND rng.hi
  WHERE bars."interval" = ${sqlString(interval)})
SELECT s.symbol, s.ts FROM stored s ANTI JOIN _imp_b b ON b.sym = s.symbol AND b.ts = s.ts;`);
  const stale = Number((await store.conn.runAndReadAll(`SELECT count(*) AS n FROM _imp_stale`)).getRowObjectsJS()[0]!.n);
  if (stale > 0) {
    await store.conn.run(`
DELETE FROM bars USING _imp_stale s
WHERE bars."interval" = ${sqlString(interval)} AND bars.symbol = s.symbol AND bars.ts = s.ts`);
  }
  return stale;
}

async function upsertInstruments(store: Store, tz: string, sectorsPath: string | undefined): Promise<void> {
  let sectorJoin = '';
  if (sectorsPath) {
    try {
      await store.conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_sec AS
SELECT upper(trim("Symbol")) AS sym, any_value(nullif(trim("Sector"), '')) AS sector
FROM read_csv(${sqlString(sectorsPath)}, header = true, all_varchar = true)
GROUP BY 1`);
    } catch (e) {
      throw new DataError(`sectors file ${sectorsPath}: expected a csv with columns Symbol and Sector (${firstLine(e)})`, {
        rule: 'bad-sectors-file',
        file: sectorsPath,
      });
    }
    sectorJoin = 'LEFT JOIN _imp_sec sec ON sec.sym = s.sym';
  }
  await store.conn.run(`
INSERT INTO instruments (symbol, sec_type, exchange, currency, sector, tick_size, tz)
SELECT s.sym, 'STK', 'SMART', 'USD', ${sectorsPath ? 'sec.sector' : 'NULL'}, NULL, ${sqlString(tz)}
FROM (SELECT DISTINCT sym FROM _imp_b) s ${sectorJoin}
ON CONFLICT (symbol) DO ${sectorsPath ? 'UPDATE SET sector = coalesce(excluded.sector, instruments.sector)' : 'NOTHING'}`);
}

async function insertValues(store: Store, table: string, rows: (string | number | boolean | null)[][]): Promise<void> {
  // Fractions go through a string cast: a bare literal would be a DECIMAL, rounded differently.
  const lit = (v: string | number | boolean | null) =>
    v === null ? 'NULL' : typeof v === 'string' ? sqlString(v) : typeof v === 'number' && !Number.isInteger(v) ? `'${v}'::DOUBLE` : String(v);
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows
      .slice(i, i + 1000)
      .map((r) => `(${r.map(lit).join(', ')})`)
      .join(',\n');
    await store.conn.run(`INSERT INTO ${table} VALUES ${values}`);
  }
}

async function dropTemps(store: Store): Promise<void> {
  const names = ['_imp_files', '_imp_raw', '_imp_b', '_imp_desc', '_imp_tz', '_imp_tzu', '_imp_fac', '_imp_stale', '_imp_sec', '_imp_m'];
  await store.conn.run(names.map((n) => `DROP TABLE IF EXISTS temp.${n};`).join('\n'));
}
