import { ExchangeCalendar, type SessionMode } from '../core/calendar.ts';
import { EventQueue } from '../core/event-queue.ts';
import type { BarSink, Feed } from '../core/ports.ts';
import type { SignalSource } from '../core/signals.ts';
import type { BarHistory, SlotSpec } from '../core/strategy.ts';
import { INTERVAL_MS, type Bar, type BarSeries, type ContractTerms, type EpochMs, type Interval } from '../core/types.ts';
import { actionsOf, type RunPrices } from '../data/actions.ts';
import { makeCommission, type CommissionSpec, type SlippageSpec } from '../exec/costs.ts';
import { emptyQuote, type QuoteSides } from '../exec/quote-fill.ts';
import { SimBroker, type SimBar } from '../exec/sim-broker.ts';
import { MemoryJournal } from '../journal/journal.ts';
import type { FxMarks } from '../portfolio/fx-marks.ts';
import type { Sizing } from '../portfolio/sizing.ts';
import type { RiskConfig } from '../risk/limits.ts';
import { BenchmarkRecorder, benchmarkSid, type BenchmarkCloses } from './benchmark.ts';
import type { Engine } from './engine.ts';
import type { AppliedAction } from '../core/corporate-action.ts';
import { CorporateActionApplier } from './corporate-actions.ts';
import { buildKernel, contractsOf } from './kernel.ts';
import { optionExpiry, type OptionExpiry, type UnderlyingClose } from './option-expiry.ts';

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
  /**
   * `rth` (the default when absent): intraday bars outside the regular session (09:30-16:00 in `tz`, 13:00
   * on US half days) are not given to the broker nor to the strategies (except those asking for
   * `extendedHours`, which see them but whose orders wait for the session); `extended`: every bar trades.
   */
  session?: SessionMode;
  /** annual risk-free rate for Sharpe and Sortino */
  rfAnnual: number;
  /**
   * the contract terms of the run's symbols that are not US stocks (multiplier, currency, security type), by
   * symbol; absent when every symbol is a US stock, so a stock run's config (and its run id) is as it was
   */
  contracts?: Record<string, ContractTerms>;
  /** the account's currency (absent: USD): equity, cash, P&L and the report are in it */
  baseCurrency?: string;
  /** buy-and-hold benchmark of the report: one of `symbols`; when absent SPY if the run has it, else the first symbol */
  benchmark?: string;
  /**
   * The prices the run trades (engine/data/actions.ts): `raw` as traded with splits and dividends applied as
   * events, `adjusted` split- and dividend-adjusted, `as-stored` as the data holds them (basis unknown).
   * Absent: as given (runs over bars in memory).
   */
  prices?: RunPrices;
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
  /** the splits and dividends applied (raw prices), in order */
  corporateActions?: AppliedAction[];
}

/** The replay's merge (ReplayFeed.replay): scan steps a bar may take, and scan steps per symbol beyond that, before a heap. */
const SCAN_STEPS_PER_BAR = 64;
const SCAN_SLACK = 64;

/** How many past bars per symbol strategies can read through the context (`ctx.close(sid, ago)`). */
export const HISTORY_BARS = 1_000;

const COLS = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
/** A quoted series' extra columns (BarSeries): all present or none. */
const QUOTE_COLS = ['bidOpen', 'bidHigh', 'bidLow', 'bidClose', 'bidSize', 'askOpen', 'askHigh', 'askLow', 'askClose', 'askSize'] as const;

