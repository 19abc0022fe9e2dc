import type { EquityPoint, Fill, OrderEvent, RiskEvent } from '../core/types.ts';

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
  log(ts: number, message: string): void;
}

/** The in-memory journal of a run. */
export class MemoryJournal implements JournalSink {
  readonly orderEvents: OrderEvent[] = [];
  readonly fills: Fill[] = [];
  readonly riskEvents: RiskEvent[] = [];
  readonly equityCurve: EquitySample[] = [];
  readonly logs: { ts: number; message: string }[] = [];

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
  log(ts: number, message: string): void {
    this.logs.push({ ts, message });
  }
}
