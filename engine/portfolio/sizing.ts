import { ConfigError } from '../core/config-error.ts';
import { RollingStd } from '../core/indicators.ts';

/**
 * How many shares an entry gets. `all-in` is resolved when the order fills (the most whole shares
 * the book's cash covers at the fill price, commission included); the others at submission from the
 * last close, so they also work live, where a quantity must be sent with the order.
 */
export type Sizing =
  | { kind: 'all-in' }
  | { kind: 'fixed'; quantity: number }
  | { kind: 'percent'; percent: number }
  /** shares so that the position's annualised volatility is `targetVol` (a fraction) of the book's equity, at most 100% of equity */
  | { kind: 'vol-target'; targetVol: number; lookback: number };

export function parseSizing(kind: string, o: { quantity?: number; percent?: number; targetVol?: number; lookback?: number }): Sizing {
  switch (kind) {
    case 'all-in':
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
  throw new ConfigError(`sizing ${kind}`, 'unknown; use all-in, fixed, percent or vol-target');
}

/** Resolves a sizing for one symbol; keeps the rolling volatility vol-target needs. */
export class Sizer {
  private vols: RollingStd[] = [];
  private prev: number[] = [];

  constructor(readonly sizing: Sizing) {}

  get needsBars(): boolean {
    return this.sizing.kind === 'vol-target';
  }

  onClose(sid: number, close: number): void {
    if (this.sizing.kind !== 'vol-target') return;
    const std = (this.vols[sid] ??= new RollingStd(this.sizing.lookback));
    const p = this.prev[sid];
    if (p > 0) std.update(Math.log(close / p));
    this.prev[sid] = close;
  }

  /** shares for a new position at `price` given the book's equity; 0 when it cannot be sized yet */
  quantity(sid: number, price: number, equity: number): number | 'all-in' {
    const s = this.sizing;
    switch (s.kind) {
      case 'all-in':
        return 'all-in';
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
