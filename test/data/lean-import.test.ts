// importLean on the real LEAN sample files (../shared/data/lean-sample, DERIVATIVES.md): row counts from
// DERIVATIVES.md's tables, values read back against the files' own lines, instruments from engine/instruments,
// crossed FXCM bars, bad rows, the transaction and re-imports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { readInstruments } from '../../engine/data/instruments.ts';
import { formatLeanSummary, importLean, type LeanImportSummary } from '../../engine/data/lean-import.ts';
import type { Store } from '../../engine/data/store.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { caught, storeIn, tempDir, writeText } from './helpers.ts';

const LEAN = 'data/lean-sample';
const lean = (rel: string) => path.join(SHARED, LEAN, rel);
const ES_FILES = [
  'future/es/daily_trade.csv',
  'future/es/20131007_trade.csv',
  'future/es/20131008_trade.csv',
  'future/es/20131007_quote.csv',
  'future/es/20131007_openinterest.csv',
  'future/es/daily_openinterest.csv',
];
const GOOG_FILES = ['option/goog/20151224_trade.csv', 'option/goog/20151224_quote.csv', 'option/goog/20151224_openinterest.csv'];
const FX_FILES = ['forex/gbpusd/daily/oanda.csv', 'forex/eurusd/minute/oanda_20140501.csv'];
const utc = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);

