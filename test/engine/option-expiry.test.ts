// Option expiry and assignment in the backtest (issue 15): at the close of an option's last trading day, an
// option in the money by at least 0.01 is exercised (long) or assigned (short) into its underlying at the strike,
// multiplier x quantity shares; otherwise it expires worthless; an option whose underlying is not in the run is
// settled in cash at its intrinsic value. Every figure is worked out by hand in the comments.
// Daily bars from T0 = 2020-01-01; the options' last trading day is 2020-01-03, bar 2.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries, ContractTerms, Fill, OrderRequest } from '../../engine/core/types.ts';
import type { RiskConfig } from '../../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig, type RunExtras } from '../../engine/run/backtest.ts';
import { config, DAY, dailySeries, T0 } from './harness.ts';

const NO_LIMITS: RiskConfig = { name: 'none', limits: {}, breaker: {} };
const EXPIRY = '2020-01-03';
const EXPIRY_TS = T0 + 2 * DAY;

const opt = (strike: number, right: 'C' | 'P', underlying = 'XYZ'): ContractTerms => ({
  secType: 'OPT',
  multiplier: 100,
  currency: 'USD',
  expiry: EXPIRY,
  strike,
  right,
  underlying,
});

/** Flat daily bars at the given closes (open = high = low = close), volume 1e6. */
const flat = (symbol: string, closes: number[]) =>
  dailySeries(
    symbol,
    closes.map((c) => [c, c, c, c, 1e6]),
  );

type Plan = { afterBar: number; req: OrderRequest }[];

interface Seen {
  /** per bar the strategy sees: [symbol, bar index, position in each run symbol] */
  positions: [string, number, number[]][];
  /** the book's equity right after each settlement fill */
  equityAfter: [Fill, number][];
}

function run(series: BarSeries[], plan: Plan, contracts: Record<string, ContractTerms>, extras: RunExtras = {}, over: Partial<BacktestConfig> = {}) {
  const seen: Seen = { positions: [], equityAfter: [] };
  const strategy: Strategy = {
    onBar(ctx, bar) {
      const i = (bar.ts - T0) / DAY;
      seen.positions.push([bar.symbol, i, ctx.symbols.map((_, s) => ctx.position(s))]);
      for (const p of plan) if (p.afterBar === i && p.req.symbol === bar.symbol) ctx.submit(p.req);
    },
    onFill(ctx, fill) {
      if (fill.reason !== undefined) seen.equityAfter.push([fill, ctx.equity]);
    },
  };
  const cfg = config({
    symbols: series.map((s) => s.symbol),
    sizing: { kind: 'fixed', quantity: 1 },
    risk: NO_LIMITS,
    commission: { model: 'ibkr-fixed' },
    contracts,
    ...over,
  });
  const result = runBacktest(series, cfg, [{ name: 'scripted', strategy, weight: 1 }], undefined, extras);
  return { ...result, seen };
}

const buy = (symbol: string, qty: number): OrderRequest => ({ symbol, side: 'BUY', type: 'MKT', qty, tif: 'GTC' });
const sell = (symbol: string, qty: number): OrderRequest => ({ symbol, side: 'SELL', type: 'MKT', qty, tif: 'GTC' });

