// Commission and slippage models (DESIGN section 3). Commissions are in the account currency (USD).
import { ConfigError } from '../core/config-error.ts';

export type CommissionSpec =
  | { model: 'none' }
  | { model: 'per-share'; perShare: number; min?: number }
  | { model: 'percent'; rate: number; min?: number }
  | { model: 'ibkr-fixed' }
  | { model: 'ibkr-tiered' };

export type SlippageSpec =
  | { model: 'none' }
  | { model: 'bps'; bps: number }
  /** a fraction of the bar's high-low range, against the trader */
  | { model: 'range'; fraction: number };

export interface CommissionModel {
  /** commission for a fill of `qty` shares (> 0) at `price`; `month` lets tiered pricing track monthly volume */
  commission(qty: number, price: number): number;
  /** records traded shares (tiered pricing depends on the month's volume so far) */
  record(qty: number, monthKey: number): void;
}

// strips float noise (1.5100000000000002) so commissions compare and print as written
const round8 = (x: number) => Math.round(x * 1e8) / 1e8;

/** IBKR fixed: USD 0.005 a share, at least USD 1.00, at most 1% of the trade value. */
export function ibkrFixed(qty: number, price: number): number {
  return round8(Math.min(Math.max(0.005 * qty, 1), 0.01 * qty * price));
}

/**
 * IBKR tiered (US stocks, IBKR's own commission only; exchange, clearing and regulatory fees
 * are not modelled): the rate falls with the shares traded so far this month,
 * min USD 0.35 an order, max 1% of the trade value.
 */
const TIERS: [number, number][] = [
  [300_000, 0.0035],
  [3_000_000, 0.002],
  [20_000_000, 0.0015],
  [100_000_000, 0.001],
  [Infinity, 0.0005],
];
export function ibkrTiered(qty: number, price: number, monthVolume: number): number {
  const rate = TIERS.find(([upTo]) => monthVolume < upTo)![1];
  return round8(Math.min(Math.max(rate * qty, 0.35), 0.01 * qty * price));
}

export function makeCommission(spec: CommissionSpec): CommissionModel {
  switch (spec.model) {
    case 'none':
      return { commission: () => 0, record: () => {} };
    case 'per-share':
      return { commission: (q) => round8(Math.max(spec.perShare * q, spec.min ?? 0)), record: () => {} };
    case 'percent':
      return { commission: (q, p) => round8(Math.max(spec.rate * q * p, spec.min ?? 0)), record: () => {} };
    case 'ibkr-fixed':
      return { commission: ibkrFixed, record: () => {} };
    case 'ibkr-tiered': {
      let month = -1;
      let volume = 0;
      return {
        commission: (q, p) => ibkrTiered(q, p, volume),
        record: (q, m) => {
          if (m !== month) {
            month = m;
            volume = 0;
          }
          volume += q;
        },
      };
    }
  }
}

/** The fill price after slippage, kept inside the bar's range. Limit fills get none: they fill at their price or better. */
export function applySlippage(spec: SlippageSpec, price: number, buy: boolean, high: number, low: number): number {
  let p = price;
  if (spec.model === 'bps') p = buy ? price * (1 + spec.bps / 1e4) : price * (1 - spec.bps / 1e4);
  else if (spec.model === 'range') p = buy ? price + spec.fraction * (high - low) : price - spec.fraction * (high - low);
  return Math.min(Math.max(p, low), high);
}

/** Parses the written forms: none | ibkr-fixed | ibkr-tiered | per-share:0.01[:min] | percent:0.1[:min] (percent of the trade value) */
export function parseCommission(s: string): CommissionSpec {
  const [model, a, b] = s.split(':');
  const num = (x: string | undefined, what: string) => {
    const v = Number(x);
    if (x === undefined || !Number.isFinite(v) || v < 0) throw new ConfigError(`commission ${s}`, `${what} must be a number >= 0`);
    return v;
  };
  switch (model) {
    case 'none':
    case 'ibkr-fixed':
    case 'ibkr-tiered':
      return { model };
    case 'per-share':
      return { model, perShare: num(a, 'the per-share rate'), min: b === undefined ? 0 : num(b, 'the minimum') };
    case 'percent':
      return { model, rate: num(a, 'the rate') / 100, min: b === undefined ? 0 : num(b, 'the minimum') };
  }
  throw new ConfigError(`commission ${s}`, 'unknown model; use none, ibkr-fixed, ibkr-tiered, per-share:RATE[:MIN] or percent:PCT[:MIN]');
}

/** Parses the written forms: none | bps:5 | range:0.1 */
export function parseSlippage(s: string): SlippageSpec {
  const [model, a] = s.split(':');
  const v = Number(a);
  if (model === 'none') return { model };
  if ((model === 'bps' || model === 'range') && a !== undefined && Number.isFinite(v) && v >= 0) {
    return model === 'bps' ? { model, bps: v } : { model, fraction: v };
  }
  throw new ConfigError(`slippage ${s}`, "use none, bps:N (basis points) or range:F (fraction of the bar's high-low range)");
}
