// Whole-process figures (issue 14): the W1 workload through the real CLI as a child process, the CLI's start-up
// and a sweep through its CLI. W1 is sma-cross 10/30 on the 100 symbols of sp500-daily/bench100.txt (540,200
// daily bars), 1% of equity per entry, no costs, from an imported .duckdb (imported once, here, with the engine's
// import, as `npm run import -- --adjusted` does), timed from spawn to exit; its peak RSS comes from GNU time
// (`/usr/bin/time -f %M`: the max RSS of the child, which is node itself) or, without it, from the child's own
// process.resourceUsage().maxRSS printed at exit. Every command runs as `npm run` runs it, through
// scripts/launch.mjs on the compiled build (built first when a source is newer, as after `npm ci`), without
// npm's own start (about 0.2 s more). W1 is also timed with `--report none` (the journal only). Start-up is
// `backtest --help`. The
// sweep is the 3x3 grid fast 5,10,20 x slow 30,50,100 over the same bars with 2 workers; its runs/s is the CLI's
// own figure (runs over the seconds it prints for the sweep, after loading; its worker threads start while the
// bars load) and, beside it, runs over the wall time of the whole process. Runs alternate (start-up, W1, W1 without
// reports) so that a change in the machine's load hits them alike. Beside them, the stack's floor: node alone
// (`node -e ''`) and read-floor.mjs, a bare node process reading W1's bars from the same file with DuckDB and
// nothing else, the part of W1 that no change to the engine, journal or reports can remove.
// Standalone: `node --import tsx scripts/bench/whole-process.ts [runs]` prints the figures as JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importPaths } from '../../engine/data/import.ts';
import { openStore } from '../../engine/data/store.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(ROOT, '../shared/data');
const TIME = '/usr/bin/time';

/** W1's sizing, costs and risk, shared by its backtest and the sweep */
const W1_RUN_ARGS = ['--sizing', 'percent', '--percent', '1', '--commission', 'none', '--slippage', 'none', '--risk', 'research'];
export const W1_ARGS = ['--strategy', 'sma-cross', '--params', '{"fast":10,"slow":30}', ...W1_RUN_ARGS];
export const W1_SWEEP_GRID = '{"fast":[5,10,20],"slow":[30,50,100]}';

/** Median, min and max of a figure's runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export interface WholeProcessFigures {
  /** W1 as a child process: spawn to exit, ms */
  w1WholeProcessMs: Spread;
  /** W1's peak RSS, MiB */
  w1PeakRssMb: Spread;
  /** W1 with `--report none` (the journal only), spawn to exit, ms */
  w1ReportNoneMs: Spread;
  /** its peak RSS, MiB */
  w1ReportNonePeakRssMb: Spread;
  /** `node -e ''`, spawn to exit, ms */
  floorNodeMs: Spread;
  /** read-floor.mjs: node + DuckDB reading W1's bars into typed arrays, spawn to exit, ms */
  floorReadMs: Spread;
  /** read-floor.mjs's peak RSS, MiB */
  floorReadPeakRssMb: Spread;
  /** `node scripts/launch.mjs backtest --help`, spawn to exit, ms */
  startupMs: Spread;
  /** the sweep CLI's runs/s: 9 runs over the seconds it prints for the sweep (after loading) */
  sweepRunsPerSec: Spread;
  /** the same sweeps, 9 runs over the wall time of the whole process */
  sweepWholeProcessRunsPerSec: Spread;
  /** how the peak RSS was taken */
  rssMethod: 'gnu-time' | 'resource-usage';
  bars: number;
  trades: number;
  symbols: number;
  sweepWorkers: number;
  cores: number;
  loadAvg: number[];
}

export function spread(runs: number[]): Spread {
  const s = [...runs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs };
}

/** A node child (cwd: the repository) timed from spawn to exit, with its peak RSS in MiB. */
function runNode(args: string[], dir: string): { code: number | null; stdout: string; stderr: string; ms: number; peakRssMb: number } {
  const gnuTime = existsSync(TIME);
  const timeFile = path.join(dir, 'time.txt');
  // without GNU time, the child reports its own peak (process.resourceUsage().maxRSS, in kB) as it exits
  const report = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss-kb '+process.resourceUsage().maxRSS+'\\n'))`;
  const cmd = gnuTime ? TIME : process.execPath;
  const argv = gnuTime ? ['-f', '%M', '-o', timeFile, process.execPath, ...args] : ['--import', report, ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: { ...process.env, CI: 'true' } });
  const ms = performance.now() - t0;
  const kb = gnuTime
    ? Number(existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n').pop() : NaN)
    : Number(/^maxrss-kb (\d+)$/m.exec(r.stderr)?.[1] ?? NaN);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms, peakRssMb: kb / 1024 };
}

/** Builds the CLIs (scripts/compile.mjs) unless build/ is current, so the launcher runs them compiled. */
function ensureBuild(progress?: (line: string) => void): void {
  const state = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "import { buildState } from './scripts/lib/build-stamp.mjs'; console.log(buildState('.', 'build/scripts/backtest.js'))"],
    { cwd: ROOT, encoding: 'utf8' },
  ).stdout.trim();
  if (state === 'fresh') return;
  progress?.(`whole process: the build is ${state}: compiling the CLIs first (npm run build's compile step) ...`);
  const r = spawnSync(process.execPath, ['scripts/compile.mjs'], { cwd: ROOT, encoding: 'utf8' });
  check('scripts/compile.mjs', { code: r.status, stderr: `${r.stdout}${r.stderr}` });
}

