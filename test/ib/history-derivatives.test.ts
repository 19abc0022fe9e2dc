// `npm run ib -- history` for futures, options and FX pairs (issue 15), through the real @stoqey/ib client against
// the simulator over TCP: each symbol in the store's key form becomes its IB contract (engine/ib/contracts.ts), the
// right whatToShow is asked (a future's and an option's TRADES, a pair's MIDPOINT, and BID and ASK for the quoted
// ones), the bars land in `bars`, the sides in `quote_bars`, the terms in `instruments`; and a download that fails
// part way writes nothing. Real sample data: ESZ13 2013-10-07/08, EUR.USD 2014-05-01/02, GOOG's calls 2015-12-23/24;
// each simulator starts on the second day, so "1 D" of history is the first.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import type { Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { readInstruments } from '../../engine/data/instruments.ts';
import { importLean } from '../../engine/data/lean-import.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { IbConnection } from '../../engine/ib/connection.ts';
import { downloadHistory, HistoricalPacer, historyInstrument, IB_HISTORICAL_PACING, type HistorySummary } from '../../engine/ib/history.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { openRunData } from '../../engine/run/run-data.ts';
import { ROOT } from '../cli/run-cli.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const LEAN = 'data/lean-sample';
const available =
  sharedAvailable(`${LEAN}/future/es/20131008_trade.csv`) &&
  sharedAvailable(`${LEAN}/forex/eurusd/minute/oanda_20140502.csv`) &&
  sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) &&
  sharedAvailable(`${LEAN}/minute/goog`);
let dir = '';
let db = '';

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-history-derivatives-'));
  db = path.join(dir, 'source.duckdb');
  const store = await openStore(db);
  try {
    await importPaths(store, [path.join(SHARED, LEAN, 'minute/goog')], {});
    await importLean(store, [
      ...['20131007_trade.csv', '20131008_trade.csv'].map((f) => path.join(SHARED, LEAN, 'future/es', f)),
      ...['oanda_20140501.csv', 'oanda_20140502.csv'].map((f) => path.join(SHARED, LEAN, 'forex/eurusd/minute', f)),
      ...['20151223_quote.csv', '20151224_quote.csv'].map((f) => path.join(SHARED, LEAN, 'option/goog', f)),
    ]);
  } finally {
    store.close();
  }
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const NY = 'America/New_York';

/** The series and terms of `symbols` over two days, as a run reads them (an option's: its quote bars, mid OHLC). */
async function load(o: { symbols: string[]; from: string; to: string; chain?: boolean }) {
  const d = await openRunData({
    data: db,
    symbols: o.symbols,
    interval: '1m',
    from: o.from,
    to: o.to,
    tz: NY,
    ...(o.chain ? { chain: { underlying: 'GOOG', days: 1, strikes: 2, right: 'C' as const } } : {}),
  });
  const series: BarSeries[] = [];
  for (let c = await d.chunks.next(); c; c = await d.chunks.next()) series.push(...c);
  d.close();
  return { symbols: d.symbols, series, contracts: d.contracts ?? {} };
}

interface Asked {
  contract: Contract;
  what: string;
}

/**
 * Downloads "1 D" of 1-minute bars of `symbols` through a simulator replaying `series` from `day2` into a new
 * store; returns the summary (or the error), the store and what the client asked for.
 */
async function download(
  series: BarSeries[],
  contracts: Record<string, ContractTerms>,
  day2: string,
  symbols: string[],
  prepare?: (dest: Store) => Promise<void>,
) {
  const sim = await IbGatewaySimulator.start({ series, speed: 'max', from: Date.parse(`${day2}T00:00:00-04:00`), contracts, tz: NY });
  const conn = new IbConnection({ host: '127.0.0.1', port: sim.port, clientId: 5 });
  const dest = await openStore(':memory:');
  await prepare?.(dest);
  const asked: Asked[] = [];
  // what the downloader sends, seen on its way into the real client
  const send = conn.api.reqHistoricalData.bind(conn.api);
  conn.api.reqHistoricalData = ((...a: Parameters<typeof send>) => {
    asked.push({ contract: a[1], what: String(a[5]) });
    return send(...a);
  }) as typeof send;
  try {
    await conn.start();
    const result: HistorySummary | Error = await downloadHistory(
      conn,
      dest,
      symbols.map((symbol) => ({ symbol, barSize: '1 min', duration: '1 D' })),
      { pacer: new HistoricalPacer({ ...IB_HISTORICAL_PACING, identicalMs: 0, perContract: 1_000 }) },
    ).catch((e: Error) => e);
    return { result, dest, asked };
  } finally {
    conn.stop();
    await sim.close();
  }
}

