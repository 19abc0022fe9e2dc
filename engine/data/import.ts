// Importing bar files (CSV, Parquet) into the store: read with DuckDB's readers as text, validate
// in SQL over all files at once, adjust with LEAN factor files, write in one transaction.
//
// Re-import semantics: for each file and symbol, the file is the truth for the time range it
// covers. Bars already stored in that range with the same (symbol, interval, ts) are replaced
// (INSERT OR REPLACE); stored bars in the range that the file no longer has are deleted (counted
// in `removed`); bars outside the range are kept. So a day's minute file replaces that day only,
// and a corrected vendor file drops the bogus bar it no longer contains.
import { existsSync, statSync } from 'node:fs';
import { INTERVAL_MS, parseInterval, type Interval } from '../core/types.ts';
import { DataError } from './errors.ts';
import { findFactorFile, readFactorFile, ymdToIso } from './factors.ts';
import { detectRoles, listSources, readCsvHeader, type ColumnRoles, type SourceFile } from './sources.ts';
import { sqlIdent, sqlString, type Store } from './store.ts';
import { assertTimeZone, hourOffsets, tzOffsetMs } from './timezone.ts';
import {
  barsSql,
  checkRows,
  DAY_MS,
  HOUR_KEYS_SQL,
  intervalOfMs,
  smallestGap,
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
  /** folder of LEAN factor files `<symbol>.csv` applied to the raw prices */
  factorsDir?: string;
  /** constituents csv `Symbol,Name,Sector` for instruments.sector */
  sectors?: string;
  /** read: files read so far of all; check and write: rows (0 of n when starting, n of n when done) */
  onProgress?: (done: number, total: number, phase: ImportPhase) => void;
}

export interface ImportSummary {
  files: number;
  rows: number;
  /** sorted */
  symbols: string[];
  interval: Interval;
  /** stored bars deleted because a re-imported file covering their time no longer has them */
  removed: number;
  /** symbols whose prices were adjusted with a factor file */
  adjusted: string[];
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
  if (opts.sectors !== undefined && !existsSync(opts.sectors)) {
    throw new DataError(`sectors file: ${opts.sectors}: no such file`, { rule: 'bad-sectors-file', file: opts.sectors });
  }

  const sources = listSources(paths);
  const conn = store.conn;
  const { files, groups } = await planReads(store, sources);

