// npm run bench [-- --json] [-- --runs 5] [-- --only ml|live|import|big|report|ops|w1|memory|options|queue] [-- --big-bars 20000000]
// Figures: DuckDB import and load rows/s, engine bars/s through the full path (strategy, risk, fills,
// portfolio, journal) over the 100-symbol daily universe, ML features, inference and ml-signal over the same
// universe, a minute-bar workload, peak memory. `--only ml` stops after the import, load and ML figures; `--only live` measures only the live latency;
// `--only import` the import's peak memory at 1M, 5M and 10M rows; `--only big` a 20M-bar minute backtest through the CLI
// (neither runs in the default set: together they take several minutes); `--only memory` the peak RSS of a chunked
// minute backtest over 1M and 20M bars (issue 14: within 20%; the default set compares 1M and 4M); `--only report` the size of report.html for a
// synthetic 500-symbol, 20-year report and the time headless Chromium takes to open it (budget: 8 MB, 3 s); `--only ops`
// the 50-symbol live latency without and with the ops server and 100 WebSocket clients on its stream, and the clients'
// lag (issue 13's load target; not in the default set either, about 2.5 minutes); `--only w1` the whole-process figures
// of issue 14 (also in the default set, about a minute): W1 (sma-cross 10/30, 1% per entry, no costs, the 100-symbol
// universe from an imported .duckdb) through `npm run backtest` as a child process, its wall time and peak RSS, the
// CLI's start-up (`--help`), and the 3x3 sweep through `npm run sweep` with 2 workers; `--only options` option pricing
// (Black-Scholes, CRR trees, implied volatility) in contracts/s, not in the default set (a few seconds); `--only queue`
// runs/s of a 36-run sweep on local threads and through a real redis-server with 1, 2 and 4 `npm run worker`
// processes, the queue's overhead per job and the batch that hides it (issue 16; 2-3 minutes, not in the default set).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPaths } from '../engine/data/import.ts';
import { chunkBars, loadBars } from '../engine/data/load.ts';
import { openStore, type Store } from '../engine/data/store.ts';
import { LiveJournal, benchWrite } from '../engine/journal/live-journal.ts';
import type { BarSeries, Interval } from '../engine/core/types.ts';
import { RESEARCH_RISK } from '../engine/risk/limits.ts';
import { runBacktest, runBacktestChunked, type BacktestConfig } from '../engine/run/backtest.ts';
import { writeJournal } from '../engine/journal/journal-store.ts';
import { buildSlots } from '../strategies/index.ts';
import { SWEEP_WORKER } from './lib/sweep-worker.ts';
import { runSweep, shareSeries } from '../engine/research/sweep.ts';
import net from 'node:net';
import { EventName } from '@stoqey/ib';
import { IbGatewaySimulator } from '../engine/ib/sim/simulator.ts';
import { LiveRunner } from '../engine/live/runner.ts';
import type { Strategy } from '../engine/core/strategy.ts';
import type { Bar } from '../engine/core/types.ts';
import { SignalBoard } from '../engine/core/signals.ts';
import { batchFeatures, FeaturePipeline, forEachSlice, NF } from '../engine/ml/features.ts';
import { loadModel, selectColumns } from '../engine/ml/model-card.ts';
import { predictHistory, StreamingPredictor } from '../engine/ml/predictions.ts';
import { repoRoot } from '../engine/paths.ts';
import { defineFlags, flagHelp, parseFlags } from './lib/flags.ts';
import { benchImportMemory } from './bench/import-memory.ts';
import { benchBigRun } from './bench/big-run.ts';
import { benchHistoryMemory, describeHistoryMemory } from './bench/memory-history.ts';
import { benchOptions } from './bench/options.ts';
import { benchQueue, describeQueue } from './bench/queue.ts';
import { benchReportSize } from './bench/report-size.ts';
import { type AttachOps, benchOpsLoad } from './bench/ops-load.ts';
import { benchWholeProcess, type Spread, type WholeProcessFigures } from './bench/whole-process.ts';

const SHARED = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../../shared/data');