const isQuoted = (s: BarSeries): boolean => s.bidOpen !== undefined;

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
      if (isQuoted(next)) {
        for (const c of QUOTE_COLS) {
          const a = new Float64Array(kept + next.ts.length);
          // bars kept from a chunk without quotes: no quote (NaN prices, size 0)
          const before = prev[c];
          if (before) a.set(before.subarray(from, from + kept));
          else a.fill(c === 'bidSize' || c === 'askSize' ? 0 : NaN, 0, kept);
          a.set(next[c]!, kept);
          joined[c] = a;
        }
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
 * them to the strategies. Under `--session rth` a bar outside the regular session goes to neither (see
 * `session`). Deterministic: same input, same output, whatever the chunking.
 * A series with bid/ask columns (quote bars: FX, options) gives the broker its two sides to fill against
 * (exec/quote-fill.ts) and the strategies the closing `bid` and `ask` on its Bar; its OHLC is the mid.
 * With options in the run (`expiry`), the first group of each new day first settles the options whose last
 * trading day has ended (option-expiry.ts).
 */
export class ReplayFeed implements Feed {
  readonly history: WindowHistory;
  readonly lastBarTs: Float64Array;
  readonly benchmark: BenchmarkRecorder;
  bars = 0;
  /**
   * The run's session (`--session rth`): bars starting outside it never reach the broker, the marks or
   * the sink; with `outside`, they still enter the history and go there (the strategies that asked for
   * extended hours), otherwise they are dropped from the chunk. Null: every bar is in the session.
   */
  session: { inSession: (ts: EpochMs) => boolean; outside?: (ts: EpochMs, bars: readonly Bar[], n: number) => void } | null = null;
  /** raw prices: applies each symbol's splits and dividends on the first bar of their ex-date, before fills (corporate-actions.ts) */
  corporateActions: CorporateActionApplier | null = null;
  /** options in the run (config.contracts): settles those whose last trading day has ended, before the next day's first bar (option-expiry.ts) */
  expiry: OptionExpiry | null = null;
  private readonly daily: boolean;
  private readonly intervalMs: number;
  private readonly sessionDay: Float64Array;
  private readonly views: Bar[];
  private readonly group: Bar[];
  private readonly nextTs: Float64Array;
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
    quote: null,
  };
  /** the quote the broker matches a quoted symbol's bar against (one, rewritten per bar) */
  private readonly quote = emptyQuote();
  /** per symbol: its current chunk carries bid/ask columns */
  private readonly quoted: Uint8Array;
  /** trading day of the last bar group (for option expiry) */
  private lastDay = NaN;
  private lastTs = -Infinity;
  private withActions = false;

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
    this.nextTs = new Float64Array(n);
    this.quoted = new Uint8Array(n);
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
    const session = this.session;
    if (session && !session.outside) chunk = chunk.map((s) => keepBars(s, session.inSession));
    const outside = session?.outside;
    const first = chunk.reduce((m, s) => (s.ts.length ? Math.min(m, s.ts[0]) : m), Infinity);
    if (first <= this.lastTs) throw new Error(`chunks out of order: a bar at ${new Date(first).toISOString()} follows ${new Date(this.lastTs).toISOString()}`);
    const cursor = this.history.advance(chunk, HISTORY_BARS);
    this.corporateActions?.register(chunk);
    // the applier acts only on symbols whose series carry actions (raw prices): the others skip its call
    if (!this.withActions) this.withActions = chunk.some((s) => (actionsOf(s)?.length ?? 0) > 0);
    const actions = this.withActions ? this.corporateActions : null;
    const series = this.history.series;
    const { broker, cal, sim, views, group, history, daily, intervalMs, sessionDay, quoted, quote } = this;
    for (let s = 0; s < n; s++) quoted[s] = isQuoted(series[s]) ? 1 : 0;
    const expiry = this.expiry;
    // Each symbol's next bar start; a group is every symbol whose next bar starts at the earliest, in symbol
    // order. Two scans of the n symbols per instant: when they share their bar starts (daily bars), a few steps
    // per bar. When few have a bar at each instant (illiquid or extended-hours minute bars) that is up to 2n steps
    // per bar: once the scans have cost SCAN_STEPS_PER_BAR a bar and SCAN_SLACK per symbol more, the rest of the
    // chunk merges through a heap (log n per bar), which gives the same order (time, then symbol).
    const next = this.nextTs;
    for (let s = 0; s < n; s++) next[s] = cursor[s] < series[s].ts.length ? series[s].ts[cursor[s]] : Infinity;
    let heap: EventQueue<number> | null = null;
    let overspent = 0;

    for (;;) {
      let ts = Infinity;
      let g = 0;
      if (heap === null) {
        for (let s = 0; s < n; s++) if (next[s] < ts) ts = next[s];
        if (ts === Infinity) break;
        for (let s = 0; s < n; s++) if (next[s] === ts) group[g++] = views[s];
        overspent += 2 * n - SCAN_STEPS_PER_BAR * g;
      } else {
        ts = heap.peekTs();
        if (ts === Infinity) break;
        while (heap.peekTs() === ts) group[g++] = views[heap.pop()!];
      }
      const day = cal.day(ts);
      if (expiry !== null && day !== this.lastDay) {
        // the previous group was its day's last: options expiring that day settle at its close, before this group
        if (!Number.isNaN(this.lastDay)) expiry.dayEnded(this.lastDay, this.lastTs);
        this.lastDay = day;
      }
      const inSession = !outside || session!.inSession(ts);
      if (inSession) sink.setTime(ts);
      const minute = daily ? 0 : cal.minuteOfDay(ts);
      for (let k = 0; k < g; k++) {
        const v = group[k];
        actions?.arrive(v.sid, day, ts);
        const s = series[v.sid];
        const i = cursor[v.sid];
        v.ts = ts;
        v.open = s.open[i];
        v.high = s.high[i];
        v.low = s.low[i];
        v.close = s.close[i];
        v.volume = s.volume[i];
        const q = quoted[v.sid] === 1;
        if (q) {
          v.bid = s.bidClose![i];
          v.ask = s.askClose![i];
        }
        if (inSession && broker.workingOrders(v.sid).length > 0) {
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
          sim.sessionClose = daily || minute + intervalMs / 60_000 === cal.closeMin(ts);
          sim.beforeClose = daily || minute + intervalMs / 60_000 <= cal.closeMin(ts);
          sim.quote = q ? quoteAt(s, i, quote) : null;
          broker.onBar(sim);
        }
        if (!daily && inSession && minute >= cal.sessionOpenMin) sessionDay[v.sid] = day;
      }
      for (let k = 0; k < g; k++) {
        const sid = group[k].sid;
        const i = cursor[sid]++;
        history.idx[sid] = i;
        if (inSession) {
          this.lastBarTs[sid] = ts;
          broker.setLastClose(sid, group[k].close);
          if (quoted[sid] === 1) broker.setLastQuote(sid, group[k].bid!, group[k].ask!);
          if (sid === this.benchmark.sid) this.benchmark.record(ts, day, group[k].close);
        }
        next[sid] = i + 1 < series[sid].ts.length ? series[sid].ts[i + 1] : Infinity;
        if (heap !== null && next[sid] !== Infinity) heap.push(next[sid], sid, sid);
      }
      if (heap === null && overspent > SCAN_SLACK * n) {
        heap = new EventQueue<number>(n);
        for (let s = 0; s < n; s++) if (next[s] !== Infinity) heap.push(next[s], s, s);
      }
      this.bars += g;
      this.lastTs = ts;
      if (inSession) sink.onBars(ts, group, g);
      else outside!(ts, group, g);
    }
  }

  /** The run has ended: options whose last trading day was the last day replayed settle (option-expiry.ts). */
  endRun(): void {
    if (this.expiry !== null && !Number.isNaN(this.lastDay)) this.expiry.dayEnded(this.lastDay, this.lastTs);
  }
}

