// npm run cgt on a journal with every asset class, written by the journal's own writer (writeJournal): a GOOG call
// bought and exercised into shares that are then sold, a GOOG put written that expires, an ES future and an
// EUR.USD round trip, all in USD, converted at the real Oanda GBPUSD rates. The option and FX terms come from
// the run config's `contracts`, the future's from the journal's instruments table. Each CSV row is worked by hand.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fill } from '../../engine/core/types.ts';
import { openJournalDb } from '../../engine/journal/filler.ts';
import { MemoryJournal } from '../../engine/journal/journal.ts';
import { writeJournal } from '../../engine/journal/journal-store.ts';
import { Portfolio } from '../../engine/portfolio/portfolio.ts';
import { runCli } from '../cli/run-cli.ts';
import { sharedAvailable } from '../shared-data.ts';

const GBPUSD = 'data/lean-sample/forex/gbpusd/daily/oanda.csv';
const CALL = 'GOOG151224C00750000';
const PUT = 'GOOG151224P00700000';
const SYMBOLS = ['GOOG', CALL, PUT, 'ESH16', 'EUR.USD'];

// GBPUSD mids (bid_close + ask_close) / 2 of the Oanda file's rows
const R = {
  '2015-12-21': (1.48902 + 1.48957) / 2,
  '2015-12-22': (1.48188 + 1.48225) / 2,
  '2015-12-24': (1.49195 + 1.49234) / 2,
  '2015-12-29': (1.48195 + 1.48231) / 2,
};

