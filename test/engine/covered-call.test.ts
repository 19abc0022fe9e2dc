// Options through the whole backtest path on real data (issue 15): GOOG's minute bars and its options' quote
// bars of 2015-12-23/24 imported into a store, the chain added by `--chain`'s selection, ctx.chain in a
// strategy, a call written at the bid, and its expiry at the 13:00 close of Christmas Eve (a half day).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptionChain, Strategy } from '../../engine/core/strategy.ts';
import { runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { openRunData } from '../../engine/run/run-data.ts';
import { buildSlots } from '../../strategies/index.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { LEAN, googOptionsStore } from './goog-options.ts';
import { config } from './harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`);
let db = '';
let dispose = () => {};

beforeAll(async () => {
  if (!available) return;
  ({ db, dispose } = await googOptionsStore());
}, 60_000);

afterAll(() => dispose());

/** The run's data with GOOG and the calls expiring within a day of the 4 strikes nearest its first close. */
async function run(strategy: string, slots = buildSlots(strategy, {}, ['GOOG'])) {
  const data = await openRunData({
    data: db,
    symbols: ['GOOG'],
    interval: '1m',
    from: '2015-12-23',
    to: '2015-12-24',
    tz: 'America/New_York',
    chain: { underlying: 'GOOG', days: 1, strikes: 4, right: 'C' },
  });
  const cfg: BacktestConfig = config({
    strategy,
    symbols: data.symbols,
    interval: '1m',
    commission: { model: 'ibkr-fixed' },
    risk: { name: 'none', limits: {}, breaker: {} },
    contracts: data.contracts,
  });
  try {
    return { data, r: await runBacktestChunked(data.chunks, cfg, slots, data.sectors) };
  } finally {
    data.close();
  }
}

/** The strikes of the calls of the 2015-12-24 weekly quoted on 12-23. */
function weeklyCallStrikes(): number[] {
  const [header, ...lines] = readFileSync(path.join(SHARED, LEAN, 'option/goog/20151223_quote.csv'), 'utf8')
    .trim()
    .split('\n');
  const col = Object.fromEntries(header!.split(',').map((c, i) => [c, i]));
  const rows = lines.map((l) => l.split(',')).filter((f) => f[col.right!] === 'C' && f[col.expiry!] === '2015-12-24');
  return [...new Set(rows.map((f) => Number(f[col.strike!])))];
}

/** The CSV's quote row of `symbol` (strike, right) at a New York minute: [bid_open, ask_open, bid_close, ask_close]. */
function quoteAt(minute: string, strike: string, right: string): number[] {
  const file = path.join(SHARED, LEAN, 'option/goog', `${minute.slice(0, 10).replaceAll('-', '')}_quote.csv`);
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const col = Object.fromEntries(header!.split(',').map((c, i) => [c, i]));
  const row = lines
    .map((l) => l.split(','))
    .find((f) => f[col.time_et!] === minute && f[col.strike!] === strike && f[col.right!] === right && f[col.expiry!] === '2015-12-24');
  if (!row) throw new Error(`no quote ${minute} ${strike}${right}`);
  return ['bid_open', 'ask_open', 'bid_close', 'ask_close'].map((c) => Number(row[col[c]!]));
}

describe.runIf(available)('options on real GOOG quotes', () => {
  it('--chain adds the calls of the 4 strikes nearest the first close, expiring within a day', async () => {
    const { data } = await run('covered-call');
    // worked out from the CSVs: GOOG's first minute of 12-23, and the strikes of the 12-24 weekly's calls
    const [header, first] = readFileSync(path.join(SHARED, LEAN, 'minute/goog/20151223.csv'), 'utf8').split('\n');
    const spot = Number(first!.split(',')[header!.split(',').indexOf('close')]);
    const nearest = weeklyCallStrikes()
      .sort((a, b) => Math.abs(a - spot) - Math.abs(b - spot) || a - b)
      .slice(0, 4)
      .sort((a, b) => a - b);
    expect(data.symbols).toEqual(['GOOG', ...nearest.map((k) => `GOOG151224C${String(k * 1000).padStart(8, '0')}`)]);
    expect(data.contracts?.GOOG151224C00750000).toEqual({
      secType: 'OPT',
      multiplier: 100,
      currency: 'USD',
      expiry: '2015-12-24',
      strike: 750,
      right: 'C',
      underlying: 'GOOG',
    });
  });

  it('ctx.chain gives each call its last quotes, their mid, and an implied volatility and delta that fit them', async () => {
    const seen: OptionChain[] = [];
    const probe: Strategy = {
      onBar(ctx, bar) {
        // 10:00 New York on 12-23 (the bar that starts at 14:59 UTC closes then)
        if (bar.sid === 0 && ctx.now === Date.UTC(2015, 11, 23, 15, 0)) seen.push(ctx.chain('GOOG', { right: 'C' }));
      },
    };
    await run('probe', [{ name: 'probe', strategy: probe, weight: 1 }]);
    const [chain] = seen;
    expect(chain!.options.map((o) => o.symbol)).toEqual(chain!.options.map((o) => o.symbol).sort());
    expect(chain!.options).toHaveLength(4);
    for (const o of chain!.options) {
      const [, , bid, ask] = quoteAt('2015-12-23 09:59:00', String(o.strike), 'C');
      // a zero bid is no bid (engine/options/implied-vol.ts quoteMid): no mid, no implied volatility
      const b = bid! > 0 ? bid! : Number.NaN;
      expect([o.bid, o.ask, o.mid]).toEqual([b, ask, (b + ask!) / 2]);
      if (Number.isNaN(o.mid)) continue;
      expect(o.iv).toBeGreaterThan(0.01);
      expect(o.iv).toBeLessThan(3);
      expect(o.delta).toBeGreaterThan(0);
      expect(o.delta).toBeLessThan(1);
    }
    // deeper in the money, more delta
    const deltas = chain!.options.map((o) => o.delta).filter((d) => !Number.isNaN(d));
    expect(deltas.length).toBeGreaterThan(1);
    expect([...deltas].sort((a, b) => b - a)).toEqual(deltas);
  });

  it('covered call: 100 shares, a call written at the bid, expired worthless at the half-day close', async () => {
    const { r } = await run('covered-call');
    const fills = r.journal.fills;
    expect(fills[0]).toMatchObject({ symbol: 'GOOG', qty: 100 });
    const written = fills[1]!;
    expect(written.qty).toBe(-1);
    // a sell fills at the bid's open of its bar (engine/exec/quote-fill.ts)
    const minute = new Date(written.ts - 5 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const strike = Number(written.symbol.slice(-8)) / 1000;
    expect(written.price).toBe(quoteAt(minute, String(strike), 'C')[0]);
    // GOOG closed 12-24 at 748.40, below the strike: the call expires worthless at 13:00 (the run's last bar)
    const expiry = fills[2]!;
    expect(expiry).toMatchObject({ symbol: written.symbol, qty: 1, price: 0, reason: 'expiry' });
    const trade = r.engine.trades.find((t) => t.symbol === written.symbol)!;
    expect(trade.pnl).toBeCloseTo(written.price * 100 - written.commission, 9);
    // the last equity point is after the expiry: cash plus 100 shares at the last close
    const curve = r.journal.equityCurve;
    const book = r.engine.portfolio.books[0]!;
    expect(curve[curve.length - 1]!.equity).toBeCloseTo(book.cash + 100 * 748.4, 6);
  });
});
