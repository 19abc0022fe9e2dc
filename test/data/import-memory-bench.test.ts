// scripts/bench/import-memory.ts, the measurement `npm run bench` uses, on a small size: it generates the
// CSV, imports it in a child process and reports rows, seconds and the child's peak RSS.
import { describe, expect, it } from 'vitest';
import { benchImportMemory, writeBenchCsv } from '../../scripts/bench/import-memory.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.ts';

describe('benchImportMemory', () => {
  it('writes a valid, deterministic CSV of the asked size', () => {
    const tmp = tempDir();
    try {
      const a = path.join(tmp.dir, 'a.csv');
      const b = path.join(tmp.dir, 'b.csv');
      writeBenchCsv(a, 12_345);
      writeBenchCsv(b, 12_345);
      const text = readFileSync(a, 'utf8');
      expect(text).toBe(readFileSync(b, 'utf8'));
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toBe('symbol,date,open,high,low,close,volume');
      expect(lines).toHaveLength(12_346);
      expect(lines[1]).toMatch(/^S00000,1990-01-01,/);
      expect(lines.at(-1)).toMatch(/^S00002,/);
    } finally {
      tmp.cleanup();
    }
  });

  it('imports in a child process and reports rows, seconds and peak RSS', { timeout: 120_000 }, async () => {
    const [r] = await benchImportMemory([20_000]);
    expect(r!.rows).toBe(20_000);
    expect(r!.seconds).toBeGreaterThan(0);
    expect(r!.peakRssMb).toBeGreaterThan(50);
    expect(r!.peakRssMb).toBeLessThan(4_000);
  });
});
