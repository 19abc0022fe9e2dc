// What report.html draws and lists is what a screen can show: curves of at most a few thousand points,
// a few hundred table rows, a capped number of trade markers per symbol. report.json keeps everything; these
// helpers choose what the page keeps.
import type { Report } from './report-types.ts';

/** Points per series a chart keeps: a chart is at most ~1,200 px wide, so two points per pixel column suffice. */
export const MAX_CURVE_POINTS = 2_000;

/** Rows a long table of report.html (trades, orders, risk events, corporate actions) shows at each end. */
export const TABLE_EDGE_ROWS = 100;

/**
 * Indices of `values` to keep so that a line through them looks like the line through all of them:
 * the first and last point, and in each of about max/2 equal buckets between them the point of the
 * bucket's minimum and of its maximum, in order (per-pixel min/max decimation). The global minimum and
 * maximum are always kept. At most `max` (at least 4) indices, plus the first and last null of each run of
 * nulls (a gap of the line) that has a value beside it, so gaps stay gaps. All indices when there are at
 * most `max`.
 */
export function minMaxIndices(values: ArrayLike<number | null>, max = MAX_CURVE_POINTS): number[] {
  const n = values.length;
  // the two ends and one bucket's min and max at least
  const cap = Math.max(4, Math.floor(max));
  if (n <= cap) return Array.from({ length: n }, (_, i) => i);
  const inner = n - 2;
  const buckets = Math.floor((cap - 2) / 2);
  const keep: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1;
    let hi = -1;
    const picks: number[] = [];
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v === null || !Number.isFinite(v)) {
        // the edges of a gap: the first null after a value and the last null before one
        const prevNull = i === 0 || values[i - 1] === null || !Number.isFinite(values[i - 1] as number);
        const nextNull = i + 1 >= n || values[i + 1] === null || !Number.isFinite(values[i + 1] as number);
        if (!prevNull || !nextNull) picks.push(i);
        continue;
      }
      if (lo < 0 || v < (values[lo] as number)) lo = i;
      if (hi < 0 || v > (values[hi] as number)) hi = i;
    }
    if (lo >= 0) picks.push(lo);
    if (hi >= 0 && hi !== lo) picks.push(hi);
    picks.sort((a, b) => a - b);
    // a bucket of nulls with values on both sides keeps at most its two edges
    for (const i of picks) if (i !== keep[keep.length - 1]) keep.push(i);
  }
  keep.push(n - 1);
  return keep;
}

/** `xs` at `indices`. */
export function pick<T>(xs: ArrayLike<T>, indices: readonly number[]): T[] {
  return indices.map((i) => xs[i]);
}

/** A curve decimated by minMaxIndices of its values: the kept x and y. */
export function decimateCurve<X, Y extends number | null>(x: ArrayLike<X>, y: ArrayLike<Y>, max = MAX_CURVE_POINTS): { x: X[]; y: Y[] } {
  const keep = minMaxIndices(y, max);
  return { x: pick(x, keep), y: pick(y, keep) };
}

/** The first and last `edge` elements of `rows`, and how many were left out between them (0 when none). */
export function edges<T>(rows: readonly T[], edge = TABLE_EDGE_ROWS): { head: readonly T[]; tail: readonly T[]; omitted: number; tailStart: number } {
  if (rows.length <= 2 * edge) return { head: rows, tail: [], omitted: 0, tailStart: rows.length };
  return { head: rows.slice(0, edge), tail: rows.slice(rows.length - edge), omitted: rows.length - 2 * edge, tailStart: rows.length - edge };
}

/** The lists of a report that grow with the run's activity, capped in the JSON report.html embeds. */
const LONG_LISTS = ['trades', 'orders', 'fills', 'riskEvents', 'corporateActions'] as const;

/** What report.html embeds when it capped a list: how many of each list's rows it left out. */
export interface HtmlViewNote {
  note: string;
  omitted: Partial<Record<(typeof LONG_LISTS)[number], number>>;
}

