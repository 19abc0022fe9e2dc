// Validation of staged rows, in SQL over all files at once, and the message for the first problem.
//
// Temp tables of one import: _imp_files(fid, display, path, fmt); _imp_raw (all text, in file
// order, so its rowid orders rows; sym is the file's symbol or the upper-cased symbol column);
// _imp_b (typed, with the UTC start ts and the previous row of the same file and symbol).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { INTERVAL_MS, type Interval } from '../core/types.ts';
import { DataError, type DataRule } from './errors.ts';
import { SYMBOL_RULE, type ColumnRoles, type SourceFile } from './sources.ts';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * What a stored bar may hold, checked on the values as stored (after factor adjustment):
 * - prices within [1e-6, 1e9]: covers sub-penny stocks and split-adjusted early history (AAPL 1980
 *   adjusted is about 0.1) and BRK.A (about 7e5) with three orders of magnitude to spare either way;
 *   keeps every product the engine forms (price x quantity, equity, returns) far from overflow,
 *   underflow and subnormal numbers (1e-320 is subnormal; 1e308 x 2 is Infinity).
 * - volume finite, >= 0 and below 1e15: the busiest US stocks trade about 1e10 shares a day, and
 *   adjusting for splits (volume / split_factor) can multiply that by 1e3; 1e15 still leaves
 *   volume x price (volume caps, notional) within exact-integer doubles' range for prices near 1.
 * - dates (the local trading day) within 1900-01-01 .. 2099-12-31: before the oldest US market data
 *   in common use (CRSP starts 1925) and after any real bar; a fixed range, so the same file imports
 *   the same way whenever it is imported. Year 0001 or 9999 is a typo or a placeholder.
 */
export const BOUNDS = {
  minPrice: 1e-6,
  maxPrice: 1e9,
  maxVolume: 1e15,
  /** 1900-01-01T00:00Z, inclusive */
  minTime: Date.UTC(1900, 0, 1),
  /** 2100-01-01T00:00Z, exclusive */
  maxTime: Date.UTC(2100, 0, 1),
} as const;

// Time text -> kind ('d' date only, 'l' local wall-clock time, 'z' absolute instant) and lms (for
// 'd'/'l' the wall-clock time written as if UTC, for 'z' UTC epoch ms). Accepted: 2013-10-07,
// 20131007, 2013-10-07 09:30[:00[.123]], 2013-10-07T09:30:00, 20131007 09:30:00 (IB), any of these
// with Z or a +hh:mm offset, and epoch seconds (10 digits) or milliseconds (13 digits).
// The first branches are the common layouts, cheap to test; the rest is the slow path.
const ZONED = `(suffix(tt, 'Z') OR contains(substr(tt, 11), '+') OR contains(substr(tt, 11), '-'))`;
const EPOCH = `(length(tt) IN (10, 13) AND TRY_CAST(tt AS BIGINT) IS NOT NULL)`;
const KIND = `CASE
    WHEN tt IS NULL THEN NULL
    WHEN length(tt) = 10 AND substr(tt, 5, 1) = '-' THEN 'd'
    WHEN length(tt) = 19 AND substr(tt, 5, 1) = '-' AND substr(tt, 17, 1) = ':' THEN 'l'
    WHEN ${EPOCH} THEN 'z'
    WHEN length(tt) <= 10 THEN 'd'
    WHEN ${ZONED} THEN 'z'
    ELSE 'l' END`;
const LMS = `CASE
    WHEN tt IS NULL THEN NULL
    WHEN length(tt) = 10 AND substr(tt, 5, 1) = '-' THEN epoch_ms(TRY_CAST(tt AS DATE))
    WHEN length(tt) = 19 AND substr(tt, 5, 1) = '-' AND substr(tt, 17, 1) = ':' THEN epoch_ms(TRY_CAST(tt AS TIMESTAMP))
    WHEN ${EPOCH} THEN TRY_CAST(tt AS BIGINT) * (CASE WHEN length(tt) = 10 THEN 1000 ELSE 1 END)
    WHEN length(tt) = 8 THEN epoch_ms(TRY_STRPTIME(tt, '%Y%m%d'))
    WHEN length(tt) <= 10 THEN epoch_ms(TRY_CAST(tt AS DATE))
    WHEN ${ZONED} THEN epoch_ms(TRY_CAST(tt AS TIMESTAMPTZ))
    WHEN substr(tt, 9, 1) = ' '
      THEN epoch_ms(TRY_STRPTIME(regexp_replace(tt, ' +', ' '), ['%Y%m%d %H:%M:%S', '%Y%m%d %H:%M']))
    ELSE epoch_ms(TRY_CAST(tt AS TIMESTAMP)) END`;

