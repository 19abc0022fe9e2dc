// A store with GOOG's minute bars of 2015-12-23/24/28 (raw, as imported without factors) and its options' quote
// bars of 2015-12-23 and 12-24 from the LEAN sample, built with the real importers in a temp folder: the options
// tests' data (covered-call, iron-condor).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPaths } from '../../engine/data/import.ts';
import { importLean } from '../../engine/data/lean-import.ts';
import { openStore } from '../../engine/data/store.ts';
import { SHARED } from '../shared-data.ts';

export const LEAN = 'data/lean-sample';

/** Builds the store; `dispose` deletes its folder. */
export async function googOptionsStore(): Promise<{ db: string; dispose(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-goog-options-'));
  const db = path.join(dir, 'goog.duckdb');
  const store = await openStore(db);
  try {
    await importPaths(store, [path.join(SHARED, LEAN, 'minute/goog')], {});
    await importLean(
      store,
      ['20151223_quote.csv', '20151224_quote.csv'].map((f) => path.join(SHARED, LEAN, 'option/goog', f)),
    );
  } finally {
    store.close();
  }
  return { db, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
