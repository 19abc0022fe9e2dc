import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * True when the module at `url` is the script node was asked to run (`node --import tsx scripts/backtest.ts`, or
 * scripts/launch.mjs, which puts the script it imports in argv[1]), false when it is imported (a test reading its
 * flag specs): a CLI runs its main only then.
 */
export function isMain(url: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(entry) === real(fileURLToPath(url));
}
