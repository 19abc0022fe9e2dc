import { ExchangeCalendar } from '../core/calendar.ts';
import { EventQueue } from '../core/event-queue.ts';
import type { BarSink, Feed } from '../core/ports.ts';
import type { SignalSource } from '../core/signals.ts';
import type { BarHistory, SlotSpec } from '../core/strategy.ts';
import { INTERVAL_MS, type Bar, type BarSeries, type EpochMs, type Interval } from '../core/types.ts';
import { makeCommission, type CommissionSpec, type SlippageSpec } from '../exec/costs.ts';
import { SimBroker, type SimBar } from '../exec/sim-broker.ts';
import { MemoryJournal } from '../journal/journal.ts';
import type { Sizing } from '../portfolio/sizing.ts';
import type { RiskConfig } from '../risk/limits.ts';
import { BenchmarkRecorder, benchmarkSid, type BenchmarkCloses } from './benchmark.ts';
import type { Engine } from './engine.ts';
import { buildKernel } from './kernel.ts';

/** Everything that decides a backtest's result; it is written into report.json as the run config. */
export interface BacktestConfig {
  strategy: string;
  params: Record<string, unknown>;
  symbols: string[];
  interval: Interval;
  from?: string;
  to?: string;
  cash: number;
  commission: CommissionSpec;
  slippage: SlippageSpec;
  sizing: Sizing;
  risk: RiskConfig;
  /** fraction of a bar's volume an order may take; 0 = no cap */
  volumeCap: number;
  bracketTie: 'stop' | 'target';
  /** exchange time zone for intraday sessions and days */
  tz: string;
  /** annual risk-free rate for Sharpe and Sortino */
  rfAnnual: number;
  /** buy-and-hold benchmark of the report: one of `symbols`; when absent SPY if the run has it, else the first symbol */
  benchmark?: string;
}

/**
 * Bars in time-ordered chunks: every bar of one chunk starts before every bar of the next. Each
 * chunk has one series per run symbol (in run order), possibly empty. Memory stays flat however
 * long the history, since only one chunk (plus the history window) is held at a time.
 */
export interface BarChunks {
  next(): Promise<BarSeries[] | null>;
}

export interface BacktestResult {
  config: BacktestConfig;
  engine: Engine;
  journal: MemoryJournal;
  bars: number;
  /** start of the last bar seen per symbol (where open positions are marked) */
  lastBarTs: Float64Array;
  /** the benchmark symbol's first close and last close of each (exchange) day it has a bar, ascending ts */
  benchmark?: BenchmarkCloses;
}

/** How many past bars per symbol strategies can read through the context (`ctx.close(sid, ago)`). */
export const HISTORY_BARS = 1_000;

const COLS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;

/**
 * Bar history over the current chunk plus the last HISTORY_BARS bars before it: a cursor per symbol
 * marks the newest visible bar, so nothing later can be read.
 */
class WindowHistory implements BarHistory {
  series: BarSeries[];
  readonly idx: Int32Array;
  constructor(n: number, interval: Interval, symbols: readonly string[]) {
    this.series = symbols.map((symbol) => ({
      symbol,
      interval,
      ts: new Float64Array(0),
      open: new Float64Array(0),
      high: new Float64Array(0),
      low: new Float64Array(0),
      close: new Float64Array(0),
      volume: new Float64Array(0),
    }));
    this.idx = new Int32Array(n).fill(-1);
  }

  /** Appends a chunk, keeping the newest `keep` bars already seen; returns where the new bars start. */
  advance(chunk: BarSeries[], keep: number): Int32Array {
    const starts = new Int32Array(chunk.length);
    this.series = chunk.map((next, sid) => {
      const prev = this.series[sid];
      const from = Math.max(0, this.idx[sid] + 1 - keep);
      const kept = this.idx[sid] + 1 - from;
      starts[sid] = kept;
      this.idx[sid] = kept - 1;
      if (kept === 0) return next;
      const joined = { ...next } as BarSeries;
      for (const c of COLS) {
        const a = new Float64Array(kept + next[c].length);
        a.set(prev[c].subarray(from, from + kept));
        a.set(next[c], kept);
        joined[c] = a;
      }
      return joined;
    });
    return starts;
  }

