import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { Order } from '../core/types.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { MemoryJournal } from './journal.ts';

/**
 * The journal tables (DESIGN section 6), written by every run, backtest or live. Times are epoch ms UTC.
 * A live session also fills the live_ tables as it goes (engine/journal/live-journal.ts): live_orders (the
 * latest spec of each order), live_bars, live_logs, live_state (the latest safety state), live_runs (the
 * last record of each run) and journal_meta ('applied_seq': the last write-ahead record in the database).
 */
export const JOURNAL_DDL = `
CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, kind VARCHAR, strategy VARCHAR, config VARCHAR, bars BIGINT, final_equity DOUBLE);
CREATE TABLE IF NOT EXISTS orders (run_id VARCHAR, order_id INTEGER, strategy VARCHAR, symbol VARCHAR, side VARCHAR, type VARCHAR,
  qty DOUBLE, all_in BOOLEAN, limit_price DOUBLE, stop_price DOUBLE, tif VARCHAR, status VARCHAR, submitted_at BIGINT,
  filled_qty DOUBLE, avg_fill_price DOUBLE, commission DOUBLE, parent_id INTEGER, oca_group VARCHAR, tag VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS order_events (run_id VARCHAR, seq INTEGER, ts BIGINT, order_id INTEGER, from_status VARCHAR, to_status VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS fills (run_id VARCHAR, seq INTEGER, exec_id VARCHAR, order_id INTEGER, strategy VARCHAR, symbol VARCHAR, ts BIGINT, qty DOUBLE, price DOUBLE, commission DOUBLE);
CREATE TABLE IF NOT EXISTS positions (run_id VARCHAR, strategy VARCHAR, symbol VARCHAR, qty DOUBLE, avg_cost DOUBLE, last_price DOUBLE);
CREATE TABLE IF NOT EXISTS equity (run_id VARCHAR, ts BIGINT, equity DOUBLE, cash DOUBLE, gross DOUBLE);
CREATE TABLE IF NOT EXISTS live_orders (run_id VARCHAR, order_id INTEGER, spec VARCHAR);
CREATE TABLE IF NOT EXISTS live_bars (run_id VARCHAR, seq INTEGER, symbol VARCHAR, ts BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE);
CREATE TABLE IF NOT EXISTS risk_events (run_id VARCHAR, seq INTEGER, ts BIGINT, order_id INTEGER, check_name VARCHAR, value DOUBLE, limit_value DOUBLE, message VARCHAR);
CREATE TABLE IF NOT EXISTS live_logs (run_id VARCHAR, seq INTEGER, ts BIGINT, kind VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS live_state (run_id VARCHAR, ts BIGINT, state VARCHAR);
CREATE TABLE IF NOT EXISTS live_runs (run_id VARCHAR, last_seq BIGINT);
CREATE TABLE IF NOT EXISTS journal_meta (key VARCHAR, value BIGINT);
`;

const TABLES = ['orders', 'order_events', 'fills', 'positions', 'equity', 'risk_events', 'runs'];

export interface RunRecord {
  runId: string;
  kind: 'backtest' | 'live';
  strategy: string;
  config: unknown;
  bars: number;
  finalEquity: number;
}

/**
 * Writes a finished run's journal in one transaction: all of it or, on any error, none of it.
 * A run id that is already there is replaced, so re-running the same config is idempotent.
 */
