// Loading bars into columnar typed arrays: one counting query sizes the arrays, then the bars
// stream in DuckDB chunks whose double vectors are copied straight into them.
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { INTERVAL_MS, type BarSeries, type EpochMs, type Interval } from '../core/types.ts';
import { adjustSeries, type CorporateAction, type PriceBasis, type RunPrices, type SeriesWithActions, type StoredFactor } from './actions.ts';
import { DataError } from './errors.ts';
import { sqlString, type Store } from './store.ts';
import { describeReadError } from './store-errors.ts';
import { BOUNDS } from './validate.ts';

export interface LoadRequest {
  /** matched upper-case, as the importer stores them; the result keeps this order */
  symbols: string[];
  interval: Interval;
  /** first bar start to include (epoch ms UTC) */
  from?: EpochMs;
  /** last bar start to include (inclusive) */
  to?: EpochMs;
  /** a symbol with no bars in the range gets an empty series instead of an error (for chunks) */
  allowEmpty?: boolean;
  /**
   * raw: stored raw bars, each series with its symbol's corporate actions (`actions`, see actions.ts);
   * adjusted: symbols stored raw adjusted with their stored factors, the others as stored;
   * as-stored or absent: the bars as stored.
   */
  prices?: RunPrices;
}

const COLUMNS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;

export async function loadBars(store: Store, req: LoadRequest): Promise<BarSeries[]> {
  try {
    return await readBars(store, req);
  } catch (e) {
    throw describeReadError(store.path, e as Error); // a damaged file is found as it is read: name it
  }
}

async function readBars(store: Store, req: LoadRequest): Promise<BarSeries[]> {
  if (!(req.interval in INTERVAL_MS)) {
    throw new DataError(`unknown interval '${req.interval}': use one of ${Object.keys(INTERVAL_MS).join(', ')}`, {
      rule: 'unknown-interval',
    });
  }
  const symbols = req.symbols.map((s) => s.trim().toUpperCase());
  const seen = new Set<string>();
  for (const s of symbols) {
    if (seen.has(s)) throw new Error(`loadBars: symbol '${s}' is requested twice`);
    seen.add(s);
  }
  if (symbols.length === 0) return [];

  const list = `(${symbols.map(sqlString).join(', ')})`;
  const iv = sqlString(req.interval);
  const range = [req.from !== undefined ? `ts >= ${Math.ceil(req.from)}` : '', req.to !== undefined ? `ts <= ${Math.floor(req.to)}` : ''].filter(Boolean);
  const inRange = range.length ? range.join(' AND ') : 'true';

  const counted = await store.conn.runAndReadAll(`
SELECT symbol, count(*) FILTER (WHERE "interval" = ${iv} AND ${inRange}) AS n,
  count(*) FILTER (WHERE "interval" = ${iv} AND ${inRange} AND NOT (${IN_BOUNDS})) AS bad
FROM bars WHERE symbol IN ${list} GROUP BY symbol`);
  const counts = new Map<string, number>();
  let bad = 0;
  for (const r of counted.getRowObjectsJS()) {
    counts.set(String(r.symbol), Number(r.n));
    bad += Number(r.bad);
  }
  if (bad > 0) await outOfBounds(store, `"interval" = ${iv} AND ${inRange} AND symbol IN ${list}`);

  const unknown = symbols.filter((s) => !counts.has(s));
  if (unknown.length > 0) {
    const names = unknown.map((s) => `'${s}'`).join(', ');
    throw new DataError(
      `unknown symbol${unknown.length > 1 ? 's' : ''} ${names}: not in ${store.path}; import ${unknown.length > 1 ? 'them' : 'it'} with npm run import -- <files>`,
      { rule: 'unknown-symbol', field: 'symbol' },
    );
  }
  const empty = symbols.filter((s) => counts.get(s) === 0);
  if (empty.length > 0 && !req.allowEmpty) {
    throw new DataError(`no bars for ${empty.join(',')} ${req.interval} ${describeRange(req)}`, { rule: 'empty-range' });
  }

  const out: BarSeries[] = symbols.map((symbol) => {
    const n = counts.get(symbol)!;
    return {
      symbol,
      interval: req.interval,
      ts: new Float64Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
    };
  });

  // Rows come ordered by (symbol, ts). The counts say how many rows each symbol has, so the
  // symbols in that same order cut the stream into series without reading the symbol column.
  const segments = symbols
    .map((symbol, sid) => ({ symbol, sid, n: counts.get(symbol)! }))
    .filter((x) => x.n > 0)
    .sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
  const result = await store.conn.stream(`
SELECT ts::DOUBLE AS ts, open, high, low, close, volume
FROM bars
WHERE "interval" = ${iv} AND ${inRange} AND symbol IN ${list}
ORDER BY symbol, ts`);
  let seg = 0;
  let filled = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const cols = COLUMNS.map((_, c) => doubles(chunk, c));
    // A chunk can span symbols: copy it segment by segment.
    let start = 0;
    while (start < n) {
      const { sid, n: total } = segments[seg]!;
      const end = Math.min(n, start + total - filled);
      const series = out[sid]!;
      for (let c = 0; c < COLUMNS.length; c++) {
        series[COLUMNS[c]!].set(start === 0 && end === n ? cols[c]! : cols[c]!.subarray(start, end), filled);
      }
      filled += end - start;
      start = end;
      if (filled === total) {
        seg++;
        filled = 0;
      }
    }
  }
  if (req.prices === 'raw' || req.prices === 'adjusted') {
    const info = await readPriceInfo(store, symbols, req.interval);
    for (const s of out) {
      if (info.basis.get(s.symbol) !== 'raw') continue;
      const factors = info.factors.get(s.symbol) ?? [];
      const tz = info.tz.get(s.symbol) ?? 'America/New_York';
      if (req.prices === 'raw') {
        (s as SeriesWithActions).actions = info.actions.get(s.symbol) ?? [];
        (s as SeriesWithActions).adjustment = { factors, tz };
      } else adjustSeries(s, factors, req.interval === '1d', tz);
    }
  }
  return out;
}