const FLAGS = defineFlags({
  json: { kind: 'boolean', default: false, help: 'print one JSON object instead of lines' },
  runs: { kind: 'integer', default: 5, min: 1, max: 100, help: 'runs per figure (medians are quoted)' },
  only: { kind: 'choice', choices: ['ml', 'live', 'import', 'big', 'report', 'ops', 'w1', 'memory', 'options', 'queue'], help: 'one group of figures only' },
  'big-bars': { kind: 'integer', default: 20_000_000, min: 250_000, max: 50_000_000, help: 'bars of the --only big backtest (250 symbols)' },
});
const { values } = (() => {
  try {
    return parseFlags(FLAGS);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
})();
if (values.help) {
  console.log(`usage: npm run bench -- [options]\n${flagHelp(FLAGS)}`);
  process.exit(0);
}
const RUNS = values.runs;
const say = (s: string) => {
  if (!values.json) console.log(s);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

function config(symbols: string[], interval: Interval): BacktestConfig {
  return {
    strategy: 'sma-cross',
    params: { fast: 10, slow: 30 },
    symbols,
    interval,
    cash: 1_000_000,
    commission: { model: 'ibkr-fixed' },
    slippage: { model: 'none' },
    sizing: { kind: 'percent', percent: 1 },
    risk: RESEARCH_RISK,
    volumeCap: 0,
    bracketTie: 'stop',
    tz: 'America/New_York',
    // every bar: the synthetic minute bars run round the clock, and the figures measure the engine on all of them
    session: 'extended',
    rfAnnual: 0,
  };
}

function timeEngine(series: BarSeries[], cfg: BacktestConfig) {
  const times: number[] = [];
  let last!: ReturnType<typeof runBacktest>;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = runBacktest(series, cfg, buildSlots(cfg.strategy, cfg.params, cfg.symbols));
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), result: last };
}

/**
 * Live latency: bar arrival at the client (the 5-second bar that completes a minute for the last of the
 * run's symbols, as @stoqey/ib decodes it) to each placeOrder frame written to the socket for that
 * minute, through the live runner (aggregation, engine, risk, the synchronous write-ahead journal
 * append, IbBroker), against the simulator over TCP in lockstep. A probe strategy trades every symbol on
 * every bar. The journal is a real file (its DuckDB copy is filled behind, off this path).
 */
