// The notebook API's options and their defaults: the bundled sample, RUN_DEFAULTS, session rth, prices per data.
import path from 'node:path';
import type { SessionMode } from '../core/calendar.ts';
import type { AnyStrategyDefinition, SlotSpec } from '../core/strategy.ts';
import type { Interval } from '../core/types.ts';
import type { PriceMode, RunPrices } from '../data/actions.ts';
import { ensureSampleDb } from '../data/sample.ts';
import { SAMPLE_DB_PATH } from '../data/store-paths.ts';
import { parseCommission, parseSlippage, type CommissionSpec, type SlippageSpec } from '../exec/costs.ts';
import { repoRoot } from '../paths.ts';
import { parseSizing, type Sizing } from '../portfolio/sizing.ts';
import { RISK_PROFILES, type RiskConfig } from '../risk/limits.ts';
import type { BacktestConfig } from '../run/backtest.ts';
import { defaultRunSettings } from '../run/defaults.ts';
import type { RunDataOptions } from '../run/run-data.ts';
import { modelSignals, type ModelSignals } from '../ml/model-signals.ts';
import { buildSlots as registrySlots, modelOf, resolvedParams as registryParams, STRATEGIES } from '../../strategies/index.ts';

/** What a run reads. Every field has a default: the bundled sample, all its symbols, all its dates, daily bars. */
export interface DataOptions {
  /** a .duckdb file, a CSV/Parquet file or a folder of them (default: the bundled sample's database) */
  data?: string;
  /** symbols in run order (default: every symbol of the interval in the data) */
  symbols?: string[];
  /** first day, YYYY-MM-DD (inclusive) */
  from?: string;
  /** last day, YYYY-MM-DD (inclusive) */
  to?: string;
  /** default 1d */
  interval?: Interval;
  /** raw (as traded, splits and dividends as events) or adjusted; default: raw where the data has factors */
  prices?: PriceMode;
  /** exchange time zone of intraday data (default America/New_York) */
  tz?: string;
}

/** A built-in strategy by name (`sma-cross`, `portfolio`, ...) or a definition from `defineStrategy`. */
export type StrategyRef = string | AnyStrategyDefinition;

/** A run: a strategy with params over data, with the run defaults (RUN_DEFAULTS) for what is not given. */
export interface RunOptions extends DataOptions {
  strategy: StrategyRef;
  /** the strategy's params (defaults filled in from its schema) */
  params?: Record<string, unknown>;
  /** starting cash (default 100,000) */
  cash?: number;
  /** 'equal-weight' (default) | 'all-in', or a Sizing ({ kind: 'percent', percent: 20 }, ...) */
  sizing?: 'equal-weight' | 'all-in' | Sizing;
  /** 'ibkr-fixed' (default) | 'ibkr-tiered' | 'none' | 'per-share:R[:MIN]' | 'percent:P[:MIN]', or a CommissionSpec */
  commission?: string | CommissionSpec;
  /** 'none' (default) | 'bps:N' | 'range:F', or a SlippageSpec */
  slippage?: string | SlippageSpec;
  /** 'research' (default) | 'seed', or a RiskConfig */
  risk?: 'research' | 'seed' | RiskConfig;
  /** 'rth' (default) | 'extended' */
  session?: SessionMode;
  /** the report's buy-and-hold symbol, one of the run's (default SPY if in the run, else the first) */
  benchmark?: string;
  /** annual risk-free rate for Sharpe and Sortino, a fraction (default 0) */
  rf?: number;
  /** fill at most this fraction of a bar's volume (default 0: no cap) */
  volumeCap?: number;
  /** when both bracket legs are reachable in one bar: 'stop' (default, worst case) | 'target' */
  bracketTie?: 'stop' | 'target';
}

export const DEFAULT_CASH = 100_000;
export const DEFAULT_TZ = 'America/New_York';

/** A strategy made runnable: its name, params with defaults, and its slots (registry or inline definition). */
export interface ResolvedStrategy {
  name: string;
  /** a definition given inline (not the registry's): runs in this thread, has no file to promote */
  inline: boolean;
  /** the model folder it trades on with the params it was resolved with (relative to the repository), if any */
  model?: string;
  /** its model helpers: predictions for a run of it (none for a run on no model), and the in-sample checks */
  models: ModelSignals;
  params(raw: Record<string, unknown>): Record<string, unknown>;
  buildSlots(name: string, raw: Record<string, unknown>, symbols: readonly string[]): SlotSpec[];
}

