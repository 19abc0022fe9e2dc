// UK capital gains share matching for one class of shares (HMRC CG51500+), in this order of priority:
//   1. same day (TCGA 1992 s.105): the day's disposals are matched with the same day's acquisitions;
//   2. bed and breakfast (s.106A): what is left is matched with acquisitions in the 30 days AFTER the disposal
//      day, earliest first;
//   3. the section 104 pool (s.104): the rest comes out of the pool at its average cost.
// All trades of one day on one side are one transaction (s.105(1)(a)): quantities and amounts are summed.
// Same-day matches are made for every day first, then 30-day matches disposal by disposal in date order (an
// acquisition already matched to its own day's disposal cannot be matched again), then the pool is walked in
// date order: an acquisition's unmatched rest joins the pool, a disposal's unmatched rest leaves it.
// Allowable costs: a purchase's commission adds to its cost, a sale's commission comes off its proceeds.
// A trade in another currency is converted at its own rate (GBP = amount / rate, the rate in that currency per
// GBP, e.g. GBPUSD). A gain or loss belongs to the tax year of the disposal, whatever the date it is matched to.
//
// Splits: a split multiplies the shares held (the pool's quantity), the cost unchanged (s.127). Quantities are
// compared in the units after every split given ("final units": a trade's quantity times the ratios of the
// splits after its date), so a sale before a 7:1 split and a repurchase after it match 1 old share to 7 new.
// Quantities are reported in the units of their own date (a disposal's matches in the disposal's units); the
// pool after is in the units after the last split.
//
// Amounts are full doubles, never rounded here.
import { taxYearOf, type TaxYear } from './tax-year.ts';

export type Side = 'BUY' | 'SELL';
/**
 * How a disposal's gain was found: the three share-matching rules (also used per option series, CG55535), and
 * the rules of engine/tax/options.ts ('option-grant'), engine/tax/round-trips.ts ('futures', 'fx').
 */
export type MatchRule = 'same-day' | 'bed-and-breakfast' | 'section-104' | 'option-grant' | 'futures' | 'fx';
/** The asset classes of the report (engine/tax/asset-kind.ts). */
export type AssetKind = 'shares' | 'option' | 'future' | 'fx';

export interface CgtTrade {
  /** the trade date, YYYY-MM-DD (UK: the contract date) */
  date: string;
  side: Side;
  /** shares, > 0, in the units of the trade's date */
  qty: number;
  /** per share, in the trade's currency */
  price: number;
  /** commission, >= 0, in the trade's currency */
  fee: number;
  /** ISO currency of price and fee; absent or 'GBP': no conversion */
  currency?: string;
  /** units of `currency` per GBP on the trade's date (GBPUSD for USD); required for a currency other than GBP */
  rate?: number;
  /**
   * GBP folded into this trade's allowable amount by an option exercised or assigned into it (TCGA s.144(2)/(3),
   * engine/tax/options.ts): added to a purchase's cost or a sale's proceeds; negative to reduce them.
   */
  optionGbp?: number;
}

export interface ShareSplit {
  /** the ex-date: the first day the shares trade in the new units */
  date: string;
  /** new shares per old share: 7 for a 7-for-1 split, 0.1 for a 1-for-10 consolidation */
  ratio: number;
}

export interface AssetHistory {
  /** the class of shares, e.g. the symbol */
  asset: string;
  trades: readonly CgtTrade[];
  splits?: readonly ShareSplit[];
}

export interface Match {
  rule: MatchRule;
  /** the acquisition's date (same day, bed and breakfast); null for the pool */
  acquired: string | null;
  /** shares of the disposal matched, in the disposal date's units */
  qty: number;
  /** the disposal's net proceeds (GBP) for these shares */
  proceeds: number;
  /** the allowable cost (GBP) of the shares they are matched with */
  cost: number;
  gain: number;
}

/** One day's disposals of one asset: one transaction. */
export interface Disposal {
  asset: string;
  /** the asset class, set by the report's assembly (engine/tax/cgt-assets.ts); absent: shares */
  kind?: AssetKind;
  date: string;
  taxYear: TaxYear;
  /** shares sold that day, in that day's units */
  qty: number;
  /** net of sale commissions, GBP */
  proceeds: number;
  /** allowable cost, GBP: the sum of the matches' costs */
  cost: number;
  /** proceeds - cost: negative for a loss */
  gain: number;
  /** same day first, then bed and breakfast by acquisition date, then the pool */
  matches: Match[];
}

