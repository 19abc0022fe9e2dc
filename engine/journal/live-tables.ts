import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { Bar, Fill, Order, OrderEvent, RiskEvent } from '../core/types.ts';
import type { EquitySample, LogKind } from './journal.ts';
import { QUOTE_COLUMNS } from './journal-store.ts';
import { encodeJson, type WalRecord } from './journal-wal.ts';

/** The tables of a DuckDB file, lower case. */
export async function tableNames(conn: DuckDBConnection): Promise<Set<string>> {
  const r = await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'`);
  return new Set(r.getRows().map((x) => String(x[0]).toLowerCase()));
}

/** The last write-ahead record the database has (0: none; also for a file without journal_meta). */
export async function appliedSeq(conn: DuckDBConnection, tables?: Set<string>): Promise<number> {
  if (tables && !tables.has('journal_meta')) return 0;
  const r = await conn.runAndReadAll(`SELECT max(value) FROM journal_meta WHERE key = 'applied_seq'`);
  const v = r.getRows()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}

const int = (a: DuckDBAppender, x: number) => (Number.isFinite(x) ? a.appendInteger(Math.trunc(x)) : a.appendNull());
const big = (a: DuckDBAppender, x: number) => (Number.isFinite(x) ? a.appendBigInt(BigInt(Math.round(x))) : a.appendNull());
// DOUBLE keeps NaN and ±Infinity as they are; a missing value is NULL
const dbl = (a: DuckDBAppender, x: number) => (typeof x === 'number' ? a.appendDouble(x) : a.appendNull());
const optDbl = (a: DuckDBAppender, x: number | undefined) => (x === undefined ? a.appendNull() : a.appendDouble(x));
const str = (a: DuckDBAppender, s: string | undefined | null) => (s === undefined || s === null ? a.appendNull() : a.appendVarchar(String(s)));

type Row<T> = { runId: string; seq: number; x: T };

const quote = (s: string) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * Writes write-ahead records into the journal tables in one transaction, with journal_meta's
 * applied_seq moved to the last record's: all of it or, on any error, none of it. Orders and the
 * safety state keep only their latest version. The caller skips records the database already has
 * (g <= appliedSeq), so each is written exactly once.
 */