export async function writeJournal(
  conn: DuckDBConnection,
  run: RunRecord,
  journal: MemoryJournal,
  orders: readonly Order[],
  portfolio: Portfolio,
): Promise<void> {
  await ensureJournalTables(conn);
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const t of TABLES) await conn.run(`DELETE FROM ${t} WHERE run_id = $1`, [run.runId]);
    await appendRows(conn, 'runs', [run], (a, r) => {
      a.appendVarchar(r.runId);
      a.appendVarchar(r.kind);
      a.appendVarchar(r.strategy);
      a.appendVarchar(JSON.stringify(r.config));
      a.appendBigInt(BigInt(r.bars));
      a.appendDouble(r.finalEquity);
    });
    await appendRows(conn, 'orders', orders, (a, o) => {
      a.appendVarchar(run.runId);
      a.appendInteger(o.id);
      a.appendVarchar(o.strategy);
      a.appendVarchar(o.symbol);
      a.appendVarchar(o.side);
      a.appendVarchar(o.type);
      double(a, o.qty.kind === 'shares' ? o.qty.shares : NaN);
      a.appendBoolean(o.qty.kind === 'all-in');
      double(a, o.limit);
      double(a, o.stop);
      a.appendVarchar(o.tif);
      a.appendVarchar(o.status);
      a.appendBigInt(BigInt(o.submittedAt));
      a.appendDouble(o.filledQty);
      a.appendDouble(o.avgFillPrice);
      a.appendDouble(o.commission);
      a.appendInteger(o.parentId);
      a.appendVarchar(o.ocaGroup);
      a.appendVarchar(o.tag);
      a.appendVarchar(o.reason);
    });
    await appendEvents(conn, run.runId, journal, { orderEvents: 0, fills: 0, riskEvents: 0, equity: 0 });
    const positions = portfolio.books.flatMap((b) =>
      [...b.qty].flatMap((q, sid) =>
        q === 0 ? [] : [{ strategy: b.name, symbol: portfolio.symbols[sid], qty: q, avgCost: b.avgCost[sid], last: portfolio.marks[sid] }],
      ),
    );
    await appendRows(conn, 'positions', positions, (a, p) => {
      a.appendVarchar(run.runId);
      a.appendVarchar(p.strategy);
      a.appendVarchar(p.symbol);
      a.appendDouble(p.qty);
      a.appendDouble(p.avgCost);
      a.appendDouble(p.last);
    });
    await conn.run('COMMIT');
  } catch (err) {
    // the write's error is the one to report (a rollback on a full disk can fail too)
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** How many rows of each event list are already in the database. */
interface JournalMark {
  orderEvents: number;
  fills: number;
  riskEvents: number;
  equity: number;
}

export async function ensureJournalTables(conn: DuckDBConnection): Promise<void> {
  for (const ddl of JOURNAL_DDL.split(';')
    .map((s) => s.trim())
    .filter(Boolean))
    await conn.run(ddl);
}

/** Appends the journal's events from `from` on. */
async function appendEvents(conn: DuckDBConnection, runId: string, journal: MemoryJournal, from: JournalMark): Promise<JournalMark> {
  await appendRows(
    conn,
    'order_events',
    journal.orderEvents,
    (a, e, k) => {
      a.appendVarchar(runId);
      a.appendInteger(from.orderEvents + k);
      a.appendBigInt(BigInt(e.ts));
      a.appendInteger(e.orderId);
      a.appendVarchar(e.from);
      a.appendVarchar(e.to);
      a.appendVarchar(e.reason);
    },
    from.orderEvents,
  );
  await appendRows(
    conn,
    'fills',
    journal.fills,
    (a, f, k) => {
      a.appendVarchar(runId);
      a.appendInteger(from.fills + k);
      a.appendVarchar(f.execId);
      a.appendInteger(f.orderId);
      a.appendVarchar(f.strategy);
      a.appendVarchar(f.symbol);
      a.appendBigInt(BigInt(f.ts));
      a.appendDouble(f.qty);
      a.appendDouble(f.price);
      a.appendDouble(f.commission);
    },
    from.fills,
  );
  await appendRows(
    conn,
    'risk_events',
    journal.riskEvents,
    (a, e, k) => {
      a.appendVarchar(runId);
      a.appendInteger(from.riskEvents + k);
      a.appendBigInt(BigInt(e.ts));
      a.appendInteger(e.orderId);
      a.appendVarchar(e.check);
      double(a, e.value);
      double(a, e.limit);
      a.appendVarchar(e.message);
    },
    from.riskEvents,
  );
  await appendRows(
    conn,
    'equity',
    journal.equityCurve,
    (a, p) => {
      a.appendVarchar(runId);
      a.appendBigInt(BigInt(p.ts));
      a.appendDouble(p.equity);
      a.appendDouble(p.cash);
      a.appendDouble(p.gross);
    },
    from.equity,
  );
  return { orderEvents: journal.orderEvents.length, fills: journal.fills.length, riskEvents: journal.riskEvents.length, equity: journal.equityCurve.length };
}

function double(a: DuckDBAppender, x: number): void {
  if (Number.isFinite(x)) a.appendDouble(x);
  else a.appendNull();
}

/** Rows handed to DuckDB per appender flush: the appender's own buffer stays small however long the run. */
const APPEND_BATCH = 50_000;

/** Appends `rows[from..]` to `table` through one appender, flushed every APPEND_BATCH rows. */
async function appendRows<T>(
  conn: DuckDBConnection,
  table: string,
  rows: readonly T[],
  row: (a: DuckDBAppender, r: T, i: number) => void,
  from = 0,
): Promise<void> {
  if (rows.length <= from) return;
  const a = await conn.createAppender(table);
  let done = false;
  try {
    for (let i = from; i < rows.length; i++) {
      row(a, rows[i], i - from);
      a.endRow();
      if ((i - from + 1) % APPEND_BATCH === 0) a.flushSync();
    }
    a.flushSync();
    done = true;
  } finally {
    try {
      a.closeSync();
    } catch (e) {
      // after a failed append, closing fails the same way: the first error is the one to report
      // biome-ignore lint/correctness/noUnsafeFinally: thrown only when the try block succeeded
      if (done) throw e;
    }
  }
}
