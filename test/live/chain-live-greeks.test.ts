// ctx.chain in a live session takes IB's greeks (issue 15): the runner subscribes the run's options' market data
// (engine/ib/option-greeks-live.ts) and hands the last model computations (tickOptionComputation 13) to the option
// book; the simulator sends them for the options it replays (their quote bars, Black-Scholes at the mid's implied
// volatility). GOOG 2015-12-23 morning, the 4 calls of the covered-call chain: what a strategy reads from
// ctx.chain is IB's implied volatility and delta (BSM, recomputed here from the store to 1e-9), where the backtest
// reads its own American-tree ones; without optionGreeks the live session reads the backtest's.
import { beforeAll, describe, expect, it } from 'vitest';
import type { SlotSpec, Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import type { SimDerivatives } from '../../engine/ib/sim/option-data.ts';
import { bsmGreeks } from '../../engine/options/black-scholes.ts';
import { yearsToExpiry } from '../../engine/options/contract.ts';
import { impliedVol } from '../../engine/options/implied-vol.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { googDerivatives, LEAN, loadGoogRun, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { liveConfig } from './goog-live.ts';
import { liveSession } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151223_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const OPEN = Date.UTC(2015, 11, 23, 14, 30);
const googStore = useGoogOptionsStore(available, ['20151223']);
let derivatives: SimDerivatives | undefined;

beforeAll(async () => {
  if (available) derivatives = await googDerivatives(googStore.db, 86_400_000);
}, 60_000);

interface Seen {
  ts: number;
  symbol: string;
  iv: number;
  delta: number;
}

/** Records what ctx.chain gives on each GOOG bar, trades nothing. */
function recorder(seen: Seen[]): SlotSpec[] {
  const strategy: Strategy = {
    onBar(ctx, bar) {
      if (bar.sid !== 0) return;
      for (const o of ctx.chain('GOOG', { right: 'C' }).options) seen.push({ ts: bar.ts, symbol: o.symbol, iv: o.iv, delta: o.delta });
    },
  };
  return [{ name: 'recorder', strategy, weight: 1 }];
}

describe.runIf(available)("ctx.chain live takes IB's greeks (GOOG 2015-12-23, the covered-call calls)", () => {
  it("IB's implied volatility and delta where the simulator computed them, the backtest's own without optionGreeks", async () => {
    const { series: parts, symbols, contracts } = await loadGoogRun(googStore.db, '2015-12-23');
    // the first half hour of the session
    const cut = (s: BarSeries): BarSeries => {
      const n = s.ts.findIndex((t) => t >= OPEN + 30 * 60_000);
      const k = (a: Float64Array | undefined) => a?.slice(0, n);
      return {
        ...s,
        ...Object.fromEntries(
          Object.entries(s)
            .filter(([, v]) => v instanceof Float64Array)
            .map(([key, v]) => [key, k(v as Float64Array)]),
        ),
      } as BarSeries;
    };
    const series = parts.map(cut);
    const cfg = liveConfig('recorder', symbols, contracts, 1);

    const backtest: Seen[] = [];
    runBacktest(series, cfg, recorder(backtest));
    const live: Seen[] = [];
    await liveSession(series, cfg, recorder(live), { sim: { contracts: cfg.contracts, derivatives } });
    const computedLive: Seen[] = [];
    await liveSession(series, cfg, recorder(computedLive), { sim: { contracts: cfg.contracts, derivatives }, runner: { optionGreeks: false } });

    expect(live.length).toBe(backtest.length);
    expect(live.length).toBeGreaterThan(100);
    // without IB's greeks the live session reads exactly the backtest's
    expect(computedLive).toEqual(backtest);

    // with them: IB's (Black-Scholes at the mid's implied volatility of the quote bar that closed with the bar)
    const store: Store = await openStore(googStore.db, { readOnly: true });
    let fromIb = 0;
    try {
      for (const [i, s] of live.entries()) {
        // IB's last model computation at the bar: from the latest quote bar up to it with a two-sided, uncrossed
        // quote (a bar without one sends none), priced against GOOG's last close when that quote bar ended
        const [q] = (
          await store.conn.runAndReadAll(
            `SELECT ts::DOUBLE AS ts, bid_close, ask_close FROM quote_bars WHERE symbol = '${s.symbol}' AND "interval" = '1m' AND ts <= ${s.ts}
             AND bid_close > 0 AND ask_close > 0 AND bid_close <= ask_close ORDER BY ts DESC LIMIT 1`,
          )
        ).getRowObjectsJS();
        const qts = Number(q!.ts);
        const [u] = (
          await store.conn.runAndReadAll(`SELECT close FROM bars WHERE symbol = 'GOOG' AND "interval" = '1m' AND ts <= ${qts} ORDER BY ts DESC LIMIT 1`)
        ).getRowObjectsJS();
        const strike = Number(s.symbol.slice(-8)) / 1000;
        const market = { spot: Number(u!.close), strike, years: yearsToExpiry('2015-12-24', qts + 60_000), rate: 0, dividendYield: 0 };
        const iv = impliedVol({ right: 'C', style: 'european' }, (Number(q!.bid_close) + Number(q!.ask_close)) / 2, market);
        if (iv.ok) {
          fromIb++;
          expect(Math.abs(s.iv - iv.vol), `${s.symbol} iv at ${new Date(s.ts).toISOString()}`).toBeLessThan(1e-9);
          expect(Math.abs(s.delta - bsmGreeks('C', { ...market, vol: iv.vol }).delta), `${s.symbol} delta`).toBeLessThan(1e-9);
        } else {
          // IB sent "not computed" for that quote: the book's own, as in the backtest
          expect([s.iv, s.delta]).toEqual([backtest[i]!.iv, backtest[i]!.delta]);
        }
      }
    } finally {
      store.close();
    }
    expect(fromIb).toBeGreaterThan(live.length / 2);
  }, 120_000);
});