describe('a long call in the money at expiry', () => {
  const CALL = 'XYZ200103C00100000';
  // XYZ closes 110 on the expiry day; the call trades at 4 on bar 1 and closes at its intrinsic value 10 on bar 2
  const series = [flat('XYZ', [100, 104, 110, 111]), flat(CALL, [3, 4, 10])];
  const r = run(series, [{ afterBar: 0, req: buy(CALL, 2) }], { [CALL]: opt(100, 'C') });

  it('is exercised: 200 XYZ bought at the strike, the option closed at 0, without commission', () => {
    const settled = r.journal.fills.filter((f) => f.reason !== undefined);
    expect(settled.map((f) => [f.symbol, f.qty, f.price, f.commission, f.reason, f.ts, f.orderId])).toEqual([
      [CALL, -2, 0, 0, 'exercise', EXPIRY_TS, 0],
      ['XYZ', 200, 100, 0, 'exercise', EXPIRY_TS, 0], // 2 contracts x 100
    ]);
    expect(settled.map((f) => f.execId)).toEqual(['exercise.1', 'exercise.2']);
    expect(r.engine.portfolio.books[0]!.qty[0]).toBe(200);
    expect(r.engine.portfolio.books[0]!.avgCost[0]).toBe(100);
  });

  it("books the option's round trip at -premium x 100 x qty - commission", () => {
    // premium 4 x 100 x 2 = 800; IBKR 0.65 a contract, at least 1: 1.30
    expect(r.engine.trades).toHaveLength(1);
    const t = r.engine.trades[0]!;
    expect([t.symbol, t.side, t.entryPrice, t.exitPrice, t.quantity, t.exitTime]).toEqual([CALL, 'LONG', 4, 0, 2, EXPIRY_TS]);
    expect(t.pnl).toBeCloseTo(-801.3, 9);
  });

  it('pays the strike: cash 100,000 - 800 - 1.30 - 200 x 100', () => {
    expect(r.engine.portfolio.cash).toBeCloseTo(79_198.7, 9);
  });

  it('keeps equity continuous: after = before with the option at its intrinsic value at the close', () => {
    // before: 100,000 - 801.30 + 2 x 100 x (110 - 100) = 101,198.70; after: 79,198.70 + 200 x 110, the same
    const after = r.seen.equityAfter.at(-1)!;
    expect(after[0].symbol).toBe('XYZ');
    expect(Math.abs(after[1] - 101_198.7)).toBeLessThan(1e-9);
    // the equity sampled at the expiry bar's close (the call marked at 10) is that too
    expect(Math.abs(r.journal.equityCurve[2]!.equity - 101_198.7)).toBeLessThan(1e-9);
    // and the next day XYZ at 111: 79,198.70 + 200 x 111
    expect(r.journal.equityCurve[3]!.equity).toBeCloseTo(101_398.7, 9);
  });

  it("settles after the strategies saw the expiry bar and before the next day's bar", () => {
    const pos = (sym: string, i: number) => r.seen.positions.find(([s, k]) => s === sym && k === i)![2];
    expect(pos(CALL, 2)).toEqual([0, 2]); // the expiry bar: still the option
    expect(pos('XYZ', 3)).toEqual([200, 0]); // the next day: the shares
  });

  it('journals what happened', () => {
    const line = r.journal.logs.find((l) => l.message.includes(CALL))!;
    expect(line.message).toBe(`option call ${CALL} (strike 100, last trading day ${EXPIRY}): long 2, XYZ closed 110: exercised, bought 200 XYZ at 100`);
    expect(line.ts).toBe(EXPIRY_TS + DAY); // the expiry bar's close
  });
});

describe('a short put in the money at expiry (the run ends that day)', () => {
  const PUT = 'XYZ200103P00105000';
  // sold 3 puts at 6 on bar 1; XYZ closes 100 on the expiry day, the put 5 (its intrinsic value)
  const series = [flat('XYZ', [103, 102, 100]), flat(PUT, [5.5, 6, 5])];
  const r = run(series, [{ afterBar: 0, req: sell(PUT, 3) }], { [PUT]: opt(105, 'P') });

  it('is assigned: 300 XYZ bought at the strike 105', () => {
    const settled = r.journal.fills.filter((f) => f.reason !== undefined);
    expect(settled.map((f) => [f.symbol, f.qty, f.price, f.reason])).toEqual([
      [PUT, 3, 0, 'assignment'],
      ['XYZ', 300, 105, 'assignment'],
    ]);
  });

  it('books +premium x 100 x qty - commission for the short', () => {
    // 6 x 100 x 3 = 1,800 less 3 x 0.65 = 1.95
    const t = r.engine.trades[0]!;
    expect([t.side, t.entryPrice, t.exitPrice, t.quantity]).toEqual(['SHORT', 6, 0, 3]);
    expect(t.pnl).toBeCloseTo(1_798.05, 9);
  });

  it('pays 300 x 105 and keeps equity continuous', () => {
    // cash 100,000 + 1,800 - 1.95 - 31,500 = 70,298.05
    expect(r.engine.portfolio.cash).toBeCloseTo(70_298.05, 9);
    // before: 100,000 + 1,798.05 - 3 x 100 x (105 - 100) = 100,298.05; after: 70,298.05 + 300 x 100
    expect(Math.abs(r.seen.equityAfter.at(-1)![1] - 100_298.05)).toBeLessThan(1e-9);
    expect(Math.abs(r.engine.portfolio.equity() - 100_298.05)).toBeLessThan(1e-9);
  });
});

