import { ExchangeCalendar } from '../core/calendar.ts';
import { EventQueue } from '../core/event-queue.ts';
import type { BarHistory, Strategy } from '../core/strategy.ts';
import { INTERVAL_MS, type Bar, type BarSeries, type Interval } from '../core/types.ts';
import { makeCommission, type CommissionSpec, type SlippageSpec } from '../exec/costs.ts';
import { SimBroker, type SimBar } from '../exec/sim-broker.ts';
import { MemoryJournal } from '../journal/journal.ts';
import type { Sizing } from '../portfolio/sizing.ts';
import type { RiskConfig } from '../risk/limits.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { Engine } from './engine.ts';

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
}

/** A strategy instance and its share of the capital (a multi-strategy run has several). */
export interface SlotSpec {
  name: string;
  strategy: Strategy;
  weight: number;
}

export interface BacktestResult {
  config: BacktestConfig;
  engine: Engine;
  journal: MemoryJournal;
  series: BarSeries[];
  bars: number;
}

/** History over columnar series: a cursor per symbol marks the newest visible bar. */
export class SeriesHistory implements BarHistory {
  readonly idx: Int32Array;
  constructor(private readonly series: BarSeries[]) {
    this.idx = new Int32Array(series.length).fill(-1);
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
    return i >= 0 && ago >= 0 ? a[i] : NaN;
  }
}

/**
 * Replays the series in time order through the engine: for each instant, the bars of every symbol
 * that has one (in the run's symbol order) are matched by the simulated broker at their open,
 * then marked at their close and shown to the strategies. Deterministic: same input, same output.
 */
export function runBacktest(series: BarSeries[], config: BacktestConfig, slots: SlotSpec[], sectors?: string[]): BacktestResult {
  const n = series.length;
  const intervalMs = INTERVAL_MS[config.interval];
  const daily = intervalMs >= INTERVAL_MS['1d'];
  const cal = new ExchangeCalendar(daily ? 'UTC' : config.tz);
  const commission = makeCommission(config.commission);
  const broker = new SimBroker({ commission, slippage: config.slippage, volumeCap: config.volumeCap, bracketTie: config.bracketTie, intervalMs });
  const journal = new MemoryJournal();
  const history = new SeriesHistory(series);
  const totalWeight = slots.reduce((s, x) => s + x.weight, 0);
  const engine = new Engine({
    symbols: config.symbols,
    sectors,
    slots: slots.map((s) => ({ name: s.name, strategy: s.strategy, cash: (config.cash * s.weight) / totalWeight, sizing: config.sizing })),
    broker,
    risk: new RiskEngine(config.risk.limits, config.risk.breaker),
    journal,
    history,
    intervalMs,
    dayOf: (ts) => cal.day(ts),
  });
  engine.commissionFor = (q, p) => commission.commission(q, p);

  const queue = new EventQueue<number>(n);
  const cursor = new Int32Array(n);
  const sessionDay = new Float64Array(n).fill(NaN);
  for (let s = 0; s < n; s++) if (series[s].ts.length > 0) queue.push(series[s].ts[0], s, s);
  const views: Bar[] = config.symbols.map((symbol, sid) => ({ symbol, sid, ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 }));
  const group: Bar[] = new Array(n);
  const sim: SimBar = { sid: 0, ts: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, day: 0, sessionOpen: true, sessionClose: true, beforeClose: true, month: 0 };
  let bars = 0;

  while (queue.size > 0) {
    const ts = queue.peekTs();
    let g = 0;
    while (queue.size > 0 && queue.peekTs() === ts) group[g++] = views[queue.pop()!];
    engine.setTime(ts);
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
      broker.setLastClose(sid, group[k].close);
      if (i + 1 < series[sid].ts.length) queue.push(series[sid].ts[i + 1], sid, sid);
    }
    bars += g;
    engine.onBars(ts, group, g);
  }
  engine.finish();
  return { config, engine, journal, series, bars };
}
