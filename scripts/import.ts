// npm run import -- <files or dirs...> [--interval 1d] [--db data/market.duckdb] [--tz America/New_York]
//                   [--factors dir] [--sectors constituents.csv]
import { parseArgs } from 'node:util';
import { DataError } from '../engine/data/errors.ts';
import { DEFAULT_TZ, importPaths, type ImportPhase } from '../engine/data/import.ts';
import { DEFAULT_DB_PATH, openStore, type Store } from '../engine/data/store.ts';

const USAGE = `usage: npm run import -- <files or dirs...> [options]

CSV or Parquet bars: one file per symbol (AAPL.csv), a long file with a symbol column, or a folder
per symbol with a file per day (spy/20131007.csv). Columns: date|timestamp|time|time_et|datetime,
open, high, low, close[, volume].

options:
  --interval <1m|5m|15m|30m|1h|1d>  bar length (default: inferred from the times)
  --db <path>                       database file (default ${DEFAULT_DB_PATH})
  --tz <zone>                       exchange time zone of local times (default ${DEFAULT_TZ})
  --factors <dir>                   LEAN factor files <symbol>.csv to adjust raw prices
  --sectors <csv>                   Symbol,Name,Sector file for instruments.sector
  -h, --help`;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        interval: { type: 'string' },
        db: { type: 'string', default: DEFAULT_DB_PATH },
        tz: { type: 'string', default: DEFAULT_TZ },
        factors: { type: 'string' },
        sectors: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    console.log(USAGE);
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
      sectors: flags.sectors,
      onProgress: showProgress ? progressLine : undefined,
    });
    if (showProgress) process.stderr.write('\r\x1b[K');
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const n = (x: number) => x.toLocaleString('en-US');
    const plural = summary.symbols.length === 1 ? '' : 's';
    let line = `imported ${n(summary.rows)} rows of ${n(summary.symbols.length)} symbol${plural} (${summary.interval}) into ${flags.db} in ${secs} s`;
    if (summary.adjusted.length > 0) line += `; adjusted ${summary.adjusted.length} with factor files`;
    if (summary.removed > 0) line += `; removed ${n(summary.removed)} stored bars the new files no longer have`;
    console.log(line);
  } catch (e) {
    if (showProgress) process.stderr.write('\r\x1b[K');
    if (!(e instanceof DataError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  } finally {
    store.close();
  }
}

function progressLine(done: number, total: number, phase: ImportPhase): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const text =
    phase === 'read' ? `reading files ${n(done)}/${n(total)}` : phase === 'check' ? `checking ${n(total)} rows` : `writing ${n(total)} rows`;
  process.stderr.write(`\r\x1b[K${text}`);
}

await main();
