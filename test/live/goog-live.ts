// What the GOOG options live tests share: their runs' config (IB's fixed commissions, no risk limits, fixed
// sizing: live runs refuse the default all-in) and the backtest a live session is compared with.
import type { BarSeries, ContractTerms } from '../../engine/core/types.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { type BacktestConfig, type BacktestResult, runBacktestChunked } from '../../engine/run/backtest.ts';
import { type ChainSelection, openRunData } from '../../engine/run/run-data.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';

export const NO_RISK: RiskConfig = { name: 'none', limits: {}, breaker: {} };

/** A 1m run of `strategy` on `symbols` with IB's fixed commissions, no risk limits, `quantity` a signal. */
export const liveConfig = (strategy: string, symbols: string[], contracts: Record<string, ContractTerms> | undefined, quantity: number): BacktestConfig =>
  config({
    strategy,
    symbols,
    interval: '1m',
    commission: { model: 'ibkr-fixed' },
    risk: NO_RISK,
    sizing: { kind: 'fixed', quantity },
    contracts,
  });

/**
 * The backtest of `strategy` (default params) on GOOG and its `chain` of 2015-12-23/24 in the store `db`, run
 * chunk by chunk as the CLI runs it; `seen` is every series it was given (what a live session replays).
 */
export async function googBacktest(
  db: string,
  strategy: string,
  chain: ChainSelection,
  quantity: number,
): Promise<{ cfg: BacktestConfig; backtest: BacktestResult; seen: BarSeries[] }> {
  const bt = await openRunData({ data: db, symbols: ['GOOG'], interval: '1m', from: '2015-12-23', to: '2015-12-24', tz: 'America/New_York', chain });
  try {
    const cfg = liveConfig(strategy, bt.symbols, bt.contracts, quantity);
    const seen: BarSeries[] = [];
    const chunks = {
      async next() {
        const c = await bt.chunks.next();
        if (c) seen.push(...c);
        return c;
      },
    };
    const backtest = await runBacktestChunked(chunks, cfg, buildSlots(strategy, {}, cfg.symbols), bt.sectors);
    return { cfg, backtest, seen };
  } finally {
    bt.close();
  }
}