async function liveLatency(
  series: BarSeries[],
  dir: string,
  attach?: AttachOps,
): Promise<{ symbols: number; orders: number; p50: number; p95: number; p99: number; max: number; firstOrderP50: number; firstOrderP99: number }> {
  const symbols = series.map((x) => x.symbol);
  const flip: Strategy = { onBar: (ctx, bar) => void (ctx.position(bar.sid) > 0 ? ctx.closePosition(bar.sid) : ctx.buy(bar.sid)) };
  const cfg = { ...config(symbols, '1m'), sizing: { kind: 'fixed' as const, quantity: 1 }, cash: 1e9 };
  const sim = await IbGatewaySimulator.start({ series, speed: 'max', cash: 1e9 });
  const journal = await LiveJournal.open(path.join(dir, `latency-${symbols.length}.duckdb`));
  const runner = new LiveRunner(cfg, [{ name: 'flip', strategy: flip, weight: 1 }], {
    host: '127.0.0.1',
    port: sim.port,
    clientId: 1,
    account: 'DU1234567',
    lockstep: true,
    journal,
    runId: 'latency',
    maxReqPerSec: 1_000_000,
    statusEveryMs: 0,
  });
  const lat: number[] = [];
  const firsts: number[] = [];
  let arrival = NaN;
  let counted = NaN;
  runner.conn.api.on(EventName.realtimeBar, (_id: number, date: number) => {
    if ((date * 1000 + 5_000) % 60_000 === 0) arrival = performance.now(); // the last one of the minute's batch completes the group
  });
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    // a client frame: 4-byte length, then the fields; placeOrder's first field is "3"
    if (this.remotePort === sim.port && chunk instanceof Uint8Array && chunk[4] === 0x33 && chunk[5] === 0) {
      lat.push(performance.now() - arrival);
      if (arrival !== counted) firsts.push(lat[lat.length - 1]); // the group's first order
      counted = arrival;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  let detach: (() => Promise<void>) | undefined;
  try {
    // --only ops: the ops server and its clients, set up before the runner starts, taken down after it stops
    if (attach) detach = await attach(runner);
    await runner.start();
    await sim.finished;
    await runner.stop();
  } finally {
    await detach?.();
    net.Socket.prototype.write = write;
    await sim.close();
    await journal.close();
  }
  lat.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  return {
    symbols: symbols.length,
    orders: lat.length,
    p50: q(lat, 0.5),
    p95: q(lat, 0.95),
    p99: q(lat, 0.99),
    max: lat[lat.length - 1],
    firstOrderP50: q(firsts, 0.5),
    firstOrderP99: q(firsts, 0.99),
  };
}

/** Minutes of the --only ops session: the live bench's 50 symbols, half its 200 minutes (6 sessions in about 3 minutes). */
const OPS_MINUTES = 100;

/** `n` symbols of synthetic minute bars (a seeded random walk, every minute of one session). */
function syntheticMinutes(n: number, minutes: number): BarSeries[] {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const t0 = Date.parse('2013-10-07T09:30:00-04:00');
  return Array.from({ length: n }, (_, k) => {
    const ts = new Float64Array(minutes);
    const open = new Float64Array(minutes);
    const high = new Float64Array(minutes);
    const low = new Float64Array(minutes);
    const close = new Float64Array(minutes);
    const volume = new Float64Array(minutes);
    let p = 50 + k;
    for (let i = 0; i < minutes; i++) {
      ts[i] = t0 + i * 60_000;
      open[i] = p;
      p = Math.max(1, Math.round((p + (rand() - 0.5) * 0.2) * 100) / 100);
      close[i] = p;
      high[i] = Math.max(open[i], close[i]) + 0.01;
      low[i] = Math.min(open[i], close[i]) - 0.01;
      volume[i] = 1_000 + Math.floor(rand() * 1_000);
    }
    return { symbol: `S${String(k).padStart(2, '0')}`, interval: '1m' as const, ts, open, high, low, close, volume };
  });
}

/** Live latency for 1 symbol (SPY, two real days) and for 50 symbols at once (synthetic), in a temp dir. */
async function liveLatencies(store: Store, dir: string) {
  const spyMinutes = await loadBars(store, {
    symbols: ['SPY'],
    interval: '1m',
    from: Date.parse('2013-10-07T00:00:00-04:00'),
    to: Date.parse('2013-10-08T23:59:59-04:00'),
  });
  const one = await liveLatency(spyMinutes, dir);
  const fifty = await liveLatency(syntheticMinutes(50, 200), dir);
  for (const l of [one, fifty]) {
    say(
      `live latency, ${l.symbols} symbol${l.symbols > 1 ? 's' : ''} (bar arrival -> placeOrder bytes on the socket, through the runner and its write-ahead journal, ${fmt(l.orders)} orders): p50 ${l.p50.toFixed(3)} ms, p95 ${l.p95.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, max ${l.max.toFixed(3)} ms${l.symbols > 1 ? `; first order of each minute p50 ${l.firstOrderP50.toFixed(3)} ms, p99 ${l.firstOrderP99.toFixed(3)} ms` : ''}`,
    );
  }
  const wal = await benchWrite(20_000, { dir });
  say(`journal write-ahead append (1 order, 2 order events, 1 bar): p50 ${wal.p50.toFixed(1)} µs, p99 ${wal.p99.toFixed(1)} µs`);
  return { oneSymbol: one, fiftySymbols: fifty, walAppendUs: wal };
}

/** Each time slice's bars in sid order (what a live feed hands the pipeline), built before any timing. */
function sliceBars(series: BarSeries[]): Bar[][] {
  const out: Bar[][] = [];
  forEachSlice(
    series.map((x) => x.ts),
    (_t, sids, idx, count) => {
      const group: Bar[] = new Array(count);
      for (let k = 0; k < count; k++) {
        const x = series[sids[k]];
        const i = idx[k];
        group[k] = { symbol: x.symbol, sid: sids[k], ts: x.ts[i], open: x.open[i], high: x.high[i], low: x.low[i], close: x.close[i], volume: x.volume[i] };
      }
      out.push(group);
    },
  );
  return out;
}

async function medianSeconds(run: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/** Per-bar inference is slow enough to measure on this many symbols of the universe. */
const PER_BAR_SYMBOLS = 10;

/**
 * ML figures over the daily universe with the committed models/gbt-daily: features (batched vs streaming),
 * inference (one batch vs one row per bar) and ml-signal against sma-cross in the same backtest.
 */
async function mlBench(series: BarSeries[], universe: string[]) {
  const bars = series.reduce((n, x) => n + x.ts.length, 0);
  const slices = sliceBars(series);
  const batchFeaturesSec = await medianSeconds(() => batchFeatures(series));
  const out = new Float64Array(series.length * NF);
  const streamFeaturesSec = await medianSeconds(() => {
    const pipe = new FeaturePipeline(series.length);
    for (const g of slices) pipe.step(g, g.length, out);
  });
  say(
    `ml features: ${fmt(bars)} rows of ${series.length} symbols: batched (batchFeatures) median ${batchFeaturesSec.toFixed(3)} s = ${fmt(bars / batchFeaturesSec)} rows/s, streaming (FeaturePipeline.step per slice) median ${streamFeaturesSec.toFixed(3)} s = ${fmt(bars / streamFeaturesSec)} rows/s`,
  );

  const model = await loadModel(path.join(repoRoot(), 'models/gbt-daily'));
  try {
    const features = batchFeatures(series);
    const f = model.columns.length;
    const X = new Float64Array(bars * f);
    let rows = 0;
    series.forEach((x, i) => {
      for (let t = 0; t < x.ts.length; t++) if (selectColumns(features[i], t * NF, model.columns, X, rows * f)) rows++;
    });
    const warm = X.subarray(0, rows * f);
    const batchSec = await medianSeconds(() => model.model.predictBatch(warm, rows));
    const historySec = await medianSeconds(() => predictHistory(model, series));

    const few = series.slice(0, PER_BAR_SYMBOLS);
    const fewSlices = sliceBars(few);
    const fewBars = few.reduce((n, x) => n + x.ts.length, 0);
    const board = new SignalBoard(few.length);
    const streamSec = await medianSeconds(async () => {
      const p = new StreamingPredictor(model, few.length);
      for (const g of fewSlices) await p.fill(g, g.length, board);
    });
    // predictOne alone on as many warm rows as the streaming run predicts
    const oneRows = Math.min(rows, fewBars);
    const row = new Float64Array(f);
    const oneSec = await medianSeconds(async () => {
      for (let r = 0; r < oneRows; r++) {
        row.set(warm.subarray(r * f, (r + 1) * f));
        await model.model.predictOne(row);
      }
    });
    say(
      `ml inference (models/gbt-daily, ${f} features): batched predictBatch ${fmt(rows)} rows median ${batchSec.toFixed(3)} s = ${fmt(rows / batchSec)} rows/s (predictHistory with its features ${fmt(bars / historySec)} bars/s); per bar predictOne ${fmt(oneRows / oneSec)} rows/s, StreamingPredictor (features + predictOne) over ${few.length} symbols, ${fmt(fewBars)} bars: ${fmt(fewBars / streamSec)} bars/s`,
    );

    const smaCfg = config(universe, '1d');
    const mlCfg: BacktestConfig = { ...smaCfg, strategy: 'ml-signal', params: {} };
    const table = await predictHistory(model, series);
    let mlResult!: ReturnType<typeof runBacktest>;
    const smaSec = await medianSeconds(() => runBacktest(series, smaCfg, buildSlots(smaCfg.strategy, smaCfg.params, universe)));
    const mlSec = await medianSeconds(() => {
      mlResult = runBacktest(series, mlCfg, buildSlots(mlCfg.strategy, mlCfg.params, universe), undefined, { signals: table });
    });
    const mlWithInferenceSec = await medianSeconds(async () => {
      const signals = await predictHistory(model, series);
      runBacktest(series, mlCfg, buildSlots(mlCfg.strategy, mlCfg.params, universe), undefined, { signals });
    });
    say(
      `ml-signal vs sma-cross(10,30), same ${fmt(bars)} bars: sma-cross ${fmt(bars / smaSec)} bars/s; ml-signal (${fmt(mlResult.engine.orders.length)} orders) ${fmt(bars / mlSec)} bars/s with predictions precomputed (${(mlSec / smaSec).toFixed(2)}x the time), ${fmt(bars / mlWithInferenceSec)} bars/s including its batched inference (${(mlWithInferenceSec / smaSec).toFixed(2)}x)`,
    );
    return {
      featureRowsPerSec: { batched: bars / batchFeaturesSec, streaming: bars / streamFeaturesSec },
      inferenceRowsPerSec: {
        predictBatch: rows / batchSec,
        predictHistory: bars / historySec,
        predictOne: oneRows / oneSec,
        streamingPredictor: fewBars / streamSec,
        perBarSymbols: few.length,
      },
      backtestBarsPerSec: { smaCross: bars / smaSec, mlSignal: bars / mlSec, mlSignalWithInference: bars / mlWithInferenceSec },
    };
  } finally {
    await model.model.close();
  }
}

/** Issue 14's whole-process figures, printed with their medians and spreads (min..max), and their JSON keys. */
async function wholeProcess(): Promise<{ figures: WholeProcessFigures; json: Record<string, unknown> }> {
  const cores = os.availableParallelism();
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  say(
    `whole process (issue 14's W1): ${cores} core${cores === 1 ? '' : 's'}, load average ${load()} (1, 5, 15 min) at start; W1 and start-up ${RUNS} runs each, alternating, the sweep 3 runs ...`,
  );
  const f = await benchWholeProcess({ runs: RUNS, sweepRuns: 3, sweepWorkers: 2, progress: say });
  const range = (x: Spread, d = 0) => `median ${x.median.toFixed(d)} (${x.min.toFixed(d)}..${x.max.toFixed(d)})`;
  say(
    `whole process: W1 (sma-cross 10/30, ${fmt(f.bars)} bars of ${f.symbols} symbols, 1% per entry, no costs, ${fmt(f.trades)} trades) via scripts/launch.mjs (compiled), spawn to exit: ${range(f.w1WholeProcessMs)} ms, peak RSS ${range(f.w1PeakRssMb)} MiB (${f.rssMethod === 'gnu-time' ? '/usr/bin/time -f %M' : "the child's process.resourceUsage().maxRSS"}); with --report none ${range(f.w1ReportNoneMs)} ms, ${range(f.w1ReportNonePeakRssMb)} MiB`,
  );
  say(`whole process: start-up (backtest --help): ${range(f.startupMs)} ms`);
  say(
    `whole process: the stack's floor: node alone ${range(f.floorNodeMs)} ms; node + DuckDB reading W1's bars into typed arrays and nothing else (scripts/bench/read-floor.mjs) ${range(f.floorReadMs)} ms, peak RSS ${range(f.floorReadPeakRssMb)} MiB`,
  );
  say(
    `whole process: sweep, 3x3 grid (fast 5,10,20 x slow 30,50,100), ${f.sweepWorkers} workers: ${range(f.sweepRunsPerSec, 2)} runs/s as it prints them (after loading), ${range(f.sweepWholeProcessRunsPerSec, 2)} runs/s over the whole process`,
  );
  say(`whole process: load average at the end ${load()}`);
  return {
    figures: f,
    json: {
      w1WholeProcessMs: f.w1WholeProcessMs.median,
      w1PeakRssMb: f.w1PeakRssMb.median,
      w1ReportNoneMs: f.w1ReportNoneMs.median,
      startupMs: f.startupMs.median,
      floorReadMs: f.floorReadMs.median,
      floorReadPeakRssMb: f.floorReadPeakRssMb.median,
    },
  };
}

async function main() {
  if (values.only === 'w1') {
    const w = await wholeProcess();
    if (values.json)
      console.log(
        JSON.stringify({
          ...w.json,
          sweepRunsPerSec: { cli: w.figures.sweepRunsPerSec.median },
          wholeProcess: w.figures,
          cores: w.figures.cores,
          loadAvg: w.figures.loadAvg,
          runs: RUNS,
          node: process.version,
        }),
      );
    return;
  }
  if (values.only === 'import') {
    const figures = await benchImportMemory([1_000_000, 5_000_000, 10_000_000]);
    for (const f of figures)
      say(`import memory: ${fmt(f.rows)} rows in ${f.seconds.toFixed(1)} s = ${fmt(f.rows / f.seconds)} rows/s, peak RSS ${f.peakRssMb.toFixed(0)} MB`);
    if (values.json) console.log(JSON.stringify({ importMemory: figures, node: process.version }));
    return;
  }
  if (values.only === 'report') {
    say('report size: a synthetic 500-symbol, 20-year report written and opened in headless Chromium ...');
    const f = await benchReportSize(500, 5_040, Math.min(RUNS, 3));
    const open = f.openMs === null ? 'no Chromium' : `open in Chromium median ${fmt(median(f.openMs))} ms (${f.openMs.join(', ')})`;
    say(
      `report size: ${fmt(f.symbols)} symbols x ${fmt(f.days)} days, ${fmt(f.trades)} trades, ${fmt(f.orders)} orders: report.json ${f.jsonMb.toFixed(1)} MB, report.html ${f.htmlMb.toFixed(2)} MB (budget 8 MB), written in ${f.writeSeconds.toFixed(1)} s; ${open} (budget 3,000 ms)`,
    );
    if (values.json) console.log(JSON.stringify({ reportSize: f, node: process.version }));
    return;
  }
  if (values.only === 'options') {
    const f = benchOptions(RUNS);
    say(
      `options (${f.contracts} contracts, medians of ${RUNS}): Black-Scholes greeks ${fmt(f.bsmGreeksPerSec)}/s, European implied vol ${fmt(f.bsmImpliedVolPerSec)}/s; American CRR 100 steps: price ${fmt(f.crr100PricePerSec)}/s, greeks ${fmt(f.crr100GreeksPerSec)}/s, implied vol ${fmt(f.crr100ImpliedVolPerSec)}/s`,
    );
    if (values.json) console.log(JSON.stringify({ options: f, node: process.version }));
    return;
  }
  if (values.only === 'queue') {
    const runs = Math.min(RUNS, 3);
    say(
      `queue: one 36-run sweep on local threads (in process, warm pool) and through a real redis-server with 1, 2 and 4 npm run worker processes, medians of ${runs} ...`,
    );
    const f = await benchQueue({ runs, progress: say });
    for (const line of describeQueue(f)) say(line);
    if (values.json) console.log(JSON.stringify({ queue: f, runs, node: process.version }));
    return;
  }
  if (values.only === 'memory') {
    say('memory vs history: a chunked 10-symbol minute backtest over 1M and 20M synthetic bars, each in a fresh process ...');
    const figures = await benchHistoryMemory([1_000_000, 20_000_000], say);
    say(`memory vs history: ${describeHistoryMemory(figures)}`);
    if (values.json) console.log(JSON.stringify({ memoryProbe: figures, node: process.version }));
    return;
  }
  if (values.only === 'big') {
    say(`big run: ${fmt(values['big-bars'])} synthetic minute bars, 250 symbols, npm run backtest (sma-cross 30/120, 0.4% per entry) in a child process ...`);
    const f = await benchBigRun(values['big-bars']);
    say(
      `big run: ${fmt(f.bars)} bars, ${fmt(f.trades)} trades in ${f.seconds.toFixed(1)} s = ${fmt(f.bars / f.seconds)} bars/s, peak RSS ${f.peakRssMb.toFixed(0)} MB, report ${f.reportMb.toFixed(1)} MB`,
    );
    if (values.json) console.log(JSON.stringify({ bigRun: f, node: process.version }));
    return;
  }
  // first, while this process is small and idle: the whole-process figures run in children
  const whole = values.only === undefined ? await wholeProcess() : undefined;
  const dir = path.join(SHARED, 'sp500-daily/adjusted');
  const universe = readFileSync(path.join(SHARED, 'sp500-daily/bench100.txt'), 'utf8').split(/\s+/).filter(Boolean);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-bench-'));
  const store = await openStore(path.join(tmp, 'bench.duckdb'));
  try {
    if (values.only === 'ops') {
      const cores = os.availableParallelism();
      say(
        `ops load: 50-symbol minute session (${OPS_MINUTES} minutes, lockstep at full speed) without, then with the ops server and 100 WebSocket clients on /api/v1/stream, 3 runs each; clients in this process, ${cores} core${cores === 1 ? '' : 's'} (shared) ...`,
      );
      const series = syntheticMinutes(50, OPS_MINUTES);
      const f = await benchOpsLoad((d, attach) => liveLatency(series, d, attach), tmp, { clients: 100, runs: 3, progress: say });
      const x = f.median;
      say(
        `ops load, medians of 3 runs: bar-to-order latency without clients p50 ${x.without.p50.toFixed(3)} ms, p99 ${x.without.p99.toFixed(3)} ms; with ${f.clients} clients p50 ${x.with.p50.toFixed(3)} ms, p99 ${x.with.p99.toFixed(3)} ms (ratio p50 ${x.p50Ratio.toFixed(2)}x, p99 ${x.p99Ratio.toFixed(2)}x)`,
      );
      say(
        `ops load, clients: ${fmt(x.events)} events each, lag p50 ${x.lagP50.toFixed(2)} ms, p99 ${x.lagP99.toFixed(2)} ms, max ${x.lagMax.toFixed(1)} ms; ${fmt(x.messagesPerSec)} messages/s to all clients; ${f.allDelivered ? 'every client got every event, in order, no gaps' : 'SOME CLIENTS MISSED EVENTS (see the runs above)'}; the session took ${x.sessionSeconds.with.toFixed(1)} s with the clients against ${x.sessionSeconds.without.toFixed(1)} s without (lockstep: the simulator waits for the runner)`,
      );
      const worstLag = Math.max(...f.runs.map((r) => r.load.lagMax));
      const p99s = f.runs.map((r) => r.without.p99);
      say(
        `ops load verdict (issue 13: max lag < 1 s, p99 within 10%): max lag ${f.maxLagOk ? 'PASS' : 'FAIL'} (worst ${worstLag.toFixed(1)} ms), p99 ${f.p99Ok ? 'PASS' : 'FAIL'} (${((x.p99Ratio - 1) * 100).toFixed(1)}%), delivery ${f.allDelivered ? 'PASS' : 'FAIL'}; the p99 without clients alone ranged ${Math.min(...p99s).toFixed(1)}-${Math.max(...p99s).toFixed(1)} ms over the runs, on ${cores} shared core${cores === 1 ? '' : 's'} with the clients in the session's process`,
      );
      if (values.json) console.log(JSON.stringify({ opsLoad: f, cores, node: process.version }));
      return;
    }
    if (values.only === 'live') {
      await importPaths(store, [path.join(SHARED, 'lean-sample/minute/spy')], { interval: '1m' });
      const latency = await liveLatencies(store, tmp);
      if (values.json) console.log(JSON.stringify({ liveLatencyMs: latency, node: process.version }));
      return;
    }
    say(`importing ${universe.length} symbols from ${dir} ...`);
    let t0 = performance.now();
    const imported = await importPaths(
      store,
      universe.map((s) => path.join(dir, `${s}.csv`)),
      { interval: '1d' },
    );
    const importSec = (performance.now() - t0) / 1000;
    say(`import: ${fmt(imported.rows)} rows in ${importSec.toFixed(2)} s = ${fmt(imported.rows / importSec)} rows/s (CSV parse + validation + write)`);

    const loadTimes: number[] = [];
    let series: BarSeries[] = [];
    for (let i = 0; i < RUNS; i++) {
      series = [];
      t0 = performance.now();
      series = await loadBars(store, { symbols: universe, interval: '1d' });
      loadTimes.push((performance.now() - t0) / 1000);
    }
    const bars = series.reduce((s, x) => s + x.ts.length, 0);
    const loadRowsPerSec = bars / median(loadTimes);
    say(`load:   ${fmt(bars)} bars of ${series.length} symbols, median ${median(loadTimes).toFixed(3)} s = ${fmt(loadRowsPerSec)} rows/s`);

    if (values.only === 'ml') {
      const ml = await mlBench(series, universe);
      if (values.json) console.log(JSON.stringify({ ml, bars, symbols: series.length, runs: RUNS, node: process.version }));
      return;
    }

    const daily = timeEngine(series, config(universe, '1d'));
    const engineBarsPerSec = bars / daily.seconds;
    say(
      `engine: sma-cross(10,30) 1% sizing, ibkr-fixed, ${fmt(daily.result.engine.orders.length)} orders, ${fmt(daily.result.journal.fills.length)} fills: median ${daily.seconds.toFixed(3)} s = ${fmt(engineBarsPerSec)} bars/s`,
    );

    const e2eTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t0 = performance.now();
      const cfg = config(universe, '1d');
      await runBacktestChunked(await chunkBars(store, { symbols: universe, interval: '1d' }), cfg, buildSlots(cfg.strategy, cfg.params, universe));
      e2eTimes.push((performance.now() - t0) / 1000);
    }
    const endToEndBarsPerSec = bars / median(e2eTimes);
    say(`chunked load + engine (what npm run backtest does): median ${median(e2eTimes).toFixed(3)} s = ${fmt(endToEndBarsPerSec)} bars/s`);

    t0 = performance.now();
    const r = daily.result;
    await writeJournal(
      store.conn,
      { runId: 'bench', kind: 'backtest', strategy: 'sma-cross', config: r.config, bars, finalEquity: r.engine.portfolio.equity() },
      r.journal,
      r.engine.orders,
      r.engine.portfolio,
    );
    const journalSec = (performance.now() - t0) / 1000;
    const journalRows = r.journal.orderEvents.length + r.journal.fills.length + r.journal.equityCurve.length + r.engine.orders.length;
    say(`journal write: ${fmt(journalRows)} rows in ${journalSec.toFixed(3)} s`);

    // Minute bars: the LEAN sample (SPY, IBM, BAC, AIG, 2013-10-04..11, pre/post-market included).
    const minuteSymbols = ['SPY', 'IBM', 'BAC', 'AIG'];
    await importPaths(
      store,
      minuteSymbols.map((s) => path.join(SHARED, 'lean-sample/minute', s.toLowerCase())),
      { interval: '1m' },
    );
    const minute = await loadBars(store, { symbols: minuteSymbols, interval: '1m' });
    const minuteBars = minute.reduce((s, x) => s + x.ts.length, 0);
    const m = timeEngine(minute, config(minuteSymbols, '1m'));
    const minuteBarsPerSec = minuteBars / m.seconds;
    say(`minute: ${fmt(minuteBars)} bars of ${minuteSymbols.length} symbols: median ${m.seconds.toFixed(4)} s = ${fmt(minuteBarsPerSec)} bars/s`);

    // sweeps: a 3x3 grid over the 100-symbol universe, 1 and 2 worker threads
    const sweepSeries = shareSeries(series);
    const worker = SWEEP_WORKER;
    const sweep = async (workers: number) => {
      const t = performance.now();
      const r = await runSweep({ config: config(universe, '1d'), grid: { fast: [5, 10, 20], slow: [50, 100, 200] }, series: sweepSeries, worker, workers });
      return r.results.length / ((performance.now() - t) / 1000);
    };
    const sweep1 = await sweep(1);
    const sweep2 = await sweep(2);
    say(
      `sweep: 9 runs over ${fmt(bars)} bars: ${sweep1.toFixed(2)} runs/s with 1 worker, ${sweep2.toFixed(2)} with 2 (speed-up ${(sweep2 / sweep1).toFixed(2)}x)`,
    );

    const latency = await liveLatencies(store, tmp);

    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    say(`memory: peak RSS of this process ${peakRssMb.toFixed(0)} MB (now ${rssMb().toFixed(0)} MB)`);
    // after the peak RSS above, so that figure stays the engine's; the ML path holds features and slices of every bar
    const ml = await mlBench(series, universe);
    // 1M vs 4M here; issue 14's 1M vs 20M is --only memory (the 20M database takes minutes to generate)
    const [small, large] = await benchHistoryMemory([1_000_000, 4_000_000]);
    say(`memory vs history (chunked 10-symbol minute backtest, fresh processes): ${describeHistoryMemory([small!, large!])}`);
    say(
      `  JS heap at the end ${small!.heapMb.toFixed(0)} -> ${large!.heapMb.toFixed(0)} MB (grows with orders, not bars: ${fmt(small!.orders)} -> ${fmt(large!.orders)}); typed-array bar windows ${small!.arrayBuffersMb.toFixed(0)} -> ${large!.arrayBuffersMb.toFixed(0)} MB`,
    );
    if (values.json) {
      console.log(
        JSON.stringify({
          engineBarsPerSec,
          endToEndBarsPerSec,
          ml,
          liveLatencyMs: latency,
          // cli: issue 14's sweep through scripts/sweep.ts with 2 workers (runs/s as it prints them)
          sweepRunsPerSec: { workers1: sweep1, workers2: sweep2, speedup: sweep2 / sweep1, cli: whole?.figures.sweepRunsPerSec.median },
          ...whole?.json,
          wholeProcess: whole?.figures,
          cores: os.availableParallelism(),
          loadRowsPerSec,
          importRowsPerSec: imported.rows / importSec,
          minuteBarsPerSec,
          peakRssMb,
          bars,
          symbols: series.length,
          minuteBars,
          memoryProbe: { small, large },
          runs: RUNS,
          node: process.version,
        }),
      );
    }
  } finally {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
