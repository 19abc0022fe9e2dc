// readChain on the real LEAN sample days, imported into a temp DuckDB file by the real importers (option-store.ts:
// openStore, importPaths for the minute bars, importLean for the option quotes). GOOG 2015-12-24 has minute quotes
// (12 expiries, strikes 600-895), AAPL 2014-06-09 hour quotes only, with post-split strikes (92.86 = 650 / 7).
// Every expectation is either counted independently with plain SQL on the CSV or written by hand with its rule.
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localToUtcExact } from '../../engine/core/timezone.ts';
import { DuckDBInstance } from '../../engine/duckdb.ts';
import { crrPrice } from '../../engine/options/binomial.ts';
import { type Chain, type ChainEntry, chainEntries } from '../../engine/options/chain.ts';
import { ChainStoreError, readChain } from '../../engine/options/chain-store.ts';
import { LEAN, leanAvailable, type OptionStore, openOptionStore } from './option-store.ts';

const QUOTE_COLUMNS = `{'time_et': 'VARCHAR', 'right': 'VARCHAR', 'strike': 'DOUBLE', 'expiry': 'DATE', 'bid_open': 'DOUBLE', 'bid_high': 'DOUBLE',
  'bid_low': 'DOUBLE', 'bid_close': 'DOUBLE', 'bid_size': 'DOUBLE', 'ask_open': 'DOUBLE', 'ask_high': 'DOUBLE', 'ask_low': 'DOUBLE',
  'ask_close': 'DOUBLE', 'ask_size': 'DOUBLE'}`;
const quoteCsv = (und: string, day: string, kind: string) =>
  `read_csv('${path.join(LEAN, 'option', und.toLowerCase(), `${day.replaceAll('-', '')}_${kind}.csv`)}', header = true, columns = ${QUOTE_COLUMNS})`;
const minuteCsv = (und: string, day: string) =>
  `read_csv('${path.join(LEAN, 'minute', und.toLowerCase(), `${day.replaceAll('-', '')}.csv`)}', header = true,
    columns = {'time_et': 'VARCHAR', 'open': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', 'close': 'DOUBLE', 'volume': 'DOUBLE'})`;

/** New York wall clock 'YYYY-MM-DD HH:MM' -> epoch ms. */
const et = (dateTime: string) => localToUtcExact('America/New_York', Date.parse(`${dateTime.replace(' ', 'T')}:00Z`));

/** Rows of a plain SQL query, as JS values. */
async function sql(conn: DuckDBConnection, q: string): Promise<Record<string, any>[]> {
  return (await conn.runAndReadAll(q)).getRowObjectsJS() as Record<string, any>[];
}

/** The latest row (bar) of each contract among the CSV's rows starting in [from, to] ('YYYY-MM-DD HH:MM:SS' ET), with its key. */
const latestSql = (
  csv: string,
  from: string,
  to: string,
) => `SELECT CAST(expiry AS VARCHAR) AS e, "right" AS r, strike AS k, bid_close AS bid, ask_close AS ask, time_et AS t
  FROM ${csv} WHERE time_et BETWEEN '${from}' AND '${to}' QUALIFY row_number() OVER (PARTITION BY expiry, "right", strike ORDER BY time_et DESC) = 1`;
const csvKey = (w: Record<string, any>) => `${w.e}|${w.r}|${w.k}`;

/** 'OCC date|right|strike' of an entry, the key the CSV rows give. */
const keyOf = (e: ChainEntry) => `${e.contract.occExpiry ?? e.contract.expiry}|${e.contract.right}|${e.contract.strike}`;

const strikesOf = (chain: Chain, occ: string) => chain.expiries.find((e) => (e.occExpiry ?? e.expiry) === occ)?.strikes.map((s) => s.strike);