// rid: the row's place in _imp_raw. Rowids inside a transaction start near 2^55, beyond exact
// doubles, hence the offset.
const RAW = `(SELECT rowid - (SELECT min(rowid) FROM _imp_raw) AS rid, * FROM _imp_raw)`;
const PARSED = `(SELECT rid, fid, sym, o, h, l, c, v, nullif(trim(t), '') AS tt FROM ${RAW})`;

export const COUNT_SQL = `
SELECT count(*) AS n, count(DISTINCT sym) AS nsym,
  (SELECT count(*) FROM (SELECT DISTINCT fid, sym FROM _imp_raw)) AS nfilesym
FROM _imp_raw`;

/** For an interval to infer: the bars are daily when every valid time is a date (or midnight). */
export const DATELIKE_SQL = `
SELECT count(lms) AS valid, count(*) FILTER (WHERE lms % ${DAY_MS} = 0) AS datelike
FROM (SELECT ${LMS} AS lms FROM ${PARSED})`;

/** The hours (lms / 1 h) that occur, per kind: for the UTC offset tables of intraday imports. */
export const HOUR_KEYS_SQL = `
SELECT DISTINCT kind, floor(lms / ${HOUR_MS})::BIGINT AS hk
FROM (SELECT ${KIND} AS kind, ${LMS} AS lms FROM ${PARSED})
WHERE kind IN ('l', 'z') AND lms >= ${BOUNDS.minTime - DAY_MS} AND lms < ${BOUNDS.maxTime + DAY_MS}`;

/**
 * All rows typed and placed in time, in one pass: numbers parsed (NULL where not a number), the UTC
 * start ts, the local trading day ldms and the previous row of the same file and symbol (pts, pld,
 * prid). Intraday local times go through _imp_tz (offset per local hour, NULL for an hour skipped
 * by daylight saving), absolute ones through _imp_tzu (per UTC hour).
 */
export function barsSql(daily: boolean, adjusted: boolean): string {
  const floorDay = (e: string) => `floor((${e}) / ${DAY_MS})::BIGINT * ${DAY_MS}`;
  const ts = daily ? floorDay('p.lms') : `CASE p.kind WHEN 'l' THEN p.lms - z.off ELSE p.lms END`;
  const ldms = daily ? floorDay('p.lms') : `CASE p.kind WHEN 'l' THEN ${floorDay('p.lms')} WHEN 'z' THEN ${floorDay('p.lms + u.off')} ELSE p.lms END`;
  const joins = daily
    ? ''
    : `LEFT JOIN _imp_tz z ON p.kind = 'l' AND z.hk = floor(p.lms / ${HOUR_MS})::BIGINT
  LEFT JOIN _imp_tzu u ON p.kind = 'z' AND u.hk = floor(p.lms / ${HOUR_MS})::BIGINT`;
  return `
CREATE OR REPLACE TEMP TABLE _imp_b AS
WITH p AS (
  SELECT rid, fid, sym,
    TRY_CAST(o AS DOUBLE) AS po, TRY_CAST(h AS DOUBLE) AS ph, TRY_CAST(l AS DOUBLE) AS pl,
    TRY_CAST(c AS DOUBLE) AS pc, TRY_CAST(v AS DOUBLE) AS pv,
    ${KIND} AS kind, ${LMS} AS lms
  FROM ${PARSED}),
a AS (
  SELECT p.*, ${daily ? 'NULL::BIGINT' : 'z.off'} AS off, ${ts} AS ts, ${ldms} AS ldms
  FROM p ${joins})
SELECT a.*, lag(a.ts) OVER w AS pts, lag(a.ldms) OVER w AS pld, lag(a.rid) OVER w AS prid${adjusted ? ', f.pf, f.sf, f.line AS fline' : ''}
FROM a ${adjusted ? 'ASOF LEFT JOIN _imp_fac f ON f.sym = a.sym AND f.dms >= a.ldms' : ''}
WINDOW w AS (PARTITION BY a.fid, a.sym ORDER BY a.rid)`;
}

