import { ConfigError } from '../core/config-error.ts';
import { RollingStd } from '../core/indicators/index.ts';

/**
 * How many shares an entry gets. `all-in` is resolved when the order fills (the most whole shares
 * the book's cash covers at the fill price, commission included); the others at submission from the
 * last close, so they also work live, where a quantity must be sent with the order.
 */
export type Sizing =
  | { kind: 'all-in' }
  /**
   * 1/N of the book's equity per entry, N = the run's symbols, at most what the book's cash (less what its
   * working buys will take) covers at the last close, commission included. The default of every run.
   */
  | { kind: 'equal-weight' }
  | { kind: 'fixed'; quantity: number }
  | { kind: 'percent'; percent: number }
  /** shares so that the position's annualised volatility is `targetVol` (a fraction) of the book's equity, at most 100% of equity */
  | { kind: 'vol-target'; targetVol: number; lookback: number };

export function parseSizing(kind: string, o: { quantity?: number; percent?: number; targetVol?: number; lookback?: number }): Sizing {
  switch (kind) {
    case 'all-in':
    case 'equal-weight':
      return { kind };
    case 'fixed':
      if (!(Number.isInteger(o.quantity) && o.quantity! > 0)) throw new ConfigError('fixed sizing', `needs a quantity (a whole number > 0), got ${o.quantity}`);
      return { kind, quantity: o.quantity! };
    case 'percent':
      if (!(o.percent! > 0 && o.percent! <= 100)) throw new ConfigError('percent sizing', `needs a percent of equity P with 0 < P <= 100, got ${o.percent}`);
      return { kind, percent: o.percent! };
    case 'vol-target': {
      const targetVol = o.targetVol ?? 0.1;
      const lookback = o.lookback ?? 20;
      if (!(targetVol > 0 && targetVol <= 5))
        throw new ConfigError('vol-target sizing', `the target must be an annual volatility fraction in (0, 5], got ${targetVol}`);
      if (!(Number.isInteger(lookback) && lookback >= 2))
        throw new ConfigError('vol-target sizing', `the lookback must be a whole number of bars >= 2, got ${lookback}`);
      return { kind, targetVol, lookback };
    }
  }
  throw new ConfigError(`sizing ${kind}`, 'unknown; use equal-weight, all-in, fixed, percent or vol-target');
}

/** The sizing in words, for the effective config a run prints and its report shows (`symbols`: the run's N). */
export function describeSizing(s: Sizing, symbols: number): string {
  switch (s.kind) {
    case 'all-in':
      return "all-in (all the book's cash, resolved at the fill)";
    case 'equal-weight':
      return `equal-weight (1/${symbols} of equity per entry)`;
    case 'fixed':
      return `fixed (${s.quantity} shares per entry)`;
    case 'percent':
      return `percent (${s.percent}% of equity per entry)`;
    case 'vol-target':
      return `vol-target (${s.targetVol * 100}% annual volatility over ${s.lookback} bars, at most 100% of equity)`;
  }
}

/** Resolves a sizing for one symbol; keeps the rolling volatility vol-target needs. */
export class Sizer {
  private vols: RollingStd[] = [];
  private prev: number[] = [];

  /** `symbols`: how many symbols the run (each of its slots) trades, the N of equal-weight */
  constructor(
    readonly sizing: Sizing,
    readonly symbols = 1,
  ) {}

  get needsBars(): boolean {
    return this.sizing.kind === 'vol-target';
  }

  /** equal-weight caps an entry by what the book's cash covers: the caller passes `affordable` */
  get needsCash(): boolean {
    return this.sizing.kind === 'equal-weight';
  }

  onClose(sid: number, close: number): void {
    if (this.sizing.kind !== 'vol-target') return;
    const std = (this.vols[sid] ??= new RollingStd(this.sizing.lookback));
    const p = this.prev[sid];
    if (p > 0) std.update(Math.log(close / p));
    this.prev[sid] = close;
  }

  /** A corporate action put `sid`'s prices on a new basis (x scale): the next return is measured on it, not across the action. */
  rebase(sid: number, scale: number): void {
    if (this.prev[sid] > 0) this.prev[sid] *= scale;
  }

  /**
   * Shares for a new position at `price` given the book's equity; 0 when it cannot be sized yet.
   * `affordable`: the most shares the book's cash covers at `price` (equal-weight buys never exceed it).
   */
  quantity(sid: number, price: number, equity: number, affordable = Infinity): number | 'all-in' {
    const s = this.sizing;
    switch (s.kind) {
      case 'all-in':
        return 'all-in';
      case 'equal-weight': {
        const q = Math.min(Math.floor(equity / this.symbols / price), affordable);
        if (!(q > 0)) return 0; // nothing to invest, or no price yet (NaN)
        return q;
      }
      case 'fixed':
        return s.quantity;
      case 'percent':
        return Math.floor(((s.percent / 100) * equity) / price);
      case 'vol-target': {
        const daily = this.vols[sid]?.value ?? NaN;
        if (!(daily > 0)) return 0;
        const weight = Math.min(s.targetVol / (daily * Math.sqrt(252)), 1);
        return Math.floor((weight * equity) / price);
      }
    }
  }
}
