// IB's option greeks received live (engine/ib/option-greeks-live.ts) from the simulator over TCP with the real
// @stoqey/ib client, GOOG 2015-12-23: the last model computation (tick 13) of hand-picked contracts at two
// instants equals Black-Scholes run here on the store's quote bar and underlying bar (to 1e-9); IB's "not
// computed" markers (-1, -2) are absent fields; and an option book given these greeks reports IB's implied
// volatility and delta in ctx.chain, falling back to its own computation for a contract IB has not computed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries, ContractTerms } from '../../engine/core/types.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { LiveOptionGreeks, readComputation } from '../../engine/ib/option-greeks-live.ts';
import { loadSimDerivatives } from '../../engine/ib/sim/option-data.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { bsmGreeks } from '../../engine/options/black-scholes.ts';
import { yearsToExpiry } from '../../engine/options/contract.ts';
import { impliedVol } from '../../engine/options/implied-vol.ts';
import { OptionBook } from '../../engine/run/option-book.ts';
import { importGoogOptions, LEAN } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { ApiClient } from './sim/sim-helpers.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151223_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog/20151223.csv`);
/** 2015-12-23 09:30 New York (EST) */
const OPEN = Date.UTC(2015, 11, 23, 14, 30);
const RATE = 0.0025; // DERIVATIVES.md's assumed short rate for Dec 2015
const PICKED = ['GOOG151224C00750000', 'GOOG151224P00750000', 'GOOG151224C00740000'];
const terms = (symbol: string): ContractTerms => ({
  secType: 'OPT',
  multiplier: 100,
  currency: 'USD',
  expiry: '2015-12-24',
  strike: Number(symbol.slice(-8)) / 1000,
  right: symbol.includes('C0') ? 'C' : 'P',
  underlying: 'GOOG',
});
const CONTRACTS = Object.fromEntries(PICKED.map((s) => [s, terms(s)]));

let store: Store | undefined;
let series: BarSeries[] = [];

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await store!.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A simulator replaying `replayed` from the open with GOOG's option quotes of the first hour, and a client subscribed to the picked options. */
async function session(replayed: BarSeries[]) {
  const derivatives = await loadSimDerivatives(store!, { interval: '1m', from: OPEN, to: OPEN + 3_600_000, pricing: { rate: RATE } });
  const sim = await IbGatewaySimulator.start({ series: replayed, speed: 'max', from: OPEN, derivatives });
  const client = await ApiClient.connect(sim.port, 1);
  const greeks = new LiveOptionGreeks(client.api);
  greeks.subscribe(CONTRACTS);
  return {
    sim,
    client,
    greeks,
    async close() {
      greeks.stop();
      await client.close();
      await sim.close();
    },
  };
}

beforeAll(async () => {
  if (!available) return;
  store = await openStore(':memory:');
  await importGoogOptions(store, ['20151223'], { interval: '1m' });
  series = await loadBars(store, { symbols: ['GOOG'], interval: '1m' });
}, 60_000);

afterAll(() => store?.close());

/** What the simulator's model computation of `symbol`'s quote bar starting at `ts` must be: BSM at the mid's implied volatility, in IB's units. */
async function expected(symbol: string, ts: number): Promise<Record<string, number>> {
  const [q] = await rows(`SELECT bid_close, ask_close FROM quote_bars WHERE symbol = '${symbol}' AND "interval" = '1m' AND ts = ${ts}`);
  // the underlying's bar that ends with the quote bar (both start at ts) gives the spot
  const [u] = await rows(`SELECT close FROM bars WHERE symbol = 'GOOG' AND "interval" = '1m' AND ts = ${ts}`);
  const t = terms(symbol);
  const mid = (Number(q!.bid_close) + Number(q!.ask_close)) / 2;
  const market = { spot: Number(u!.close), strike: t.strike!, years: yearsToExpiry('2015-12-24', ts + 60_000), rate: RATE, dividendYield: 0 };
  const iv = impliedVol({ right: t.right!, style: 'european' }, mid, market);
  // no volatility gives the mid (below the call's intrinsic value S - K e^-rT): IB's "not computed" (-1 and -2
  // for every field but the underlying's price), so nothing but undPrice is there
  if (!iv.ok) return { undPrice: market.spot };
  const g = bsmGreeks(t.right!, { ...market, vol: iv.vol });
  // IB's units: vega per volatility point, theta per calendar day
  return { impliedVol: iv.vol, delta: g.delta, gamma: g.gamma, vega: g.vega / 100, theta: g.theta / 365, optPrice: mid, undPrice: market.spot };
}

