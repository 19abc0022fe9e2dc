// npm run import -- <files or dirs...> [--interval 1d] [--db data/market.duckdb] [--tz America/New_York]
//                   [--factors dir | --adjusted] [--sectors constituents.csv] [--max-jump ratio] [--replace-range]
// npm run import -- --lean <LEAN option/future/forex file or folder> [more...] [--db data/market.duckdb]
import { DataError } from '../engine/data/errors.ts';
import { DEFAULT_TZ, importPaths, type ImportPhase, type ImportSummary } from '../engine/data/import.ts';
import { formatLeanSummary, importLean } from '../engine/data/lean-import.ts';
import { DEFAULT_DB_PATH, openStore, type Store } from '../engine/data/store.ts';
import { describeReadError, StoreError } from '../engine/data/store-errors.ts';
import { describeOutputFailure } from '../engine/report/write.ts';
import { defineFlags, flagHelp, FlagError, parseFlags } from './lib/flags.ts';

const FLAGS = defineFlags({
  interval: {
    kind: 'choice',
    choices: ['1m', '5m', '15m', '30m', '1h', '1d'],
    help: 'bar length: 1m, 5m, 15m, 30m, 1h or 1d (default: inferred from the times)',
  },
  db: { kind: 'string', default: DEFAULT_DB_PATH, nonEmpty: true, arg: 'PATH', help: `database file (default ${DEFAULT_DB_PATH})` },
  tz: { kind: 'string', default: DEFAULT_TZ, nonEmpty: true, arg: 'ZONE', help: `exchange time zone of local times (default ${DEFAULT_TZ})` },
  factors: {
    kind: 'string',
    nonEmpty: true,
    arg: 'DIR',
    help: 'LEAN factor files <symbol>.csv of raw files: bars stored raw, splits and\ndividends stored as corporate actions (runs default to --prices raw)',
  },
  adjusted: {
    kind: 'boolean',
    help: 'the files are already split- and dividend-adjusted (e.g. sp500-daily/adjusted):\nrecorded, so runs warn about per-share commissions on them',
  },
  sectors: { kind: 'string', nonEmpty: true, arg: 'CSV', help: 'Symbol,Name,Sector file for instruments.sector' },
  'max-jump': {
    kind: 'number',
    min: 1,
    minExclusive: true,
    arg: 'RATIO',
    help: 'reject a close more than RATIO times (or under 1/RATIO of) the previous\nclose of its symbol, after adjustment (e.g. 1.5; default: no check)',
  },
  'replace-range': {
    kind: 'boolean',
    help: 'each file replaces the stored bars in the time range it covers (stored\nbars in that range it lacks are deleted); default: upsert, new bars\ninserted, changed bars updated, nothing deleted',
  },
  lean: {
    kind: 'string',
    nonEmpty: true,
    arg: 'PATH',
    help: 'LEAN sample options, futures or FX (a file or folder under option/<und>/,\nfuture/<root>/ or forex/<pair>/; further paths may follow): bars, quote\nbars, open interest and instruments; each file replaces its time range',
  },
});

const USAGE = `usage: npm run import -- <files or dirs...> [options]

CSV or Parquet bars: one file per symbol (AAPL.csv), a long file with a symbol column, or a folder
per symbol with a file per day (spy/20131007.csv). Columns: date|timestamp|time|time_et|datetime,
open, high, low, close[, volume].

options:
${flagHelp(FLAGS)}

Every value is checked as stored (with --factors: as adjusted, so a split is no jump): prices within [1e-6, 1e9], volume
within [0, 1e15), dates within 1900-01-01 .. 2099-12-31; symbols are letters, digits and . - _ ^ = /
space. The import is one transaction: any bad row leaves the database as it was.`;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseFlags<typeof FLAGS>>;
  try {
    parsed = parseFlags(FLAGS, { positionals: true });
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    fail(e.message);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  if (flags.lean !== undefined) {
    await mainLean(flags.lean, positionals, flags);
    return;
  }
  if (positionals.length === 0) fail(`no input files\n${USAGE}`);

  const showProgress = process.stderr.isTTY === true && process.env.CI !== 'true';
  const t0 = performance.now();
  let store: Store;
  try {
    store = await openStore(flags.db);
  } catch (e) {
    fail((e as Error).message);
  }
  try {
    const summary = await importPaths(store, positionals, {
      interval: flags.interval,
      tz: flags.tz,
      factorsDir: flags.factors,
      adjustedFiles: flags.adjusted,
      sectors: flags.sectors,
      maxJump: flags['max-jump'],
      replaceRange: flags['replace-range'],
      onProgress: showProgress ? progressLine : undefined,
    });
    if (showProgress) process.stderr.write('\r\x1b[K');
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(summaryLine(summary, flags.db, secs, flags['replace-range']));
  } catch (e) {
    if (showProgress) process.stderr.write('\r\x1b[K');
    // the import is one transaction: whatever failed (a bad row, a full disk, a damaged file), nothing was written
    const message = e instanceof DataError ? e.message : importFailure(flags.db, e as Error);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  } finally {
    store.close();
  }
}