export interface Pool {
  /** shares, in the units after the last split */
  qty: number;
  /** allowable cost, GBP */
  cost: number;
}

export interface AssetGains {
  asset: string;
  disposals: Disposal[];
  /** the section 104 pool after every trade and split */
  poolAfter: Pool;
}

/** An input the rules cannot apply to (a short sale, a bad field): the message names the asset, date and rule. */
export class CgtError extends Error {
  override name = 'CgtError';
}

const DAY_MS = 86_400_000;
/** The bed and breakfast window: acquisitions on the 30 days after the disposal day (s.106A(5)). */
export const BED_AND_BREAKFAST_DAYS = 30;

/** A trade's allowable amount in GBP: a purchase's cost (price x qty + fee), or a sale's net proceeds (- fee). */
export function gbpAmount(t: CgtTrade): number {
  const gross = t.qty * t.price;
  const amount = t.side === 'BUY' ? gross + t.fee : gross - t.fee;
  return (isGbp(t) ? amount : amount / t.rate!) + (t.optionGbp ?? 0);
}

const isGbp = (t: CgtTrade) => t.currency === undefined || t.currency === 'GBP';

/** One side of one day, aggregated (s.105), in final units. */
interface DaySide {
  /** shares, final units */
  qty: number;
  /** GBP: cost of purchases, net proceeds of sales */
  amount: number;
  /** shares not yet matched, final units */
  left: number;
}

interface Day {
  date: string;
  dayNo: number;
  /** final units per unit of this date: the product of the ratios of the splits after it */
  factor: number;
  buy?: DaySide;
  sell?: DaySide & { traded: number; matches: Match[] };
}

/** The disposals of one asset with their matches, and the pool afterwards. */
export function matchDisposals(h: AssetHistory): AssetGains {
  const splits = checkSplits(h);
  const byDate = new Map<string, Day>();
  h.trades.forEach((t, i) => {
    checkTrade(h.asset, t, i);
    let d = byDate.get(t.date);
    if (!d) {
      const factor = splits.reduce((f, s) => (s.date > t.date ? f * s.ratio : f), 1);
      d = { date: t.date, dayNo: dayNo(t.date)!, factor };
      byDate.set(t.date, d);
    }
    const q = t.qty * d.factor;
    const amount = gbpAmount(t);
    if (t.side === 'BUY') {
      d.buy ??= { qty: 0, amount: 0, left: 0 };
      d.buy.qty += q;
      d.buy.amount += amount;
      d.buy.left += q;
    } else {
      d.sell ??= { qty: 0, amount: 0, left: 0, traded: 0, matches: [] };
      d.sell.qty += q;
      d.sell.amount += amount;
      d.sell.left += q;
      d.sell.traded += t.qty;
    }
  });
  const days = [...byDate.values()].sort((a, b) => a.dayNo - b.dayNo);

  // a match of q final units of the day's sale against `cost`
  const record = (d: Day, rule: MatchRule, acquired: string | null, q: number, cost: number) => {
    const s = d.sell!;
    const proceeds = (s.amount * q) / s.qty;
    s.matches.push({ rule, acquired, qty: q / d.factor, proceeds, cost, gain: proceeds - cost });
    s.left = nearZero(s.left - q, s.qty);
  };
  const take = (b: DaySide, q: number) => {
    const cost = (b.amount * q) / b.qty;
    b.left = nearZero(b.left - q, b.qty);
    return cost;
  };

  // 1. same day
  for (const d of days) {
    if (!d.buy || !d.sell) continue;
    const q = Math.min(d.buy.left, d.sell.left);
    record(d, 'same-day', d.date, q, take(d.buy, q));
  }
  // 2. bed and breakfast: each disposal in date order takes the acquisitions of the next 30 days, earliest first
  for (let i = 0; i < days.length; i++) {
    const d = days[i]!;
    if (!d.sell || d.sell.left === 0) continue;
    for (let j = i + 1; j < days.length && d.sell.left > 0; j++) {
      const a = days[j]!;
      if (a.dayNo - d.dayNo > BED_AND_BREAKFAST_DAYS) break;
      if (!a.buy || a.buy.left === 0) continue;
      const q = Math.min(a.buy.left, d.sell.left);
      record(d, 'bed-and-breakfast', a.date, q, take(a.buy, q));
    }
  }
  // 3. the section 104 pool, in date order
  const pool: Pool = { qty: 0, cost: 0 };
  const disposals: Disposal[] = [];
  for (const d of days) {
    if (d.buy && d.buy.left > 0) {
      pool.cost += (d.buy.amount * d.buy.left) / d.buy.qty;
      pool.qty += d.buy.left;
    }
    const s = d.sell;
    if (!s) continue;
    if (s.left > 0) {
      if (nearZero(pool.qty - s.left, s.left) < 0) {
        const held = pool.qty / d.factor;
        const short = s.left / d.factor;
        throw new CgtError(
          `${h.asset} ${d.date}: sells ${fmtQty(s.traded)} shares, of which ${fmtQty(short)} are matched neither the same day nor in the 30 days after, but the section 104 pool holds only ${fmtQty(held)}: a short sale is not supported (a sale must be of shares held, or bought back within 30 days)`,
        );
      }
      const all = s.left >= pool.qty;
      const cost = all ? pool.cost : (pool.cost * s.left) / pool.qty;
      const q = s.left;
      record(d, 'section-104', null, q, cost);
      pool.qty = all ? 0 : pool.qty - q;
      pool.cost = all ? 0 : pool.cost - cost;
    }
    const cost = s.matches.reduce((c, m) => c + m.cost, 0);
    disposals.push({
      asset: h.asset,
      date: d.date,
      taxYear: taxYearOf(d.date),
      qty: s.traded,
      proceeds: s.amount,
      cost,
      gain: s.amount - cost,
      matches: s.matches,
    });
  }
  return { asset: h.asset, disposals, poolAfter: pool };
}

