// Corporate actions and price bases: what `npm run import --factors` derives from LEAN factor files, and how
// a run loads prices raw (with the actions as events) or adjusted (computed at load from the stored factors).
//
// LEAN factor-file semantics (engine/data/factors.ts reads the rows):
// - A row `D,pf,sf,ref` is in force for every bar whose exchange-local date is on or before D and after the
//   previous row's date; bars after the last row take pf = sf = 1 (LEAN ends every file with 20501231,1,1,0).
//   The adjusted price is raw * pf * sf, the adjusted volume raw / sf.
// - Between two consecutive rows i and i+1 lies an event whose ex-date is the first trading day after D_i
//   (D_i is the last day before it; it need not be a trading day, e.g. AAPL's 20200828 for the 2020-08-31 split).
//   ref_i is the raw close on D_i (the close the dividend is measured against).
// - split: sf_{i+1} / sf_i = new shares per old share (AAPL 0.0357143 -> 0.25: 7 for 1, ex 2014-06-09).
// - cash dividend: pf_i / pf_{i+1} = 1 - dividend / ref_i, so dividend = ref_i * (1 - pf_i / pf_{i+1})
//   (AAPL 20140507: 0.8961764 / 0.9011818 with ref 592.33: 3.29 a share, ex 2014-05-08).
//   A row can carry both (a split and a dividend on the same ex-date).
import type { BarSeries } from '../core/types.ts';
import { localToUtc } from '../core/timezone.ts';

export type ActionKind = 'split' | 'dividend';

export interface CorporateAction {
  symbol: string;
  kind: ActionKind;
  /** first trading day the action is in force, 'YYYY-MM-DD' */
  exDate: string;
  /** the factor row's date (the last day before the event), 'YYYY-MM-DD': applied on the first bar after it */
  factorDate: string;
  /** split: new shares per old share (7 for AAPL 2014, 0.1 for a 1-for-10 reverse split); dividend: cash per share */
  value: number;
  /** raw close on factorDate (the factor file's reference price; NaN when the file has none) */
  referencePrice: number;
}

/** What a symbol's stored bars are: raw with factor rows (and actions) stored, adjusted as imported, or not known. */
export type PriceBasis = 'raw' | 'adjusted' | 'unknown';

/**
 * How a run loads prices. `raw`: as traded, corporate actions applied as events (the default where every run
 * symbol has raw bars with factors). `adjusted`: split- and dividend-adjusted, computed at load from the stored
 * factors (bars stored adjusted, or of unknown basis, load as stored).
 */
export type PriceMode = 'raw' | 'adjusted';

export const PRICE_MODES: readonly PriceMode[] = ['raw', 'adjusted'];

/** A factor row as stored (price_factors). */
export interface StoredFactor {
  /** yyyymmdd */
  date: number;
  priceFactor: number;
  splitFactor: number;
  /** NaN when the file has no reference price (or 0) */
  referencePrice: number;
}

/**
 * BarSeries with the corporate actions of its symbol (raw mode): the replay applies them as events; and with its
 * factor rows, so model features can take the adjusted series (adjustedSeries).
 */
export type SeriesWithActions = BarSeries & {
  actions?: readonly CorporateAction[];
  adjustment?: { factors: readonly StoredFactor[]; tz: string };
};

/**
 * The adjusted series of a raw series loaded with its factor rows (a copy, the same doubles as `--prices adjusted`
 * loads); any other series as it is.
 */
export function adjustedSeries(s: BarSeries): BarSeries {
  const adj = (s as SeriesWithActions).adjustment;
  if (!adj) return s;
  const copy: BarSeries = {
    symbol: s.symbol,
    interval: s.interval,
    ts: s.ts,
    open: Float64Array.from(s.open),
    high: Float64Array.from(s.high),
    low: Float64Array.from(s.low),
    close: Float64Array.from(s.close),
    volume: Float64Array.from(s.volume),
  };
  adjustSeries(copy, adj.factors, s.interval === '1d', adj.tz);
  return copy;
}

/** The corporate actions of a series, if it was loaded raw with them. */
export function actionsOf(s: BarSeries): readonly CorporateAction[] | undefined {
  return (s as SeriesWithActions).actions;
}

/**
 * The nearest ratio n/d with d <= 100 (when within 1e-4 relative): factor files carry split factors rounded to
 * 7 digits (1/28 as 0.0357143), so 0.25 / 0.0357143 = 6.99999... is a 7-for-1 split.
 */
export function splitRatio(sfBefore: number, sfAfter: number): number {
  const r = sfAfter / sfBefore;
  for (let d = 1; d <= 100; d++) {
    const n = Math.round(r * d);
    if (n > 0 && Math.abs(n / d - r) <= 1e-4 * r) return n / d;
  }
  return r;
}

/** A dividend rounded to 1e-4 dollars (the factors' 7 digits leave errors of about 1e-5 on a $500 stock). */
function roundDividend(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/**
 * The corporate actions between consecutive factor rows. `exDateOf(yyyymmdd)` gives the first trading day
 * after a factor row's date (from the symbol's bars); `closeOn(yyyymmdd)` the raw close on or before it, used
 * when the file has no reference price.
 */
export function actionsFromFactors(
  symbol: string,
  rows: readonly StoredFactor[],
  exDateOf: (yyyymmdd: number) => string,
  closeOn?: (yyyymmdd: number) => number,
): CorporateAction[] {
  const out: CorporateAction[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i]!;
    const b = rows[i + 1]!;
    const factorDate = ymd(a.date);
    const exDate = exDateOf(a.date);
    const keep = a.priceFactor / b.priceFactor;
    if (Math.abs(keep - 1) > 1e-7) {
      const ref = a.referencePrice > 0 ? a.referencePrice : (closeOn?.(a.date) ?? NaN);
      const amount = roundDividend(ref * (1 - keep));
      if (Number.isFinite(amount) && amount > 0) out.push({ symbol, kind: 'dividend', exDate, factorDate, value: amount, referencePrice: ref });
    }
    // on one ex-date the dividend (per old share: measured against the close before the split) comes first
    const ratio = splitRatio(a.splitFactor, b.splitFactor);
    if (ratio !== 1) out.push({ symbol, kind: 'split', exDate, factorDate, value: ratio, referencePrice: a.referencePrice });
  }
  return out;
}

