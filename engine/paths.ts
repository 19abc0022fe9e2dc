import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this module with a package.json (from sources or from build/). */
export function repoRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && !dir.endsWith(`${path.sep}build`)) return dir;
    if (path.dirname(dir) === dir) throw new Error('cannot find the repository root (no package.json above the engine)');
  }
}
