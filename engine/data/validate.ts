// Validation of staged rows, in SQL over all files at once, and the message for the first problem.
//
// Tables (temp, per import): _imp_files(fid, display, path, fmt, sym, has_sym), _imp_raw (all text,
// in file order: its rowid gives the row number), _imp_t (typed), _imp_b (with ts and the previous
// row of the same file and symbol), _imp_dir (whether a file runs descending).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { INTERVAL_MS, type Interval } from '../core/types.ts';
import { DataError, type DataRule } from './errors.ts';
import type { ColumnRoles, SourceFile } from './sources.ts';

export const DAY_MS = 86_400_000;

/**
 * Time text -> kind ('d' date only, 'l' local wall-clock time, 'z' absolute instant) and lms
 * (for 'd'/'l' the wall-clock time written as if UTC, for 'z' the UTC epoch ms). Accepted:
 * 2013-10-07, 20131007, 2013-10-07 09:30[:00[.123]], 2013-10-07T09:30:00, 20131007 09:30:00 (IB),
 * with Z or a +hh:mm offset (absolute), or epoch seconds (10 digits) / milliseconds (13 digits).
 */
const KIND = `CASE
    WHEN tt IS NULL OR tt = '' THEN NULL
    WHEN length(tt) IN (10, 13) AND TRY_CAST(tt AS BIGINT) IS NOT NULL THEN 'z'
    WHEN length(tt) <= 10 THEN 'd'
    WHEN suffix(tt, 'Z') OR contains(substr(tt, 11), '+') OR contains(substr(tt, 11), '-') THEN 'z'
    ELSE 'l' END`;
const LMS = `CASE
    WHEN tt IS NULL OR tt = '' THEN NULL
    WHEN length(tt) = 10 AND TRY_CAST(tt AS BIGINT) IS NOT NULL THEN TRY_CAST(tt AS BIGINT) * 1000
    WHEN length(tt) = 13 AND TRY_CAST(tt AS BIGINT) IS NOT NULL THEN TRY_CAST(tt AS BIGINT)
    WHEN length(tt) = 8 THEN epoch_ms(TRY_STRPTIME(tt, '%Y%m%d'))
    WHEN length(tt) <= 10 THEN epoch_ms(TRY_CAST(tt AS DATE))
    WHEN suffix(tt, 'Z') OR contains(substr(tt, 11), '+') OR contains(substr(tt, 11), '-')
      THEN epoch_ms(TRY_CAST(tt AS TIMESTAMPTZ))
    WHEN substr(tt, 9, 1) = ' '
      THEN epoch_ms(TRY_STRPTIME(regexp_replace(tt, ' +', ' '), ['%Y%m%d %H:%M:%S', '%Y%m%d %H:%M']))
    ELSE epoch_ms(TRY_CAST(tt AS TIMESTAMP)) END`;

/** Typed rows: numbers parsed (NULL where not a number), time parsed, row numbers from file order. */
export const TYPED_SQL = `
CREATE OR REPLACE TEMP TABLE _imp_t AS
WITH r AS (SELECT rowid AS rid, * FROM _imp_raw),
m AS (SELECT fid, min(rid) AS r0 FROM r GROUP BY fid),
x AS (
  SELECT r.fid, r.rid - m.r0 + 1 AS rn,
    CASE WHEN f.has_sym THEN upper(trim(r.sym)) ELSE f.sym END AS sym,
    r.t, r.o, r.h, r.l, r.c, r.v, trim(r.t) AS tt
  FROM r JOIN m USING (fid) JOIN _imp_files f USING (fid))
SELECT fid, rn, sym, t, o, h, l, c, v,
  TRY_CAST(o AS DOUBLE) AS po, TRY_CAST(h AS DOUBLE) AS ph, TRY_CAST(l AS DOUBLE) AS pl,
  TRY_CAST(c AS DOUBLE) AS pc, TRY_CAST(v AS DOUBLE) AS pv,
  ${KIND} AS kind, ${LMS} AS lms
FROM x`;

/**
 * Bars with their UTC start (ts), local trading day (ldms) and the previous row of the same file
 * and symbol (pts, pld, prn). Intraday local times go through _imp_tz (offset per local hour,
 * NULL for an hour skipped by daylight saving); absolute ones through _imp_tzu (per UTC hour).
 */
