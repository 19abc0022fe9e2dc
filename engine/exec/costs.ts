// Commission and slippage models (DESIGN section 3). Commissions are in the instrument's currency (USD for
// everything the sample data holds but the pairs quoted in GBP).
import { ConfigError } from '../core/config-error.ts';
import type { ContractTerms } from '../core/types.ts';

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
  /** commission for a fill of `qty` units (> 0) of symbol `sid` (default 0) at `price` */
  commission(qty: number, price: number, sid?: number): number;
  /** records traded shares of symbol `sid` (tiered pricing depends on the month's stock volume so far) */
  record(qty: number, monthKey: number, sid?: number): void;
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

/**
 * IBKR's commissions on what is not a stock (its own commission only; exchange and regulatory fees are not
 * modelled, as for stocks): US equity options USD 0.65 a contract, at least USD 1.00 an order; US futures
 * USD 0.85 a contract; IDEALPRO FX 0.2 basis points of the trade value, at least 2.00 (in the pair's quote
 * currency here). `ibkr-tiered` charges these same rates: its volume tiers are modelled for stocks only.
 */
export function ibkrNonStock(terms: ContractTerms, qty: number, price: number): number {
  switch (terms.secType) {
    case 'OPT':
      return round8(Math.max(0.65 * qty, 1));
    case 'FUT':
      return round8(0.85 * qty);
    case 'CASH':
      return round8(Math.max(0.00002 * qty * price * terms.multiplier, 2));
    default:
      return ibkrFixed(qty, price * terms.multiplier);
  }
}

/**
 * The run's commission model. `contracts`: each symbol's terms when some are not US stocks (absent or an
 * entry undefined: a stock). Per-unit models charge per contract; percent models take the trade's value,
 * qty x price x multiplier.
 */
export function makeCommission(spec: CommissionSpec, contracts?: readonly (ContractTerms | undefined)[]): CommissionModel {
  const stocks = makeStockCommission(spec);
  if (!contracts?.some((c) => c !== undefined && c.secType !== 'STK')) return stocks;
  return {
    commission(q, p, sid = 0) {
      const terms = contracts[sid];
      if (terms === undefined || terms.secType === 'STK') return stocks.commission(q, p * (terms?.multiplier ?? 1));
      if (spec.model === 'ibkr-fixed' || spec.model === 'ibkr-tiered') return ibkrNonStock(terms, q, p);
      return stocks.commission(q, p * terms.multiplier);
    },
    record(q, m, sid = 0) {
      const terms = contracts[sid];
      if (terms === undefined || terms.secType === 'STK') stocks.record(q, m);
    },
  };
}

function makeStockCommission(spec: CommissionSpec): CommissionModel {
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