describe('options out of the money, or less than 0.01 in', () => {
  const OTM = 'XYZ200103C00120000';
  const PENNY = 'XYZ200103C00109990'; // 110 - 109.99 = 0.01: exercised
  const UNDER = 'XYZ200103C00109995'; // 110 - 109.995 = 0.005: expires
  const series = [flat('XYZ', [100, 104, 110, 111]), flat(OTM, [0.4, 0.5, 0.05]), flat(PENNY, [1, 1, 0.01]), flat(UNDER, [1, 1, 0.01])];
  const plan: Plan = [
    { afterBar: 0, req: buy(OTM, 1) },
    { afterBar: 0, req: { symbol: OTM, side: 'SELL', type: 'LMT', qty: 1, limit: 5, tif: 'GTC' } }, // never reached
    { afterBar: 0, req: buy(PENNY, 1) },
    { afterBar: 0, req: buy(UNDER, 1) },
  ];
  const r = run(series, plan, { [OTM]: opt(120, 'C'), [PENNY]: opt(109.99, 'C'), [UNDER]: opt(109.995, 'C') });

  it('expires worthless: closed at 0, P&L -premium x 100 - commission', () => {
    const t = r.engine.trades.find((x) => x.symbol === OTM)!;
    expect([t.entryPrice, t.exitPrice, t.quantity]).toEqual([0.5, 0, 1]);
    // 0.5 x 100 = 50, commission the minimum 1.00
    expect(t.pnl).toBeCloseTo(-51, 9);
    expect(r.journal.fills.find((f) => f.symbol === OTM && f.reason !== undefined)!.reason).toBe('expiry');
  });

  it("applies OCC's 0.01 threshold", () => {
    const reasons = r.journal.fills.filter((f) => f.reason !== undefined).map((f) => [f.symbol, f.qty, f.price, f.reason]);
    expect(reasons).toEqual([
      [OTM, -1, 0, 'expiry'],
      [PENNY, -1, 0, 'exercise'],
      ['XYZ', 100, 109.99, 'exercise'],
      [UNDER, -1, 0, 'expiry'],
    ]);
  });

  it('cancels working orders in an expired option', () => {
    const limit = r.engine.orders.find((o) => o.type === 'LMT')!;
    expect(limit.status).toBe('CANCELLED');
    expect(limit.reason).toBe(`option ${OTM} expired (last trading day ${EXPIRY})`);
  });
});

describe('an option whose underlying is not in the run', () => {
  const CALL = 'ABC200103C00050000';
  const series = [flat(CALL, [5, 6, 7.4])];
  const closes: RunExtras['underlyingClose'] = (u, d) => (u === 'ABC' && d === EXPIRY ? 57.5 : NaN);

  it('is settled in cash at its intrinsic value, and the journal says so', () => {
    const r = run(series, [{ afterBar: 0, req: buy(CALL, 1) }], { [CALL]: opt(50, 'C', 'ABC') }, { underlyingClose: closes });
    // bought 1 at 6; settled at 57.5 - 50 = 7.5: P&L (7.5 - 6) x 100 - 1.00 = 149; cash 100,000 - 600 - 1 + 750
    expect(r.journal.fills.at(-1)).toMatchObject({ symbol: CALL, qty: -1, price: 7.5, commission: 0, reason: 'exercise' });
    expect(r.engine.trades[0]!.pnl).toBeCloseTo(149, 9);
    expect(r.engine.portfolio.cash).toBeCloseTo(100_149, 9);
    expect(r.journal.logs.at(-1)!.message).toContain('settled in cash at its intrinsic value 7.5 (ABC is not in the run)');
    // continuous: before 100,000 - 601 + 100 x 7.5 = 100,149; after, all cash
    expect(Math.abs(r.seen.equityAfter[0]![1] - 100_149)).toBeLessThan(1e-9);
  });

  it('fails, naming the option, when no close of the underlying is given', () => {
    expect(() => run(series, [{ afterBar: 0, req: buy(CALL, 1) }], { [CALL]: opt(50, 'C', 'ABC') })).toThrow(
      `option ${CALL} expires ${EXPIRY} with an open position, but its underlying ABC has no close to settle it against: it is not a run symbol and the run was given no underlyingClose for it`,
    );
  });
});

