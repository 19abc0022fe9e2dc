// Memory vs history length (issue 14: "1M vs 20M minute bars: within 20%"): a chunked minute backtest over
// synthetic bars of 10 symbols (big-run.ts's seeded random walk), read as a run reads them (openRunData: the
// read-only store, its memory bounds, time windows), each length in a fresh process that reports its own peak RSS;
// and the same windows read without the engine, in another process, for the share of the data side.
// Standalone: `node --import tsx scripts/bench/memory-history.ts 1000000 20000000` prints the figures as JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { openRunData } from '../../engine/run/run-data.ts';
import { buildSlots } from '../../strategies/index.ts';
import { syntheticMinuteDb } from './big-run.ts';

const SYMBOLS = 10;
const SELF = fileURLToPath(import.meta.url);

export interface HistoryMemory {
  bars: number;
  orders: number;
  /** the replay (reading included), not the process */
  seconds: number;
  peakRssMb: number;
  heapMb: number;
  arrayBuffersMb: number;
  /** peak RSS of a process that only reads the same windows (no engine) */
  readPeakRssMb: number;
}

/** Child process: reads every window of the database's minute bars and drops it; prints its peak RSS (MB). */
async function readChild(file: string): Promise<void> {
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
  const data = await openRunData({ data: file, symbols, interval: '1m', tz: 'America/New_York' });
  try {
    while ((await data.chunks.next()) !== null);
  } finally {
    data.close();
  }
  console.log(JSON.stringify(process.resourceUsage().maxRSS / 1024));
}

/** Child process: a chunked sma-cross(50,200) backtest over the database's minute bars; prints its figures. */
async function child(file: string): Promise<void> {
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYN${String(i).padStart(3, '0')}`);
  const t0 = performance.now();
  const data = await openRunData({ data: file, symbols, interval: '1m', tz: 'America/New_York' });
  const cfg: BacktestConfig = {
    strategy: 'sma-cross',
    params: { fast: 50, slow: 200 },
    symbols,
    interval: '1m',
    cash: 1_000_000,
    commission: { model: 'ibkr-fixed' },
    slippage: { model: 'none' },
    sizing: { kind: 'percent', percent: 1 },
    risk: RESEARCH_RISK,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: 'America/New_York',
    session: 'extended', // the synthetic bars run round the clock
    rfAnnual: 0,
  };
  try {
    const r = await runBacktestChunked(data.chunks, cfg, buildSlots(cfg.strategy, cfg.params, symbols), data.sectors);
    const mem = process.memoryUsage();
    const figures: Omit<HistoryMemory, 'readPeakRssMb'> = {
      bars: r.bars,
      orders: r.engine.orders.length,
      seconds: (performance.now() - t0) / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      heapMb: mem.heapUsed / 2 ** 20,
      arrayBuffersMb: mem.arrayBuffers / 2 ** 20,
    };
    console.log(JSON.stringify(figures));
  } finally {
    data.close();
  }
}

/** Peak memory of a chunked minute backtest at each history length, each in a fresh process. */
export async function benchHistoryMemory(lengths: number[], progress: (s: string) => void = () => {}): Promise<HistoryMemory[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-memory-'));
  try {
    const out: HistoryMemory[] = [];
    for (const bars of lengths) {
      const file = path.join(dir, `minute-${bars}.duckdb`);
      progress(`memory vs history: generating ${bars.toLocaleString('en-US')} minute bars ...`);
      await syntheticMinuteDb(file, bars, SYMBOLS);
      const inChild = (mode: string) => {
        const r = spawnSync(process.execPath, [...process.execArgv, SELF, mode, file], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
        if (r.status !== 0) throw new Error(`memory probe (${mode}) over ${bars} bars failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!);
      };
      out.push({ ...inChild('--child'), readPeakRssMb: inChild('--read-child') });
      rmSync(file, { force: true });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "1,000,000 bars -> peak 150 MB, 20,000,000 bars -> peak 160 MB: +7% (goal: within 20%)" */
export function describeHistoryMemory(f: HistoryMemory[]): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const parts = f.map((x) => `${fmt(x.bars)} bars -> peak ${x.peakRssMb.toFixed(0)} MB (${fmt(x.bars / x.seconds)} bars/s)`);
  const growth = (key: 'peakRssMb' | 'readPeakRssMb') => {
    const g = (f[f.length - 1]![key] / f[0]![key] - 1) * 100;
    return `${g >= 0 ? '+' : ''}${g.toFixed(0)}%`;
  };
  const read = f.map((x) => x.readPeakRssMb.toFixed(0)).join(' -> ');
  return `${parts.join(', ')}: ${growth('peakRssMb')} (goal: within 20%); reading the windows alone ${read} MB (${growth('readPeakRssMb')})`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const args = process.argv.slice(2);
  if (args[0] === '--child' || args[0] === '--read-child') {
    (args[0] === '--child' ? child : readChild)(args[1]!).catch((e: Error) => {
      console.error(`error: ${e.message}`);
      process.exit(1);
    });
  } else {
    const lengths = args.length ? args.map(Number) : [1_000_000, 20_000_000];
    benchHistoryMemory(lengths, (s) => console.error(s)).then(
      (f) => {
        console.error(describeHistoryMemory(f));
        console.log(JSON.stringify(f));
      },
      (e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(1);
      },
    );
  }
}
