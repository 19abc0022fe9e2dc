// npm run journal -- <file> [--run ID] orders|fills|events|logs|risk [--json] [--limit N]
// Reads a journal while its live runner writes it: DuckDB opened read-only (the runner's filler holds the
// file only while it flushes), plus the entries still only in the write-ahead file beside it.
import { existsSync, statSync } from 'node:fs';
import type { Order } from '../engine/core/types.ts';
import { openJournalDb, retryLocked, type DbSession } from '../engine/journal/filler.ts';
import { readWal, walPathOf, type JournalEntry } from '../engine/journal/journal-wal.ts';
import { appliedSeq, tableNames } from '../engine/journal/live-tables.ts';
import { readJournalRows, settleOrders, type JournalPart } from '../engine/journal/session-store.ts';
import { defineFlags, flagHelp, parseFlags } from './lib/flags.ts';

const FLAGS = defineFlags({
  run: { kind: 'string', arg: 'ID', help: 'the run to show (default: the latest run in the file)' },
  json: { kind: 'boolean', help: 'one JSON object per line instead of a table (times as ISO strings, ts in epoch ms)' },
  limit: { kind: 'integer', min: 0, max: 1e9, help: 'only the last N rows' },
});

const USAGE = `usage: npm run journal -- <file> [--run ID] <table> [--json] [--limit N]
  <file>     a journal database, e.g. out/live/journal.duckdb (a live runner may be writing it)
  <table>    orders   the run's orders: latest spec, status, filled quantity, average price
             fills    executions (fills table); reason: exercise, assignment or expiry for an option's settlement
             events   order state changes (order_events)
             logs     the session's log: strategy, order, reconcile, connection, control, broker, info
             risk     risk checks that stopped an order or tripped the breaker (risk_events)
${flagHelp(FLAGS, { width: 11 })}`;

const TABLES = ['orders', 'fills', 'events', 'logs', 'risk'] as const;
type Table = (typeof TABLES)[number];
type Cell = string | number | boolean;
type Row = Record<string, Cell>;

class UsageError extends Error {}

const iso = (ts: number) => (Number.isFinite(ts) ? new Date(ts).toISOString() : '');

/** A number as a person reads it: integers whole, others to 6 significant decimals, non-finite spelled. */
function readable(x: number): string {
  if (Number.isNaN(x)) return '';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x)) return Math.abs(x) >= 1e4 ? x.toLocaleString('en-US') : String(x);
  const a = Math.abs(x);
  const digits = a >= 1000 ? 2 : a >= 1 ? 4 : 6;
  return x.toFixed(digits).replace(/\.?0+$/, '');
}

/** A cell on one line: control characters (a newline in a log message) written as escapes. */
const oneLine = (s: string) =>
  s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const qtyOf = (o: Order) => (o.qty.kind === 'shares' ? o.qty.shares : 'all-in');

function rowsOf(table: Table, j: Awaited<ReturnType<typeof readJournalRows>>, backtestOrders: Row[] | undefined): Row[] {
  switch (table) {
    case 'orders':
      if (backtestOrders) return backtestOrders;
      return settleOrders(j.orders, j.orderEvents, j.fills).map((o) => ({
        id: o.id,
        time: iso(o.submittedAt),
        ts: o.submittedAt,
        strategy: o.strategy,
        symbol: o.symbol,
        side: o.side,
        type: o.type,
        qty: qtyOf(o),
        limit: o.limit,
        stop: o.stop,
        tif: o.tif,
        status: o.status,
        filled: o.filledQty,
        avg_price: o.avgFillPrice,
        commission: o.commission,
        parent: o.parentId,
        tag: o.tag,
        reason: o.reason,
      }));
    case 'fills':
      return j.fills.map((f) => ({
        seq: f.seq,
        time: iso(f.ts),
        ts: f.ts,
        order: f.orderId,
        exec_id: f.execId,
        strategy: f.strategy,
        symbol: f.symbol,
        qty: f.qty,
        price: f.price,
        commission: f.commission,
        // why a fill no order made happened: exercise, assignment or expiry of an option ('' for a trade)
        reason: f.reason ?? '',
      }));
    case 'events':
      return j.orderEvents.map((e) => ({ seq: e.seq, time: iso(e.ts), ts: e.ts, order: e.orderId, from: e.from, to: e.to, reason: e.reason }));
    case 'logs':
      return j.logs.map((l) => ({ seq: l.seq, time: iso(l.ts), ts: l.ts, kind: l.kind, message: l.message }));
    case 'risk':
      return j.riskEvents.map((e) => ({
        seq: e.seq,
        time: iso(e.ts),
        ts: e.ts,
        order: e.orderId,
        check: e.check,
        value: e.value,
        limit: e.limit,
        message: e.message,
      }));
  }
}

