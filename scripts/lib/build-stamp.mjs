// Is build/ (npm run build) current with the TypeScript sources? Plain JavaScript: the launcher decides
// this before anything is transpiled. The build writes a stamp holding the newest source mtime it saw
// before compiling; the build is fresh while no source under SOURCE_DIRS is newer than that.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The folders compiled into build/ whose .ts files a CLI may run (test files are not compiled). */
export const SOURCE_DIRS = ['engine', 'strategies', 'scripts'];
/** The stamp, relative to the repository root. */
export const STAMP = 'build/.sources-stamp.json';

/** The newest mtime (ms) of the .ts files under `root`'s SOURCE_DIRS (about 200 files: a few ms). */
export function newestSourceMtime(root) {
  let newest = 0;
  // names and stat, and no path.join: withFileTypes and path.join each cost ~10 ms on their first (unoptimised) calls
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = `${dir}/${name}`;
      if (!name.endsWith('.ts')) {
        if (statSync(p).isDirectory()) walk(p);
      } else if (!name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(`${root}/${d}`);
  return newest;
}

/** Removes the stamp (before compiling: a failed build leaves build/ stale). */
export function clearStamp(root) {
  rmSync(path.join(root, STAMP), { force: true });
}

/** Records `sourcesMtime`, the newest source mtime read before the compile began (an edit during it stays newer). */
export function writeStamp(root, sourcesMtime) {
  writeFileSync(path.join(root, STAMP), `${JSON.stringify({ sourcesMtime })}\n`);
}

/**
 * 'fresh' when `compiled` exists and no source changed since the build that wrote the stamp, 'stale' when a
 * source is newer, 'missing' when there is no successful build (no stamp or no `compiled` file).
 */
export function buildState(root, compiled) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(path.join(root, STAMP), 'utf8'));
    statSync(compiled);
  } catch {
    return 'missing';
  }
  return newestSourceMtime(root) <= stamp.sourcesMtime ? 'fresh' : 'stale';
}
