// The data a run reads: its store (the bundled sample by default), symbols, dates and prices, as time-windowed
// chunks or whole series; shared by the CLIs (scripts/lib/run-data.ts re-exports it) and the notebook API.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '../duckdb.ts';
import { zoneOffset } from '../core/calendar.ts';
import { INTERVAL_MS, type BarSeries, type ContractTerms, type EpochMs, type Interval } from '../core/types.ts';
import { readInstruments } from '../data/instruments.ts';
import { futuresMargin } from '../instruments/specs.ts';
import { nearestStrikes } from '../options/chain.ts';
import { FxMarks, type FxSeries } from '../portfolio/fx-marks.ts';
import { importPaths } from '../data/import.ts';
import { resolvePrices, type PriceMode, type RunPrices } from '../data/actions.ts';
import { chunkBars, loadBars, readPriceInfo } from '../data/load.ts';
import { loadQuoteSeries, quotedSymbols } from '../data/quote-load.ts';
import type { BarChunks } from './backtest.ts';
import { ensureSampleDb } from '../data/sample.ts';
import { DEFAULT_DB_PATH, openStore, sqlString, type Store } from '../data/store.ts';
import { describeOpenError, describeReadError } from '../data/store-errors.ts';
import { SAMPLE_DB_PATH } from '../data/store-paths.ts';

export { DEFAULT_DB_PATH, SAMPLE_DB_PATH };

export interface RunData {
  symbols: string[];
  /** the bars, streamed in time windows from the open store */
  chunks: BarChunks;
  sectors: string[];
  /** where the bars came from, for the report */
  source: string;
  /** the prices loaded: raw with corporate actions, adjusted, or as stored (see resolvePrices) */
  prices: RunPrices;
  /** run symbols whose bars are of unknown basis (imported with neither --factors nor --adjusted) */
  unknownBasis: string[];
  /** the contract terms of the symbols that are not US stocks (instruments table); absent when all are */
  contracts?: Record<string, ContractTerms>;
  /** the rates into `baseCurrency` of the other currencies the symbols are in; absent when there are none */
  fx?: FxMarks;
  close(): void;
}

/** The run's price mode from `--prices` (absent: the default for the data) and the symbols of unknown basis. */
async function runPrices(store: Store, symbols: string[], interval: Interval, requested?: PriceMode): Promise<{ prices: RunPrices; unknownBasis: string[] }> {
  const info = await readPriceInfo(store, symbols, interval);
  const prices = resolvePrices(requested, info.basis, symbols);
  return { prices, unknownBasis: symbols.filter((s) => (info.basis.get(s.toUpperCase()) ?? 'unknown') === 'unknown') };
}

/** YYYY-MM-DD as the first (or last) instant of that exchange-local day. */
export function parseDay(flag: string, s: string, interval: Interval, tz: string, end: boolean): EpochMs {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const utc = m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : NaN;
  if (!m || Number.isNaN(utc) || new Date(utc).toISOString().slice(0, 10) !== s) throw new Error(`--${flag} must be a date YYYY-MM-DD, got '${s}'`);
  const dayStart = interval === '1d' ? utc : utc - zoneOffset(tz, utc);
  return end ? dayStart + 86_400_000 - 1 : dayStart;
}

/**
 * Opens the run's data: a .duckdb file as it is, read-only (any number of runs and notebooks read one file at
 * once; only imports take it for writing), or CSV/Parquet files imported (and validated) into an in-memory
 * database. With no --data, the bundled sample's own database (SAMPLE_DB_PATH, data/sample.duckdb), created from
 * data/sample on first use (that one import takes the write lock once; every later run only reads). The user's
 * data/market.duckdb (npm run import's default) is read only when --data names it, so importing into it never
 * changes what a command without --data runs.
 */