  count(sid: number) {
    return this.idx[sid] + 1;
  }
  open(sid: number, ago = 0) {
    return this.at(this.series[sid].open, sid, ago);
  }
  high(sid: number, ago = 0) {
    return this.at(this.series[sid].high, sid, ago);
  }
  low(sid: number, ago = 0) {
    return this.at(this.series[sid].low, sid, ago);
  }
  close(sid: number, ago = 0) {
    return this.at(this.series[sid].close, sid, ago);
  }
  volume(sid: number, ago = 0) {
    return this.at(this.series[sid].volume, sid, ago);
  }
  private at(a: Float64Array, sid: number, ago: number): number {
    const i = this.idx[sid] - ago;
    return i >= 0 && ago >= 0 && ago < HISTORY_BARS ? a[i] : NaN;
  }
}

/**
 * The backtest feed: replays stored bars in time order. For each instant, the bars of every symbol
 * that has one (in the run's symbol order) go first to the simulated broker, which fills working
 * orders at their open, then to the sink (the engine), which marks them at their close and shows
 * them to the strategies. Deterministic: same input, same output, whatever the chunking.
 */
export class ReplayFeed implements Feed {
  readonly history: WindowHistory;
  readonly lastBarTs: Float64Array;
  readonly benchmark: BenchmarkRecorder;
  bars = 0;
  private readonly daily: boolean;
  private readonly intervalMs: number;
  private readonly sessionDay: Float64Array;
  private readonly views: Bar[];
  private readonly group: Bar[];
  private readonly sim: SimBar = {
    sid: 0,
    ts: 0,
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    volume: 0,
    day: 0,
    sessionOpen: true,
    sessionClose: true,
    beforeClose: true,
    month: 0,
  };
  private lastTs = -Infinity;

  constructor(
    private readonly chunks: BarChunks,
    private readonly symbols: readonly string[],
    interval: Interval,
    private readonly cal: ExchangeCalendar,
    private readonly broker: SimBroker,
    private readonly onChunk?: (bars: number) => void,
    benchmarkSid = 0,
  ) {
    const n = symbols.length;
    this.benchmark = new BenchmarkRecorder(symbols[benchmarkSid] ?? '', benchmarkSid);
    this.intervalMs = INTERVAL_MS[interval];
    this.daily = this.intervalMs >= INTERVAL_MS['1d'];
    this.history = new WindowHistory(n, interval, symbols);
    this.sessionDay = new Float64Array(n).fill(NaN);
    this.lastBarTs = new Float64Array(n).fill(NaN);
    this.views = symbols.map((symbol, sid) => ({ symbol, sid, ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 }));
    this.group = new Array(n);
  }

  async run(sink: BarSink): Promise<void> {
    for (let c = await this.chunks.next(); c !== null; c = await this.chunks.next()) {
      this.replay(c, sink);
      this.onChunk?.(this.bars);
    }
  }

  /** Replays one chunk; chunks must come in time order. */
  replay(chunk: BarSeries[], sink: BarSink): void {
    const n = this.symbols.length;
    if (chunk.length !== n) throw new Error(`a chunk has ${chunk.length} series for ${n} symbols`);
    const first = chunk.reduce((m, s) => (s.ts.length ? Math.min(m, s.ts[0]) : m), Infinity);
    if (first <= this.lastTs) throw new Error(`chunks out of order: a bar at ${new Date(first).toISOString()} follows ${new Date(this.lastTs).toISOString()}`);
    const cursor = this.history.advance(chunk, HISTORY_BARS);
    const series = this.history.series;
    const { broker, cal, sim, views, group, history, daily, intervalMs, sessionDay } = this;
    const queue = new EventQueue<number>(n);
    for (let s = 0; s < n; s++) if (cursor[s] < series[s].ts.length) queue.push(series[s].ts[cursor[s]], s, s);

    while (queue.size > 0) {
      const ts = queue.peekTs();
      let g = 0;
      while (queue.size > 0 && queue.peekTs() === ts) group[g++] = views[queue.pop()!];
      sink.setTime(ts);
      const day = cal.day(ts);
      const minute = daily ? 0 : cal.minuteOfDay(ts);
      for (let k = 0; k < g; k++) {
        const v = group[k];
        const s = series[v.sid];
        const i = cursor[v.sid];
        v.ts = ts;
        v.open = s.open[i];
        v.high = s.high[i];
        v.low = s.low[i];
        v.close = s.close[i];
        v.volume = s.volume[i];
        if (broker.workingOrders(v.sid).length > 0) {
          sim.sid = v.sid;
          sim.ts = ts;
          sim.open = v.open;
          sim.high = v.high;
          sim.low = v.low;
          sim.close = v.close;
          sim.volume = v.volume;
          sim.day = day;
          sim.month = cal.month(ts);
          sim.sessionOpen = daily || (minute >= cal.sessionOpenMin && sessionDay[v.sid] !== day);
          sim.sessionClose = daily || minute + intervalMs / 60_000 === cal.sessionCloseMin;
          sim.beforeClose = daily || minute + intervalMs / 60_000 <= cal.sessionCloseMin;
          broker.onBar(sim);
        }
        if (!daily && minute >= cal.sessionOpenMin) sessionDay[v.sid] = day;
      }
      for (let k = 0; k < g; k++) {
        const sid = group[k].sid;
        const i = cursor[sid]++;
        history.idx[sid] = i;
        this.lastBarTs[sid] = ts;
        broker.setLastClose(sid, group[k].close);
        if (sid === this.benchmark.sid) this.benchmark.record(ts, day, group[k].close);
        if (i + 1 < series[sid].ts.length) queue.push(series[sid].ts[i + 1], sid, sid);
      }
      this.bars += g;
      this.lastTs = ts;
      sink.onBars(ts, group, g);
    }
  }
}

