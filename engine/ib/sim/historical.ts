// Historical data from the stored bars, up to the virtual clock, and IB's pacing rules.
import { ExchangeCalendar, zoneOffset } from '../../core/calendar.ts';
import { INTERVAL_MS, type BarSeries } from '../../core/types.ts';
import type { HistoricalBarOut } from '../protocol/messages.ts';
import { formatIbDate, formatIbTime, parseIbTime } from '../protocol/time.ts';
import { lowerBound } from '../../core/search.ts';

const MIN = 60_000;
const DAY = 86_400_000;

const BAR_SIZES: Record<string, number> = {
  '1 min': MIN,
  '2 mins': 2 * MIN,
  '3 mins': 3 * MIN,
  '5 mins': 5 * MIN,
  '10 mins': 10 * MIN,
  '15 mins': 15 * MIN,
  '20 mins': 20 * MIN,
  '30 mins': 30 * MIN,
  '1 hour': 60 * MIN,
  '2 hours': 120 * MIN,
  '3 hours': 180 * MIN,
  '4 hours': 240 * MIN,
  '8 hours': 480 * MIN,
  '1 day': DAY,
};

/** The bar size in ms of an IB bar size setting ('1 min', '5 mins', '1 hour', '1 day'...), or NaN. */
export function barSizeMs(setting: string): number {
  return BAR_SIZES[setting.trim().replace(/\s+/g, ' ').toLowerCase()] ?? NaN;
}

export interface HistoryQuery {
  endDateTime: string;
  barSize: string;
  duration: string;
  useRTH: boolean;
  formatDate: number;
  /** TRADES (the default), MIDPOINT, BID or ASK (historySource) */
  whatToShow?: string;
}

/** The price columns a whatToShow reads of a series, and whether its bars carry a volume (TRADES only, as at IB). */
interface HistorySource {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: boolean;
  /** columns that must all be finite at a bar for it to be served (the quote sides it is made of) */
  need: readonly Float64Array[];
}

/**
 * What `whatToShow` reads of `series` (an error message for what the simulator does not serve):
 * - TRADES: the series' own bars (an option's: its quote bars' mid, the only prices the sample data has).
 * - MIDPOINT: the series' own bars, the mid for a quoted series (a pair, an option), served only where both
 *   sides are quoted (the stored mid of a one-sided minute is that side alone); a stock's quotes are its trades here.
 * - BID, ASK: that side's quote columns (bidOpen..bidClose, askOpen..askClose), a minute without that side no bar;
 *   a series without them (a stock: the simulator's stock quotes are its trades) its own bars.
 * - BID_ASK is refused: IB's BID_ASK bars are time-weighted averages of the quotes (open: the average bid, close:
 *   the average ask; high the highest ask, low the lowest bid), which quote bars cannot give.
 * BID, ASK and MIDPOINT bars have no volume and no WAP (-1), as IB sends them.
 */
function historySource(series: BarSeries, whatToShow: string): HistorySource | string {
  const what = whatToShow.trim().toUpperCase();
  const own = { open: series.open, high: series.high, low: series.low, close: series.close };
  const bid = [series.bidOpen, series.bidHigh, series.bidLow, series.bidClose];
  const ask = [series.askOpen, series.askHigh, series.askLow, series.askClose];
  const quoted = (cols: (Float64Array | undefined)[]): cols is Float64Array[] => cols.every((c) => c !== undefined);
  if (what === 'TRADES') return { ...own, volume: true, need: [] };
  if (what === 'MIDPOINT') return { ...own, volume: false, need: quoted(bid) && quoted(ask) ? [...bid, ...ask] : [] };
  if (what === 'BID' || what === 'ASK') {
    const side = what === 'BID' ? bid : ask;
    if (!quoted(side)) return { ...own, volume: false, need: [] };
    return { open: side[0]!, high: side[1]!, low: side[2]!, close: side[3]!, volume: false, need: side };
  }
  if (what === 'BID_ASK')
    return 'whatToShow BID_ASK (time-weighted average bid and ask) is not served by the simulator, whose quotes are minute bars: ask BID and ASK';
  return `whatToShow '${whatToShow}' is not served by the simulator: ask TRADES, MIDPOINT, BID or ASK`;
}

