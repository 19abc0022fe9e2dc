// Which LEAN file a path is: kind, content and interval from the folder layout and name; anything else refused.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { leanFileOf, listLeanFiles } from '../../engine/data/lean-files.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const at = (rel: string) => path.join('/data/lean-sample', rel);

describe('leanFileOf', () => {
  it.each([
    ['option/goog/20151224_trade.csv', { kind: 'option', underlying: 'GOOG', content: 'trade', interval: '1m' }],
    ['option/goog/20151224_quote.csv', { kind: 'option', underlying: 'GOOG', content: 'quote', interval: '1m' }],
    ['option/aapl/20140606_quote_hour.csv', { kind: 'option', underlying: 'AAPL', content: 'quote', interval: '1h' }],
    ['option/twx/20140605_openinterest.csv', { kind: 'option', underlying: 'TWX', content: 'openinterest', interval: '1m' }],
    ['future/es/daily_trade.csv', { kind: 'future', root: 'ES', content: 'trade', interval: '1d' }],
    ['future/gc/hour_quote.csv', { kind: 'future', root: 'GC', content: 'quote', interval: '1h' }],
    ['future/es/20131007_openinterest.csv', { kind: 'future', root: 'ES', content: 'openinterest', interval: '1m' }],
    ['forex/gbpusd/daily/oanda.csv', { kind: 'forex', pair: 'GBP.USD', base: 'GBP', quote: 'USD', vendor: 'oanda', interval: '1d' }],
    ['forex/eurgbp/daily/fxcm.csv', { kind: 'forex', pair: 'EUR.GBP', vendor: 'fxcm', interval: '1d' }],
    ['forex/eurusd/hour/oanda.csv', { kind: 'forex', pair: 'EUR.USD', interval: '1h' }],
    ['forex/eurusd/minute/oanda_20140501.csv', { kind: 'forex', pair: 'EUR.USD', interval: '1m', content: 'quote' }],
  ])('%s', (rel, want) => {
    expect(leanFileOf(at(rel))).toMatchObject({ ...want, path: at(rel) });
  });

  it.each([
    'minute/spy/20131007.csv', // a stock's minute bars: the stock importer's
    'option/goog/20151224_greeks.csv',
    'option/goog/notes.txt',
    'future/es/weekly_trade.csv',
    'forex/gbpusd/daily/dukascopy.csv',
    'forex/gbpusd/minute/oanda.csv', // minute files are per day
    'forex/gbp/daily/oanda.csv',
    'DERIVATIVES.md',
  ])('refuses %s, saying which layouts it takes', (rel) => {
    try {
      leanFileOf(at(rel));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect(e).toMatchObject({ rule: 'unreadable-file' });
      expect((e as Error).message).toMatch(
        /not a LEAN sample derivatives file: expected option\/<underlying>\/<yyyymmdd>_<trade\|quote\|openinterest\|quote_hour>\.csv, /,
      );
    }
  });
});

describe.runIf(sharedAvailable('data/lean-sample'))('listLeanFiles on the sample', () => {
  const lean = (rel: string) => path.join(SHARED, 'data/lean-sample', rel);
  it('a folder is every file under it, sorted', () => {
    const files = listLeanFiles([lean('option/goog')]);
    expect(files.map((f) => path.basename(f.path))).toEqual([
      '20151223_openinterest.csv',
      '20151223_quote.csv',
      '20151223_trade.csv',
      '20151224_openinterest.csv',
      '20151224_quote.csv',
      '20151224_trade.csv',
      '20151228_quote.csv',
      '20151228_trade.csv',
    ]);
    expect(listLeanFiles([lean('forex/eurusd/minute'), lean('forex/eurusd/minute/oanda_20140501.csv')])).toHaveLength(15); // a file named twice once
  });
  it('refuses Oanda and FXCM bars of one pair and interval together (different days), and the sample root', () => {
    expect(() => listLeanFiles([lean('forex/eurusd/daily')])).toThrow(
      /daily\/fxcm\.csv and .*daily\/oanda\.csv both give EUR\.USD 1d bars, from different vendors \(Oanda's days are UTC days, FXCM's UTC-05 days\): import one of them/,
    );
    expect(() => listLeanFiles([lean('')])).toThrow(/DERIVATIVES\.md: not a LEAN sample derivatives file/);
    expect(() => listLeanFiles([lean('option/none')])).toThrow(/no such file or folder/);
    expect(() => listLeanFiles([])).toThrow(/no LEAN files given/);
  });
});