/**
 * The values as stored, in SQL over _imp_b aliased `b`: raw * price_factor * split_factor for
 * prices, raw / split_factor for volume (the factors of the first factor row dated on or after the
 * bar's day, in b.pf and b.sf; none: unadjusted).
 */
export function storedSql(adjusted: boolean): { o: string; h: string; l: string; c: string; v: string } {
  const p = (col: string) => (adjusted ? `b.${col} * coalesce(b.pf, 1) * coalesce(b.sf, 1)` : `b.${col}`);
  return { o: p('po'), h: p('ph'), l: p('pl'), c: p('pc'), v: adjusted ? 'b.pv / coalesce(b.sf, 1)' : 'b.pv' };
}

/**
 * Files (per symbol) stored newest first: more steps go down than up. Accepted as they are; every
 * other file must ascend. Counting steps, so one stray row does not flip a whole file.
 */
export const DESCENDING_SQL = `
CREATE OR REPLACE TEMP TABLE _imp_desc AS
SELECT fid, sym FROM _imp_b GROUP BY fid, sym
HAVING count(*) FILTER (WHERE ts < pts) > count(*) FILTER (WHERE ts > pts)`;

const NUMS = [
  ['open', 'po'],
  ['high', 'ph'],
  ['low', 'pl'],
  ['close', 'pc'],
] as const;

/** One code per row: the first rule it breaks ('rule:role'), NULL when it breaks none. */
function violationCase(ctx: CheckContext): string {
  const daily = ctx.interval === '1d';
  const { intervalMs, crossFile } = ctx;
  const finite = [...NUMS.map(([, n]) => n), 'pv'].map((n) => `isfinite(b.${n})`).join(' AND ');
  const inOrder = `(b.pts IS NULL OR (CASE WHEN b.descending THEN b.ts < b.pts ELSE b.ts > b.pts END))`;
  const timeOk = daily
    ? `b.lms % ${DAY_MS} = 0`
    : `b.kind <> 'd' AND (b.kind <> 'l' OR b.off IS NOT NULL) AND (b.pld IS NULL OR b.ldms <> b.pld OR abs(b.ts - b.pts) >= ${intervalMs})`;
  const inTime = `b.lms >= ${BOUNDS.minTime} AND b.lms < ${BOUNDS.maxTime}`;
  const badSym = ctx.badSymbols.length > 0 ? `b.sym IN (${ctx.badSymbols.map(sqlLit).join(', ')})` : 'false';
  const stored: Record<string, string> = { open: 'b.ao', high: 'b.ah', low: 'b.al', close: 'b.ac', volume: 'b.av' };
  const jump = ctx.maxJump === undefined ? undefined : `(b.jpc IS NULL OR (b.ac <= b.jpc * ${ctx.maxJump} AND b.ac * ${ctx.maxJump} >= b.jpc))`;
  // The common case, all in one test; only rows failing it go through the rules one by one. The
  // bounds on low and high cover open and close: adjusting scales all four by the same factor.
  const ok = `b.sym <> '' AND NOT ${badSym} AND b.lms IS NOT NULL AND ${inTime} AND ${finite}
    AND b.po > 0 AND b.ph > 0 AND b.pl > 0 AND b.pc > 0 AND b.pv >= 0
    AND b.ph >= greatest(b.po, b.pc) AND b.pl <= least(b.po, b.pc)
    AND b.al >= ${BOUNDS.minPrice} AND b.ah <= ${BOUNDS.maxPrice} AND b.av < ${BOUNDS.maxVolume}
    AND ${inOrder} AND ${timeOk}${crossFile ? ' AND b.first_fid = b.fid' : ''}${jump ? ` AND ${jump}` : ''}`;
  const w: string[] = [];
  w.push(`WHEN ${ok} THEN NULL`);
  w.push(`WHEN b.sym IS NULL OR b.sym = '' THEN 'symbol:symbol'`);
  w.push(`WHEN ${badSym} THEN 'ticker:symbol'`);
  w.push(`WHEN b.lms IS NULL THEN 'time:time'`);
  w.push(`WHEN NOT (${inTime}) THEN 'daterange:time'`);
  if (!daily) w.push(`WHEN b.kind = 'l' AND b.off IS NULL THEN 'nonexistent:time'`);
  for (const [role, n] of NUMS) w.push(`WHEN b.${n} IS NULL OR NOT isfinite(b.${n}) THEN 'number:${role}'`);
  w.push(`WHEN b.pv IS NULL OR NOT isfinite(b.pv) THEN 'number:volume'`);
  for (const [role, n] of NUMS) w.push(`WHEN b.${n} <= 0 THEN 'nonpositive:${role}'`);
  w.push(`WHEN b.pv < 0 THEN 'negative:volume'`);
  w.push(`WHEN b.ph < greatest(b.po, b.pc) THEN 'high:high'`);
  w.push(`WHEN b.pl > least(b.po, b.pc) THEN 'low:low'`);
  for (const [role] of NUMS) {
    w.push(`WHEN NOT (${stored[role]} >= ${BOUNDS.minPrice} AND ${stored[role]} <= ${BOUNDS.maxPrice}) THEN 'bound:${role}'`);
  }
  w.push(`WHEN NOT (${stored.volume} >= 0 AND ${stored.volume} < ${BOUNDS.maxVolume}) THEN 'bound:volume'`);
  if (daily) w.push(`WHEN b.lms % ${DAY_MS} <> 0 THEN 'timeofday:time'`);
  else w.push(`WHEN b.kind = 'd' THEN 'dateonly:time'`);
  w.push(`WHEN b.ts = b.pts THEN 'duplicate:time'`);
  w.push(`WHEN NOT ${inOrder} THEN 'order:time'`);
  if (!daily) w.push(`WHEN b.ldms = b.pld AND abs(b.ts - b.pts) < ${intervalMs} THEN 'gap:time'`);
  if (crossFile) w.push(`WHEN b.first_fid <> b.fid THEN 'crossduplicate:time'`);
  if (jump) w.push(`WHEN NOT ${jump} THEN 'jump:close'`);
  return `CASE\n  ${w.join('\n  ')}\nEND`;
}

