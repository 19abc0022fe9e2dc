import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BarSeries } from '../core/types.ts';

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
}

/** Every threshold the evidence misses, each with its value and limit (empty: promoted). */
export function promotionFailures(e: PromotionEvidence, t: PromotionThresholds): string[] {
  const out: string[] = [];
  const f = (x: number | null) => (x === null ? 'undefined' : x.toFixed(3));
  if (e.sharpe === null || e.sharpe < t.minSharpe) out.push(`Sharpe ${f(e.sharpe)} is below the minimum ${t.minSharpe}`);
  if (e.maxDrawdown < t.maxDrawdown)
    out.push(`max drawdown ${(e.maxDrawdown * 100).toFixed(1)}% is deeper than the limit ${(t.maxDrawdown * 100).toFixed(1)}%`);
  if (e.trades < t.minTrades) out.push(`${e.trades} trades are fewer than the minimum ${t.minTrades}`);
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