/** Wires a backtest: SimBroker and the replay feed around the run's kernel (engine, risk, sizing, costs). */
function wire(chunks: BarChunks, config: BacktestConfig, slots: SlotSpec[], sectors?: string[], onChunk?: (bars: number) => void) {
  const intervalMs = INTERVAL_MS[config.interval];
  const cal = new ExchangeCalendar(intervalMs >= INTERVAL_MS['1d'] ? 'UTC' : config.tz);
  const broker = new SimBroker({
    commission: makeCommission(config.commission),
    slippage: config.slippage,
    volumeCap: config.volumeCap,
    bracketTie: config.bracketTie,
    intervalMs,
  });
  const feed = new ReplayFeed(chunks, config.symbols, config.interval, cal, broker, onChunk, benchmarkSid(config));
  const journal = new MemoryJournal();
  const { engine } = buildKernel(config, slots, { broker, history: feed.history, journal, sectors });
  const finish = (): BacktestResult => {
    engine.finish();
    return { config, engine, journal, bars: feed.bars, lastBarTs: feed.lastBarTs, benchmark: feed.benchmark.closes };
  };
  return { feed, engine, finish };
}

/** What a run adds to plain bars: a warm-up period, and model predictions handed to the strategies. */
export interface RunExtras {
  /** bars starting before this only warm the strategies up: no order is placed, no equity sampled */
  warmUpUntil?: EpochMs;
  /** fills `ctx.signal(sid)` for each group of bars before the strategies see it */
  signals?: SignalSource;
}

/** The engine as the feed's sink, with the run's warm-up and signals in front of it. */
function sinkFor(engine: Engine, x: RunExtras): BarSink {
  const { warmUpUntil: until, signals } = x;
  if (until === undefined && signals === undefined) return engine;
  return {
    setTime: (ts) => engine.setTime(ts),
    onBars: (ts, bars, n) => {
      signals?.fill(bars, n, engine.signals);
      if (until !== undefined && ts < until) engine.warmUp(ts, bars, n);
      else engine.onBars(ts, bars, n);
    },
  };
}

/**
 * A backtest over bars already in memory (one chunk). With `warmUpUntil`, a test period starts with
 * the state its strategy would have had, not cold.
 */
export function runBacktest(series: BarSeries[], config: BacktestConfig, slots: SlotSpec[], sectors?: string[], extras: RunExtras = {}): BacktestResult {
  const { feed, engine, finish } = wire({ next: async () => null }, config, slots, sectors);
  feed.replay(series, sinkFor(engine, extras));
  return finish();
}

/** A backtest streamed chunk by chunk (from DuckDB): memory stays flat as history grows. */
export async function runBacktestChunked(
  chunks: BarChunks,
  config: BacktestConfig,
  slots: SlotSpec[],
  sectors?: string[],
  onChunk?: (bars: number) => void,
  extras: RunExtras = {},
): Promise<BacktestResult> {
  const { feed, engine, finish } = wire(chunks, config, slots, sectors, onChunk);
  await feed.run(sinkFor(engine, extras));
  return finish();
}
