// A journal's trades as the report's assets: each symbol classed by its contract terms (none: a share), then
// shares matched by HMRC's share rules (engine/tax/cgt.ts) with what option exercises and assignments carry into
// them (engine/tax/options.ts), option series per series, and futures and FX pairs by closed position
// (engine/tax/round-trips.ts). Every disposal comes out with its kind.
import type { ContractTerms } from '../core/types.ts';
import { CgtError, matchDisposals, type AssetGains, type AssetKind, type CgtTrade, type ShareSplit } from './cgt.ts';
import { optionGains, type OptionFill, type SeriesHistory, type ShareAdjustment } from './options.ts';
import { closedPositions, type RateOf } from './round-trips.ts';

/** One fill as the report reads it (engine/tax/journal-trades.ts's JournalTrade). */
export interface TaxFill {
  symbol: string;
  date: string;
  ts: number;
  side: 'BUY' | 'SELL';
  qty: number;
  price: number;
  commission: number;
  event?: 'exercise' | 'assignment' | 'expiry';
}

export interface AssetInput {
  /** in fill order */
  fills: readonly TaxFill[];
  /** terms of the symbols that are not shares (the run config's `contracts`); a symbol without terms is a share */
  contracts: Readonly<Record<string, ContractTerms>>;
  /** the currency of the shares' prices and commissions */
  shareCurrency: string;
  rateOf: RateOf;
  splits?: ReadonlyMap<string, readonly ShareSplit[]>;
}

/** The class of a symbol: its terms' security type; no terms (or STK) is a share. */
export function kindOf(symbol: string, terms: ContractTerms | undefined): AssetKind {
  switch (terms?.secType ?? 'STK') {
    case 'STK':
      return 'shares';
    case 'OPT':
      return 'option';
    case 'FUT':
      return 'future';
    case 'CASH':
      return 'fx';
    default:
      throw new CgtError(`${symbol}: an index (IND) is quoted, not traded: a fill in it cannot be a disposal`);
  }
}

/** Every asset's disposals (each with its kind) and, for shares and option series, the pool after. */
export function assetGains(input: AssetInput): AssetGains[] {
  const { fills, contracts, rateOf } = input;
  const bySymbol = new Map<string, TaxFill[]>();
  for (const f of fills) {
    const l = bySymbol.get(f.symbol);
    if (l) l.push(f);
    else bySymbol.set(f.symbol, [f]);
  }
  const symbols = [...bySymbol.keys()].sort();
  const rated = (currency: string, date: string) => (currency === 'GBP' ? {} : { currency, rate: rateOf(currency, date) });

  const series: SeriesHistory[] = [];
  const out: AssetGains[] = [];
  for (const symbol of symbols) {
    const terms = contracts[symbol];
    const kind = kindOf(symbol, terms);
    const list = bySymbol.get(symbol)!;
    if (kind === 'option') series.push(seriesOf(symbol, terms!, list, rated));
    else if (kind === 'future' || kind === 'fx') {
      const t = terms!;
      const disposals = closedPositions(
        {
          asset: symbol,
          kind,
          multiplier: t.multiplier,
          currency: t.currency,
          fills: list.map((f) => ({ date: f.date, side: f.side, qty: f.qty, price: f.price, fee: f.commission })),
        },
        rateOf,
      );
      out.push({ asset: symbol, disposals, poolAfter: { qty: 0, cost: 0 } });
    }
  }
  const options = optionGains(series);
  const adjustments = new Map<string, ShareAdjustment[]>();
  for (const a of options.adjustments) {
    if (!bySymbol.has(a.underlying) || kindOf(a.underlying, contracts[a.underlying]) !== 'shares')
      throw new CgtError(
        `option ${a.option}: its ${a.event} on ${new Date(a.ts).toISOString()} ${a.side === 'BUY' ? 'bought' : 'sold'} ${a.shares} ${a.underlying} at ${a.strike}, but the journal has no share fills of ${a.underlying}`,
      );
    const l = adjustments.get(a.underlying) ?? [];
    l.push(a);
    adjustments.set(a.underlying, l);
  }
  for (const symbol of symbols) {
    if (kindOf(symbol, contracts[symbol]) !== 'shares') continue;
    const trades: CgtTrade[] = bySymbol
      .get(symbol)!
      .map((f) => ({ date: f.date, side: f.side, qty: f.qty, price: f.price, fee: f.commission, ...rated(input.shareCurrency, f.date) }));
    applyAdjustments(symbol, bySymbol.get(symbol)!, trades, adjustments.get(symbol) ?? []);
    const g = matchDisposals({ asset: symbol, trades, splits: input.splits?.get(symbol) ?? [] });
    out.push({ ...g, disposals: g.disposals.map((d) => ({ ...d, kind: 'shares' })) });
  }
  out.push(...options.gains);
  return out.sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
}

function seriesOf(
  symbol: string,
  t: ContractTerms,
  fills: readonly TaxFill[],
  rated: (currency: string, date: string) => { currency?: string; rate?: number },
): SeriesHistory {
  const need = (field: string, ok: boolean) => {
    if (!ok) throw new CgtError(`option ${symbol}: its contract terms need ${field} (the run config's contracts.${symbol}), got ${JSON.stringify(t)}`);
  };
  need('right (C or P)', t.right === 'C' || t.right === 'P');
  need('a strike > 0', typeof t.strike === 'number' && t.strike > 0);
  need('the underlying', typeof t.underlying === 'string' && t.underlying !== '');
  need('the expiry (YYYY-MM-DD)', typeof t.expiry === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(t.expiry));
  return {
    asset: symbol,
    terms: { right: t.right!, strike: t.strike!, multiplier: t.multiplier, underlying: t.underlying!, expiry: t.expiry! },
    fills: fills.map(
      (f): OptionFill => ({
        date: f.date,
        ts: f.ts,
        side: f.side,
        qty: f.qty,
        price: f.price,
        fee: f.commission,
        ...rated(t.currency, f.date),
        ...(f.event !== undefined && { event: f.event }),
      }),
    ),
  };
}

/** Folds each exercise's or assignment's GBP into its share fill: the fill at the same instant, side, quantity and strike. */
function applyAdjustments(symbol: string, fills: readonly TaxFill[], trades: CgtTrade[], adj: readonly ShareAdjustment[]): void {
  const used = new Set<number>();
  for (const a of adj) {
    const i = fills.findIndex(
      (f, k) => !used.has(k) && f.ts === a.ts && f.side === a.side && Math.abs(f.qty - a.shares) <= 1e-9 && Math.abs(f.price - a.strike) <= 1e-9,
    );
    if (i < 0)
      throw new CgtError(
        `option ${a.option}: its ${a.event} on ${new Date(a.ts).toISOString()} should have ${a.side === 'BUY' ? 'bought' : 'sold'} ${a.shares} ${symbol} at the strike ${a.strike} at the same instant, but the journal has no such share fill`,
      );
    used.add(i);
    trades[i] = { ...trades[i]!, optionGbp: a.gbp };
  }
}
