// The importer on small hand-written files: exact round trips, layouts, time formats, re-import
// semantics (upsert, replaceRange), and every validation rule (bounds after factor adjustment,
// symbols, jumps) with the database left exactly as it was.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { findFactorFile } from '../../engine/data/factors.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import type { Store } from '../../engine/data/store.ts';
import { caught, fingerprint, HEADER, storeIn, tempDir, writeText } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
/** A new folder per test, so file names can repeat. */
const folder = () => path.join(tmp.dir, `case${++n}`);

async function withStore<T>(fn: (store: Store, dir: string) => Promise<T>): Promise<T> {
  const dir = folder();
  const store = await storeIn(tmp.dir, `db${n}.duckdb`);
  try {
    return await fn(store, dir);
  } finally {
    store.close();
  }
}

const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

describe('importPaths: round trips and layouts', () => {
  it('stores a hand-written daily CSV exactly as written, at 00:00 UTC of each date', async () => {
    await withStore(async (store, dir) => {
      const file = writeText(
        dir,
        'aapl.csv',
        `
        ${HEADER}
        2020-01-02,74.06,75.15,73.7975,75.0875,135480400
        2020-01-03,74.2875,75.145,74.125,74.3575,146322800
        2020-01-06,73.4475,74.99,73.1875,74.95,118387200
        `,
      );
      const summary = await importPaths(store, [file]);
      expect(summary).toEqual({ files: 1, rows: 3, symbols: ['AAPL'], interval: '1d', inserted: 3, updated: 0, unchanged: 0, removed: 0, adjusted: [] });
      const [s] = await loadBars(store, { symbols: ['AAPL'], interval: '1d' });
      expect(s!.symbol).toBe('AAPL');
      expect([...s!.ts]).toEqual([day(2020, 1, 2), day(2020, 1, 3), day(2020, 1, 6)]);
      expect([...s!.open]).toEqual([74.06, 74.2875, 73.4475]);
      expect([...s!.high]).toEqual([75.15, 75.145, 74.99]);
      expect([...s!.low]).toEqual([73.7975, 74.125, 73.1875]);
      expect([...s!.close]).toEqual([75.0875, 74.3575, 74.95]);
      expect([...s!.volume]).toEqual([135480400, 146322800, 118387200]);
      const inst = (await store.conn.runAndReadAll(`SELECT * FROM instruments`)).getRowObjectsJS();
      expect(inst).toEqual([
        {
          symbol: 'AAPL',
          sec_type: 'STK',
          exchange: 'SMART',
          currency: 'USD',
          sector: null,
          tick_size: null,
          tz: 'America/New_York',
          // issue 15's columns: a stock has none of them (a NULL multiplier reads as 1)
          multiplier: null,
          underlying: null,
          expiry: null,
          strike: null,
          option_right: null,
          contract_month: null,
          local_symbol: null,
        },
      ]);
    });
  });

  it('reads a folder per symbol with a file per day, local New York time to UTC, interval inferred', async () => {
    await withStore(async (store, dir) => {
      writeText(
        dir,
        'minute/spy/20131007.csv',
        `
        time_et,open,high,low,close,volume
        2013-10-07 09:30:00,168.0,168.2,167.9,168.1,1000
        2013-10-07 09:31:00,168.1,168.3,168.0,168.2,900
        2013-10-07 09:33:00,168.2,168.2,168.1,168.1,800
        `,
      );
      writeText(
        dir,
        'minute/spy/20131202.csv',
        `
        time_et,open,high,low,close,volume
        2013-12-02 09:30:00,180.0,180.5,179.5,180.2,500
        `,
      );
      writeText(
        dir,
        'minute/ibm/20131007.csv',
        `
        time_et,open,high,low,close,volume
        2013-10-07 09:30:00,183.0,183.5,182.5,183.2,300
        2013-10-07 09:31:00,183.2,183.4,183.1,183.3,200
        `,
      );
      const summary = await importPaths(store, [path.join(dir, 'minute')]);
      expect(summary).toMatchObject({ files: 3, rows: 6, symbols: ['IBM', 'SPY'], interval: '1m' });
      const [spy, ibm] = await loadBars(store, { symbols: ['SPY', 'IBM'], interval: '1m' });
      expect([...spy!.ts]).toEqual([
        Date.UTC(2013, 9, 7, 13, 30), // EDT: UTC-4
        Date.UTC(2013, 9, 7, 13, 31),
        Date.UTC(2013, 9, 7, 13, 33),
        Date.UTC(2013, 11, 2, 14, 30), // EST: UTC-5
      ]);
      expect([...ibm!.ts]).toEqual([Date.UTC(2013, 9, 7, 13, 30), Date.UTC(2013, 9, 7, 13, 31)]);
      expect([...spy!.close]).toEqual([168.1, 168.2, 168.1, 180.2]);
    });
  });

  it('converts local times on both daylight-saving switch days of 2013', async () => {
    await withStore(async (store, dir) => {
      const file = writeText(
        dir,
        'X.csv',
        `
        datetime,open,high,low,close,volume
        2013-03-10 01:59:00,10,10,10,10,1
        2013-03-10 03:00:00,10,10,10,10,1
        2013-11-03 00:59:00,10,10,10,10,1
        2013-11-03 02:00:00,10,10,10,10,1
        `,
      );
      await importPaths(store, [file], { interval: '1m' });
      const [x] = await loadBars(store, { symbols: ['X'], interval: '1m' });
      expect([...x!.ts]).toEqual([
        Date.UTC(2013, 2, 10, 6, 59),
        Date.UTC(2013, 2, 10, 7, 0), // one minute later: the hour 02:00-02:59 does not exist
        Date.UTC(2013, 10, 3, 4, 59),
        Date.UTC(2013, 10, 3, 7, 0), // two hours and a minute later: 01:00-01:59 happens twice
      ]);
    });
  });

  it('accepts the other time formats: compact dates, IB style, ISO with Z or an offset, epoch ms', async () => {
    await withStore(async (store, dir) => {
      const files = [
        writeText(dir, 'A.csv', `date,open,high,low,close,volume\n20200102,1,1,1,1,0\n20200103,1,1,1,1,0`),
        writeText(dir, 'B.csv', `timestamp,open,high,low,close,volume\n20131007  09:30:00,1,1,1,1,0\n20131007  09:35:00,1,1,1,1,0`),
        writeText(dir, 'C.csv', `time,open,high,low,close,volume\n2013-10-07T13:30:00Z,1,1,1,1,0\n2013-10-07T09:35:00-04:00,1,1,1,1,0`),
        writeText(dir, 'D.csv', `timestamp,open,high,low,close,volume\n1381152600000,1,1,1,1,0\n1381152900000,1,1,1,1,0`),
        writeText(dir, 'E.csv', `Date,Time,Open,High,Low,Close,Volume\n2013-10-07,09:30,1,1,1,1,0\n2013-10-07,09:35,1,1,1,1,0`),
      ];
      await importPaths(store, files.slice(0, 1));
      const [a] = await loadBars(store, { symbols: ['A'], interval: '1d' });
      expect([...a!.ts]).toEqual([day(2020, 1, 2), day(2020, 1, 3)]);
      const s = await importPaths(store, files.slice(1));
      expect(s.interval).toBe('5m');
      const want = [Date.UTC(2013, 9, 7, 13, 30), Date.UTC(2013, 9, 7, 13, 35)];
      for (const series of await loadBars(store, { symbols: ['B', 'C', 'D', 'E'], interval: '5m' })) {
        expect([...series.ts], series.symbol).toEqual(want);
      }
    });
  });

  it('reads gzipped CSV, and semicolon-separated CSV with CRLF line ends', async () => {
    await withStore(async (store, dir) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'GZ.csv.gz'), gzipSync(`${HEADER}\n2020-01-02,1.5,2,1,1.25,10\n`));
      const semi = path.join(dir, 'SEMI.csv'); // with Windows line ends
      writeFileSync(semi, `Date;Open;High;Low;Close;Volume\r\n2020-01-02;1.5;2;1;1.25;10\r\n`);
      const summary = await importPaths(store, [path.join(dir, 'GZ.csv.gz'), semi]);
      expect(summary.symbols).toEqual(['GZ', 'SEMI']);
      for (const s of await loadBars(store, { symbols: ['GZ', 'SEMI'], interval: '1d' })) {
        expect([s.ts[0], s.open[0], s.close[0], s.volume[0]]).toEqual([day(2020, 1, 2), 1.5, 1.25, 10]);
      }
    });
  });

  it('imports a long file with a symbol column', async () => {
    await withStore(async (store, dir) => {
      const file = writeText(
        dir,
        'long.csv',
        `
        symbol,date,open,high,low,close,volume
        msft,2020-01-02,158.78,160.73,158.33,160.62,22622100
        AAPL,2020-01-02,74.06,75.15,73.7975,75.0875,135480400
        msft,2020-01-03,158.32,159.95,158.06,158.62,21116200
        AAPL,2020-01-03,74.2875,75.145,74.125,74.3575,146322800
        `,
      );
      const summary = await importPaths(store, [file]);
      expect(summary).toMatchObject({ rows: 4, symbols: ['AAPL', 'MSFT'], interval: '1d' });
      const [msft, aapl] = await loadBars(store, { symbols: ['MSFT', 'AAPL'], interval: '1d' });
      expect([...msft!.close]).toEqual([160.62, 158.62]);
      expect([...aapl!.close]).toEqual([75.0875, 74.3575]);
    });
  });

  it('reads Parquet, with typed columns, exactly', async () => {
    await withStore(async (store, dir) => {
      const file = path.join(dir, 'QQQ.parquet');
      mkdirSync(dir, { recursive: true });
      await store.conn.run(`
COPY (SELECT * FROM (VALUES
  (TIMESTAMP '2013-10-07 09:30:00', 0.1::DOUBLE + 0.2::DOUBLE, 0.5::DOUBLE, 0.25::DOUBLE, 0.3::DOUBLE, 7::BIGINT),
  (TIMESTAMP '2013-10-07 09:31:00', 1/3::DOUBLE, 0.5::DOUBLE, 0.25::DOUBLE, 0.3::DOUBLE, 8::BIGINT))
  t(datetime, open, high, low, close, volume)) TO '${file}' (FORMAT parquet)`);
      const summary = await importPaths(store, [file]);
      expect(summary).toMatchObject({ rows: 2, symbols: ['QQQ'], interval: '1m' });
      const [q] = await loadBars(store, { symbols: ['QQQ'], interval: '1m' });
      expect([...q!.open]).toEqual([0.1 + 0.2, 1 / 3]);
      expect([...q!.ts]).toEqual([Date.UTC(2013, 9, 7, 13, 30), Date.UTC(2013, 9, 7, 13, 31)]);
      expect([...q!.volume]).toEqual([7, 8]);
    });
  });

  it('accepts a file stored newest first and stores it in time order', async () => {
    await withStore(async (store, dir) => {
      const file = writeText(
        dir,
        'DESC.csv',
        `
        ${HEADER}
        2020-01-06,3,3,3,3,30
        2020-01-03,2,2,2,2,20
        2020-01-02,1,1,1,1,10
        `,
      );
      await importPaths(store, [file]);
      const [s] = await loadBars(store, { symbols: ['DESC'], interval: '1d' });
      expect([...s!.ts]).toEqual([day(2020, 1, 2), day(2020, 1, 3), day(2020, 1, 6)]);
      expect([...s!.close]).toEqual([1, 2, 3]);
    });
  });

  it('re-import (default): upsert by key; new rows inserted, changed rows replaced, equal rows kept, nothing deleted', async () => {
    await withStore(async (store, dir) => {
      const first = writeText(
        dir,
        'v1/R.csv',
        `
        ${HEADER}
        2020-01-02,1,1,1,1,10
        2020-01-03,2,2,2,2,20
        2020-01-06,3,3,3,3,30
        2020-01-07,4,4,4,4,40
        2020-01-08,5,5,5,5,50
        `,
      );
      expect(await importPaths(store, [first])).toMatchObject({ rows: 5, inserted: 5, updated: 0, unchanged: 0, removed: 0 });
      // a two-row correction file: 01-03 as stored, 01-07 revised (volume only, to catch a compare of prices alone)
      const fix = writeText(dir, 'fix/R.csv', `${HEADER}\n2020-01-03,2,2,2,2,20\n2020-01-07,4,4,4,4,41`);
      expect(await importPaths(store, [fix])).toEqual({
        files: 1,
        rows: 2,
        symbols: ['R'],
        interval: '1d',
        inserted: 0,
        updated: 1,
        unchanged: 1,
        removed: 0,
        adjusted: [],
      });
      let [r] = await loadBars(store, { symbols: ['R'], interval: '1d' });
      expect([...r!.ts]).toEqual([day(2020, 1, 2), day(2020, 1, 3), day(2020, 1, 6), day(2020, 1, 7), day(2020, 1, 8)]);
      expect([...r!.close]).toEqual([1, 2, 3, 4, 5]);
      expect([...r!.volume]).toEqual([10, 20, 30, 41, 50]);
      // one new (01-09), one changed (01-02), one equal (01-08): 1, 1, 1
      const mixed = writeText(dir, 'mixed/R.csv', `${HEADER}\n2020-01-02,1.5,1.5,1.5,1.5,15\n2020-01-08,5,5,5,5,50\n2020-01-09,6,6,6,6,60`);
      expect(await importPaths(store, [mixed])).toMatchObject({ rows: 3, inserted: 1, updated: 1, unchanged: 1, removed: 0 });
      [r] = await loadBars(store, { symbols: ['R'], interval: '1d' });
      expect([...r!.close]).toEqual([1.5, 2, 3, 4, 5, 6]);
      expect([...r!.volume]).toEqual([15, 20, 30, 41, 50, 60]);
      // importing the same file again changes nothing
      const before = await fingerprint(store);
      expect(await importPaths(store, [mixed])).toMatchObject({ inserted: 0, updated: 0, unchanged: 3, removed: 0 });
      expect(await fingerprint(store)).toEqual(before);
    });
  });

  it('re-import with replaceRange: the file is the truth for its time range; bars outside it are kept', async () => {
    await withStore(async (store, dir) => {
      const first = writeText(
        dir,
        'v1/R.csv',
        `
        ${HEADER}
        2020-01-02,1,1,1,1,10
        2020-01-03,2,2,2,2,20
        2020-01-06,3,3,3,3,30
        2020-01-07,4,4,4,4,40
        `,
      );
      await importPaths(store, [first], { replaceRange: true });
      // corrected vendor file for 01-03..01-07: 01-06 was bogus and is gone, 01-07 revised
      const second = writeText(
        dir,
        'v2/R.csv',
        `
        ${HEADER}
        2020-01-03,2,2,2,2,20
        2020-01-07,4.5,4.5,4.5,4.5,45
        `,
      );
      const summary = await importPaths(store, [second], { replaceRange: true });
      expect(summary).toMatchObject({ rows: 2, inserted: 0, updated: 1, unchanged: 1, removed: 1 });
      const [r] = await loadBars(store, { symbols: ['R'], interval: '1d' });
      expect([...r!.ts]).toEqual([day(2020, 1, 2), day(2020, 1, 3), day(2020, 1, 7)]);
      expect([...r!.close]).toEqual([1, 2, 4.5]);
      // importing the same file again changes nothing
      const before = await fingerprint(store);
      expect(await importPaths(store, [second], { replaceRange: true })).toMatchObject({ removed: 0, unchanged: 2 });
      expect(await fingerprint(store)).toEqual(before);
    });
  });

  it('accepts tickers with dots, dashes, spaces, carets, = and /; a factor file is found for BRK.B', async () => {
    await withStore(async (store, dir) => {
      const long = writeText(
        dir,
        'long.csv',
        `symbol,date,open,high,low,close,volume
        BF-B,2020-01-02,1,1,1,1,1
        BRK B,2020-01-02,1,1,1,1,1
        ^GSPC,2020-01-02,1,1,1,1,1
        eurusd=x,2020-01-02,1,1,1,1,1
        BRK/B,2020-01-02,1,1,1,1,1
        ES_F,2020-01-02,1,1,1,1,1`,
      );
      const brk = writeText(dir, 'brk.b.csv', `${HEADER}\n2020-01-02,10,10,10,10,100`);
      writeText(dir, 'factors/brk.b.csv', `20200102,0.5,1,0\n20501231,1,1,0`);
      const s = await importPaths(store, [long, brk], { factorsDir: path.join(dir, 'factors') });
      expect(s.symbols).toEqual(['BF-B', 'BRK B', 'BRK.B', 'BRK/B', 'ES_F', 'EURUSD=X', '^GSPC']);
      expect(s.adjusted).toEqual(['BRK.B']);
      // stored raw, adjusted at load with the stored factor row
      const [b] = await loadBars(store, { symbols: ['BRK.B'], interval: '1d' });
      expect([...b!.close]).toEqual([10]);
      const [adj] = await loadBars(store, { symbols: ['BRK.B'], interval: '1d', prices: 'adjusted' });
      expect([...adj!.close]).toEqual([5]);
    });
  });
  it('fills instruments.sector from a constituents file, also for symbols already there', async () => {
    await withStore(async (store, dir) => {
      const a = writeText(dir, 'AAPL.csv', `${HEADER}\n2020-01-02,1,1,1,1,1`);
      const x = writeText(dir, 'XYZ.csv', `${HEADER}\n2020-01-02,1,1,1,1,1`);
      await importPaths(store, [a]);
      const sectors = writeText(dir, 'constituents.csv', `Symbol,Name,Sector\nAAPL,"Apple, Inc.",Information Technology\nMMM,3M,Industrials`);
      await importPaths(store, [a, x], { sectors });
      const rows = (await store.conn.runAndReadAll(`SELECT symbol, sector FROM instruments ORDER BY symbol`)).getRowObjectsJS();
      expect(rows).toEqual([
        { symbol: 'AAPL', sector: 'Information Technology' },
        { symbol: 'XYZ', sector: null },
      ]);
    });
  });

  it('takes volume 0 when the file has no volume column, and ignores extra columns', async () => {
    await withStore(async (store, dir) => {
      const file = writeText(dir, 'FX.csv', `date,open,high,low,close,adjusted_close\n2020-01-02,1.1,1.2,1.0,1.15,9`);
      await importPaths(store, [file]);
      const [fx] = await loadBars(store, { symbols: ['FX'], interval: '1d' });
      expect([...fx!.volume]).toEqual([0]);
      expect([...fx!.close]).toEqual([1.15]);
    });
  });
});

