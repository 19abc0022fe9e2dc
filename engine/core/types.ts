// Domain types shared by every part of the engine. engine/core imports nothing of the project.

/** Integer epoch milliseconds, UTC. A bar's timestamp is its start. */
export type EpochMs = number;

export type Interval = '1m' | '5m' | '15m' | '30m' | '1h' | '1d';

export const INTERVAL_MS: Record<Interval, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

export function parseInterval(s: string): Interval {
  if (s in INTERVAL_MS) return s as Interval;
  throw new Error(`unknown interval '${s}': use one of ${Object.keys(INTERVAL_MS).join(', ')}`);
}

/**
 * Columnar bars of one symbol, ascending by ts. Daily bars are stamped at 00:00 UTC of their
 * trading date; intraday bars at their start instant (UTC).
 */
export interface BarSeries {
  symbol: string;
  interval: Interval;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /**
   * Quote bars (FX, options): the bid and ask sides' OHLC and their last size at the touch (units or contracts),
   * NaN prices and size 0 where a side had no quote that bar. A series with quotes has them all; its OHLC
   * columns then hold the mid, and its fills are against the side an order takes (engine/exec/quote-fill.ts).
   */
  bidOpen?: Float64Array;
  bidHigh?: Float64Array;
  bidLow?: Float64Array;
  bidClose?: Float64Array;
  bidSize?: Float64Array;
  askOpen?: Float64Array;
  askHigh?: Float64Array;
  askLow?: Float64Array;
  askClose?: Float64Array;
  askSize?: Float64Array;
}

/** One bar as a strategy sees it. The engine reuses one object per symbol: copy fields to keep them. */
export interface Bar {
  symbol: string;
  /** index of the symbol in the run's symbol list */
  sid: number;
  ts: EpochMs;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** quoted symbols only: the bar's closing bid and ask (NaN: no quote on that side) */
  bid?: number;
  ask?: number;
}

/** IB's security types: stock, option, future, FX pair (IDEALPRO), index. */
export type SecType = 'STK' | 'OPT' | 'FUT' | 'CASH' | 'IND';

/**
 * What one unit of a symbol is worth in money: `multiplier` x price, in `currency` (an ES future is 50 USD a
 * point, an equity option 100 shares). A symbol without terms is a US stock: STK, multiplier 1, USD.
 */
export interface ContractTerms {
  secType: SecType;
  multiplier: number;
  currency: string;
  /** OPT and FUT: the last trading day, YYYY-MM-DD (an option expires at its close: engine/run/option-expiry.ts) */
  expiry?: string;
  /** OPT: the strike, in the underlying's price units */
  strike?: number;
  /** OPT: call or put */
  right?: 'C' | 'P';
  /** OPT: the underlying's symbol ('GOOG'); FUT: the root ('ES') */
  underlying?: string;
  /** FUT: the margin a contract needs to open (initial) and to stay open (maintenance), in `currency` */
  initialMargin?: number;
  maintenanceMargin?: number;
}

export type Side = 'BUY' | 'SELL';
export type OrderType = 'MKT' | 'LMT' | 'STP' | 'STP LMT' | 'TRAIL' | 'MOO' | 'MOC';
export type TimeInForce = 'DAY' | 'GTC' | 'IOC' | 'FOK' | 'GTD';

/** The order state machine of DESIGN section 3 (IB's names in comments). */
export type OrderStatus =
  | 'NEW'
  | 'RISK_CHECK'
  | 'APPROVED'
  | 'REJECTED'
  | 'SUBMITTED' // PreSubmitted / Submitted
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'PENDING_CANCEL'
  | 'CANCELLED'
  | 'EXPIRED';

/** How the quantity of an order is decided. Only `all-in` is resolved at the fill. */
export type Quantity = { kind: 'shares'; shares: number } | { kind: 'all-in' };