const rows = async (store: Store, sql: string) => (await store.conn.runAndReadAll(sql)).getRowObjectsJS();
const dayOf = (ts: number) => new Date(ts).toLocaleDateString('en-CA', { timeZone: NY });

/** The series' bars of the day before `day2` (New York days, as the simulator counts "1 D"): [ts, open, high, low, close]. */
const dayBefore = (s: BarSeries, day1: string) =>
  Array.from(s.ts, (ts, i) => [ts, s.open[i], s.high[i], s.low[i], s.close[i]]).filter((b) => dayOf(b[0]) === day1);

describe('historyInstrument: a store key names its contract', () => {
  it('options, futures and pairs by their key forms; anything else a stock', () => {
    expect(historyInstrument('GOOG151224C00750000')).toMatchObject({
      terms: { secType: 'OPT', underlying: 'GOOG', expiry: '2015-12-24', strike: 750, right: 'C', multiplier: 100, currency: 'USD' },
      bars: 'TRADES',
      quotes: true,
    });
    expect(historyInstrument('ESZ13')).toMatchObject({
      terms: { secType: 'FUT', underlying: 'ES', expiry: '2013-12-20', multiplier: 50, currency: 'USD' },
      row: { contractMonth: '201312', localSymbol: 'ESZ3' },
      bars: 'TRADES',
      quotes: false,
    });
    expect(historyInstrument('GBP.USD')).toMatchObject({ terms: { secType: 'CASH', currency: 'USD', multiplier: 1 }, bars: 'MIDPOINT', quotes: true });
    expect(historyInstrument('SPY')).toEqual({ symbol: 'SPY', terms: undefined, row: undefined, bars: 'TRADES', quotes: false });
    // a key in a derivative's form that does not parse is refused, naming it and the rule
    expect(() => historyInstrument('GOOG151332C00750000')).toThrow(/history request: GOOG151332C00750000: .*151332 is not a date YYMMDD/);
    expect(() => historyInstrument('QQZ13')).toThrow(/history request: QQZ13: .*'QQ' has no futures spec/);
  });
});

