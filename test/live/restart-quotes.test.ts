// A live options session stopped in the middle of a day and started again (the same run id and journal file,
// reopened) takes its quote bars back from the journal: the bars it replays into the strategies (warm-up) carry
// the same closing bid and ask as the backtest's quote bars, and from the first bar after the restart the
// strategies see the same bars and the same ctx.chain as the backtest at the same minute. GOOG's minute bars and
// its calls' quote bars of 2015-12-23 (the chain of test/live/option-parity.test.ts: the calls of the 24th), in lockstep.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { LEAN, loadGoogRun, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { liveConfig } from './goog-live.ts';
import { liveSession, useTempDir } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const googStore = useGoogOptionsStore(available);
const temp = useTempDir('tradebench-restart-quotes-', available);

/** What a strategy saw: every bar with its quotes, and at each bar of the underlying the chain of its calls. */
interface Seen {
  bars: [sid: number, ts: number, close: number, bid: number | undefined, ask: number | undefined][];
  chains: Map<number, [symbol: string, bid: number, ask: number][]>;
}

/** The restart: at 11:00 New York on the 23rd (the session before it, the session after it). */
const CUT = Date.parse('2015-12-23T11:00:00-05:00');
const WINDOW = [CUT - 10 * 60_000, CUT + 30 * 60_000];

/** A strategy that only looks (no orders): what it sees is the test's subject. */
function probe(seen: Seen): Strategy {
  return {
    onBar(ctx, bar) {
      seen.bars.push([bar.sid, bar.ts, bar.close, bar.bid, bar.ask]);
      // the chain (an implied volatility per call: slow) around the restart only
      if (bar.sid !== 0 || ctx.now < WINDOW[0] || ctx.now > WINDOW[1]) return;
      seen.chains.set(
        ctx.now,
        ctx.chain('GOOG', { right: 'C' }).options.map((o) => [o.symbol, o.bid, o.ask]),
      );
    },
  };
}

const fresh = (): Seen => ({ bars: [], chains: new Map() });
const slots = (seen: Seen) => [{ name: 'probe', strategy: probe(seen), weight: 1 }];

/** The bars of `s` with from <= ts < to, every column (the quote columns too). */
function slice(s: BarSeries, from: number, to: number): BarSeries {
  let a = 0;
  while (a < s.ts.length && s.ts[a] < from) a++;
  let b = a;
  while (b < s.ts.length && s.ts[b] < to) b++;
  const out: Record<string, unknown> = { symbol: s.symbol, interval: s.interval };
  for (const [k, v] of Object.entries(s)) if (v instanceof Float64Array) out[k] = v.slice(a, b);
  return out as unknown as BarSeries;
}

/** `s` without its bar at `ts`. */
function without(s: BarSeries, ts: number): BarSeries {
  const i = s.ts.indexOf(ts);
  if (i < 0) throw new Error(`${s.symbol} has no bar at ${new Date(ts).toISOString()}`);
  const out: Record<string, unknown> = { symbol: s.symbol, interval: s.interval };
  for (const [k, v] of Object.entries(s)) if (v instanceof Float64Array) out[k] = Float64Array.from([...v.subarray(0, i), ...v.subarray(i + 1)]);
  return out as unknown as BarSeries;
}

describe.runIf(available)('a live options session restarted mid-day keeps its quotes (GOOG calls, 2015-12-23)', () => {
  /** what the backtest's strategy saw, and the live one before (first) and after (second) the restart */
  const seen = { backtest: fresh(), first: fresh(), second: fresh() };
  /** the call without a quote bar in the first minute after the restart */
  let gapped = '';

  beforeAll(async () => {
    const { series: loaded, symbols, contracts, sectors } = await loadGoogRun(googStore.db, '2015-12-23');
    const cfg = liveConfig('probe', symbols, contracts, 1);
    expect(loaded.map((s) => s.bidClose !== undefined)).toEqual([false, true, true, true, true]); // GOOG, then its 4 calls' quote bars
    // the first call has no quote bar in the minute the restarted session starts with: the chain there holds it by
    // its last quote from before the restart (the others have a bar every minute)
    const series = loaded.map((s, k) => (k === 1 ? without(s, CUT) : s));
    gapped = series[1].symbol;
    runBacktest(series, cfg, slots(seen.backtest), sectors);
    const file = path.join(temp.dir, 'journal.duckdb');
    for (const [part, from, to] of [
      ['first', -Infinity, CUT],
      ['second', CUT, Infinity],
    ] as const) {
      // each session a new journal object on the same file: what the restart knows of the first is in the file
      const journal = await LiveJournal.open(file);
      try {
        await liveSession(
          series.map((s) => slice(s, from, to)),
          cfg,
          slots(seen[part]),
          { journal, runId: 'quotes', sim: { contracts: cfg.contracts } },
        );
      } finally {
        await journal.close();
      }
    }
  }, 120_000);

  it('the warm-up replays the journaled bars with their bid and ask; after it, the same bars and ctx.chain as the backtest', () => {
    const { backtest, first, second } = seen;
    // [sid, ts, close, bid, ask]: the calls' bars carry their quote bars' closing sides
    const before = backtest.bars.filter((b) => b[1] < CUT);
    expect(before.filter((b) => b[0] > 0 && typeof b[3] === 'number' && typeof b[4] === 'number').length).toBeGreaterThan(100);
    // the first session saw them live; the restarted one was shown them again from the journal (warm-up): quotes and all
    expect(first.bars).toEqual(before);
    expect(second.bars.filter((b) => b[1] < CUT)).toEqual(before);
    expect(second.bars.filter((b) => b[1] >= CUT)).toEqual(backtest.bars.filter((b) => b[1] >= CUT));
    // the chain of the first bar after the restart: the calls with a bar that minute priced as in the backtest
    const firstAfter = CUT + 60_000;
    const chain = second.chains.get(firstAfter)!;
    const others = (c: Seen['chains'] extends Map<number, infer V> ? V : never) => c.filter((o) => o[0] !== gapped);
    expect(others(chain)).toHaveLength(3);
    expect(others(chain)).toEqual(others(backtest.chains.get(firstAfter)!));
    // from the next minute (the gapped call has its bar again) every chain is the backtest's
    const later = [...second.chains.keys()].filter((t) => t > firstAfter);
    expect(later.length).toBeGreaterThan(20);
    for (const t of later) expect(second.chains.get(t), new Date(t).toISOString()).toEqual(backtest.chains.get(t));
  });

  // Known gap (engine/run/engine.ts, not this test's to change): Engine.warmUp shows the replayed bars to the
  // strategies but does not pass them to the OptionBook (onBars does), so after a restart ctx.chain knows only the
  // quotes of bars that arrived since: a call without a bar in the first minute is priced NaN there. Passes (and this
  // `fails` must go) once warmUp calls `this.options?.onBars(bars, n)`.
  it('the chain of the first bar after the restart holds a call without a bar that minute by its journaled quote', () => {
    const firstAfter = CUT + 60_000;
    const mine = seen.second.chains.get(firstAfter)!.find((o) => o[0] === gapped);
    const theirs = seen.backtest.chains.get(firstAfter)!.find((o) => o[0] === gapped);
    expect(theirs![1]).toBeGreaterThan(0);
    expect(mine).toEqual(theirs);
  });
});
