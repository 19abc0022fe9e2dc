// Every drawdown period of an equity curve and the worst of them, dated as quantstats `drawdown_details` dates
// them (applied to the underwater curve dd_i = E_i / max(E_0..E_i) - 1; the curve's first point is the starting
// capital, which plays the part of quantstats' phantom baseline of 1 before the first return). Pure functions.
//
// A period is a maximal run of points with dd < 0:
//   start      = its first point under water               quantstats "start"
//   end        = its last point under water (the series' last point when not recovered)   quantstats "end"
//   trough     = the first point at its minimum             quantstats "valley" (idxmin)
//   depth      = min dd over the period (a negative fraction)   quantstats "max drawdown" / 100
//   days       = floor((end - start) / 1 day) + 1, calendar days   quantstats "days" ((end - start).days + 1)
// and, beside quantstats' columns:
//   peak       = the point before start: the last point at the high the period falls from
//   recovery   = the point after end: the first back at or above the peak; null when not recovered
// The worst n are sorted by depth (deepest first; ties by start), as quantstats' "Worst 5 Drawdowns" table.
import type { EpochMs, EquityPoint } from '../core/types.ts';
import { drawdownSeries } from './series.ts';
import { MS_PER_DAY } from './stats.ts';

export interface DrawdownPeriod {
  peak: EpochMs;
  start: EpochMs;
  trough: EpochMs;
  end: EpochMs;
  /** null when the curve never got back to the peak */
  recovery: EpochMs | null;
  /** min(E / peak - 1) over the period: negative */
  depth: number;
  /** calendar days from start to end, both included (quantstats) */
  days: number;
}

/** Every drawdown period of the curve, in time order. */
export function drawdownPeriods(equity: readonly EquityPoint[]): DrawdownPeriod[] {
  const dd = drawdownSeries(equity);
  const out: DrawdownPeriod[] = [];
  let i = 0;
  while (i < dd.length) {
    if (!(dd[i] < 0)) {
      i++;
      continue;
    }
    const start = i;
    let trough = i;
    while (i + 1 < dd.length && dd[i + 1] < 0) {
      i++;
      if (dd[i] < dd[trough]) trough = i;
    }
    const end = i;
    const recovery = end + 1 < dd.length ? end + 1 : -1;
    out.push({
      // the first point is its own peak (dd 0), so a period never starts at index 0
      peak: equity[Math.max(0, start - 1)].ts,
      start: equity[start].ts,
      trough: equity[trough].ts,
      end: equity[end].ts,
      recovery: recovery >= 0 ? equity[recovery].ts : null,
      depth: dd[trough],
      days: Math.floor((equity[end].ts - equity[start].ts) / MS_PER_DAY) + 1,
    });
    i = end + 1;
  }
  return out;
}

/** The `n` deepest drawdown periods, deepest first (equal depths in time order). */
export function worstDrawdowns(equity: readonly EquityPoint[], n = 5): DrawdownPeriod[] {
  return drawdownPeriods(equity)
    .sort((a, b) => a.depth - b.depth || a.start - b.start)
    .slice(0, n);
}
