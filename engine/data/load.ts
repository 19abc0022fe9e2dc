// Loading bars into columnar typed arrays: one counting query sizes the arrays, then the bars
// stream in DuckDB chunks whose double vectors are copied straight into them.
import type { DuckDBDataChunk, DuckDBPreparedStatement } from '@duckdb/node-api';
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
    const read = await planRead(store, req);
    if (read.symbols.length === 0) return [];
    const empty = read.symbols.filter((s) => read.counts.get(s) === 0);
    if (empty.length > 0 && !req.allowEmpty) {
      throw new DataError(`no bars for ${empty.join(',')} ${req.interval} ${describeRange(req)}`, { rule: 'empty-range' });
    }
    const stmt = await windowStatement(store, read);
    try {
      const lo = read.lo ?? 0;
      const hi = read.hi ?? -1;
      return await readWindow(stmt, read, lo, hi, read.counts, await priceInfo(store, read.symbols, req));
    } finally {
      stmt.destroySync();
    }
  } catch (e) {
    throw describeReadError(store.path, e as Error); // a damaged file is found as it is read: name it
  }
}

/** A read checked and counted: its symbols (upper case, request order), their bar counts and time span. */
interface PlannedRead {
  req: LoadRequest;
  symbols: string[];
  /** `symbol IN (...)` */
  list: string;
  /** the request's bounds as SQL (`true` for none) */
  inRange: string;
  counts: Map<string, number>;
  /** first and last bar start over all symbols (absent: no bars in range) */
  lo?: number;
  hi?: number;
}

/**
 * Checks a request and counts its bars: an unknown interval or symbol, a symbol asked for twice and a value
 * out of bounds (unless `lazyBounds`: then checkBounds is the caller's) fail here, before any bar is read (an
 * empty range is left to the caller).
 */
async function planRead(store: Store, req: LoadRequest, opts: { lazyBounds?: boolean } = {}): Promise<PlannedRead> {
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
  const list = `(${symbols.map(sqlString).join(', ')})`;
  const range = [req.from !== undefined ? `ts >= ${Math.ceil(req.from)}` : '', req.to !== undefined ? `ts <= ${Math.floor(req.to)}` : ''].filter(Boolean);
  const inRange = range.length ? range.join(' AND ') : 'true';
  const read: PlannedRead = { req, symbols, list, inRange, counts: new Map() };
  if (symbols.length === 0) return read;

  const where = `"interval" = ${sqlString(req.interval)} AND ${inRange}`;
  const counted = await store.conn.runAndReadAll(`
SELECT symbol, count(*) FILTER (WHERE ${where}) AS n, min(ts) FILTER (WHERE ${where})::DOUBLE AS lo, max(ts) FILTER (WHERE ${where})::DOUBLE AS hi
FROM bars WHERE symbol IN ${list} GROUP BY symbol`);
  for (const r of counted.getRowObjectsJS()) {
    const n = Number(r.n);
    read.counts.set(String(r.symbol), n);
    if (n > 0) {
      read.lo = Math.min(read.lo ?? Number.POSITIVE_INFINITY, Number(r.lo));
      read.hi = Math.max(read.hi ?? Number.NEGATIVE_INFINITY, Number(r.hi));
    }
  }
  if (!opts.lazyBounds) await checkBounds(store, read);

  const unknown = symbols.filter((s) => !read.counts.has(s));
  if (unknown.length > 0) {
    const names = unknown.map((s) => `'${s}'`).join(', ');
    throw new DataError(
      `unknown symbol${unknown.length > 1 ? 's' : ''} ${names}: not in ${store.path}; import ${unknown.length > 1 ? 'them' : 'it'} with npm run import -- <files>`,
      { rule: 'unknown-symbol', field: 'symbol' },
    );
  }
  return read;
}

/** The bars of one time window ($1 <= ts <= $2) of a planned read, ordered by (symbol, ts): prepared once, run per window. */
function windowStatement(store: Store, read: PlannedRead): Promise<DuckDBPreparedStatement> {
  return store.conn.prepare(`
SELECT ts::DOUBLE AS ts, open, high, low, close, volume
FROM bars
WHERE "interval" = ${sqlString(read.req.interval)} AND ${read.inRange} AND symbol IN ${read.list} AND ts BETWEEN $1 AND $2
ORDER BY symbol, ts`);
}