function check(what: string, r: { code: number | null; stderr: string }) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
}

/**
 * Imports the W1 universe into a temporary .duckdb, then runs start-up and W1 `runs` times each (alternating) and
 * the sweep `sweepRuns` times, each as a child process. `progress` gets a line per phase.
 */
export async function benchWholeProcess(
  o: { runs?: number; sweepRuns?: number; sweepWorkers?: number; progress?: (line: string) => void } = {},
): Promise<WholeProcessFigures> {
  const runs = o.runs ?? 5;
  const sweepRuns = o.sweepRuns ?? 3;
  const sweepWorkers = o.sweepWorkers ?? 2;
  const cores = os.availableParallelism();
  const loadAvg = os.loadavg();
  const universe = readFileSync(path.join(SHARED, 'sp500-daily/bench100.txt'), 'utf8').split(/\s+/).filter(Boolean);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-w1-'));
  try {
    const db = path.join(dir, 'w1.duckdb');
    const store = await openStore(db);
    let bars: number;
    try {
      const imported = await importPaths(
        store,
        universe.map((s) => path.join(SHARED, 'sp500-daily/adjusted', `${s}.csv`)),
        { interval: '1d', adjustedFiles: true },
      );
      bars = imported.rows;
    } finally {
      store.close();
    }
    o.progress?.(`whole process: ${bars.toLocaleString('en-US')} bars of ${universe.length} symbols imported into ${db}`);
    ensureBuild(o.progress);
    const launch = path.join(ROOT, 'scripts/launch.mjs');
    const startup: number[] = [];
    const w1: number[] = [];
    const rss: number[] = [];
    const none: number[] = [];
    const noneRss: number[] = [];
    const floorNode: number[] = [];
    const floorRead: number[] = [];
    const floorRss: number[] = [];
    let trades = NaN;
    const w1Run = (out: string, extra: string[] = []) => {
      const r = runNode([launch, 'backtest', '--data', db, '--symbols', universe.join(','), ...W1_ARGS, '--out', out, ...extra], dir);
      check('W1 backtest', r);
      rmSync(out, { recursive: true, force: true });
      return r;
    };
    for (let i = 0; i < runs; i++) {
      const s = runNode([launch, 'backtest', '--help'], dir);
      check('backtest --help', s);
      startup.push(s.ms);
      const r = w1Run(path.join(dir, `out-${i}`));
      w1.push(r.ms);
      rss.push(r.peakRssMb);
      trades = Number(/^trades\s+(\d+) closed/m.exec(r.stdout)?.[1] ?? NaN);
      const n = w1Run(path.join(dir, `none-${i}`), ['--report', 'none']);
      none.push(n.ms);
      noneRss.push(n.peakRssMb);
      const bare = runNode(['-e', ''], dir);
      check("node -e ''", bare);
      floorNode.push(bare.ms);
      const f = runNode([path.join(ROOT, 'scripts/bench/read-floor.mjs'), db, universe.join(',')], dir);
      check('read-floor.mjs', f);
      floorRead.push(f.ms);
      floorRss.push(f.peakRssMb);
      o.progress?.(
        `  run ${i + 1}/${runs}: start-up ${startup[i].toFixed(0)} ms, W1 ${r.ms.toFixed(0)} ms (peak RSS ${r.peakRssMb.toFixed(0)} MiB), with --report none ${n.ms.toFixed(0)} ms (${n.peakRssMb.toFixed(0)} MiB); floor: node ${bare.ms.toFixed(0)} ms, DuckDB read ${f.ms.toFixed(0)} ms (${f.peakRssMb.toFixed(0)} MiB)`,
      );
    }
    const sweepCli: number[] = [];
    const sweepWall: number[] = [];
    for (let i = 0; i < sweepRuns; i++) {
      const args = [launch, 'sweep', '--data', db, '--symbols', universe.join(','), '--strategy', 'sma-cross', ...W1_RUN_ARGS];
      args.push('--grid', W1_SWEEP_GRID, '--workers', String(sweepWorkers), '--db', path.join(dir, `sweep-${i}.duckdb`));
      const r = runNode(args, dir);
      check('sweep', r);
      const m = /^(\d+) runs in ([\d.]+) s/m.exec(r.stdout);
      if (!m) throw new Error(`sweep: no "N runs in S s" line in its output`);
      sweepCli.push(Number(m[1]) / Number(m[2]));
      sweepWall.push(Number(m[1]) / (r.ms / 1000));
      o.progress?.(`  sweep ${i + 1}/${sweepRuns}: ${m[1]} runs in ${m[2]} s (${sweepCli[i].toFixed(2)} runs/s), whole process ${(r.ms / 1000).toFixed(2)} s`);
    }
    return {
      w1WholeProcessMs: spread(w1),
      w1PeakRssMb: spread(rss),
      w1ReportNoneMs: spread(none),
      w1ReportNonePeakRssMb: spread(noneRss),
      floorNodeMs: spread(floorNode),
      floorReadMs: spread(floorRead),
      floorReadPeakRssMb: spread(floorRss),
      startupMs: spread(startup),
      sweepRunsPerSec: spread(sweepCli),
      sweepWholeProcessRunsPerSec: spread(sweepWall),
      rssMethod: existsSync(TIME) ? 'gnu-time' : 'resource-usage',
      bars,
      trades,
      symbols: universe.length,
      sweepWorkers,
      cores,
      loadAvg,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchWholeProcess({ runs: Number(process.argv[2] ?? 5), progress: (l) => console.error(l) }).then(
    (f) => console.log(JSON.stringify(f)),
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exit(1);
    },
  );
}
