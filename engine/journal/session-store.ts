import type { DuckDBConnection } from '@duckdb/node-api';
import type { Bar, EquityPoint, Fill, Order, OrderEvent, OrderStatus, RiskEvent } from '../core/types.ts';
import { comboFromFills } from '../exec/combo-book.ts';
import type { LogKind } from './journal.ts';
import { decodeJson, type JournalEntry } from './journal-wal.ts';
import { hasColumn } from './journal-store.ts';
import { tableNames } from './live-tables.ts';

export interface SessionLog {
  seq: number;
  ts: number;
  kind: LogKind;
  message: string;
}

/** What an earlier session of a live run left in its journal. */
export interface SessionState {
  orders: Order[];
  fills: Fill[];
  orderEvents: OrderEvent[];
  riskEvents: RiskEvent[];
  equity: (EquityPoint & { gross: number })[];
  bars: Bar[];
  logs: SessionLog[];
  /** the runner's latest safety state snapshot (undefined: none journaled) */
  state: unknown | undefined;
}

/** A run's journal rows as stored, each list with its records' seq (orders: the latest spec of each, by id). */
export interface JournalRows {
  orders: Order[];
  orderEvents: (OrderEvent & { seq: number })[];
  fills: (Fill & { seq: number })[];
  riskEvents: (RiskEvent & { seq: number })[];
  equity: (EquityPoint & { gross: number })[];
  bars: (Bar & { seq: number })[];
  logs: SessionLog[];
  state: unknown | undefined;
}

export type JournalPart = keyof JournalRows;
const ALL_PARTS: readonly JournalPart[] = ['orders', 'orderEvents', 'fills', 'riskEvents', 'equity', 'bars', 'logs', 'state'];

/** Order fields a journal written by an older version stored as null when they were NaN. */
const NUMERIC_NULLS = ['limit', 'stop', 'trailingPercent', 'trailingAmount', 'goodTill', 'firstBarDay'] as const;

// NULL is how a non-finite number was stored by writeJournal (and a missing one): NaN
const num = (x: unknown) => (x === null || x === undefined ? NaN : Number(x));

/**
 * Reads the journal rows of `runId`, with `pending` (entries written but not yet in the database, e.g.
 * the write-ahead file's) merged in as the latest. `parts` limits what is read.
 */