function sqlLit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export interface FileInfo {
  src: SourceFile;
  roles: ColumnRoles;
}

export interface CheckContext {
  conn: DuckDBConnection;
  files: FileInfo[];
  interval: Interval;
  /** the interval's length; for an inferred interval the smallest step found */
  intervalMs: number;
  tz: string;
  /** some symbol comes from more than one file: look for the same bar in two files */
  crossFile: boolean;
  /** some file runs descending (see _imp_desc) */
  anyDescending: boolean;
  /** _imp_b has factor columns (pf, sf, fline) */
  adjusted: boolean;
  /** factor file (as shown) per adjusted symbol */
  factorFiles: Map<string, string>;
  /** symbols that are not plausible tickers (see isPlausibleSymbol) */
  badSymbols: string[];
  /** a close may be at most this many times, and at least 1/this, the previous close of its symbol */
  maxJump?: number;
}

/** _imp_b with the values as stored (ao..av) and what the rules compare across rows. */
function checkedRows(ctx: CheckContext): string {
  const s = storedSql(ctx.adjusted);
  const cols = [
    '*',
    `${s.o} AS ao, ${s.h} AS ah, ${s.l} AS al, ${s.c} AS ac, ${s.v} AS av`,
    ctx.crossFile ? 'min(fid) OVER (PARTITION BY sym, ts) AS first_fid' : '',
    ctx.anyDescending ? 'EXISTS (SELECT 1 FROM _imp_desc d WHERE d.fid = b.fid AND d.sym = b.sym) AS descending' : 'false AS descending',
    // the previous bar of the symbol in time, whichever file it is in
    ctx.maxJump !== undefined ? `lag(${s.c}) OVER j AS jpc, lag(rid) OVER j AS jrid` : '',
  ];
  return `(SELECT ${cols.filter(Boolean).join(', ')} FROM _imp_b b${ctx.maxJump !== undefined ? ' WINDOW j AS (PARTITION BY sym ORDER BY ts)' : ''})`;
}

/** Throws a DataError for the first bad row (in the order of the input files, then rows), if any. */
export async function checkRows(ctx: CheckContext): Promise<void> {
  const sql = `
SELECT rid, code, count(*) OVER () AS n FROM (
  SELECT b.fid, b.rid, ${violationCase(ctx)} AS code FROM ${checkedRows(ctx)} b)
WHERE code IS NOT NULL
ORDER BY fid, rid
LIMIT 1`;
  const first = (await ctx.conn.runAndReadAll(sql)).getRowObjectsJS()[0];
  if (!first) return;
  const [rule, role] = String(first.code).split(':') as [string, string];
  throw await describe(ctx, Number(first.rid), rule, role, Number(first.n));
}

