import type { OrderStatus } from '../core/types.ts';

/**
 * The allowed transitions of the order state machine (DESIGN section 3). A cancel the trader asks for
 * goes through PENDING_CANCEL; the broker may cancel directly (IOC/FOK remainder, OCA sibling, breaker).
 * A fill may still arrive while a cancel is pending.
 */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  NEW: ['RISK_CHECK'],
  RISK_CHECK: ['APPROVED', 'REJECTED'],
  APPROVED: ['SUBMITTED', 'REJECTED'],
  REJECTED: [],
  SUBMITTED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELLED', 'EXPIRED', 'REJECTED'],
  PARTIALLY_FILLED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELLED', 'EXPIRED'],
  PENDING_CANCEL: ['CANCELLED', 'PARTIALLY_FILLED', 'FILLED'],
  FILLED: [],
  CANCELLED: [],
  EXPIRED: [],
};

export const isTerminal = (s: OrderStatus): boolean => TRANSITIONS[s].length === 0;
export const isWorking = (s: OrderStatus): boolean => s === 'SUBMITTED' || s === 'PARTIALLY_FILLED' || s === 'PENDING_CANCEL';

export class IllegalTransition extends Error {
  constructor(orderId: number, from: OrderStatus, to: OrderStatus) {
    super(`order ${orderId}: illegal transition ${from} -> ${to}`);
  }
}

export function assertTransition(orderId: number, from: OrderStatus, to: OrderStatus): void {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalTransition(orderId, from, to);
}
