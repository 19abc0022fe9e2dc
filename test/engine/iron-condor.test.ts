// The iron-condor example on real data (issue 15): GOOG's minute bars and its options' quote bars of
// 2015-12-23/24 in a store, the 12 strikes nearest the first close of both rights (`--chain GOOG --chain-days 1
// --chain-strikes 12`), the condor sold as one combo order, and its legs settled at the 13:00 close of Christmas
// Eve. Every expected figure is read from the CSVs here, independently of the engine, and worked out by the rules
// written next to it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJournal } from '../../engine/journal/journal-store.ts';
import { runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { openRunData } from '../../engine/run/run-data.ts';
import { renderReportHtml } from '../../engine/report/html.ts';
import { backtestReport } from '../../engine/run/backtest-report.ts';
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

// the defaults' run, shared by the tests that read it (each run replays 12,606 bars)
let defaults: ReturnType<typeof run> | null = null;
const runDefaults = () => (defaults ??= run({}));

async function run(params: Record<string, unknown>) {
  const data = await openRunData({
    data: db,
    symbols: ['GOOG'],
    interval: '1m',
    from: '2015-12-23',
    to: '2015-12-24',
    tz: 'America/New_York',
    chain: { underlying: 'GOOG', days: 1, strikes: 12 },
  });
  const cfg: BacktestConfig = config({
    strategy: 'iron-condor',
    params,
    symbols: data.symbols,
    interval: '1m',
    commission: { model: 'ibkr-fixed' }, // options: USD 0.65 a contract, at least 1.00 a fill
    contracts: data.contracts,
  });
  try {
    return { data, r: await runBacktestChunked(data.chunks, cfg, buildSlots('iron-condor', params, data.symbols), data.sectors) };
  } finally {
    data.close();
  }
}

/** Rows of a CSV as objects keyed by its header. */
function csv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path.join(SHARED, LEAN, file), 'utf8')
    .trim()
    .split('\n');
  const cols = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

/** An empty CSV field is no quote on that side. */
const num = (s: string | undefined) => (s === undefined || s === '' ? Number.NaN : Number(s));

/** The 12-24 weekly's quote rows, by 'strike right' and New York minute. */
function quotes(): Map<string, Map<string, Record<string, string>>> {
  const out = new Map<string, Map<string, Record<string, string>>>();
  for (const day of ['20151223', '20151224'])
    for (const row of csv(`option/goog/${day}_quote.csv`)) {
      if (row.expiry !== '2015-12-24') continue;
      const key = `${Number(row.strike)} ${row.right}`;
      if (!out.has(key)) out.set(key, new Map());
      out.get(key)!.set(row.time_et!, row);
    }
  return out;
}

/** GOOG's minute closes by New York minute. */
function googCloses(): Map<string, number> {
  const out = new Map<string, number>();
  for (const day of ['20151223', '20151224']) for (const row of csv(`minute/goog/${day}.csv`)) out.set(row.time_et!, Number(row.close));
  return out;
}

const minutes = (day: string, from: string, to: string) => {
  const out: string[] = [];
  for (let t = Date.parse(`${day}T${from}Z`); t <= Date.parse(`${day}T${to}Z`); t += 60_000) out.push(new Date(t).toISOString().slice(0, 19).replace('T', ' '));
  return out;
};
/** A New York minute (EST in December: UTC - 5) as epoch ms. */
const nyMs = (minute: string) => Date.parse(`${minute.replace(' ', 'T')}Z`) + 5 * 3_600_000;

/**
 * The condor the strategy should sell and where it should fill, from the CSVs by the strategy's and the combo's
 * rules: at the first session minute's close, the strikes of the run's chain out of the money (puts below the
 * spot, nearest first; calls above it), the short legs `shortOtm` strikes out and the long ones `wing` further;
 * the limit is the natural net (long asks less short bids at that close, a zero bid being no bid) to the cent;
 * the combo fills on the first later minute of the day whose four opens (long legs' asks, short legs' bids) are
 * all quoted and net at or under the limit, each leg at its open.
 */