/** A built-in strategy by name, or an inline definition, made runnable with these params. */
export function resolveStrategy(ref: StrategyRef, raw: Record<string, unknown> = {}): ResolvedStrategy {
  const registered = typeof ref === 'string' ? ref : STRATEGIES[ref.name] === ref ? ref.name : undefined;
  let out: ResolvedStrategy;
  if (registered !== undefined) {
    out = { name: registered, inline: false, params: (p) => registryParams(registered, p), buildSlots: registrySlots, models: REGISTRY_MODELS };
    const model = modelOf(registered, raw);
    if (model !== undefined) out.model = model;
  } else {
    const def = ref as AnyStrategyDefinition;
    out = {
      name: def.name,
      inline: true,
      params: (p) => def.parse(p),
      buildSlots: (_name, p, symbols) => [{ name: def.name, strategy: def.create(p, symbols), weight: 1 }],
      models: modelSignals((_strategy, p) => def.model(p)),
    };
    const model = def.model(raw);
    if (model !== undefined) out.model = model;
  }
  return out;
}

/** The model helpers of the registry's strategies (each model loaded once per process). */
export const REGISTRY_MODELS = modelSignals(modelOf);

/** The bundled sample's database, resolved against the package (not the notebook's folder), imported on first use. */
async function sampleDb(): Promise<string> {
  const db = path.resolve(repoRoot(), SAMPLE_DB_PATH);
  await ensureSampleDb(db);
  return db;
}

/** DataOptions as run-data's options, the default data made explicit; `source` is what the report names. */
export async function dataOptions(o: DataOptions): Promise<{ options: RunDataOptions; source?: string }> {
  const options: RunDataOptions = {
    data: o.data ?? (await sampleDb()),
    symbols: o.symbols?.map((s) => s.toUpperCase()),
    interval: o.interval ?? '1d',
    from: o.from,
    to: o.to,
    tz: o.tz ?? DEFAULT_TZ,
    prices: o.prices,
  };
  // a run on the default data names it as the CLIs do
  return { options, source: o.data === undefined ? SAMPLE_DB_PATH : undefined };
}

/** The commission, slippage, sizing and risk of a run: given, else RUN_DEFAULTS. */
export function runSettings(o: RunOptions): { commission: CommissionSpec; slippage: SlippageSpec; sizing: Sizing; risk: RiskConfig } {
  const d = defaultRunSettings();
  const risk = o.risk === undefined ? d.risk : typeof o.risk === 'string' ? RISK_PROFILES[o.risk] : o.risk;
  if (risk === undefined) throw new Error(`risk must be research, seed or a RiskConfig, got '${String(o.risk)}'`);
  return {
    commission: o.commission === undefined ? d.commission : typeof o.commission === 'string' ? parseCommission(o.commission) : o.commission,
    slippage: o.slippage === undefined ? d.slippage : typeof o.slippage === 'string' ? parseSlippage(o.slippage) : o.slippage,
    sizing: o.sizing === undefined ? d.sizing : typeof o.sizing === 'string' ? parseSizing(o.sizing, {}) : o.sizing,
    risk,
  };
}

/**
 * The BacktestConfig of an API run (a backtest, or the base config of a sweep): the given options over the run
 * defaults, in the key order `npm run backtest` writes (the run id hashes the config).
 */
export function runConfig(
  o: RunOptions,
  run: {
    strategy: string;
    params: Record<string, unknown>;
    symbols: string[];
    /** runSettings(o), computed once by the caller (before any data is read) */
    settings: ReturnType<typeof runSettings>;
    data: RunDataOptions;
    prices: RunPrices;
    benchmark?: string;
  },
): BacktestConfig {
  return {
    strategy: run.strategy,
    params: run.params,
    symbols: run.symbols,
    interval: run.data.interval,
    from: o.from,
    to: o.to,
    cash: o.cash ?? DEFAULT_CASH,
    ...run.settings,
    volumeCap: o.volumeCap ?? 0,
    bracketTie: o.bracketTie ?? 'stop',
    tz: run.data.tz,
    session: o.session ?? 'rth',
    prices: run.prices,
    rfAnnual: o.rf ?? 0,
    ...(run.benchmark ? { benchmark: run.benchmark.toUpperCase() } : {}),
  };
}
