// `import * as tb from 'tradebench'` as another project does it: a scratch folder outside the repo that installs
// this repository as a `file:` dependency (npm install --offline: npm links the folder, nothing is downloaded),
// a child `node` process that runs a backtest through the package's exports (build/engine/index.js), and a
// notebook cell type-checked against the package's .d.ts with tslab's own TypeScript 5.0 and its options.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/run-cli.ts';

let dir: string;
let pkg: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-consumer-'));
  // the package as `npm ci` leaves it (its prepare script builds build/), compiled here into a copy of the
  // package folder so that a build running beside this test (npm run notebooks) is never read half-written:
  // package.json and build/ of its own, the repository's node_modules and data linked in
  pkg = path.join(dir, 'tradebench');
  mkdirSync(pkg);
  copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  for (const d of ['node_modules', 'data']) symlinkSync(path.join(ROOT, d), path.join(pkg, d), 'dir');
  // the strategies' sources, as an installed package has them (package.json has no "files"): a promotion record
  // is tied to their hash
  cpSync(path.join(ROOT, 'strategies'), path.join(pkg, 'strategies'), { recursive: true, filter: (f) => !f.includes(`${path.sep}promoted`) });
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'build')],
    {
      cwd: ROOT,
    },
  );
  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', `file:${pkg}`], { cwd: app, stdio: 'pipe' });
  dir = app;
}, 180_000);
afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('tradebench as a dependency of another project', () => {
  it('npm links it and records the file: dependency', () => {
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies.tradebench).toMatch(/^file:/);
    expect(existsSync(path.join(dir, 'node_modules/tradebench/package.json'))).toBe(true);
  });

  it('runs a backtest in a child node process through import * as tb from "tradebench"', () => {
    const script = `
      import * as tb from 'tradebench';
      const r = await tb.backtest({ strategy: 'sma-cross', params: { fast: 10, slow: 30 }, symbols: ['SPY'], from: '2015-01-01' });
      const t = r.trades();
      const pnl = t.column('pnl').values.reduce((a, b) => a + b, 0);
      console.log(JSON.stringify({ rows: t.shape[0], trades: r.report.trades.length, pnl, reportPnl: r.report.trades.reduce((a, x) => a + x.pnl, 0),
        sharpe: r.metrics.sharpe, data: r.report.config.data, defaults: tb.RUN_DEFAULTS, date: t.column('entryTime').values[0] instanceof Date }));`;
    writeFileSync(path.join(dir, 'run.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['run.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out.rows).toBe(out.trades);
    expect(out.rows).toBeGreaterThan(5);
    expect(out.pnl).toBeCloseTo(out.reportPnl, 9);
    expect(typeof out.sharpe).toBe('number');
    expect(out.data).toBe('data/sample.duckdb'); // the package's own sample, not the consumer's folder
    expect(out.defaults.sizing).toBe('equal-weight');
    expect(out.date).toBe(true);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  }, 60_000);

  it('promotes a registered strategy from the compiled package: walk-forward workers run the .js worker without tsx', () => {
    // the consumer has no tsx: a worker started with --import tsx would fail to start
    expect(existsSync(path.join(dir, 'node_modules/tsx'))).toBe(false);
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', '-e', '0'], { cwd: dir, stdio: 'pipe' })).toThrow(/tsx/);
    const script = `
      import * as tb from 'tradebench';
      const r = await tb.backtest({ strategy: 'sma-cross', params: { fast: 10, slow: 30 }, symbols: ['SPY'], from: '2015-01-01', to: '2019-12-31' });
      const p = await tb.promote(r, { minSharpe: -10, maxDrawdown: -1, minTrades: 0, minOosToIsSharpe: -10 }, { walkForward: 'train=2y,test=1y', workers: 2 });
      const file = p.write('promoted');
      const rows = tb.promotions('promoted');
      console.log(JSON.stringify({ evidence: p.evidence, failures: p.failures, hash: p.record?.strategyFileHash, file,
        rows: rows.shape[0], matches: rows.column('matches').values, at: rows.column('promotedAt').values[0] instanceof Date }));`;
    writeFileSync(path.join(dir, 'promote.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, ['promote.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out.failures).toEqual([]);
    for (const k of ['sharpe', 'maxDrawdown', 'trades', 'inSampleSharpe', 'outOfSampleSharpe', 'periods']) expect(typeof out.evidence[k], k).toBe('number');
    // bars 2015-01-02..2019-12-31: test years from 2017-01-02 and 2018-01-02 (a third would end on 2020-01-01,
    // after the data), none too short to annualise
    expect(out.evidence).toMatchObject({ windows: 2, shortTrainWindows: 0, shortTestWindows: 0 });
    expect(out.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(out).toMatchObject({ rows: 1, matches: [true], at: true });
  }, 90_000);

  it("type-checks a notebook cell against the package's .d.ts with tslab's TypeScript 5.0 (Node10 resolution, lib es2022)", () => {
    const ts = createRequire(path.join(ROOT, 'node_modules/tslab/package.json'))('@tslab/typescript-for-tslab') as typeof import('typescript');
    expect(ts.version).toMatch(/^5\.0\./);
    const cell = path.join(dir, 'cell.ts');
    writeFileSync(
      cell,
      `import * as tb from 'tradebench';
      export async function cell() {
        const r = await tb.backtest({ strategy: 'sma-cross', params: { fast: 20, slow: 100 }, symbols: ['SPY'] });
        const sharpe: number | null = r.metrics.sharpe;
        const shape: number[] = r.trades().shape;
        const inline = tb.defineStrategy({
          name: 'x', description: 'x', params: { n: { type: 'int', default: 5, description: 'n' } },
          create(p) { const k: number = p.n; return { onBar(ctx, { sid }) { if (k > 0 && ctx.isFlat(sid)) ctx.buy(sid); } }; },
        });
        const s = await tb.sweep({ strategy: inline, grid: { n: [1, 2] } });
        const fig: tb.Figure = s.heatmap('n', 'n');
        // @ts-expect-error not a plot kind
        r.plot('nope');
        return [sharpe, shape, fig, tb.compare([r]).figure, (await tb.bars(['SPY'])).columns];
      }`,
    );
    // tslab's compiler options (node_modules/tslab/dist/converter.js)
    const program = ts.createProgram([cell], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts'],
      skipLibCheck: true,
      noEmit: true,
      types: [],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
  }, 60_000);
});