export type HistoryResult = { ok: true; bars: HistoricalBarOut[]; start: string; end: string } | { ok: false; code: 162 | 321; message: string };

/**
 * The bars of `series` answering a reqHistoricalData at virtual time `now`: stored bars complete by
 * min(end, now), aggregated into the bar size (on local-time boundaries; daily bars per exchange
 * day, regular hours only with useRTH), over the duration ('N S', 'N D' trading days, 'N W', 'N M', 'N Y').
 */
export function history(series: BarSeries, q: HistoryQuery, now: number, tz: string): HistoryResult {
  const invalid = (cause: string): HistoryResult => ({ ok: false, code: 321, message: `Error validating request.-'bB' : cause - ${cause}` });
  const source = historySource(series, q.whatToShow ?? 'TRADES');
  if (typeof source === 'string') return invalid(source);
  const intervalMs = INTERVAL_MS[series.interval];
  const dailyStore = intervalMs >= DAY;
  const size = barSizeMs(q.barSize);
  if (Number.isNaN(size)) return invalid(`Historical data bar size setting '${q.barSize}' is invalid (use e.g. 1 min, 5 mins, 1 hour, 1 day)`);
  if (size < intervalMs || (size < DAY && size % intervalMs !== 0)) return invalid(`bar size ${q.barSize} is finer than the stored ${series.interval} bars`);
  let end = now;
  if (q.endDateTime.trim() !== '') {
    const t = parseIbTime(q.endDateTime, tz);
    if (Number.isNaN(t)) return invalid(`end date/time '${q.endDateTime}' is not 'YYYYMMDD HH:MM:SS [zone]' or 'YYYYMMDD-HH:MM:SS'`);
    end = Math.min(t, now);
  }
  const m = /^\s*(\d+)\s+([SDWMY])\s*$/i.exec(q.duration);
  if (!m || Number(m[1]) <= 0) return invalid(`duration '${q.duration}' is not 'N S|D|W|M|Y'`);
  const n = Number(m[1]);
  const unit = m[2].toUpperCase();

  const cal = new ExchangeCalendar(dailyStore ? 'UTC' : tz);
  const inRth = (t: number) => {
    if (dailyStore || !q.useRTH) return true;
    return cal.inSession(t); // 09:30-16:00, 13:00 on US half days
  };
  const ts = series.ts;
  // last stored bar complete by `end`
  const hi = upperBound(ts, end - intervalMs) - 1;
  if (hi < 0) return { ok: false, code: 162, message: 'Historical Market Data Service error message:HMDS query returned no data' };
  let start: number;
  if (unit === 'D') {
    // N trading days back from `end`; with useRTH a day counts only once it has regular-hours bars,
    // so in the pre-market "1 D" is the previous session, as at IB
    let days = 0;
    let lastDay = NaN;
    start = Infinity;
    for (let i = hi; i >= 0; i--) {
      if (!inRth(ts[i])) continue;
      const d = cal.day(ts[i]);
      if (d !== lastDay) {
        if (days === n) break;
        days++;
        lastDay = d;
      }
      start = ts[i];
    }
  } else if (unit === 'S') start = end - n * 1000;
  else if (unit === 'W') start = end - n * 7 * DAY;
  else start = shiftMonths(end, unit === 'M' ? -n : -12 * n, dailyStore ? 'UTC' : tz);

  const bars: HistoricalBarOut[] = [];
  let key = NaN;
  let cur: (HistoricalBarOut & { pv: number }) | null = null;
  const flush = () => {
    if (!cur) return;
    if (!source.volume) cur.wap = -1;
    else cur.wap = cur.volume > 0 ? cur.pv / cur.volume : (cur.high + cur.low + cur.close) / 3;
    const { pv: _pv, ...bar } = cur;
    bars.push(bar);
    cur = null;
  };
  for (let i = lowerBound(ts, start); i <= hi; i++) {
    const t = ts[i];
    if (!inRth(t)) continue;
    const o = source.open[i],
      h = source.high[i],
      l = source.low[i],
      c = source.close[i],
      v = source.volume ? series.volume[i] : -1;
    // a side without a quote this bar (an option's bid or ask): no bar of that side, nor of the midpoint
    if (source.need.some((col) => !Number.isFinite(col[i]!))) continue;
    const k = size >= DAY ? cal.day(t) : bucketStart(t, size, tz);
    if (k !== key || !cur) {
      flush();
      key = k;
      const date = size >= DAY ? formatIbDate(t, dailyStore ? 'UTC' : tz) : q.formatDate === 2 ? String(Math.floor(k / 1000)) : formatIbTime(k, tz, true);
      cur = { date, open: o, high: h, low: l, close: c, volume: v, wap: 0, count: -1, pv: 0 };
    } else {
      const b: HistoricalBarOut & { pv: number } = cur;
      if (h > b.high) b.high = h;
      if (l < b.low) b.low = l;
      b.close = c;
      if (source.volume) b.volume += v;
    }
    if (source.volume) cur.pv += ((h + l + c) / 3) * v;
  }
  flush();
  if (bars.length === 0) return { ok: false, code: 162, message: 'Historical Market Data Service error message:HMDS query returned no data' };
  const fmt = (t: number) => (dailyStore ? formatIbDate(t, 'UTC') : formatIbTime(t, tz));
  return { ok: true, bars, start: fmt(start), end: fmt(end) };
}

