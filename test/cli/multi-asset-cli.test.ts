// The README's options, futures and FX examples through the real CLIs (import, backtest, cgt), with their
// reports checked by hand: ES at 50 USD a point, an option at 100 shares, EUR.USD's dollars in a GBP account.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { runCli } from './run-cli.ts';

const LEAN = path.join(SHARED, 'data/lean-sample');
const available = sharedAvailable('data/lean-sample/future/es/daily_trade.csv');
const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-multi-asset-'));
const db = path.join(dir, 'derivatives.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  config: Record<string, unknown>;
  finalEquity: number;
  trades: { symbol: string; entryPrice: number; exitPrice: number; quantity: number; pnl: number; commission: number }[];
  fills: { symbol: string; time: string; quantity: number; price: number; commission: number }[];
  currencies?: { currency: string; cash: number; positions: number; rate: number; exposure: number }[];
}

function cli(script: string, args: string[]): string {
  const r = runCli(script, args);
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const report = (out: string): Report => JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));

/** GBPUSD's mid close of a date in the Oanda daily file. */
function gbpusd(date: string): number {
  const line = readFileSync(path.join(LEAN, 'forex/gbpusd/daily/oanda.csv'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${date},`))!;
  const f = line.split(',').map(Number);
  return (f[4]! + f[8]!) / 2;
}

describe.runIf(available)("the README's options, futures and FX examples", () => {
  it('ES: trades at 50 USD a point in the real contract month, and the roll-day entry goes into March', () => {
    cli('import.ts', ['--lean', path.join(LEAN, 'future/es/daily_trade.csv'), '--db', db]);
    const out = path.join(dir, 'es');
    const args = ['--data', db, '--symbols', 'ESZ13,ESH14', '--strategy', 'futures-trend', '--params', '{"fast":8,"slow":10}', '--to', '2013-12-31'];
    cli('backtest.ts', [...args, '--sizing', 'fixed', '--quantity', '1', '--commission', 'ibkr-fixed', '--out', out]);
    const r = report(out);
    expect(r.config.contracts).toMatchObject({ ESZ13: { secType: 'FUT', multiplier: 50, initialMargin: 5060 }, ESH14: { secType: 'FUT', multiplier: 50 } });
    for (const t of r.trades) expect(t.pnl).toBeCloseTo((t.exitPrice - t.entryPrice) * t.quantity * 50 - 0.85 * 2 * t.quantity, 9);
    expect(r.fills.find((f) => f.time.startsWith('2013-12-16'))).toMatchObject({ symbol: 'ESH14', quantity: 1, price: 1777.5 });
  });

  it('a sweep refuses a future rather than trading it as a stock', () => {
    const r = runCli('sweep.ts', [
      '--data',
      db,
      '--symbols',
      'ESZ13',
      '--strategy',
      'sma-cross',
      '--grid',
      '{"fast":[3],"slow":[10]}',
      '--db',
      path.join(dir, 'sweep.duckdb'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ESZ13 is a FUT with multiplier 50 in USD: sweeps, walk-forward, promotion and model training run US stocks in USD only/);
  });

  it('EUR.USD in a GBP account: fills on the bid and ask, the dollars valued at GBPUSD', () => {
    const fx = ['eurusd', 'gbpusd'].map((p) => path.join(LEAN, `forex/${p}/daily/oanda.csv`));
    cli('import.ts', ['--lean', ...fx, '--db', db]);
    const out = path.join(dir, 'fx');
    const args = ['--data', db, '--symbols', 'EUR.USD', '--base-currency', 'GBP', '--strategy', 'sma-cross', '--params', '{"fast":20,"slow":100}'];
    cli('backtest.ts', [
      ...args,
      '--from',
      '2014-01-01',
      '--to',
      '2016-12-31',
      '--sizing',
      'fixed',
      '--quantity',
      '100000',
      '--commission',
      'ibkr-fixed',
      '--out',
      out,
    ]);
    const r = report(out);
    expect(r.config.baseCurrency).toBe('GBP');
    // each trade: its dollars, less 0.2 bp of commission each way, at the GBPUSD rate known when it closed
    for (const t of r.trades) {
      const usd = (t.exitPrice - t.entryPrice) * t.quantity;
      expect(Math.sign(t.pnl)).toBe(Math.sign(usd - t.commission));
    }
    // everything closed: the account is its GBP and the dollars the trades left, at the last rate known
    const [gbp, usd] = r.currencies!;
    expect(gbp).toMatchObject({ currency: 'GBP', cash: 100_000 });
    expect(usd!.currency).toBe('USD');
    const usdCash = r.fills.reduce((c, f) => c - f.quantity * f.price - f.commission, 0);
    expect(usd!.cash).toBeCloseTo(usdCash, 6);
    // the last bar, 2016-12-30's, ends at 12-31 00:00 UTC, when that day's rate (a UTC day at Oanda) is known
    expect(usd!.rate).toBeCloseTo(1 / gbpusd('2016-12-30'), 12);
    expect(r.finalEquity).toBeCloseTo(100_000 + usdCash * usd!.rate, 6);
  });

  it('GOOG covered call: 100 shares, a call written at its bid x 100, expired; its capital gain in GBP', () => {
    cli('import.ts', [path.join(LEAN, 'minute/goog'), '--factors', path.join(LEAN, 'factor_files'), '--db', db]);
    cli('import.ts', ['--lean', path.join(LEAN, 'option/goog'), '--db', db]);
    const out = path.join(dir, 'options');
    const chain = ['--chain', 'GOOG', '--chain-days', '1', '--chain-strikes', '6', '--chain-right', 'C'];
    cli('backtest.ts', [
      '--data',
      db,
      '--symbols',
      'GOOG',
      ...chain,
      '--strategy',
      'covered-call',
      '--interval',
      '1m',
      '--from',
      '2015-12-23',
      '--to',
      '2015-12-24',
      '--out',
      out,
    ]);
    const r = report(out);
    const [shares, call, expiry] = r.fills;
    expect(shares).toMatchObject({ symbol: 'GOOG', quantity: 100 });
    expect(call!.quantity).toBe(-1);
    expect(expiry).toMatchObject({ symbol: call!.symbol, quantity: 1, price: 0, commission: 0 });
    // the call's round trip: its premium x 100, less IBKR's USD 1.00 minimum
    const trade = r.trades.find((t) => t.symbol === call!.symbol)!;
    expect(trade.pnl).toBeCloseTo(call!.price * 100 - 1, 9);
    // cash + 100 shares at GOOG's last close (748.40 on 12-24)
    const cash = 100_000 - shares!.quantity * shares!.price - shares!.commission + call!.price * 100 - call!.commission;
    expect(r.finalEquity).toBeCloseTo(cash + 100 * 748.4, 6);
    // the written call's premium is a gain on the grant date (TCGA s.144(1)), in GBP at that day's rate
    const cgt = path.join(dir, 'cgt');
    cli('cgt.ts', ['--journal', path.join(out, 'journal.duckdb'), '--tax-year', '2015-16', '--out', cgt]);
    const rows = readFileSync(path.join(cgt, 'cgt-2015-16.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(2);
    const [date, asset, , proceeds, cost, gain, rule, , kind] = rows[1]!.split(',');
    expect([date, asset, rule, kind, Number(cost)]).toEqual(['2015-12-23', call!.symbol, 'option-grant', 'option', 0]);
    expect(Number(proceeds)).toBeCloseTo((call!.price * 100 - 1) / gbpusd('2015-12-23'), 5);
    expect(Number(gain)).toBeCloseTo(Number(proceeds), 9);
  });
});
