import type { DuckDBConnection } from '@duckdb/node-api';
import type { BarSeries, Interval } from '../core/types.ts';
import { hasColumn, QUOTE_COLUMNS } from './journal-store.ts';

/** BarSeries' quote columns, in QUOTE_COLUMNS' order. */
const QUOTE_FIELDS = ['bidOpen', 'bidHigh', 'bidLow', 'bidClose', 'bidSize', 'askOpen', 'askHigh', 'askLow', 'askClose', 'askSize'] as const;

/**
 * The bars a live session acted on, read back from its journal as series in the run's symbol
 * order, ready for the backtest path (runBacktest): the same bars, config and strategy give the
 * same decisions. A quoted symbol's series (FX, options: a bar with a bid or ask) has the quote columns,
 * NaN (sizes 0) for what the journal lacks: a live bar carries only its closing bid and ask.
 */
export async function journalBars(conn: DuckDBConnection, runId: string, symbols: readonly string[], interval: Interval): Promise<BarSeries[]> {
  const quoted = await hasColumn(conn, 'live_bars', 'bid_close');
  const r = await conn.runAndReadAll(
    `SELECT symbol, ts::DOUBLE AS ts, open, high, low, close, volume${quoted ? `, ${QUOTE_COLUMNS.join(', ')}` : ''} FROM live_bars WHERE run_id = $1 ORDER BY seq`,
    [runId],
  );
  const rows = r.getRowObjectsJS() as Record<string, number | string | null>[];
  if (rows.length === 0) throw new Error(`the journal has no bars for run ${runId}: was it a live session of this version?`);
  return symbols.map((symbol) => {
    const mine = rows.filter((x) => x.symbol === symbol);
    const col = (k: string, none = Number.NaN) => Float64Array.from(mine, (x) => (x[k] === null || x[k] === undefined ? none : Number(x[k])));
    const s: BarSeries = { symbol, interval, ts: col('ts'), open: col('open'), high: col('high'), low: col('low'), close: col('close'), volume: col('volume') };
    if (quoted && mine.some((x) => x.bid_close !== null || x.ask_close !== null))
      QUOTE_COLUMNS.forEach((c, k) => {
        s[QUOTE_FIELDS[k]] = col(c, c.endsWith('_size') ? 0 : Number.NaN);
      });
    return s;
  });
}
