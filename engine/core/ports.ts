import type { EpochMs, Fill, Order, OrderStatus } from './types.ts';

/** What a broker reports back to the engine. */
export interface BrokerListener {
  onStatus(order: Order, to: OrderStatus, reason: string): void;
  onFill(order: Order, fill: Fill): void;
  /** shares an all-in order gets at `price`: resolved by the engine from the order's book at the fill */
  resolveAllIn(order: Order, price: number): number;
  /** a bracket parent has filled: its legs must be created now */
  onParentFilled(order: Order): void;
}

/** The broker port: SimBroker in backtests, IbBroker live. Orders reach it approved by the risk engine. */
export interface Broker {
  setListener(listener: BrokerListener): void;
  place(order: Order): void;
  /** asks to cancel; the broker answers through onStatus (PENDING_CANCEL, then CANCELLED unless a fill wins) */
  cancel(order: Order, reason: string): void;
  /** changes a working order's price or quantity (IB: placeOrder again with the same id) */
  modify(order: Order, changes: { qty?: number; limit?: number; stop?: number }): void;
}

/** The clock port: time comes from here, never from the wall clock, in strategy, risk and portfolio code. */
export interface Clock {
  now(): EpochMs;
}