export async function readJournalRows(
  conn: DuckDBConnection,
  runId: string,
  symbols: readonly string[],
  pending: readonly JournalEntry[] = [],
  parts: readonly JournalPart[] = ALL_PARTS,
): Promise<JournalRows> {
  const want = new Set(parts);
  const tables = await tableNames(conn);
  const rows = async (table: string, sql: string) =>
    tables.has(table) ? ((await conn.runAndReadAll(sql, [runId])).getRowObjectsJS() as Record<string, unknown>[]) : [];
  const sid = (s: string) => symbols.indexOf(s);
  const mine = pending.filter((e) => e.runId === runId);
  const out: JournalRows = { orders: [], orderEvents: [], fills: [], riskEvents: [], equity: [], bars: [], logs: [], state: undefined };

  if (want.has('orderEvents')) {
    out.orderEvents = (
      await rows('order_events', `SELECT seq, ts, order_id, from_status, to_status, reason FROM order_events WHERE run_id = $1 ORDER BY seq`)
    ).map((r) => ({
      seq: num(r.seq),
      ts: num(r.ts),
      orderId: num(r.order_id),
      from: String(r.from_status ?? '') as OrderStatus | '',
      to: String(r.to_status) as OrderStatus,
      reason: String(r.reason ?? ''),
    }));
    for (const e of mine) if (e.t === 'orderEvent') out.orderEvents.push({ seq: e.seq, ...e.e });
    bySeq(out.orderEvents);
  }
  if (want.has('fills')) {
    // a journal of an older version opened read-only has no reason column: its fills are all trades
    const reason = tables.has('fills') && (await hasColumn(conn, 'fills', 'reason')) ? 'reason' : 'NULL AS reason';
    out.fills = (
      await rows('fills', `SELECT seq, exec_id, order_id, strategy, symbol, ts, qty, price, commission, ${reason} FROM fills WHERE run_id = $1 ORDER BY seq`)
    ).map((r) => ({
      seq: num(r.seq),
      orderId: num(r.order_id),
      strategy: String(r.strategy),
      symbol: String(r.symbol),
      sid: sid(String(r.symbol)),
      ts: num(r.ts),
      qty: num(r.qty),
      price: num(r.price),
      commission: num(r.commission),
      execId: String(r.exec_id),
      ...fillReason(r.reason, runId, r.seq),
    }));
    for (const e of mine) if (e.t === 'fill') out.fills.push({ seq: e.seq, ...e.f, sid: sid(e.f.symbol) });
    bySeq(out.fills);
  }
  if (want.has('orders')) {
    const byId = new Map<number, Order>();
    for (const r of await rows('live_orders', `SELECT order_id, spec FROM live_orders WHERE run_id = $1 ORDER BY order_id, rowid`)) {
      const o = decodeJson<Order>(String(r.spec));
      for (const k of NUMERIC_NULLS) if (o[k] === null) (o as unknown as Record<string, number>)[k] = NaN;
      byId.set(o.id, o);
    }
    for (const e of mine) if (e.t === 'order') byId.set(e.order.id, { ...e.order });
    out.orders = [...byId.values()].sort((a, b) => a.id - b.id);
  }
  if (want.has('riskEvents')) {
    out.riskEvents = (
      await rows('risk_events', `SELECT seq, ts, order_id, check_name, value, limit_value, message FROM risk_events WHERE run_id = $1 ORDER BY seq`)
    ).map((r) => ({
      seq: num(r.seq),
      ts: num(r.ts),
      orderId: num(r.order_id),
      check: String(r.check_name),
      value: num(r.value),
      limit: num(r.limit_value),
      message: String(r.message ?? ''),
    }));
    for (const e of mine) if (e.t === 'risk') out.riskEvents.push({ seq: e.seq, ...e.e });
    bySeq(out.riskEvents);
  }
  if (want.has('equity')) {
    out.equity = (await rows('equity', `SELECT ts, equity, cash, gross FROM equity WHERE run_id = $1 ORDER BY ts`)).map((r) => ({
      ts: num(r.ts),
      equity: num(r.equity),
      cash: num(r.cash),
      gross: num(r.gross),
    }));
    for (const e of mine) if (e.t === 'equity') out.equity.push({ ts: e.p.ts, equity: e.p.equity, cash: e.p.cash, gross: e.p.gross });
    out.equity.sort((a, b) => a.ts - b.ts);
  }
  if (want.has('bars')) {
    const quotes =
      tables.has('live_bars') && (await hasColumn(conn, 'live_bars', 'bid_close')) ? 'bid_close, ask_close' : 'NULL AS bid_close, NULL AS ask_close';
    out.bars = (await rows('live_bars', `SELECT seq, symbol, ts, open, high, low, close, volume, ${quotes} FROM live_bars WHERE run_id = $1 ORDER BY seq`)).map(
      (r) => ({
        seq: num(r.seq),
        symbol: String(r.symbol),
        sid: sid(String(r.symbol)),
        ts: num(r.ts),
        open: num(r.open),
        high: num(r.high),
        low: num(r.low),
        close: num(r.close),
        volume: num(r.volume),
        // a quoted symbol's bar (FX, options) has both sides, NaN for a side without a quote that bar
        ...(r.bid_close === null && r.ask_close === null ? {} : { bid: num(r.bid_close), ask: num(r.ask_close) }),
      }),
    );
    for (const e of mine) if (e.t === 'bar') out.bars.push({ seq: e.seq, ...e.b, sid: sid(e.b.symbol) });
    bySeq(out.bars);
  }
  if (want.has('logs')) {
    out.logs = (await rows('live_logs', `SELECT seq, ts, kind, message FROM live_logs WHERE run_id = $1 ORDER BY seq`)).map((r) => ({
      seq: num(r.seq),
      ts: num(r.ts),
      kind: String(r.kind) as LogKind,
      message: String(r.message ?? ''),
    }));
    for (const e of mine) if (e.t === 'log') out.logs.push({ seq: e.seq, ts: e.ts, kind: e.kind, message: e.message });
    bySeq(out.logs);
  }
  if (want.has('state')) {
    const [r] = await rows('live_state', `SELECT state FROM live_state WHERE run_id = $1 ORDER BY rowid DESC LIMIT 1`);
    if (r && r.state !== null) out.state = decodeJson(String(r.state));
    for (const e of mine) if (e.t === 'state') out.state = e.state;
  }
  return out;
}