async function rows(store: Store, sql: string): Promise<Record<string, unknown>[]> {
  return (await store.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** Row counts and a content hash of every table an import writes. */
async function tableState(store: Store): Promise<string> {
  const out: string[] = [];
  for (const t of ['bars', 'quote_bars', 'open_interest', 'instruments', 'price_basis']) {
    const [r] = await rows(store, `SELECT count(*) AS n, coalesce(bit_xor(hash(COLUMNS(*))), 0) AS h FROM (SELECT * FROM ${t})`);
    out.push(`${t}:${r!.n}:${JSON.stringify(Object.values(r!).slice(1), (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  return out.join(' ');
}

/** The distinct contracts (right, strike, expiry) of option files, read here independently of the importer. */
function optionContracts(files: string[]): Set<string> {
  const set = new Set<string>();
  for (const f of files) {
    const lines = readFileSync(lean(f), 'utf8').trim().split('\n').slice(1);
    for (const l of lines) {
      const [, right, strike, expiry] = l.split(',');
      set.add(`${right} ${Number(strike)} ${expiry}`);
    }
  }
  return set;
}

describe.runIf(sharedAvailable(LEAN))('importLean on the LEAN sample', () => {
  const tmp = tempDir('tradebench-lean-');
  let store: Store;
  let es: LeanImportSummary;
  let goog: LeanImportSummary;
  let fx: LeanImportSummary;
  beforeAll(async () => {
    store = await storeIn(tmp.dir);
    es = await importLean(store, ES_FILES.map(lean));
    goog = await importLean(store, [...GOOG_FILES, 'option/twx/20140605_openinterest.csv'].map(lean));
    fx = await importLean(store, FX_FILES.map(lean));
  }, 30_000);
  afterAll(() => {
    store?.close();
    tmp.cleanup();
  });

  it('ES: row counts as in DERIVATIVES.md, one instrument per contract month', async () => {
    // bars: daily 203 + 20131007 1671 + 20131008 1721; quotes: 20131007 3907; OI: 20131007 15 + daily 47
    // crossed: 2 of the 5 crossed ES minutes DERIVATIVES.md counts are on this day (counted here from the file)
    const crossed = readFileSync(lean('future/es/20131007_quote.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[7] !== '' && c[12] !== '' && Number(c[7]) > Number(c[12])).length;
    expect(crossed).toBe(2);
    expect(es.kinds.future).toEqual({ files: 6, instruments: 10, bars: 203 + 1671 + 1721, quoteBars: 3907, openInterest: 15 + 47, crossed });
    // contract months: daily_trade's 8 (201312..201412, 202003..202009) and daily OI's 202012, 202103
    const inst = await rows(store, `SELECT symbol FROM instruments WHERE sec_type = 'FUT' ORDER BY symbol`);
    expect(inst.map((r) => r.symbol)).toEqual(['ESH14', 'ESH20', 'ESH21', 'ESM14', 'ESM20', 'ESU14', 'ESU20', 'ESZ13', 'ESZ14', 'ESZ20']);
    const byIv = await rows(store, `SELECT "interval", count(*)::INTEGER AS n FROM bars WHERE symbol LIKE 'ES%' GROUP BY 1 ORDER BY 1`);
    expect(byIv).toEqual([
      { interval: '1d', n: 203 },
      { interval: '1m', n: 1671 + 1721 },
    ]);
  });

  it('ES: ESZ13 daily 2013-10-07 and a minute bar read back as in the files, at the right instants', async () => {
    // daily_trade.csv: 2013-10-07,2013-12,2013-12-20,1669,1679.5,1667,1668,1374818 -> 00:00 UTC of the date
    const [d] = await rows(
      store,
      `SELECT ts, open, high, low, close, volume FROM bars WHERE symbol = 'ESZ13' AND "interval" = '1d' AND ts = ${utc('2013-10-07 00:00:00')}`,
    );
    expect(d).toEqual({ ts: BigInt(utc('2013-10-07 00:00:00')), open: 1669, high: 1679.5, low: 1667, close: 1668, volume: 1374818 });
    // 20131007_trade.csv line 859: 2013-10-07 09:30:00 ET = 13:30:00 UTC (EDT), 1669,1670.25,1669,1669.5,5031
    const [m] = await rows(
      store,
      `SELECT open, high, low, close, volume FROM bars WHERE symbol = 'ESZ13' AND "interval" = '1m' AND ts = ${utc('2013-10-07 13:30:00')}`,
    );
    expect(m).toEqual({ open: 1669, high: 1670.25, low: 1669, close: 1669.5, volume: 5031 });
    // daily_openinterest.csv: 2013-10-07,2013-12,2013-12-20,2674467
    const [oi] = await rows(store, `SELECT open_interest FROM open_interest WHERE symbol = 'ESZ13' AND ts = ${utc('2013-10-07 00:00:00')}`);
    expect(oi!.open_interest).toBe(2674467);
  });

  it('ES: the instrument row comes from engine/instruments (CME, multiplier 50, tick 0.25, 3rd Friday, IB local symbol)', async () => {
    const m = await readInstruments(store, ['ESZ13', 'ESH14']);
    expect(m.get('ESZ13')).toMatchObject({
      secType: 'FUT',
      exchange: 'CME',
      currency: 'USD',
      multiplier: 50,
      tickSize: 0.25,
      underlying: 'ES',
      expiry: '2013-12-20', // 3rd Friday of December 2013
      contractMonth: '201312',
      localSymbol: 'ESZ3',
      strike: null,
      right: null,
      stored: true,
    });
    expect(m.get('ESH14')).toMatchObject({ expiry: '2014-03-21', contractMonth: '201403', localSymbol: 'ESH4' });
  });

  it('GOOG 2015-12-24: trade, quote and open-interest counts as in DERIVATIVES.md, one instrument per contract', async () => {
    // the TWX OI file (184 rows, 184 contracts) is imported alongside
    const contracts = optionContracts(GOOG_FILES);
    expect(goog.kinds.option).toEqual({ files: 4, instruments: contracts.size + 184, bars: 958, quoteBars: 199465, openInterest: 2058 + 184, crossed: 0 });
    const [n] = await rows(store, `SELECT count(*)::INTEGER AS n FROM instruments WHERE sec_type = 'OPT' AND underlying = 'GOOG'`);
    expect(n!.n).toBe(contracts.size);
    const [q] = await rows(store, `SELECT count(*)::INTEGER AS n, count(DISTINCT symbol)::INTEGER AS s FROM quote_bars WHERE symbol LIKE 'GOOG%'`);
    expect(q).toEqual({ n: 199465, s: 1386 });
  });

  it('an OCC instrument row: expiry, strike, right, multiplier 100, padded local symbol; a Saturday OCC date expires the Friday', async () => {
    const m = await readInstruments(store, ['GOOG151224C00750000', 'TWX140621C00070000']);
    expect(m.get('GOOG151224C00750000')).toEqual({
      symbol: 'GOOG151224C00750000',
      secType: 'OPT',
      exchange: 'SMART',
      currency: 'USD',
      multiplier: 100,
      tickSize: 0.01,
      underlying: 'GOOG',
      expiry: '2015-12-24', // a Thursday weekly: its OCC date is its last trading day
      strike: 750,
      right: 'C',
      contractMonth: null,
      localSymbol: 'GOOG  151224C00750000',
      tz: 'America/New_York',
      sector: null,
      stored: true,
    });
    // TWX 2014-06-21 is a Saturday (a standard monthly before 2015): last trading day Friday 2014-06-20
    expect(m.get('TWX140621C00070000')).toMatchObject({ expiry: '2014-06-20', strike: 70, localSymbol: 'TWX   140621C00070000', multiplier: 100 });
    // twx/20140605_openinterest.csv line 73: 2014-06-05 06:32:00,C,70,2014-06-21,4871 (06:32 EDT = 10:32 UTC)
    const [oi] = await rows(store, `SELECT ts, open_interest FROM open_interest WHERE symbol = 'TWX140621C00070000'`);
    expect(oi).toEqual({ ts: BigInt(utc('2014-06-05 10:32:00')), open_interest: 4871 });
  });

  it('an option quote bar with no bid: NULL bid prices, bid size 0, the ask as in the file', async () => {
    // 20151224_quote.csv line 3: 2015-12-24 09:30:00,P,600,2015-12-24,,,,,0,0.5000,0.5000,0.5000,0.5000,14 (EST: 14:30 UTC)
    const [q] = await rows(store, `SELECT * EXCLUDE (symbol) FROM quote_bars WHERE symbol = 'GOOG151224P00600000' AND ts = ${utc('2015-12-24 14:30:00')}`);
    expect(q).toEqual({
      interval: '1m',
      ts: BigInt(utc('2015-12-24 14:30:00')),
      bid_open: null,
      bid_high: null,
      bid_low: null,
      bid_close: null,
      bid_size: 0,
      ask_open: 0.5,
      ask_high: 0.5,
      ask_low: 0.5,
      ask_close: 0.5,
      ask_size: 14,
    });
    // 20151224_trade.csv line 5: 2015-12-24 09:30:00,C,750,2015-12-24,1.5000,1.8000,1.5000,1.8000,2
    const [t] = await rows(store, `SELECT "interval", open, high, low, close, volume FROM bars WHERE symbol = 'GOOG151224C00750000' ORDER BY ts LIMIT 1`);
    expect(t).toEqual({ interval: '1m', open: 1.5, high: 1.8, low: 1.5, close: 1.8, volume: 2 });
  });

  it('FX: GBP.USD Oanda daily and EUR.USD minute: quote bars and their mid bars, the pair instrument', async () => {
    // GBPUSD daily 3738 rows, EURUSD 2014-05-01 1363 rows; each row one quote bar and one mid bar
    expect(fx.kinds.forex).toEqual({ files: 2, instruments: 2, bars: 3738 + 1363, quoteBars: 3738 + 1363, openInterest: 0, crossed: 0 });
    // oanda.csv line 2: 2007-01-01,1.95813,1.96383,1.9578,1.96325,1.95913,1.96483,1.9588,1.96425
    const [q] = await rows(
      store,
      `SELECT "interval", bid_open, bid_close, ask_close, bid_size, ask_size FROM quote_bars WHERE symbol = 'GBP.USD' ORDER BY ts LIMIT 1`,
    );
    expect(q).toEqual({ interval: '1d', bid_open: 1.95813, bid_close: 1.96325, ask_close: 1.96425, bid_size: 0, ask_size: 0 });
    const [b] = await rows(store, `SELECT ts, open, high, low, close, volume FROM bars WHERE symbol = 'GBP.USD' AND "interval" = '1d' ORDER BY ts LIMIT 1`);
    // mid = (bid + ask) / 2 per field: open (1.95813 + 1.95913) / 2 = 1.95863, high 1.96433, low 1.9583, close 1.96375
    expect(b!.ts).toBe(BigInt(utc('2007-01-01 00:00:00')));
    expect(b!.open).toBeCloseTo(1.95863, 12);
    expect(b!.high).toBeCloseTo(1.96433, 12);
    expect(b!.low).toBeCloseTo(1.9583, 12);
    expect(b!.close).toBeCloseTo(1.96375, 12);
    expect(b!.volume).toBe(0);
    // oanda_20140501.csv line 2: 2014-05-01 00:00:00 UTC, bid close 1.38686, ask close 1.38697 -> mid 1.386915
    const [m] = await rows(store, `SELECT ts, close FROM bars WHERE symbol = 'EUR.USD' AND "interval" = '1m' ORDER BY ts LIMIT 1`);
    expect(m!.ts).toBe(BigInt(utc('2014-05-01 00:00:00')));
    expect(m!.close).toBeCloseTo(1.386915, 12);
    const inst = await readInstruments(store, ['GBP.USD']);
    expect(inst.get('GBP.USD')).toMatchObject({
      secType: 'CASH',
      exchange: 'IDEALPRO',
      currency: 'USD',
      multiplier: 1,
      tickSize: 0.00005,
      localSymbol: 'GBP.USD',
    });
  });

  it('the prices are recorded as raw (as traded) for every symbol given bars', async () => {
    const [r] = await rows(store, `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE basis = 'raw')::INTEGER AS raw FROM price_basis`);
    const [s] = await rows(store, `SELECT count(*)::INTEGER AS n FROM (SELECT DISTINCT symbol, "interval" FROM bars)`);
    expect(r).toEqual({ n: s!.n, raw: s!.n });
  });

  it('FXCM: crossed bars (bid close > ask close) are imported as they are, counted and warned about', async () => {
    const s = await importLean(store, [lean('forex/nzdusd/daily/fxcm.csv')]);
    // DERIVATIVES.md: nzdusd/daily/fxcm has 6 crossed bars in 3487 rows
    expect(s.kinds.forex).toMatchObject({ bars: 3487, quoteBars: 3487, crossed: 6 });
    // fxcm.csv line 242: 2008-01-09, bid close 0.77666 > ask close 0.77664; stored as is, at 00:00 UTC of its date label
    const [q] = await rows(
      store,
      `SELECT bid_close, ask_close FROM quote_bars WHERE symbol = 'NZD.USD' AND "interval" = '1d' AND ts = ${utc('2008-01-09 00:00:00')}`,
    );
    expect(q).toEqual({ bid_close: 0.77666, ask_close: 0.77664 });
    const { warning, lines } = formatLeanSummary(s, 'x.duckdb', '0.1');
    expect(lines[1]).toBe('  forex: 1 file (1d), 1 instrument, 3,487 bars (mid), 3,487 quote bars, 0 open-interest rows');
    expect(warning).toMatch(/^6 crossed quote bars \(bid close above ask close\) imported as in the source: .*forex\/nzdusd\/daily\/fxcm\.csv 6$/);
  });

  it('re-importing the same files leaves every table as it was (each file replaces its time range)', async () => {
    const before = await tableState(store);
    const again = await importLean(store, ES_FILES.map(lean));
    expect(again.replaced).toEqual({ bars: 203 + 1671 + 1721, quoteBars: 3907, openInterest: 62 });
    expect(await tableState(store)).toBe(before);
    expect(formatLeanSummary(again, 'x.duckdb', '0.1').lines.at(-1)).toBe(
      "  replaced the stored rows in the files' time ranges: 3,595 bars, 3,907 quote bars, 62 open-interest rows",
    );
  });

  it('each file replaces its own time range: two minute days in one call keep the stored day between them', async () => {
    const day = (d: string) =>
      `SELECT count(*)::INTEGER AS n FROM bars WHERE symbol = 'ESZ13' AND "interval" = '1m' AND ts >= ${utc(`${d} 00:00:00`)} AND ts < ${utc(`${d} 00:00:00`) + 86_400_000}`;
    // 20131008_trade.csv was imported above: its ESZ13 minutes are stored
    const [before] = await rows(store, day('2013-10-08'));
    expect(before!.n).toBeGreaterThan(1000);
    const s = await importLean(store, ['future/es/20131007_trade.csv', 'future/es/20131009_trade.csv'].map(lean));
    expect(s.kinds.future.bars).toBe(1671 + 1742);
    expect(s.replaced.bars).toBe(1671); // 20131007's, stored above; 20131009 was not
    const [after] = await rows(store, day('2013-10-08'));
    expect(after!.n).toBe(before!.n);
  });

  describe('bad rows: a DataError naming file, row and field; nothing written', () => {
    const bad = tempDir('tradebench-lean-bad-');
    afterAll(() => bad.cleanup());
    const goodLines = readFileSync(lean('option/goog/20151224_trade.csv'), 'utf8').split('\n').slice(0, 6);
    // lines 2-5 of the real file; line 5 is 2015-12-24 09:30:00,C,750,2015-12-24,1.5000,1.8000,1.5000,1.8000,2
    const cases: { name: string; edit: (l: string[]) => string[]; row: number; field: string; rule: string; message: RegExp }[] = [
      {
        name: 'a high below the close',
        edit: (l) => l.map((x, i) => (i === 4 ? x.replace(',1.8000,1.5000,1.8000,', ',1.7000,1.5000,1.8000,') : x)),
        row: 4,
        field: 'high',
        rule: 'high-below-max',
        message: /row 4 \(line 5\) field 'high': 1\.7 is below max\(open 1\.5, close 1\.8\)/,
      },
      {
        name: 'a right that is not C or P',
        edit: (l) => l.map((x, i) => (i === 2 ? x.replace(/,[CP],/, ',X,') : x)),
        row: 2,
        field: 'right',
        rule: 'out-of-range',
        message: /row 2 \(line 3\) field 'right': 'X' is not C or P/,
      },
      {
        name: 'a strike finer than OCC symbols hold',
        edit: (l) => l.map((x, i) => (i === 3 ? x.replace(/,(\d+(\.\d+)?),2015-12-24,/, ',750.0001,2015-12-24,') : x)),
        row: 3,
        field: 'strike',
        rule: 'out-of-range',
        message: /row 3 \(line 4\) field 'strike': 750\.0001 is not a multiple of 0\.001/,
      },
      {
        name: 'a bar after its contract expired',
        edit: (l) => l.map((x, i) => (i === 1 ? x.replace(/,2015-12-24,/, ',2015-12-23,') : x)),
        row: 1,
        field: 'expiry',
        rule: 'out-of-range',
        message: /row 1 \(line 2\) field 'expiry': a bar on 2015-12-24, after the contract's last trading day 2015-12-23/,
      },
      {
        name: 'the same contract at the same minute twice',
        edit: (l) => [...l, l[4]!],
        row: 6,
        field: 'time_et',
        rule: 'duplicate-timestamp',
        message: /row 6 \(line 7\) field 'time_et': GOOG151224C00750000's bar at 2015-12-24 14:30:00 UTC repeats/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const dir = path.join(bad.dir, c.name.replaceAll(' ', '-'), 'option', 'goog');
        const file = writeText(dir, '20151224_trade.csv', c.edit(goodLines).join('\n'));
        const before = await tableState(store);
        // a good file first: it is read and staged, then rolled back with the rest
        const e = await caught(() => importLean(store, [lean('forex/eurgbp/daily/oanda.csv'), file]));
        expect(e).toBeInstanceOf(DataError);
        expect(e).toMatchObject({ rule: c.rule, row: c.row, field: c.field, file: expect.stringMatching(/option\/goog\/20151224_trade\.csv$/) });
        expect(e.message).toMatch(c.message);
        expect(await tableState(store)).toBe(before);
        const [eg] = await rows(store, `SELECT count(*)::INTEGER AS n FROM instruments WHERE symbol = 'EUR.GBP'`);
        expect(eg!.n).toBe(0);
      });
    }

    it('a file whose expiry column disagrees with the contract rule', async () => {
      const text = readFileSync(lean('future/es/daily_trade.csv'), 'utf8').split('\n').slice(0, 3);
      // line 2: 2013-10-06,2013-12,2013-12-20,... -> ES Dec-13's last trading day is the 3rd Friday, 2013-12-20
      text[1] = text[1]!.replace('2013-12-20', '2013-12-13');
      const file = writeText(path.join(bad.dir, 'expiry', 'future', 'es'), 'daily_trade.csv', text.join('\n'));
      const e = await caught(() => importLean(store, [file]));
      expect(e).toMatchObject({ rule: 'out-of-range', row: 1, field: 'expiry' });
      expect(e.message).toMatch(/row 1 \(line 2\) field 'expiry': 2013-12-13 for ES 201312, whose last trading day by its rule \(2013-12-20\) differs/);
    });

    it('an ES minute trade inside the CME halt (16:15-16:30 New York in 2013)', async () => {
      const text = readFileSync(lean('future/es/20131008_trade.csv'), 'utf8').split('\n').slice(0, 2);
      // line 2 is the 2013-10-07 20:00 New York bar (00:00 UTC on the file's date); moved to 16:20 New York on
      // 2013-10-08 (20:20 UTC, still the file's UTC date), inside the halt
      expect(text[1]!.startsWith('2013-10-07 20:00:00,2013-10-08 00:00:00,')).toBe(true);
      text[1] = text[1]!.replace(/^[^,]*,[^,]*/, '2013-10-08 16:20:00,2013-10-08 20:20:00');
      const file = writeText(path.join(bad.dir, 'halt', 'future', 'es'), '20131008_trade.csv', text.join('\n'));
      const before = await tableState(store);
      const e = await caught(() => importLean(store, [file]));
      expect(e).toMatchObject({ rule: 'outside-session', row: 1, field: 'time_utc' });
      expect(e.message).toMatch(/a trade at 2013-10-08T20:20:00.000Z, outside the CME Globex session of ES/);
      expect(await tableState(store)).toBe(before);
    });

    it('two files with a row of the same symbol, interval and time', async () => {
      const file = writeText(path.join(bad.dir, 'dup', 'future', 'es'), 'daily_trade.csv', readFileSync(lean('future/es/daily_trade.csv'), 'utf8'));
      const before = await tableState(store);
      const e = await caught(() => importLean(store, [lean('future/es/daily_trade.csv'), file]));
      expect(e).toMatchObject({ rule: 'duplicate-timestamp' });
      expect(e.message).toMatch(/daily_trade\.csv and .*daily_trade\.csv both have a bar of ES\w+ \(1d\) at 2013-10-06 00:00:00 UTC/);
      expect(await tableState(store)).toBe(before);
    });
  });
});
