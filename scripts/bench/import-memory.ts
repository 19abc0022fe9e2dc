// Peak memory of `importPaths` against the size of the input: for each size, a generated daily CSV (one
// long file with a symbol column, 5,000 bars per symbol) is imported into a fresh DuckDB file in a child
// process, which reports its wall time and its peak RSS (process.resourceUsage().maxRSS: the whole
// process, Node and DuckDB, over its life). Generating the file happens in this process, streamed.
//
//   npx tsx scripts/bench/import-memory.ts [rows...]      (default 1000000 5000000 10000000)
//
// benchImportMemory is what `npm run bench` calls.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ImportMemoryResult {
  rows: number;
  /** wall time of the import in the child (open, import, close) */
  seconds: number;
  /** peak resident set size of the child process, MiB */
  peakRssMb: number;
}

const SELF = fileURLToPath(import.meta.url);
const ROWS_PER_SYMBOL = 5_000;
const DAY_MS = 86_400_000;

/** Writes `rows` daily bars (symbol,date,open,high,low,close,volume) to `file`, in bounded memory. */
export function writeBenchCsv(file: string, rows: number): void {
  const fd = openSync(file, 'w');
  try {
    let buf: string[] = ['symbol,date,open,high,low,close,volume'];
    let seed = 12345;
    const rand = () => {
      // xorshift32: deterministic, so every run imports the same file
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const start = Date.UTC(1990, 0, 1);
    let price = 100;
    for (let i = 0; i < rows; i++) {
      const k = i % ROWS_PER_SYMBOL;
      if (k === 0) price = 20 + 180 * rand();
      const sym = `S${String(Math.floor(i / ROWS_PER_SYMBOL)).padStart(5, '0')}`;
      const date = new Date(start + k * DAY_MS).toISOString().slice(0, 10);
      const open = price;
      const close = Math.max(1, price * (1 + (rand() - 0.5) * 0.04));
      const high = Math.max(open, close) * (1 + rand() * 0.01);
      const low = Math.min(open, close) * (1 - rand() * 0.01);
      const volume = Math.floor(1e5 + rand() * 1e7);
      buf.push(`${sym},${date},${open.toFixed(4)},${high.toFixed(4)},${low.toFixed(4)},${close.toFixed(4)},${volume}`);
      price = close;
      if (buf.length >= 65_536) {
        writeSync(fd, `${buf.join('\n')}\n`);
        buf = [];
      }
    }
    if (buf.length > 0) writeSync(fd, `${buf.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
}

/** For each row count: generate, import in a child process, report rows, seconds and peak RSS. */
export async function benchImportMemory(rows: number[]): Promise<ImportMemoryResult[]> {
  const out: ImportMemoryResult[] = [];
  for (const n of rows) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-import-mem-'));
    try {
      const csv = path.join(dir, 'bars.csv');
      writeBenchCsv(csv, n);
      const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', csv, path.join(dir, 'bench.duckdb')], {
        encoding: 'utf8',
        cwd: path.resolve(path.dirname(SELF), '../..'),
        maxBuffer: 1 << 20,
      });
      if (r.status !== 0) throw new Error(`import-memory child for ${n} rows failed (${r.status ?? r.signal}): ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rows: number; seconds: number; peakRssMb: number };
      if (m.rows !== n) throw new Error(`import-memory child imported ${m.rows} rows, expected ${n}`);
      out.push({ rows: n, seconds: m.seconds, peakRssMb: m.peakRssMb });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function child(csv: string, db: string): Promise<void> {
  const { openStore } = await import('../../engine/data/store.ts');
  const { importPaths } = await import('../../engine/data/import.ts');
  const t0 = performance.now();
  const store = await openStore(db);
  let rows: number;
  try {
    rows = (await importPaths(store, [csv], { interval: '1d' })).rows;
  } finally {
    store.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  console.log(JSON.stringify({ rows, seconds: Math.round(seconds * 100) / 100, peakRssMb: Math.round(peakRssMb) }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await child(args[1]!, args[2]!);
  } else {
    const sizes = args.length > 0 ? args.map(Number) : [1_000_000, 5_000_000, 10_000_000];
    for (const r of await benchImportMemory(sizes)) {
      console.log(`${r.rows.toLocaleString('en-US')} rows: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb.toLocaleString('en-US')} MB`);
    }
  }
}