const FILL_REASONS: readonly string[] = ['exercise', 'assignment', 'expiry'] satisfies NonNullable<Fill['reason']>[];

/** A fill row's reason as Fill has it: none for a trade (NULL), else one of FILL_REASONS. */
function fillReason(x: unknown, runId: string, seq: unknown): Pick<Fill, 'reason'> {
  if (x === null || x === undefined) return {};
  if (!FILL_REASONS.includes(String(x)))
    throw new Error(
      `the journal's fill ${String(seq)} of run ${runId} has reason '${String(x)}': a fill's reason is NULL (a trade) or one of ${FILL_REASONS.join(', ')}; was it written by a newer version?`,
    );
  return { reason: String(x) as Fill['reason'] };
}

/** Stable sort by seq (the database's rows come first among equals). */
function bySeq<T extends { seq: number }>(xs: T[]): void {
  xs.sort((a, b) => a.seq - b.seq);
}

function withoutSeq<T extends { seq: number }>(xs: readonly T[]): Omit<T, 'seq'>[] {
  return xs.map(({ seq: _seq, ...x }) => x);
}

/**
 * Reads the journal of `runId` back (empty lists for a new run): each order with its latest spec, its
 * status from its last event and its fills, the logs, and the latest safety state. `pending` (entries
 * not yet in the database) is merged in.
 */
export async function loadSession(
  conn: DuckDBConnection,
  runId: string,
  symbols: readonly string[],
  pending: readonly JournalEntry[] = [],
): Promise<SessionState> {
  const j = await readJournalRows(conn, runId, symbols, pending);
  const orderEvents = withoutSeq(j.orderEvents);
  const fills = withoutSeq(j.fills);
  const orders = settleOrders(j.orders, orderEvents, fills);
  return { orders, fills, orderEvents, riskEvents: withoutSeq(j.riskEvents), equity: j.equity, bars: withoutSeq(j.bars), logs: j.logs, state: j.state };
}

/**
 * Each order's status from its last event, and its filled quantity, average price and commission from its fills.
 * A combo (an order with legs) books each fill onto the leg in its symbol (engine/exec/combo-book.ts, as the
 * brokers book it): its filled count is its complete combos, its average price the net per combo, each leg's
 * filled units and average price its own fills'.
 */
export function settleOrders(orders: readonly Order[], orderEvents: readonly OrderEvent[], fills: readonly Fill[]): Order[] {
  const status = new Map<number, OrderStatus>();
  for (const e of orderEvents) status.set(e.orderId, e.to);
  const byOrder = new Map<number, Fill[]>();
  for (const f of fills) {
    const list = byOrder.get(f.orderId);
    if (list) list.push(f);
    else byOrder.set(f.orderId, [f]);
  }
  return orders.map((spec) => {
    const mine = byOrder.get(spec.id) ?? [];
    const o = spec.legs !== undefined ? comboFromFills(spec, mine) : { ...spec };
    o.status = status.get(o.id) ?? o.status;
    o.commission = mine.reduce((s, f) => s + f.commission, 0);
    if (o.legs !== undefined) return o;
    o.filledQty = mine.reduce((s, f) => s + Math.abs(f.qty), 0);
    o.avgFillPrice = o.filledQty ? mine.reduce((s, f) => s + Math.abs(f.qty) * f.price, 0) / o.filledQty : 0;
    return o;
  });
}
