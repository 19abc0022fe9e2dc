// What a queued sweep puts on Redis: a parent job per sweep (in SWEEP_QUEUE, never processed: it groups the
// sweep's jobs) and one child job per batch of runs (in RUNS_QUEUE, which `npm run worker` processes). A job
// carries no bars: it names the data (where, which query, and the content hash the bars must have) and the models
// (their card's sha256), and each worker loads its own copy and refuses a different one.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Interval } from '../core/types.ts';
import type { PriceMode } from '../data/actions.ts';
import type { BacktestConfig } from '../run/backtest.ts';
import type { SweepResult, SweepTask } from '../research/sweep.ts';

/** The BullMQ key prefix of every queue of ours (keys `tradebench:<queue>:...`). */
export const PREFIX = 'tradebench';
/** The queue the workers take runs from. */
export const RUNS_QUEUE = 'sweep-runs';
/** The queue of the sweeps' parent jobs (no worker takes them). */
export const SWEEP_QUEUE = 'sweeps';
/**
 * Bumped when the payload changes shape: a worker refuses a payload of another version (not retried). 2: a run
 * may ask for its report (RunSpec.report), which a version-1 worker would silently not compute.
 */
export const PAYLOAD_VERSION = 2;

/** Where a worker reads the bars: the submitter's path (undefined: the bundled sample) and its query. */
export interface DataRef {
  /** an absolute path on the submitter's machine (a worker's --data replaces it), or undefined for the bundled sample */
  path?: string;
  symbols: string[];
  interval: Interval;
  from?: string;
  to?: string;
  tz: string;
  /** the --prices asked for (undefined: the data's default) */
  prices?: PriceMode;
  /** sha256 of the loaded series (dataHash in engine/research/promotion.ts): symbols and typed arrays */
  hash: string;
  bars: number;
}

/** A model the runs trade on: its location as the strategy names it (relative to the repository) and its card's sha256. */
export interface ModelRef {
  location: string;
  sha256: string;
}

/**
 * One run of a batch: a SweepTask without its config (the job's) and series (the worker's copy); `report` when
 * the sweep asked for the runs' reports (--reports), absent otherwise (nothing extra computed or sent).
 */
export type RunSpec = Pick<SweepTask, 'index' | 'params' | 'window' | 'phase' | 'warmFrom' | 'from' | 'to' | 'report'>;

/** A batch job's data. */
export interface BatchJob {
  v: number;
  sweepId: string;
  batch: number;
  config: BacktestConfig;
  data: DataRef;
  models: ModelRef[];
  runs: RunSpec[];
}

/** The parent job's data: what `--cancel` and a resubmission need to find the sweep's jobs. */
export interface SweepJob {
  v: number;
  sweepId: string;
  batches: number;
  runs: number;
  /**
   * Set by `--cancel`: the submitter stops collecting (rather than take the removed jobs for jobs Redis lost and
   * add them again). A new submission of the sweep clears it.
   */
  cancelled?: boolean;
}

/** A batch's job id: deterministic, so adding a sweep's flow again adds nothing that is already there. */
export const batchJobId = (sweepId: string, batch: number) => `${sweepId}-b${batch}`;

/** The batch a job id names, if it is one of this sweep's. */
export function batchOf(sweepId: string, jobId: string): number | undefined {
  const m = /^(.*)-b(\d+)$/.exec(jobId);
  return m && m[1] === sweepId ? Number(m[2]) : undefined;
}

/** The runs cut into batches of `size`, in run order (batch i holds runs i*size ..). */
export function batches<T>(runs: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`a batch must hold at least 1 run, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < runs.length; i += size) out.push(runs.slice(i, i + size));
  return out;
}

/**
 * A number JSON keeps as it is, or its text: BullMQ stores a job's return value as JSON, which turns NaN and
 * ±Infinity into null and -0 into 0. Results cross the queue encoded so that a queued sweep stores exactly the
 * rows a local one does (the DuckDB writer makes NaN and infinities NULL itself, but the values are the run's).
 */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

const encodeNumber = (x: number): WireNumber =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : Object.is(x, -0) ? '-0' : x;
const decodeNumber = (x: WireNumber): number => (typeof x === 'number' ? x : x === '-0' ? -0 : Number(x));

type Wire<T> = { [K in keyof T]: T[K] extends number ? WireNumber : T[K] extends number | null ? WireNumber | null : T[K] };
export type WireResult = Wire<SweepResult>;

const NUMBERS = ['index', 'window', 'from', 'to', 'bars', 'finalEquity', 'periods', 'maxDrawdown', 'trades'] as const;
const NULLABLE = ['sharpe', 'sortino', 'cagr'] as const;

/** A result's metrics for the wire: its report, if any, travels apart (encodeReport). */
export function encodeResult(r: SweepResult): WireResult {
  const { report: _report, ...metrics } = r;
  const out = metrics as unknown as Record<string, unknown>;
  for (const k of NUMBERS) out[k] = encodeNumber(r[k]);
  for (const k of NULLABLE) out[k] = r[k] === null ? null : encodeNumber(r[k]);
  return out as WireResult;
}

export function decodeResult(w: WireResult): SweepResult {
  const out = { ...w } as unknown as Record<string, unknown>;
  for (const k of NUMBERS) out[k] = decodeNumber(w[k]);
  for (const k of NULLABLE) out[k] = w[k] === null ? null : decodeNumber(w[k]);
  return out as unknown as SweepResult;
}

/**
 * A run's report.json text on the wire: gzip, then base64 (BullMQ keeps a job's return value as a JSON string in
 * Redis until the submitter has stored the whole sweep). Measured: a daily sma-cross run of SPY and AAPL over
 * 1998-2021 writes a report of 1,803,967 bytes, 334,168 gzipped (level 6, 45 ms), 445,557 in base64: a quarter.
 * Level 9 saves 3% for 3x the time and brotli (quality 5 or 9) no more than that, so gzip's default is kept.
 */
export interface WireReport {
  index: number;
  gzip: string;
}

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** Compressed on libuv's threads: the worker's event loop stays free to renew its jobs' locks. */
export async function encodeReport(index: number, json: string): Promise<WireReport> {
  return { index, gzip: (await gzip(Buffer.from(json, 'utf8'))).toString('base64') };
}

/** The report.json text, byte for byte as the worker's thread wrote it (gzip's CRC checks it). */
export async function decodeReport(w: WireReport): Promise<string> {
  return (await gunzip(Buffer.from(w.gzip, 'base64'))).toString('utf8');
}

/** What a batch job returns. */
export interface BatchOutput {
  results: WireResult[];
  /** the reports of the runs that asked for one (RunSpec.report), absent when none did */
  reports?: WireReport[];
}

/** A run that failed for good: its index and params, and its job's error. */
export interface RunFailure {
  index: number;
  params: Record<string, unknown>;
  error: string;
}