export interface OrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  /** whole shares, or 'all-in' (the most whole shares the cash covers at the fill price) */
  qty: number | 'all-in';
  limit?: number;
  stop?: number;
  trailingPercent?: number;
  trailingAmount?: number;
  tif?: TimeInForce;
  /** GTD expiry instant (the order expires at the end of the bar containing it) */
  goodTill?: EpochMs;
  /** a bracket: take-profit limit and stop-loss stop, placed as an OCO pair once the entry fills */
  bracket?: { takeProfit?: number; stopLoss?: number };
  ocaGroup?: string;
  /** free text kept with the order (IB's orderRef) */
  tag?: string;
  /**
   * A combo (IB's BAG contract with its comboLegs): the legs, each bought or sold `ratio` units per combo. `qty` is
   * then the number of combos, `symbol` the legs' underlying (a run symbol: IB's BAG contract names it too), `side`
   * BUY trades the legs as defined and SELL the opposite of each, and a LMT `limit` is the net price per combo in
   * the legs' price units: sum of (BUY leg +1, SELL leg -1) x ratio x leg price, positive a debit paid, negative
   * a credit received (as IB quotes combos). MKT or LMT only. Fills: engine/exec/combo-fill.ts.
   */
  legs?: ComboLeg[];
}

/** One leg of a combo order as the strategy defines it (IB's ComboLeg: the contract, its action, its ratio). */
export interface ComboLeg {
  symbol: string;
  side: Side;
  /** units of this leg per combo: a whole number >= 1 */
  ratio: number;
}

/** A combo order's leg in the engine: its run index and what it has filled so far. */
export interface OrderLeg extends ComboLeg {
  sid: number;
  /** signed units filled (negative: sold), ratio x the combos filled */
  filledQty: number;
  avgFillPrice: number;
}

export interface Order {
  id: number;
  strategy: string;
  symbol: string;
  sid: number;
  side: Side;
  type: OrderType;
  qty: Quantity;
  limit: number;
  stop: number;
  trailingPercent: number;
  trailingAmount: number;
  tif: TimeInForce;
  goodTill: EpochMs;
  ocaGroup: string;
  parentId: number;
  tag: string;
  status: OrderStatus;
  /** instant the strategy submitted it (the close of the bar it saw) */
  submittedAt: EpochMs;
  /** fills are possible only on bars whose start is at or after this instant */
  eligibleFrom: EpochMs;
  filledQty: number;
  avgFillPrice: number;
  commission: number;
  /** stop-limit: the stop has triggered and it now works as a limit */
  triggered: boolean;
  /** trading day of the first bar the order could fill on (for DAY expiry), NaN before it */
  firstBarDay: number;
  /** bracket legs not yet sent, activated when this (parent) order fills */
  pendingChildren: Omit<OrderRequest, 'qty'>[];
  reason: string;
  /** a combo order's legs (absent: a single-symbol order); its filledQty, avgFillPrice and limit count combos at net prices */
  legs?: OrderLeg[];
}

export interface Fill {
  orderId: number;
  strategy: string;
  symbol: string;
  sid: number;
  ts: EpochMs;
  /** signed: negative sells */
  qty: number;
  price: number;
  commission: number;
  execId: string;
  /** a fill no order made: an option exercised, assigned or expiring worthless (engine/run/option-expiry.ts) */
  reason?: 'exercise' | 'assignment' | 'expiry';
}

export interface OrderEvent {
  ts: EpochMs;
  orderId: number;
  from: OrderStatus | '';
  to: OrderStatus;
  reason: string;
}

export interface RiskEvent {
  ts: EpochMs;
  orderId: number;
  /** the check's name, e.g. 'maxOrderValue' or 'circuitBreaker' */
  check: string;
  value: number;
  limit: number;
  message: string;
}

/** A closed round trip (FIFO by lots). */
export interface Trade {
  symbol: string;
  side: 'LONG' | 'SHORT';
  entryTime: EpochMs;
  exitTime: EpochMs;
  entryPrice: number;
  exitPrice: number;
  quantity: number;
  pnl: number;
  commission: number;
  strategy: string;
}

export interface EquityPoint {
  ts: EpochMs;
  equity: number;
  cash: number;
}