/** What the store says about the prices of some symbols: basis, factor rows, corporate actions, time zone. */
export interface PriceInfo {
  /** per symbol (upper case); a symbol without a row (or a database from before price bases) is absent: unknown */
  basis: Map<string, PriceBasis>;
  factors: Map<string, StoredFactor[]>;
  actions: Map<string, CorporateAction[]>;
  tz: Map<string, string>;
}

/** The price basis, factor rows and corporate actions of `symbols` (empty maps for a database without those tables). */
export async function readPriceInfo(store: Store, symbols: readonly string[], interval: Interval): Promise<PriceInfo> {
  const info: PriceInfo = { basis: new Map(), factors: new Map(), actions: new Map(), tz: new Map() };
  const upper = symbols.map((s) => s.trim().toUpperCase());
  if (upper.length === 0) return info;
  const list = `(${upper.map(sqlString).join(', ')})`;
  const rows = async (sql: string) => (await store.conn.runAndReadAll(sql)).getRowObjectsJS();
  try {
    const tables = new Set(
      (
        await rows(
          `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN ('price_basis', 'price_factors', 'corporate_actions')`,
        )
      ).map((r) => String(r.table_name)),
    );
    for (const r of await rows(`SELECT symbol, coalesce(tz, '') AS tz FROM instruments WHERE symbol IN ${list}`))
      if (r.tz) info.tz.set(String(r.symbol), String(r.tz));
    if (tables.has('price_basis')) {
      for (const r of await rows(`SELECT symbol, basis FROM price_basis WHERE "interval" = ${sqlString(interval)} AND symbol IN ${list}`)) {
        const b = String(r.basis);
        info.basis.set(String(r.symbol), b === 'raw' || b === 'adjusted' ? b : 'unknown');
      }
    }
    if (tables.has('price_factors')) {
      for (const r of await rows(
        `SELECT symbol, strftime(date, '%Y%m%d')::INTEGER AS d, price_factor, split_factor, reference_price FROM price_factors WHERE symbol IN ${list} ORDER BY symbol, date`,
      )) {
        const sym = String(r.symbol);
        const l = info.factors.get(sym) ?? [];
        info.factors.set(sym, l);
        l.push({
          date: Number(r.d),
          priceFactor: Number(r.price_factor),
          splitFactor: Number(r.split_factor),
          referencePrice: r.reference_price === null ? NaN : Number(r.reference_price),
        });
      }
    }
    if (tables.has('corporate_actions')) {
      for (const r of await rows(
        `SELECT symbol, strftime(ex_date, '%Y-%m-%d') AS ex, strftime(factor_date, '%Y-%m-%d') AS fd, kind, value, reference_price FROM corporate_actions WHERE symbol IN ${list} ORDER BY symbol, factor_date, kind`,
      )) {
        const sym = String(r.symbol);
        const l = info.actions.get(sym) ?? [];
        info.actions.set(sym, l);
        l.push({
          symbol: sym,
          kind: String(r.kind) === 'split' ? 'split' : 'dividend',
          exDate: String(r.ex),
          factorDate: String(r.fd),
          value: Number(r.value),
          referencePrice: r.reference_price === null ? NaN : Number(r.reference_price),
        });
      }
    }
  } catch (e) {
    throw describeReadError(store.path, e as Error);
  }
  return info;
}

