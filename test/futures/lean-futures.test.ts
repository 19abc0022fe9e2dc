import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { byContract, futuresFileInfo, readFuturesOpenInterest, readFuturesQuotes, readFuturesTrades } from '../../engine/data/lean-futures.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const ES = 'data/lean-sample/future/es';
const GC = 'data/lean-sample/future/gc';

describe.runIf(sharedAvailable(ES) && sharedAvailable(GC))('the LEAN sample futures files', () => {
  const es = (f: string) => path.join(SHARED, ES, f);
  it('reads the daily files into per-contract series (row counts as in DERIVATIVES.md)', () => {
    const trades = readFuturesTrades(es('daily_trade.csv'));
    expect(trades).toHaveLength(203);
    expect(trades[0]).toEqual({
      ts: Date.UTC(2013, 9, 6),
      date: '2013-10-06',
      contractMonth: '201312',
      expiry: '2013-12-20',
      open: 1676.75,
      high: 1678.25,
      low: 1673.25,
      close: 1676.5,
      volume: 21573,
    });
    const series = byContract(trades);
    expect([...series.keys()]).toEqual(['201312', '201403', '201406', '201409', '201412', '202003', '202006', '202009']);
    const dec = series.get('201312')!;
    expect(dec.every((r, i) => i === 0 || r.date > dec[i - 1]!.date)).toBe(true);
    expect(dec.find((r) => r.date === '2013-12-13')!.volume).toBe(347764);
    const oi = readFuturesOpenInterest(es('daily_openinterest.csv'));
    expect(oi).toHaveLength(47);
    expect(oi.find((r) => r.date === '2013-12-20' && r.contractMonth === '201403')!.openInterest).toBe(2658894);
  });
  it('reads minute files: ts from time_utc, the New York date, and the file named by its UTC date', () => {
    const m = readFuturesTrades(es('20131007_trade.csv'));
    expect(m).toHaveLength(1671);
    // first row: time_et 2013-10-06 20:00:00, time_utc 2013-10-07 00:00:00 (EDT = UTC-4)
    expect(m[0]).toMatchObject({ ts: Date.UTC(2013, 9, 7, 0, 0), date: '2013-10-06', contractMonth: '201312', close: 1676.5, volume: 9 });
    expect(futuresFileInfo('20131007_trade.csv')).toEqual({ kind: 'trade', resolution: 'minute', utcDate: '2013-10-07' });
    // after the DST change (2013-11-03): EST = UTC-5
    const nov = readFuturesTrades(es('20131118_trade.csv'));
    expect(nov[0]!.ts).toBe(Date.UTC(2013, 10, 18, 0, 0)); // time_et 2013-11-17 19:00:00
    expect(nov[0]!.date).toBe('2013-11-17');
  });
  it('reads quote bars with empty sides as NaN prices and size 0', () => {
    const q = readFuturesQuotes(es('daily_quote.csv'));
    expect(q).toHaveLength(288);
    expect(q[0]!.bid).toEqual({ open: 1682.75, high: 1682.75, low: 1673.25, close: 1676.5, size: 110 });
    const minute = readFuturesQuotes(es('20131007_quote.csv'));
    const oneSided = minute.filter((r) => Number.isNaN(r.bid.close) || Number.isNaN(r.ask.close));
    expect(oneSided.length).toBeGreaterThan(0);
    for (const r of oneSided) expect(Number.isNaN(r.bid.close) ? r.bid.size : r.ask.size).toBe(0);
  });
  it('reads every ES and GC file without an error, every row', () => {
    let rows = 0;
    for (const dir of [ES, GC]) {
      for (const f of readdirSync(path.join(SHARED, dir))) {
        const file = path.join(SHARED, dir, f);
        const kind = futuresFileInfo(file).kind;
        rows += (kind === 'trade' ? readFuturesTrades : kind === 'quote' ? readFuturesQuotes : readFuturesOpenInterest)(file).length;
      }
    }
    expect(rows).toBe(126_225); // the sum of the rows column of DERIVATIVES.md's futures table
  });
});