type Row = Record<string, unknown>;

/** A typed row with its text as written (t, o, h, l, c, v) and its row number in its file (rn). */
async function rowAt(ctx: CheckContext, rid: number): Promise<Row> {
  const s = storedSql(ctx.adjusted);
  const r = await ctx.conn.runAndReadAll(`
SELECT b.*, r.t, r.o, r.h, r.l, r.c, r.v, ${s.o} AS ao, ${s.h} AS ah, ${s.l} AS al, ${s.c} AS ac, ${s.v} AS av,
  b.rid - (SELECT min(rid) FROM _imp_b x WHERE x.fid = b.fid) + 1 AS rn,
  EXISTS (SELECT 1 FROM _imp_desc d WHERE d.fid = b.fid AND d.sym = b.sym) AS descending
FROM _imp_b b JOIN ${RAW} r USING (rid)
WHERE b.rid = ${rid}`);
  return r.getRowObjectsJS()[0] ?? {};
}

const RAW_COLUMN: Record<string, string> = { time: 't', open: 'o', high: 'h', low: 'l', close: 'c', volume: 'v', symbol: 'sym' };

function rawText(r: Row, role: string): string {
  const v = r[RAW_COLUMN[role]!];
  return v === null || v === undefined ? '' : String(v).trim();
}