describe.runIf(available)('npm run ib -- history for futures, options and FX pairs, against the simulator', () => {
  it('a future: TRADES of its contract month into bars, its terms into instruments', async () => {
    const { series, contracts } = await load({ symbols: ['ESZ13'], from: '2013-10-07', to: '2013-10-08' });
    const { result, dest, asked } = await download(series, contracts, '2013-10-08', ['ESZ13']);
    try {
      if (result instanceof Error) throw result;
      expect(asked.map((a) => [a.contract.secType, a.contract.symbol, a.contract.lastTradeDateOrContractMonth, a.contract.multiplier, a.what])).toEqual([
        ['FUT', 'ES', '20131220', 50, 'TRADES'],
      ]);
      const want = dayBefore(series[0], '2013-10-07');
      expect(want.length).toBeGreaterThan(300);
      const got = await rows(dest, `SELECT ts::DOUBLE AS ts, open, high, low, close FROM bars WHERE symbol = 'ESZ13' ORDER BY ts`);
      expect(got.map((r) => [r.ts, r.open, r.high, r.low, r.close])).toEqual(want);
      expect(result).toMatchObject({ rows: want.length, quoteRows: 0, instruments: ['ESZ13'], symbols: ['ESZ13'] });
      const inst = (await readInstruments(dest, ['ESZ13'])).get('ESZ13');
      expect(inst).toMatchObject({ secType: 'FUT', multiplier: 50, underlying: 'ES', expiry: '2013-12-20', contractMonth: '201312', localSymbol: 'ESZ3' });
    } finally {
      dest.close();
    }
  }, 60_000);

  it('a pair: MIDPOINT into bars (no volume), BID and ASK into quote_bars, IDEALPRO CASH terms', async () => {
    const { series, contracts } = await load({ symbols: ['EUR.USD'], from: '2014-05-01', to: '2014-05-02' });
    const { result, dest, asked } = await download(series, contracts, '2014-05-02', ['EUR.USD']);
    try {
      if (result instanceof Error) throw result;
      expect(asked.map((a) => [a.contract.secType, a.contract.symbol, a.contract.currency, a.contract.exchange, a.what])).toEqual([
        ['CASH', 'EUR', 'USD', 'IDEALPRO', 'MIDPOINT'],
        ['CASH', 'EUR', 'USD', 'IDEALPRO', 'BID'],
        ['CASH', 'EUR', 'USD', 'IDEALPRO', 'ASK'],
      ]);
      const want = dayBefore(series[0], '2014-05-01');
      expect(want.length).toBeGreaterThan(300);
      const bars = await rows(dest, `SELECT ts::DOUBLE AS ts, open, high, low, close, volume FROM bars WHERE symbol = 'EUR.USD' ORDER BY ts`);
      expect(bars.map((r) => [r.ts, r.open, r.high, r.low, r.close])).toEqual(want);
      expect(bars.every((r) => r.volume === 0)).toBe(true);
      // one quote row per bar time, both sides, sizes 0 (IB's BID and ASK bars carry none)
      const quotes = await rows(dest, `SELECT ts::DOUBLE AS ts, bid_close, ask_close, bid_size, ask_size FROM quote_bars WHERE symbol = 'EUR.USD' ORDER BY ts`);
      expect(quotes.map((q) => q.ts)).toEqual(want.map((b) => b[0]));
      expect(quotes.every((q) => typeof q.bid_close === 'number' && typeof q.ask_close === 'number' && q.bid_size === 0 && q.ask_size === 0)).toBe(true);
      expect(result).toMatchObject({ rows: want.length, quoteRows: want.length, instruments: ['EUR.USD'] });
      expect((await readInstruments(dest, ['EUR.USD'])).get('EUR.USD')).toMatchObject({
        secType: 'CASH',
        currency: 'USD',
        exchange: 'IDEALPRO',
        multiplier: 1,
      });
    } finally {
      dest.close();
    }
  }, 60_000);

  /** GOOG and its two calls nearest the money expiring within a day of 2015-12-23: the last download's results */
  const options = { series: [] as BarSeries[], quotes: [] as Record<string, unknown>[], symbol: '' };

  it('options: TRADES plus BID and ASK of the OPT contract, OCC terms; with the stock in the same download', async () => {
    const { symbols, series, contracts } = await load({ symbols: ['GOOG'], from: '2015-12-23', to: '2015-12-24', chain: true });
    const calls = symbols.filter((s) => s !== 'GOOG');
    expect(calls).toHaveLength(2);
    const { result, dest, asked } = await download(series, contracts, '2015-12-24', symbols);
    try {
      if (result instanceof Error) throw result;
      const opt = asked.filter((a) => a.contract.secType === 'OPT');
      expect(opt.map((a) => a.what)).toEqual(['TRADES', 'BID', 'ASK', 'TRADES', 'BID', 'ASK']);
      expect(opt[0].contract).toMatchObject({ symbol: 'GOOG', lastTradeDateOrContractMonth: '20151224', right: 'C', multiplier: 100, exchange: 'SMART' });
      expect(asked.filter((a) => a.contract.secType === 'STK').map((a) => [a.contract.symbol, a.what])).toEqual([['GOOG', 'TRADES']]);
      for (const [k, sym] of symbols.entries()) {
        const want = dayBefore(series[k], '2015-12-23');
        expect(want.length, sym).toBeGreaterThan(100);
        const got = await rows(dest, `SELECT ts::DOUBLE AS ts, open, high, low, close FROM bars WHERE symbol = '${sym}' ORDER BY ts`);
        expect(
          got.map((r) => [r.ts, r.open, r.high, r.low, r.close]),
          sym,
        ).toEqual(want);
      }
      const inst = await readInstruments(dest, symbols);
      expect(inst.get(calls[0])).toMatchObject({ secType: 'OPT', underlying: 'GOOG', expiry: '2015-12-24', right: 'C', multiplier: 100 });
      expect(inst.get(calls[0])!.strike).toBe(contracts[calls[0]]!.strike);
      expect(inst.get('GOOG')).toMatchObject({ secType: 'STK', multiplier: 1 }); // the stock's row as the bars import writes it
      expect(result.instruments).toEqual(calls);
      options.series = series;
      options.symbol = calls[0];
      options.quotes = await rows(dest, `SELECT ts::DOUBLE AS ts, bid_close, ask_close FROM quote_bars WHERE symbol = '${calls[0]}' ORDER BY ts`);
      expect(options.quotes.map((q) => q.ts)).toEqual(dayBefore(series[1], '2015-12-23').map((b) => b[0]));
    } finally {
      dest.close();
    }
  }, 60_000);

  // the simulator serves BID and ASK history from the series' quote columns (engine/ib/sim/historical.ts)
  it('the stored bid and ask are the quote bars’ sides', () => {
    const s = options.series[1]!;
    const want = Array.from(s.ts, (ts, i) => [ts, s.bidClose![i], s.askClose![i]]).filter((b) => dayOf(b[0]) === '2015-12-23');
    expect(want.length).toBeGreaterThan(100);
    // a minute with one side unquoted (NaN in the series) has no bar of that side at IB: NULL in quote_bars
    expect(options.quotes.map((q) => [q.ts, q.bid_close ?? NaN, q.ask_close ?? NaN])).toEqual(want);
  });

  it('all or nothing: a contract the gateway does not know fails the download, and nothing of the others is stored', async () => {
    const { series, contracts } = await load({ symbols: ['ESZ13'], from: '2013-10-07', to: '2013-10-08' });
    const { result, dest } = await download(series, contracts, '2013-10-08', ['ESZ13', 'ESH14']);
    try {
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).message).toMatch(/historical data for ESH14 \(TRADES\): IB error 200/);
      expect(await rows(dest, 'SELECT count(*)::INTEGER AS n FROM bars')).toEqual([{ n: 0 }]);
      expect(await rows(dest, 'SELECT count(*)::INTEGER AS n FROM instruments')).toEqual([{ n: 0 }]);
      expect(await rows(dest, 'SELECT count(*)::INTEGER AS n FROM quote_bars')).toEqual([{ n: 0 }]);
    } finally {
      dest.close();
    }
  }, 60_000);

  it('all or nothing: bars the import refuses take back the instruments row written before them (the old row is back)', async () => {
    // ESZ13's minute bars 09:30-10:29 of 2013-10-07 and -08, one of the first day's with its high below its low
    const day = (d: string) => Array.from({ length: 60 }, (_, i) => Date.parse(`${d}T09:30:00-04:00`) + i * 60_000);
    const ts = Float64Array.from([...day('2013-10-07'), ...day('2013-10-08')]);
    const px = Float64Array.from(ts, (_, i) => 1680 + (i % 7) * 0.25);
    const high = Float64Array.from(px, (p) => p + 0.5);
    high[10] = px[10] - 1;
    const es: BarSeries = {
      symbol: 'ESZ13',
      interval: '1m',
      ts,
      open: px,
      high,
      low: Float64Array.from(px, (p) => p - 0.5),
      close: px,
      volume: px.map(() => 100),
    };
    const terms = historyInstrument('ESZ13').terms!;
    const before = `INSERT INTO instruments (symbol, sec_type, exchange, currency, sector) VALUES ('ESZ13', 'FUT', 'GLOBEX', 'USD', 'index futures')`;
    const { result, dest } = await download([es], { ESZ13: terms }, '2013-10-08', ['ESZ13'], async (d) => void (await d.conn.run(before)));
    try {
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).message).toMatch(/high|low/i);
      expect(await rows(dest, 'SELECT count(*)::INTEGER AS n FROM bars')).toEqual([{ n: 0 }]);
      // the row as it was: not the terms the download wrote (multiplier 50, CME, expiry) before the bars failed
      expect(await rows(dest, 'SELECT symbol, sec_type, exchange, currency, sector, multiplier, expiry FROM instruments')).toEqual([
        { symbol: 'ESZ13', sec_type: 'FUT', exchange: 'GLOBEX', currency: 'USD', sector: 'index futures', multiplier: null, expiry: null },
      ]);
    } finally {
      dest.close();
    }
  }, 60_000);

  it('npm run ib -- history eur.usd: the pair (upper-cased) with its quote bars, in a DuckDB file', async () => {
    const { series, contracts } = await load({ symbols: ['EUR.USD'], from: '2014-05-01', to: '2014-05-02' });
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', from: Date.parse('2014-05-02T00:00:00-04:00'), contracts, tz: NY });
    const file = path.join(dir, 'cli.duckdb');
    try {
      // not spawnSync: the simulator lives in this process and must keep answering
      const r = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(ROOT, 'scripts/ib.ts'),
          'history',
          'eur.usd',
          '--gateway',
          `127.0.0.1:${sim.port}`,
          '--duration',
          '1 D',
          '--db',
          file,
          '--json',
        ],
        { cwd: ROOT, timeout: 60_000 },
      );
      const want = dayBefore(series[0], '2014-05-01').length;
      expect(JSON.parse(r.stdout)).toEqual({
        history: [{ symbols: 'EUR.USD', interval: '1m', rows: want, quote_rows: want, instruments: 'EUR.USD', db: file }],
      });
    } finally {
      await sim.close();
    }
    const store = await openStore(file);
    try {
      expect(await rows(store, `SELECT count(*)::INTEGER AS n FROM quote_bars WHERE symbol = 'EUR.USD'`)).toEqual([
        { n: dayBefore(series[0], '2014-05-01').length },
      ]);
    } finally {
      store.close();
    }
  }, 90_000);
});