export function barsSql(daily: boolean): string {
  const ts = daily
    ? `floor(t.lms / ${DAY_MS})::BIGINT * ${DAY_MS}`
    : `CASE t.kind WHEN 'l' THEN t.lms - z.off ELSE t.lms END`;
  const ldms = daily
    ? ts
    : `CASE t.kind WHEN 'l' THEN floor(t.lms / ${DAY_MS})::BIGINT * ${DAY_MS}
        WHEN 'z' THEN floor((t.lms + u.off) / ${DAY_MS})::BIGINT * ${DAY_MS} ELSE t.lms END`;
  return `
CREATE OR REPLACE TEMP TABLE _imp_b AS
WITH a AS (
  SELECT t.*, z.off AS off, ${ts} AS ts, ${ldms} AS ldms
  FROM _imp_t t
  LEFT JOIN _imp_tz z ON t.kind = 'l' AND z.hk = floor(t.lms / 3600000)::BIGINT
  LEFT JOIN _imp_tzu u ON t.kind = 'z' AND u.hk = floor(t.lms / 3600000)::BIGINT)
SELECT *, lag(ts) OVER w AS pts, lag(ldms) OVER w AS pld, lag(rn) OVER w AS prn
FROM a
WINDOW w AS (PARTITION BY fid, sym ORDER BY rn)`;
}

/** A file (per symbol) counts as descending when more of its steps go down than up. */
export const DIRECTION_SQL = `
CREATE OR REPLACE TEMP TABLE _imp_dir AS
SELECT fid, sym, count(*) FILTER (WHERE ts < pts) > count(*) FILTER (WHERE ts > pts) AS descending
FROM _imp_b GROUP BY fid, sym`;

const PRICES = [
  ['open', 'o', 'po'],
  ['high', 'h', 'ph'],
  ['low', 'l', 'pl'],
  ['close', 'c', 'pc'],
] as const;

/** One code per row: the first rule it breaks, as 'rule:field' (field is a role name). */
function violationCase(daily: boolean, intervalMs: number, crossFile: boolean): string {
  const w: string[] = [];
  w.push(`WHEN f.has_sym AND (b.sym IS NULL OR b.sym = '') THEN 'missing-symbol:symbol'`);
  w.push(`WHEN b.t IS NULL OR trim(b.t) = '' THEN 'missing-value:time'`);
  w.push(`WHEN b.lms IS NULL THEN 'bad-time:time'`);
  if (!daily) w.push(`WHEN b.kind = 'l' AND b.off IS NULL THEN 'nonexistent-time:time'`);
  for (const [role, raw, num] of PRICES) {
    w.push(`WHEN b.${raw} IS NULL OR trim(b.${raw}) = '' THEN 'missing-value:${role}'`);
    w.push(`WHEN b.${num} IS NULL OR NOT isfinite(b.${num}) THEN 'not-a-number:${role}'`);
  }
  for (const [role, , num] of PRICES) w.push(`WHEN b.${num} <= 0 THEN 'non-positive-price:${role}'`);
  w.push(`WHEN b.v IS NULL OR trim(b.v) = '' THEN 'missing-value:volume'`);
  w.push(`WHEN b.pv IS NULL OR NOT isfinite(b.pv) THEN 'not-a-number:volume'`);
  w.push(`WHEN b.pv < 0 THEN 'negative-volume:volume'`);
  w.push(`WHEN b.ph < greatest(b.po, b.pc) THEN 'high-below-max:high'`);
  w.push(`WHEN b.pl > least(b.po, b.pc) THEN 'low-above-min:low'`);
  if (daily) w.push(`WHEN b.kind <> 'd' AND b.lms % ${DAY_MS} <> 0 THEN 'time-of-day:time'`);
  else w.push(`WHEN b.kind = 'd' THEN 'date-only:time'`);
  w.push(`WHEN b.ts = b.pts THEN 'duplicate-timestamp:time'`);
  w.push(`WHEN (d.descending AND b.ts > b.pts) OR (NOT d.descending AND b.ts < b.pts) THEN 'out-of-order:time'`);
  if (!daily) w.push(`WHEN b.ldms = b.pld AND abs(b.ts - b.pts) < ${intervalMs} THEN 'gap:time'`);
  if (crossFile) w.push(`WHEN b.ts IS NOT NULL AND b.first_fid <> b.fid THEN 'cross-duplicate:time'`);
  return `CASE\n  ${w.join('\n  ')}\nEND`;
}

export interface FileInfo {
  src: SourceFile;
  roles: ColumnRoles;
}

export interface CheckContext {
  conn: DuckDBConnection;
  files: FileInfo[];
  interval: Interval;
  /** the interval's length, or for an inferred interval the smallest gap found */
  intervalMs: number;
  tz: string;
  crossFile: boolean;
}