describe('importPaths: values are checked as stored, symbols before they become paths', () => {
  let store: Store;
  let dir: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    dir = folder();
    store = await storeIn(dir);
    await importPaths(store, [writeText(dir, 'GOOD.csv', `${HEADER}\n${GOOD_ROWS.join('\n')}`)]);
    before = await fingerprint(store);
  });
  afterAll(() => store.close());

  it('rejects ../EVIL as a symbol with --factors, and never reads the factor file outside the folder', async () => {
    // DIR/../evil.csv exists and would change prices if it were read
    writeText(dir, 'evil/evil.csv', `20501231,1000,1,0`);
    writeText(dir, 'evil/factors/good.csv', `20501231,1,1,0`);
    const factorsDir = path.join(dir, 'evil/factors');
    expect(findFactorFile(factorsDir, '../EVIL')).toBeUndefined();
    expect(findFactorFile(factorsDir, '../evil')).toBeUndefined();
    expect(findFactorFile(factorsDir, 'GOOD')).toBe(path.join(factorsDir, 'good.csv'));
    const file = writeText(dir, 'evil/long.csv', `symbol,date,open,high,low,close,volume\nGOOD,2021-01-04,1,1,1,1,1\n../EVIL,2021-01-04,1,1,1,1,1`);
    const e = await caught(() => importPaths(store, [file], { factorsDir }));
    expect(e).toBeInstanceOf(DataError);
    expect(e).toMatchObject({ rule: 'bad-symbol', row: 2, line: 3, field: 'symbol' });
    expect(e.message).toMatch(/long\.csv row 2 \(line 3\) \[\.\.\/EVIL\]: field 'symbol' = '\.\.\/EVIL' is not a plausible ticker \(letters, digits and/);
    expect(await fingerprint(store)).toEqual(before);
  });

  it('rejects a file whose name is not a plausible ticker (no symbol column), naming the file', async () => {
    const file = writeText(dir, 'names/aapl (1).csv', `${HEADER}\n2021-01-04,1,1,1,1,1`);
    const e = await caught(() => importPaths(store, [file]));
    expect(e).toMatchObject({ rule: 'bad-symbol', field: 'symbol' });
    expect(e.message).toMatch(
      /aapl \(1\)\.csv: the symbol 'AAPL \(1\)' taken from the file name is not a plausible ticker .*rename the file or add a symbol column/,
    );
    const dated = writeText(dir, 'names/.x/20210104.csv', `${HEADER}\n2021-01-04,1,1,1,1,1`);
    const d = await caught(() => importPaths(store, [dated]));
    expect(d.message).toMatch(/the symbol '\.X' taken from the folder name is not a plausible ticker/);
    expect(await fingerprint(store)).toEqual(before);
  });

  it('names the factor file line that takes a bar out of bounds, for prices and volume', async () => {
    const bars = writeText(dir, 'fvol/data/V.csv', `${HEADER}\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10.5,11.5,10,11,2e14`);
    // the split_factor 0.01 keeps prices in bounds (0.105..0.115) but makes the volume 2e16
    writeText(dir, 'fvol/factors/v.csv', `20200102,1,1,0\n20200103,1,0.01,0\n20501231,1,1,0`);
    const e = await caught(() => importPaths(store, [bars], { factorsDir: path.join(dir, 'fvol/factors') }));
    expect(e).toMatchObject({ rule: 'out-of-range', row: 2, line: 3, field: 'volume' });
    expect(e.message).toMatch(
      /V\.csv row 2 \(line 3\): field 'volume' = 2e14 is 2e16 after adjustment by .*fvol\/factors\/v\.csv line 2 \(price_factor 1, split_factor 0\.01\): above the largest accepted volume 1e15/,
    );
    expect(await fingerprint(store)).toEqual(before);
  });

  it('checks jumps on adjusted closes: a split in the factor file is not a jump, a real one is', async () => {
    // 2:1 split on 2020-01-06: raw close 11 -> 5.6; the factor file halves the earlier bars
    const split = writeText(dir, 'jump/data/S.csv', `${HEADER}\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10.5,11.5,10,11,200\n2020-01-06,5.5,5.8,5.4,5.6,400`);
    const factorsDir = path.join(dir, 'jump/factors');
    writeText(dir, 'jump/factors/s.csv', `20200103,1,0.5,0\n20501231,1,1,0`);
    const raw = await caught(() => importPaths(store, [split], { maxJump: 1.5 }));
    expect(raw).toMatchObject({ rule: 'price-jump', row: 3, line: 4, field: 'close' });
    expect(raw.message).toMatch(
      /S\.csv row 3 \(line 4\): field 'close' = 5\.6 is 1\/1\.964 of the previous bar's close 11 \(row 2 \(line 3\), '2020-01-03'\): a jump beyond --max-jump 1\.5/,
    );
    expect(await fingerprint(store)).toEqual(before);
    const s = await importPaths(store, [split], { maxJump: 1.5, factorsDir });
    expect(s).toMatchObject({ inserted: 3, adjusted: ['S'] });
    await store.conn.run(`DELETE FROM bars WHERE symbol = 'S'; DELETE FROM instruments WHERE symbol = 'S'`);
    expect(await fingerprint(store)).toEqual(before);
  });

  it('checks jumps across the files of a symbol (a folder of days), naming the other file', async () => {
    const a = writeText(
      dir,
      'days/spy/20131007.csv',
      `time_et,open,high,low,close,volume\n2013-10-07 09:30:00,100,100,100,100,1\n2013-10-07 09:31:00,100,101,100,101,1`,
    );
    const b = writeText(dir, 'days/spy/20131008.csv', `time_et,open,high,low,close,volume\n2013-10-08 09:30:00,300,300,300,300,1`);
    const e = await caught(() => importPaths(store, [a, b], { maxJump: 2, interval: '1m' }));
    expect(e).toMatchObject({ rule: 'price-jump', row: 1, line: 2 });
    expect(e.message).toMatch(
      /20131008\.csv row 1 \(line 2\): field 'close' = 300 is 2\.97 times the previous bar's close 101 \(.*20131007\.csv row 2 \(line 3\), '2013-10-07 09:31:00'\)/,
    );
    expect(await fingerprint(store)).toEqual(before);
  });

  it('rejects a max jump that is not a ratio above 1', async () => {
    for (const maxJump of [1, 0.5, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = await caught(() => importPaths(store, [path.join(dir, 'GOOD.csv')], { maxJump }));
      expect(e).toMatchObject({ rule: 'bad-option' });
    }
    expect(await fingerprint(store)).toEqual(before);
  });
});