/** Start of the local-time bucket of `size` ms containing `t` (buckets aligned on local midnight). */
export function bucketStart(t: number, size: number, tz: string): number {
  const off = zoneOffset(tz, t);
  const local = t + off;
  return local - (((local % size) + size) % size) - off;
}

function shiftMonths(t: number, months: number, tz: string): number {
  const off = zoneOffset(tz, t);
  const d = new Date(t + off);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime() - off;
}

/** first index with ts[i] > x */
function upperBound(ts: Float64Array, x: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- pacing ------------------------------------------------------------------------------------

export interface PacingLimits {
  /** requests allowed in any 10 minutes (IB: 60) */
  perTenMinutes: number;
  /** an identical request within this many ms is a violation (IB: 15 s) */
  identicalMs: number;
  /** requests allowed for one contract (and tick type) within `perContractMs` (IB: 6 in 2 s) */
  perContract: number;
  perContractMs: number;
}

export const IB_PACING: PacingLimits = { perTenMinutes: 60, identicalMs: 15_000, perContract: 6, perContractMs: 2_000 };

/** IB's historical-data pacing rules; only accepted requests count. */
export class Pacing {
  private log: { t: number; key: string; contract: string }[] = [];

  constructor(private readonly limits: PacingLimits = IB_PACING) {}

  /** Records the request at time `t` (ms) and returns null, or says which rule it breaks. */
  admit(t: number, key: string, contract: string): string | null {
    this.log = this.log.filter((e) => t - e.t < 600_000);
    const L = this.limits;
    if (this.log.length >= L.perTenMinutes) return `more than ${L.perTenMinutes} requests within 10 minutes`;
    if (this.log.some((e) => e.key === key && t - e.t < L.identicalMs)) return `an identical request within ${L.identicalMs / 1000} seconds`;
    if (this.log.filter((e) => e.contract === contract && t - e.t < L.perContractMs).length >= L.perContract) {
      return `more than ${L.perContract} requests for one contract within ${L.perContractMs / 1000} seconds`;
    }
    this.log.push({ t, key, contract });
    return null;
  }
}