/** The checks every priced chain passes: bounds of the greeks, the IV re-pricing the mid, a reason for every missing IV. */
function checkPriced(chain: Chain, rate: number, steps = 100): number {
  let priced = 0;
  for (const e of chainEntries(chain)) {
    if (e.iv === null) {
      expect(e.reason, e.symbol).not.toBeNull();
      expect(e.greeks).toBeNull();
      continue;
    }
    priced++;
    const g = e.greeks!;
    if (e.contract.right === 'C') {
      expect(g.delta, e.symbol).toBeGreaterThanOrEqual(0);
      expect(g.delta, e.symbol).toBeLessThanOrEqual(1);
    } else {
      expect(g.delta, e.symbol).toBeGreaterThanOrEqual(-1);
      expect(g.delta, e.symbol).toBeLessThanOrEqual(0);
    }
    expect(g.gamma, e.symbol).toBeGreaterThanOrEqual(0);
    expect(g.vega, e.symbol).toBeGreaterThanOrEqual(0);
    expect(e.iv, e.symbol).toBeGreaterThan(0);
    expect(e.iv, e.symbol).toBeLessThan(5);
    // the IV re-prices the mid on the same tree, priced independently here
    const p = crrPrice(
      { right: e.contract.right, style: 'american', steps },
      { spot: e.underlyingPrice!, strike: e.contract.strike, years: e.years, rate, dividendYield: 0, vol: e.iv },
    );
    expect(Math.abs(p - e.mid!), e.symbol).toBeLessThan(1e-6);
    expect(Math.abs(g.price - e.mid!), e.symbol).toBeLessThan(1e-6);
  }
  return priced;
}

/** Call and put IVs at the same strike within 0.05 for |K / S - 1| <= 2% (parity); returns how many pairs. */
function checkIvParity(chain: Chain): number {
  let pairs = 0;
  for (const ex of chain.expiries) {
    for (const s of ex.strikes) {
      if (Math.abs(s.strike / chain.spot - 1) > 0.02 || s.call?.iv == null || s.put?.iv == null) continue;
      pairs++;
      expect(Math.abs(s.call.iv - s.put.iv), `${ex.expiry} ${s.strike}`).toBeLessThan(0.05);
    }
  }
  return pairs;
}

