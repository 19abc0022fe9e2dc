// greeksTable on real quotes: one hour of GOOG 2015-12-24 for the 750 call and put of 2016-01-15 (minute quotes),
// a one-sided contract, and AAPL 2014-06-09 hour quotes, imported into a temp DuckDB file by the real importers
// (option-store.ts: openStore, importPaths for the minute bars, importLean for the option quotes). Expectations
// come from plain SQL on the CSVs or from the rules written beside them.
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localToUtcExact } from '../../engine/core/timezone.ts';
import { usEquityOption } from '../../engine/instruments/specs.ts';
import { crrPrice } from '../../engine/options/binomial.ts';
import { optionStoreSymbol } from '../../engine/options/chain-store.ts';
import { yearsToExpiry } from '../../engine/options/contract.ts';
import { greeksTable, greeksTableLength } from '../../engine/options/greeks-table.ts';
import { LEAN, leanAvailable, type OptionStore, openOptionStore } from './option-store.ts';

const QUOTE_COLUMNS = `{'time_et': 'VARCHAR', 'right': 'VARCHAR', 'strike': 'DOUBLE', 'expiry': 'DATE', 'bid_open': 'DOUBLE', 'bid_high': 'DOUBLE',
  'bid_low': 'DOUBLE', 'bid_close': 'DOUBLE', 'bid_size': 'DOUBLE', 'ask_open': 'DOUBLE', 'ask_high': 'DOUBLE', 'ask_low': 'DOUBLE',
  'ask_close': 'DOUBLE', 'ask_size': 'DOUBLE'}`;
const quoteCsv = (file: string) => `read_csv('${path.join(LEAN, 'option', file)}', header = true, columns = ${QUOTE_COLUMNS})`;
const minuteCsv = (file: string) =>
  `read_csv('${path.join(LEAN, 'minute', file)}', header = true, columns = {'time_et': 'VARCHAR', 'open': 'DOUBLE', 'high': 'DOUBLE', 'low': 'DOUBLE', 'close': 'DOUBLE', 'volume': 'DOUBLE'})`;

const et = (dateTime: string) => localToUtcExact('America/New_York', Date.parse(`${dateTime.replace(' ', 'T')}:00Z`));
/** The store symbols of some contracts (built with engine/instruments, as the importer builds them). */
const symbolsOf = (und: string, contracts: { expiry: string; strike: number; right: 'C' | 'P' }[]) =>
  contracts.map((c) => optionStoreSymbol(usEquityOption({ underlying: und, ...c })));

async function sql(conn: DuckDBConnection, q: string): Promise<Record<string, any>[]> {
  return (await conn.runAndReadAll(q)).getRowObjectsJS() as Record<string, any>[];
}