function expected(strikes: number[], shortOtm: number, wing: number) {
  const q = quotes();
  const spot = googCloses().get('2015-12-23 09:30:00')!;
  const puts = strikes.filter((k) => k < spot).sort((a, b) => b - a);
  const calls = strikes.filter((k) => k > spot).sort((a, b) => a - b);
  const legs = [
    { strike: puts[shortOtm - 1 + wing]!, right: 'P', side: 'BUY' },
    { strike: puts[shortOtm - 1]!, right: 'P', side: 'SELL' },
    { strike: calls[shortOtm - 1]!, right: 'C', side: 'SELL' },
    { strike: calls[shortOtm - 1 + wing]!, right: 'C', side: 'BUY' },
  ] as const;
  const rowAt = (leg: (typeof legs)[number], minute: string) => q.get(`${leg.strike} ${leg.right}`)!.get(minute);
  const close = (leg: (typeof legs)[number]) => {
    const r = rowAt(leg, '2015-12-23 09:30:00')!;
    const bid = num(r.bid_close);
    return leg.side === 'BUY' ? num(r.ask_close) : bid > 0 ? bid : Number.NaN;
  };
  const natural = legs.reduce((s, l) => s + (l.side === 'BUY' ? 1 : -1) * close(l), 0);
  const limit = Math.round(natural * 100) / 100;
  for (const minute of minutes('2015-12-23', '09:31:00', '15:59:00')) {
    const opens = legs.map((l) => num(rowAt(l, minute)?.[l.side === 'BUY' ? 'ask_open' : 'bid_open']));
    if (opens.some(Number.isNaN)) continue;
    const net = opens.reduce((s, p, k) => s + (legs[k]!.side === 'BUY' ? 1 : -1) * p, 0);
    if (net <= limit + 1e-9) return { spot, legs, limit, minute, opens, net };
  }
  throw new Error('the condor never fills on 12-23');
}

const occ = (strike: number, right: string) => `GOOG151224${right}${String(strike * 1000).padStart(8, '0')}`;

