// The public API: `import * as tb from 'tradebench'` (package.json exports "." -> build/engine/index.js).
// Notebooks and scripts get bars, backtests, sweeps, comparisons and promotion checks as DataFrames (danfojs-node)
// and figures, with the run defaults of the CLIs (RUN_DEFAULTS) and the bundled sample as the default data.
import { defineStrategy as defineCore, type DefinedStrategy, type ParamSchema, type StrategyDefinition } from './core/strategy.ts';

export { backtest, candles, Result, type PlotKind } from './api/result.ts';
export { train, type TrainOptions, type Training } from './api/ml.ts';
export { bars, compare, heatmap, promote, promotions, sweep, type Promotion, type SweepFrame, type SweepOptions } from './api/research.ts';
export type { DataOptions, RunOptions, StrategyRef } from './api/options.ts';
export { dfd, frame, type DataFrame } from './api/frame.ts';
export { duckdb, type SqlDatabase } from './api/sql.ts';
export { figureFragment, setPlotlySource, show, table, tableHtml } from './api/display.ts';
export { RUN_DEFAULTS, defaultRunSettings, type RunSettings } from './run/defaults.ts';
export { DEFAULT_THRESHOLDS, type PromotionEvidence, type PromotionRecord, type PromotionThresholds } from './research/promotion.ts';
export { STRATEGIES } from '../strategies/index.ts';
export { crossedAbove, crossedBelow } from './core/cross.ts';
export { replayHistory } from './core/corporate-action.ts';
export { ATR, EMA, Highest, Lowest, RollingStd, RSI, SMA } from './core/indicators/index.ts';
export type {
  AnyStrategyDefinition,
  DefinedStrategy,
  ParamSchema,
  ParamSpec,
  ParamsOf,
  Strategy,
  StrategyContext,
  StrategyDefinition,
} from './core/strategy.ts';
export type { Bar, Interval } from './core/types.ts';
export type { Figure } from './report/figures.ts';
export type { Report, ReportMetrics, ReportTrade } from './report/index.ts';
export type { CommissionSpec, SlippageSpec } from './exec/costs.ts';
export type { Sizing } from './portfolio/sizing.ts';
export type { RiskConfig } from './risk/limits.ts';

/** A strategy definition whose `source` may be left out (a notebook cell has no file). */
export interface InlineStrategyDefinition<S extends ParamSchema> extends Omit<StrategyDefinition<S>, 'source'> {
  source?: string;
}

/**
 * Declares a strategy (engine/core/strategy.ts's defineStrategy); `source` may be left out in a notebook cell
 * (it names the file a promotion record is tied to: an inline strategy has none).
 */
export function defineStrategy<S extends ParamSchema>(def: InlineStrategyDefinition<S>): DefinedStrategy<S> {
  return defineCore({ ...def, source: def.source ?? 'inline' });
}
