import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { runCli } from './run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-cli-'));
const db = path.join(tmp, 'market.duckdb');

/** A fingerprint of every table the run could touch. */
async function dbFingerprint(file: string): Promise<string> {
  const store = await openStore(file);
  try {
    const tables = (await store.conn.runAndReadAll(`SELECT table_name FROM information_schema.tables ORDER BY 1`))
      .getRowObjectsJS()
      .map((r) => String(r.table_name));
    const h = createHash('sha256');
    for (const t of tables) {
      const rows = await store.conn.runAndReadAll(`SELECT * FROM ${t} ORDER BY ALL`);
      h.update(t + JSON.stringify(rows.getRowObjectsJS(), (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    }
    return h.digest('hex');
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  const store = await openStore(db);
  await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
  store.close();
});

describe('npm run backtest', () => {
  it('is deterministic: the same run twice writes byte-identical report.json and report.html and the same journal', async () => {
    const args = [
      '--data',
      db,
      '--strategy',
      'sma-cross',
      '--params',
      '{"fast":10,"slow":30}',
      '--symbols',
      'SPY,AAPL',
      '--commission',
      'ibkr-fixed',
      '--slippage',
      'bps:2',
    ];
    const a = runCli('backtest.ts', [...args, '--out', path.join(tmp, 'a')]);
    const b = runCli('backtest.ts', [...args, '--out', path.join(tmp, 'b')]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toMatch(/final equity/);
    const read = (d: string, f: string) => readFileSync(path.join(tmp, d, f));
    expect(read('b', 'report.json').equals(read('a', 'report.json'))).toBe(true);
    expect(read('b', 'report.html').equals(read('a', 'report.html'))).toBe(true);
    expect(await dbFingerprint(path.join(tmp, 'b', 'journal.duckdb'))).toBe(await dbFingerprint(path.join(tmp, 'a', 'journal.duckdb')));
    const report = JSON.parse(read('a', 'report.json').toString());
    for (const k of ['sharpe', 'sortino', 'maxDrawdown', 'cagr', 'calmar', 'volatility', 'winRate', 'profitFactor', 'exposure', 'totalCommission'])
      expect(report.metrics).toHaveProperty(k);
    expect(report.trades.length).toBeGreaterThan(10);
    expect(report.metrics.totalCommission).toBeGreaterThan(0);
    expect(report.config).toMatchObject({ strategy: 'sma-cross', symbols: ['SPY', 'AAPL'] });

    // The report's metrics, recomputed from its own daily equity curve with the empyrical formulas
    // (DESIGN section 5), agree to 1e-9 relative.
    const E: number[] = report.equity.map((p: { equity: number }) => p.equity);
    const r = E.slice(1).map((e, i) => e / E[i] - 1);
    const N = r.length;
    const mean = r.reduce((a, b) => a + b, 0) / N;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1));
    const downside = Math.sqrt(r.reduce((a, b) => a + Math.min(b, 0) ** 2, 0) / N);
    let peak = -Infinity;
    const mdd = Math.min(
      ...E.map((e) => {
        peak = Math.max(peak, e);
        return e / peak - 1;
      }),
    );
    const cagr = (E[N] / E[0]) ** (252 / N) - 1;
    const rel = (a: number, b: number) => Math.abs(a / b - 1);
    expect(rel(report.metrics.sharpe, (mean / sd) * Math.sqrt(252))).toBeLessThan(1e-9);
    expect(rel(report.metrics.sortino, (mean / downside) * Math.sqrt(252))).toBeLessThan(1e-9);
    expect(rel(report.metrics.volatility, sd * Math.sqrt(252))).toBeLessThan(1e-9);
    expect(rel(report.metrics.maxDrawdown, mdd)).toBeLessThan(1e-9);
    expect(rel(report.metrics.cagr, cagr)).toBeLessThan(1e-9);
    expect(rel(report.metrics.calmar, cagr / Math.abs(mdd))).toBeLessThan(1e-9);
    // and the curve starts with the starting capital
    expect(E[0]).toBe(100_000);
    // the tearsheet series: buy-and-hold of the first symbol, rolling stats and exposure, one per equity row
    expect(report.benchmark.symbol).toBe('SPY');
    expect(report.benchmark.equity).toHaveLength(E.length);
    expect(report.benchmark.equity[0]).toBe(100_000);
    expect(report.rolling.window).toBe(63);
    expect(report.rolling.sharpe).toHaveLength(E.length);
    expect(report.rolling.volatility).toHaveLength(E.length);
    expect(report.rolling.volatility[62]).toBeNull();
    expect(
      rel(
        report.rolling.volatility[N],
        Math.sqrt(r.slice(N - 63).reduce((a, b, _i, w) => a + (b - w.reduce((x, y) => x + y, 0) / 63) ** 2, 0) / 62) * Math.sqrt(252),
      ),
    ).toBeLessThan(1e-9);
    for (const p of report.equity) expect(p.exposure).toBeGreaterThanOrEqual(0);
    expect(report.equity.some((p: { exposure: number }) => p.exposure > 0.5)).toBe(true);
  });

  it('writes the journal tables with every order event and fill', async () => {
    const store = await openStore(path.join(tmp, 'a', 'journal.duckdb'));
    try {
      const count = async (sql: string) => Number((await store.conn.runAndReadAll(sql)).getRowObjectsJS()[0].n);
      const report = JSON.parse(readFileSync(path.join(tmp, 'a', 'report.json'), 'utf8'));
      expect(await count('SELECT count(*) n FROM fills')).toBe(report.fills.length);
      expect(await count('SELECT count(*) n FROM orders')).toBe(report.orders.length);
      expect(await count("SELECT count(*) n FROM order_events WHERE to_status = 'NEW'")).toBe(report.orders.length);
      expect(await count('SELECT count(*) n FROM equity')).toBe(report.equity.length);
      expect(await count('SELECT count(*) n FROM runs')).toBe(1);
    } finally {
      store.close();
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['invalid params', ['--params', '{"fast":50,"slow":10}'], /sma-cross: invalid params .*fast \(50\) must be less than slow \(10\)/],
    ['a param of the wrong type', ['--params', '{"fast":"ten"}'], /param 'fast' must be a number, got "ten"/],
    ['an unknown param', ['--params', '{"fats":5}'], /unknown param 'fats'/],
    ['malformed params JSON', ['--params', '{fast:5'], /--params is not valid JSON/],
    ['an unknown strategy', ['--strategy', 'nope'], /unknown strategy 'nope'; available: sma-cross/],
    ['an unknown symbol', ['--symbols', 'SPY,XYZ'], /unknown symbol 'XYZ': not in .*market\.duckdb; import it with npm run import/],
    ['an empty date range', ['--symbols', 'SPY', '--from', '2030-01-01', '--to', '2030-12-31'], /no bars for SPY 1d/],
    ['from after to', ['--from', '2010-01-01', '--to', '2009-01-01'], /empty date range: --from 2010-01-01 is after --to 2009-01-01/],
    ['a bad date', ['--from', '2010-13-01'], /--from must be a date YYYY-MM-DD/],
    ['fixed sizing without a quantity', ['--sizing', 'fixed'], /--sizing fixed needs --quantity N/],
    ['an unknown commission model', ['--commission', 'free'], /--commission free: unknown model/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with a clear error, a non-zero exit, and the database as it was`, async () => {
      const before = await dbFingerprint(db);
      const r = runCli('backtest.ts', ['--data', db, '--out', path.join(tmp, 'bad'), ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await dbFingerprint(db)).toBe(before);
    });
  }

  it('rejects a CSV with a bad number, naming the file, row and rule', () => {
    const dir = path.join(tmp, 'csv-bad');
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(SAMPLE_DIR, 'daily', 'spy.csv'), path.join(dir, 'spy.csv'));
    writeFileSync(path.join(dir, 'qqq.csv'), 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10,1O.5,9,10,100\n');
    const r = runCli('backtest.ts', ['--data', dir, '--out', path.join(tmp, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/qqq\.csv/);
    expect(r.stderr).toMatch(/row 2/);
    expect(r.stderr).toMatch(/high/);
  });
});

describe('npm run import', () => {
  const cases: [string, string, RegExp][] = [
    ['a bad number', 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10,abc,9,10,100\n', /BAD\.csv.*row 2.*high/s],
    [
      'a high below the close',
      'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10,10.2,9,10.4,100\n',
      /BAD\.csv.*row 2.*high.*below/s,
    ],
    ['a duplicate timestamp', 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-02,10,11,9,10.5,100\n', /BAD\.csv.*row 2.*duplicate/is],
    [
      'an out-of-order timestamp',
      'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-06,10,11,9,10.5,100\n2020-01-03,10,11,9,10.5,100\n2020-01-07,10,11,9,10.5,100\n',
      /BAD\.csv.*row 3.*order/is,
    ],
  ];
  for (const [what, csv, message] of cases) {
    it(`rejects ${what}: exit 1, file/row/rule named, database unchanged`, async () => {
      const dir = mkdtempSync(path.join(tmp, 'imp-'));
      writeFileSync(path.join(dir, 'GOOD.csv'), 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n');
      writeFileSync(path.join(dir, 'BAD.csv'), csv);
      const before = await dbFingerprint(db);
      const r = runCli('import.ts', [path.join(dir, 'GOOD.csv'), path.join(dir, 'BAD.csv'), '--db', db]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(message);
      expect(await dbFingerprint(db)).toBe(before);
    });
  }

  it('imports good files and says what it did', async () => {
    const dir = mkdtempSync(path.join(tmp, 'imp-'));
    writeFileSync(path.join(dir, 'NEW.csv'), 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10.5,12,10,11,200\n');
    const target = path.join(tmp, 'fresh.duckdb');
    const r = runCli('import.ts', [dir, '--db', target]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 rows/);
    const store = await openStore(target);
    const rows = (await store.conn.runAndReadAll(`SELECT symbol, ts, open, high, low, close, volume FROM bars ORDER BY ts`)).getRowObjectsJS();
    store.close();
    expect(rows.map((x) => [x.symbol, Number(x.ts), x.open, x.high, x.low, x.close, x.volume])).toEqual([
      ['NEW', Date.UTC(2020, 0, 2), 10, 11, 9, 10.5, 100],
      ['NEW', Date.UTC(2020, 0, 3), 10.5, 12, 10, 11, 200],
    ]);
  });
});