describe('importPaths: memory caps', () => {
  it("leaves DuckDB's memory_limit as it was, after success and after a failure", async () => {
    await withStore(async (store, dir) => {
      const limit = async () => String((await store.conn.runAndReadAll(`SELECT current_setting('memory_limit') AS m`)).getRowObjectsJS()[0]!.m);
      const original = await limit();
      await importPaths(store, [writeText(dir, 'A.csv', `${HEADER}\n2020-01-02,1,1,1,1,1`)]);
      expect(await limit()).toBe(original);
      await caught(() => importPaths(store, [writeText(dir, 'B.csv', `${HEADER}\n2020-01-02,1,1,1,1e308,1`)]));
      expect(await limit()).toBe(original);
      await store.conn.run(`SET memory_limit = '3GB'`);
      const custom = await limit();
      await importPaths(store, [writeText(dir, 'C.csv', `${HEADER}\n2020-01-02,1,1,1,1,1`)]);
      expect(await limit()).toBe(custom);
    });
  });
});
interface BadCase {
  name: string;
  /** data lines; the bad one is row 3 (line 4) */
  lines: string[];
  rule: string;
  field: string;
  message: RegExp;
  opts?: { interval?: string; maxJump?: number };
  header?: string;
  /** a factor file for BAD (bad.csv in a factors folder beside it) */
  factors?: string;
}

