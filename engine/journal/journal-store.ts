import type { DuckDBConnection } from '@duckdb/node-api';
import type { Order } from '../core/types.ts';
import { sqlString } from '../data/store.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { appendColumns, type Columns } from './column-append.ts';
import type { MemoryJournal } from './journal.ts';

/**
 * The quote columns of a live bar (FX pairs, options), named as in the store's quote_bars: each side's OHLC and
 * its last size. NULL for a bar that has no quotes (a stock) and for what the bar did not carry: a live bar
 * has only its closing bid and ask (engine/ib/ib-feed.ts), so only bid_close and ask_close are filled live.
 */
export const QUOTE_COLUMNS = ['bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_size', 'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_size'] as const;

/**
 * Columns added after the first journals were written, each at the end of its table: a journal of an older
 * version gets them (NULL in its rows) when it is next opened for writing. Readers of a file opened read-only
 * check for them (hasColumn) before selecting them.
 * - fills.reason: why a fill no order made happened ('exercise', 'assignment', 'expiry'; NULL for a trade);
 * - live_bars' QUOTE_COLUMNS.
 */
export const ADDED_COLUMNS: readonly (readonly [table: string, column: string, type: string])[] = [
  ['fills', 'reason', 'VARCHAR'],
  ...QUOTE_COLUMNS.map((c) => ['live_bars', c, 'DOUBLE'] as const),
];

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
CREATE TABLE IF NOT EXISTS fills (run_id VARCHAR, seq INTEGER, exec_id VARCHAR, order_id INTEGER, strategy VARCHAR, symbol VARCHAR, ts BIGINT, qty DOUBLE, price DOUBLE, commission DOUBLE,
  reason VARCHAR);
CREATE TABLE IF NOT EXISTS positions (run_id VARCHAR, strategy VARCHAR, symbol VARCHAR, qty DOUBLE, avg_cost DOUBLE, last_price DOUBLE);
CREATE TABLE IF NOT EXISTS equity (run_id VARCHAR, ts BIGINT, equity DOUBLE, cash DOUBLE, gross DOUBLE);
CREATE TABLE IF NOT EXISTS live_orders (run_id VARCHAR, order_id INTEGER, spec VARCHAR);
CREATE TABLE IF NOT EXISTS live_bars (run_id VARCHAR, seq INTEGER, symbol VARCHAR, ts BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE,
  ${QUOTE_COLUMNS.map((c) => `${c} DOUBLE`).join(', ')});
