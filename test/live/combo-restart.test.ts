// A live combo session stopped after its combo filled and started again from the same journal (issue 15): the
// restart takes the combo back from the journal's leg fills as the backtest left it. iron-condor on GOOG's minute
// bars and the quote bars of its 12-24 weekly options of 2015-12-23/24 (the run of test/live/combo-parity.test.ts),
// in lockstep against the simulator: the first session replays the 23rd up to CUT (the condor fills before it),
// the second the rest, from the first's journal file and the simulator's snapshot. The restored order (settleOrders
// over the four leg fills) has the backtest's filled combos, net credit, legs and status, and the whole run ends
// with the backtest's orders, fills (the legs' expiry too) and trades.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BarSeries, Order } from '../../engine/core/types.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { loadSession } from '../../engine/journal/session-store.ts';
import { buildSlots } from '../../strategies/index.ts';
import { GOOG_CONDOR_CHAIN, LEAN, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { googBacktest } from './goog-live.ts';
import { fillRow, liveSession, orderRow, tradeRow, useTempDir } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const googStore = useGoogOptionsStore(available);
const temp = useTempDir('tradebench-combo-restart-', available);

/** The bars of `s` with ts < to, every column (the quote columns too). */
function before(s: BarSeries, to: number): BarSeries {
  let b = 0;
  while (b < s.ts.length && s.ts[b]! < to) b++;
  const out: Record<string, unknown> = { symbol: s.symbol, interval: s.interval };
  for (const [k, v] of Object.entries(s)) if (v instanceof Float64Array) out[k] = v.slice(0, b);
  return out as unknown as BarSeries;
}

/** What a restart restores of a combo: its fill state and each leg's. */
const comboState = (o: Order) => ({
  id: o.id,
  status: o.status,
  filledQty: o.filledQty,
  avgFillPrice: o.avgFillPrice,
  commission: o.commission,
  legs: o.legs!.map((l) => [l.symbol, l.side, l.ratio, l.filledQty, l.avgFillPrice]),
});

describe.runIf(available)('a live combo session restarted after its combo filled (iron-condor, GOOG 2015-12-23/24)', () => {
  it('restores the combo as the backtest has it, and the run ends with the backtest’s orders, fills and trades', async () => {
    const { cfg, backtest, seen } = await googBacktest(googStore.db, 'iron-condor', GOOG_CONDOR_CHAIN, 1);

    // the backtest: one condor of four legs, filled at a net credit by four leg fills on one minute
    const combo = backtest.engine.orders[0]!;
    expect(backtest.engine.orders).toHaveLength(1);
    expect(combo).toMatchObject({ status: 'FILLED', filledQty: 1 });
    expect(combo.avgFillPrice).toBeLessThan(0);
    const legFills = backtest.journal.fills.filter((f) => f.orderId === combo.id);
    expect(legFills).toHaveLength(4);
    expect(new Set(legFills.map((f) => f.ts)).size).toBe(1);
    // stop 30 minutes after the fill's minute (still the 23rd: the legs expire on the 24th)
    const CUT = legFills[0]!.ts + 31 * 60_000;
    expect(new Date(CUT).toISOString().slice(0, 10)).toBe('2015-12-23');

    const file = path.join(temp.dir, 'journal.duckdb');
    const runId = 'condor-restart';
    const slots = () => buildSlots('iron-condor', {}, cfg.symbols);
    let journal = await LiveJournal.open(file);
    let first: Awaited<ReturnType<typeof liveSession>>;
    try {
      first = await liveSession(
        seen.map((s) => before(s, CUT)),
        cfg,
        slots(),
        { journal, runId, sim: { contracts: cfg.contracts } },
      );
    } finally {
      await journal.close();
    }
    // the first session filled the condor as the backtest did
    expect(comboState(first.result.engine.orders[0]!)).toEqual(comboState(combo));

    journal = await LiveJournal.open(file);
    try {
      // what the restart restores: the journal's spec of the condor, settled over its four leg fills
      const prev = await journal.use((conn) => loadSession(conn, runId, cfg.symbols));
      expect(prev.orders).toHaveLength(1);
      expect(comboState(prev.orders[0]!)).toEqual(comboState(combo));
      expect(prev.fills.map(fillRow)).toEqual(legFills.map(fillRow));

      const second = await liveSession(seen, cfg, slots(), {
        journal,
        runId,
        sim: { contracts: cfg.contracts, resume: first.sim.snapshot() },
      });
      expect(second.runner.kernel.risk.tripped).toBeNull();
      const { result } = second;
      expect(result.engine.orders.map(comboState)).toEqual(backtest.engine.orders.map(comboState));
      expect(result.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
      // the leg fills (from the journal) and the legs' expiry at the 12-24 close (the second session's)
      const row = (f: (typeof result.journal.fills)[number]) => [...fillRow(f), f.orderId, f.reason ?? ''];
      expect(result.journal.fills.map(row)).toEqual(backtest.journal.fills.map(row));
      expect(result.journal.fills.some((f) => f.reason !== undefined)).toBe(true);
      expect(result.engine.trades.map(tradeRow)).toEqual(backtest.engine.trades.map(tradeRow));
      // the simulator (resumed) agrees: every leg closed at expiry
      expect([...second.sim.account.ledger.qty].every((q) => q === 0)).toBe(true);
    } finally {
      await journal.close();
    }
  }, 180_000);
});