describe.skipIf(!leanAvailable)('greeksTable per contract per minute (GOOG 2015-12-24) and per hour (AAPL 2014-06-09)', () => {
  let db: OptionStore;
  let conn: DuckDBConnection;
  const goog = symbolsOf('GOOG', [
    { expiry: '2016-01-15', strike: 750, right: 'C' },
    { expiry: '2016-01-15', strike: 750, right: 'P' },
    { expiry: '2015-12-24', strike: 600, right: 'P' }, // far out of the money on its last day: no bid
  ]);
  const aapl = symbolsOf('AAPL', [{ expiry: '2014-06-13', strike: 92.86, right: 'C' }]);
  beforeAll(async () => {
    db = await openOptionStore('greeks-table', [
      { underlying: 'GOOG', files: ['20151224_quote.csv'] },
      { underlying: 'AAPL', files: ['20140609_quote_hour.csv'] },
    ]);
    conn = db.conn;
  }, 30_000);
  afterAll(() => db?.close());

  it('one hour (11:00-12:00) of the 750 call and put of 2016-01-15: every quote bar, its mid, the stock at its close, IV and greeks', async () => {
    const [call, put] = goog as [string, string];
    expect([call, put]).toEqual(['GOOG160115C00750000', 'GOOG160115P00750000']);
    const t = await greeksTable(conn, [put, call], '2015-12-24', { pricing: { rate: 0.0025 }, from: et('2015-12-24 11:00'), to: et('2015-12-24 12:00') });
    const n = greeksTableLength(t);
    for (const col of Object.values(t)) expect(col).toHaveLength(n);

    // the CSV's bars of the two contracts starting 11:00..11:59, and the stock's minute closes by start time
    const want = await sql(
      conn,
      `SELECT "right" AS r, time_et AS t, bid_close AS bid, ask_close AS ask FROM ${quoteCsv('goog/20151224_quote.csv')}
         WHERE strike = 750 AND expiry = DATE '2016-01-15' AND time_et BETWEEN '2015-12-24 11:00:00' AND '2015-12-24 11:59:00' ORDER BY "right", time_et`,
    );
    expect(n).toBe(want.length);
    expect(n).toBeGreaterThan(100); // both quoted nearly every minute
    const closes = new Map(
      (await sql(conn, `SELECT time_et AS t, close FROM ${minuteCsv('goog/20151224.csv')}`)).map((r) => [et(r.t.slice(0, 16)), r.close as number]),
    );
    // ordered by symbol (the call's key sorts first), then time
    want.forEach((w, i) => {
      expect(t.symbol[i]).toBe(w.r === 'C' ? call : put);
      expect(t.ts[i]).toBe(et(w.t.slice(0, 16))); // the bar's start
      expect([t.bid[i], t.ask[i]]).toEqual([w.bid, w.ask]);
    });

    const byTs = new Map<number, { c?: number; p?: number }>();
    let oneSided = 0;
    for (let i = 0; i < n; i++) {
      const right = t.symbol[i] === call ? 'C' : 'P';
      if (t.bid[i] === null || t.ask[i] === null) {
        // a side missing for a minute (8 such bars in this hour: 11:04 C no ask, 11:41 P no bid, ...)
        oneSided++;
        expect([t.mid[i], t.iv[i], t.delta[i], t.reason[i]]).toEqual([null, null, null, 'one-sided-quote']);
        continue;
      }
      expect(t.mid[i]).toBe((t.bid[i]! + t.ask[i]!) / 2);
      // the stock bar that starts with the quote bar ends with it too
      expect(t.underlying[i]).toBe(closes.get(t.ts[i]!));
      expect(t.reason[i]).toBeNull();
      const iv = t.iv[i]!;
      expect(iv).toBeGreaterThan(0.1);
      expect(iv).toBeLessThan(0.4);
      const years = yearsToExpiry('2016-01-15', t.ts[i]! + 60_000);
      const model = crrPrice({ right, style: 'american', steps: 100 }, { spot: t.underlying[i]!, strike: 750, years, rate: 0.0025, dividendYield: 0, vol: iv });
      expect(Math.abs(model - t.mid[i]!)).toBeLessThan(1e-6);
      if (right === 'C') {
        expect(t.delta[i]).toBeGreaterThanOrEqual(0);
        expect(t.delta[i]).toBeLessThanOrEqual(1);
        expect(t.rho[i]).toBeGreaterThan(0);
      } else {
        expect(t.delta[i]).toBeGreaterThanOrEqual(-1);
        expect(t.delta[i]).toBeLessThanOrEqual(0);
        expect(t.rho[i]).toBeLessThan(0);
      }
      expect(t.gamma[i]).toBeGreaterThanOrEqual(0);
      expect(t.vega[i]).toBeGreaterThan(0);
      expect(t.theta[i]).toBeLessThan(0); // an at-the-money option loses value by the day
      const slot = byTs.get(t.ts[i]!) ?? {};
      slot[right === 'C' ? 'c' : 'p'] = i;
      byTs.set(t.ts[i]!, slot);
    }
    // parity in the greeks: where both are quoted the same minute, delta(call) - delta(put) = e^-qT = 1 for a European
    // (the American put's early-exercise value is small at 0.25% over 22 days), and the two IVs agree
    let both = 0;
    for (const { c, p } of byTs.values()) {
      if (c === undefined || p === undefined) continue;
      both++;
      expect(Math.abs(t.delta[c]! - t.delta[p]! - 1)).toBeLessThan(0.03);
      expect(Math.abs(t.iv[c]! - t.iv[p]!)).toBeLessThan(0.05);
    }
    expect(both).toBeGreaterThan(50);
    expect(oneSided).toBe(want.filter((w) => w.bid === null || w.ask === null).length);
    expect(oneSided).toBe(8);
  });

  it('a one-sided quote (the 600 put on its last day, no bid) is a row with its reason and no mid, IV or greeks', async () => {
    const sym = goog[2]!;
    const t = await greeksTable(conn, [sym], '2015-12-24', { pricing: { rate: 0.0025 }, from: et('2015-12-24 09:30'), to: et('2015-12-24 10:00') });
    const [want] = await sql(
      conn,
      `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE bid_close IS NULL)::INTEGER AS no_bid FROM ${quoteCsv('goog/20151224_quote.csv')}
         WHERE strike = 600 AND "right" = 'P' AND expiry = DATE '2015-12-24' AND time_et < '2015-12-24 10:00:00'`,
    );
    expect(greeksTableLength(t)).toBe(want.n);
    expect(want.no_bid).toBeGreaterThan(0);
    let noBid = 0;
    for (let i = 0; i < greeksTableLength(t); i++) {
      if (t.bid[i] !== null) continue;
      noBid++;
      expect([t.mid[i], t.iv[i], t.delta[i], t.gamma[i], t.vega[i], t.theta[i], t.rho[i], t.reason[i]]).toEqual([
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        'one-sided-quote',
      ]);
    }
    expect(noBid).toBe(want.no_bid);
  });

  it('hour quotes: a row per hour bar, priced against the stock at the bar close (the 10:00 bar against the 10:59 minute close)', async () => {
    const t = await greeksTable(conn, aapl, '2014-06-09', { pricing: { rate: 0.0005 }, interval: '1h' });
    const [want] = await sql(
      conn,
      `SELECT count(*)::INTEGER AS n FROM ${quoteCsv('aapl/20140609_quote_hour.csv')} WHERE strike = 92.86 AND "right" = 'C' AND expiry = DATE '2014-06-13'`,
    );
    expect(greeksTableLength(t)).toBe(want.n);
    const i = t.ts.indexOf(et('2014-06-09 10:00'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(t.underlying[i]).toBe(92.62); // minute/aapl/20140609.csv, 10:59 close (the bar ending at 11:00)
    expect(t.iv[i]).toBeGreaterThan(0.1);
    expect(t.delta[i]).toBeGreaterThan(0.3); // 0.24 out of the money, 4 days left
    expect(t.delta[i]).toBeLessThan(0.6);
  });

  it('refuses an unknown symbol, a bad day, a bad rate or time; no symbols is an empty table', async () => {
    await expect(greeksTable(conn, ['GOOG160115C00999000'], '2015-12-24', { pricing: { rate: 0 } })).rejects.toThrow(
      /GOOG160115C00999000: no OPT row in instruments/,
    );
    await expect(greeksTable(conn, goog, '2015-12-32', { pricing: { rate: 0 } })).rejects.toThrow(/day = '2015-12-32'/);
    await expect(greeksTable(conn, goog, '2015-12-24', { pricing: { rate: Number.NaN } })).rejects.toThrow(/rate = NaN/);
    await expect(greeksTable(conn, goog, '2015-12-24', { pricing: { rate: 0 }, from: Number.NaN })).rejects.toThrow(/from = NaN/);
    const empty = await greeksTable(conn, [], '2015-12-24', { pricing: { rate: 0 } });
    expect(greeksTableLength(empty)).toBe(0);
    expect(Object.keys(empty)).toEqual(['ts', 'symbol', 'bid', 'ask', 'mid', 'underlying', 'iv', 'delta', 'gamma', 'vega', 'theta', 'rho', 'reason']);
  });
});