export async function applyRecords(conn: DuckDBConnection, records: readonly WalRecord[]): Promise<void> {
  if (records.length === 0) return;
  const orders = new Map<string, Map<number, Order>>();
  const states = new Map<string, { ts: number; state: unknown }>();
  const lastSeq = new Map<string, number>();
  const events: Row<OrderEvent>[] = [];
  const fills: Row<Fill>[] = [];
  const risks: Row<RiskEvent>[] = [];
  const equity: Row<EquitySample>[] = [];
  const bars: Row<Bar>[] = [];
  const logs: Row<{ ts: number; kind: LogKind; message: string }>[] = [];
  let g = 0;
  for (const r of records) {
    const e = r.e;
    g = Math.max(g, r.g);
    lastSeq.set(e.runId, Math.max(lastSeq.get(e.runId) ?? 0, r.g));
    switch (e.t) {
      case 'order': {
        let m = orders.get(e.runId);
        if (!m) orders.set(e.runId, (m = new Map()));
        m.set(e.order.id, e.order);
        break;
      }
      case 'orderEvent':
        events.push({ runId: e.runId, seq: e.seq, x: e.e });
        break;
      case 'fill':
        fills.push({ runId: e.runId, seq: e.seq, x: e.f });
        break;
      case 'risk':
        risks.push({ runId: e.runId, seq: e.seq, x: e.e });
        break;
      case 'equity':
        equity.push({ runId: e.runId, seq: 0, x: e.p });
        break;
      case 'bar':
        bars.push({ runId: e.runId, seq: e.seq, x: e.b });
        break;
      case 'log':
        logs.push({ runId: e.runId, seq: e.seq, x: { ts: e.ts, kind: e.kind, message: e.message } });
        break;
      case 'state':
        states.set(e.runId, { ts: e.ts, state: e.state });
        break;
      default:
        throw new Error(`unknown journal record type '${(e as { t: unknown }).t}' (record ${r.g}): written by a newer version?`);
    }
  }
  await conn.run('BEGIN TRANSACTION');
  try {
    // one statement list (one round trip): older versions of what this batch replaces, the sequence marks
    const sql: string[] = [];
    for (const [runId, m] of orders)
      sql.push(`DELETE FROM live_orders WHERE run_id = ${quote(runId)} AND order_id IN (${[...m.keys()].map((id) => Math.trunc(Number(id)) || 0).join(',')})`);
    if (states.size > 0) sql.push(`DELETE FROM live_state WHERE run_id IN (${[...states.keys()].map(quote).join(',')})`);
    sql.push(`DELETE FROM live_runs WHERE run_id IN (${[...lastSeq.keys()].map(quote).join(',')})`);
    sql.push(`INSERT INTO live_runs VALUES ${[...lastSeq].map(([runId, last]) => `(${quote(runId)}, ${last})`).join(', ')}`);
    sql.push(`DELETE FROM journal_meta WHERE key = 'applied_seq'`);
    sql.push(`INSERT INTO journal_meta VALUES ('applied_seq', ${g})`);
    await conn.run(sql.join(';\n'));
    await append(
      conn,
      'live_orders',
      [...orders].flatMap(([runId, m]) => [...m.values()].map((o) => ({ runId, o }))),
      (a, { runId, o }) => {
        str(a, runId);
        int(a, o.id);
        str(a, encodeJson(o));
      },
    );
    await append(conn, 'order_events', events, (a, { runId, seq, x }) => {
      str(a, runId);
      int(a, seq);
      big(a, x.ts);
      int(a, x.orderId);
      str(a, x.from);
      str(a, x.to);
      str(a, x.reason);
    });
    await append(conn, 'fills', fills, (a, { runId, seq, x }) => {
      str(a, runId);
      int(a, seq);
      str(a, x.execId);
      int(a, x.orderId);
      str(a, x.strategy);
      str(a, x.symbol);
      big(a, x.ts);
      dbl(a, x.qty);
      dbl(a, x.price);
      dbl(a, x.commission);
      str(a, x.reason);
    });
    await append(conn, 'risk_events', risks, (a, { runId, seq, x }) => {
      str(a, runId);
      int(a, seq);
      big(a, x.ts);
      int(a, x.orderId);
      str(a, x.check);
      dbl(a, x.value);
      dbl(a, x.limit);
      str(a, x.message);
    });
    await append(conn, 'equity', equity, (a, { runId, x }) => {
      str(a, runId);
      big(a, x.ts);
      dbl(a, x.equity);
      dbl(a, x.cash);
      dbl(a, x.gross);
    });
    await append(conn, 'live_bars', bars, (a, { runId, seq, x }) => {
      str(a, runId);
      int(a, seq);
      str(a, x.symbol);
      big(a, x.ts);
      dbl(a, x.open);
      dbl(a, x.high);
      dbl(a, x.low);
      dbl(a, x.close);
      dbl(a, x.volume);
      // QUOTE_COLUMNS: a live bar carries only its closing bid and ask (NULL: not a quoted symbol)
      for (const c of QUOTE_COLUMNS) optDbl(a, c === 'bid_close' ? x.bid : c === 'ask_close' ? x.ask : undefined);
    });
    await append(conn, 'live_logs', logs, (a, { runId, seq, x }) => {
      str(a, runId);
      int(a, seq);
      big(a, x.ts);
      str(a, x.kind);
      str(a, x.message);
    });
    await append(conn, 'live_state', [...states], (a, [runId, s]) => {
      str(a, runId);
      big(a, s.ts);
      str(a, encodeJson(s.state));
    });
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function append<T>(conn: DuckDBConnection, table: string, rows: readonly T[], row: (a: DuckDBAppender, r: T) => void): Promise<void> {
  if (rows.length === 0) return;
  const a = await conn.createAppender(table);
  let done = false;
  try {
    for (const r of rows) {
      row(a, r);
      a.endRow();
    }
    done = true;
  } finally {
    try {
      a.closeSync(); // writes the rows
    } catch (e) {
      // biome-ignore lint/correctness/noUnsafeFinally: thrown only when the try block succeeded
      if (done) throw e;
    }
  }
}
