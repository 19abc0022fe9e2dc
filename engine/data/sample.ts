// The bundled sample (data/sample): LEAN's SPY, AAPL, IBM daily bars and SPY, IBM minute bars.
import path from 'node:path';
import { repoRoot } from '../paths.ts';
import { importPaths } from './import.ts';
import { DEFAULT_DB_PATH, openStore } from './store.ts';

export const SAMPLE_DIR = path.join(repoRoot(), 'data/sample');

/**
 * Imports the bundled sample into the database when it has no bars at all (daily as 1d, minute as
 * 1m, both adjusted with the sample's factor files). Says so in one line on stderr. Returns whether
 * it imported.
 */
export async function ensureSampleDb(dbPath: string = DEFAULT_DB_PATH): Promise<boolean> {
  const store = await openStore(dbPath);
  try {
    const r = await store.conn.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM bars) AS has`);
    if (r.getRowObjectsJS()[0]!.has) return false;
    const factorsDir = path.join(SAMPLE_DIR, 'factor_files');
    const daily = await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir });
    const minute = await importPaths(store, [path.join(SAMPLE_DIR, 'minute')], { interval: '1m', factorsDir });
    const n = (x: number) => x.toLocaleString('en-US');
    process.stderr.write(
      `${dbPath} had no bars: imported the bundled sample, ${n(daily.rows)} daily bars (${daily.symbols.join(', ')}) and ` +
        `${n(minute.rows)} minute bars (${minute.symbols.join(', ')}), adjusted for splits and dividends\n`,
    );
    return true;
  } finally {
    store.close();
  }
}
