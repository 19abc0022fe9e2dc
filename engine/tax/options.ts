// Traded options (TCGA 1992 s.144, s.144A, s.148; HMRC CG55400+ for traded options, CG12300+ for options in
// general). The rules, and how each is applied here:
//
// - A series (same underlying, right, strike and expiry) is one asset: options of one series are pooled in a
//   section 104 holding and the share identification rules apply to their disposals (CG55535). So a bought
//   option's purchases and sales go through engine/tax/cgt.ts's same-day / 30-day / pool matching per series.
// - A bought option that lapses (expires worthless): the abandonment of a traded option IS a disposal
//   (s.144(4)(b)), for nil consideration, so the loss is what it cost, commission included (CG55415). It is a
//   sale at 0 in the series' matching. Traded options are not wasting assets for this (s.146(1)(b), CG11860).
// - A bought option exercised: the purchase of the option and the transaction it leads to are one transaction
//   (s.144(3), CG12313-CG12317). No disposal of the option: a call's cost is part of the cost of the shares
//   bought (s.144(3)(a)); a put's cost is an incidental cost of the disposal of the shares sold (s.144(3)(b),
//   CG12314), so, like a sale's commission in engine/tax/cgt.ts, it comes off that sale's proceeds (the gain is
//   the same). The cost taken is what the series' matching gives the exercised contracts (same day, else the
//   pool's average).
// - A written (granted) option: the grant is the disposal of an asset, the option, for the premium (s.144(1),
//   CG12312), on the date of the grant, with nil cost. If it lapses the premium (less commission) is the gain.
//   If the writer closes it out by buying an option of the same series, that purchase is no disposal and its
//   cost (premium paid plus commission) is an incidental cost of the grant (s.148, CG55545): the gain of the
//   grant is the premium received less the premium paid, still dated on the grant. Rule 'option-grant', the
//   closing purchase's date as 'acquired' (none for a lapse).
// - A written option assigned: the grant and the transaction are one transaction (s.144(2)): no disposal of the
//   option; a put's premium reduces the cost of the shares bought (s.144(2)(b)); a call's premium is added to
//   the proceeds of the shares sold (s.144(2)(a)).
// - Cash settlement (an option on an underlying the run does not trade, closed at its intrinsic value):
//   s.144A treats it as a disposal of the option for the payment received (holder) and the grantor's payment as
//   an incidental cost of the grant (CG12320-CG12322): a sale at the settlement price, or a closing purchase.
// Simplifications, stated: a written option still open at the journal's end is reported as its grant's gain
// with nil cost (what s.144(1) gives until it is closed); premiums are converted at their own dates' rates and
// the transferred GBP amounts are not reconverted. Positions are split by sign: a sale beyond what is held is a
// grant, a purchase against a written position a closing purchase.
import { CgtError, matchDisposals, type AssetGains, type CgtTrade, type Disposal, type Match } from './cgt.ts';
import { taxYearOf } from './tax-year.ts';

export type OptionEvent = 'exercise' | 'assignment' | 'expiry';

export interface OptionTerms {
  right: 'C' | 'P';
  strike: number;
  /** shares per contract: 100 for a US equity option */
  multiplier: number;
  /** the underlying's symbol */
  underlying: string;
  /** the last trading day, YYYY-MM-DD */
  expiry: string;
}

export interface OptionFill {
  /** YYYY-MM-DD */
  date: string;
  /** the fill's instant (links an exercise to its share fill) */
  ts: number;
  side: 'BUY' | 'SELL';
  /** contracts, > 0 */
  qty: number;
  /** premium per share (x multiplier per contract), in `currency` */
  price: number;
  fee: number;
  currency?: string;
  /** units of `currency` per GBP on `date` */
  rate?: number;
  /** what closed it without an order; absent: a trade (a price-0 fill on or after the expiry is an expiry) */
  event?: OptionEvent;
}

export interface SeriesHistory {
  /** the series' symbol, e.g. 'GOOG151224C00750000' */
  asset: string;
  terms: OptionTerms;
  /** in time order */
  fills: readonly OptionFill[];
}