/**
 * Reads the window [from, to] into new typed arrays, one series per symbol in request order, sized by
 * `counts` (the window's bars per symbol: they must match what the statement returns).
 */
async function readWindow(
  stmt: DuckDBPreparedStatement,
  read: PlannedRead,
  from: number,
  to: number,
  counts: Map<string, number>,
  info: PriceInfo | undefined,
): Promise<BarSeries[]> {
  const out: BarSeries[] = read.symbols.map((symbol) => {
    const n = counts.get(symbol) ?? 0;
    return {
      symbol,
      interval: read.req.interval,
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
  const segments = read.symbols
    .map((symbol, sid) => ({ symbol, sid, n: counts.get(symbol) ?? 0 }))
    .filter((x) => x.n > 0)
    .sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0));
  if (segments.length > 0) {
    stmt.bindBigInt(1, BigInt(from));
    stmt.bindBigInt(2, BigInt(to));
    const result = await stmt.stream();
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
  }
  if (info) {
    for (const s of out) {
      if (info.basis.get(s.symbol) !== 'raw') continue;
      const factors = info.factors.get(s.symbol) ?? [];
      const tz = info.tz.get(s.symbol) ?? 'America/New_York';
      if (read.req.prices === 'raw') {
        (s as SeriesWithActions).actions = info.actions.get(s.symbol) ?? [];
        (s as SeriesWithActions).adjustment = { factors, tz };
      } else adjustSeries(s, factors, read.req.interval === '1d', tz);
    }
  }
  return out;
}

/** What raw or adjusted prices need of the store (read once per load, not per window). */
async function priceInfo(store: Store, symbols: string[], req: LoadRequest): Promise<PriceInfo | undefined> {
  return req.prices === 'raw' || req.prices === 'adjusted' ? readPriceInfo(store, symbols, req.interval) : undefined;
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

// As a filter rather than a count, so that DuckDB skips the blocks whose statistics are within bounds.
async function checkBounds(store: Store, read: PlannedRead): Promise<void> {
  const r = await store.conn.runAndReadAll(`
SELECT symbol, "interval", ts::DOUBLE AS ts, open, high, low, close, volume FROM bars
WHERE "interval" = ${sqlString(read.req.interval)} AND ${read.inRange} AND symbol IN ${read.list} AND NOT (${IN_BOUNDS})
ORDER BY symbol, ts LIMIT 1`);
  const row = r.getRowObjectsJS()[0];
  if (!row) return;
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

/** Bars in time windows: `next()` gives each window in time order, then null. */
export interface BarWindows {
  /** how many windows `next()` gives before null */
  readonly windows: number;
  next(): Promise<BarSeries[] | null>;
  /**
   * Gives no more windows, and runs `close` (the store's) once DuckDB reads nothing for them: at once, or
   * when the window being read ahead is in (a store must not close under a running query).
   */
  stop(close: () => void): void;
}

/**
 * The bars a window holds by default: 4 MiB of them (48 bytes a bar), so that a window's arrays stay in cache
 * and DuckDB sorts it within the small memory a run gives it (run-data.ts); smaller windows cost more queries.
 */
export const WINDOW_ROWS = Math.floor((4 * 2 ** 20) / (COLUMNS.length * Float64Array.BYTES_PER_ELEMENT));
const BUCKETS_PER_WINDOW = 16;

/**
 * The bars of `req` in time windows of at most `targetRows` rows (all symbols together), loaded one
 * window at a time, so a backtest over any length of history holds one window in memory. Unknown
 * symbols and an empty range fail at once, values out of bounds as the first window is read (with
 * loadBars's errors). Two queries size every window up front; one prepared statement reads them.
 * One window is read ahead: the first from the start, each next as the one before is handed over, so
 * DuckDB reads it while the caller replays (a read's error comes when its window is asked for).
 */
export async function chunkBars(store: Store, req: LoadRequest, targetRows = WINDOW_ROWS): Promise<BarWindows> {
  try {
    // values out of bounds fail as the first window is read, after a run has printed its configuration
    const read = await planRead(store, req, { lazyBounds: true });
    if (read.symbols.length === 0) throw new Error('chunkBars: no symbols requested');
    const empty = read.symbols.filter((s) => read.counts.get(s) === 0);
    if (empty.length > 0) throw new DataError(`no bars for ${empty.join(',')} ${req.interval} ${describeRange(req)}`, { rule: 'empty-range' });
    const lo = read.lo!;
    const hi = read.hi!;
    const where = `"interval" = ${sqlString(req.interval)} AND ${read.inRange} AND symbol IN ${read.list}`;
    // Windows of at most targetRows bars (unless one bucket alone holds more), however unevenly the bars spread
    // over time: the span is cut into equal buckets, BUCKETS_PER_WINDOW per window were the bars even, and runs
    // of consecutive buckets make the windows.
    const total = [...read.counts.values()].reduce((a, n) => a + n, 0);
    const buckets = Math.max(1, Math.ceil(total / targetRows)) * BUCKETS_PER_WINDOW;
    const width = Math.floor((hi - lo) / buckets) + 1;
    const bucket = `((ts - (${lo})) // ${width})::INTEGER`;
    const perBucket = new Float64Array(buckets);
    const byBucket = (await store.conn.runAndReadAll(`SELECT ${bucket} AS b, count(*)::DOUBLE AS n FROM bars WHERE ${where} GROUP BY ALL`)).getColumnsJS();
    for (let i = 0; i < byBucket[0]!.length; i++) perBucket[Number(byBucket[0]![i])] = Number(byBucket[1]![i]);
    const windowOf = new Int32Array(buckets).fill(-1);
    const spans: { from: number; to: number }[] = [];
    for (let b = 0, rows = 0; b < buckets; b++) {
      if (perBucket[b] === 0) continue;
      if (spans.length === 0 || rows + perBucket[b]! > targetRows) {
        spans.push({ from: lo + b * width, to: 0 });
        rows = 0;
      }
      rows += perBucket[b]!;
      spans[spans.length - 1]!.to = Math.min(lo + (b + 1) * width - 1, hi);
      windowOf[b] = spans.length - 1;
    }
    // the bars of each symbol in each window
    const perWindow = spans.map(() => new Map<string, number>());
    const byWindow = (
      await store.conn.runAndReadAll(
        `SELECT symbol, ([${windowOf.join(',')}])[${bucket} + 1] AS w, count(*)::DOUBLE AS n FROM bars WHERE ${where} GROUP BY ALL`,
      )
    ).getColumnsJS();
    for (let i = 0; i < byWindow[0]!.length; i++) perWindow[Number(byWindow[1]![i])]!.set(String(byWindow[0]![i]), Number(byWindow[2]![i]));
    const info = await priceInfo(store, read.symbols, req);
    const stmt = await windowStatement(store, read);
    const windows = spans.length;
    const readAt = async (w: number) => {
      try {
        if (w === 0) await checkBounds(store, read);
        return await readWindow(stmt, read, spans[w]!.from, spans[w]!.to, perWindow[w]!, info);
      } catch (e) {
        throw describeReadError(store.path, e as Error);
      }
    };
    let w = 0;
    // window w, read or being read (null: none left to give), and whether DuckDB is still reading it
    let ahead: Promise<BarSeries[]> | null = null;
    let reading: Promise<void> | null = null;
    const readAhead = () => {
      const idle = () => {
        reading = null;
      };
      ahead = readAt(w);
      reading = ahead.then(idle, idle); // also keeps the failure of a window never asked for from going unhandled
    };
    let prepared = true;
    let stopped = false;
    const release = () => {
      if (prepared) stmt.destroySync();
      prepared = false;
    };
    readAhead();
    return {
      windows,
      async next() {
        if (ahead === null) return null;
        const window = ahead;
        ahead = null;
        let bars: BarSeries[];
        try {
          bars = await window;
        } catch (e) {
          release();
          throw e;
        }
        // done with DuckDB once the last window is read: the caller may close the store before replaying it
        if (++w < windows && !stopped) readAhead();
        else release();
        return bars;
      },
      stop(close) {
        stopped = true;
        ahead = null;
        const end = () => {
          release();
          close();
        };
        if (reading) void reading.then(end);
        else end();
      },
    };
  } catch (e) {
    throw describeReadError(store.path, e as Error);
  }
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