describe('minute bars', () => {
  it("settles after the expiry day's last bar group, against the underlying's last close, before the next day's first bar", () => {
    const CALL = 'XYZ200103C00100000';
    // 2020-01-03 15:58 and 15:59 ET (EST: UTC-5), then 2020-01-06 09:30 (a Monday)
    const t1 = Date.UTC(2020, 0, 3, 20, 58);
    const t2 = t1 + 60_000;
    const t3 = Date.UTC(2020, 0, 6, 14, 30);
    const bars = (symbol: string, ts: number[], closes: number[]): BarSeries => ({
      ...flat(symbol, closes),
      interval: '1m',
      ts: Float64Array.from(ts),
    });
    // XYZ's last close on the expiry day is 106 (15:59); the call's last bar is 15:58
    const series = [bars('XYZ', [t1, t2, t3], [105, 106, 107]), bars(CALL, [t1], [5])];
    const seen: number[][] = [];
    const strategy: Strategy = {
      onBar(ctx, bar) {
        seen.push([bar.ts, ctx.position(0), ctx.position(1)]);
        if (bar.ts === t1 && bar.symbol === CALL) ctx.submit(buy(CALL, 1)); // fills at 15:59? the call has no bar then: never
      },
    };
    const cfg = config({
      symbols: ['XYZ', CALL],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 1 },
      risk: NO_LIMITS,
      contracts: { [CALL]: opt(100, 'C') },
    });
    const r = runBacktest(series, cfg, [{ name: 's', strategy, weight: 1 }]);
    // the buy never filled (no bar of the call after it), so there is nothing to settle; its order is cancelled at expiry
    expect(r.journal.fills).toHaveLength(0);
    expect(r.engine.orders[0]!.status).toBe('CANCELLED');
    const cancelled = r.journal.orderEvents.find((e) => e.to === 'CANCELLED')!;
    expect(cancelled.ts).toBe(t2 + 60_000); // at the close of the day's last group (15:59 + 1 min)
    expect(seen.map((s) => s[0])).toEqual([t1, t1, t2, t3]);
  });

  it('exercises at the 15:59 close a position opened intraday', () => {
    const CALL = 'XYZ200103C00100000';
    const t0 = Date.UTC(2020, 0, 3, 20, 57);
    const ts = [t0, t0 + 60_000, t0 + 120_000];
    const next = Date.UTC(2020, 0, 6, 14, 30);
    const bars = (symbol: string, t: number[], closes: number[]): BarSeries => ({ ...flat(symbol, closes), interval: '1m', ts: Float64Array.from(t) });
    const series = [bars('XYZ', [...ts, next], [105, 105.5, 106, 107]), bars(CALL, ts.slice(0, 2), [5, 5.25])];
    const seen: [number, number, number][] = [];
    const strategy: Strategy = {
      onBar(ctx, bar) {
        if (bar.symbol === 'XYZ') seen.push([bar.ts, ctx.position(0), ctx.position(1)]);
        if (bar.ts === t0 && bar.symbol === CALL) ctx.submit(buy(CALL, 1)); // fills at 15:58's open, 5.25
      },
    };
    const cfg = config({
      symbols: ['XYZ', CALL],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 1 },
      risk: NO_LIMITS,
      contracts: { [CALL]: opt(100, 'C') },
    });
    const r = runBacktest(series, cfg, [{ name: 's', strategy, weight: 1 }]);
    // exercised against XYZ's 15:59 close 106 (the call's own last bar was 15:58): 100 XYZ bought at 100,
    // stamped with the start of the day's last bar group (15:59)
    expect(r.journal.fills.map((f) => [f.symbol, f.qty, f.price, f.ts, f.reason])).toEqual([
      [CALL, 1, 5.25, ts[1], undefined],
      [CALL, -1, 0, ts[2], 'exercise'],
      ['XYZ', 100, 100, ts[2], 'exercise'],
    ]);
    expect(seen).toEqual([
      [ts[0], 0, 0],
      [ts[1], 0, 1],
      [ts[2], 0, 1], // the expiry day's last bar: still the option
      [next, 100, 0], // the next session's first: the shares
    ]);
  });
});

