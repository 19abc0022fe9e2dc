import type { DuckDBConnection } from '@duckdb/node-api';
import type { Bar, EquityPoint, Fill, Order, OrderEvent, OrderStatus, RiskEvent } from '../core/types.ts';

/** What an earlier session of a live run left in its journal. */
export interface SessionState {
  orders: Order[];
  fills: Fill[];
  orderEvents: OrderEvent[];
  riskEvents: RiskEvent[];
  equity: (EquityPoint & { gross: number })[];
  bars: Bar[];
}

const NUMERIC_NULLS = ['limit', 'stop', 'goodTill', 'firstBarDay'] as const;

/** Reads the journal of `runId` back (empty lists for a new run). */
export async function loadSession(conn: DuckDBConnection, runId: string, symbols: readonly string[]): Promise<SessionState> {
  const rows = async (sql: string) => (await conn.runAndReadAll(sql, [runId])).getRowObjectsJS() as Record<string, unknown>[];
  const num = (x: unknown) => Number(x);
  const orderEvents = (await rows(`SELECT ts, order_id, from_status, to_status, reason FROM order_events WHERE run_id = $1 ORDER BY seq`)).map((r) => ({
    ts: num(r.ts), orderId: num(r.order_id), from: String(r.from_status) as OrderStatus | '', to: String(r.to_status) as OrderStatus, reason: String(r.reason),
  }));
  const fills = (await rows(`SELECT exec_id, order_id, strategy, symbol, ts, qty, price, commission FROM fills WHERE run_id = $1 ORDER BY seq`)).map((r) => ({
    orderId: num(r.order_id), strategy: String(r.strategy), symbol: String(r.symbol), sid: symbols.indexOf(String(r.symbol)), ts: num(r.ts), qty: num(r.qty), price: num(r.price), commission: num(r.commission), execId: String(r.exec_id),
  }));
  const status = new Map<number, OrderStatus>();
  for (const e of orderEvents) status.set(e.orderId, e.to);
  const orders = (await rows(`SELECT spec FROM live_orders WHERE run_id = $1 ORDER BY order_id`)).map((r) => {
    const o = JSON.parse(String(r.spec)) as Order;
    for (const k of NUMERIC_NULLS) if (o[k] === null) (o as unknown as Record<string, number>)[k] = NaN;
    o.status = status.get(o.id) ?? o.status;
    const mine = fills.filter((f) => f.orderId === o.id);
    o.filledQty = mine.reduce((s, f) => s + Math.abs(f.qty), 0);
    o.avgFillPrice = o.filledQty ? mine.reduce((s, f) => s + Math.abs(f.qty) * f.price, 0) / o.filledQty : 0;
    o.commission = mine.reduce((s, f) => s + f.commission, 0);
    return o;
  });
  const riskEvents = (await rows(`SELECT ts, order_id, check_name, value, limit_value, message FROM risk_events WHERE run_id = $1 ORDER BY seq`)).map((r) => ({
    ts: num(r.ts), orderId: num(r.order_id), check: String(r.check_name), value: num(r.value), limit: num(r.limit_value), message: String(r.message),
  }));
  const equity = (await rows(`SELECT ts, equity, cash, gross FROM equity WHERE run_id = $1 ORDER BY ts`)).map((r) => ({ ts: num(r.ts), equity: num(r.equity), cash: num(r.cash), gross: num(r.gross) }));
  const bars = (await rows(`SELECT symbol, ts, open, high, low, close, volume FROM live_bars WHERE run_id = $1 ORDER BY seq`)).map((r) => ({
    symbol: String(r.symbol), sid: symbols.indexOf(String(r.symbol)), ts: num(r.ts), open: num(r.open), high: num(r.high), low: num(r.low), close: num(r.close), volume: num(r.volume),
  }));
  return { orders, fills, orderEvents, riskEvents, equity, bars };
}