const PARTS: Record<Table, JournalPart[]> = {
  orders: ['orders', 'orderEvents', 'fills'],
  fills: ['fills'],
  events: ['orderEvents'],
  logs: ['logs'],
  risk: ['riskEvents'],
};

/** The rows of a backtest's (or a finished run's) orders table, for a run without live orders. */
async function ordersTable(s: DbSession, runId: string): Promise<Row[]> {
  const r = await s.conn.runAndReadAll(
    `SELECT order_id, submitted_at, strategy, symbol, side, type, qty, all_in, limit_price, stop_price, tif, status, filled_qty, avg_fill_price, commission, parent_id, tag, reason FROM orders WHERE run_id = $1 ORDER BY order_id`,
    [runId],
  );
  const n = (x: unknown) => (x === null || x === undefined ? NaN : Number(x));
  return (r.getRowObjectsJS() as Record<string, unknown>[]).map((o) => ({
    id: n(o.order_id),
    time: iso(n(o.submitted_at)),
    ts: n(o.submitted_at),
    strategy: String(o.strategy),
    symbol: String(o.symbol),
    side: String(o.side),
    type: String(o.type),
    qty: o.all_in ? 'all-in' : n(o.qty),
    limit: n(o.limit_price),
    stop: n(o.stop_price),
    tif: String(o.tif),
    status: String(o.status),
    filled: n(o.filled_qty),
    avg_price: n(o.avg_fill_price),
    commission: n(o.commission),
    parent: n(o.parent_id),
    tag: String(o.tag ?? ''),
    reason: String(o.reason ?? ''),
  }));
}

const RUN_TABLES = ['runs', 'live_runs', 'live_orders', 'live_bars', 'live_logs', 'order_events', 'fills', 'risk_events', 'equity', 'orders'];

interface Found {
  runId: string;
  rows: Row[];
  pending: number;
  runs: string[];
}

/** Reads what to print, holding the database (read-only) while the write-ahead file is read, so the two agree. */
async function read(file: string, table: Table, run: string | undefined): Promise<Found> {
  let s: DbSession;
  try {
    s = await retryLocked(() => openJournalDb(file, { readOnly: true }), 5_000, { everyMs: 10 });
  } catch (e) {
    const m = (e as Error).message.split('\n')[0];
    if (/could not set lock|conflicting lock/i.test(m))
      throw new Error(
        `${file} has been held by another process for 5 s (a live runner holds it only while it flushes): is an older runner or a notebook keeping it open? (${m})`,
      );
    throw new Error(`cannot open ${file} as a DuckDB journal: ${m}`);
  }
  try {
    const tables = await tableNames(s.conn);
    if (!['runs', 'orders', 'order_events', 'live_orders'].some((t) => tables.has(t)))
      throw new Error(`${file} is not a journal (it has none of the journal tables): give the journal.duckdb of a run's --out folder`);
    const applied = await appliedSeq(s.conn, tables);
    const wal = readWal(walPathOf(file), applied, { strict: false, warn: (m) => console.error(`warning: ${m}`) });
    const pending: JournalEntry[] = wal.records.map((r) => r.e);
    // the runs in the file, latest first: live runs by their last record, then the runs table's in the order written
    const order = new Map<string, number>();
    const bump = (id: string, at: number) => order.set(id, Math.max(order.get(id) ?? -Infinity, at));
    if (tables.has('runs')) for (const [id, k] of (await s.conn.runAndReadAll(`SELECT run_id, rowid FROM runs`)).getRows()) bump(String(id), -1e15 + Number(k));
    for (const t of RUN_TABLES.slice(2))
      if (tables.has(t)) for (const [id] of (await s.conn.runAndReadAll(`SELECT DISTINCT run_id FROM ${t}`)).getRows()) bump(String(id), -2e15);
    if (tables.has('live_runs'))
      for (const [id, last] of (await s.conn.runAndReadAll(`SELECT run_id, max(last_seq) FROM live_runs GROUP BY run_id`)).getRows())
        bump(String(id), Number(last));
    for (const r of wal.records) bump(r.e.runId, r.g);
    // `<run>/sim` holds only the embedded simulator's state (scripts/lib/embedded-sim.ts): not a session to show
    const runs = [...order]
      .sort((a, b) => b[1] - a[1])
      .map(([id]) => id)
      .filter((id) => !id.endsWith('/sim'));
    if (runs.length === 0) throw new Error(`${file} has no runs yet`);
    const runId = run ?? runs[0];
    if (!order.has(runId))
      throw new Error(
        `${file} has no run '${runId}'; its runs (latest first): ${runs.slice(0, 10).join(', ')}${runs.length > 10 ? `, … (${runs.length})` : ''}`,
      );
    const j = await readJournalRows(s.conn, runId, [], pending, PARTS[table]);
    const backtest = table === 'orders' && j.orders.length === 0 && tables.has('orders') ? await ordersTable(s, runId) : undefined;
    return { runId, rows: rowsOf(table, j, backtest), pending: pending.filter((e) => e.runId === runId).length, runs };
  } finally {
    await s.close();
  }
}