/** GBP to fold into a share trade of the underlying made by an exercise or assignment (s.144(2)/(3)). */
export interface ShareAdjustment {
  /** the option series it comes from */
  option: string;
  event: 'exercise' | 'assignment';
  underlying: string;
  /** the share fill: same instant, side, quantity and price (the strike) */
  ts: number;
  side: 'BUY' | 'SELL';
  shares: number;
  strike: number;
  /** added to the trade's allowable amount (cost of a purchase, proceeds of a sale); negative reduces it */
  gbp: number;
}

export interface OptionGains {
  /** each series' matched disposals (bought options and grants), kind 'option' */
  gains: AssetGains[];
  adjustments: ShareAdjustment[];
}

interface GrantLot {
  date: string;
  qty: number;
  /** GBP received per contract, net of the grant's commission */
  perContract: number;
}

interface Exercise {
  date: string;
  ts: number;
  qty: number;
}

/** The option series' disposals and what exercises and assignments carry into their underlyings' share trades. */
export function optionGains(series: readonly SeriesHistory[]): OptionGains {
  const gains: AssetGains[] = [];
  const adjustments: ShareAdjustment[] = [];
  for (const s of series) {
    const r = oneSeries(s);
    gains.push(r.gains);
    adjustments.push(...r.adjustments);
  }
  return { gains, adjustments };
}

