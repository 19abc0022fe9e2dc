// npm run build's first step: compiles engine/, strategies/ and scripts/ into build/ (tsconfig.build.json), then
// stamps the build with the newest source mtime read before compiling (scripts/launch.mjs runs build/ only while
// no source is newer). A failed compile leaves no stamp: the CLIs then run the sources through tsx.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearStamp, newestSourceMtime, writeStamp } from './lib/build-stamp.mjs';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const sourcesMtime = newestSourceMtime(ROOT);
clearStamp(ROOT);
const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
writeStamp(ROOT, sourcesMtime);
