// npm run build (after tsc) — or: node --import tsx scripts/build-dashboard.ts [--out DIR] [--no-typecheck]
// Builds the live-operations dashboard (dashboard/: preact + uPlot, TypeScript) into one offline page for the ops
// server: DIR/index.html, DIR/assets/app.js and DIR/assets/app.css (minified, everything bundled: no CDN).
// Typechecks dashboard/ first with its own tsconfig (DOM + JSX; the repo's tsconfig does not cover it).
// DIR defaults to build/dashboard. Prints the bundle's size.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'dashboard');
export const DEFAULT_DASHBOARD_OUT = path.join(ROOT, 'build/dashboard');

export interface DashboardBuild {
  outDir: string;
  /** file → [bytes, gzipped bytes] */
  sizes: Record<string, [number, number]>;
}

/** Typechecks dashboard/ with tsc; throws with tsc's output on an error. */
export function typecheckDashboard(): void {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(SRC, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dashboard typecheck failed:\n${r.stdout}${r.stderr}`);
}

export async function buildDashboard(o: { outDir?: string; typecheck?: boolean } = {}): Promise<DashboardBuild> {
  const outDir = path.resolve(o.outDir ?? DEFAULT_DASHBOARD_OUT);
  if (o.typecheck !== false) typecheckDashboard();
  // only what this build writes: --out may name a folder that holds other things
  rmSync(path.join(outDir, 'assets'), { recursive: true, force: true });
  mkdirSync(path.join(outDir, 'assets'), { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { app: path.join(SRC, 'src/app.tsx') },
    outdir: path.join(outDir, 'assets'),
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(SRC, 'tsconfig.json'),
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  copyFileSync(path.join(SRC, 'index.html'), path.join(outDir, 'index.html'));
  const sizes: Record<string, [number, number]> = {};
  for (const f of ['index.html', 'assets/app.js', 'assets/app.css']) {
    const buf = readFileSync(path.join(outDir, f));
    sizes[f] = [buf.length, gzipSync(buf).length];
  }
  return { outDir, sizes };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const outDir = outAt >= 0 ? args[outAt + 1] : undefined;
  if (outAt >= 0 && !outDir) throw new Error('--out needs a directory');
  const r = await buildDashboard({ outDir, typecheck: !args.includes('--no-typecheck') });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  let total = 0;
  let totalGz = 0;
  for (const [f, [n, gz]] of Object.entries(r.sizes)) {
    total += n;
    totalGz += gz;
    console.log(`  ${f.padEnd(16)} ${kb(n).padStart(10)}  (${kb(gz)} gzipped)`);
  }
  console.log(`dashboard: ${path.relative(ROOT, r.outDir) || '.'} ${kb(total)} (${kb(totalGz)} gzipped)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
