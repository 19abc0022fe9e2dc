import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BarSeries } from '../core/types.ts';
import { annualisable, MIN_ANNUALISED_PERIODS } from '../metrics/short-run.ts';

/** The bar a strategy must clear before it may trade a live account. */
export interface PromotionThresholds {
  minSharpe: number;
  /** the deepest drawdown allowed, as a negative fraction (-0.35 = 35%) */
  maxDrawdown: number;
  minTrades: number;
  /** out-of-sample Sharpe (mean over walk-forward test periods) must be at least this fraction of in-sample */
  minOosToIsSharpe: number;
}

export const DEFAULT_THRESHOLDS: PromotionThresholds = { minSharpe: 0.5, maxDrawdown: -0.35, minTrades: 20, minOosToIsSharpe: 0.5 };

export interface PromotionEvidence {
  sharpe: number | null;
  maxDrawdown: number;
  trades: number;
  inSampleSharpe: number | null;
  outOfSampleSharpe: number | null;
  /** daily returns of the full backtest (optional: evidence built by hand may leave the short-run fields out) */
  periods?: number;
  /** walk-forward windows run */
  windows?: number;
  /** windows whose training period has fewer than MIN_ANNUALISED_PERIODS daily returns (engine/metrics/short-run.ts) */
  shortTrainWindows?: number;
  /** windows whose test period has fewer than MIN_ANNUALISED_PERIODS daily returns */
  shortTestWindows?: number;
  /** daily returns of the shortest test period */
  minTestPeriods?: number;
}

/** Every threshold the evidence misses, each with its value and limit (empty: promoted). */
export function promotionFailures(e: PromotionEvidence, t: PromotionThresholds): string[] {
  const out: string[] = [];
  const f = (x: number | null) => (x === null ? 'undefined' : x.toFixed(3));
  if (e.sharpe === null || e.sharpe < t.minSharpe) out.push(`Sharpe ${f(e.sharpe)} is below the minimum ${t.minSharpe}`);
  if (e.maxDrawdown < t.maxDrawdown)
    out.push(`max drawdown ${(e.maxDrawdown * 100).toFixed(1)}% is deeper than the limit ${(t.maxDrawdown * 100).toFixed(1)}%`);
  if (e.trades < t.minTrades) out.push(`${e.trades} trades are fewer than the minimum ${t.minTrades}`);
  // A Sharpe annualised from under three months of returns is no level to hold against a threshold, and a mean
  // of such Sharpes over walk-forward windows is no evidence: short periods fail with why, not with a number.
  const min = MIN_ANNUALISED_PERIODS;
  if (e.periods !== undefined && !annualisable(e.periods))
    out.push(`the backtest has ${e.periods} daily returns, fewer than the ${min} (3 months) an annualised Sharpe needs: use more data`);
  const shortTest = e.shortTestWindows ?? 0;
  const shortTrain = e.shortTrainWindows ?? 0;
  const of = e.windows === undefined ? '' : ` of ${e.windows}`;
  if (shortTest > 0)
    out.push(
      `${shortTest}${of} walk-forward test periods have fewer than ${min} daily returns (the shortest ${e.minTestPeriods ?? '?'}): their Sharpes cannot be annualised, so the out-of-sample Sharpe is no evidence; use a test period of at least 4 months (e.g. train=2y,test=6m)`,
    );
  if (shortTrain > 0)
    out.push(
      `${shortTrain}${of} walk-forward training periods have fewer than ${min} daily returns: their Sharpes cannot be annualised, so the in-sample Sharpe is no evidence; use a training period of at least 4 months`,
    );
  if (shortTest > 0 || shortTrain > 0) return out;
  const is = e.inSampleSharpe;
  const oos = e.outOfSampleSharpe;
  if (is === null || oos === null) out.push(`walk-forward Sharpe undefined (in-sample ${f(is)}, out-of-sample ${f(oos)})`);
  else if (is > 0 && oos < t.minOosToIsSharpe * is)
    out.push(`out-of-sample Sharpe ${f(oos)} is far worse than in-sample ${f(is)} (needs at least ${t.minOosToIsSharpe} x)`);
  return out;
}

export function parseThresholds(raw: unknown, source: string): PromotionThresholds {
  const o = { ...DEFAULT_THRESHOLDS, ...(raw as object) } as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(k in DEFAULT_THRESHOLDS)) throw new Error(`${source}: unknown threshold '${k}'; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`);
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new Error(`${source}: threshold '${k}' must be a number, got ${JSON.stringify(o[k])}`);
  }
  return o as unknown as PromotionThresholds;
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The hash a record ties a strategy to: its source files, in order (a changed file has no record). */
export function strategyHash(files: readonly string[]): string {
  return sha256(files.map((x) => readFileSync(x, 'utf8')).join('\0'));
}

/** The hash of the bars a decision was made on. */
export function dataHash(series: readonly BarSeries[]): string {
  const h = createHash('sha256');
  for (const s of series) {
    h.update(s.symbol);
    for (const a of [s.ts, s.open, s.high, s.low, s.close, s.volume]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex');
}

export interface PromotionRecord {
  strategy: string;
  strategyFile: string;
  strategyFileHash: string;
  params: Record<string, unknown>;
  symbols: string[];
  data: { source: string; from: string; to: string; bars: number; hash: string };
  metrics: Record<string, unknown>;
  walkForward: { spec: string; inSampleSharpe: number | null; outOfSampleSharpe: number | null; windows: unknown[] };
  thresholds: PromotionThresholds;
  promotedAt: string;
}

/** The record that promotes this strategy file with these params, if any (a changed file has none). */
export function findPromotion(dir: string, strategy: string, hash: string, params: Record<string, unknown>): PromotionRecord | undefined {
  if (!existsSync(dir)) return undefined;
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as PromotionRecord;
    if (r.strategy === strategy && r.strategyFileHash === hash && JSON.stringify(r.params) === JSON.stringify(params)) return r;
  }
  return undefined;
}