/**
 * What an import lets into the store (BOUNDS). A database written by other means (another tool, an import
 * from before the bounds) is checked as it is read, so a 1e308 price fails the run naming the bar rather
 * than the metrics an overflow would reach. NaN compares above every number in DuckDB, so it fails too.
 */
const IN_BOUNDS = [
  ...['open', 'high', 'low', 'close'].map((c) => `${c} BETWEEN ${BOUNDS.minPrice} AND ${BOUNDS.maxPrice}`),
  `volume BETWEEN 0 AND ${BOUNDS.maxVolume}`,
  `ts >= ${BOUNDS.minTime} AND ts < ${BOUNDS.maxTime}`,
].join(' AND ');

async function outOfBounds(store: Store, where: string): Promise<never> {
  const r = await store.conn.runAndReadAll(`
SELECT symbol, "interval", ts::DOUBLE AS ts, open, high, low, close, volume FROM bars
WHERE ${where} AND NOT (${IN_BOUNDS}) ORDER BY symbol, ts LIMIT 1`);
  const row = r.getRowObjectsJS()[0]!;
  const ts = Number(row.ts);
  const when = ts >= -8.64e15 && ts <= 8.64e15 ? new Date(ts).toISOString() : `ts ${ts}`;
  const field = ['open', 'high', 'low', 'close', 'volume'].find((f) => {
    const x = Number(row[f]);
    return f === 'volume' ? !(x >= 0 && x <= BOUNDS.maxVolume) : !(x >= BOUNDS.minPrice && x <= BOUNDS.maxPrice);
  });
  const what = field
    ? `field '${field}' = ${Number(row[field])} is outside ${field === 'volume' ? `[0, ${BOUNDS.maxVolume}]` : `[${BOUNDS.minPrice}, ${BOUNDS.maxPrice}]`}`
    : `its time is outside 1900-01-01 .. 2099-12-31`;
  throw new DataError(
    `${store.path}: bar ${String(row.symbol)} ${String(row.interval)} ${when}: ${what}, the bounds an import checks (README, "Data"). ` +
      `Fix the data and import it with npm run import, which checks every value.`,
    { rule: 'out-of-range', ...(field ? { field } : {}) },
  );
}

/**
 * The bars of `req` in time windows of about `targetRows` rows (all symbols together), loaded one
 * window at a time, so a backtest over any length of history holds one window in memory. Unknown
 * symbols and an empty range fail before the first window, as in loadBars.
 */