async function describe(ctx: CheckContext, rid: number, rule: string, role: string, n: number): Promise<DataError> {
  const row = await rowAt(ctx, rid);
  const file = ctx.files[Number(row.fid)]!;
  const rn = Number(row.rn);
  const roles = file.roles;
  const named = roles as unknown as Record<string, string | undefined>;
  const field = role === 'time' && roles.timeOfDay ? `${roles.time}' + '${roles.timeOfDay}` : (named[role] ?? role);
  const value = rawText(row, role);
  const f = `field '${field}'`;
  const previous = async () => {
    const prev = await rowAt(ctx, Number(row.prid));
    return { prn: Number(prev.rn), text: rawText(prev, 'time') };
  };
  let code: DataRule;
  let text: string;
  switch (rule) {
    case 'symbol':
      [code, text] = ['missing-symbol', `${f} is empty`];
      break;
    case 'ticker':
      code = 'bad-symbol';
      text = `${f} = '${value}' is not a plausible ticker (${SYMBOL_RULE})`;
      break;
    case 'daterange':
      code = 'out-of-range';
      text = `${f} = '${value}' is outside the accepted dates ${isoDay(BOUNDS.minTime)} .. ${isoDay(BOUNDS.maxTime - DAY_MS)}`;
      break;
    case 'bound': {
      code = 'out-of-range';
      const volume = role === 'volume';
      const stored = Number(row[STORED_COLUMN[role]!]);
      const [lo, hi] = volume ? [0, BOUNDS.maxVolume] : [BOUNDS.minPrice, BOUNDS.maxPrice];
      const what = volume ? 'volume' : 'price';
      const limit =
        stored >= lo ? `above the largest accepted ${what} ${fmtNum(hi)}${volume ? ' (exclusive)' : ''}` : `below the smallest accepted ${what} ${fmtNum(lo)}`;
      const factor = factorNote(ctx, row, role, stored);
      text = factor ? `${f} = ${value} is ${fmtNum(stored)} after adjustment by ${factor}: ${limit}` : `${f} = ${value} is ${limit}`;
      break;
    }
    case 'jump': {
      code = 'price-jump';
      const found = await ctx.conn.runAndReadAll(
        `SELECT jrid FROM (SELECT rid, lag(rid) OVER (ORDER BY ts) AS jrid FROM _imp_b WHERE sym = $1) WHERE rid = ${rid}`,
        [String(row.sym)],
      );
      const prev = await rowAt(ctx, Number(found.getRowObjectsJS()[0]!.jrid));
      const pf = ctx.files[Number(prev.fid)]!;
      const prn = Number(prev.rn);
      const ac = Number(row.ac);
      const pc = Number(prev.ac);
      const up = ac > pc;
      const ratio = up ? ac / pc : pc / ac;
      const adjustedNote = ctx.adjusted && ac !== Number(row.pc) ? ` (${fmtNum(ac)} adjusted)` : '';
      const where = `${pf === file ? '' : `${pf.src.display} `}row ${prn}${lineSuffix(pf.src, prn)}`;
      const r = String(Number(ratio.toPrecision(4)));
      text = `${f} = ${value}${adjustedNote} is ${up ? `${r} times` : `1/${r} of`} the previous bar's close ${fmtNum(pc)} (${where}, '${rawText(prev, 'time')}'): a jump beyond --max-jump ${ctx.maxJump}`;
      break;
    }
    case 'time':
      [code, text] =
        value === ''
          ? ['missing-value', `${f} is missing`]
          : ['bad-time', `${f} = '${value}' is not a date or time (expected e.g. 2013-10-07, 20131007, 2013-10-07 09:30:00, 2013-10-07T13:30:00Z)`];
      break;
    case 'nonexistent':
      code = 'nonexistent-time';
      text = `${f} = '${value}' does not exist in ${ctx.tz} (the clocks skip that hour for daylight saving)`;
      break;
    case 'number':
      [code, text] = value === '' ? ['missing-value', `${f} is missing`] : ['not-a-number', `${f} = '${value}' is not a number`];
      break;
    case 'nonpositive':
      [code, text] = ['non-positive-price', `${f} = ${value} is not a positive price`];
      break;
    case 'negative':
      [code, text] = ['negative-volume', `${f} = ${value} is negative`];
      break;
    case 'high': {
      const k = Number(row.po) >= Number(row.pc) ? 'open' : 'close';
      code = 'high-below-max';
      text = `${f} = ${value} is below max(${roles.open}, ${roles.close}) = ${rawText(row, k)}`;
      break;
    }
    case 'low': {
      const k = Number(row.po) <= Number(row.pc) ? 'open' : 'close';
      code = 'low-above-min';
      text = `${f} = ${value} is above min(${roles.open}, ${roles.close}) = ${rawText(row, k)}`;
      break;
    }
    case 'timeofday':
      code = 'interval-mismatch';
      text = `${f} = '${value}' has a time of day, but the interval is 1d (pass --interval for intraday bars)`;
      break;
    case 'dateonly':
      code = 'interval-mismatch';
      text = `${f} = '${value}' has no time of day, but the interval is ${ctx.interval}`;
      break;
    case 'duplicate': {
      const p = await previous();
      code = 'duplicate-timestamp';
      text = `${f} = '${value}' has the same timestamp as row ${p.prn} ('${p.text}'): duplicate timestamp`;
      break;
    }
    case 'order': {
      const p = await previous();
      code = 'out-of-order';
      text = row.descending
        ? `${f} = '${value}' is after the previous row's '${p.text}' (row ${p.prn}) in a file that otherwise runs in descending order: out of order`
        : `${f} = '${value}' is before the previous row's '${p.text}' (row ${p.prn}): out of order (timestamps must ascend, or descend through the whole file)`;
      break;
    }
    case 'gap': {
      const p = await previous();
      code = 'interval-mismatch';
      text = `${f} = '${value}' is ${humanMs(Math.abs(Number(row.ts) - Number(row.pts)))} from the previous bar '${p.text}' (row ${p.prn}), less than the interval ${ctx.interval}`;
      break;
    }
    case 'crossduplicate': {
      const found = await ctx.conn.runAndReadAll(`SELECT rid FROM _imp_b WHERE sym = $1 AND ts = $2 AND fid < ${Number(row.fid)} ORDER BY rid LIMIT 1`, [
        String(row.sym),
        BigInt(Number(row.ts)),
      ]);
      const other = await rowAt(ctx, Number(found.getRowObjectsJS()[0]!.rid));
      const of = ctx.files[Number(other.fid)]!;
      const orn = Number(other.rn);
      code = 'duplicate-timestamp';
      text = `${f} = '${value}': ${String(row.sym)} already has a bar at this time in ${of.src.display} row ${orn}${lineSuffix(of.src, orn)}: duplicate timestamp`;
      break;
    }
    default:
      throw new Error(`internal: unknown rule code ${rule}`);
  }
  const where = `${file.src.display} row ${rn}${lineSuffix(file.src, rn)}`;
  const sym = roles.symbol && row.sym ? ` [${String(row.sym)}]` : '';
  const more = n > 1 ? ` (and ${n - 1} more bad row${n > 2 ? 's' : ''})` : '';
  return new DataError(`${where}${sym}: ${text}${more}`, {
    rule: code,
    file: file.src.display,
    row: rn,
    line: lineOf(file.src, rn),
    field,
  });
}