export async function openRunStore(o: {
  data?: string;
  symbols?: string[];
  interval: Interval;
  from?: string;
  to?: string;
  tz: string;
}): Promise<{ store: Store; source: string; from?: EpochMs; to?: EpochMs }> {
  const from = o.from ? parseDay('from', o.from, o.interval, o.tz, false) : undefined;
  const to = o.to ? parseDay('to', o.to, o.interval, o.tz, true) : undefined;
  if (from !== undefined && to !== undefined && from > to) throw new Error(`empty date range: --from ${o.from} is after --to ${o.to}`);
  if (o.data === undefined) {
    await ensureSampleDb(SAMPLE_DB_PATH);
    return { store: await openStore(SAMPLE_DB_PATH, { readOnly: true }), source: SAMPLE_DB_PATH, from, to };
  }
  if (o.data.endsWith('.duckdb')) {
    if (!existsSync(o.data)) throw new Error(`--data ${o.data}: no such database; create it with npm run import -- <files> --db ${o.data}`);
    return { store: await openStore(o.data, { readOnly: true }), source: o.data, from, to };
  }
  if (!existsSync(o.data)) throw new Error(`--data ${o.data}: no such file or folder`);
  const store = await openStore(':memory:');
  try {
    await importPaths(store, filesFor(o.data, o.symbols), { interval: o.interval, tz: o.tz });
  } catch (e) {
    store.close();
    throw e;
  }
  return { store, source: o.data, from, to };
}

/** What a run reads: its data (see openRunStore), symbols (default: all of the interval), dates and prices. */
export interface RunDataOptions {
  data?: string;
  symbols?: string[];
  interval: Interval;
  from?: string;
  to?: string;
  tz: string;
  /** absent: the default for the data (see resolvePrices) */
  prices?: PriceMode;
  /** the account's currency (absent: USD): rates are read for every other currency the symbols are in */
  baseCurrency?: string;
  /** option contracts to add to the symbols (after them): an underlying's chain, filtered (see chainSymbols) */
  chain?: ChainSelection;
}

/** Which of an underlying's options a run trades (`--chain GOOG --chain-days 7 --chain-strikes 10`). */
export interface ChainSelection {
  underlying: string;
  /** options expiring within this many days of the run's first day (default 30) */
  days?: number;
  /** the strikes nearest the underlying's first close in the run (default 10) */
  strikes?: number;
  /** calls or puts only (default both) */
  right?: 'C' | 'P';
}

/** DuckDB's memory for reading a run's windows (see openRunData). */
const RUN_DUCKDB_MEMORY = '32MB';

/** The run's data as time-windowed chunks (see openRunStore for where it comes from). */
export async function openRunData(o: RunDataOptions): Promise<RunData> {
  const { store, source, from, to } = await openRunStore(o);
  try {
    // The replay reads one window at a time (WINDOW_ROWS bars, which DuckDB sorts in a few MB), so DuckDB needs no
    // cache of the file's blocks: with this cap, reading 1M and 20M minute bars peaks at about 200 and 230 MB RSS,
    // where 128 MB (and larger windows) let it reach 245 and 375 (npm run bench -- --only memory).
    await store.conn.run(`SET memory_limit = '${RUN_DUCKDB_MEMORY}'`);
    const listed = (o.symbols ?? (await symbolsOf(store, o.interval))).map((s) => s.toUpperCase());
    if (listed.length === 0) throw new Error(`no ${o.interval} bars in ${source}; import some with npm run import -- <files> --interval ${o.interval}`);
    const options = o.chain ? await chainSymbols(store, o.chain, o.interval, from, to) : [];
    const symbols = [...listed, ...options.filter((s) => !listed.includes(s))];
    const sectors = await sectorsOf(store, symbols);
    const contracts = await contractsOf(store, symbols, o.interval, from);
    const fx = await fxMarksFor(
      store,
      o.baseCurrency ?? 'USD',
      symbols.map((s) => contracts?.[s]?.currency ?? 'USD'),
    );
    const quoted = await quotedSymbols(
      store,
      symbols.filter((s) => contracts?.[s]?.secType === 'CASH' || contracts?.[s]?.secType === 'OPT'),
      o.interval,
    );
    // quote bars have no split or dividend basis: the prices mode is the traded bars' (all of them when none is quoted)
    const traded = symbols.filter((s) => !quoted.has(s));
    const { prices, unknownBasis } = await runPrices(store, traded.length > 0 ? traded : symbols, o.interval, o.prices);
    if (quoted.size > 0) {
      // FX pairs and options trade on their quote bars, read whole (such runs are short); the rest with them
      try {
        const bars = traded.length > 0 ? await loadBars(store, { symbols: traded, interval: o.interval, from, to, prices }) : [];
        const quotes = await loadQuoteSeries(store, [...quoted], o.interval, from, to);
        const bySymbol = new Map([...bars, ...quotes].map((s) => [s.symbol, s]));
        const series = symbols.map((s) => bySymbol.get(s)!);
        let given = false;
        const chunks: BarChunks = {
          async next() {
            if (given) return null;
            given = true;
            return series;
          },
        };
        return { symbols, chunks, sectors, source, prices, unknownBasis, ...(contracts ? { contracts } : {}), ...(fx ? { fx } : {}), close: () => {} };
      } finally {
        store.close();
      }
    }
    const windows = await chunkBars(store, { symbols, interval: o.interval, from, to, prices });
    let left = windows.windows;
    const chunks: BarChunks = {
      async next() {
        const bars = await windows.next();
        // the last window is read: DuckDB's memory is given back before the replay reaches its end, where the
        // engine holds the most (close is idempotent: the caller's close() later does nothing)
        if (bars === null || --left === 0) store.close();
        return bars;
      },
    };
    // a run that stops early closes the store once the window read ahead is in
    return {
      symbols,
      chunks,
      sectors,
      source,
      prices,
      unknownBasis,
      ...(contracts ? { contracts } : {}),
      ...(fx ? { fx } : {}),
      close: () => windows.stop(() => store.close()),
    };
  } catch (e) {
    store.close();
    throw e;
  }
}

