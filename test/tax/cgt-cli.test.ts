// npm run cgt on a real journal: a backtest of the bundled sample over 2013-2018 (inside the Oanda GBPUSD rates'
// 2007-2018), whose CSV must be what the engine computes from the journal's fills, each converted at the real
// GBPUSD daily file's rate of its date. The expected rows are rebuilt here from the journal read with plain SQL.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '../../engine/duckdb.ts';
import { loadDailyRates } from '../../engine/fx/daily-rates.ts';
import { matchAll, type AssetHistory, type CgtTrade } from '../../engine/tax/cgt.ts';
import { taxYearGains } from '../../engine/tax/cgt-report.ts';
import { runCli } from '../cli/run-cli.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const GBPUSD = 'data/lean-sample/forex/gbpusd/daily/oanda.csv';
const YEAR = '2014-15';

interface Fill {
  symbol: string;
  date: string;
  qty: number;
  price: number;
  commission: number;
}

describe.runIf(sharedAvailable(GBPUSD))('npm run cgt on a backtest journal', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cgt-cli-'));
  const journal = path.join(dir, 'journal.duckdb');
  const ratesFile = path.join(SHARED, GBPUSD);
  let fills: Fill[] = [];
  let run: ReturnType<typeof runCli>;

  beforeAll(async () => {
    const bt = runCli('backtest.ts', ['--from', '2013-01-01', '--to', '2018-12-31', '--out', dir, '--report', 'none']);
    expect(bt.code, bt.stderr).toBe(0);
    // the journal read directly: a daily backtest stamps a fill at 00:00 UTC of its trading date; qty is signed
    const db = await DuckDBInstance.create(journal, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll(`SELECT symbol, strftime(epoch_ms(ts), '%Y-%m-%d') AS date, qty, price, commission FROM fills ORDER BY seq`)
    ).getRowObjectsJS();
    conn.closeSync();
    db.closeSync();
    fills = rows.map((r) => ({ symbol: String(r.symbol), date: String(r.date), qty: Number(r.qty), price: Number(r.price), commission: Number(r.commission) }));
    run = runCli('cgt.ts', ['--journal', journal, '--tax-year', YEAR, '--out', dir]);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const csvRows = (year: string) =>
    readFileSync(path.join(dir, `cgt-${year}.csv`), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));

  it('reports the year from the real GBPUSD file, with the sample AAPL split', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(fills.length).toBeGreaterThan(50);
    expect(run.stdout).toContain(`USD trades converted at GBPUSD, the mid of bid_close and ask_close of the trade date`);
    expect(run.stdout).toContain(ratesFile);
    expect(run.stdout).toContain('AAPL 7:1 ex 2014-06-09');
    expect(run.stdout).toMatch(/annual exempt +£11,000\.00/);
    expect(run.stdout).toContain(`wrote ${path.join(dir, `cgt-${YEAR}.csv`)}`);
    expect(readFileSync(path.join(dir, `cgt-${YEAR}.html`), 'utf8')).toContain(`<h1>UK capital gains, tax year ${YEAR}</h1>`);
  });

  it("writes the engine's matches of the journal's fills, one CSV row per match", () => {
    const rates = loadDailyRates(ratesFile);
    const symbols = [...new Set(fills.map((f) => f.symbol))].sort();
    const histories: AssetHistory[] = symbols.map((asset) => ({
      asset,
      trades: fills
        .filter((f) => f.symbol === asset)
        .map(
          (f): CgtTrade => ({
            date: f.date,
            side: f.qty > 0 ? 'BUY' : 'SELL',
            qty: Math.abs(f.qty),
            price: f.price,
            fee: f.commission,
            currency: 'USD',
            rate: rates.rate(f.date),
          }),
        ),
      // the only split of the traded symbols in 2013-2018 (the sample's AAPL factor file: 0.0357143 -> 0.25)
      splits: asset === 'AAPL' ? [{ date: '2014-06-09', ratio: 7 }] : [],
    }));
    const want = taxYearGains(matchAll(histories), YEAR).disposals.flatMap((d) =>
      d.matches.map((m) => ({
        date: d.date,
        asset: d.asset,
        qty: m.qty,
        proceeds: m.proceeds,
        cost: m.cost,
        gain: m.gain,
        rule: m.rule,
        acquired: m.acquired ?? '',
      })),
    );
    const [head, ...rows] = csvRows(YEAR);
    expect(head).toEqual(['date', 'asset', 'qty', 'proceeds', 'cost', 'gain', 'rule', 'acquired', 'kind']);
    expect(rows.length).toBe(want.length);
    expect(new Set(want.map((w) => w.rule))).toEqual(new Set(['bed-and-breakfast', 'section-104'])); // sma-cross re-enters within 30 days
    rows.forEach((r, i) => {
      const w = want[i]!;
      expect([r[0], r[1], r[6], r[7], r[8]], `row ${i + 1}`).toEqual([w.date, w.asset, w.rule, w.acquired, 'shares']);
      for (const [k, field] of [
        [2, 'qty'],
        [3, 'proceeds'],
        [4, 'cost'],
        [5, 'gain'],
      ] as const)
        expect(Math.abs(Number(r[k]) - w[field]), `row ${i + 1} ${field}: ${r[k]} vs ${w[field]}`).toBeLessThanOrEqual(1e-6);
    });
  });

  it("converts each disposal at its own date's rate, read straight from the GBPUSD file", () => {
    // each disposal's proceeds (the sum of its rows) = the day's sales (qty x price - commission) in USD / GBPUSD,
    // GBPUSD being (bid_close + ask_close) / 2 of the file's row of that date
    const mid = new Map<string, number>();
    for (const line of readFileSync(ratesFile, 'utf8').trim().split('\n').slice(1)) {
      const c = line.split(',');
      mid.set(c[0]!, (Number(c[4]) + Number(c[8])) / 2);
    }
    const byDisposal = new Map<string, number>();
    for (const r of csvRows(YEAR).slice(1)) byDisposal.set(`${r[0]} ${r[1]}`, (byDisposal.get(`${r[0]} ${r[1]}`) ?? 0) + Number(r[3]));
    expect(byDisposal.size).toBeGreaterThan(5);
    for (const [key, proceeds] of byDisposal) {
      const [date, symbol] = key.split(' ');
      const usd = fills.filter((f) => f.symbol === symbol && f.date === date && f.qty < 0).reduce((s, f) => s + (-f.qty * f.price - f.commission), 0);
      expect(mid.has(date!), `the file has a row for ${date}`).toBe(true);
      expect(Math.abs(proceeds - usd / mid.get(date!)!), key).toBeLessThanOrEqual(1e-5);
    }
    // the split: 54 AAPL bought 2014-04-29 became 378, sold 2014-10-02 (327 matched with the 2014-10-28 repurchase)
    const oct = csvRows(YEAR).filter((r) => r[0] === '2014-10-02' && r[1] === 'AAPL');
    expect(oct.map((r) => [r[2], r[6], r[7]])).toEqual([
      ['327', 'bed-and-breakfast', '2014-10-28'],
      ['51', 'section-104', ''],
    ]);
  });

  it('says so for a tax year without disposals, and refuses bad input with a clear error', () => {
    const none = runCli('cgt.ts', ['--journal', journal, '--tax-year', '2019-20', '--out', dir]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('no disposals in 2019-20');
    expect(csvRows('2019-20')).toEqual([['date', 'asset', 'qty', 'proceeds', 'cost', 'gain', 'rule', 'acquired', 'kind']]);

    const year = runCli('cgt.ts', ['--journal', journal, '--tax-year', '2019/20']);
    expect(year.code).toBe(1);
    expect(year.stderr).toContain("error: --tax-year: tax year '2019/20' must be written YYYY-YY");

    const missing = runCli('cgt.ts', ['--journal', path.join(dir, 'nope.duckdb'), '--tax-year', YEAR]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: no such journal file: ${path.join(dir, 'nope.duckdb')}`);

    // rates from 2016 only: the 2013 trades (which fill the pool) have none
    const lines = readFileSync(ratesFile, 'utf8').split('\n');
    const late = path.join(dir, 'forex/gbpusd/daily/oanda.csv');
    mkdirSync(path.dirname(late), { recursive: true });
    writeFileSync(late, [lines[0], ...lines.slice(1).filter((l) => l >= '2016')].join('\n'));
    const noRate = runCli('cgt.ts', ['--journal', journal, '--tax-year', YEAR, '--fx', late, '--out', dir]);
    expect(noRate.code).toBe(1);
    expect(noRate.stderr).toMatch(
      /error: \w+ (BUY|SELL) \d+ on 2013-\d\d-\d\d: no GBPUSD rate for 2013-\d\d-\d\d in .*\(which covers 2016-01-0\d\.\.2018-12-31\): it is before the file's first date/,
    );
    expect(noRate.stderr).toContain('give --fx a GBPUSD daily file that covers it');
  });
});