const STORED_COLUMN: Record<string, string> = { open: 'ao', high: 'ah', low: 'al', close: 'ac', volume: 'av' };

/** 'factors/x.csv line 3 (price_factor 1e200, split_factor 1)' when a factor row changed the value. */
function factorNote(ctx: CheckContext, row: Row, role: string, stored: number): string | undefined {
  if (!ctx.adjusted || row.fline === null || row.fline === undefined) return undefined;
  const raw = Number(row[{ open: 'po', high: 'ph', low: 'pl', close: 'pc', volume: 'pv' }[role]!]);
  if (stored === raw) return undefined;
  const file = ctx.factorFiles.get(String(row.sym)) ?? 'the factor file';
  return `${file} line ${Number(row.fline)} (price_factor ${fmtNum(Number(row.pf))}, split_factor ${fmtNum(Number(row.sf))})`;
}

/** Numbers in messages: plain for ordinary sizes, 1e9 / 1.5e-7 style for very large or small. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e9 || a < 1e-4))
    return x
      .toExponential(6)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(x.toPrecision(10)));
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function humanMs(ms: number): string {
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

let lineCache: { path: string; lines: number[] } | undefined;

/**
 * The file line of a data row. DuckDB skips blank lines, so rows and lines can differ by more than
 * the header; counted only when an error is reported. (A quoted line break inside a field, not
 * expected in bar data, would shift the count.)
 */
export function lineOf(src: SourceFile, row: number): number | undefined {
  if (src.format !== 'csv') return undefined;
  if (lineCache?.path !== src.path) {
    try {
      let buf = readFileSync(src.path);
      if (src.path.toLowerCase().endsWith('.gz')) buf = gunzipSync(buf);
      const text = buf.toString('utf8');
      const lines: number[] = [];
      let lineNo = 1;
      for (let pos = 0; pos <= text.length; lineNo++) {
        let end = text.indexOf('\n', pos);
        if (end < 0) end = text.length;
        if (lineNo > 1 && text.slice(pos, end).trim() !== '') lines.push(lineNo);
        pos = end + 1;
      }
      lineCache = { path: src.path, lines };
    } catch {
      return undefined;
    }
  }
  return lineCache.lines[row - 1];
}

function lineSuffix(src: SourceFile, row: number): string {
  const line = lineOf(src, row);
  return line === undefined ? '' : ` (line ${line})`;
}

/** The smallest step between bars of one file, symbol and local day (to infer an intraday interval). */
export async function smallestGap(conn: DuckDBConnection): Promise<Gap | undefined> {
  const r = await conn.runAndReadAll(`
SELECT abs(ts - pts) AS gap, fid, rid - (SELECT min(rid) FROM _imp_b x WHERE x.fid = b.fid) + 1 AS rn
FROM _imp_b b
WHERE ldms = pld AND ts <> pts
ORDER BY gap, rid LIMIT 1`);
  const row = r.getRowObjectsJS()[0];
  return row ? { gap: Number(row.gap), fid: Number(row.fid), rn: Number(row.rn) } : undefined;
}

export interface Gap {
  gap: number;
  fid: number;
  rn: number;
}

/** The known interval of exactly this length, if any. */
export function intervalOfMs(ms: number): Interval | undefined {
  return (Object.keys(INTERVAL_MS) as Interval[]).find((k) => INTERVAL_MS[k] === ms);
}

export function unknownIntervalError(files: FileInfo[], at: Gap): DataError {
  const f = files[at.fid]!;
  const known = Object.keys(INTERVAL_MS).join(', ');
  return new DataError(
    `${f.src.display} row ${at.rn}${lineSuffix(f.src, at.rn)}: field '${f.roles.time}': the smallest step between bars is ${humanMs(at.gap)}, which is not a known interval (${known}); pass --interval`,
    { rule: 'unknown-interval', file: f.src.display, row: at.rn, line: lineOf(f.src, at.rn), field: f.roles.time },
  );
}