/** Bar i of a quoted series into `q` (the broker's view of its two sides). */
function quoteAt(s: BarSeries, i: number, q: QuoteSides): QuoteSides {
  q.bidOpen = s.bidOpen![i];
  q.bidHigh = s.bidHigh![i];
  q.bidLow = s.bidLow![i];
  q.bidClose = s.bidClose![i];
  q.bidSize = s.bidSize![i];
  q.askOpen = s.askOpen![i];
  q.askHigh = s.askHigh![i];
  q.askLow = s.askLow![i];
  q.askClose = s.askClose![i];
  q.askSize = s.askSize![i];
  return q;
}

/** The bars of `s` whose start passes `keep` (all of them: `s` itself). */
function keepBars(s: BarSeries, keep: (ts: EpochMs) => boolean): BarSeries {
  const idx: number[] = [];
  for (let i = 0; i < s.ts.length; i++) if (keep(s.ts[i])) idx.push(i);
  if (idx.length === s.ts.length) return s;
  const out = { ...s } as BarSeries;
  for (const c of COLS) out[c] = Float64Array.from(idx, (i) => s[c][i]);
  if (isQuoted(s)) for (const c of QUOTE_COLS) out[c] = Float64Array.from(idx, (i) => s[c]![i]);
  return out;
}