describe('bad rows: the error names the file, row, field and rule', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-futures-'));
  const HEADER = 'date,contract_month,expiry,open,high,low,close,volume';
  const GOOD = '2013-10-07,2013-12,2013-12-20,1669,1679.5,1667,1668,1374818';
  const write = (name: string, lines: string[]) => {
    const f = path.join(dir, name);
    writeFileSync(f, `${lines.join('\n')}\n`);
    return f;
  };
  const failsWith = (f: string, rule: string, row: number | undefined, field: string | undefined, msg: RegExp) => {
    let err: unknown;
    try {
      readFuturesTrades(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    expect([e.rule, e.row, e.field]).toEqual([rule, row, field]);
    expect(e.message).toContain(f);
    expect(e.message).toMatch(msg);
  };
  it('a wrong header', () => {
    failsWith(write('daily_trade.csv', ['date,contract_month,expiry,open,high,low,close', GOOD]), 'missing-column', undefined, 'volume', /missing volume/);
  });
  it('field by field', () => {
    failsWith(
      write('daily_trade.csv', [HEADER, GOOD.replace('1679.5', 'abc')]),
      'not-a-number',
      1,
      'high',
      /row 1 \(line 2\) field 'high': 'abc' is not a number/,
    );
    failsWith(
      write('daily_trade.csv', [HEADER, GOOD, GOOD.replace('2013-10-07', '2013-10-08').replace('1667,', '1670,')]),
      'low-above-min',
      2,
      'low',
      /1670 is above min\(open 1669, close 1668\)/,
    );
    failsWith(write('daily_trade.csv', [HEADER, GOOD.replace('2013-12,', '2013-13,')]), 'bad-time', 1, 'contract_month', /not a contract month YYYY-MM/);
    failsWith(write('daily_trade.csv', [HEADER, GOOD.replace(',1374818', ',-5')]), 'negative-volume', 1, 'volume', /whole number/);
    failsWith(write('daily_trade.csv', [HEADER, GOOD.replace(',1669,', ',0,')]), 'non-positive-price', 1, 'open', /not a price > 0/);
    failsWith(write('daily_trade.csv', [HEADER, GOOD.replace(',1374818', '')]), 'missing-value', 1, undefined, /7 fields, the header has 8/);
  });
  it('order, duplicates, and a contract with two expiries', () => {
    failsWith(write('daily_trade.csv', [HEADER, GOOD, GOOD]), 'duplicate-timestamp', 2, 'date', /repeats/);
    failsWith(write('daily_trade.csv', [HEADER, GOOD, GOOD.replace('2013-10-07', '2013-10-06')]), 'out-of-order', 2, 'date', /ascend/);
    failsWith(
      write('daily_trade.csv', [HEADER, GOOD, GOOD.replace('2013-10-07', '2013-10-08').replace('2013-12-20', '2013-12-13')]),
      'out-of-range',
      2,
      'expiry',
      /row 1 gives expiry 2013-12-20/,
    );
  });
  it('a minute row whose time_et is not its time_utc in New York, or not on the file name UTC date', () => {
    const H = 'time_et,time_utc,contract_month,expiry,open,high,low,close,volume';
    failsWith(
      write('20131007_trade.csv', [H, '2013-10-06 21:00:00,2013-10-07 00:00:00,2013-12,2013-12-20,1676.5,1676.5,1676.5,1676.5,9']),
      'bad-time',
      1,
      'time_et',
      /is not time_utc 2013-10-07 00:00:00 in America\/New_York \(that is 2013-10-06 20:00:00\)/,
    );
    failsWith(
      write('20131008_trade.csv', [H, '2013-10-06 20:00:00,2013-10-07 00:00:00,2013-12,2013-12-20,1676.5,1676.5,1676.5,1676.5,9']),
      'bad-time',
      1,
      'time_utc',
      /not on the file's UTC date 2013-10-08/,
    );
  });
  it('a file name that is not a LEAN futures file', () => {
    expect(() => readFuturesTrades(write('es.csv', [HEADER, GOOD]))).toThrow(/not a LEAN futures file name/);
    expect(() => readFuturesTrades(write('daily_quote.csv', [HEADER, GOOD]))).toThrow(/a quote file, read as trade/);
  });
});
