import type { DuckDBConnection } from '@duckdb/node-api';
import type { BarSeries, Interval } from '../core/types.ts';

/**
 * The bars a live session acted on, read back from its journal as series in the run's symbol
 * order, ready for the backtest path (runBacktest): the same bars, config and strategy give the
 * same decisions.
 */
export async function journalBars(conn: DuckDBConnection, runId: string, symbols: readonly string[], interval: Interval): Promise<BarSeries[]> {
  const r = await conn.runAndReadAll(`SELECT symbol, ts::DOUBLE AS ts, open, high, low, close, volume FROM live_bars WHERE run_id = $1 ORDER BY seq`, [runId]);
  const rows = r.getRowObjectsJS() as { symbol: string; ts: number; open: number; high: number; low: number; close: number; volume: number }[];
  if (rows.length === 0) throw new Error(`the journal has no bars for run ${runId}: was it a live session of this version?`);
  return symbols.map((symbol) => {
    const mine = rows.filter((x) => x.symbol === symbol);
    const col = (k: 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume') => Float64Array.from(mine, (x) => Number(x[k]));
    return { symbol, interval, ts: col('ts'), open: col('open'), high: col('high'), low: col('low'), close: col('close'), volume: col('volume') };
  });
}