CREATE TABLE IF NOT EXISTS risk_events (run_id VARCHAR, seq INTEGER, ts BIGINT, order_id INTEGER, check_name VARCHAR, value DOUBLE, limit_value DOUBLE, message VARCHAR);
CREATE TABLE IF NOT EXISTS live_logs (run_id VARCHAR, seq INTEGER, ts BIGINT, kind VARCHAR, message VARCHAR);
CREATE TABLE IF NOT EXISTS live_state (run_id VARCHAR, ts BIGINT, state VARCHAR);
CREATE TABLE IF NOT EXISTS live_runs (run_id VARCHAR, last_seq BIGINT);
CREATE TABLE IF NOT EXISTS journal_meta (key VARCHAR, value BIGINT);
${ADDED_COLUMNS.map(([table, column, type]) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type};`).join('\n')}
`;

const TABLES = ['orders', 'order_events', 'fills', 'positions', 'equity', 'risk_events', 'runs'];

/**
 * The legs of combo orders (IB's BAG: orders.symbol is the legs' underlying, orders.qty counts combos and
 * orders.limit_price / avg_fill_price are net prices per combo; each leg's fills are in fills under the combo's
 * order_id, exec_id 'combo.N.legK'). Created only by a run with a combo, so a journal without combos has exactly
 * the tables it always had.
 */
export const ORDER_LEGS_DDL = `CREATE TABLE IF NOT EXISTS order_legs (run_id VARCHAR, order_id INTEGER, leg INTEGER, symbol VARCHAR, side VARCHAR, ratio INTEGER,
  filled_qty DOUBLE, avg_fill_price DOUBLE);`;
const ORDER_LEGS: Columns = {
  run_id: 'text',
  order_id: 'int',
  leg: 'int',
  symbol: 'text',
  side: 'text',
  ratio: 'int',
  filled_qty: 'double',
  avg_fill_price: 'double',
};

/** How writeJournal writes each table's columns (see ColumnKind): the same columns, in the order of JOURNAL_DDL. */
const RUNS: Columns = { run_id: 'text', kind: 'text', strategy: 'text', config: 'text', bars: 'bigint', final_equity: 'double' };
const ORDERS: Columns = {
  run_id: 'text',
  order_id: 'int',
  strategy: 'text',
  symbol: 'text',
  side: 'text',
  type: 'text',
  qty: 'finite',
  all_in: 'bool',
  limit_price: 'finite',
  stop_price: 'finite',
  tif: 'text',
  status: 'text',
  submitted_at: 'bigint',
  filled_qty: 'double',
  avg_fill_price: 'double',
  commission: 'double',
  parent_id: 'int',
  oca_group: 'text',
  tag: 'text',
  reason: 'text',
};
const ORDER_EVENTS: Columns = { run_id: 'text', seq: 'int', ts: 'bigint', order_id: 'int', from_status: 'text', to_status: 'text', reason: 'text' };
const FILLS: Columns = {
  run_id: 'text',
  seq: 'int',
  exec_id: 'text',
  order_id: 'int',
  strategy: 'text',
  symbol: 'text',
  ts: 'bigint',
  qty: 'double',
  price: 'double',
  commission: 'double',
  reason: 'optionalText',
};
const RISK_EVENTS: Columns = {
  run_id: 'text',
  seq: 'int',
  ts: 'bigint',
  order_id: 'int',
  check_name: 'text',
  value: 'finite',
  limit_value: 'finite',
  message: 'text',
};
const EQUITY: Columns = { run_id: 'text', ts: 'bigint', equity: 'double', cash: 'double', gross: 'double' };
const POSITIONS: Columns = { run_id: 'text', strategy: 'text', symbol: 'text', qty: 'double', avg_cost: 'double', last_price: 'double' };

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
  await conn.run('BEGIN TRANSACTION');
  try {
    // in one call: the tables (a new journal's are created in this transaction) and the run's old rows removed
    const deletes = TABLES.map((t) => `DELETE FROM ${t} WHERE run_id = ${sqlString(run.runId)};`);
    await conn.run(`${JOURNAL_DDL}\n${deletes.join('\n')}`);
    const id = run.runId;
    const legs = orders.flatMap((o) => (o.legs === undefined ? [] : o.legs.map((l, k) => ({ orderId: o.id, leg: k + 1, ...l }))));
    const hasLegsTable = legs.length > 0 || (await tableExists(conn, 'order_legs'));
    if (legs.length > 0) await conn.run(ORDER_LEGS_DDL);
    if (hasLegsTable) await conn.run(`DELETE FROM order_legs WHERE run_id = ${sqlString(id)}`);
    if (legs.length > 0)
      await appendColumns(conn, 'order_legs', ORDER_LEGS, legs, (w, l) => {
        w.text(id);
        w.int(l.orderId);
        w.int(l.leg);
        w.text(l.symbol);
        w.text(l.side);
        w.int(l.ratio);
        w.double(l.filledQty);
        w.double(l.avgFillPrice);
      });
    await appendColumns(conn, 'runs', RUNS, [run], (w, r) => {
      w.text(r.runId);
      w.text(r.kind);
      w.text(r.strategy);
      w.text(JSON.stringify(r.config));
      w.bigint(r.bars);
      w.double(r.finalEquity);
    });
    await appendColumns(conn, 'orders', ORDERS, orders, (w, o) => {
      w.text(id);
      w.int(o.id);
      w.text(o.strategy);
      w.text(o.symbol);
      w.text(o.side);
      w.text(o.type);
      w.finite(o.qty.kind === 'shares' ? o.qty.shares : NaN);
      w.bool(o.qty.kind === 'all-in');
      w.finite(o.limit);
      w.finite(o.stop);
      w.text(o.tif);
      w.text(o.status);
      w.bigint(o.submittedAt);
      w.double(o.filledQty);
      w.double(o.avgFillPrice);
      w.double(o.commission);
      w.int(o.parentId);
      w.text(o.ocaGroup);
      w.text(o.tag);
      w.text(o.reason);
    });
    // seq is the record's index in its list (live sessions number their write-ahead records the same way)
    await appendColumns(conn, 'order_events', ORDER_EVENTS, journal.orderEvents, (w, e, k) => {
      w.text(id);
      w.int(k);
      w.bigint(e.ts);
      w.int(e.orderId);
      w.text(e.from);
      w.text(e.to);
      w.text(e.reason);
    });
    await appendColumns(conn, 'fills', FILLS, journal.fills, (w, f, k) => {
      w.text(id);
      w.int(k);
      w.text(f.execId);
      w.int(f.orderId);
      w.text(f.strategy);
      w.text(f.symbol);
      w.bigint(f.ts);
      w.double(f.qty);
      w.double(f.price);
      w.double(f.commission);
      w.optionalText(f.reason);
    });
    await appendColumns(conn, 'risk_events', RISK_EVENTS, journal.riskEvents, (w, e, k) => {
      w.text(id);
      w.int(k);
      w.bigint(e.ts);
      w.int(e.orderId);
      w.text(e.check);
      w.finite(e.value);
      w.finite(e.limit);
      w.text(e.message);
    });
    await appendColumns(conn, 'equity', EQUITY, journal.equityCurve, (w, p) => {
      w.text(id);
      w.bigint(p.ts);
      w.double(p.equity);
      w.double(p.cash);
      w.double(p.gross);
    });
    const positions = portfolio.books.flatMap((b) =>
      [...b.qty].flatMap((q, sid) =>
        q === 0 ? [] : [{ strategy: b.name, symbol: portfolio.symbols[sid], qty: q, avgCost: b.avgCost[sid], last: portfolio.marks[sid] }],
      ),
    );
    await appendColumns(conn, 'positions', POSITIONS, positions, (w, p) => {
      w.text(id);
      w.text(p.strategy);
      w.text(p.symbol);
      w.double(p.qty);
      w.double(p.avgCost);
      w.double(p.last);
    });
    await conn.run('COMMIT');
  } catch (err) {
    // the write's error is the one to report (a rollback on a full disk can fail too)
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function tableExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll(
    `SELECT count(*) FROM information_schema.tables WHERE table_name = ${sqlString(name)} AND table_schema = current_schema()`,
  );
  return Number(r.getRows()[0]![0]) > 0;
}

/** Whether `table` has `column` (a journal of an older version, opened read-only, may lack an added one). */
export async function hasColumn(conn: DuckDBConnection, table: string, column: string): Promise<boolean> {
  const r = await conn.runAndReadAll(
    `SELECT count(*) FROM information_schema.columns WHERE table_name = ${sqlString(table)} AND column_name = ${sqlString(column)} AND table_schema = current_schema()`,
  );
  return Number(r.getRows()[0]![0]) > 0;
}

export async function ensureJournalTables(conn: DuckDBConnection): Promise<void> {
  for (const ddl of JOURNAL_DDL.split(';')
    .map((s) => s.trim())
    .filter(Boolean))
    await conn.run(ddl);
}