/** Throws a DataError for the first bad row (in input file order, then row order), if any. */
export async function checkRows(ctx: CheckContext): Promise<void> {
  const daily = ctx.interval === '1d';
  const base = ctx.crossFile
    ? `(SELECT *, min(fid) OVER (PARTITION BY sym, ts) AS first_fid FROM _imp_b)`
    : `_imp_b`;
  const sql = `
SELECT fid, rn, code, count(*) OVER () AS n FROM (
  SELECT b.fid, b.rn, ${violationCase(daily, ctx.intervalMs, ctx.crossFile)} AS code
  FROM ${base} b JOIN _imp_files f USING (fid) LEFT JOIN _imp_dir d ON d.fid = b.fid AND d.sym = b.sym)
WHERE code IS NOT NULL
ORDER BY fid, rn
LIMIT 1`;
  const rows = (await ctx.conn.runAndReadAll(sql)).getRowObjectsJS();
  const first = rows[0];
  if (!first) return;
  const [rule, role] = String(first.code).split(':') as [string, string];
  throw await describe(ctx, Number(first.fid), Number(first.rn), rule, role, Number(first.n));
}

type Row = Record<string, unknown>;

async function rowAt(ctx: CheckContext, fid: number, rn: number): Promise<Row> {
  const r = await ctx.conn.runAndReadAll(`SELECT * FROM _imp_b WHERE fid = ${fid} AND rn = ${rn}`);
  return r.getRowObjectsJS()[0] ?? {};
}

