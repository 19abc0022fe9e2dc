import { ConfigError } from '../core/config-error.ts';
import type { EpochMs } from '../core/types.ts';

/** Every combination of a parameter grid, in a fixed order: the first key varies slowest. */
export function expandGrid(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0)
      throw new ConfigError('grid', `'${key}' must be a non-empty list of values, got ${JSON.stringify(values)}`);
    out = out.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return out;
}

/** A walk-forward window: fit on [trainFrom, trainTo], evaluate on [testFrom, testTo] (inclusive, epoch ms). */
export interface Window {
  index: number;
  trainFrom: EpochMs;
  trainTo: EpochMs;
  testFrom: EpochMs;
  testTo: EpochMs;
}

type Span = { n: number; unit: 'y' | 'm' | 'd' };

function parseSpan(s: string, what: string, spec: string): Span {
  const m = /^(\d+)([ymd])$/.exec(s.trim());
  if (!m || Number(m[1]) <= 0) throw new ConfigError(`walk-forward ${spec}`, `${what} must look like 5y, 18m or 90d, got '${s}'`);
  return { n: Number(m[1]), unit: m[2] as Span['unit'] };
}

function add(ts: EpochMs, s: Span): EpochMs {
  const d = new Date(ts);
  if (s.unit === 'y') d.setUTCFullYear(d.getUTCFullYear() + s.n);
  else if (s.unit === 'm') d.setUTCMonth(d.getUTCMonth() + s.n);
  else d.setUTCDate(d.getUTCDate() + s.n);
  return d.getTime();
}

/** Parses `train=5y,test=1y`. */
export function parseWalkForward(s: string): { train: Span; test: Span } {
  const parts = Object.fromEntries(s.split(',').map((kv) => kv.split('=').map((x) => x.trim())));
  if (!parts.train || !parts.test) throw new ConfigError(`walk-forward ${s}`, 'must be train=<span>,test=<span> (e.g. train=5y,test=1y)');
  return { train: parseSpan(parts.train, 'train', s), test: parseSpan(parts.test, 'test', s) };
}

/**
 * Rolling walk-forward windows over [first, last]: each test period starts right after its training
 * period ends, the next window moves on by one test period, and no test period reaches past `last`.
 * A training window never contains a bar of its own test window.
 */
export function walkForwardWindows(first: EpochMs, last: EpochMs, spec: { train: Span; test: Span }): Window[] {
  const out: Window[] = [];
  for (let start = first; ; start = add(start, spec.test)) {
    const testFrom = add(start, spec.train);
    const testEnd = add(testFrom, spec.test);
    if (testEnd - 1 > last) break;
    out.push({ index: out.length, trainFrom: start, trainTo: testFrom - 1, testFrom, testTo: testEnd - 1 });
  }
  if (out.length === 0)
    throw new Error(
      `walk-forward: the data (${new Date(first).toISOString().slice(0, 10)} .. ${new Date(last).toISOString().slice(0, 10)}) is shorter than one training plus one test period`,
    );
  return out;
}