  // Row numbers come from the order rows land in the staging table: keep DuckDB's default.
  await conn.run('SET preserve_insertion_order = true');
  await conn.run('BEGIN TRANSACTION');
  try {
    const summary = await runImport(store, files, groups, given, tz, opts);
    await dropTemps(store);
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
): Promise<ImportSummary> {
  const conn = store.conn;
  const progress = opts.onProgress ?? (() => undefined);

  // 1. Stage every file as text, in file order.
  await conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_files (fid INTEGER, display VARCHAR, path VARCHAR, fmt VARCHAR);
CREATE OR REPLACE TEMP TABLE _imp_raw (fid INTEGER, sym VARCHAR, t VARCHAR, o VARCHAR, h VARCHAR, l VARCHAR, c VARCHAR, v VARCHAR);
CREATE OR REPLACE TEMP TABLE _imp_tz (hk BIGINT, off BIGINT);
CREATE OR REPLACE TEMP TABLE _imp_tzu (hk BIGINT, off BIGINT);
CREATE OR REPLACE TEMP TABLE _imp_fac (sym VARCHAR, dms BIGINT, pf DOUBLE, sf DOUBLE);`);
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

  // 2. Type, decide daily or intraday, place in time, check.
  const stats = (await conn.runAndReadAll(COUNT_SQL)).getRowObjectsJS()[0]!;
  const rows = Number(stats.n);
  if (rows === 0) {
    const what = files.length === 1 ? files[0]!.src.display : `${files.length} files`;
    throw new DataError(`no bars in ${what} (headers only)`, { rule: 'no-files', file: files[0]!.src.display });
  }
  progress(0, rows, 'check');
  let daily = given === '1d';
  if (!given) {
    const t = (await conn.runAndReadAll(DATELIKE_SQL)).getRowObjectsJS()[0]!;
    daily = Number(t.datelike) === Number(t.valid);
  }
  if (!daily) await fillOffsets(store, tz);
  await conn.run(barsSql(daily));
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
  await checkRows({ conn, files, interval, intervalMs, tz, crossFile, anyDescending });
  if (unknown) throw unknown;
  progress(rows, rows, 'check');

  // 3. Adjust and write.
  progress(0, rows, 'write');
  const symbols = (await conn.runAndReadAll(`SELECT DISTINCT sym FROM _imp_b ORDER BY sym`))
    .getRowObjectsJS()
    .map((r) => String(r.sym));
  const adjusted = opts.factorsDir ? await loadFactors(store, opts.factorsDir, symbols) : [];
  const { stale, overlap } = await compareStored(store, interval);
  if (stale > 0) {
    await conn.run(`
DELETE FROM bars USING _imp_stale s
WHERE bars."interval" = ${sqlString(interval)} AND bars.symbol = s.symbol AND bars.ts = s.ts`);
  }
  const adj = adjusted.length > 0;
  const price = (col: string) => (adj ? `b.${col} * coalesce(f.pf, 1) * coalesce(f.sf, 1)` : `b.${col}`);
  // Plain INSERT when no stored bar shares a key: markedly faster than OR REPLACE on millions of rows.
  // Sorted, so that row groups hold few symbols each and loads scan less.
  await conn.run(`
INSERT ${overlap > 0 ? 'OR REPLACE ' : ''}INTO bars (symbol, "interval", ts, open, high, low, close, volume)
SELECT b.sym, ${sqlString(interval)}, b.ts, ${price('po')}, ${price('ph')}, ${price('pl')}, ${price('pc')},
  ${adj ? 'b.pv / coalesce(f.sf, 1)' : 'b.pv'}
FROM _imp_b b ${adj ? 'ASOF LEFT JOIN _imp_fac f ON f.sym = b.sym AND f.dms >= b.ldms' : ''}
ORDER BY b.sym, b.ts`);
  await upsertInstruments(store, tz, opts.sectors);
  progress(rows, rows, 'write');
  return { files: files.length, rows, symbols, interval, removed: stale, adjusted };
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

async function loadFactors(store: Store, dir: string, symbols: string[]): Promise<string[]> {
  const adjusted: string[] = [];
  const rows: (string | number)[][] = [];
  for (const sym of symbols) {
    const file = findFactorFile(dir, sym);
    if (!file) continue;
    adjusted.push(sym);
    for (const f of readFactorFile(file)) {
      rows.push([sym, Date.parse(`${ymdToIso(f.date)}T00:00:00Z`), f.priceFactor, f.splitFactor]);
    }
  }
  await insertValues(store, '_imp_fac', rows);
  return adjusted;
}

/**
 * Stored bars in the time range of an imported file and symbol: `overlap` of them are in the new
 * data (replaced), `stale` are not (listed in _imp_stale, to delete).
 */
async function compareStored(store: Store, interval: Interval): Promise<{ stale: number; overlap: number }> {
  await store.conn.run(`
CREATE OR REPLACE TEMP TABLE _imp_stored AS
WITH rng AS (SELECT fid, sym, min(ts) AS lo, max(ts) AS hi FROM _imp_b GROUP BY fid, sym)
SELECT DISTINCT bars.symbol, bars.ts
FROM bars JOIN rng ON bars.symbol = rng.sym AND bars.ts BETWEEN rng.lo AND rng.hi
WHERE bars."interval" = ${sqlString(interval)};
CREATE OR REPLACE TEMP TABLE _imp_stale AS
SELECT s.symbol, s.ts FROM _imp_stored s ANTI JOIN _imp_b b ON b.sym = s.symbol AND b.ts = s.ts;`);
  const r = (
    await store.conn.runAndReadAll(
      `SELECT (SELECT count(*) FROM _imp_stored) AS stored, (SELECT count(*) FROM _imp_stale) AS stale`,
    )
  ).getRowObjectsJS()[0]!;
  return { stale: Number(r.stale), overlap: Number(r.stored) - Number(r.stale) };
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
    v === null
      ? 'NULL'
      : typeof v === 'string'
        ? sqlString(v)
        : typeof v === 'number' && !Number.isInteger(v)
          ? `'${v}'::DOUBLE`
          : String(v);
  for (let i = 0; i < rows.length; i += 1000) {
    const values = rows
      .slice(i, i + 1000)
      .map((r) => `(${r.map(lit).join(', ')})`)
      .join(',\n');
    await store.conn.run(`INSERT INTO ${table} VALUES ${values}`);
  }
}

async function dropTemps(store: Store): Promise<void> {
  const names = ['_imp_files', '_imp_raw', '_imp_b', '_imp_desc', '_imp_tz', '_imp_tzu', '_imp_fac', '_imp_stored', '_imp_stale', '_imp_sec'];
  await store.conn.run(names.map((n) => `DROP TABLE IF EXISTS temp.${n};`).join('\n'));
}
