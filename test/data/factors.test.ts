import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import { factorAt, findFactorFile, readFactorFile } from '../../engine/data/factors.ts';
import { tempDir, writeText } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('LEAN factor files', () => {
  const file = writeText(tmp.dir, 'factor_files/aapl.csv', `20140606,0.9011818,0.0357143,645.57\n20140806,0.9011818,0.25,94.97\n20501231,1,1,0\n`);

  it('reads rows and finds the file by lower-case symbol', () => {
    expect(findFactorFile(path.join(tmp.dir, 'factor_files'), 'AAPL')).toBe(file);
    expect(findFactorFile(path.join(tmp.dir, 'factor_files'), 'MSFT')).toBeUndefined();
    expect(readFactorFile(file)).toEqual([
      { date: 20140606, priceFactor: 0.9011818, splitFactor: 0.0357143, referencePrice: 645.57, line: 1 },
      { date: 20140806, priceFactor: 0.9011818, splitFactor: 0.25, referencePrice: 94.97, line: 2 },
      { date: 20501231, priceFactor: 1, splitFactor: 1, referencePrice: NaN, line: 3 },
    ]);
  });

  it('finds only files directly in the folder: a symbol cannot walk out of it', () => {
    const dir = path.join(tmp.dir, 'confined/factors');
    writeText(tmp.dir, 'confined/evil.csv', `20501231,1000,1,0`);
    writeText(tmp.dir, 'confined/factors/sub/x.csv', `20501231,1,1,0`);
    const brk = writeText(tmp.dir, 'confined/factors/brk.b.csv', `20501231,1,1,0`);
    for (const sym of ['../EVIL', '../evil', '..', '.', 'SUB/X', 'sub/x', '/etc/passwd', `${tmp.dir}/confined/evil`, 'A\\..\\EVIL', '', ' EVIL']) {
      expect(findFactorFile(dir, sym), sym).toBeUndefined();
    }
    expect(findFactorFile(dir, 'BRK.B')).toBe(brk);
    // a folder named like a symbol is not a factor file
    writeText(tmp.dir, 'confined/factors/dir.csv/inside.csv', `20501231,1,1,0`);
    expect(findFactorFile(dir, 'DIR')).toBeUndefined();
  });

  it('takes the first row dated on or after the bar, ones after the last row', () => {
    const rows = readFactorFile(file);
    expect(factorAt(rows, 20000101)).toEqual({ priceFactor: 0.9011818, splitFactor: 0.0357143 });
    expect(factorAt(rows, 20140606)).toEqual({ priceFactor: 0.9011818, splitFactor: 0.0357143 });
    expect(factorAt(rows, 20140609)).toEqual({ priceFactor: 0.9011818, splitFactor: 0.25 });
    expect(factorAt(rows, 20210101)).toEqual({ priceFactor: 1, splitFactor: 1 });
    expect(factorAt(rows, 20600101)).toEqual({ priceFactor: 1, splitFactor: 1 });
  });

  it('rejects bad rows with file, line and field', () => {
    const bad = writeText(tmp.dir, 'bad/x.csv', `20140606,0.9,0.5,1\n2014-08-06,0.9,0.25,1`);
    expect(() => readFactorFile(bad)).toThrow(DataError);
    expect(() => readFactorFile(bad)).toThrow(/x\.csv line 2: field 'date' = '2014-08-06' is not a yyyymmdd date/);
    const zero = writeText(tmp.dir, 'bad/y.csv', `20140606,0.9,0,1`);
    expect(() => readFactorFile(zero)).toThrow(/y\.csv line 1: field 'split_factor' = '0' is not a positive number/);
  });
});