function oneSeries(s: SeriesHistory): { gains: AssetGains; adjustments: ShareAdjustment[] } {
  const { asset, terms } = s;
  const m = terms.multiplier;
  const gbp = (f: OptionFill, amount: number) => (f.currency === undefined || f.currency === 'GBP' ? amount : amount / f.rate!);
  const longTrades: CgtTrade[] = [];
  const exercises: Exercise[] = [];
  const lots: GrantLot[] = [];
  const grantMatches = new Map<string, Match[]>();
  const adjustments: ShareAdjustment[] = [];
  let pos = 0;
  const addGrantMatch = (lot: GrantLot, q: number, acquired: string | null, cost: number) => {
    const proceeds = lot.perContract * q;
    grantMatches.get(lot.date)!.push({ rule: 'option-grant', acquired, qty: q, proceeds, cost, gain: proceeds - cost });
  };
  const shareAdj = (ts: number, q: number, amount: number, event: 'exercise' | 'assignment') => {
    // a call delivers shares to its holder (holder buys, writer sells); a put the other way
    const holderBuys = terms.right === 'C';
    const side: 'BUY' | 'SELL' = (event === 'exercise') === holderBuys ? 'BUY' : 'SELL';
    adjustments.push({ option: asset, event, underlying: terms.underlying, ts, side, shares: q * m, strike: terms.strike, gbp: amount });
  };

  s.fills.forEach((f, i) => {
    const where = `option ${asset} fill ${i + 1} (${f.date})`;
    if (!(f.qty > 0 && Number.isFinite(f.qty))) throw new CgtError(`${where}: qty must be a positive number of contracts, got ${f.qty}`);
    if (f.currency !== undefined && f.currency !== 'GBP' && !(f.rate! > 0)) throw new CgtError(`${where}: a ${f.currency} fill needs its date's rate`);
    const event = f.event ?? (f.price === 0 && f.date >= terms.expiry ? 'expiry' : undefined);
    const settledInCash = event !== undefined && event !== 'expiry' && f.price > 0;
    if (f.side === 'SELL') {
      // closes a long first (s.104 matching); the rest is a grant (s.144(1))
      const closing = Math.min(f.qty, Math.max(0, pos));
      if (event === 'assignment') throw new CgtError(`${where}: an assignment closes a written option, but this fill sells (a bought option is exercised)`);
      if (event !== undefined && Math.abs(closing - f.qty) > 1e-9)
        throw new CgtError(`${where}: the ${event} of ${f.qty} contracts is more than the ${Math.max(0, pos)} held`);
      if (closing > 0) {
        const fee = (f.fee * closing) / f.qty;
        // an expiry or a physical exercise is a sale at 0: the exercise's cost is moved to the shares below
        longTrades.push({ date: f.date, side: 'SELL', qty: closing, price: f.price * m, fee, currency: f.currency, rate: f.rate });
        if (event === 'exercise' && !settledInCash) exercises.push({ date: f.date, ts: f.ts, qty: closing });
      }
      const granted = f.qty - closing;
      if (granted > 1e-12) {
        const net = gbp(f, f.price * m * granted - (f.fee * granted) / f.qty);
        const lot: GrantLot = { date: f.date, qty: granted, perContract: net / granted };
        lots.push(lot);
        if (!grantMatches.has(f.date)) grantMatches.set(f.date, []);
      }
      pos -= f.qty;
      return;
    }
    // BUY: closes written options first (closing purchase s.148, lapse, or assignment s.144(2)); the rest is bought
    const closing = Math.min(f.qty, Math.max(0, -pos));
    if (event === 'exercise') throw new CgtError(`${where}: an exercise closes a bought option, but this fill buys (a written option is assigned)`);
    if (event !== undefined && Math.abs(closing - f.qty) > 1e-9)
      throw new CgtError(`${where}: the ${event} of ${f.qty} contracts is more than the ${Math.max(0, -pos)} written`);
    let left = closing;
    while (left > 1e-12) {
      const lot = lots[0]!;
      const q = Math.min(left, lot.qty);
      if (event === 'expiry') addGrantMatch(lot, q, null, 0);
      else if (event === 'assignment' && !settledInCash) {
        // the grant is no disposal: its premium goes into the share trade (s.144(2))
        const premium = lot.perContract * q;
        shareAdj(f.ts, q, terms.right === 'C' ? premium : -premium, 'assignment');
      } else addGrantMatch(lot, q, f.date, gbp(f, f.price * m * q + (f.fee * q) / f.qty));
      lot.qty -= q;
      left -= q;
      if (lot.qty <= 1e-12) lots.shift();
    }
    const bought = f.qty - closing;
    if (bought > 1e-12)
      longTrades.push({ date: f.date, side: 'BUY', qty: bought, price: f.price * m, fee: (f.fee * bought) / f.qty, currency: f.currency, rate: f.rate });
    pos += f.qty;
  });
  // still written at the journal's end: the grant's premium, nil cost so far (s.144(1))
  for (const lot of lots) addGrantMatch(lot, lot.qty, null, 0);

  const matched = matchDisposals({ asset, trades: longTrades });
  const disposals: Disposal[] = [];
  for (const d of matched.disposals) {
    const ex = exercises.filter((e) => e.date === d.date);
    const exQty = ex.reduce((q, e) => q + e.qty, 0);
    if (exQty === 0) {
      disposals.push({ ...d, kind: 'option' });
      continue;
    }
    // the exercised contracts' share of the day's matched cost leaves the series for the shares (s.144(3)); the
    // day's sales (one transaction, s.105) keep their proceeds and the rest of the cost
    const f = exQty / d.qty;
    const moved = d.cost * f;
    for (const e of ex) {
      const cost = (moved * e.qty) / exQty;
      shareAdj(e.ts, e.qty, terms.right === 'C' ? cost : -cost, 'exercise');
    }
    if (f >= 1 - 1e-12) continue;
    const matches = d.matches.map((x) => ({ ...x, qty: x.qty * (1 - f), cost: x.cost * (1 - f), gain: x.proceeds - x.cost * (1 - f) }));
    const cost = d.cost - moved;
    disposals.push({ ...d, kind: 'option', qty: d.qty - exQty, cost, gain: d.proceeds - cost, matches });
  }
  for (const [date, matches] of grantMatches) {
    if (matches.length === 0) continue; // every contract of the grant was assigned
    const sum = (k: 'qty' | 'proceeds' | 'cost') => matches.reduce((a, x) => a + x[k], 0);
    const proceeds = sum('proceeds');
    const cost = sum('cost');
    disposals.push({ asset, kind: 'option', date, taxYear: taxYearOf(date), qty: sum('qty'), proceeds, cost, gain: proceeds - cost, matches });
  }
  disposals.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { gains: { asset, disposals, poolAfter: matched.poolAfter }, adjustments };
}