function print(rows: Row[], json: boolean): void {
  if (json) {
    const nonFinite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
    for (const r of rows) process.stdout.write(`${JSON.stringify(r, nonFinite)}\n`);
    return;
  }
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]).filter((c) => c !== 'ts');
  const text = rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? readable(r[c] as number) : oneLine(String(r[c])))));
  const numeric = cols.map((c) => rows.some((r) => typeof r[c] === 'number'));
  const last = cols.length - 1;
  const w = cols.map((c, i) => Math.max(c.length, ...text.map((t) => t[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => (i === last && !numeric[i] ? s : numeric[i] ? s.padStart(w[i]) : s.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  const out = [line(cols), line(w.map((n) => '-'.repeat(n))), ...text.map(line)];
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseFlags<typeof FLAGS>>;
  try {
    parsed = parseFlags(FLAGS, { positionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return void console.log(USAGE);
  if (positionals.length !== 2)
    throw new UsageError(positionals.length < 2 ? 'give a journal file and a table' : `too many arguments: ${positionals.join(' ')}`);
  // the file and the table in either order
  const isTable = (s: string) => (TABLES as readonly string[]).includes(s);
  const [file, table] = isTable(positionals[1]) || !isTable(positionals[0]) ? [positionals[0], positionals[1]] : [positionals[1], positionals[0]];
  if (!isTable(table)) throw new Error(`unknown table '${table}': use one of ${TABLES.join(', ')} (events = order_events)`);
  const limit = v.limit ?? Infinity;
  if (!existsSync(file)) throw new Error(`no such journal file: ${file} (a run writes <out>/journal.duckdb; check the path and the --out it ran with)`);
  if (!statSync(file).isFile()) throw new Error(`${file} is not a file: give the journal database itself, e.g. ${file.replace(/\/$/, '')}/journal.duckdb`);
  const found = await read(file, table as Table, v.run);
  const rows = limit < found.rows.length ? found.rows.slice(found.rows.length - limit) : found.rows;
  if (!v.json) {
    const more = rows.length < found.rows.length ? ` (the last ${rows.length} of ${found.rows.length})` : '';
    const pend = found.pending > 0 ? `; ${found.pending} entries not yet flushed to the database, read from ${walPathOf(file)}` : '';
    console.error(
      `run ${found.runId}: ${found.rows.length} ${table}${more}${pend}${found.runs.length > 1 && !v.run ? ` — the latest of ${found.runs.length} runs (--run ID for another)` : ''}`,
    );
  }
  print(rows, v.json);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  if (e instanceof UsageError) console.error(USAGE);
  process.exit(1);
});
