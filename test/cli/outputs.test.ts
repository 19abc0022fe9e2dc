// A backtest's outputs are all or nothing: when any of report.json, report.html or the journal cannot be
// written, the run exits 1 with a message naming the file and the cause, and the previous outputs stay
// byte for byte as they were, with no temporary file left behind.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticMinuteDb } from '../../scripts/bench/big-run.ts';
import { describeOutputFailure } from '../../engine/report/index.ts';
import { devFullWorks } from '../live/broker-faults-full-disk.ts';
import { ROOT, runCli } from './run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-outputs-'));
const db = path.join(tmp, 'market.duckdb');
// no commission: synthetic prices have no known basis, and a per-share commission (the run default) would warn on them
const base = ['--data', db, '--interval', '1m', '--strategy', 'sma-cross', '--commission', 'none'];
const OLD = [...base, '--params', '{"fast":10,"slow":30}'];
const NEW = [...base, '--params', '{"fast":5,"slow":20}'];
const PRELOAD = path.join(ROOT, 'test/cli/full-disk-preload.ts');

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every row of every table, read without writing anything to the file. */
async function fingerprint(file: string): Promise<string> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    const tables = (await conn.runAndReadAll(`SELECT table_name FROM information_schema.tables ORDER BY 1`)).getRowObjectsJS().map((r) => String(r.table_name));
    const h = createHash('sha256');
    for (const t of tables)
      h.update(
        t + JSON.stringify((await conn.runAndReadAll(`SELECT * FROM ${t} ORDER BY ALL`)).getRowObjectsJS(), (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
    return h.digest('hex');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The state of an output folder: each file's sha256 (temporary files would show up here too). */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, sha(path.join(dir, f))]),
  );
}

/** A first, successful run into `dir`: the outputs a failed run must leave alone. */
function firstRun(name: string): string {
  const dir = path.join(tmp, name);
  const r = runCli('backtest.ts', [...OLD, '--out', dir]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(readdirSync(dir).sort()).toEqual(['journal.duckdb', 'report.html', 'report.json']);
  return dir;
}

/** The run that fails must be one that would have replaced the outputs: it does, once nothing stops it. */
function expectNewRunReplaces(dir: string, before: Record<string, string>): void {
  const r = runCli('backtest.ts', [...NEW, '--out', dir]);
  expect(r.code).toBe(0);
  const after = snapshot(dir);
  expect(after['report.json']).not.toBe(before['report.json']);
  expect(after['report.html']).not.toBe(before['report.html']);
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

beforeAll(async () => {
  // four symbols of seeded random-walk minute bars: a run of about a second with a few hundred orders
  await syntheticMinuteDb(db, 12_000, 4);
});

const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('npm run backtest: outputs all or nothing', () => {
  it('a journal locked by another process: exit 1 naming the file and the holder, previous outputs intact, no temp file', async () => {
    const dir = firstRun('locked');
    const journal = path.join(dir, 'journal.duckdb');
    const before = snapshot(dir);
    const print = await fingerprint(journal);

    // another process holds the journal (read-only, as a notebook would) for up to a minute
    const holder = await holdOpen(journal);

    const t0 = performance.now();
    const r = runCli('backtest.ts', [...NEW, '--out', dir]);
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(seconds).toBeLessThan(60);
    expect(r.stderr).toMatch(/^error: cannot (write|open) /);
    expect(r.stderr).toContain(journal.slice(dir.length)); // the journal file ...
    expect(r.stderr).toMatch(new RegExp(`(PID|process) ${holder.pid}\\b`)); // ... and who holds it
    expect(r.stderr).toMatch(/[Nn]othing was replaced: the previous outputs are intact/);
    noStack(r.stderr);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot(dir)).toEqual(before);

    await release(holder);
    expect(await fingerprint(journal)).toBe(print);
    expectNewRunReplaces(dir, before);
  });

  it.skipIf(!devFullWorks())(
    'a full disk while writing report.html (real ENOSPC from /dev/full): exit 1 naming the file, previous outputs intact, no temp file',
    async () => {
      const dir = firstRun('full');
      const before = snapshot(dir);
      const print = await fingerprint(path.join(dir, 'journal.duckdb'));
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', PRELOAD, path.join(ROOT, 'scripts/backtest.ts'), ...NEW, '--out', dir], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, TB_FULL_DISK_MATCH: String.raw`/\.report\.html\.\d+\.\d+\.tmp$` },
        timeout: 120_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `error: cannot write report.html in ${dir}: the disk is full (ENOSPC); nothing was replaced: the previous outputs are intact. Free space or use --out (and --journal) on another disk`,
      );
      expect(snapshot(dir)).toEqual(before);
      expect(await fingerprint(path.join(dir, 'journal.duckdb'))).toBe(print);
      expectNewRunReplaces(dir, before);
    },
  );

  it.skipIf(!devFullWorks())('a full disk while writing report.json into a new folder: nothing is left there', () => {
    const dir = path.join(tmp, 'fresh');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', PRELOAD, path.join(ROOT, 'scripts/backtest.ts'), ...NEW, '--out', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TB_FULL_DISK_MATCH: String.raw`/\.report\.json\.\d+\.\d+\.tmp$` },
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot write report.json in ${dir}: the disk is full (ENOSPC)`);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});

describe('npm run backtest --report: only the reports asked for', () => {
  it('json, html and none write those files (the same bytes as --report all) and remove the other report left in --out', async () => {
    const dir = path.join(tmp, 'modes');
    const all = runCli('backtest.ts', [...NEW, '--out', dir]);
    expect(all.code).toBe(0);
    const ref = { json: readFileSync(path.join(dir, 'report.json')), html: readFileSync(path.join(dir, 'report.html')) };
    const journal = await fingerprint(path.join(dir, 'journal.duckdb'));
    const wrote = (stdout: string) => [...stdout.matchAll(/^wrote (.+)$/gm)].map((m) => path.basename(m[1]));
    const removed = (stdout: string) => [...stdout.matchAll(/^removed (\S+)/gm)].map((m) => path.basename(m[1]));
    expect(wrote(all.stdout)).toEqual(['report.json', 'report.html', 'journal.duckdb']);

    const json = runCli('backtest.ts', [...NEW, '--out', dir, '--report', 'json']);
    expect(json.code).toBe(0);
    expect(wrote(json.stdout)).toEqual(['report.json', 'journal.duckdb']);
    expect(removed(json.stdout)).toEqual(['report.html']);
    expect(readdirSync(dir).sort()).toEqual(['journal.duckdb', 'report.json']);
    expect(readFileSync(path.join(dir, 'report.json')).equals(ref.json)).toBe(true);

    const html = runCli('backtest.ts', [...NEW, '--out', dir, '--report', 'html']);
    expect(html.code).toBe(0);
    expect(wrote(html.stdout)).toEqual(['report.html', 'journal.duckdb']);
    expect(removed(html.stdout)).toEqual(['report.json']);
    expect(readdirSync(dir).sort()).toEqual(['journal.duckdb', 'report.html']);
    expect(readFileSync(path.join(dir, 'report.html')).equals(ref.html)).toBe(true);

    const none = runCli('backtest.ts', [...NEW, '--out', dir, '--report', 'none']);
    expect(none.code).toBe(0);
    expect(none.stderr).toBe('');
    expect(wrote(none.stdout)).toEqual(['journal.duckdb']);
    expect(removed(none.stdout)).toEqual(['report.html']);
    expect(readdirSync(dir)).toEqual(['journal.duckdb']);
    // the same run, the same run id and journal rows whatever the reports
    expect(none.stdout.match(/run [0-9a-f]{16}/)![0]).toBe(all.stdout.match(/run [0-9a-f]{16}/)![0]);
    expect(await fingerprint(path.join(dir, 'journal.duckdb'))).toBe(journal);
  });
});

/** Holds `file` open (read-only, as a notebook would) in another process until killed; resolves once it is open. */
async function holdOpen(file: string): Promise<ReturnType<typeof spawn>> {
  const holder = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/journal/hold-child.ts'), file, '60000'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(holder);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (b: Buffer) => b.toString().includes('open') && resolve());
    holder.on('exit', (code) => reject(new Error(`the lock holder exited ${code}`)));
  });
  return holder;
}

const release = async (holder: ReturnType<typeof spawn>) => {
  holder.kill('SIGKILL');
  if (holder.exitCode === null && holder.signalCode === null) await new Promise((resolve) => holder.once('exit', resolve));
};

describe('npm run sweep and npm run train: outputs all or nothing', () => {
  it('a sweep database locked by another process: exit 1 naming it and the holder, the database as it was', async () => {
    const file = path.join(tmp, 'sweep.duckdb');
    const args = ['--data', db, '--interval', '1m', '--workers', '1', '--db', file];
    const first = runCli('sweep.ts', [...args, '--grid', '{"fast":[5,10],"slow":[30]}']);
    expect(first.code).toBe(0);
    const print = await fingerprint(file);
    const holder = await holdOpen(file);
    const r = runCli('sweep.ts', [...args, '--grid', '{"fast":[3,4],"slow":[20]}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sweep.duckdb');
    expect(r.stderr).toMatch(new RegExp(`(PID|process) ${holder.pid}\\b`));
    expect(r.stderr).toMatch(/[Nn]othing was replaced: the previous outputs are intact/);
    noStack(r.stderr);
    await release(holder);
    expect(await fingerprint(file)).toBe(print);
  });

  it.skipIf(!devFullWorks())('train: a full disk when the evaluated model is written leaves the previous model as it was, and no staging folder', () => {
    const models = path.join(tmp, 'models');
    const out = path.join(models, 'gbt');
    // enough daily history for a model: the synthetic minutes are not it, so a year of made-up daily bars
    const daily = path.join(tmp, 'daily.duckdb');
    const gen = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const i = await DuckDBInstance.create(${JSON.stringify(daily)}); const c = await i.connect();
      await c.run("CREATE TABLE instruments (symbol VARCHAR PRIMARY KEY, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, sector VARCHAR, tick_size DOUBLE, tz VARCHAR)");
      await c.run("CREATE TABLE bars (symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL, ts BIGINT NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL, PRIMARY KEY (symbol, interval, ts))");
      await c.run("INSERT INTO bars SELECT 'S' || s, '1d', ${Date.UTC(2010, 0, 4)} + i * 86400000, c, c * 1.01, c * 0.99, c, 1e6 FROM (SELECT s, i, 100 * exp(sum(((hash(s * 7919 + i) % 1000) / 1000.0 - 0.5) * 0.03) OVER (PARTITION BY s ORDER BY i)) AS c FROM range(3) a(s), range(2500) b(i))");
      c.closeSync(); i.closeSync();`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(gen.stderr).toBe('');
    const args = ['--data', daily, '--out', out, '--test-from', '2014-01-01', '--folds', '2'];
    const first = runCli('train.ts', args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const before = snapshot(out);
    // the second run writes model.onnx twice (before and after its evaluation): the disk fills up at the second
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', PRELOAD, path.join(ROOT, 'scripts/train.ts'), ...args, '--horizon', '2'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TB_FULL_DISK_MATCH: String.raw`model\.onnx\.tmp$`, TB_FULL_DISK_SKIP: '1' },
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the disk is full \(ENOSPC\)/);
    noStack(r.stderr);
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(models)).toEqual(['gbt']);
  });
});