/**
 * The option contracts of `c.underlying` a run adds: those expiring within `c.days` of the run's first day (its
 * --from, else the underlying's first bar), of the `c.strikes` strikes nearest the underlying's first close in the
 * run, with quote bars in the run; ordered by expiry, strike, right. None found is an error that says why.
 */
export async function chainSymbols(store: Store, c: ChainSelection, interval: Interval, from?: EpochMs, to?: EpochMs): Promise<string[]> {
  const und = c.underlying.toUpperCase();
  const inRange = [from !== undefined ? `ts >= ${from}` : '', to !== undefined ? `ts <= ${to}` : ''].filter(Boolean).join(' AND ') || 'true';
  const first = (
    await store.conn.runAndReadAll(
      `SELECT ts::DOUBLE AS ts, close FROM bars WHERE symbol = ${sqlString(und)} AND "interval" = ${sqlString(interval)} AND ${inRange} ORDER BY ts LIMIT 1`,
    )
  ).getRowObjectsJS()[0];
  if (!first) throw new Error(`--chain ${und}: no ${interval} bars of ${und} in the run's dates in ${store.path}: import the underlying too`);
  const day = new Date(Number(first.ts)).toISOString().slice(0, 10);
  const days = c.days ?? 30;
  const rows = (
    await store.conn.runAndReadAll(`
SELECT i.symbol, i.strike, i.option_right AS "right" FROM instruments i
WHERE i.sec_type = 'OPT' AND i.underlying = ${sqlString(und)} AND i.expiry >= DATE ${sqlString(day)} AND i.expiry <= DATE ${sqlString(day)} + ${days}
  ${c.right ? `AND i.option_right = ${sqlString(c.right)}` : ''}
  AND EXISTS (SELECT 1 FROM quote_bars q WHERE q.symbol = i.symbol AND q."interval" = ${sqlString(interval)} AND ${inRange.replaceAll('ts', 'q.ts')})
ORDER BY i.expiry, i.strike, i.option_right`)
  ).getRowObjectsJS();
  if (rows.length === 0) {
    throw new Error(
      `--chain ${und}: no ${c.right ?? ''}${c.right ? ' ' : ''}options of ${und} expiring ${day} .. ${days} days later with ${interval} quote bars in the run in ${store.path}; import them with npm run import -- --lean <option folder>`,
    );
  }
  const spot = Number(first.close);
  const keep = new Set(
    nearestStrikes(
      rows.map((r) => Number(r.strike)),
      spot,
      c.strikes ?? 10,
    ),
  );
  return rows.filter((r) => keep.has(Number(r.strike))).map((r) => String(r.symbol));
}

/**
 * The contract terms of the run's symbols that are not US stocks, from the instruments table (undefined: none);
 * a future's margins are the margin table's (engine/instruments/specs.ts) on the run's first day.
 */
