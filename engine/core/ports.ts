import type { Bar, EpochMs, Fill, Order, OrderStatus, Side } from './types.ts';

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
  /** whether it fills combo (BAG) orders, all legs or none (absent: it does not; the engine refuses them) */
  readonly supportsCombos?: boolean;
}

/** The clock port: time comes from here, never from the wall clock, in strategy, risk and portfolio code. */
export interface Clock {
  now(): EpochMs;
}

/** Where a feed delivers closed bars: the engine. */
export interface BarSink {
  /** the broker acts at `ts` (a backtest: fills at the bar's open) — stamps what it journals */
  setTime(ts: EpochMs): void;
  /** bars with the same start `ts` have closed (in the run's symbol order; the first `n` of `bars` count) */
  onBars(ts: EpochMs, bars: readonly Bar[], n: number): void;
}

/**
 * The feed port: closed bars in time order, grouped by start time. A replay of stored bars in
 * backtests, IB's real-time bars live. Resolves when the feed ends or is stopped.
 */
export interface Feed {
  run(sink: BarSink): Promise<void>;
}

/** An order as the broker lists it (reconciliation). */
export interface BrokerOrder {
  brokerId: number;
  /** the tag we gave it (orderRef); '' for an order someone else placed */
  ref: string;
  symbol: string;
  side: Side;
  qty: number;
  status: string;
}

/** A position as the broker holds it. */
export interface BrokerPosition {
  symbol: string;
  qty: number;
  avgCost: number;
}

/** An execution as the broker reports it. */
export interface BrokerExecution {
  execId: string;
  ref: string;
  symbol: string;
  /** signed: negative sells */
  qty: number;
  price: number;
}

/** The account's figures (IB's account summary and daily P&L), in the account's base currency. */
export interface AccountFigures {
  account: string;
  currency: string;
  netLiquidation: number;
  totalCashValue: number;
  availableFunds: number;
  /** today's P&L (reqPnL), NaN until known */
  dailyPnl: number;
}

/**
 * A broker with an account of its own, which can be asked what it holds: the live side reconciles its
 * journal with it at start, after every reconnect and every few minutes.
 */
export interface LiveBroker extends Broker {
  openOrders(): Promise<BrokerOrder[]>;
  positions(): Promise<BrokerPosition[]>;
  /** the executions the broker has (ours are booked by the broker adapter as they arrive, once each) */
  executions(): Promise<BrokerExecution[]>;
  account(): Promise<AccountFigures>;
}
