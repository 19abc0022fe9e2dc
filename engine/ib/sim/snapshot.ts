// A simulator's state as a plain JSON object: what a new simulator needs to continue exactly where
// a snapshotted one was (the account, its working orders and executions, the id sequences and the
// replay position). JSON has no NaN: unset numbers (NaN) are stored as null.
import type { Interval, Order } from '../../core/types.ts';
import type { IbOrder } from '../protocol/place-order.ts';
import type { Execution, IbStatus } from './account.ts';

/** T with its number fields nullable (NaN stored as null). */
export type JsonNumbers<T> = { [K in keyof T]: T[K] extends number ? number | null : T[K] };

export interface SnapshotOrder {
  id: number;
  clientId: number;
  permId: number;
  sid: number;
  ib: IbOrder;
  status: IbStatus;
  transmitted: boolean;
  inBroker: boolean;
  lastFillPrice: number;
  /** permId of its parent order (0: none) */
  parentPermId: number;
  /** the engine order SimBroker matches, with its fill state */
  engine: JsonNumbers<Order>;
}

export interface AccountSnapshot {
  startingCash: number;
  /** the base currency's cash, and realized P&L and commissions in the base (at the rates then) */
  cash: number;
  realized: number;
  commission: number;
  /**
   * The account's base currency and its figures per currency (issue 15): settled cash, futures P&L not yet settled,
   * realized P&L and commissions. Absent in a snapshot older than them: a USD account, `cash` its only balance.
   */
  base?: string;
  balances?: Record<string, number>;
  futuresPnl?: Record<string, number>;
  realizedBy?: Record<string, number>;
  commissionBy?: Record<string, number>;
  /** by symbol index: a future's value per contract its open variation counts from (0 for other symbols) */
  settleRef?: number[];
  /** by symbol index, in the order of `SimSnapshot.symbols` */
  qty: number[];
  avgCost: number[];
  traded: boolean[];
  /** last price of every symbol (null before its first bar) */
  marks: (number | null)[];
  /** the exchange day of the last batch, and the account at its start */
  day: number | null;
  dayStartNetLiq: number;
  dayStartRealized: number;
  /** per symbol: the day its session opened (MOO eligibility) */
  sessionDay: (number | null)[];
  storedTs: number | null;
  /** tiered commissions: the month and the shares traded in it */
  commissionMonth: number;
  commissionVolume: number;
  /** the highest order id each client has used, by client id */
  maxOrderIds: Record<string, number>;
  permSeq: number;
  execSeq: number;
  /** working orders, and the parents they still refer to (in placement order) */
  orders: SnapshotOrder[];
  executions: Execution[];
}

export interface SimSnapshot {
  version: 1;
  symbols: string[];
  interval: Interval;
  account: string;
  /** the virtual clock (epoch ms): the end of the last batch replayed */
  clock: number;
  /** batches replayed so far */
  batches: number;
  /** start instant (epoch ms) of the simulator lifetime that took the snapshot: part of its execIds */
  lifetime: number;
  /** cumulative day volume of every symbol and the day it belongs to (ticks' volume) */
  dayVolume: number[];
  volumeDay: (number | null)[];
  state: AccountSnapshot;
}

export const nullIfNaN = (x: number): number | null => (Number.isNaN(x) ? null : x);
export const nanIfNull = (x: number | null): number => (x === null ? NaN : x);

/** A flat object's NaN numbers as null. */
export function jsonNumbers<T extends object>(o: T): JsonNumbers<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'number' ? nullIfNaN(v) : v;
  return out as JsonNumbers<T>;
}

/** The inverse of jsonNumbers (for objects with no field that may really be null). */
export function fromJsonNumbers<T extends object>(o: JsonNumbers<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = v === null ? NaN : v;
  return out as T;
}
