// A temp DuckDB store of LEAN sample option days (../shared/data/lean-sample, DERIVATIVES.md), built by the real
// importers as `npm run import` builds one: openStore (the schema, issue-15 tables included), importPaths for the
// underlyings' minute bars (every day of minute/<und>, price basis 'unknown'), importLean for the option files
// (quote_bars, one OPT instruments row per contract: compact OCC symbol, expiry = the last trading day).
// Shared by the tests that read chains and greeks from a store, so none of them keeps its own copy of the DDL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { importPaths } from '../../engine/data/import.ts';
import { importLean } from '../../engine/data/lean-import.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const DIR = 'data/lean-sample';
/** the LEAN sample folder (absolute) */
export const LEAN = path.join(SHARED, DIR);
/** whether the LEAN sample is beside the repo (see sharedAvailable) */
export const leanAvailable = sharedAvailable(DIR);

/** An underlying's option files to import, named as in option/<underlying>/ ('20151224_quote.csv'). */
export interface OptionFiles {
  underlying: string;
  files: string[];
}

export interface OptionStore {
  store: Store;
  conn: DuckDBConnection;
  /** closes the store and deletes its folder */
  close(): void;
}

/** A store in a new temp folder with each underlying's minute bars and the option files given. */
export async function openOptionStore(name: string, options: OptionFiles[]): Promise<OptionStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  let store: Store | undefined;
  try {
    store = await openStore(path.join(dir, 'store.duckdb'));
    const und = [...new Set(options.map((o) => o.underlying.toLowerCase()))];
    await importPaths(
      store,
      und.map((u) => path.join(LEAN, 'minute', u)),
      {},
    );
    await importLean(
      store,
      options.flatMap((o) => o.files.map((f) => path.join(LEAN, 'option', o.underlying.toLowerCase(), f))),
    );
  } catch (e) {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const s = store;
  return {
    store: s,
    conn: s.conn,
    close() {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
