// Quote bars (bid/ask, the `quote_bars` table) as the series a run trades FX pairs and options on: the OHLC
// columns hold the mid, which marks and indicators use, and the bid and ask columns are what orders fill against
// (engine/exec/quote-fill.ts). A side without a quote that bar (NULL) is NaN with size 0; the mid is then the
// other side's price, and a bar with neither side is left out (nothing was quoted that bar).
import type { BarSeries, Interval } from '../core/types.ts';
import { DataError } from './errors.ts';
import { sqlString, type Store } from './store.ts';

const SIDES = ['open', 'high', 'low', 'close'] as const;

/** The symbols among `symbols` that have quote bars of `interval` in the store. */
export async function quotedSymbols(store: Store, symbols: readonly string[], interval: Interval): Promise<Set<string>> {
  if (symbols.length === 0) return new Set();
  const tables = await store.conn.runAndReadAll(
    `SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'quote_bars'`,
  );
  if (Number(tables.getRowObjectsJS()[0]?.n ?? 0) === 0) return new Set();
  const r = await store.conn.runAndReadAll(
    `SELECT DISTINCT symbol FROM quote_bars WHERE "interval" = ${sqlString(interval)} AND symbol IN (${symbols.map(sqlString).join(', ')})`,
  );
  return new Set(r.getRowObjectsJS().map((x) => String(x.symbol)));
}

/** Each symbol's quote bars in [from, to] (epoch ms, inclusive) as a series with mid OHLC and bid/ask columns. */
export async function loadQuoteSeries(store: Store, symbols: readonly string[], interval: Interval, from?: number, to?: number): Promise<BarSeries[]> {
  const range = [from !== undefined ? `ts >= ${Math.ceil(from)}` : '', to !== undefined ? `ts <= ${Math.floor(to)}` : ''].filter(Boolean);
  const out: BarSeries[] = [];
  for (const symbol of symbols) {
    const r = await store.conn.runAndReadAll(`
SELECT ts::DOUBLE AS ts, bid_open, bid_high, bid_low, bid_close, bid_size, ask_open, ask_high, ask_low, ask_close, ask_size
FROM quote_bars WHERE symbol = ${sqlString(symbol)} AND "interval" = ${sqlString(interval)} ${range.map((c) => `AND ${c}`).join(' ')}
  AND (bid_close IS NOT NULL OR ask_close IS NOT NULL)
ORDER BY ts`);
    const cols = r.getColumnsJS();
    const n = cols[0]?.length ?? 0;
    if (n === 0) throw new DataError(`no ${interval} quote bars for ${symbol} in the run's dates in ${store.path}`, { rule: 'empty-range' });
    const num = (c: number) => Float64Array.from(cols[c]!, (v) => (v === null ? Number.NaN : Number(v)));
    const bid = SIDES.map((_, i) => num(1 + i));
    const ask = SIDES.map((_, i) => num(6 + i));
    const mid = SIDES.map((_, i) => Float64Array.from({ length: n }, (_, k) => midOf(bid[i]![k]!, ask[i]![k]!)));
    out.push({
      symbol,
      interval,
      ts: num(0),
      open: mid[0]!,
      high: mid[1]!,
      low: mid[2]!,
      close: mid[3]!,
      volume: new Float64Array(n),
      bidOpen: bid[0],
      bidHigh: bid[1],
      bidLow: bid[2],
      bidClose: bid[3],
      bidSize: num(5).map((x) => (Number.isNaN(x) ? 0 : x)),
      askOpen: ask[0],
      askHigh: ask[1],
      askLow: ask[2],
      askClose: ask[3],
      askSize: num(10).map((x) => (Number.isNaN(x) ? 0 : x)),
    });
  }
  return out;
}

/** The mid of a bid and an ask; one side alone when the other is missing. */
function midOf(bid: number, ask: number): number {
  if (Number.isNaN(bid)) return ask;
  if (Number.isNaN(ask)) return bid;
  return (bid + ask) / 2;
}
