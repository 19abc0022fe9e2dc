import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared beside the repo: real data and fixtures, read by path, never copied in. */
export const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared');

/**
 * Whether tests on `../shared/<rel>` can run. Absent data skips with a message, except under CI=true,
 * where it is always present and its absence is a failure.
 */
export function sharedAvailable(rel: string): boolean {
  const p = path.join(SHARED, rel);
  if (existsSync(p)) return true;
  if (process.env.CI === 'true') throw new Error(`${p} is missing: CI must run with ../shared beside the repo`);
  console.warn(`skipping: ${p} not found (put the shared data beside the repo to run these tests)`);
  return false;
}
