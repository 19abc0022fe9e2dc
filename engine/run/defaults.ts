// The one set of run defaults: every command (backtest, sweep, promote, paper live) and the notebook API
// start from these, so the same strategy on the same bars gives the same result however it is run.
import { parseCommission, parseSlippage, type CommissionSpec, type SlippageSpec } from '../exec/costs.ts';
import { parseSizing, type Sizing } from '../portfolio/sizing.ts';
import { RISK_PROFILES, type RiskConfig } from '../risk/limits.ts';

/**
 * The defaults in the form their flags take.
 * - commission `ibkr-fixed`: what an IBKR account pays; a run without costs flatters a strategy that trades often.
 * - slippage `none`: the live simulator and a real gateway fill at real prices, so live adds none either.
 * - sizing `equal-weight`: 1/N of the book's equity per entry (N = the run's symbols), sized at submission
 *   so it works live, and never more than the cash covers: no symbol takes the cash of the others.
 * - risk `research`: leverage <= 1 on new risk and no position limit, so equal weight is never rejected.
 *   A live account (not paper) must name its profile: research has no loss limits.
 */
export const RUN_DEFAULTS = {
  commission: 'ibkr-fixed',
  slippage: 'none',
  sizing: 'equal-weight',
  risk: 'research',
} as const;

export interface RunSettings {
  commission: CommissionSpec;
  slippage: SlippageSpec;
  sizing: Sizing;
  risk: RiskConfig;
}

/** RUN_DEFAULTS parsed: the commission, slippage, sizing and risk of a run that names none of them. */
export function defaultRunSettings(): RunSettings {
  return {
    commission: parseCommission(RUN_DEFAULTS.commission),
    slippage: parseSlippage(RUN_DEFAULTS.slippage),
    sizing: parseSizing(RUN_DEFAULTS.sizing, {}),
    risk: RISK_PROFILES[RUN_DEFAULTS.risk],
  };
}