function ymd(n: number): string {
  const s = String(n);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

const DAY_MS = 86_400_000;

/** yyyymmdd -> epoch ms of 00:00 UTC that day. */
export function ymdMs(n: number): number {
  return Date.UTC(Math.floor(n / 10000), (Math.floor(n / 100) % 100) - 1, n % 100);
}

/**
 * Adjusts a raw series in place with its factor rows, exactly as the import did before raw storage: each bar
 * takes the first row dated on or after its exchange-local date; prices become raw * pf * sf and volume
 * raw / sf (bars after the last row unchanged). Same operations in the same order as the import's SQL
 * (`b.po * coalesce(b.pf, 1) * coalesce(b.sf, 1)`, `b.pv / coalesce(b.sf, 1)`), so the doubles are identical.
 * Daily bars (ts at 00:00 UTC of the date) compare their date; intraday bars the start of the next local day in `tz`.
 */
export function adjustSeries(s: BarSeries, rows: readonly StoredFactor[], daily: boolean, tz: string): void {
  if (rows.length === 0) return;
  // the last ts (exclusive bound) each row covers
  const until = rows.map((r) => (daily ? ymdMs(r.date) + DAY_MS : localToUtc(tz, ymdMs(r.date) + DAY_MS)));
  let k = 0;
  const n = s.ts.length;
  for (let i = 0; i < n; i++) {
    const t = s.ts[i]!;
    while (k < rows.length && t >= until[k]!) k++;
    if (k === rows.length) break;
    const { priceFactor: pf, splitFactor: sf } = rows[k]!;
    s.open[i] = s.open[i]! * pf * sf;
    s.high[i] = s.high[i]! * pf * sf;
    s.low[i] = s.low[i]! * pf * sf;
    s.close[i] = s.close[i]! * pf * sf;
    s.volume[i] = s.volume[i]! / sf;
  }
}

/** The prices a run loaded: `raw` and `adjusted` as in PriceMode; `as-stored` when no run symbol has stored factors and some are of unknown basis. */
export type RunPrices = PriceMode | 'as-stored';

/**
 * The prices a run loads. `--prices raw` needs every symbol stored raw (imported with --factors); `adjusted` adjusts
 * the raw ones at load and takes the others as stored. With no choice: `raw` when every symbol is stored raw,
 * `adjusted` when some are and the others are adjusted (or some are raw and others unknown: those load as stored),
 * else `as-stored` (a database from before raw storage, or files imported with neither --factors nor --adjusted).
 */
export function resolvePrices(requested: PriceMode | undefined, basis: ReadonlyMap<string, PriceBasis>, symbols: readonly string[]): RunPrices {
  const of = (s: string) => basis.get(s.toUpperCase()) ?? 'unknown';
  const notRaw = symbols.filter((s) => of(s) !== 'raw');
  if (requested === 'raw') {
    if (notRaw.length > 0) {
      const what = notRaw.map((s) => `${s} (${of(s) === 'adjusted' ? 'stored adjusted' : 'of unknown basis: imported without --factors'})`).join(', ');
      throw new Error(
        `--prices raw needs raw bars with their corporate actions, and ${what} ${notRaw.length > 1 ? 'have' : 'has'} none; import the raw files with --factors DIR (LEAN factor files), or run with --prices adjusted`,
      );
    }
    return 'raw';
  }
  if (requested === 'adjusted') return 'adjusted';
  if (notRaw.length === 0 && symbols.length > 0) return 'raw';
  if (symbols.some((s) => of(s) === 'raw') || notRaw.every((s) => of(s) === 'adjusted')) return 'adjusted';
  return 'as-stored';
}

/** Whether a commission spec charges per share (its result depends on share counts, wrong on split-adjusted prices). */
export function perShareCommission(model: string): boolean {
  return model === 'ibkr-fixed' || model === 'ibkr-tiered' || model === 'per-share';
}

/**
 * The warning for per-share commissions on adjusted or unknown-basis prices (null when there is nothing to warn).
 * `unknown`: run symbols whose basis is unknown.
 */
export function perShareWarning(commission: { model: string }, prices: RunPrices | undefined, unknown: readonly string[] = []): string | null {
  if (!perShareCommission(commission.model) || prices === 'raw') return null;
  const basis =
    prices === 'adjusted'
      ? 'split-adjusted prices (--prices adjusted)'
      : `prices of unknown basis${unknown.length ? ` (${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''})` : ''}, probably split-adjusted`;
  return (
    `commission ${commission.model} is charged per share, and this run trades ${basis}: share counts before a split are ` +
    `split-adjusted (many more shares at a fraction of the price traded), so per-share commissions are wrong. ` +
    `Use --prices raw on data imported with --factors DIR (raw bars with corporate actions), or import raw files with --factors.`
  );
}