describe.runIf(sharedAvailable(GBPUSD))('npm run cgt on a journal of options, futures and FX', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cgt-deriv-'));
  const journal = path.join(dir, 'journal.duckdb');
  let run: ReturnType<typeof runCli>;

  beforeAll(async () => {
    // a daily backtest stamps fills at 00:00 UTC of the trading date; the expiry fills are the engine's
    // (engine/run/option-expiry.ts): order 0, exec id 'exercise.N' / 'expiry.N', no commission
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
    let n = 0;
    const f = (symbol: string, date: string, qty: number, price: number, commission: number, execId = `x${++n}`, orderId = n): Fill => ({
      orderId,
      strategy: 's',
      symbol,
      sid: SYMBOLS.indexOf(symbol),
      ts: day(date),
      qty,
      price,
      commission,
      execId,
    });
    const mj = new MemoryJournal();
    for (const x of [
      f(CALL, '2015-12-21', 1, 5, 0.65),
      f(PUT, '2015-12-21', -1, 3, 0.65),
      f('ESH16', '2015-12-21', 2, 2000, 4.1),
      f('EUR.USD', '2015-12-21', 10000, 1.09, 2),
      f('ESH16', '2015-12-22', -2, 2012, 4.1),
      f('EUR.USD', '2015-12-22', -10000, 1.095, 2),
      f(CALL, '2015-12-24', -1, 0, 0, 'exercise.1', 0),
      f('GOOG', '2015-12-24', 100, 750, 0, 'exercise.2', 0),
      f(PUT, '2015-12-24', 1, 0, 0, 'expiry.3', 0),
      f('GOOG', '2015-12-29', -100, 760, 1),
    ])
      mj.fill(x);
    const opt = (strike: number, right: 'C' | 'P') => ({
      secType: 'OPT',
      multiplier: 100,
      currency: 'USD',
      expiry: '2015-12-24',
      strike,
      right,
      underlying: 'GOOG',
    });
    const config = {
      interval: '1d',
      prices: 'adjusted',
      baseCurrency: 'GBP',
      contracts: { [CALL]: opt(750, 'C'), [PUT]: opt(700, 'P'), 'EUR.USD': { secType: 'CASH', multiplier: 1, currency: 'USD' } },
    };
    const s = await openJournalDb(journal);
    try {
      await writeJournal(
        s.conn,
        { runId: 'r1', kind: 'backtest', strategy: 'mix', config, bars: 0, finalEquity: 0 },
        mj,
        [],
        new Portfolio(SYMBOLS, [{ name: 's', cash: 0 }]),
      );
      await s.conn.run(
        `CREATE TABLE instruments (symbol VARCHAR, sec_type VARCHAR, exchange VARCHAR, currency VARCHAR, multiplier DOUBLE, underlying VARCHAR, expiry DATE, contract_month VARCHAR);
         INSERT INTO instruments VALUES ('ESH16', 'FUT', 'CME', 'USD', 50, 'ES', DATE '2016-03-18', '201603')`,
      );
    } finally {
      await s.close();
    }
    run = runCli('cgt.ts', ['--journal', journal, '--tax-year', '2015-16', '--out', dir]);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one row per match with its kind, each worked by hand', () => {
    expect(run.code, run.stderr).toBe(0);
    const [head, ...rows] = readFileSync(path.join(dir, 'cgt-2015-16.csv'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    expect(head).toEqual(['date', 'asset', 'qty', 'proceeds', 'cost', 'gain', 'rule', 'acquired', 'kind']);
    const want: [string, string, number, number, number, string, string, string][] = [
      // the put written 2015-12-21 (300 - 0.65 USD) expired: the grant's gain, on the grant date (s.144(1))
      ['2015-12-21', PUT, 1, 299.35 / R['2015-12-21'], 0, 'option-grant', '', 'option'],
      // 2 x (2012 - 2000) x 50 = 1,200 USD; 4 x 2.05 = 8.20 USD commission; at the closing date's rate (s.143(5))
      ['2015-12-22', 'ESH16', 2, 1200 / R['2015-12-22'], 8.2 / R['2015-12-22'], 'futures', '2015-12-21', 'future'],
      // 10,000 x (1.095 - 1.09) = 50 USD; 2 x 2 USD commission
      ['2015-12-22', 'EUR.USD', 10000, (10000 * (1.095 - 1.09)) / R['2015-12-22'], 4 / R['2015-12-22'], 'fx', '2015-12-21', 'fx'],
      // 100 GOOG sold at 760 less 1 = 75,999 USD; cost: 75,000 USD at the exercise's rate + the call's 500.65 USD at
      // its purchase's rate (s.144(3)); no disposal of the call
      ['2015-12-29', 'GOOG', 100, 75999 / R['2015-12-29'], 75000 / R['2015-12-24'] + 500.65 / R['2015-12-21'], 'section-104', '', 'shares'],
    ];
    expect(rows.length).toBe(want.length);
    rows.forEach((r, i) => {
      const [date, asset, qty, proceeds, cost, rule, acquired, kind] = want[i]!;
      expect([r[0], r[1], r[6], r[7], r[8]], `row ${i + 1}`).toEqual([date, asset, rule, acquired, kind]);
      expect(Number(r[2])).toBe(qty);
      expect(Math.abs(Number(r[3]) - proceeds), `row ${i + 1} proceeds`).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(Number(r[4]) - cost), `row ${i + 1} cost`).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(Number(r[5]) - (proceeds - cost)), `row ${i + 1} gain`).toBeLessThanOrEqual(2e-6);
    });
  });

  it('prints and shows the totals per kind', () => {
    const net = {
      shares: 75999 / R['2015-12-29'] - 75000 / R['2015-12-24'] - 500.65 / R['2015-12-21'],
      option: 299.35 / R['2015-12-21'],
      future: 1191.8 / R['2015-12-22'],
      fx: (10000 * (1.095 - 1.09) - 4) / R['2015-12-22'],
    };
    const money = (x: number) =>
      `${x < 0 ? '-' : ''}£${Math.abs(x)
        .toFixed(2)
        .replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
    for (const [kind, v] of Object.entries(net))
      expect(run.stdout).toMatch(new RegExp(`^${kind}: 1 disposal, .*net ${money(v).replace(/[£.]/g, '\\$&')}$`, 'm'));
    // the hand figures: shares 75,999/1.48213 - 75,000/1.492145 - 500.65/1.489295 = £51,276.88 - £50,263.21 - £336.17
    expect(money(net.shares)).toBe('£677.50');
    const html = readFileSync(path.join(dir, 'cgt-2015-16.html'), 'utf8');
    for (const h of ['Shares', 'Options', 'Futures', 'FX pairs']) expect(html).toContain(`<h2 class="kind">${h}</h2>`);
    expect(html).toContain(`<tr class="total"><td>net futures</td><td>${money(net.future)}</td></tr>`);
  });
});
