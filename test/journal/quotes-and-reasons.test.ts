// Issue 15 in the journal: a fill's reason (an option exercised, assigned or expiring: not a trade) and a live bar's
// quotes (FX pairs, options: the closing bid and ask) are kept, from backtests and live sessions alike, and read
// back where fills and bars are read; a journal written before these columns existed is migrated in place (the
// columns added at the end of their tables, NULL in its rows) and can still be read without writing to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { journalBars } from '../../engine/journal/journal-replay.ts';
import { type RunRecord, writeJournal } from '../../engine/journal/journal-store.ts';
import { MemoryJournal } from '../../engine/journal/journal.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { loadSession } from '../../engine/journal/session-store.ts';
import { Portfolio } from '../../engine/portfolio/portfolio.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';
import { ASSIGNED, BARS, barEntries, fill, fillEntries, SETTLED, SYMBOLS, T0 } from './quote-entries.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-journal-quotes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The columns of a journal table, in order. */
async function columns(file: string, table: string): Promise<string[]> {
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`);
    return r.getRows().map((x) => String(x[0]));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const OLD_FILLS = ['run_id', 'seq', 'exec_id', 'order_id', 'strategy', 'symbol', 'ts', 'qty', 'price', 'commission'];
const OLD_BARS = ['run_id', 'seq', 'symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const QUOTES = ['bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_size', 'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_size'];

describe('a fill’s reason and a live bar’s quotes', () => {
  it('a live session journals them and a restart reads them back (the worker-thread filler, then a reopen)', async () => {
    const file = path.join(dir, 'live.duckdb');
    const fills = [fill(0), fill(1), SETTLED, ASSIGNED];
    const j = await LiveJournal.open(file, { flushMs: 5 });
    try {
      j.write([...barEntries('s'), ...fillEntries('s', fills)]);
      await j.flush();
      const s = await j.use((conn) => loadSession(conn, 's', SYMBOLS));
      // toEqual: a trade has no reason key's value and a stock's bar no bid/ask; NaN (no ask that minute) stays NaN
      expect(s.fills).toEqual(fills);
      expect(s.bars).toEqual(BARS);
      expect(s.bars[0]).not.toHaveProperty('bid');
      expect(Number.isNaN(s.bars[2].ask)).toBe(true);
    } finally {
      await j.close();
    }
    expect(await columns(file, 'fills')).toEqual([...OLD_FILLS, 'reason']);
    expect(await columns(file, 'live_bars')).toEqual([...OLD_BARS, ...QUOTES]);
    const again = await LiveJournal.open(file);
    try {
      const s = await again.use((conn) => loadSession(conn, 's', SYMBOLS));
      expect(s.fills.map((f) => f.reason ?? null)).toEqual([null, null, 'expiry', 'assignment']);
      expect(s.bars.map((b) => [b.bid, b.ask])).toEqual([
        [undefined, undefined],
        [5.1, 5.2],
        [1.4949, Number.NaN],
      ]);
      // the stored rows: a live bar has only its closing bid and ask, the other quote columns NULL; a stock's all NULL
      const rows = await again.use(async (conn) => (await conn.runAndReadAll(`SELECT ${QUOTES.join(', ')} FROM live_bars ORDER BY seq`)).getRows());
      expect(rows).toEqual([
        QUOTES.map(() => null),
        [null, null, null, 5.1, null, null, null, null, 5.2, null],
        [null, null, null, 1.4949, null, null, null, null, Number.NaN, null],
      ]);
      // the session replayed as a backtest's series: the option and the pair are quote series (what the journal lacks NaN, sizes 0)
      const series = await again.use((conn) => journalBars(conn, 's', SYMBOLS, '1m'));
      expect(series[0].bidClose).toBeUndefined();
      expect([...series[1].bidClose!, ...series[1].askClose!, ...series[1].bidOpen!, ...series[1].bidSize!]).toEqual([5.1, 5.2, Number.NaN, 0]);
      expect([...series[2].askClose!]).toEqual([Number.NaN]);
    } finally {
      await again.close();
    }
  });

  it('a runner killed (kill -9) before its journal was flushed: the reader shows them from the write-ahead file, the reopen stores them', async () => {
    const file = path.join(dir, 'crashed.duckdb');
    const argv = ['--import', 'tsx', path.join(ROOT, 'test/journal/quotes-crash-child.ts'), file, 'crashed'];
    const p = spawn(process.execPath, argv, { cwd: ROOT });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => (stdout += d));
    const signal = await new Promise((resolve) => p.on('close', (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe('SIGKILL');
    expect(JSON.parse(stdout)).toMatchObject({ written: 7, inDatabase: 0 }); // 3 bars and 4 fills, none in DuckDB
    const fills = [fill(0), fill(1), SETTLED, ASSIGNED];
    // npm run journal (read-only) merges what only the write-ahead file has
    const cli = runCli('journal.ts', [file, 'fills', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(
      cli.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).reason),
    ).toEqual(['', '', 'expiry', 'assignment']);
    const j = await LiveJournal.open(file);
    try {
      const s = await j.use((conn) => loadSession(conn, 'crashed', SYMBOLS));
      expect(s.fills).toEqual(fills);
      expect(s.bars).toEqual(BARS);
      const stored = await j.use(async (conn) => (await conn.runAndReadAll(`SELECT bid_close, ask_close FROM live_bars ORDER BY seq`)).getRows());
      expect(stored).toEqual([
        [null, null],
        [5.1, 5.2],
        [1.4949, Number.NaN],
      ]);
    } finally {
      await j.close();
    }
  });

  it('a backtest writes the reason at the end of fills: NULL for a trade', async () => {
    const file = path.join(dir, 'backtest.duckdb');
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    try {
      const mj = new MemoryJournal();
      for (const f of [fill(0), SETTLED, fill(2), ASSIGNED]) mj.fill(f);
      const run: RunRecord = { runId: 'bt', kind: 'backtest', strategy: 'covered-call', config: {}, bars: 1, finalEquity: 1 };
      await writeJournal(conn, run, mj, [], new Portfolio(SYMBOLS, [{ name: 'covered-call', cash: 1 }]));
      const r = await conn.runAndReadAll(`SELECT exec_id, order_id, reason FROM fills WHERE run_id = 'bt' ORDER BY seq`);
      expect(r.getRows()).toEqual([
        ['0001.0', 1, null],
        ['expiry.1', 0, 'expiry'],
        ['0001.2', 3, null],
        ['assign.1', 0, 'assignment'],
      ]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    const cli = runCli('journal.ts', [file, 'fills', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const rows = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.exec_id, x.reason])).toEqual([
      ['0001.0', ''],
      ['expiry.1', 'expiry'],
      ['0001.2', ''],
      ['assign.1', 'assignment'],
    ]);
    const text = runCli('journal.ts', [file, 'fills']);
    expect(text.stdout.split('\n')[0]).toMatch(/commission +reason$/);
    expect(text.stdout).toMatch(/expiry\.1 .* expiry\n/);
  });

  it('a journal of the previous version: read as it is (read-only), then migrated by the next writer, its rows kept', async () => {
    const file = path.join(dir, 'old.duckdb');
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    // the two tables as the previous version made them, with a fill and a bar of a run
    await conn.run(`CREATE TABLE fills (run_id VARCHAR, seq INTEGER, exec_id VARCHAR, order_id INTEGER, strategy VARCHAR, symbol VARCHAR, ts BIGINT, qty DOUBLE, price DOUBLE, commission DOUBLE);
      CREATE TABLE live_bars (run_id VARCHAR, seq INTEGER, symbol VARCHAR, ts BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE);
      CREATE TABLE live_orders (run_id VARCHAR, order_id INTEGER, spec VARCHAR);
      CREATE TABLE live_runs (run_id VARCHAR, last_seq BIGINT);
      INSERT INTO fills VALUES ('old', 0, '0001.0', 1, 'covered-call', 'GOOG', ${T0}, 100, 750, 1);
      INSERT INTO live_bars VALUES ('old', 0, 'GOOG', ${T0}, 750, 751, 749, 750.5, 1000);
      INSERT INTO live_runs VALUES ('old', 2);`);
    conn.closeSync();
    db.closeSync();

    // npm run journal opens it read-only: nothing is added, its fills show no reason
    const cli = runCli('journal.ts', [file, 'fills', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout.trim())).toMatchObject({ exec_id: '0001.0', qty: 100, reason: '' });
    expect(await columns(file, 'fills')).toEqual(OLD_FILLS);

    const j = await LiveJournal.open(file);
    try {
      expect(await columns(file, 'fills')).toEqual([...OLD_FILLS, 'reason']);
      expect(await columns(file, 'live_bars')).toEqual([...OLD_BARS, ...QUOTES]);
      j.write([
        { t: 'bar', runId: 'old', seq: 1, b: BARS[1] },
        { t: 'fill', runId: 'old', seq: 1, f: SETTLED },
      ]);
      const s = await j.use((c) => loadSession(c, 'old', SYMBOLS));
      expect(s.fills).toEqual([fill(0, { qty: 100, price: 750, symbol: 'GOOG', sid: 0, ts: T0 }), SETTLED]);
      expect(s.bars).toEqual([BARS[0], { ...BARS[1] }]);
    } finally {
      await j.close();
    }
  });

  it('a reason this version does not know is refused, naming the fill and run', async () => {
    const file = path.join(dir, 'odd.duckdb');
    const j = await LiveJournal.open(file);
    try {
      await j.use((c) => c.run(`INSERT INTO fills VALUES ('odd', 4, 'x.4', 0, 's', 'GOOG', ${T0}, 1, 1, 0, 'dividend')`));
      await expect(j.use((c) => loadSession(c, 'odd', SYMBOLS))).rejects.toThrow(
        /the journal's fill 4 of run odd has reason 'dividend': a fill's reason is NULL \(a trade\) or one of exercise, assignment, expiry/,
      );
    } finally {
      await j.close();
    }
  });
});
