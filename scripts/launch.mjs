// node scripts/launch.mjs NAME [args...]: what `npm run NAME` runs. Runs build/scripts/NAME.js (compiled by
// npm run build) when no source changed since that build, else scripts/NAME.ts through tsx, so an edited
// strategy is never run stale. Either way the script runs in this process (no second node start), with
// process.argv as if node had been asked to run it (the scripts' isMain checks argv[1]), so stdin, TTY,
// signals and exit codes are the script's own.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildState } from './lib/build-stamp.mjs';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const name = process.argv[2];
if (name === undefined || !/^[a-z][a-z0-9-]*$/.test(name)) {
  process.stderr.write('usage: node scripts/launch.mjs NAME [args...] (runs scripts/NAME.ts, compiled when build/ is current)\n');
  process.exit(2);
}

const compiled = path.join(ROOT, 'build/scripts', `${name}.js`);
const state = buildState(ROOT, compiled);
let entry = compiled;
if (state !== 'fresh') {
  if (process.stderr.isTTY && process.env.CI !== 'true')
    process.stderr.write(
      state === 'stale'
        ? 'sources changed since npm run build: running through tsx (slower start)\n'
        : 'no build of this command (npm run build): running through tsx (slower start)\n',
    );
  entry = path.join(ROOT, 'scripts', `${name}.ts`);
  if (!existsSync(entry)) {
    process.stderr.write(`error: no command ${name} (scripts/${name}.ts)\n`);
    process.exit(2);
  }
  // what `node --import tsx` registers (its ESM and CommonJS hooks)
  await import('tsx');
}
process.argv.splice(1, 2, entry);
await import(pathToFileURL(entry).href);
