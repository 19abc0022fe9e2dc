import { ExchangeCalendar } from '../core/calendar.ts';
import type { Broker } from '../core/ports.ts';
import { asksForExtendedHours, type BarHistory, type SlotSpec } from '../core/strategy.ts';
import { INTERVAL_MS, type ContractTerms, type EpochMs } from '../core/types.ts';
import { makeCommission } from '../exec/costs.ts';
import type { JournalSink } from '../journal/journal.ts';
import type { FxMarks } from '../portfolio/fx-marks.ts';
import { unitTerms, type UnitTerms } from '../portfolio/portfolio.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import type { BacktestConfig } from './backtest.ts';
import { Engine } from './engine.ts';
import type { ExternalGreeks } from './option-book.ts';

/** What differs between a backtest and a live session: where orders go, where history comes from, where events are written. */
export interface KernelPorts {
  broker: Broker;
  history: BarHistory;
  journal: JournalSink;
  /** sector of each run symbol (instrument master), '' when unknown */
  sectors?: readonly string[];
  /** rates into the base currency of every other currency the run's symbols are in */
  fx?: FxMarks;
  /** a live session's option greeks from IB (absent: ctx.chain computes them, as in a backtest) */
  greeks?: ExternalGreeks;
}

export interface Kernel {
  engine: Engine;
  risk: RiskEngine;
  calendar: ExchangeCalendar;
  intervalMs: number;
  dayOf: (ts: EpochMs) => number;
  /** the run's session (`config.session`, default rth): whether a bar starting at ts is one the broker and the run see */
  inSession: (ts: EpochMs) => boolean;
  /** the slots whose strategy asked for the bars outside the session (`extendedHours`); empty under `extended` */
  extendedSlots: number[];
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
    terms: unitTermsOf(config, ports.fx),
    contracts: contractsOf(config),
    fx: ports.fx,
    greeks: ports.greeks,
  });
  const commission = makeCommission(config.commission, contractsOf(config));
  engine.commissionFor = (q, p, sid) => commission.commission(q, p, sid);
  return { engine, risk, calendar, intervalMs, dayOf, ...runSession(config, slots, calendar) };
}

/** Each run symbol's contract terms (undefined: a US stock), from `config.contracts`. */
export function contractsOf(config: BacktestConfig): (ContractTerms | undefined)[] | undefined {
  const c = config.contracts;
  return c === undefined ? undefined : config.symbols.map((s) => c[s]);
}

/** Each run symbol's multiplier, margining and currency, or undefined when every symbol is a US stock in a USD account. */
function unitTermsOf(config: BacktestConfig, fx?: FxMarks): UnitTerms | undefined {
  const terms = contractsOf(config);
  const base = config.baseCurrency ?? 'USD';
  return terms === undefined && base === 'USD' ? undefined : unitTerms(terms ?? config.symbols.map(() => undefined), base, fx);
}

/**
 * `--session`: under `rth` (the default) intraday bars outside the regular session (`calendar.inSession`)
 * are not the run's: only the slots that ask (`extendedHours`) see them. Daily bars are one session each.
 */
export function runSession(config: BacktestConfig, slots: readonly SlotSpec[], calendar: ExchangeCalendar) {
  const rth = (config.session ?? 'rth') === 'rth' && calendar.tz !== 'UTC';
  return {
    inSession: rth ? (ts: EpochMs) => calendar.inSession(ts) : () => true,
    extendedSlots: rth ? slots.flatMap((s, i) => (asksForExtendedHours(s.strategy) ? [i] : [])) : [],
  };
}
