import type { EquityPoint, Fill, Order, OrderEvent, RiskEvent } from '../core/types.ts';

/** What a journal line is about: a strategy's ctx.log, an order change, reconciliation, the gateway connection, an operator's command, a broker notice, or other news. */
export type LogKind = 'strategy' | 'order' | 'reconcile' | 'connection' | 'control' | 'broker' | 'info';

export interface LogLine {
  ts: number;
  kind: LogKind;
  message: string;
}

/** Exposure with an equity point: gross market value, for the exposure metric. */
export interface EquitySample extends EquityPoint {
  gross: number;
}

/**
 * Everything a run did, in the order it happened. A backtest writes it to DuckDB when it ends;
 * the live runner appends each event to DuckDB before acting on it (see engine/live).
 */
export interface JournalSink {
  orderEvent(e: OrderEvent): void;
  fill(f: Fill): void;
  riskEvent(e: RiskEvent): void;
  equity(p: EquitySample): void;
  log(ts: number, message: string, kind?: LogKind): void;
  /** a working order's price or quantity changed (its new spec is `order`) */
  orderModified(ts: number, order: Order, change: string): void;
}

/** The in-memory journal of a run. */
export class MemoryJournal implements JournalSink {
  readonly orderEvents: OrderEvent[] = [];
  readonly fills: Fill[] = [];
  readonly riskEvents: RiskEvent[] = [];
  readonly equityCurve: EquitySample[] = [];
  readonly logs: LogLine[] = [];
  /** modified orders, in order (an order appears once per modification) */
  readonly modified: Order[] = [];

  orderEvent(e: OrderEvent): void {
    this.orderEvents.push(e);
  }
  fill(f: Fill): void {
    this.fills.push(f);
  }
  riskEvent(e: RiskEvent): void {
    this.riskEvents.push(e);
  }
  equity(p: EquitySample): void {
    this.equityCurve.push(p);
  }
  log(ts: number, message: string, kind: LogKind = 'info'): void {
    this.logs.push({ ts, kind, message });
  }
  orderModified(ts: number, order: Order, change: string): void {
    this.modified.push(order);
    this.log(ts, change, 'order');
  }
}
