// Many readers share one market database; a writer needs it alone, and every refusal says who holds the file
// and what to do. Also what DuckDB does with a .wal left by a killed writer (whole or truncated) and with a
// damaged file, and what we say about it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBars } from '../../engine/data/load.ts';
import { ensureSampleDb, SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { StoreError } from '../../engine/data/store-errors.ts';
import { walPath } from '../../engine/data/store-paths.ts';
import { inspectWal } from '../../engine/data/wal-check.ts';
import { ROOT } from '../cli/run-cli.ts';
import { caught, fingerprint, tempDir } from './helpers.ts';

const tmp = tempDir('tradebench-concurrency-');
const db = path.join(tmp.dir, 'market.duckdb');
const STORE_TS = path.join(ROOT, 'engine/data/store.ts');

/**
 * A child that opens the database with openStore (the helper notebooks use: `openStore(file, { readOnly: true })`),
 * prints `ready <pid> <bars>` and holds it until its stdin closes. `mode` 'rw' holds the write lock, as an import does.
 */
const HOLDER = path.join(tmp.dir, 'holder.mts');
writeFileSync(
  HOLDER,
  `import { openStore } from ${JSON.stringify(STORE_TS)};
const [file, mode] = process.argv.slice(2);
const store = await openStore(file, { readOnly: mode === 'ro' });
const r = await store.conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM bars');
process.stdout.write('ready ' + process.pid + ' ' + r.getRowObjectsJS()[0].n + '\\n');
process.stdin.resume();
process.stdin.on('end', () => { store.close(); process.exit(0); });
`,
);

/**
 * A child that writes bars of a new symbol ZZZ in two transactions (one bar, then two more), as imports do, and
 * is killed (SIGKILL) right after the second commit, before any checkpoint: both commits are only in the .wal.
 */
const KILLED_WRITER = path.join(tmp.dir, 'killed-writer.mts');
writeFileSync(
  KILLED_WRITER,
  `import { openStore } from ${JSON.stringify(STORE_TS)};
const [file] = process.argv.slice(2);
const store = await openStore(file);
await store.conn.run('BEGIN TRANSACTION');
await store.conn.run("INSERT INTO bars VALUES ('ZZZ', '1d', 1577923200000, 1, 2, 0.5, 1.5, 100)");
await store.conn.run("INSERT INTO instruments (symbol) VALUES ('ZZZ')");
await store.conn.run('COMMIT');
await store.conn.run('BEGIN TRANSACTION');
await store.conn.run("INSERT INTO bars VALUES ('ZZZ', '1d', 1578009600000, 1.5, 2, 1, 1.8, 100), ('ZZZ', '1d', 1578268800000, 1.8, 2, 1.2, 1.9, 100)");
await store.conn.run('COMMIT');
process.kill(process.pid, 'SIGKILL');
`,
);

/**
 * The bundled sample's daily bars (SPY, AAPL, IBM, as they are in the files) written straight with SQL, so these
 * tests do not depend on the importer's details.
 */
async function sampleDailyDb(file: string): Promise<void> {
  const store = await openStore(file);
  try {
    const glob = path.join(SAMPLE_DIR, 'daily', '*.csv').replaceAll("'", "''");
    await store.conn.run(`INSERT INTO bars SELECT upper(regexp_extract(filename, '([a-z]+)\\.csv$', 1)), '1d', epoch_ms(date::TIMESTAMP), open, high, low, close, volume
      FROM read_csv('${glob}', filename = true, columns = {date: DATE, open: DOUBLE, high: DOUBLE, low: DOUBLE, close: DOUBLE, volume: DOUBLE}, header = true)`);
    await store.conn.run(`INSERT INTO instruments (symbol) SELECT DISTINCT symbol FROM bars`);
  } finally {
    store.close();
  }
}

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], timeoutMs = 120_000): Promise<Done> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} took over ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const cli = (script: string, args: string[]) => run([path.join(ROOT, 'scripts', script), ...args]);

