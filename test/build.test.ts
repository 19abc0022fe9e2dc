import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli/run-cli.ts';

// npm run build compiles into a copy of the repository (its sources linked, the launcher and the compile step
// copied: each finds the repository from its own file), so the test never rewrites the real build/.
const tree = mkdtempSync(path.join(os.tmpdir(), 'tradebench-build-'));
const out = path.join(tree, 'build');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
/** The commands npm run starts through the launcher. */
const launched = Object.values(pkg.scripts).flatMap((s) => /^node scripts\/launch\.mjs ([\w-]+)$/.exec(s)?.[1] ?? []);

const run = (args: string[], cwd = ROOT) => {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const compiled = (name: string, args: string[]) => run([path.join(out, 'scripts', `${name}.js`), ...args]);
const source = (name: string, args: string[]) => run(['--import', 'tsx', path.join(ROOT, 'scripts', `${name}.ts`), ...args]);

beforeAll(() => {
  copyFileSync(path.join(ROOT, 'package.json'), path.join(tree, 'package.json'));
  for (const d of ['node_modules', 'data', 'models', 'engine', 'strategies']) symlinkSync(path.join(ROOT, d), path.join(tree, d));
  mkdirSync(path.join(tree, 'scripts'));
  for (const e of readdirSync(path.join(ROOT, 'scripts'))) {
    if (e === 'launch.mjs' || e === 'compile.mjs') copyFileSync(path.join(ROOT, 'scripts', e), path.join(tree, 'scripts', e));
    else symlinkSync(path.join(ROOT, 'scripts', e), path.join(tree, 'scripts', e));
  }
  const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
  const config = {
    extends: path.join(ROOT, 'tsconfig.build.json'),
    compilerOptions: { outDir: 'build', rootDir: '.' },
    include: build.include,
    exclude: build.exclude,
  };
  writeFileSync(path.join(tree, 'tsconfig.build.json'), JSON.stringify(config));
  const r = run([path.join(tree, 'scripts/compile.mjs')], tree);
  if (r.code !== 0) throw new Error(`the compile step failed:\n${r.stdout}${r.stderr}`);
}, 240_000);

// rm does not follow the links into the repository
afterAll(() => rmSync(tree, { recursive: true, force: true }));

describe('npm run build', () => {
  it('compiles every command npm run starts, and stamps the build', () => {
    expect(launched).toEqual(
      expect.arrayContaining(['backtest', 'import', 'sweep', 'live', 'ib-sim', 'ib', 'promote', 'train', 'journal', 'cgt', 'dashboard', 'seal']),
    );
    for (const name of launched) expect(existsSync(path.join(out, 'scripts', `${name}.js`)), name).toBe(true);
    expect(existsSync(path.join(out, '.sources-stamp.json'))).toBe(true);
  });

  it('the compiled commands print the same help as their sources', () => {
    for (const name of launched) {
      const a = compiled(name, ['--help']);
      const b = source(name, ['--help']);
      expect({ name, code: a.code, stdout: a.stdout, stderr: a.stderr }).toEqual({ name, code: b.code, stdout: b.stdout, stderr: b.stderr });
      expect(a.code, name).toBe(0);
    }
  }, 240_000);

  it('through the launcher, a fresh build runs a backtest as the sources do, and a bad flag fails the same way', () => {
    const launch = (args: string[]) => run([path.join(tree, 'scripts/launch.mjs'), 'backtest', ...args]);
    const bad = launch(['--bogus']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(source('backtest', ['--bogus']).stderr);
    expect(bad.stderr).toMatch(/^error: unknown option --bogus/);

    const data = path.join(ROOT, 'data/sample/daily/spy.csv');
    const a = launch(['--data', data, '--out', path.join(tree, 'a')]);
    const b = source('backtest', ['--data', data, '--out', path.join(tree, 'b')]);
    const same = (s: string, dir: string) => s.replaceAll(path.join(tree, dir), 'OUT').replace(/bars in [\d.]+ s/, 'bars in T s');
    expect(a.code).toBe(0);
    expect(same(a.stdout, 'a')).toBe(same(b.stdout, 'b'));
    expect(a.stderr).toBe(b.stderr);
    expect(readFileSync(path.join(tree, 'a/report.json'))).toEqual(readFileSync(path.join(tree, 'b/report.json')));
  }, 240_000);

  // the compiled engine notebooks import: tslab cannot import .ts specifiers
  it('emits JavaScript with rewritten imports that runs a backtest in plain Node', () => {
    const probe = `
      const { runBacktest } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'engine/run/backtest.js')).href)});
      const { buildSlots } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'strategies/index.js')).href)});
      const { RESEARCH_RISK } = await import(${JSON.stringify(pathToFileURL(path.join(out, 'engine/risk/limits.js')).href)});
      const n = 200, ts = Float64Array.from({ length: n }, (_, i) => Date.UTC(2020, 0, 1) + i * 864e5);
      const close = Float64Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 10));
      const s = { symbol: 'X', interval: '1d', ts, open: close, high: close.map((c) => c + 1), low: close.map((c) => c - 1), close, volume: close.map(() => 1e6) };
      const cfg = { strategy: 'sma-cross', params: {}, symbols: ['X'], interval: '1d', cash: 1e5, commission: { model: 'none' }, slippage: { model: 'none' }, sizing: { kind: 'all-in' }, risk: RESEARCH_RISK, volumeCap: 0, bracketTie: 'stop', tz: 'UTC', rfAnnual: 0 };
      console.log(runBacktest([s], cfg, buildSlots('sma-cross', {}, ['X'])).engine.trades.length);`;
    // as ESM from the build folder, the way a notebook kernel loads it
    const trades = run(['--input-type=module', '-e', probe], out);
    expect(trades.stderr).toBe('');
    expect(Number(trades.stdout.trim())).toBeGreaterThan(0);
  }, 60_000);
});