const GOOD_ROWS = ['2020-01-02,10,11,9,10.5,100', '2020-01-03,10.5,11.5,10,11,200'];

const BAD_CASES: BadCase[] = [
  {
    name: 'a non-numeric price',
    lines: [...GOOD_ROWS, '2020-01-06,abc,12,10,11,300'],
    rule: 'not-a-number',
    field: 'open',
    message: /field 'open' = 'abc' is not a number/,
  },
  {
    name: 'a missing price',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,10,,300'],
    rule: 'missing-value',
    field: 'close',
    message: /field 'close' is missing/,
  },
  {
    name: 'high below close',
    lines: [...GOOD_ROWS, '2020-01-06,11,11.5,10,11.75,300'],
    rule: 'high-below-max',
    field: 'high',
    message: /field 'high' = 11\.5 is below max\(open, close\) = 11\.75/,
  },
  {
    name: 'low above open',
    lines: [...GOOD_ROWS, '2020-01-06,10.25,12,10.5,11,300'],
    rule: 'low-above-min',
    field: 'low',
    message: /field 'low' = 10\.5 is above min\(open, close\) = 10\.25/,
  },
  {
    name: 'a negative volume',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,10,11,-5'],
    rule: 'negative-volume',
    field: 'volume',
    message: /field 'volume' = -5 is negative/,
  },
  {
    name: 'a zero price',
    lines: [...GOOD_ROWS, '2020-01-06,0,12,0,11,300'],
    rule: 'non-positive-price',
    field: 'open',
    message: /field 'open' = 0 is not a positive price/,
  },
  {
    name: 'a duplicate timestamp',
    lines: [...GOOD_ROWS, '2020-01-03,11,12,10,11,300'],
    rule: 'duplicate-timestamp',
    field: 'date',
    message: /field 'date' = '2020-01-03' has the same timestamp as row 2 .*duplicate timestamp/,
  },
  {
    name: 'an out-of-order timestamp',
    lines: [...GOOD_ROWS, '2019-12-31,11,12,10,11,300', '2020-01-07,11,12,10,11,300'],
    rule: 'out-of-order',
    field: 'date',
    message: /field 'date' = '2019-12-31' is before the previous row's '2020-01-03' \(row 2\): out of order/,
  },
  {
    name: 'an unparseable time',
    lines: [...GOOD_ROWS, '2020-13-45,11,12,10,11,300'],
    rule: 'bad-time',
    field: 'date',
    message: /field 'date' = '2020-13-45' is not a date or time/,
  },
  {
    name: 'a time of day in a 1d import',
    lines: [...GOOD_ROWS, '2020-01-06 09:30:00,11,12,10,11,300'],
    rule: 'interval-mismatch',
    field: 'date',
    message: /has a time of day, but the interval is 1d/,
    opts: { interval: '1d' },
  },
  {
    name: 'bars closer than the given interval',
    header: 'time_et,open,high,low,close,volume',
    lines: ['2013-10-07 09:30:00,1,1,1,1,1', '2013-10-07 09:35:00,1,1,1,1,1', '2013-10-07 09:36:00,1,1,1,1,1'],
    rule: 'interval-mismatch',
    field: 'time_et',
    message: /is 1 min from the previous bar '2013-10-07 09:35:00' \(row 2\), less than the interval 5m/,
    opts: { interval: '5m' },
  },
  {
    name: 'a price of 1e308 (finite, but a backtest holding it overflows)',
    lines: [...GOOD_ROWS, '2020-01-06,1e308,1e308,11,12,300'],
    rule: 'out-of-range',
    field: 'open',
    message: /field 'open' = 1e308 is above the largest accepted price 1e9$/,
  },
  {
    name: 'a price of 1e-320 (positive, but subnormal)',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,1e-320,11,300'],
    rule: 'out-of-range',
    field: 'low',
    message: /field 'low' = 1e-320 is below the smallest accepted price 1e-6$/,
  },
  {
    name: 'a volume of 1e16',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,10,11,1e16'],
    rule: 'out-of-range',
    field: 'volume',
    message: /field 'volume' = 1e16 is above the largest accepted volume 1e15 \(exclusive\)$/,
  },
  {
    name: 'the year 0001',
    lines: [...GOOD_ROWS, '0001-01-06,11,12,10,11,300'],
    rule: 'out-of-range',
    field: 'date',
    message: /field 'date' = '0001-01-06' is outside the accepted dates 1900-01-01 \.\. 2099-12-31$/,
  },
  {
    name: 'the year 9999',
    lines: [...GOOD_ROWS, '9999-12-31,11,12,10,11,300'],
    rule: 'out-of-range',
    field: 'date',
    message: /field 'date' = '9999-12-31' is outside the accepted dates 1900-01-01 \.\. 2099-12-31$/,
  },
  {
    name: 'the year 0001 in a minute file',
    header: 'time_et,open,high,low,close,volume',
    lines: ['2013-10-07 09:30:00,1,1,1,1,1', '2013-10-07 09:31:00,1,1,1,1,1', '0001-10-07 09:32:00,1,1,1,1,1'],
    rule: 'out-of-range',
    field: 'time_et',
    message: /field 'time_et' = '0001-10-07 09:32:00' is outside the accepted dates/,
    opts: { interval: '1m' },
  },
  {
    name: 'a factor of 1e200 (adjusted open 1.1e201)',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,10,11,300'],
    factors: '20200103,1,1,0\n20200106,1e200,1,0\n20501231,1,1,0',
    rule: 'out-of-range',
    field: 'open',
    message:
      /field 'open' = 11 is 1\.1e201 after adjustment by .*factors\/bad\.csv line 2 \(price_factor 1e200, split_factor 1\): above the largest accepted price 1e9$/,
  },
  {
    name: 'a factor of 1e-200 (adjusted open 1.1e-199)',
    lines: [...GOOD_ROWS, '2020-01-06,11,12,10,11,300'],
    factors: '20200103,1,1,0\n20200106,1e-200,1,0\n20501231,1,1,0',
    rule: 'out-of-range',
    field: 'open',
    message:
      /field 'open' = 11 is 1\.1e-199 after adjustment by .*factors\/bad\.csv line 2 \(price_factor 1e-200, split_factor 1\): below the smallest accepted price 1e-6$/,
  },
  {
    name: 'a symbol that is not a plausible ticker',
    header: `symbol,${HEADER}`,
    lines: ['BRK.B,2020-01-02,10,11,9,10.5,100', 'BF-B,2020-01-02,10,11,9,10.5,100', '../EVIL,2020-01-02,10,11,9,10.5,100'],
    rule: 'bad-symbol',
    field: 'symbol',
    message: /field 'symbol' = '\.\.\/EVIL' is not a plausible ticker/,
  },
  {
    name: 'a close more than --max-jump times the previous',
    lines: [...GOOD_ROWS, '2020-01-06,11,26,10,25,300'],
    rule: 'price-jump',
    field: 'close',
    message: /field 'close' = 25 is 2\.273 times the previous bar's close 11 \(row 2 \(line 3\), '2020-01-03'\): a jump beyond --max-jump 2$/,
    opts: { maxJump: 2 },
  },
  {
    name: 'a close less than 1/--max-jump of the previous',
    lines: [...GOOD_ROWS, '2020-01-06,11,11,5,5,300'],
    rule: 'price-jump',
    field: 'close',
    message: /field 'close' = 5 is 1\/2\.2 of the previous bar's close 11 \(row 2 \(line 3\), '2020-01-03'\): a jump beyond --max-jump 2$/,
    opts: { maxJump: 2 },
  },
  {
    name: 'a local time skipped by daylight saving',
    header: 'time_et,open,high,low,close,volume',
    lines: ['2013-03-10 01:58:00,1,1,1,1,1', '2013-03-10 01:59:00,1,1,1,1,1', '2013-03-10 02:30:00,1,1,1,1,1'],
    rule: 'nonexistent-time',
    field: 'time_et',
    message: /'2013-03-10 02:30:00' does not exist in America\/New_York/,
  },
];

