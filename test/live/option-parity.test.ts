// Options live = options backtest (issue 15): covered-call on GOOG's minute bars and the quote bars of its calls of
// 2015-12-23/24 (the chain of `--chain GOOG --chain-days 1 --chain-strikes 4 --chain-right C`), as
// test/engine/covered-call.test.ts runs the backtest. The live runner trades them against the simulator in lockstep:
// the simulator knows each option as IB's OPT contract (the underlying as symbol, expiry, strike, right, multiplier
// 100), replays its quotes as MIDPOINT, BID and ASK 5-second bars, fills its orders against the side taken, with
// the multiplier in its ledger, and settles the call at the close of its last trading day (the 13:00 close of
// Christmas Eve) as the backtest does. Same orders, fills (the expiry's too), trades and equity.
import { describe, expect, it } from 'vitest';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { buildSlots } from '../../strategies/index.ts';
import { GOOG_CALLS, LEAN, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { googBacktest } from './goog-live.ts';
import { fillRow, liveSession, orderRow, tradeRow } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const googStore = useGoogOptionsStore(available);

describe.runIf(available)('options live against the simulator = backtest (covered-call, GOOG 2015-12-23/24)', () => {
  it('same orders, fills, expiry, trades and equity', async () => {
    const { cfg, backtest, seen } = await googBacktest(googStore.db, 'covered-call', GOOG_CALLS, 100);
    expect(seen).toHaveLength(cfg.symbols.length);

    const journal = await LiveJournal.open(':memory:');
    const { result, sim, runner } = await liveSession(seen, cfg, buildSlots('covered-call', {}, cfg.symbols), {
      journal,
      runId: 'options',
      sim: { contracts: cfg.contracts },
    });
    // an option is IB's OPT contract at the simulator: the underlying, expiry, strike, right and multiplier
    const sid = cfg.symbols.indexOf('GOOG151224C00750000');
    expect(sid).toBeGreaterThan(0);
    expect(sim.contracts.contract(sid)).toMatchObject({
      symbol: 'GOOG',
      secType: 'OPT',
      lastTradeDateOrContractMonth: '20151224',
      strike: 750,
      right: 'C',
      multiplier: '100',
      exchange: 'SMART',
      currency: 'USD',
      localSymbol: 'GOOG  151224C00750000',
    });

    const fills = backtest.journal.fills;
    // the backtest as test/engine/covered-call.test.ts checks it: 100 shares, a call written, settled at expiry
    expect(fills[0]).toMatchObject({ symbol: 'GOOG', qty: 100 });
    expect(fills[1]!.qty).toBe(-1);
    expect(fills.some((f) => f.reason === 'expiry')).toBe(true);
    expect(result.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
    expect(result.journal.fills.map(fillRow)).toEqual(fills.map(fillRow));
    expect(result.journal.fills.map((f) => f.reason ?? '')).toEqual(fills.map((f) => f.reason ?? ''));
    expect(result.engine.trades.map(tradeRow)).toEqual(backtest.engine.trades.map(tradeRow));
    expect(result.journal.equityCurve).toEqual(backtest.journal.equityCurve);

    // the option's bars carry the same closing bid and ask as the backtest's quote bars (ctx.chain reads them)
    const s = seen[sid]!;
    const live = runner.barLog.filter((b) => b.sid === sid);
    expect(live.map((b) => [b.ts, b.close, b.bid, b.ask])).toEqual(Array.from(s.ts, (ts, i) => [ts, s.close[i], s.bidClose![i], s.askClose![i]]));

    // the simulator's ledger: the written call at 100 x its price, then gone at expiry; the shares still held
    const written = fills[1]!;
    const call = cfg.symbols.indexOf(written.symbol);
    expect(sim.account.ledger.qty[call]).toBe(0);
    expect(sim.account.ledger.qty[0]).toBe(100);
    const premium = -written.qty * written.price * 100;
    // cash: the shares bought, the premium received, both commissions (no more trades in this run)
    expect(result.journal.fills).toHaveLength(3);
    expect(sim.account.ledger.cash).toBeCloseTo(cfg.cash - fills[0]!.qty * fills[0]!.price - fills[0]!.commission + premium - written.commission, 6);

    // a restart of the run takes the expiry's settlement (a fill without an order) back from the journal into its
    // book: the same positions and trades, and the simulator (resumed) agrees, so nothing trips
    try {
      const again = await liveSession(seen, cfg, buildSlots('covered-call', {}, cfg.symbols), {
        journal,
        runId: 'options',
        sim: { contracts: cfg.contracts, resume: sim.snapshot() },
      });
      expect(again.result.engine.trades.map(tradeRow)).toEqual(result.engine.trades.map(tradeRow));
      expect([...again.result.engine.portfolio.books[0]!.qty]).toEqual([...result.engine.portfolio.books[0]!.qty]);
      expect(again.runner.kernel.risk.tripped).toBeNull();
    } finally {
      await journal.close();
    }
  }, 180_000);
});
