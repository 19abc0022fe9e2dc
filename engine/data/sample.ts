// The bundled sample (data/sample): LEAN's SPY, AAPL, IBM daily bars and SPY, IBM minute bars.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.ts';
import { importPaths } from './import.ts';
import { openStore, type Store } from './store.ts';
import { StoreError } from './store-errors.ts';
import { SAMPLE_DB_PATH } from './store-paths.ts';

export { SAMPLE_DB_PATH };

export const SAMPLE_DIR = path.join(repoRoot(), 'data/sample');

/** How long a first use waits for another process's first use (the sample import takes about a second). */
const FIRST_USE_WAIT_MS = 30_000;

/**
 * Imports the bundled sample into its database (data/sample.duckdb by default, the one every command reads
 * without --data; never the user's data/market.duckdb) when it has no bars at all (daily as 1d, minute as
 * 1m, both raw with the sample's factor files: their corporate actions stored beside them), or when its bars
 * were imported before raw storage (adjusted, no price_basis table): then they are imported again, raw.
 * Says so in one line on stderr. Returns whether it imported.
 *
 * It looks read-only first, so a database that has bars is never opened for writing (readers such as
 * notebooks keep sharing it); only the first use takes the write lock, once. Two first uses at the same
 * time: the second waits for the first's import (up to 30 s, saying so), then finds the bars; a writer that holds the
 * file longer gets the lock message (who holds it, what to do).
 */
export async function ensureSampleDb(dbPath: string = SAMPLE_DB_PATH): Promise<boolean> {
  const deadline = Date.now() + FIRST_USE_WAIT_MS;
  let said = false;
  for (;;) {
    let store: Store | undefined;
    try {
      if ((await sampleState(dbPath)) === 'current') return false;
      store = await openStore(dbPath);
    } catch (e) {
      // another first use is importing: wait for it, saying so once
      if (e instanceof StoreError && e.kind === 'locked' && e.holder && !e.holder.readOnly && Date.now() < deadline) {
        if (!said)
          process.stderr.write(
            `waiting (up to ${FIRST_USE_WAIT_MS / 1000} s) for process ${e.holder.pid} (${e.holder.cmdline ?? e.holder.exe}), which is writing ${dbPath}\n`,
          );
        said = true;
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw e;
    }
    try {
      const state = await stateOf(store);
      if (state === 'current') return false;
      const factorsDir = path.join(SAMPLE_DIR, 'factor_files');
      const daily = await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir });
      const minute = await importPaths(store, [path.join(SAMPLE_DIR, 'minute')], { interval: '1m', factorsDir });
      await store.conn.run('CHECKPOINT');
      const n = (x: number) => x.toLocaleString('en-US');
      process.stderr.write(
        `${dbPath} ${state === 'old' ? 'held the sample adjusted (imported before raw prices)' : 'had no bars'}: imported the bundled sample, ` +
          `${n(daily.rows)} daily bars (${daily.symbols.join(', ')}) and ${n(minute.rows)} minute bars (${minute.symbols.join(', ')}), ` +
          `raw, with ${n(daily.actions ?? 0)} splits and dividends from its factor files\n`,
      );
      return true;
    } finally {
      store.close();
    }
  }
}

/**
 * 'empty': no bars; 'old': bars without a price_basis table (the sample imported adjusted, before raw storage);
 * 'current': bars with their price bases.
 */
type SampleState = 'empty' | 'old' | 'current';

async function stateOf(store: Store): Promise<SampleState> {
  const r = await store.conn.runAndReadAll(`
SELECT EXISTS (SELECT 1 FROM bars) AS has,
  EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'price_basis') AS basis`);
  const row = r.getRowObjectsJS()[0]!;
  if (!row.has) return 'empty';
  if (!row.basis) return 'old';
  const n = await store.conn.runAndReadAll(`SELECT count(*) AS n FROM price_basis`);
  return Number(n.getRowObjectsJS()[0]!.n) > 0 ? 'current' : 'old';
}

/** The sample database's state, looked at read-only (a missing file or one without the tables has no bars). */
async function sampleState(dbPath: string): Promise<SampleState> {
  // a file of 0 bytes is being created by a writer's open (the write-lock open that follows waits for it)
  if (!existsSync(dbPath) || statSync(dbPath).size === 0) return 'empty';
  let store: Store;
  try {
    store = await openStore(dbPath, { readOnly: true, warn: () => undefined });
  } catch (e) {
    if (e instanceof StoreError && e.kind === 'not-market-data') return 'empty';
    throw e;
  }
  try {
    return await stateOf(store);
  } finally {
    store.close();
  }
}
