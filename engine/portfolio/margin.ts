// Futures margin (issue 15): a future costs nothing to hold but needs margin. Opening or adding to a position
// needs the account's equity to cover the initial margin of every futures position it would then hold; when the
// equity falls below their maintenance margin the broker liquidates (IBKR does so without a call). Margins are
// per contract, in the contract's currency, converted at the rates in force.
import type { ContractTerms } from '../core/types.ts';
import type { Portfolio } from './portfolio.ts';

export class FuturesMargin {
  private constructor(
    private readonly initial: Float64Array,
    private readonly maintenance: Float64Array,
  ) {}

  /** The margins of a run's futures, or null when none of its symbols has margins. */
  static of(contracts: readonly (ContractTerms | undefined)[] | undefined): FuturesMargin | null {
    if (!contracts?.some((c) => c?.initialMargin !== undefined)) return null;
    return new FuturesMargin(
      Float64Array.from(contracts, (c) => c?.initialMargin ?? 0),
      Float64Array.from(contracts, (c) => c?.maintenanceMargin ?? c?.initialMargin ?? 0),
    );
  }

  /** Whether symbol `sid` needs margin. */
  has(sid: number): boolean {
    return this.initial[sid]! > 0;
  }

  /** The initial margin of the account's futures positions with `sid`'s net position at `after`, in the base currency. */
  initialWith(p: Portfolio, sid: number, after: number): number {
    let m = 0;
    for (let s = 0; s < this.initial.length; s++) {
      if (this.initial[s] === 0) continue;
      const q = s === sid ? after : p.position(s);
      if (q !== 0) m += Math.abs(q) * this.initial[s]! * p.fxOf(s);
    }
    return m;
  }

  /** The maintenance margin of the account's futures positions, in the base currency. */
  maintenanceOf(p: Portfolio): number {
    let m = 0;
    for (let s = 0; s < this.maintenance.length; s++) {
      if (this.maintenance[s] === 0) continue;
      const q = p.position(s);
      if (q !== 0) m += Math.abs(q) * this.maintenance[s]! * p.fxOf(s);
    }
    return m;
  }
}