describe.runIf(available)("IB's option greeks live (simulator over TCP, GOOG 2015-12-23)", () => {
  it('the last model computation of each picked contract equals Black-Scholes on the store quote, at 09:32 and 10:00', async () => {
    const s = await session(series);
    try {
      // 24 five-second batches from 09:30: the clock at 09:32, the last quote bar out the 09:31 one
      await s.client.step(24);
      expect(s.sim.now()).toBe(OPEN + 120_000);
      const seen = new Set<string>();
      for (const [at, lastBar] of [
        [OPEN + 120_000, OPEN + 60_000],
        [OPEN + 30 * 60_000, OPEN + 29 * 60_000],
      ] as const) {
        if (s.sim.now() < at) await s.client.step((at - s.sim.now()) / 5_000);
        expect(s.sim.now()).toBe(at);
        for (const symbol of PICKED) {
          const got = s.greeks.greeks(symbol);
          const want = await expected(symbol, lastBar);
          expect(Object.keys(got ?? {}).sort(), `${symbol} at ${new Date(at).toISOString()}`).toEqual(Object.keys(want).sort());
          for (const k of Object.keys(want)) {
            expect(Math.abs(got![k as keyof typeof got]! - want[k]!), `${symbol} ${k} at ${new Date(at).toISOString()}`).toBeLessThan(1e-9);
          }
          seen.add(want.delta === undefined ? 'not computed' : 'computed');
        }
      }
      // the picks cover both: the 740 call's 09:31 mid is below its intrinsic value, so IB's markers came for it
      expect([...seen].sort()).toEqual(['computed', 'not computed']);
      // one model computation per quote bar with a two-sided, uncrossed quote (quoteMid's rule), bars 09:30 .. 09:59 (the last ends at 10:00)
      const [{ n }] = await rows(
        `SELECT count(*)::INT AS n FROM quote_bars WHERE symbol IN (${PICKED.map((x) => `'${x}'`).join(', ')}) AND "interval" = '1m'
         AND ts >= ${OPEN} AND ts <= ${OPEN + 29 * 60_000} AND bid_close > 0 AND ask_close > 0 AND bid_close <= ask_close`,
      );
      expect(s.greeks.received).toBe(n);
      expect(s.client.errors.filter((e) => e.code < 2100)).toEqual([]);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('"not computed" (-1 implied volatility and prices, -2 greeks) is absent; a delta of -1 is a delta', () => {
    expect(readComputation(-1, -2, -1, -2, -2, -2, -1)).toEqual({});
    expect(readComputation(0.3, -1, 2.5, 0, -2, -0.05, 750)).toEqual({ impliedVol: 0.3, delta: -1, optPrice: 2.5, gamma: 0, theta: -0.05, undPrice: 750 });
    // what @stoqey/ib hands over for the markers, and what no number is
    expect(readComputation(undefined, undefined, Number.NaN, Number.POSITIVE_INFINITY)).toEqual({});
  });

  it('a simulator without the underlying sends "not computed": the greeks are there and empty, and the option book computes its own', async () => {
    // GOOG's bars replayed under another name: the simulator has no GOOG price to compute against
    const other = series.map((x) => ({ ...x, symbol: 'XGOOG' }));
    const s = await session(other);
    try {
      await s.client.step(24);
      for (const symbol of PICKED) expect(s.greeks.greeks(symbol)).toEqual({});
      expect(s.greeks.received).toBe(PICKED.length * 2);

      // an option book given these greeks falls back to its own computation: the same chain as without them
      const { book, plain, spot } = await books(s.greeks);
      expect(book.chain('GOOG', spot, OPEN + 120_000, {})).toEqual(plain.chain('GOOG', spot, OPEN + 120_000, {}));
    } finally {
      await s.close();
    }
  }, 60_000);

  it("an option book given IB's greeks reports IB's implied volatility and delta in the chain (bid, ask and mid its own)", async () => {
    const s = await session(series);
    try {
      await s.client.step(24);
      const { book, plain, spot } = await books(s.greeks);
      const live = book.chain('GOOG', spot, OPEN + 120_000, {});
      const computed = plain.chain('GOOG', spot, OPEN + 120_000, {});
      expect(live.options.map((o) => o.symbol)).toEqual(computed.options.map((o) => o.symbol));
      let fromIb = 0;
      for (const [k, o] of live.options.entries()) {
        const ib = s.greeks.greeks(o.symbol)!;
        if (ib.delta === undefined) {
          // IB did not compute this one (the 740 call: no volatility gives its mid): the book's own computation
          expect([o.iv, o.delta]).toEqual([computed.options[k]!.iv, computed.options[k]!.delta]);
          continue;
        }
        fromIb++;
        expect(o.iv).toBe(ib.impliedVol);
        expect(o.delta).toBe(ib.delta);
        expect([o.bid, o.ask, o.mid]).toEqual([computed.options[k]!.bid, computed.options[k]!.ask, computed.options[k]!.mid]);
        // IB's (here Black-Scholes) delta is not the backtest's American-tree delta, but close to it for these calls and puts
        expect(Math.abs(o.delta - computed.options[k]!.delta)).toBeLessThan(0.05);
      }
      expect(fromIb).toBe(2);
    } finally {
      await s.close();
    }
  }, 60_000);
});

/** An option book of GOOG and the picked options given `greeks` and one without, both fed the bars of the open's second minute; GOOG's close there. */
async function books(greeks: LiveOptionGreeks) {
  const symbols = ['GOOG', ...PICKED];
  const book = new OptionBook(symbols, [undefined, ...PICKED.map(terms)], greeks);
  const plain = new OptionBook(symbols, [undefined, ...PICKED.map(terms)]);
  const bars = await quoteBars(symbols, OPEN + 60_000);
  book.onBars(bars, bars.length);
  plain.onBars(bars, bars.length);
  return { book, plain, spot: bars[0]!.close };
}

/** The bars of `symbols` starting at `ts` as the engine gets them: the stock's trade bar, each option's quote bar with its closing bid and ask. */
async function quoteBars(symbols: string[], ts: number) {
  const [u] = await rows(`SELECT open, high, low, close, volume FROM bars WHERE symbol = 'GOOG' AND "interval" = '1m' AND ts = ${ts}`);
  const out = [
    { symbol: 'GOOG', sid: 0, ts, open: Number(u!.open), high: Number(u!.high), low: Number(u!.low), close: Number(u!.close), volume: Number(u!.volume) },
  ];
  for (const [k, symbol] of symbols.slice(1).entries()) {
    const [q] = await rows(`SELECT bid_close, ask_close FROM quote_bars WHERE symbol = '${symbol}' AND "interval" = '1m' AND ts = ${ts}`);
    const bid = Number(q!.bid_close);
    const ask = Number(q!.ask_close);
    const mid = (bid + ask) / 2;
    out.push({ symbol, sid: k + 1, ts, open: mid, high: mid, low: mid, close: mid, volume: 0, bid, ask } as (typeof out)[number]);
  }
  return out;
}