describe('describeOutputFailure', () => {
  const journal = '/data/out/x/journal.duckdb';

  it("maps DuckDB's full-disk error (as the appender and the checkpoint raise it) to the clear message", () => {
    // the text @duckdb/node-api 1.5.5-r.5 gives when DuckDBAppender.flushSync hits a full file system (seen on
    // a 2 MB tmpfs filled up), and the same cause as a plain IO Error
    for (const text of [
      'Failed to append: Could not write file "/data/out/x/journal.duckdb": No space left on device',
      'IO Error: Could not write file "/data/out/x/journal.duckdb.wal": No space left on device',
    ]) {
      const e = describeOutputFailure(new Error(text), journal, { elsewhere: 'use --out on another disk' });
      expect(e.message).toBe(
        'cannot write journal.duckdb in /data/out/x: the disk is full (ENOSPC); nothing was replaced: the previous outputs are intact. Free space or use --out on another disk',
      );
      expect(e.code).toBe('ENOSPC');
    }
  });

  it("maps DuckDB's lock conflict to the holder's program and PID", () => {
    const text =
      'cannot open /data/out/x/journal.duckdb: IO Error: Could not set lock on file "/data/out/x/journal.duckdb": Conflicting lock is held in /usr/bin/node (PID 4242) by user root. See also https://duckdb.org/docs/stable/connect/concurrency';
    const e = describeOutputFailure(new Error(text), journal, { otherFile: 'use --journal with another file' });
    expect(e.message).toBe(
      'cannot write journal.duckdb in /data/out/x: it is locked by another process (/usr/bin/node, PID 4242); nothing was replaced: the previous outputs are intact. Stop that process (or wait for it to finish) or use --journal with another file',
    );
  });

  it('names errno failures of node:fs, and keeps only the first line of an unknown error', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(describeOutputFailure(enospc, '/o/report.html').message).toBe(
      'cannot write report.html in /o: the disk is full (ENOSPC); nothing was replaced: the previous outputs are intact. Free space',
    );
    const eacces = Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
    expect(describeOutputFailure(eacces, '/o/report.json').message).toContain('permission denied (EACCES)');
    expect(describeOutputFailure(new Error('odd\n    at x (y.ts:1:1)'), '/o/report.json').message).toBe(
      'cannot write report.json in /o: odd; nothing was replaced: the previous outputs are intact',
    );
  });
});
