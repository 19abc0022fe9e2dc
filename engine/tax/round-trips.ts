// Futures and FX pairs: each closed position is a disposal whose gain is the position's P&L in its own currency,
// converted to GBP at the closing date's rate. No section 104 pool.
//
// Futures (HMRC CG56000+, TCGA 1992 s.143): closing out a futures contract by a reciprocal contract is a
// disposal of the obligations under the first (s.143(5), CG56079). Money received on closing out is the
// consideration; money paid is an incidental cost of the disposal (allowable under s.38(1)(c)). So a profit is
// the proceeds (cost nil), a loss the cost (proceeds nil), and dealing costs (both commissions) are costs:
//   gain = (qty x (exit - entry) x multiplier - commissions) / rate of the closing date.
// Simplifications, stated: lots are matched first in, first out within one contract month (the broker's
// round trips; HMRC gives no identification rule for futures closed out in part), and the whole P&L,
// commissions included, is converted at the closing date's rate (not each payment at its own date's rate).
// Daily variation margin is not a disposal (the gain is realised when the contract is closed out).
//
// FX pairs (IDEALPRO CASH, e.g. EUR.USD bought and sold): a simplified treatment, rule 'fx'. Foreign currency
// is a chargeable asset (CG78300+), so strictly each disposal of the currency bought is matched like shares
// (one pool per currency). Instead, each closed round trip of a pair is reported as one disposal whose gain is
// its P&L in the quote currency (qty x (exit - entry) - commissions) converted at the closing date's rate, the
// same arithmetic as a future with multiplier 1. What this does NOT cover: gains on the currency balances
// themselves (e.g. the USD proceeds of a US share sale held and later converted to GBP), and the exemptions:
// from 6 April 2012 a debt owed by a BANK in a foreign currency, a sum in a bank account, is outside CGT for
// individuals (TCGA s.252 as substituted by FA 2012 s.35, CG78321); currency bought for personal spending
// abroad is exempt (s.269, CG78315). Whether a broker's cash balance is a bank account is a question of fact
// the report cannot answer: it reports every closed pair trade, and says so.
import type { AssetKind, Disposal, Match } from './cgt.ts';
import { CgtError } from './cgt.ts';
import { taxYearOf } from './tax-year.ts';

export interface PositionFill {
  /** YYYY-MM-DD */
  date: string;
  side: 'BUY' | 'SELL';
  /** contracts (futures) or units of the base currency (FX), > 0 */
  qty: number;
  /** per unit, in the instrument's currency (futures points; the quote currency per unit of base) */
  price: number;
  /** commission, >= 0, in the instrument's currency */
  fee: number;
}

export interface PositionHistory {
  /** the symbol: 'ESZ13', 'EUR.USD' */
  asset: string;
  kind: Extract<AssetKind, 'future' | 'fx'>;
  /** money per point per contract: 50 for ES; 1 for an FX pair */
  multiplier: number;
  /** the currency of prices and fees (a pair's quote currency) */
  currency: string;
  /** in time order */
  fills: readonly PositionFill[];
}

/** Units of `currency` per GBP on `date` (1 for GBP); throws when it has no rate. */
export type RateOf = (currency: string, date: string) => number;

interface Lot {
  date: string;
  /** signed: > 0 long, < 0 short */
  qty: number;
  price: number;
  /** commission per unit not yet charged */
  feePerUnit: number;
}

/** The disposals of one futures contract or FX pair: one per closing date, a match per opening lot closed. */
export function closedPositions(h: PositionHistory, rateOf: RateOf): Disposal[] {
  const rule = h.kind === 'future' ? 'futures' : 'fx';
  if (!(h.multiplier > 0 && Number.isFinite(h.multiplier))) throw new CgtError(`${h.asset}: multiplier must be > 0, got ${h.multiplier}`);
  const lots: Lot[] = [];
  const byDate = new Map<string, Disposal>();
  h.fills.forEach((f, i) => {
    const where = `${h.asset} fill ${i + 1} (${f.date})`;
    if (!(f.qty > 0 && Number.isFinite(f.qty))) throw new CgtError(`${where}: qty must be a positive number, got ${f.qty}`);
    if (!(Number.isFinite(f.price) && Number.isFinite(f.fee) && f.fee >= 0)) throw new CgtError(`${where}: price and fee must be numbers (fee >= 0)`);
    const sign = f.side === 'BUY' ? 1 : -1;
    const feePerUnit = f.fee / f.qty;
    let left = f.qty;
    // first in, first out: a fill against the open side closes the oldest lots first
    while (left > 1e-12 && lots.length > 0 && Math.sign(lots[0]!.qty) === -sign) {
      const lot = lots[0]!;
      const q = Math.min(left, Math.abs(lot.qty));
      const held = Math.sign(lot.qty); // +1: a long closed by a sale
      const pnl = held * q * (f.price - lot.price) * h.multiplier;
      const fees = q * (lot.feePerUnit + feePerUnit);
      const rate = rateOf(h.currency, f.date);
      // s.143(5): money received is consideration, money paid and dealing costs are allowable costs
      const proceeds = Math.max(0, pnl) / rate;
      const cost = (Math.max(0, -pnl) + fees) / rate;
      const m: Match = { rule, acquired: lot.date, qty: q, proceeds, cost, gain: proceeds - cost };
      let d = byDate.get(f.date);
      if (!d) {
        d = { asset: h.asset, kind: h.kind, date: f.date, taxYear: taxYearOf(f.date), qty: 0, proceeds: 0, cost: 0, gain: 0, matches: [] };
        byDate.set(f.date, d);
      }
      d.matches.push(m);
      d.qty += q;
      d.proceeds += proceeds;
      d.cost += cost;
      d.gain += m.gain;
      left -= q;
      lot.qty -= held * q;
      if (Math.abs(lot.qty) <= 1e-12) lots.shift();
    }
    if (left > 1e-12) lots.push({ date: f.date, qty: sign * left, price: f.price, feePerUnit });
  });
  return [...byDate.values()];
}
