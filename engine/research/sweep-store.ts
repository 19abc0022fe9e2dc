// The sweep_results table of a sweep's DuckDB file: one row per run, keyed by (sweep_id, idx). A local sweep
// replaces its sweep's rows at the end (replaceSweep); a queued sweep writes results as they arrive (storeRuns),
// where a result stored twice (a job retried after its worker died, a resubmission) must be stored once.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SweepResult } from './sweep.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS sweep_results (sweep_id VARCHAR, idx INTEGER, params VARCHAR, window_index INTEGER, phase VARCHAR,
  from_ts BIGINT, to_ts BIGINT, bars BIGINT, final_equity DOUBLE, sharpe DOUBLE, sortino DOUBLE, cagr DOUBLE, max_drawdown DOUBLE, trades INTEGER)`;
// Added later, at the end of the table so that a table written by an older version gains them (its rows read
// NULL there) and the appender below fills every table in the same column order.
const ADDED_COLUMNS = [
  'ALTER TABLE sweep_results ADD COLUMN IF NOT EXISTS periods INTEGER',
  'ALTER TABLE sweep_results ADD COLUMN IF NOT EXISTS short_run BOOLEAN',
];

/** Creates sweep_results (or adds the columns an older table lacks). */
export async function ensureSweepTable(conn: DuckDBConnection): Promise<void> {
  await conn.run(SCHEMA);
  for (const sql of ADDED_COLUMNS) await conn.run(sql);
}

/** One transaction: `remove` runs first, then the rows are appended; any failure leaves the table as it was. */
async function write(conn: DuckDBConnection, id: string, results: readonly SweepResult[], remove: () => Promise<unknown>): Promise<void> {
  await ensureSweepTable(conn);
  await conn.run('BEGIN TRANSACTION');
  try {
    await remove();
    const a = await conn.createAppender('sweep_results');
    const dbl = (x: number | null) => (x === null || !Number.isFinite(x) ? a.appendNull() : a.appendDouble(x));
    for (const r of results) {
      a.appendVarchar(id);
      a.appendInteger(r.index);
      a.appendVarchar(JSON.stringify(r.params));
      a.appendInteger(r.window);
      a.appendVarchar(r.phase);
      a.appendBigInt(BigInt(r.from));
      a.appendBigInt(BigInt(r.to));
      a.appendBigInt(BigInt(r.bars));
      dbl(r.finalEquity);
      dbl(r.sharpe);
      dbl(r.sortino);
      dbl(r.cagr);
      dbl(r.maxDrawdown);
      a.appendInteger(r.trades);
      a.appendInteger(r.periods);
      a.appendBoolean(r.shortRun);
      a.endRow();
    }
    a.closeSync();
    await conn.run('COMMIT');
  } catch (e) {
    // the write's error is the one to report (a rollback on a full disk can fail too)
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** A whole sweep's rows: the sweep's earlier rows are replaced (a local sweep, written once at its end). */
export function replaceSweep(conn: DuckDBConnection, id: string, results: readonly SweepResult[]): Promise<void> {
  return write(conn, id, results, () => conn.run('DELETE FROM sweep_results WHERE sweep_id = $1', [id]));
}

/**
 * Some runs' rows, replacing any row of the same (sweep_id, idx): storing a result twice leaves one row. The table
 * has no key (tables written by older versions have none and DuckDB cannot add one), so delete-then-append in one
 * transaction is the upsert.
 */
export async function storeRuns(conn: DuckDBConnection, id: string, results: readonly SweepResult[]): Promise<void> {
  if (results.length === 0) return;
  const idx = results.map((r) => r.index);
  if (idx.some((i) => !Number.isInteger(i))) throw new Error(`sweep ${id}: a run index is not an integer (${idx.join(', ')})`);
  await write(conn, id, results, () => conn.run(`DELETE FROM sweep_results WHERE sweep_id = $1 AND idx IN (${idx.join(', ')})`, [id]));
}

/** How many rows the sweep has (what a Ctrl-C message reports). */
export async function storedRuns(conn: DuckDBConnection, id: string): Promise<number> {
  await ensureSweepTable(conn);
  const r = await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM sweep_results WHERE sweep_id = $1', [id]);
  return Number(r.getRowObjectsJS()[0]?.n ?? 0);
}
