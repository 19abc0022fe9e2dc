import { ExchangeCalendar } from '../core/calendar.ts';
import type { Broker } from '../core/ports.ts';
import type { BarHistory, SlotSpec } from '../core/strategy.ts';
import { INTERVAL_MS, type EpochMs } from '../core/types.ts';
import { makeCommission } from '../exec/costs.ts';
import type { JournalSink } from '../journal/journal.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import type { BacktestConfig } from './backtest.ts';
import { Engine } from './engine.ts';

/** What differs between a backtest and a live session: where orders go, where history comes from, where events are written. */
export interface KernelPorts {
  broker: Broker;
  history: BarHistory;
  journal: JournalSink;
  /** sector of each run symbol (instrument master), '' when unknown */
  sectors?: readonly string[];
}

export interface Kernel {
  engine: Engine;
  risk: RiskEngine;
  calendar: ExchangeCalendar;
  intervalMs: number;
  dayOf: (ts: EpochMs) => number;
}

/**
 * The trading system of a run, built one way for backtest and live: the engine with its strategy
 * slots (each with its share of the capital and the run's sizing), the risk engine with the run's
 * limits, breaker and sectors, the exchange calendar and the commission model for all-in sizing.
 */
export function buildKernel(config: BacktestConfig, slots: SlotSpec[], ports: KernelPorts): Kernel {
  const intervalMs = INTERVAL_MS[config.interval];
  const calendar = new ExchangeCalendar(intervalMs >= INTERVAL_MS['1d'] ? 'UTC' : config.tz);
  const dayOf = (ts: EpochMs) => calendar.day(ts);
  const risk = new RiskEngine(config.risk.limits, config.risk.breaker);
  const totalWeight = slots.reduce((s, x) => s + x.weight, 0);
  const engine = new Engine({
    symbols: config.symbols,
    sectors: ports.sectors,
    slots: slots.map((s) => ({ name: s.name, strategy: s.strategy, cash: (config.cash * s.weight) / totalWeight, sizing: config.sizing })),
    broker: ports.broker,
    risk,
    journal: ports.journal,
    history: ports.history,
    intervalMs,
    dayOf,
  });
  const commission = makeCommission(config.commission);
  engine.commissionFor = (q, p) => commission.commission(q, p);
  return { engine, risk, calendar, intervalMs, dayOf };
}