describe.runIf(available)('iron condor on real GOOG quotes', () => {
  it('sells the condor as one combo, fills its four legs at their quote sides, and lets them expire at the 12-24 close', async () => {
    const { data, r } = await runDefaults();
    const strikes = [...new Set(data.symbols.slice(1).map((s) => Number(s.slice(-8)) / 1000))];
    expect(strikes).toHaveLength(12);
    // defaults: the short legs 2 strikes out of the money, the wings 2 strikes further
    const x = expected(strikes, 2, 2);
    const order = r.engine.orders[0]!;
    expect(r.engine.orders).toHaveLength(1);
    expect(order).toMatchObject({ symbol: 'GOOG', side: 'BUY', type: 'LMT', limit: x.limit, status: 'FILLED', filledQty: 1, tag: 'iron-condor' });
    // submitted when the 09:30 bar closed
    expect(order.submittedAt).toBe(nyMs('2015-12-23 09:31:00'));
    expect(order.legs!.map((l) => [l.symbol, l.side, l.ratio])).toEqual(x.legs.map((l) => [occ(l.strike, l.right), l.side, 1]));
    // the four fills: one bar, each leg at its side's open; 1 contract each: 0.65, at least 1.00 a fill
    const fills = r.journal.fills.filter((f) => f.orderId === order.id);
    expect(fills.map((f) => [f.symbol, f.ts, f.qty, f.price, f.commission])).toEqual(
      x.legs.map((l, k) => [occ(l.strike, l.right), nyMs(x.minute), l.side === 'BUY' ? 1 : -1, x.opens[k], 1]),
    );
    // the credit received: minus the net, per share; x 100 a contract
    const credit = -x.net;
    expect(credit).toBeGreaterThan(0);
    expect(order.avgFillPrice).toBeCloseTo(x.net, 12);
    // GOOG's close at 12:59 (the last bar of the half day, 13:00) is what the legs settle against
    const settle = googCloses().get('2015-12-24 12:59:00')!;
    expect(settle).toBe(748.4);
    // a put is in the money when K - S >= 0.01, a call when S - K >= 0.01: with these strikes none is, and all four
    // expire worthless (closed at 0, no commission)
    for (const l of x.legs) expect(l.right === 'P' ? l.strike - settle : settle - l.strike).toBeLessThan(0.01);
    const settled = r.journal.fills.filter((f) => f.orderId === 0);
    const bySymbol = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(settled.map((f) => [f.symbol, f.qty, f.price, f.reason]).sort(bySymbol)).toEqual(
      x.legs.map((l) => [occ(l.strike, l.right), l.side === 'BUY' ? -1 : 1, 0, 'expiry']).sort(bySymbol),
    );
    // the P&L: the credit x 100 less 4 x 1.00 commission; the account ends flat, in cash
    const pnl = credit * 100 - 4;
    expect(r.engine.trades.reduce((s, t) => s + t.pnl, 0)).toBeCloseTo(pnl, 9);
    const book = r.engine.portfolio.books[0]!;
    expect([...book.qty].every((q) => q === 0)).toBe(true);
    expect(book.cash).toBeCloseTo(100_000 + pnl, 9);
    expect(r.journal.equityCurve.at(-1)!.equity).toBeCloseTo(100_000 + pnl, 9);
  });

  it('with the short strikes nearest the money, the short put is assigned: 100 GOOG bought at its strike', async () => {
    const { data, r } = await run({ shortOtm: 1, wing: 1 });
    const strikes = [...new Set(data.symbols.slice(1).map((s) => Number(s.slice(-8)) / 1000))];
    const x = expected(strikes, 1, 1);
    const fills = r.journal.fills.filter((f) => f.orderId === 1);
    expect(fills.map((f) => [f.symbol, f.ts, f.price])).toEqual(x.legs.map((l, k) => [occ(l.strike, l.right), nyMs(x.minute), x.opens[k]]));
    const settle = 748.4;
    const shortPut = x.legs[1];
    // the short put is in the money by K - S >= 0.01: assigned, 1 contract x 100 shares bought at K
    expect(shortPut.strike - settle).toBeGreaterThanOrEqual(0.01);
    const assigned = r.journal.fills.filter((f) => f.reason === 'assignment');
    expect(assigned.map((f) => [f.symbol, f.qty, f.price])).toEqual([
      [occ(shortPut.strike, 'P'), 1, 0],
      ['GOOG', 100, shortPut.strike],
    ]);
    // the other three are out of the money at 748.40: they expire worthless
    expect(
      r.journal.fills
        .filter((f) => f.reason === 'expiry')
        .map((f) => f.symbol)
        .sort(),
    ).toEqual([x.legs[0], x.legs[2], x.legs[3]].map((l) => occ(l.strike, l.right)).sort());
    // equity at the end: the credit x 100, less 4.00 commission, plus 100 GOOG bought at K marked at 748.40
    const pnl = -x.net * 100 - 4 + 100 * (settle - shortPut.strike);
    const book = r.engine.portfolio.books[0]!;
    expect(book.qty[0]).toBe(100);
    expect(r.journal.equityCurve.at(-1)!.equity).toBeCloseTo(100_000 + pnl, 6);
  });

  it("shows the combo's legs in the report: the order's legs, the fills per leg symbol", async () => {
    const { r } = await runDefaults();
    const report = backtestReport(r, 'test');
    const order = report.orders[0]!;
    expect(order.legs!.map((l) => [l.symbol.slice(10), l.side, l.ratio, l.filledQty])).toEqual([
      [expect.stringMatching(/^P/), 'BUY', 1, 1],
      [expect.stringMatching(/^P/), 'SELL', 1, -1],
      [expect.stringMatching(/^C/), 'SELL', 1, -1],
      [expect.stringMatching(/^C/), 'BUY', 1, 1],
    ]);
    const legFills = report.fills.filter((f) => f.orderId === order.id);
    expect(order.legs!.map((l) => l.avgFillPrice)).toEqual(legFills.map((f) => f.price));
    expect(new Set(report.trades.map((t) => t.symbol))).toEqual(new Set(order.legs!.map((l) => l.symbol)));
    // the page lists the legs under the order, one row each
    const html = renderReportHtml(report);
    for (const [k, l] of order.legs!.entries()) expect(html).toContain(`<tr class="leg"><td></td><td>leg ${k + 1}</td><td>${l.symbol}</td><td>${l.side}</td>`);
  });

  it("journals the combo: its legs in order_legs, each leg's fill under the combo's order id", async () => {
    const { r } = await runDefaults();
    const instance = await DuckDBInstance.create(path.join(path.dirname(db), 'journal.duckdb'));
    const conn = await instance.connect();
    try {
      const run = { runId: 'condor', kind: 'backtest' as const, strategy: 'iron-condor', config: {}, bars: r.bars, finalEquity: 0 };
      await writeJournal(conn, run, r.journal, r.engine.orders, r.engine.portfolio);
      // twice: the run's rows are replaced, not added
      await writeJournal(conn, run, r.journal, r.engine.orders, r.engine.portfolio);
      const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJson();
      const order = r.engine.orders[0]!;
      expect(await rows('SELECT order_id, leg, symbol, side, ratio, filled_qty, avg_fill_price FROM order_legs ORDER BY leg')).toEqual(
        order.legs!.map((l, k) => ({
          order_id: 1,
          leg: k + 1,
          symbol: l.symbol,
          side: l.side,
          ratio: 1,
          filled_qty: l.filledQty,
          avg_fill_price: l.avgFillPrice,
        })),
      );
      expect(await rows('SELECT symbol, type, qty, limit_price FROM orders')).toEqual([{ symbol: 'GOOG', type: 'LMT', qty: 1, limit_price: order.limit }]);
      expect((await rows('SELECT exec_id FROM fills WHERE order_id = 1 ORDER BY seq')).map((f) => f.exec_id)).toEqual(
        [1, 2, 3, 4].map((k) => `combo.1.leg${k}`),
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