describe('importPaths: each bad input gives a DataError naming file, row and rule, and changes nothing', () => {
  let store: Store;
  let dir: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    dir = folder();
    store = await storeIn(dir);
    const good = writeText(dir, 'GOOD.csv', `${HEADER}\n${GOOD_ROWS.join('\n')}`);
    const minute = writeText(dir, 'M.csv', `datetime,open,high,low,close,volume\n2013-10-07 09:30:00,1,1,1,1,1\n2013-10-07 09:31:00,1,1,1,1,1`);
    await importPaths(store, [good]);
    await importPaths(store, [minute]);
    before = await fingerprint(store);
    expect(Number(before.bars)).toBe(4);
  });
  afterAll(() => store.close());

  for (const c of BAD_CASES) {
    it(`rejects ${c.name}`, { timeout: 20_000 }, async () => {
      const sub = `${c.rule}-${BAD_CASES.indexOf(c)}`;
      const file = writeText(dir, `${sub}/BAD.csv`, `${c.header ?? HEADER}\n${c.lines.join('\n')}`);
      const factorsDir = c.factors === undefined ? undefined : path.dirname(writeText(dir, `${sub}/factors/bad.csv`, c.factors));
      const e = await caught(() => importPaths(store, [file], { ...c.opts, factorsDir }));
      expect(e).toBeInstanceOf(DataError);
      expect(e.message).toMatch(/BAD\.csv row 3 \(line 4\)( \[[^\]]+\])?: /);
      expect(e.message).toMatch(c.message);
      expect(e).toMatchObject({ rule: c.rule, row: 3, line: 4, field: c.field });
      expect(await fingerprint(store)).toEqual(before);
    });
  }

  it('rejects a multi-file import whose second file is bad, keeping nothing of the first', async () => {
    const ok = writeText(dir, 'multi/OK.csv', `${HEADER}\n2021-01-04,1,2,0.5,1.5,10\n2021-01-05,1,2,0.5,1.5,10`);
    const bad = writeText(dir, 'multi/BAD.csv', `${HEADER}\n2021-01-04,1,2,0.5,1.5,10\n2021-01-05,1,1.2,0.5,1.5,10`);
    const e = await caught(() => importPaths(store, [ok, bad]));
    expect(e).toMatchObject({ rule: 'high-below-max', row: 2, line: 3 });
    expect(e.message).toMatch(/BAD\.csv row 2 \(line 3\)/);
    expect(await fingerprint(store)).toEqual(before);
    const syms = (await store.conn.runAndReadAll(`SELECT symbol FROM instruments WHERE symbol IN ('OK', 'BAD')`)).getRowObjectsJS();
    expect(syms).toEqual([]);
  });

  it('also rejects a bad row re-imported over good stored bars, keeping them as they were', async () => {
    const bad = writeText(dir, 'regood/GOOD.csv', `${HEADER}\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10.5,9,10,11,200`);
    const e = await caught(() => importPaths(store, [bad]));
    expect(e).toMatchObject({ rule: 'high-below-max', row: 2 });
    expect(await fingerprint(store)).toEqual(before);
  });

  it('counts lines, not rows, when the file has blank lines', async () => {
    const file = writeText(dir, 'blank/BAD.csv', `${HEADER}\n${GOOD_ROWS[0]}\n\n${GOOD_ROWS[1]}\n2020-01-06,11,12,10,x,300`);
    const e = await caught(() => importPaths(store, [file]));
    expect(e).toMatchObject({ rule: 'not-a-number', row: 3, line: 5 });
    expect(e.message).toMatch(/BAD\.csv row 3 \(line 5\): field 'close' = 'x'/);
  });

  it('says how many more bad rows there are', async () => {
    const file = writeText(dir, 'many/BAD.csv', `${HEADER}\n2020-01-02,x,1,1,1,1\n2020-01-03,x,1,1,1,1\n2020-01-06,x,1,1,1,1`);
    const e = await caught(() => importPaths(store, [file]));
    expect(e.message).toMatch(/row 1 \(line 2\).*\(and 2 more bad rows\)$/);
  });

  it('rejects an unknown interval, given or inferred', async () => {
    const given = await caught(() => importPaths(store, [path.join(dir, 'GOOD.csv')], { interval: '2m' }));
    expect(given).toBeInstanceOf(DataError);
    expect(given).toMatchObject({ rule: 'unknown-interval' });
    expect(given.message).toMatch(/unknown interval '2m': use one of 1m, 5m, 15m, 30m, 1h, 1d/);
    const file = writeText(
      dir,
      'twomin/BAD.csv',
      `datetime,open,high,low,close,volume\n2013-10-07 09:30:00,1,1,1,1,1\n2013-10-07 09:32:00,1,1,1,1,1\n2013-10-07 09:34:00,1,1,1,1,1`,
    );
    const inferred = await caught(() => importPaths(store, [file]));
    expect(inferred).toMatchObject({ rule: 'unknown-interval', row: 2, line: 3 });
    expect(inferred.message).toMatch(/BAD\.csv row 2 \(line 3\): field 'datetime': the smallest step between bars is 2 min, which is not a known interval/);
    expect(await fingerprint(store)).toEqual(before);
  });

  it('rejects the same bar in two files of one symbol', async () => {
    const a = writeText(dir, 'dup/spy/20131007.csv', `time_et,open,high,low,close,volume\n2013-10-07 09:30:00,1,1,1,1,1\n2013-10-07 09:31:00,1,1,1,1,1`);
    const b = writeText(dir, 'dup/spy/2013-10-07.csv', `time_et,open,high,low,close,volume\n2013-10-07 09:31:00,1,1,1,1,1`);
    const e = await caught(() => importPaths(store, [a, b]));
    expect(e).toMatchObject({ rule: 'duplicate-timestamp', row: 1 });
    expect(e.message).toMatch(
      /2013-10-07\.csv row 1 \(line 2\): field 'time_et' = '2013-10-07 09:31:00': SPY already has a bar at this time in .*20131007\.csv row 2/,
    );
    expect(await fingerprint(store)).toEqual(before);
  });

  it('rolls back bars already written when a later step fails (sectors file without a Sector column)', async () => {
    const file = writeText(dir, 'late/LATE.csv', `${HEADER}\n2022-01-03,1,2,0.5,1.5,10`);
    const sectors = writeText(dir, 'late/constituents.csv', `Ticker,Name\nLATE,Late Inc`);
    const e = await caught(() => importPaths(store, [file], { sectors }));
    expect(e).toMatchObject({ rule: 'bad-sectors-file' });
    expect(await fingerprint(store)).toEqual(before);
    // and the store still works: the same import without the bad option goes through
    await importPaths(store, [file]);
    expect(Number((await fingerprint(store)).bars)).toBe(Number(before.bars) + 1);
    await store.conn.run(`DELETE FROM bars WHERE symbol = 'LATE'; DELETE FROM instruments WHERE symbol = 'LATE'`);
    expect(await fingerprint(store)).toEqual(before);
  });

  it('rejects a missing column, an empty symbol, a ragged line and a bad factor file', async () => {
    const noHigh = writeText(dir, 'cols/BAD.csv', `date,open,low,close,volume\n2020-01-02,1,1,1,1`);
    expect(await caught(() => importPaths(store, [noHigh]))).toMatchObject({ rule: 'missing-column', line: 1 });
    const noSym = writeText(dir, 'sym/long.csv', `symbol,date,open,high,low,close\nA,2020-01-02,1,1,1,1\n ,2020-01-02,1,1,1,1`);
    const e = await caught(() => importPaths(store, [noSym]));
    expect(e).toMatchObject({ rule: 'missing-symbol', row: 2, line: 3 });
    const ragged = writeText(dir, 'ragged/BAD.csv', `${HEADER}\n2020-01-02,1,1,1,1,1\n2020-01-03,1,1,1`);
    const r = await caught(() => importPaths(store, [ragged]));
    expect(r).toMatchObject({ rule: 'unreadable-file' });
    expect(r.message).toMatch(/BAD\.csv: cannot read as CSV: .*Line: 3/);
    const good = writeText(dir, 'fac/data/F.csv', `${HEADER}\n2020-01-02,1,1,1,1,1`);
    writeText(dir, 'fac/factors/f.csv', `20200101,1,1,1\n20191231,1,0.5,1`);
    const f = await caught(() => importPaths(store, [good], { factorsDir: path.join(dir, 'fac/factors') }));
    expect(f).toMatchObject({ rule: 'bad-factor-file', line: 2 });
    expect(f.message).toMatch(/f\.csv line 2: field 'date' = 20191231 is before the previous row's 20200101/);
    expect(await fingerprint(store)).toEqual(before);
  });
});