describe.skipIf(!leanAvailable)('readChain from a store of the LEAN sample days', () => {
  let db: OptionStore;
  let conn: DuckDBConnection;
  beforeAll(async () => {
    db = await openOptionStore('chain-store', [
      { underlying: 'GOOG', files: ['20151224_quote.csv'] },
      { underlying: 'AAPL', files: ['20140609_quote_hour.csv'] },
    ]);
    conn = db.conn;
  }, 30_000);
  afterAll(() => db?.close());

  describe('GOOG 2015-12-24 at 11:00 ET (minute quotes)', () => {
    const at = et('2015-12-24 11:00');
    const GOOG = () => quoteCsv('GOOG', '2015-12-24', 'quote');

    it('holds every contract with a 1m quote bar that ended 10:45-11:00 (started 10:44-10:59), with that bar', async () => {
      const chain = await readChain(conn, 'GOOG', at);
      // independently: the latest bar per contract among those starting 10:44..10:59 in the CSV
      const want = await sql(conn, latestSql(GOOG(), '2015-12-24 10:44:00', '2015-12-24 10:59:00'));
      const got = new Map(chainEntries(chain).map((e) => [keyOf(e), e]));
      expect(got.size).toBe(want.length);
      for (const w of want) {
        const e = got.get(csvKey(w))!;
        expect(e, csvKey(w)).toBeDefined();
        expect([e.bid, e.ask], csvKey(w)).toEqual([w.bid, w.ask]);
        expect(e.time, csvKey(w)).toBe(et(w.t.slice(0, 16)) + 60_000); // the bar's close
      }
      // DERIVATIVES.md: 12 expiries 2015-12-24..2018-01-19, strikes 600-895
      expect(chain.expiries.map((e) => e.expiry)).toEqual([
        '2015-12-24',
        '2015-12-31',
        '2016-01-08',
        '2016-01-15',
        '2016-01-22',
        '2016-01-29',
        '2016-02-05',
        '2016-02-19',
        '2016-03-18',
        '2016-06-17',
        '2017-01-20',
        '2018-01-19',
      ]);
      const strikes = chainEntries(chain).map((e) => e.contract.strike);
      expect([Math.min(...strikes), Math.max(...strikes)]).toEqual([600, 895]);
      // the expiry is the last trading day (no Saturday monthlies after February 2015): days from 2015-12-24
      expect(chain.expiries.map((e) => e.days).slice(0, 4)).toEqual([0, 7, 15, 22]);
      expect(chain.expiries.every((e) => e.occExpiry === undefined)).toBe(true);
    });

    it('takes the spot from the underlying bar that ends at 11:00 (the 10:59 bar) and gives each entry the multiplier 100', async () => {
      const chain = await readChain({ conn }, 'GOOG', at);
      const [bar] = await sql(conn, `SELECT close FROM ${minuteCsv('GOOG', '2015-12-24')} WHERE time_et = '2015-12-24 10:59:00'`);
      expect(chain.spot).toBe(bar.close);
      expect(chain.spot).toBe(749.23);
      expect(chain.spotTime).toBe(at);
      expect(chain.underlying).toBe('GOOG');
      const e = chainEntries(chain).find((x) => x.symbol === 'GOOG160115C00750000')!;
      expect(e.contract).toMatchObject({ secType: 'OPT', symbol: 'GOOG', underlying: 'GOOG', expiry: '2016-01-15', strike: 750, right: 'C', multiplier: 100 });
      // a quote bar ending at 11:00 is priced against the spot itself
      expect(e.time).toBe(at);
      expect(e.underlyingPrice).toBe(749.23);
    });

    it('gives every two-sided quote its mid (bid + ask) / 2 and spread, and keeps one-sided quotes with a reason and no mid', async () => {
      const chain = await readChain(conn, 'GOOG', at, {}, { pricing: { rate: 0.0025 } });
      let oneSided = 0;
      for (const e of chainEntries(chain)) {
        if (e.bid !== null && e.ask !== null && e.bid > 0 && e.ask > 0 && e.bid <= e.ask) {
          expect(e.mid, e.symbol).toBe((e.bid + e.ask) / 2);
          expect(e.spread, e.symbol).toBeCloseTo(e.ask - e.bid, 12);
        } else {
          oneSided++;
          expect(e.mid, e.symbol).toBeNull();
          expect(e.iv, e.symbol).toBeNull();
          expect(e.reason, e.symbol).toBe(e.bid !== null && e.ask !== null && e.bid > e.ask ? 'crossed-quote' : 'one-sided-quote');
        }
      }
      const [n] = await sql(
        conn,
        `SELECT count(*)::INTEGER AS n FROM (${latestSql(GOOG(), '2015-12-24 10:44:00', '2015-12-24 10:59:00')}) WHERE bid IS NULL OR ask IS NULL`,
      );
      expect(oneSided).toBe(n.n);
      expect(oneSided).toBeGreaterThan(100); // far out-of-the-money puts with no bid, e.g. the 600 put
    });

    it('5 strikes around the money: the 5 nearest 749.23 in each expiry', async () => {
      const chain = await readChain(conn, 'GOOG', at, { strikes: 5 });
      // 2.5-wide strikes: 750 (0.77 away), 747.5 (1.73), 752.5 (3.27), 745 (4.23), 755 (5.77)
      expect(strikesOf(chain, '2016-01-15')).toEqual([745, 747.5, 750, 752.5, 755]);
      // 5-wide: 750 (0.77), 745 (4.23), 755 (5.77), 740 (9.23), 760 (10.77)
      expect(strikesOf(chain, '2016-02-19')).toEqual([740, 745, 750, 755, 760]);
      // every expiry: 5 strikes, none of the dropped ones nearer than a kept one (strike lists from the CSV)
      const lists = await sql(
        conn,
        `SELECT CAST(expiry AS VARCHAR) AS e, list(DISTINCT strike) AS ks FROM ${GOOG()}
           WHERE time_et BETWEEN '2015-12-24 10:44:00' AND '2015-12-24 10:59:00' GROUP BY e`,
      );
      expect(chain.expiries).toHaveLength(12);
      for (const { e, ks } of lists) {
        const kept = strikesOf(chain, e)!;
        expect(kept, e).toHaveLength(5);
        const worstKept = Math.max(...kept.map((k) => Math.abs(k - 749.23)));
        for (const k of ks as number[]) if (!kept.includes(k)) expect(Math.abs(k - 749.23), `${e} ${k}`).toBeGreaterThanOrEqual(worstKept);
      }
    });

    it('a 0.95-1.05 moneyness band: strikes 711.77..786.69 (0.95 and 1.05 x 749.23)', async () => {
      const chain = await readChain(conn, 'GOOG', at, { moneyness: [0.95, 1.05] });
      expect(strikesOf(chain, '2016-02-19')).toEqual([715, 720, 725, 730, 735, 740, 745, 750, 755, 760, 765, 770, 775, 780, 785]);
      const [n] = await sql(
        conn,
        `SELECT count(*)::INTEGER AS n FROM (SELECT DISTINCT expiry, "right", strike FROM ${GOOG()}
           WHERE time_et BETWEEN '2015-12-24 10:44:00' AND '2015-12-24 10:59:00' AND strike BETWEEN 711.7685 AND 786.6915)`,
      );
      expect(chainEntries(chain)).toHaveLength(n.n);
    });

    it('calls only; an expiry range by dates; by days to expiry; the nearest 3 expiries', async () => {
      const calls = chainEntries(await readChain(conn, 'GOOG', at, { right: 'C' }));
      expect(calls.every((e) => e.contract.right === 'C')).toBe(true);
      const [n] = await sql(
        conn,
        `SELECT count(DISTINCT (expiry, strike))::INTEGER AS n FROM ${GOOG()} WHERE "right" = 'C' AND time_et BETWEEN '2015-12-24 10:44:00' AND '2015-12-24 10:59:00'`,
      );
      expect(calls).toHaveLength(n.n);

      const range = await readChain(conn, 'GOOG', at, { expiryFrom: '2016-01-01', expiryTo: '2016-02-29' });
      expect(range.expiries.map((e) => e.expiry)).toEqual(['2016-01-08', '2016-01-15', '2016-01-22', '2016-01-29', '2016-02-05', '2016-02-19']);
      // 1 to 30 days after Thursday 2015-12-24: 12-31 (7), 01-08 (15), 01-15 (22), 01-22 (29); 01-29 is 36 days out
      const days = await readChain(conn, 'GOOG', at, { minDays: 1, maxDays: 30 });
      expect(days.expiries.map((e) => [e.expiry, e.days])).toEqual([
        ['2015-12-31', 7],
        ['2016-01-08', 15],
        ['2016-01-15', 22],
        ['2016-01-22', 29],
      ]);
      const nearest = await readChain(conn, 'GOOG', at, { expiries: 3, right: 'P', strikes: 3 });
      expect(nearest.expiries.map((e) => e.expiry)).toEqual(['2015-12-24', '2015-12-31', '2016-01-08']);
      for (const e of nearest.expiries) {
        expect(e.strikes.map((s) => s.strike)).toEqual([747.5, 750, 752.5]); // 750 (0.77), 747.5 (1.73), 752.5 (3.27)
        expect(e.strikes.every((s) => s.call === null && s.put !== null)).toBe(true);
      }
    });

    it('priced on a 100-step American tree at r = 0.25%: greeks in bounds, IVs re-pricing the mids, call and put IVs agreeing near the money', async () => {
      const chain = await readChain(conn, 'GOOG', at, { moneyness: [0.9, 1.1] }, { pricing: { rate: 0.0025 } });
      const priced = checkPriced(chain, 0.0025);
      expect(priced).toBeGreaterThan(150);
      expect(checkIvParity(chain)).toBeGreaterThan(25);
      // the parity case of DERIVATIVES.md one minute earlier (bar 11:00, here 10:59): 13.4/13.8 and 13.8/14.3 at 749.23
      const row = chain.expiries.find((e) => e.expiry === '2016-01-15')!.strikes.find((s) => s.strike === 750)!;
      expect([row.call!.bid, row.call!.ask, row.put!.bid, row.put!.ask]).toEqual([13.4, 13.8, 13.8, 14.3]);
      expect(row.call!.iv).toBeGreaterThan(0.15);
      expect(row.call!.iv).toBeLessThan(0.25);
    });

    it('with no quote age allowed, only the contracts quoted in the 10:59 bar', async () => {
      const chain = await readChain(conn, 'GOOG', at, {}, { maxQuoteAgeMs: { '1m': 0 } });
      const [n] = await sql(conn, `SELECT count(*)::INTEGER AS n FROM ${GOOG()} WHERE time_et = '2015-12-24 10:59:00'`);
      expect(chainEntries(chain)).toHaveLength(n.n);
      expect(chainEntries(chain).every((e) => e.time === at)).toBe(true);
    });

    it('keeps a locked quote (bid = ask) with its mid: the 805 call of 2016-01-15 at 12:53', async () => {
      const chain = await readChain(conn, 'GOOG', et('2015-12-24 12:53'), { expiryFrom: '2016-01-15', expiryTo: '2016-01-15' });
      const e = chainEntries(chain).find((x) => x.symbol === 'GOOG160115C00805000')!;
      expect([e.bid, e.ask, e.mid, e.spread, e.reason]).toEqual([0.4, 0.4, 0.4, 0, null]);
    });

    it('the expiring series after its 13:00 close (Christmas Eve half day): kept, with reason expired', async () => {
      // 13:00 is the last bar's end: the 12:59 bars are within 15 minutes at 13:05, and T = 0 for the 12-24 series
      const chain = await readChain(conn, 'GOOG', et('2015-12-24 13:05'), { expiryTo: '2015-12-24', strikes: 2 }, { pricing: { rate: 0.0025 } });
      const entries = chainEntries(chain);
      expect(entries.length).toBeGreaterThan(0);
      let withMid = 0;
      for (const e of entries) {
        expect(e.years).toBe(0);
        if (e.mid === null) continue;
        withMid++;
        expect([e.iv, e.reason]).toEqual([null, 'expired']);
      }
      expect(withMid).toBeGreaterThan(0);
    });

    it('says what is missing: no spot bar, no quote table, adjusted underlying bars', async () => {
      await expect(readChain(conn, 'GOOG', et('2015-12-24 03:00'))).rejects.toThrow(/no GOOG 1m bar ends in/);
      await expect(readChain(conn, 'GOOG', at, { strikes: 0 })).rejects.toThrow(/strikes must be a whole number >= 1/);
      const bare = await (await DuckDBInstance.create(':memory:')).connect();
      await bare.run(`CREATE TABLE instruments (symbol VARCHAR); CREATE TABLE bars (symbol VARCHAR)`);
      await expect(readChain(bare, 'GOOG', at)).rejects.toThrow(ChainStoreError);
      await expect(readChain(bare, 'GOOG', at)).rejects.toThrow(/no quote_bars table/);
      // the import stored GOOG's 1m basis (files without factors: 'unknown'); say 'adjusted' for a moment, then put it back
      const basis = `FROM price_basis WHERE symbol = 'GOOG' AND "interval" = '1m'`;
      const before = (await sql(conn, `SELECT basis ${basis}`))[0]?.basis as string | undefined;
      await conn.run(`INSERT INTO price_basis VALUES ('GOOG', '1m', 'adjusted') ON CONFLICT (symbol, "interval") DO UPDATE SET basis = excluded.basis`);
      try {
        await expect(readChain(conn, 'GOOG', at)).rejects.toThrow(/stored adjusted .* option strikes are raw/);
      } finally {
        await conn.run(before === undefined ? `DELETE ${basis}` : `UPDATE price_basis SET basis = '${before}' WHERE symbol = 'GOOG' AND "interval" = '1m'`);
      }
    });
  });

  describe('AAPL 2014-06-09 (hour quotes only, post-split strikes)', () => {
    const AAPL = () => quoteCsv('AAPL', '2014-06-09', 'quote_hour');

    it('at 11:00: every contract of the 10:00 hour bar (it ends at 11:00), 12 expiries, split strikes; spot = the 10:59 close', async () => {
      const at = et('2014-06-09 11:00');
      const chain = await readChain(conn, 'AAPL', at);
      const want = await sql(conn, latestSql(AAPL(), '2014-06-09 10:00:00', '2014-06-09 10:00:00'));
      const got = new Map(chainEntries(chain).map((e) => [keyOf(e), e]));
      expect(got.size).toBe(want.length);
      for (const w of want) expect([got.get(csvKey(w))?.bid, got.get(csvKey(w))?.ask], csvKey(w)).toEqual([w.bid, w.ask]);
      expect(chain.expiries).toHaveLength(12);
      expect(chain.spot).toBe(92.62); // minute/aapl/20140609.csv, 10:59 close
      // monthlies before 2015 carry the Saturday OCC date; the last trading day is the Friday before
      const june = chain.expiries.find((e) => e.occExpiry === '2014-06-21')!;
      expect(june.expiry).toBe('2014-06-20');
      expect(june.strikes.find((s) => s.strike === 92.86)!.call!.symbol).toBe('AAPL140621C00092860');
      // 5 around 92.62 on the 2014-06-13 weekly: 92.5 (0.12), 92.86 (0.24), 92.14 (0.48), 93.21 (0.59), 91.79 (0.83)
      const five = await readChain(conn, 'AAPL', at, { strikes: 5, expiryTo: '2014-06-20' });
      expect(five.expiries.map((e) => [e.expiry, e.strikes.map((s) => s.strike)])).toEqual([
        ['2014-06-13', [91.79, 92.14, 92.5, 92.86, 93.21]],
        // the monthly lists every 5/7 of a dollar: 92.86 (0.24), 92.14 (0.48), 93.57 (0.95), 91.43 (1.19), 94.29 (1.67)
        ['2014-06-20', [91.43, 92.14, 92.86, 93.57, 94.29]],
      ]);
    });

    it('at 11:30 still the 10:00 hour bar, priced against the stock at its close (11:00), not at 11:30', async () => {
      const chain = await readChain(conn, 'AAPL', et('2014-06-09 11:30'), { strikes: 4 });
      const [bar] = await sql(conn, `SELECT close FROM ${minuteCsv('AAPL', '2014-06-09')} WHERE time_et = '2014-06-09 11:29:00'`);
      expect(chain.spot).toBe(bar.close);
      expect(chain.spot).not.toBe(92.62);
      expect(chainEntries(chain).length).toBeGreaterThan(40); // 4 strikes x 2 rights x 12 expiries, where listed
      for (const e of chainEntries(chain)) {
        expect(e.time).toBe(et('2014-06-09 11:00'));
        expect(e.underlyingPrice).toBe(92.62);
      }
    });

    it('priced: greeks in bounds, IVs re-pricing the mids, call and put IVs agreeing near the money', async () => {
      const chain = await readChain(conn, 'AAPL', et('2014-06-09 11:00'), { moneyness: [0.9, 1.1] }, { pricing: { rate: 0.0005 } });
      expect(checkPriced(chain, 0.0005)).toBeGreaterThan(150);
      expect(checkIvParity(chain)).toBeGreaterThan(30);
    });

    it('keeps the crossed 80.71 put (bid 0.02, ask 0.01 in the 11:00 bar) at 12:00 with its reason and no mid or IV', async () => {
      const chain = await readChain(conn, 'AAPL', et('2014-06-09 12:00'), { expiryTo: '2014-06-13', right: 'P' }, { pricing: { rate: 0.0005 } });
      const e = chainEntries(chain).find((x) => x.symbol === 'AAPL140613P00080710')!;
      expect([e.bid, e.ask, e.mid, e.iv, e.reason]).toEqual([0.02, 0.01, null, null, 'crossed-quote']);
      expect(e.spread).toBeCloseTo(-0.01, 12);
      expect(e.message).toMatch(/crossed/);
    });
  });
});