/** Starts a holder and waits for it to hold the file. */
async function hold(file: string, mode: 'ro' | 'rw'): Promise<{ pid: number; bars: number; child: ChildProcess; release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, file, mode], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holder did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
    child.on('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
  });
  const [, pid, bars] = line.split(' ');
  expect(Number(pid)).toBe(child.pid);
  return {
    pid: Number(pid),
    bars: Number(bars),
    child,
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

async function fingerprintOf(file: string): Promise<Record<string, string>> {
  const store = await openStore(file, { readOnly: true, warn: () => undefined });
  try {
    return await fingerprint(store);
  } finally {
    store.close();
  }
}

/** The database is written with SQL (no price bases: an old-style one): ibkr-fixed on bars of unknown basis is warned about, once. */
const UNKNOWN_BASIS =
  /^warning: commission ibkr-fixed is charged per share, and this run trades prices of unknown basis \(SPY, AAPL\)[^\n]*--prices raw[^\n]*\n$/;
const BACKTEST = ['--strategy', 'sma-cross', '--params', '{"fast":10,"slow":30}', '--symbols', 'SPY,AAPL', '--commission', 'ibkr-fixed'];

beforeAll(async () => {
  await sampleDailyDb(db);
  expect(existsSync(walPath(db))).toBe(false); // a clean close checkpoints: no .wal left
}, 60_000);
afterAll(() => tmp.cleanup());

describe('one market database, many readers', () => {
  it('two backtests run while a notebook holds the database read-only, with identical results; an import is refused naming the reader', {
    timeout: 240_000,
  }, async () => {
    const before = await fingerprintOf(db);
    const notebook = await hold(db, 'ro');
    try {
      expect(notebook.bars).toBe(17_547);
      const [a, b] = await Promise.all([
        cli('backtest.ts', ['--data', db, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-a')]),
        cli('backtest.ts', ['--data', db, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-b')]),
      ]);
      expect(a.stderr).toMatch(UNKNOWN_BASIS);
      expect(b.stderr).toMatch(UNKNOWN_BASIS);
      expect([a.code, b.code]).toEqual([0, 0]);
      const report = (d: string) => readFileSync(path.join(tmp.dir, d, 'report.json'));
      expect(report('bt-b').equals(report('bt-a'))).toBe(true);
      expect(JSON.parse(report('bt-a').toString()).trades.length).toBeGreaterThan(10);

      // an import needs the file to itself: refused at once, naming the file and the reader's PID
      const csv = path.join(tmp.dir, 'zzz.csv');
      writeFileSync(csv, 'date,open,high,low,close,volume\n2020-01-02,1,2,0.5,1.5,100\n2020-01-03,1.5,2,1,1.8,100\n');
      const imp = await cli('import.ts', [csv, '--db', db, '--interval', '1d']);
      expect(imp.code).toBe(1);
      expect(imp.stderr).toContain(`cannot write ${db}`);
      expect(imp.stderr).toContain(`process ${notebook.pid} (`);
      expect(imp.stderr).toContain('holder.mts'); // the holder's command line, from /proc
      expect(imp.stderr).toMatch(/open for reading.*Close that reader/s);
      expect(imp.ms).toBeLessThan(30_000);
      expect(await fingerprintOf(db)).toEqual(before);
    } finally {
      await notebook.release();
    }
  });

  it('a backtest while an import holds the write lock says who writes and to wait; it runs once the writer is done', { timeout: 180_000 }, async () => {
    const writer = await hold(db, 'rw');
    let released = false;
    try {
      const r = await cli('backtest.ts', ['--data', db, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-locked')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot read ${db}: process ${writer.pid} (`);
      expect(r.stderr).toMatch(/open for writing.*Wait for the import to finish/s);
      expect(r.ms).toBeLessThan(30_000);
      // in-process too: a StoreError with the holder
      const e = await caught(() => openStore(db, { readOnly: true }));
      expect(e).toBeInstanceOf(StoreError);
      expect(e).toMatchObject({ kind: 'locked', file: db, holder: { pid: writer.pid, readOnly: false } });
      await writer.release();
      released = true;
      const ok = await cli('backtest.ts', ['--data', db, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-after')]);
      expect(ok.stderr).toMatch(UNKNOWN_BASIS);
      expect(ok.code).toBe(0);
    } finally {
      if (!released) await writer.release();
    }
  });

  it('a read-only open of a missing file says so and does not create it', async () => {
    const missing = path.join(tmp.dir, 'nope', 'market.duckdb');
    const e = await caught(() => openStore(missing, { readOnly: true }));
    expect(e).toMatchObject({ kind: 'missing', file: missing });
    expect(e.message).toContain(`${missing}: no such database`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(path.dirname(missing))).toBe(false);
  });

  it('a read-only open of a DuckDB file without market tables says it is not a market database', async () => {
    const other = path.join(tmp.dir, 'other.duckdb');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(other);
    (await inst.connect()).closeSync();
    inst.closeSync();
    const e = await caught(() => openStore(other, { readOnly: true }));
    expect(e).toMatchObject({ kind: 'not-market-data', file: other });
  });

  it('the first use imports the sample with the write lock once; later it only reads, so it runs beside a reader', { timeout: 120_000 }, async () => {
    const fresh = path.join(tmp.dir, 'first-use', 'market.duckdb');
    const quiet = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await ensureSampleDb(fresh)).toBe(true);
    } finally {
      process.stderr.write = quiet;
    }
    expect(existsSync(walPath(fresh))).toBe(false);
    const reader = await hold(fresh, 'ro');
    try {
      expect(await ensureSampleDb(fresh)).toBe(false); // no write lock asked for: the reader is no obstacle
    } finally {
      await reader.release();
    }
  });

  it('two first uses at once: one imports the sample, the other waits for it, both read the same bars', { timeout: 120_000 }, async () => {
    const fresh = path.join(tmp.dir, 'first-use-2', 'market.duckdb');
    const FIRST = path.join(tmp.dir, 'first-use.mts');
    writeFileSync(
      FIRST,
      `import { ensureSampleDb } from ${JSON.stringify(path.join(ROOT, 'engine/data/sample.ts'))};
import { openStore } from ${JSON.stringify(STORE_TS)};
const imported = await ensureSampleDb(process.argv[2]);
const s = await openStore(process.argv[2], { readOnly: true });
const n = (await s.conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM bars')).getRowObjectsJS()[0].n;
s.close();
console.log(JSON.stringify({ imported, n }));
`,
    );
    const both = await Promise.all([run([FIRST, fresh]), run([FIRST, fresh])]);
    for (const r of both) expect(r.code, r.stderr).toBe(0);
    const out = both.map((r) => JSON.parse(r.stdout));
    expect(out.map((o) => o.imported).sort()).toEqual([false, true]);
    expect(out[0].n).toBe(out[1].n);
    expect(out[0].n).toBeGreaterThan(17_000);
    expect(existsSync(walPath(fresh))).toBe(false);
  });
});

describe('damaged files', () => {
  // A .wal left by a writer killed after its last commit (before the checkpoint a clean close makes).
  async function killedWriter(name: string): Promise<{ base: string; wal: Buffer; withZzz: Record<string, string> }> {
    const base = path.join(tmp.dir, `${name}.duckdb`);
    copyFileSync(db, base);
    const r = await run([KILLED_WRITER, base]);
    expect(r.code).toBe(null); // killed
    expect(existsSync(walPath(base))).toBe(true);
    const wal = readFileSync(walPath(base));
    // the whole .wal: the import is there
    const copy = path.join(tmp.dir, `${name}-whole.duckdb`);
    copyFileSync(base, copy);
    writeFileSync(walPath(copy), wal);
    const withZzz = await fingerprintOf(copy);
    expect(withZzz.bars).toBe(String(17_547 + 3));
    return { base, wal, withZzz };
  }

  it('a .wal left by a killed writer: a whole one is applied and said; one truncated by 100 bytes silently loses the last commit in DuckDB, and we say so', {
    timeout: 120_000,
  }, async () => {
    const { base, wal, withZzz } = await killedWriter('killed-1');

    // whole: read-only opens apply it in memory and leave it; the warning names the file
    const whole = path.join(tmp.dir, 'whole2.duckdb');
    copyFileSync(base, whole);
    writeFileSync(walPath(whole), wal);
    expect(inspectWal(walPath(whole))).toMatchObject({ state: 'whole', tailBytes: 0 });
    const warnings: string[] = [];
    const s1 = await openStore(whole, { readOnly: true, warn: (m) => warnings.push(m) });
    expect(await fingerprint(s1)).toEqual(withZzz);
    s1.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`found ${walPath(whole)}`);
    expect(warnings[0]).toMatch(/did not finish cleanly.*complete and applied/s);
    expect(existsSync(walPath(whole))).toBe(true);

    // truncated by 100 bytes: DuckDB opens it without a word and the import is gone; we say so
    const torn = path.join(tmp.dir, 'torn.duckdb');
    copyFileSync(base, torn);
    writeFileSync(walPath(torn), wal.subarray(0, wal.length - 100));
    expect(inspectWal(walPath(torn))).toMatchObject({ state: 'torn' });
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const raw = await DuckDBInstance.create(torn, { access_mode: 'READ_ONLY' }); // DuckDB itself: no error
    raw.closeSync();
    warnings.length = 0;
    const s2 = await openStore(torn, { readOnly: true, warn: (m) => warnings.push(m) });
    const zzz = async (s: Awaited<ReturnType<typeof openStore>>) =>
      Number((await s.conn.runAndReadAll(`SELECT count(*) FILTER (WHERE symbol = 'ZZZ') AS z, count(*) AS n FROM bars`)).getRowObjectsJS()[0]!.z);
    expect(await zzz(s2)).toBe(1); // the first commit is there, the last one (two more bars) is dropped
    s2.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`found ${walPath(torn)}`);
    expect(warnings[0]).toMatch(
      /ends inside a commit.*applies the 1 complete commit before it.*silently drops the cut-off one.*NOT in the database.*Re-run the last import/s,
    );

    // a read-write open (an import) says the same, keeps a copy of the torn .wal, and DuckDB folds in the rest
    warnings.length = 0;
    const s3 = await openStore(torn, { warn: (m) => warnings.push(m) });
    s3.close();
    expect(warnings[0]).toMatch(/ends inside a commit/);
    expect(warnings[0]).toContain(`kept as ${walPath(torn)}.torn`);
    expect(statSync(`${walPath(torn)}.torn`).size).toBe(wal.length - 100);
    const s4 = await openStore(torn, { readOnly: true, warn: () => undefined });
    expect(await zzz(s4)).toBe(1);
    s4.close();

    // a backtest on a torn database runs, and prints the warning
    const torn2 = path.join(tmp.dir, 'torn2.duckdb');
    copyFileSync(base, torn2);
    writeFileSync(walPath(torn2), wal.subarray(0, wal.length - 100));
    const bt = await cli('backtest.ts', ['--data', torn2, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-torn')]);
    expect(bt.code).toBe(0);
    expect(bt.stderr).toMatch(new RegExp(`warning: ${torn2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: found .*ends inside a commit`));
  });

  it('the .wal check reads both header layouts DuckDB 1.5 writes (with and without the database identifier)', { timeout: 60_000 }, async () => {
    const WRITER = path.join(tmp.dir, 'raw-writer.mts');
    writeFileSync(
      WRITER,
      `import { DuckDBInstance } from ${JSON.stringify(createRequire(path.join(ROOT, 'package.json')).resolve('@duckdb/node-api'))};
const [file, storage] = process.argv.slice(2);
const inst = await DuckDBInstance.create(file, storage === 'default' ? {} : { storage_compatibility_version: storage });
const c = await inst.connect();
await c.run('CREATE TABLE t (i INTEGER)');
await c.run('CHECKPOINT');
for (let k = 0; k < 3; k++) await c.run('INSERT INTO t SELECT range FROM range(1000)');
process.kill(process.pid, 'SIGKILL');
`,
    );
    for (const storage of ['default', 'latest']) {
      const f = path.join(tmp.dir, `raw-${storage}.duckdb`);
      await run([WRITER, f, storage]);
      const wal = walPath(f);
      expect(inspectWal(wal)).toMatchObject({ state: 'whole', commits: 3, tailBytes: 0 });
      truncateSync(wal, statSync(wal).size - 100);
      expect(inspectWal(wal)).toMatchObject({ state: 'torn', commits: 2 });
    }
  });

  it('a .wal with a damaged entry is refused by DuckDB: the message names the .wal and what to do', async () => {
    const { base, wal } = await killedWriter('killed-2');
    const bad = path.join(tmp.dir, 'badwal.duckdb');
    copyFileSync(base, bad);
    const flipped = Buffer.from(wal);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    writeFileSync(walPath(bad), flipped);
    const e = await caught(() => openStore(bad, { readOnly: true }));
    expect(e).toMatchObject({ kind: 'damaged', file: bad });
    expect(e.message).toContain(`its write-ahead log ${walPath(bad)} is damaged`);
    expect(e.message).toMatch(/Restore the database from a backup, or move .* aside/);
  }, 120_000);

  it('a damaged or truncated database file: the message names the file and says restore or re-import', { timeout: 120_000 }, async () => {
    const size = statSync(db).size;
    const cases: [string, (f: string) => void][] = [
      // (the end of a file is often free blocks: cutting those off goes unnoticed, and reads give every bar)
      ['truncated to a quarter', (f) => truncateSync(f, Math.floor(size / 4 / 4096) * 4096)],
      [
        'a data block overwritten',
        (f) => {
          const b = readFileSync(f);
          b.fill(0x5a, 12_288 + 100, 12_288 + 200); // the first 256 KiB block after the three headers
          writeFileSync(f, b);
        },
      ],
      [
        'header overwritten',
        (f) => {
          const b = readFileSync(f);
          b.fill(0x5a, 0, 64);
          writeFileSync(f, b);
        },
      ],
      ['empty', (f) => truncateSync(f, 0)],
    ];
    for (const [name, damage] of cases) {
      const f = path.join(tmp.dir, `damaged-${name.replaceAll(' ', '-')}.duckdb`);
      copyFileSync(db, f);
      damage(f);
      const e = await caught(async () => {
        const s = await openStore(f, { readOnly: true });
        try {
          await loadBars(s, { symbols: ['SPY', 'AAPL', 'IBM'], interval: '1d' });
        } finally {
          s.close();
        }
      });
      expect(e, `${name}: ${e.message}`).toBeInstanceOf(StoreError);
      expect(e.kind, `${name}: ${e.message}`).toBe('damaged');
      expect(e.message).toContain(f);
      expect(e.message).toMatch(/Restore it from a backup, or delete it and re-import its data/);
    }
    // and a backtest says the same and exits 1
    const f = path.join(tmp.dir, 'damaged-truncated-to-a-quarter.duckdb');
    const bt = await cli('backtest.ts', ['--data', f, ...BACKTEST, '--out', path.join(tmp.dir, 'bt-damaged')]);
    expect(bt.code).toBe(1);
    expect(bt.stderr).toContain(`${f} is damaged or not a DuckDB database`);
    // an import into a file whose damage shows only while importing (the read-write open succeeds: the
    // damaged block is the stored bars') says so too, without a stack trace
    const second = path.join(tmp.dir, 'damaged-second-block.duckdb');
    copyFileSync(db, second);
    expect(statSync(second).size).toBeGreaterThan(12_288 + 262_144 + 1_100);
    const b = readFileSync(second);
    b.fill(0x5a, 12_288 + 262_144 + 1_000, 12_288 + 262_144 + 1_100);
    writeFileSync(second, b);
    for (const target of [second, f]) {
      const im = await cli('import.ts', [path.join(SAMPLE_DIR, 'daily'), '--interval', '1d', '--db', target]);
      expect(im.code, im.stderr).toBe(1);
      expect(im.stderr).toMatch(new RegExp(`^error: ${target.replaceAll('.', '\\.')} (is damaged or not a DuckDB database|cannot be opened)`));
      expect(im.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