export async function chunkBars(store: Store, req: LoadRequest, targetRows = 250_000): Promise<{ next(): Promise<BarSeries[] | null> }> {
  const symbols = req.symbols.map((s) => s.trim().toUpperCase());
  const list = `(${symbols.map(sqlString).join(', ')})`;
  const range = [req.from !== undefined ? `ts >= ${Math.ceil(req.from)}` : '', req.to !== undefined ? `ts <= ${Math.floor(req.to)}` : ''].filter(Boolean);
  const r = await store.conn
    .runAndReadAll(`
SELECT symbol, count(*) AS n, min(ts)::DOUBLE AS lo, max(ts)::DOUBLE AS hi FROM bars
WHERE "interval" = ${sqlString(req.interval)} AND symbol IN ${list} ${range.map((x) => `AND ${x}`).join(' ')} GROUP BY symbol`)
    .catch((e: Error) => {
      throw describeReadError(store.path, e);
    });
  const rows = r.getRowObjectsJS().map((x) => ({ symbol: String(x.symbol), n: Number(x.n), lo: Number(x.lo), hi: Number(x.hi) }));
  const found = new Set(rows.map((x) => x.symbol));
  const unknownOrEmpty = symbols.filter((s) => !found.has(s));
  if (unknownOrEmpty.length > 0) {
    await loadBars(store, req); // throws the precise error: unknown symbol or empty range
    throw new Error(`no bars for ${unknownOrEmpty.join(',')}`);
  }
  const total = rows.reduce((a, x) => a + x.n, 0);
  const lo = Math.min(...rows.map((x) => x.lo));
  const hi = Math.max(...rows.map((x) => x.hi));
  const windows = Math.max(1, Math.ceil(total / targetRows));
  const width = Math.floor((hi - lo) / windows) + 1;
  let start = lo;
  return {
    async next() {
      if (start > hi) return null;
      const end = Math.min(start + width - 1, hi);
      const chunk = await loadBars(store, { ...req, from: start, to: end, allowEmpty: true });
      start = end + 1;
      return chunk;
    },
  };
}

/** Every chunk joined into one series per symbol (for work that needs whole histories, such as model features). */
export async function collectChunks(chunks: { next(): Promise<BarSeries[] | null> }): Promise<BarSeries[]> {
  const parts: BarSeries[][] = [];
  for (let c = await chunks.next(); c !== null; c = await chunks.next()) parts.push(c);
  if (parts.length === 0) return [];
  const join = (i: number, col: 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume') => {
    const out = new Float64Array(parts.reduce((n, p) => n + p[i][col].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[i][col], at);
      at += p[i][col].length;
    }
    return out;
  };
  return parts[0].map((s, i) => ({
    ...s,
    ts: join(i, 'ts'),
    open: join(i, 'open'),
    high: join(i, 'high'),
    low: join(i, 'low'),
    close: join(i, 'close'),
    volume: join(i, 'volume'),
  }));
}

function describeRange(req: LoadRequest): string {
  const fmt = (t: number) => {
    const iso = new Date(t).toISOString();
    return req.interval === '1d' || iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  };
  if (req.from === undefined && req.to === undefined) return 'in the store';
  return `between ${req.from === undefined ? 'the first bar' : fmt(req.from)} and ${req.to === undefined ? 'the last bar' : fmt(req.to)}`;
}

// The vectors hold their data in typed arrays over DuckDB's memory; the node-api keeps the field
// private, so read it through a narrow cast and fall back to per-item reads if it ever moves.
function doubles(chunk: DuckDBDataChunk, column: number): Float64Array {
  const v = chunk.getColumnVector(column);
  const items = (v as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array && items.length >= chunk.rowCount) return items;
  return Float64Array.from({ length: chunk.rowCount }, (_, i) => Number(v.getItem(i)));
}

/** Symbols with bars (of one interval, when given), sorted. */
export async function listSymbols(store: Store, interval?: Interval): Promise<string[]> {
  const where = interval ? `WHERE "interval" = ${sqlString(interval)}` : '';
  const r = await store.conn.runAndReadAll(`SELECT DISTINCT symbol FROM bars ${where} ORDER BY symbol`).catch((e: Error) => {
    throw describeReadError(store.path, e);
  });
  return r.getRowObjectsJS().map((row) => String(row.symbol));
}
