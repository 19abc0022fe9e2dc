import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../engine/data/store.ts';

/** A fresh directory under the OS temp dir; remove it with `cleanup()`. */
export function tempDir(prefix = 'tradebench-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `text` (leading indentation stripped) to dir/rel, creating folders. Returns the path. */
export function writeText(dir: string, rel: string, text: string): string {
  const p = path.join(dir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  const lines = text
    .replace(/^\n/, '')
    .split('\n')
    .map((l) => l.trim());
  writeFileSync(p, lines.join('\n'));
  return p;
}

/** A file-backed store in `dir` (file-backed, as users have it: transactions behave as on disk). */
export async function storeIn(dir: string, name = 'test.duckdb'): Promise<Store> {
  return openStore(path.join(dir, name));
}

/** Everything in bars and instruments, as a comparable value: counts and content hashes. */
export async function fingerprint(store: Store): Promise<Record<string, string>> {
  const r = await store.conn.runAndReadAll(`
SELECT
  (SELECT count(*) FROM bars) AS bars,
  (SELECT coalesce(bit_xor(hash(symbol, "interval", ts, open, high, low, close, volume)), 0) FROM bars) AS bars_hash,
  (SELECT count(*) FROM instruments) AS instruments,
  (SELECT coalesce(bit_xor(hash(symbol, sec_type, exchange, currency, sector, tick_size, tz)), 0) FROM instruments) AS instruments_hash`);
  const row = r.getRowObjectsJS()[0]!;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]));
}

/** Runs `fn`, which must throw; returns the error. */
export async function caught(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected an error, got none');
}

export const HEADER = 'date,open,high,low,close,volume';
