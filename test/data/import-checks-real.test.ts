// The import's value checks and re-import semantics on real vendor data from ../shared/data (skipped
// with a message when absent, failing under CI=true): --max-jump finds the vendor errors the data's
// README lists and not a split the factor files adjust; a two-row correction of a 5,402-bar history
// changes two bars by default and deletes the range in between only with replaceRange.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { caught, fingerprint, HEADER, storeIn, tempDir, writeText } from './helpers.ts';

const DATA = path.join(SHARED, 'data');
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const newStore = () => storeIn(tmp.dir, `checks${++n}.duckdb`);

describe.skipIf(!sharedAvailable('data/sp500-daily'))('S&P 500 daily set: --max-jump and corrections', () => {
  const adjusted = (sym: string) => path.join(DATA, 'sp500-daily/adjusted', `${sym}.csv`);

  it('--max-jump 1.9 stops at the vendor errors of the README, naming file, row and line', { timeout: 60_000 }, async () => {
    const store = await newStore();
    try {
      const cases = [
        // ANTM: three moves beyond 1.9x; the README's 2002-03-18 (a split flag with no price change, so the
        // adjusted close doubles) is one of the two after the first
        [
          'ANTM',
          /^.*ANTM\.csv row 206 \(line 207\): field 'close' = 17\.444749 is 1\/2\.731 of the previous bar's close 47\.642504 \(row 205 \(line 206\), '2001-10-29'\): a jump beyond --max-jump 1\.9 \(and 2 more bad rows\)$/,
        ],
        // TRMB 2007-02-23: a stale bar, the split a day late (up 2x, then down 2x the next day)
        [
          'TRMB',
          /^.*TRMB\.csv row 1838 \(line 1839\): field 'close' = 28\.045 is 2 times the previous bar's close 14\.0225 \(row 1837 \(line 1838\), '2007-02-22'\): a jump beyond --max-jump 1\.9 \(and 1 more bad row\)$/,
        ],
        // KSU 2000-07-13: a spin-off booked as a dividend
        [
          'KSU',
          /^.*KSU\.csv row 177 \(line 178\): field 'close' = 5\.605998 is 1\.997 times the previous bar's close 2\.806741 \(row 176 \(line 177\), '2000-07-12'\): a jump beyond --max-jump 1\.9$/,
        ],
      ] as const;
      for (const [sym, message] of cases) {
        const e = await caught(() => importPaths(store, [adjusted(sym)], { maxJump: 1.9 }));
        expect(e, sym).toBeInstanceOf(DataError);
        expect(e, sym).toMatchObject({ rule: 'price-jump', field: 'close' });
        expect(e.message).toMatch(message);
      }
      expect(await fingerprint(store)).toMatchObject({ bars: '0', instruments: '0' });
      // the same files pass without the option: every value is within the bounds
      expect(
        await importPaths(
          store,
          cases.map(([sym]) => adjusted(sym)),
        ),
      ).toMatchObject({ inserted: 15_911, updated: 0, unchanged: 0 });
    } finally {
      store.close();
    }
  });

  it('a two-row AAPL correction updates one bar and keeps 5,402; --replace-range removes the 5,030 between', { timeout: 60_000 }, async () => {
    const store = await newStore();
    try {
      expect(await importPaths(store, [adjusted('AAPL')])).toMatchObject({ rows: 5_402, inserted: 5_402 });
      // line 85 as it is, line 5116 with a corrected volume
      const fix = writeText(
        tmp.dir,
        'fix/AAPL.csv',
        `${HEADER}\n2000-03-01,0.911697,1.015509,0.911236,1.002052,9616100\n2020-03-02,70.02818,74.781403,68.896933,74.128952,85349340`,
      );
      expect(await importPaths(store, [fix])).toMatchObject({ rows: 2, inserted: 0, updated: 1, unchanged: 1, removed: 0 });
      const [aapl] = await loadBars(store, { symbols: ['AAPL'], interval: '1d' });
      expect(aapl!.ts.length).toBe(5_402);
      expect(aapl!.volume[5114]).toBe(85_349_340);
      expect(aapl!.volume[5113]).not.toBe(85_349_340);
      // the old semantics, on request: the file's range is rows 84..5115 of the stored history
      const r = await importPaths(store, [fix], { replaceRange: true });
      expect(r).toMatchObject({ rows: 2, inserted: 0, updated: 0, unchanged: 2, removed: 5_030 });
      const [after] = await loadBars(store, { symbols: ['AAPL'], interval: '1d' });
      expect(after!.ts.length).toBe(5_402 - 5_030);
    } finally {
      store.close();
    }
  });
});

describe.skipIf(!sharedAvailable('data/lean-sample'))('LEAN daily bars with factor files: jumps after adjustment', () => {
  const lean = path.join(DATA, 'lean-sample');

  it("AAPL's 7:1 and 4:1 splits are jumps in the raw file and none once adjusted", { timeout: 60_000 }, async () => {
    const store = await newStore();
    try {
      // 2.5: above its largest real one-day move (2000-09-29, -52%), below the 7:1 and 4:1 splits
      const raw = await caught(() => importPaths(store, [path.join(lean, 'daily/aapl.csv')], { maxJump: 2.5 }));
      expect(raw).toMatchObject({ rule: 'price-jump', row: 4134, line: 4135, field: 'close' });
      expect(raw.message).toMatch(
        /aapl\.csv row 4134 \(line 4135\): field 'close' = 93\.7000 is 1\/6\.89 of the previous bar's close 645\.57 \(row 4133 \(line 4134\), '2014-06-06'\): a jump beyond --max-jump 2\.5 \(and 1 more bad row\)$/,
      );
      const s = await importPaths(store, [path.join(lean, 'daily/aapl.csv')], { maxJump: 2.5, factorsDir: path.join(lean, 'factor_files') });
      expect(s).toMatchObject({ adjusted: ['AAPL'], updated: 0, unchanged: 0 });
      expect(s.inserted).toBe(s.rows);
    } finally {
      store.close();
    }
  });
});