/** Wires a backtest: SimBroker and the replay feed around the run's kernel (engine, risk, sizing, costs). */
function wire(chunks: BarChunks, config: BacktestConfig, slots: SlotSpec[], sectors?: string[], onChunk?: (bars: number) => void, extras: RunExtras = {}) {
  const intervalMs = INTERVAL_MS[config.interval];
  const cal = new ExchangeCalendar(intervalMs >= INTERVAL_MS['1d'] ? 'UTC' : config.tz);
  const broker = new SimBroker({
    commission: makeCommission(config.commission, contractsOf(config)),
    slippage: config.slippage,
    volumeCap: config.volumeCap,
    bracketTie: config.bracketTie,
    intervalMs,
  });
  const feed = new ReplayFeed(chunks, config.symbols, config.interval, cal, broker, onChunk, benchmarkSid(config));
  const journal = new MemoryJournal();
  const kernel = buildKernel(config, slots, { broker, history: feed.history, journal, sectors, fx: extras.fx });
  const { engine } = kernel;
  const actions = (feed.corporateActions = new CorporateActionApplier(engine, broker, feed.history, feed.benchmark));
  feed.expiry = optionExpiry(config, engine, extras.underlyingClose);
  if (cal.tz !== 'UTC' && (config.session ?? 'rth') === 'rth') {
    const out = kernel.extendedSlots;
    feed.session = { inSession: kernel.inSession, outside: out.length > 0 ? outsideSink(engine, out, extras) : undefined };
  }
  const finish = (): BacktestResult => {
    feed.endRun();
    engine.finish();
    return { config, engine, journal, bars: feed.bars, lastBarTs: feed.lastBarTs, benchmark: feed.benchmark.closes, corporateActions: actions.applied };
  };
  return { feed, engine, finish, sink: sinkFor(engine, extras) };
}

/** What a run adds to plain bars: a warm-up period, and model predictions handed to the strategies. */
export interface RunExtras {
  /** bars starting before this only warm the strategies up: no order is placed, no equity sampled */
  warmUpUntil?: EpochMs;
  /** fills `ctx.signal(sid)` for each group of bars before the strategies see it */
  signals?: SignalSource;
  /** the rates of the run's currencies other than its base (config.baseCurrency) */
  fx?: FxMarks;
  /** the close of an option's underlying that is not a run symbol, on the option's last trading day (cash settlement at expiry) */
  underlyingClose?: UnderlyingClose;
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

/** Bars outside the session, for the slots that asked for them (`extendedHours`), with the run's warm-up and signals. */
function outsideSink(engine: Engine, slots: readonly number[], x: RunExtras) {
  return (ts: EpochMs, bars: readonly Bar[], n: number) => {
    x.signals?.fill(bars, n, engine.signals);
    engine.onOutsideBars(ts, bars, n, slots, x.warmUpUntil !== undefined && ts < x.warmUpUntil);
  };
}

/**
 * A backtest over bars already in memory (one chunk). With `warmUpUntil`, a test period starts with
 * the state its strategy would have had, not cold.
 */
export function runBacktest(series: BarSeries[], config: BacktestConfig, slots: SlotSpec[], sectors?: string[], extras: RunExtras = {}): BacktestResult {
  const { feed, finish, sink } = wire({ next: async () => null }, config, slots, sectors, undefined, extras);
  feed.replay(series, sink);
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
  const { feed, finish, sink } = wire(chunks, config, slots, sectors, onChunk, extras);
  await feed.run(sink);
  return finish();
}