async function describe(ctx: CheckContext, fid: number, rn: number, rule: string, role: string, n: number): Promise<DataError> {
  const file = ctx.files[fid]!;
  const row = await rowAt(ctx, fid, rn);
  const roles = file.roles as unknown as Record<string, string | undefined>;
  const field =
    role === 'time' && file.roles.timeOfDay ? `${file.roles.time}+${file.roles.timeOfDay}` : (roles[role] ?? role);
  const rawOf: Record<string, string> = { time: 't', open: 'o', high: 'h', low: 'l', close: 'c', volume: 'v', symbol: 'sym' };
  const raw = (r: Row, k: string) => String(r[rawOf[k]!] ?? '').trim();
  const value = raw(row, role);
  const ivs = ctx.interval;
  let text: string;
  let code: DataRule;
  let prevRn: number;
  switch (rule) {
    case 'missing-symbol':
      [code, text] = ['missing-symbol', `field '${field}' is empty`];
      break;
    case 'missing-value':
      [code, text] = ['missing-value', `field '${field}' is missing`];
      break;
    case 'bad-time':
      code = 'bad-time';
      text = `field '${field}' = '${value}' is not a date or time (expected e.g. 2013-10-07, 20131007, 2013-10-07 09:30:00, 2013-10-07T13:30:00Z)`;
      break;
    case 'nonexistent-time':
      code = 'nonexistent-time';
      text = `field '${field}' = '${value}' does not exist in ${ctx.tz} (the clocks skip that hour for daylight saving)`;
      break;
    case 'not-a-number':
      [code, text] = ['not-a-number', `field '${field}' = '${value}' is not a number`];
      break;
    case 'non-positive-price':
      [code, text] = ['non-positive-price', `field '${field}' = ${value} is not a positive price`];
      break;
    case 'negative-volume':
      [code, text] = ['negative-volume', `field '${field}' = ${value} is negative`];
      break;
    case 'high-below-max': {
      const k = Number(row.po) >= Number(row.pc) ? 'open' : 'close';
      code = 'high-below-max';
      text = `field '${field}' = ${value} is below max(${file.roles.open}, ${file.roles.close}) = ${raw(row, k)}`;
      break;
    }
    case 'low-above-min': {
      const k = Number(row.po) <= Number(row.pc) ? 'open' : 'close';
      code = 'low-above-min';
      text = `field '${field}' = ${value} is above min(${file.roles.open}, ${file.roles.close}) = ${raw(row, k)}`;
      break;
    }
    case 'time-of-day':
      code = 'interval-mismatch';
      text = `field '${field}' = '${value}' has a time of day, but the interval is 1d (pass --interval for intraday bars)`;
      break;
    case 'date-only':
      code = 'interval-mismatch';
      text = `field '${field}' = '${value}' has no time of day, but the interval is ${ivs}`;
      break;
    case 'duplicate-timestamp':
      prevRn = Number(row.prn);
      code = 'duplicate-timestamp';
      text = `field '${field}' = '${value}' repeats the timestamp of row ${prevRn} (duplicate timestamp)`;
      break;
    case 'out-of-order': {
      prevRn = Number(row.prn);
      const prev = await rowAt(ctx, fid, prevRn);
      const desc = Number(row.ts) > Number(row.pts);
      code = 'out-of-order';
      text = desc
        ? `field '${field}' = '${value}' is after the previous row's '${raw(prev, 'time')}' (row ${prevRn}) in a file that otherwise runs in descending order (out of order)`
        : `field '${field}' = '${value}' is before the previous row's '${raw(prev, 'time')}' (row ${prevRn}): timestamps must ascend, or descend through the whole file (out of order)`;
      break;
    }
    case 'gap': {
      prevRn = Number(row.prn);
      const prev = await rowAt(ctx, fid, prevRn);
      const gap = Math.abs(Number(row.ts) - Number(row.pts));
      code = 'interval-mismatch';
      text = `field '${field}' = '${value}' is ${humanMs(gap)} after the previous bar '${raw(prev, 'time')}' (row ${prevRn}), less than the interval ${ivs}`;
      break;
    }
    case 'cross-duplicate': {
      const other = (
        await ctx.conn.runAndReadAll(
          `SELECT fid, rn FROM _imp_b WHERE sym = $1 AND ts = $2 AND fid < ${fid} ORDER BY fid, rn LIMIT 1`,
          [String(row.sym), BigInt(Number(row.ts))],
        )
      ).getRowObjectsJS()[0]!;
      const of = ctx.files[Number(other.fid)]!;
      code = 'duplicate-timestamp';
      text = `field '${field}' = '${value}': ${String(row.sym)} already has a bar at this time in ${of.src.display} row ${Number(other.rn)}${lineSuffix(of.src, Number(other.rn))} (duplicate timestamp)`;
      break;
    }
    default:
      throw new Error(`internal: unknown rule code ${rule}`);
  }
  const where = `${file.src.display} row ${rn}${lineSuffix(file.src, rn)}`;
  const sym = file.roles.symbol && row.sym ? ` [${String(row.sym)}]` : '';
  const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''} in this import)` : '';
  return new DataError(`${where}${sym}: ${text}${more}`, {
    rule: code,
    file: file.src.display,
    row: rn,
    line: lineOf(file.src, rn),
    field,
  });
}

function humanMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

const lineCache = new Map<string, number[]>();

/**
 * The file line of a data row: DuckDB skips blank lines, so rows and lines differ by more than the
 * header when a file has blank lines. Counted only when an error is reported. Quoted line breaks
 * inside a field are not expected in bar data and would shift this count.
 */
export function lineOf(src: SourceFile, row: number): number | undefined {
  if (src.format !== 'csv') return undefined;
  let starts = lineCache.get(src.path);
  if (!starts) {
    try {
      let buf = readFileSync(src.path);
      if (src.path.toLowerCase().endsWith('.gz')) buf = gunzipSync(buf);
      const text = buf.toString('utf8');
      starts = [];
      let lineNo = 1;
      let pos = 0;
      while (pos <= text.length) {
        let end = text.indexOf('\n', pos);
        if (end < 0) end = text.length;
        const blank = text.slice(pos, end).trim() === '';
        if (lineNo > 1 && !blank) starts.push(lineNo);
        lineNo++;
        pos = end + 1;
      }
      lineCache.clear();
      lineCache.set(src.path, starts);
    } catch {
      return undefined;
    }
  }
  return starts[row - 1];
}

function lineSuffix(src: SourceFile, row: number): string {
  const line = lineOf(src, row);
  return line === undefined ? '' : ` (line ${line})`;
}

/** The smallest step between bars of one file, symbol and local day (intraday interval inference). */
export async function smallestGap(conn: DuckDBConnection): Promise<{ gap: number; fid: number; rn: number } | undefined> {
  const r = await conn.runAndReadAll(`
SELECT abs(ts - pts) AS gap, fid, rn FROM _imp_b
WHERE ldms = pld AND ts <> pts
ORDER BY gap, fid, rn LIMIT 1`);
  const row = r.getRowObjectsJS()[0];
  return row ? { gap: Number(row.gap), fid: Number(row.fid), rn: Number(row.rn) } : undefined;
}

/** The known interval of exactly this length, if any. */
export function intervalOfMs(ms: number): Interval | undefined {
  return (Object.keys(INTERVAL_MS) as Interval[]).find((k) => INTERVAL_MS[k] === ms);
}

export function unknownIntervalError(files: FileInfo[], where: { gap: number; fid: number; rn: number }): DataError {
  const f = files[where.fid]!;
  const known = Object.keys(INTERVAL_MS).join(', ');
  return new DataError(
    `${f.src.display} row ${where.rn}${lineSuffix(f.src, where.rn)}: field '${f.roles.time}': the smallest step between bars is ${humanMs(where.gap)}, which is not a known interval (${known}); pass --interval`,
    { rule: 'unknown-interval', file: f.src.display, row: where.rn, line: lineOf(f.src, where.rn), field: f.roles.time },
  );
}
