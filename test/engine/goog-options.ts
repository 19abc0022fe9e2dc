// A store with GOOG's minute bars of 2015-12-23/24/28 (raw, as imported without factors) and its options' quote
// bars of 2015-12-23 and 12-24 from the LEAN sample, built with the real importers in a temp folder: the options
// tests' data (covered-call, iron-condor, the live and simulator option tests).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { BarSeries, ContractTerms } from '../../engine/core/types.ts';
import { importPaths, type ImportOptions } from '../../engine/data/import.ts';
import { importLean } from '../../engine/data/lean-import.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { loadSimDerivatives, type SimDerivatives } from '../../engine/ib/sim/option-data.ts';
import { type ChainSelection, openRunData } from '../../engine/run/run-data.ts';
import { SHARED } from '../shared-data.ts';

export const LEAN = 'data/lean-sample';

/** The covered-call run's chain: `--chain GOOG --chain-days 1 --chain-strikes 4 --chain-right C` (the 12-24 calls). */
export const GOOG_CALLS: ChainSelection = { underlying: 'GOOG', days: 1, strikes: 4, right: 'C' };
/** The iron-condor run's chain: `--chain GOOG --chain-days 1 --chain-strikes 12` (the 12-24 weekly, both rights). */
export const GOOG_CONDOR_CHAIN: ChainSelection = { underlying: 'GOOG', days: 1, strikes: 12 };

/**
 * Imports GOOG's minute bars and its options' quote bars into `store`: of `days` ('20151223', ...) only, or by
 * default every stored minute file and the quotes of 12-23 and 12-24. `minute` is the bars' import options.
 */
export async function importGoogOptions(store: Store, days?: readonly string[], minute: ImportOptions = {}): Promise<void> {
  const bars = days ? days.map((d) => path.join(SHARED, LEAN, `minute/goog/${d}.csv`)) : [path.join(SHARED, LEAN, 'minute/goog')];
  await importPaths(store, bars, minute);
  await importLean(
    store,
    (days ?? ['20151223', '20151224']).map((d) => path.join(SHARED, LEAN, 'option/goog', `${d}_quote.csv`)),
  );
}

/** Builds the store (of `days` only when given, see importGoogOptions); `dispose` deletes its folder. */
export async function googOptionsStore(days?: readonly string[]): Promise<{ db: string; dispose(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-goog-options-'));
  const db = path.join(dir, 'goog.duckdb');
  const store = await openStore(db);
  try {
    await importGoogOptions(store, days);
  } finally {
    store.close();
  }
  return { db, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The file's store: built in a beforeAll (when `available`), deleted in an afterAll. Call it at the top of a
 * test file; `db` is the store's path once the beforeAll has run.
 */
export function useGoogOptionsStore(available: boolean, days?: readonly string[]): { readonly db: string } {
  const store = { db: '' };
  let dispose = () => {};
  beforeAll(async () => {
    if (!available) return;
    ({ db: store.db, dispose } = await googOptionsStore(days));
  }, 60_000);
  afterAll(() => dispose());
  return store;
}

/** A GOOG run's data read whole: openRunData from 2015-12-23 to `to` (New York) with `chain`, every chunk. */
export async function loadGoogRun(
  db: string,
  to: string,
  chain: ChainSelection = GOOG_CALLS,
): Promise<{ series: BarSeries[]; symbols: string[]; contracts: Record<string, ContractTerms>; sectors: string[] }> {
  const data = await openRunData({ data: db, symbols: ['GOOG'], interval: '1m', from: '2015-12-23', to, tz: 'America/New_York', chain });
  const series: BarSeries[] = [];
  try {
    for (let c = await data.chunks.next(); c; c = await data.chunks.next()) series.push(...c);
  } finally {
    data.close();
  }
  return { series, symbols: data.symbols, contracts: data.contracts ?? {}, sectors: data.sectors };
}

/** 2015-12-23 09:30 New York (EST): the first minute of the store's first session */
const OPEN = Date.UTC(2015, 11, 23, 14, 30);

/** What a simulator knows of the store's options (contract details, chains, quotes) for `span` ms from the 12-23 open. */
export async function googDerivatives(db: string, span: number): Promise<SimDerivatives> {
  const store = await openStore(db, { readOnly: true });
  try {
    return await loadSimDerivatives(store, { interval: '1m', from: OPEN, to: OPEN + span });
  } finally {
    store.close();
  }
}
