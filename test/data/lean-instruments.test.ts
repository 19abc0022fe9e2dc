// The issue-15 schema on databases from before it (migrated on a read-write open, read as they are read-only) and
// readInstruments' defaults: a row's NULL multiplier is 1, a symbol without a row a US stock.
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '../../engine/duckdb.ts';
import { importPaths } from '../../engine/data/import.ts';
import { readInstruments, usStockRow } from '../../engine/data/instruments.ts';
import { importLean } from '../../engine/data/lean-import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { HEADER, tempDir, writeText } from './helpers.ts';

const tmp = tempDir('tradebench-lean-inst-');
afterAll(() => tmp.cleanup());

async function columns(store: Store, table: string): Promise<string[]> {
  const r = await store.conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = '${table}' ORDER BY column_index`,
  );
  return r.getRowObjectsJS().map((x) => String(x.column_name));
}

/** A database as the store made it before issue 15: the 7-column instruments table and bars, with a stock. */
async function preIssue15Db(file: string): Promise<void> {
  const inst = await DuckDBInstance.create(file);
  const conn = await inst.connect();
  await conn.run(`
CREATE TABLE instruments (symbol VARCHAR PRIMARY KEY, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, sector VARCHAR, tick_size DOUBLE, tz VARCHAR);
CREATE TABLE bars (symbol VARCHAR NOT NULL, "interval" VARCHAR NOT NULL, ts BIGINT NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL);
INSERT INTO instruments VALUES ('SPY', 'STK', 'SMART', 'USD', 'ETF', NULL, 'America/New_York');
INSERT INTO bars VALUES ('SPY', '1d', 1577923200000, 323.54, 324.89, 322.53, 324.87, 59151200);`);
  conn.closeSync();
  inst.closeSync();
}

const NEW_COLUMNS = ['multiplier', 'underlying', 'expiry', 'strike', 'option_right', 'contract_month', 'local_symbol'];
const SPY_ROW = {
  symbol: 'SPY',
  secType: 'STK',
  exchange: 'SMART',
  currency: 'USD',
  multiplier: 1,
  tickSize: null,
  underlying: null,
  expiry: null,
  strike: null,
  right: null,
  contractMonth: null,
  localSymbol: 'SPY',
  tz: 'America/New_York',
  sector: 'ETF',
  stored: true,
};

describe('a database from before issue 15', () => {
  const file = path.join(tmp.dir, 'old.duckdb');

  it('read-only: not migrated (nothing is written), and readInstruments reads it with the defaults', async () => {
    await preIssue15Db(file);
    const store = await openStore(file, { readOnly: true });
    try {
      expect(await columns(store, 'instruments')).toEqual(['symbol', 'sec_type', 'exchange', 'currency', 'sector', 'tick_size', 'tz']);
      const m = await readInstruments(store, ['SPY', 'QQQ']);
      expect(m.get('SPY')).toEqual(SPY_ROW);
      expect(m.get('QQQ')).toEqual(usStockRow('QQQ'));
    } finally {
      store.close();
    }
  });

  it('read-write: gains the columns and tables on open, keeps its rows, and its stock reads back with multiplier 1', async () => {
    const store = await openStore(file);
    try {
      expect(await columns(store, 'instruments')).toEqual(['symbol', 'sec_type', 'exchange', 'currency', 'sector', 'tick_size', 'tz', ...NEW_COLUMNS]);
      expect(await columns(store, 'quote_bars')).toEqual([
        'symbol',
        'interval',
        'ts',
        'bid_open',
        'bid_high',
        'bid_low',
        'bid_close',
        'bid_size',
        'ask_open',
        'ask_high',
        'ask_low',
        'ask_close',
        'ask_size',
      ]);
      expect(await columns(store, 'open_interest')).toEqual(['symbol', 'ts', 'open_interest']);
      const [spy] = await loadBars(store, { symbols: ['SPY'], interval: '1d' });
      expect([...spy!.close]).toEqual([324.87]);
      const r = await store.conn.runAndReadAll(`SELECT multiplier FROM instruments WHERE symbol = 'SPY'`);
      expect(r.getRowObjectsJS()).toEqual([{ multiplier: null }]); // NULL: imported before, read as 1
      expect((await readInstruments(store, ['SPY'])).get('SPY')).toEqual(SPY_ROW);
    } finally {
      store.close();
    }
    // a second open finds it current: the same columns once, no error
    const again = await openStore(file);
    try {
      expect(await columns(again, 'instruments')).toHaveLength(7 + NEW_COLUMNS.length);
    } finally {
      again.close();
    }
  });

  it('the primary keys of quote_bars (symbol, interval, ts) and open_interest (symbol, ts) hold', async () => {
    const store = await openStore(file);
    try {
      await store.conn.run(`INSERT INTO open_interest VALUES ('ESZ13', 0, 5)`);
      await expect(store.conn.run(`INSERT INTO open_interest VALUES ('ESZ13', 0, 6)`)).rejects.toThrow(/PRIMARY KEY|primary key|Duplicate key/);
      await store.conn.run(`INSERT INTO quote_bars (symbol, "interval", ts, bid_size, ask_size) VALUES ('ESZ13', '1m', 0, 0, 0)`);
      await expect(store.conn.run(`INSERT INTO quote_bars (symbol, "interval", ts) VALUES ('ESZ13', '1m', 0)`)).rejects.toThrow(
        /PRIMARY KEY|primary key|Duplicate key/,
      );
      await store.conn.run(`INSERT INTO quote_bars (symbol, "interval", ts) VALUES ('ESZ13', '1h', 0)`); // another interval: another key
    } finally {
      store.close();
    }
  });
});

describe('readInstruments', () => {
  it('keys the map by the symbols as given (matched upper-cased), NULL sec_type STK and NULL currency USD', async () => {
    const store = await openStore(path.join(tmp.dir, 'hand.duckdb'));
    try {
      await store.conn.run(`INSERT INTO instruments (symbol) VALUES ('ZZZ')`); // a row written by hand, every other column NULL
      const m = await readInstruments(store, [' zzz', 'NONE']);
      expect([...m.keys()]).toEqual([' zzz', 'NONE']);
      expect(m.get(' zzz')).toMatchObject({ symbol: 'ZZZ', secType: 'STK', currency: 'USD', multiplier: 1, localSymbol: 'ZZZ', stored: true });
      expect(m.get('NONE')).toMatchObject({ symbol: 'NONE', secType: 'STK', exchange: 'SMART', currency: 'USD', multiplier: 1, stored: false });
      expect(await readInstruments(store, [])).toEqual(new Map());
    } finally {
      store.close();
    }
  });

  it('a stock import and a LEAN import in one store: each symbol with its own type, currency and multiplier', { timeout: 30_000 }, async () => {
    const dir = path.join(tmp.dir, 'mixed');
    const store = await openStore(path.join(dir, 'mixed.duckdb'));
    try {
      await importPaths(store, [writeText(dir, 'in/AAPL.csv', `${HEADER}\n2020-01-02,74.06,75.15,73.7975,75.0875,135480400`)]);
      if (sharedAvailable('data/lean-sample/forex')) {
        await importLean(store, [path.join(SHARED, 'data/lean-sample/forex/gbpusd/daily/oanda.csv')]);
        const m = await readInstruments(store, ['AAPL', 'GBP.USD']);
        expect(m.get('AAPL')).toMatchObject({ secType: 'STK', currency: 'USD', multiplier: 1, tz: 'America/New_York', stored: true });
        expect(m.get('GBP.USD')).toMatchObject({ secType: 'CASH', currency: 'USD', multiplier: 1, tickSize: 0.00005, stored: true });
      }
    } finally {
      store.close();
    }
  });
});

describe.runIf(existsSync(SAMPLE_DB_PATH))('a copy of data/sample.duckdb', () => {
  it('migrates on open; its bars and instruments read back as before, every stock with multiplier 1', { timeout: 30_000 }, async () => {
    const file = path.join(tmp.dir, 'sample-copy.duckdb');
    copyFileSync(SAMPLE_DB_PATH, file);
    if (existsSync(`${SAMPLE_DB_PATH}.wal`)) copyFileSync(`${SAMPLE_DB_PATH}.wal`, `${file}.wal`);
    const store = await openStore(file);
    try {
      const syms = (await store.conn.runAndReadAll(`SELECT DISTINCT symbol FROM bars ORDER BY 1`)).getRowObjectsJS().map((r) => String(r.symbol));
      expect(syms.length).toBeGreaterThan(0);
      const m = await readInstruments(store, syms);
      for (const s of syms) expect(m.get(s)).toMatchObject({ secType: 'STK', currency: 'USD', multiplier: 1, expiry: null, strike: null });
      const [n] = (await store.conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM quote_bars`)).getRowObjectsJS();
      expect(n!.n).toBe(0);
    } finally {
      store.close();
    }
  });
});