async function contractsOf(store: Store, symbols: readonly string[], interval: Interval, from?: EpochMs): Promise<Record<string, ContractTerms> | undefined> {
  const rows = await readInstruments(store, symbols);
  const out: Record<string, ContractTerms> = {};
  for (const s of symbols) {
    const r = rows.get(s);
    if (!r || (r.secType === 'STK' && r.multiplier === 1 && r.currency === 'USD')) continue;
    if (r.secType === 'FUT' && r.underlying !== null) {
      const day = await firstDay(store, s, interval, from);
      const m = futuresMargin(r.underlying, day);
      if (m.currency !== r.currency) throw new Error(`the margin table gives ${r.underlying} margins in ${m.currency}, the contract trades in ${r.currency}`);
      out[s] = {
        secType: 'FUT',
        multiplier: r.multiplier,
        currency: r.currency,
        expiry: r.expiry!,
        underlying: r.underlying,
        initialMargin: m.initial,
        maintenanceMargin: m.maintenance,
      };
      continue;
    }
    out[s] = {
      secType: r.secType,
      multiplier: r.multiplier,
      currency: r.currency,
      ...(r.expiry !== null ? { expiry: r.expiry } : {}),
      ...(r.strike !== null ? { strike: r.strike } : {}),
      ...(r.right !== null ? { right: r.right } : {}),
      ...(r.underlying !== null ? { underlying: r.underlying } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The daily rates into `base` of every other currency among `currencies`, from the store's FX pairs ('GBP.USD'
 * mid bars, as npm run import -- --lean writes them): the pair quoted either way round, a rate in force from its
 * day's end (the bar's start + 1 day: Oanda's days are UTC days). Undefined when every currency is the base.
 */
async function fxMarksFor(store: Store, base: string, currencies: readonly string[]): Promise<FxMarks | undefined> {
  const foreign = [...new Set(currencies.filter((c) => c !== base))].sort();
  if (foreign.length === 0) return undefined;
  const series: FxSeries[] = [];
  for (const c of foreign) {
    const pairs = [`${c}.${base}`, `${base}.${c}`];
    const r = await store.conn.runAndReadAll(
      `SELECT symbol, ts::DOUBLE AS ts, close FROM bars WHERE "interval" = '1d' AND symbol IN (${pairs.map(sqlString).join(', ')}) ORDER BY symbol, ts`,
    );
    const cols = r.getColumnsJS();
    const symbol = cols[0]?.[0] as string | undefined;
    if (symbol === undefined) {
      throw new Error(
        `the run trades in ${c} and the account is in ${base}: no daily ${pairs.join(' or ')} bars in ${store.path}; import them, e.g. npm run import -- --lean ../shared/data/lean-sample/forex/${base.toLowerCase()}${c.toLowerCase()}/daily/oanda.csv --db ${store.path}`,
      );
    }
    const n = cols[0]!.filter((s) => s === symbol).length;
    const inverted = symbol === `${base}.${c}`;
    series.push({
      currency: c,
      closeAt: Float64Array.from({ length: n }, (_, i) => Number(cols[1]![i]) + INTERVAL_MS['1d']),
      toBase: Float64Array.from({ length: n }, (_, i) => (inverted ? 1 / Number(cols[2]![i]) : Number(cols[2]![i]))),
      source: `${symbol} 1d closes${inverted ? ', inverted' : ''}`,
    });
  }
  return new FxMarks(base, series);
}

/** The run's first day, YYYY-MM-DD: --from, else the symbol's first bar's (UTC) date. */
async function firstDay(store: Store, symbol: string, interval: Interval, from?: EpochMs): Promise<string> {
  if (from !== undefined) return new Date(from).toISOString().slice(0, 10);
  const r = await store.conn.runAndReadAll(
    `SELECT min(ts)::DOUBLE AS ts FROM bars WHERE symbol = ${sqlString(symbol)} AND "interval" = ${sqlString(interval)}`,
  );
  return new Date(Number(r.getRowObjectsJS()[0]?.ts)).toISOString().slice(0, 10);
}

/**
 * The run's bars in memory (sweeps and promotion need them whole). Those run US stocks in USD only: a symbol with
 * other contract terms is refused, unless `anyInstrument` (reading bars to show them, not to trade them).
 */
export async function loadRunSeries(
  o: RunDataOptions,
  { anyInstrument = false } = {},
): Promise<{ series: BarSeries[]; source: string; prices: RunPrices; unknownBasis: string[] }> {
  const { store, source, from, to } = await openRunStore(o);
  try {
    const symbols = o.symbols ?? (await symbolsOf(store, o.interval));
    const contracts = anyInstrument ? undefined : await contractsOf(store, symbols, o.interval, from);
    const other = contracts && Object.entries(contracts)[0];
    if (other) {
      const [symbol, t] = other;
      throw new Error(
        `${symbol} is ${t.secType === 'STK' ? 'a stock' : `a ${t.secType}`} with multiplier ${t.multiplier} in ${t.currency}: sweeps, walk-forward, promotion and model training run US stocks in USD only (multipliers, margins and currencies are applied by npm run backtest and tb.backtest); backtest it with those`,
      );
    }
    const { prices, unknownBasis } = await runPrices(store, symbols, o.interval, o.prices);
    return { series: await loadBars(store, { symbols, interval: o.interval, from, to, prices }), source, prices, unknownBasis };
  } finally {
    store.close();
  }
}

/** A folder with one file per symbol: only the requested symbols' files (all of it otherwise). */
function filesFor(data: string, symbols?: string[]): string[] {
  if (!symbols || !statSync(data).isDirectory()) return [data];
  const DATA_FILE = /\.(csv|csv\.gz|parquet)$/i;
  const byName = new Map(
    readdirSync(data)
      .filter((f) => DATA_FILE.test(f))
      .map((f) => [f.replace(DATA_FILE, '').toUpperCase(), f]),
  );
  const files = symbols.map((s) => byName.get(s.toUpperCase()));
  return files.every((f) => f !== undefined) ? files.map((f) => path.join(data, f!)) : [data];
}

async function symbolsOf(store: Store, interval: Interval): Promise<string[]> {
  try {
    const r = await store.conn.runAndReadAll(`SELECT DISTINCT symbol FROM bars WHERE "interval" = ${sqlString(interval)} ORDER BY symbol`);
    return r.getRowObjectsJS().map((x) => String(x.symbol));
  } catch (e) {
    throw describeReadError(store.path, e as Error);
  }
}

/**
 * The sector of each symbol from the instrument master of the run's data (the bundled sample's database by
 * default); '' for each when there is no data to read (a gateway run without --data and no sample database yet).
 */
export async function loadSectors(o: { data?: string; symbols: string[]; interval: Interval; tz: string; optional: boolean }): Promise<string[]> {
  if (o.optional && !existsSync(o.data ?? SAMPLE_DB_PATH)) return o.symbols.map(() => '');
  const { store } = await openRunStore({ data: o.data, symbols: o.symbols, interval: o.interval, tz: o.tz });
  try {
    return await sectorsOf(store, o.symbols);
  } finally {
    store.close();
  }
}

async function sectorsOf(store: Store, symbols: string[]): Promise<string[]> {
  let r;
  try {
    r = await store.conn.runAndReadAll(`SELECT symbol, coalesce(sector, '') AS sector FROM instruments`);
  } catch (e) {
    throw describeReadError(store.path, e as Error);
  }
  const m = new Map(r.getRowObjectsJS().map((x) => [String(x.symbol), String(x.sector)]));
  return symbols.map((s) => m.get(s.toUpperCase()) ?? '');
}

/**
 * Fails at once if an existing journal database cannot be opened for writing (another process holds it),
 * so a long run does not find out only at its end. Changes nothing in the file.
 */
export async function checkJournalWritable(dbPath: string): Promise<void> {
  if (!existsSync(dbPath)) return;
  let probe: DuckDBInstance;
  try {
    probe = await DuckDBInstance.create(dbPath);
  } catch (e) {
    throw describeOpenError(dbPath, e as Error, false);
  }
  probe.closeSync();
}

/** Opens (creating) the journal database and runs `write` on it. */
export async function openJournalTarget(dbPath: string, write: (conn: DuckDBConnection) => Promise<void>): Promise<void> {
  const store = await openStore(dbPath);
  try {
    await write(store.conn);
  } finally {
    store.close();
  }
}