/**
 * The report as report.html embeds it: the report itself (report.json's value) when every list has at most
 * 2 x TABLE_EDGE_ROWS rows; otherwise the long lists (trades, orders, fills, risk events, corporate actions)
 * cut to their first and last TABLE_EDGE_ROWS rows, and an `htmlView` key saying how many rows each left out.
 * The equity rows, benchmark and rolling series (one per day) stay whole. A 500-symbol, 20-year run has
 * some 100,000 trades and 200,000 orders and fills: 140 MB of JSON, which no page can carry in an 8 MB budget.
 */
export function embeddedReport(report: Report): Report | (Report & { htmlView: HtmlViewNote }) {
  const omitted: HtmlViewNote['omitted'] = {};
  const view: Record<string, unknown> = { ...report };
  for (const key of LONG_LISTS) {
    const rows = report[key] as readonly unknown[] | undefined;
    if (rows === undefined) continue;
    const cut = edges(rows);
    if (cut.omitted === 0) continue;
    omitted[key] = cut.omitted;
    view[key] = [...cut.head, ...cut.tail];
  }
  if (Object.keys(omitted).length === 0) return report;
  const note = `report.html embeds the first and last ${TABLE_EDGE_ROWS} rows of its long lists; all rows are in report.json`;
  return { ...(view as unknown as Report), htmlView: { note, omitted } };
}

/** Candles a chart draws at most: about one per pixel column. */
export const MAX_CANDLES = 1_500;

/** Columnar OHLCV bars. */
export interface OhlcvColumns {
  ts: ArrayLike<number>;
  open: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  volume: ArrayLike<number>;
}

const WEEK = 7 * 86_400_000;
/** Monday 00:00 UTC of the week of `t` (1970-01-01 was a Thursday). */
const weekOf = (t: number) => Math.floor((t + 3 * 86_400_000) / WEEK) * WEEK - 3 * 86_400_000;
const monthOf = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/** What one candle of mergeCandles spans: a bar as given, a week or month of daily bars, or k intraday bars. */
export type CandleSpan = 'bar' | 'week' | 'month' | { bars: number };

/**
 * Bars merged into coarser candles when there are more than `max`: daily bars into weeks, or months if weeks are
 * still too many; intraday bars into runs of k consecutive bars. Each candle opens at its first bar's open, closes
 * at its last bar's close, spans their highest high and lowest low, sums their volume, and is dated at its
 * period's start (a run's first bar).
 */
export function mergeCandles(bars: OhlcvColumns, max = MAX_CANDLES): { bars: OhlcvColumns; daily: boolean; span: CandleSpan } {
  const n = bars.ts.length;
  const daily = Array.prototype.every.call(bars.ts, (t: number) => t % 86_400_000 === 0);
  if (n <= max) return { bars, daily, span: 'bar' };
  const span: CandleSpan = !daily ? { bars: Math.ceil(n / max) } : n / 5 <= max ? 'week' : 'month';
  const key = (t: number, i: number) => (typeof span === 'object' ? Math.floor(i / span.bars) : span === 'week' ? weekOf(t) : monthOf(t));
  const out = { ts: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  let current = Number.NaN;
  for (let i = 0; i < n; i++) {
    const k = key(bars.ts[i], i);
    if (k !== current) {
      current = k;
      out.ts.push(daily ? k : bars.ts[i]);
      out.open.push(bars.open[i]);
      out.high.push(bars.high[i]);
      out.low.push(bars.low[i]);
      out.close.push(bars.close[i]);
      out.volume.push(bars.volume[i]);
      continue;
    }
    const j = out.ts.length - 1;
    out.high[j] = Math.max(out.high[j], bars.high[i]);
    out.low[j] = Math.min(out.low[j], bars.low[i]);
    out.close[j] = bars.close[i];
    out.volume[j] += bars.volume[i];
  }
  return { bars: out, daily, span };
}