/** npm run import -- --lean PATH [more paths]: options, futures and FX from the LEAN sample (engine/data/lean-import.ts). */
async function mainLean(first: string, more: string[], flags: ReturnType<typeof parseFlags<typeof FLAGS>>['values']): Promise<void> {
  const stockOnly: string[] = (['interval', 'factors', 'adjusted', 'sectors', 'max-jump', 'replace-range'] as const).filter(
    (f) => flags[f] !== undefined && flags[f] !== false,
  );
  if (flags.tz !== DEFAULT_TZ) stockOnly.push('tz');
  if (stockOnly.length > 0) fail(`--${stockOnly[0]} is for stock bar files, not --lean imports (their times, intervals and instruments come from the files)`);
  const showProgress = process.stderr.isTTY === true && process.env.CI !== 'true';
  const t0 = performance.now();
  let store: Store;
  try {
    store = await openStore(flags.db);
  } catch (e) {
    fail((e as Error).message);
  }
  try {
    const summary = await importLean(store, [first, ...more], {
      onProgress: showProgress ? (done, total) => process.stderr.write(`\r\x1b[Kreading LEAN files ${done}/${total}`) : undefined,
    });
    if (showProgress) process.stderr.write('\r\x1b[K');
    const { lines, warning } = formatLeanSummary(summary, flags.db, ((performance.now() - t0) / 1000).toFixed(1));
    console.log(lines.join('\n'));
    if (warning) process.stderr.write(`warning: ${warning}\n`);
  } catch (e) {
    if (showProgress) process.stderr.write('\r\x1b[K');
    const message = e instanceof DataError ? e.message : importFailure(flags.db, e as Error);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  } finally {
    store.close();
  }
}

/** A failure that is not the data's: the database file named, the cause in a line, what to do. */
function importFailure(db: string, e: Error): string {
  const damaged = describeReadError(db, e);
  if (damaged instanceof StoreError) return damaged.message;
  return describeOutputFailure(e, db, { elsewhere: 'import into a --db on another disk', outcome: 'the import was rolled back: the database is as it was' })
    .message;
}

/**
 * `imported 2 rows of 1 symbol (1d) into data/market.duckdb in 0.4 s: 0 inserted, 2 updated, 0 unchanged`,
 * then `, 5,325 removed` with --replace-range and `; adjusted 1 with factor files` when some were.
 */
function summaryLine(s: ImportSummary, db: string, secs: string, replaceRange: boolean): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const plural = s.symbols.length === 1 ? '' : 's';
  let line = `imported ${n(s.rows)} row${s.rows === 1 ? '' : 's'} of ${n(s.symbols.length)} symbol${plural} (${s.interval}) into ${db} in ${secs} s`;
  line += `: ${n(s.inserted)} inserted, ${n(s.updated)} updated, ${n(s.unchanged)} unchanged`;
  if (replaceRange) line += `, ${n(s.removed)} removed`;
  if (s.adjusted.length > 0) line += `; ${s.adjusted.length} stored raw with factor files, ${n(s.actions ?? 0)} splits and dividends`;
  return line;
}

function progressLine(done: number, total: number, phase: ImportPhase): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const text = phase === 'read' ? `reading files ${n(done)}/${n(total)}` : phase === 'check' ? `checking ${n(total)} rows` : `writing ${n(total)} rows`;
  process.stderr.write(`\r\x1b[K${text}`);
}

await main();