/** Every asset's disposals (matched per asset: each class of shares has its own pool). */
export function matchAll(histories: readonly AssetHistory[]): AssetGains[] {
  const seen = new Set<string>();
  for (const h of histories) {
    if (seen.has(h.asset)) throw new CgtError(`asset ${h.asset} is given twice: give each class of shares one history`);
    seen.add(h.asset);
  }
  return histories.map(matchDisposals);
}

/** A difference that is rounding noise (relative to `scale`) as 0, so a pool sold whole is empty, not 1e-13. */
function nearZero(x: number, scale: number): number {
  return Math.abs(x) <= 1e-9 * Math.max(1, Math.abs(scale)) ? 0 : x;
}

function checkTrade(asset: string, t: CgtTrade, i: number): void {
  const where = `${asset} trade ${i + 1}${typeof t.date === 'string' ? ` (${t.date})` : ''}`;
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new CgtError(`${where}: ${field} ${rule}, got ${JSON.stringify(value) ?? String(value)}`);
  };
  if (typeof t.date !== 'string' || dayNo(t.date) === undefined) bad('date', 'must be a YYYY-MM-DD date', t.date);
  if (t.side !== 'BUY' && t.side !== 'SELL') bad('side', "must be 'BUY' or 'SELL'", t.side);
  if (!(typeof t.qty === 'number' && t.qty > 0 && Number.isFinite(t.qty))) bad('qty', 'must be a positive number of shares', t.qty);
  if (!(typeof t.price === 'number' && t.price >= 0 && Number.isFinite(t.price))) bad('price', 'must be a number >= 0', t.price);
  if (!(typeof t.fee === 'number' && t.fee >= 0 && Number.isFinite(t.fee))) bad('fee', 'must be a number >= 0', t.fee);
  if (t.optionGbp !== undefined && !(typeof t.optionGbp === 'number' && Number.isFinite(t.optionGbp)))
    bad('optionGbp', 'must be a finite GBP amount', t.optionGbp);
  if (!isGbp(t) && !(typeof t.rate === 'number' && t.rate > 0 && Number.isFinite(t.rate)))
    bad('rate', `must be the ${t.currency} per GBP rate of the trade's date (> 0) for a trade in ${t.currency}`, t.rate);
}

function checkSplits(h: AssetHistory): readonly ShareSplit[] {
  const splits = h.splits ?? [];
  for (const s of splits) {
    if (typeof s.date !== 'string' || dayNo(s.date) === undefined)
      throw new CgtError(`${h.asset} split: date must be a YYYY-MM-DD date, got ${JSON.stringify(s.date)}`);
    if (!(typeof s.ratio === 'number' && s.ratio > 0 && Number.isFinite(s.ratio)))
      throw new CgtError(`${h.asset} split ${s.date}: ratio must be a positive number of new shares per old share, got ${s.ratio}`);
  }
  return splits;
}

/** Days since 1970-01-01 of a valid YYYY-MM-DD date, else undefined. */
function dayNo(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t / DAY_MS;
}

const fmtQty = (q: number) => String(Number(q.toPrecision(12)));