describe('any option at expiry (property)', () => {
  it('moves its intrinsic value into the underlying (or cash) and nothing else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'C' | 'P'>('C', 'P'),
        fc.integer({ min: 100, max: 300 }).map((x) => x / 2), // strike 50..150 by 0.5
        fc.integer({ min: 5_000, max: 15_000 }).map((x) => x / 100), // the underlying's close
        fc.integer({ min: 1, max: 2_000 }).map((x) => x / 100), // premium
        fc.integer({ min: -5, max: 5 }).filter((q) => q !== 0),
        (right, strike, s, premium, q) => {
          const sym = `XYZ200103${right}`;
          const intrinsic = right === 'C' ? s - strike : strike - s;
          const itm = intrinsic >= 0.01 - 1e-9;
          const series = [flat('XYZ', [100, 100, s]), flat(sym, [premium, premium, Math.max(intrinsic, 0)])];
          const r = run(
            series,
            [{ afterBar: 0, req: q > 0 ? buy(sym, q) : sell(sym, -q) }],
            { [sym]: opt(strike, right) },
            {},
            { commission: { model: 'none' } },
          );
          // paid q x premium x 100 for the option; worth q x 100 x intrinsic if exercised/assigned, else 0
          const expected = 100_000 - q * premium * 100 + (itm ? q * 100 * intrinsic : 0);
          expect(Math.abs(r.engine.portfolio.equity() - expected)).toBeLessThan(1e-6);
          const book = r.engine.portfolio.books[0]!;
          expect(book.qty[1]).toBe(0);
          // a long call or a short put ends long the underlying; a long put or a short call short
          expect(book.qty[0]).toBe(itm ? q * 100 * (right === 'C' ? 1 : -1) : 0);
          if (itm) expect(book.avgCost[0]).toBe(strike);
          const trip = r.engine.trades.find((t) => t.symbol === sym)!;
          expect(trip.pnl).toBeCloseTo(q > 0 ? -premium * 100 * q : premium * 100 * -q, 6);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("an option's contract terms", () => {
  const CALL = 'XYZ200103C00100000';
  const series = [flat('XYZ', [100, 104, 110]), flat(CALL, [3, 4, 10])];

  it('without an expiry: never settled, marked like any position', () => {
    const r = run(series, [{ afterBar: 0, req: buy(CALL, 1) }], { [CALL]: { secType: 'OPT', multiplier: 100, currency: 'USD' } });
    expect(r.journal.fills.filter((f) => f.reason !== undefined)).toEqual([]);
    expect(r.engine.portfolio.books[0]!.qty[1]).toBe(1);
  });

  it('with an expiry but no strike, right or underlying: refused, naming the field', () => {
    const bad = (terms: Partial<ContractTerms>) => () => run(series, [], { [CALL]: { ...opt(100, 'C'), ...terms } });
    expect(bad({ strike: undefined })).toThrow(`contracts.${CALL}.strike: an option needs a strike > 0, got undefined`);
    expect(bad({ right: 'X' as 'C' })).toThrow(`contracts.${CALL}.right: an option needs 'C' or 'P', got X`);
    expect(bad({ underlying: '' })).toThrow(`contracts.${CALL}.underlying: an option needs its underlying's symbol`);
    expect(bad({ expiry: '2020-01-32' })).toThrow(`contracts.${CALL}.expiry: an option needs its last trading day as YYYY-MM-DD, got 2020-01-32`);
  });
});
