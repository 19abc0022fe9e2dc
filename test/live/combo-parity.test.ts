// Combos live = combos in the backtest (issue 15): iron-condor on GOOG's minute bars and the quote bars of its
// 12-24 weekly options of 2015-12-23/24 (`--chain GOOG --chain-days 1 --chain-strikes 12`, both rights), as
// test/engine/iron-condor.test.ts runs the backtest. The live runner sends the condor as IB takes it, a BAG contract
// whose four comboLegs name the legs' conIds (asked of the gateway with reqContractDetails at connect), the net
// credit as a negative lmtPrice; the simulator fills it with the backtest's combo rules (all legs or none, at each
// leg's quote side at the minute's open) and reports one execution and commission a leg, which the runner books
// as the backtest's SimBroker does. Same orders (with their legs), fills, trades, equity and order_legs rows.
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { EventName } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../engine/core/types.ts';
import { writeJournal } from '../../engine/journal/journal-store.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { buildSlots } from '../../strategies/index.ts';
import { GOOG_CONDOR_CHAIN, LEAN, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { googBacktest } from './goog-live.ts';
import { fillRow, liveSession, orderRow, tradeRow, useTempDir } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const googStore = useGoogOptionsStore(available);
const temp = useTempDir('tradebench-combo-live-', available);

/** An order with its legs, as comparable data. */
const comboRow = (o: Order) => [
  ...orderRow(o),
  o.limit,
  o.filledQty,
  o.avgFillPrice,
  o.commission,
  o.tag,
  (o.legs ?? []).map((l) => [l.symbol, l.side, l.ratio, l.filledQty, l.avgFillPrice]),
];

describe.runIf(available)('combo orders live against the simulator = backtest (iron-condor, GOOG 2015-12-23/24)', () => {
  it('same combo order and legs, leg fills, expiry, trades, equity and order_legs', async () => {
    const { cfg, backtest, seen } = await googBacktest(googStore.db, 'iron-condor', GOOG_CONDOR_CHAIN, 1);
    expect(seen).toHaveLength(cfg.symbols.length);

    // the backtest as test/engine/iron-condor.test.ts checks it: one combo of four legs, filled, credit received
    const combo = backtest.engine.orders[0]!;
    expect(backtest.engine.orders).toHaveLength(1);
    expect(combo).toMatchObject({ symbol: 'GOOG', side: 'BUY', type: 'LMT', status: 'FILLED', filledQty: 1 });
    expect(combo.legs).toHaveLength(4);
    expect(combo.limit).toBeLessThan(0);

    const journal = await LiveJournal.open(':memory:');
    const placed: unknown[][] = [];
    try {
      const { result, sim } = await liveSession(seen, cfg, buildSlots('iron-condor', {}, cfg.symbols), {
        journal,
        runId: 'condor',
        sim: { contracts: cfg.contracts },
        // what went out to the gateway: the BAG and its legs (the client's own encoder echoes nothing back)
        created: (_sim, runner) => {
          const api = runner.conn.api;
          const original = api.placeOrder.bind(api);
          api.placeOrder = (id, contract, order) => {
            placed.push([contract, order]);
            return original(id, contract, order);
          };
          runner.conn.api.on(EventName.error, () => {});
        },
      });

      // the wire: one BAG on GOOG, SMART, its legs' conIds as the simulator knows them, the combos and the net limit
      expect(placed).toHaveLength(1);
      const [contract, order] = placed[0] as [Record<string, any>, Record<string, any>];
      expect(contract).toMatchObject({ secType: 'BAG', symbol: 'GOOG', exchange: 'SMART', currency: 'USD' });
      expect(contract.comboLegs).toEqual(
        combo.legs!.map((l) => ({ conId: sim.contracts.conIds[cfg.symbols.indexOf(l.symbol)], ratio: 1, action: l.side, exchange: 'SMART' })),
      );
      expect(order).toMatchObject({ action: 'BUY', totalQuantity: 1, orderType: 'LMT', lmtPrice: combo.limit, orderRef: 'tb:condor:1' });

      expect(result.engine.orders.map(comboRow)).toEqual(backtest.engine.orders.map(comboRow));
      const fills = backtest.journal.fills;
      // four leg fills under the combo's order id, then the four legs' expiry at the 12-24 close
      expect(fills.filter((f) => f.orderId === combo.id)).toHaveLength(4);
      expect(result.journal.fills.map((f) => [...fillRow(f), f.orderId, f.reason ?? ''])).toEqual(fills.map((f) => [...fillRow(f), f.orderId, f.reason ?? '']));
      expect(result.engine.trades.map(tradeRow)).toEqual(backtest.engine.trades.map(tradeRow));
      expect(result.journal.equityCurve).toEqual(backtest.journal.equityCurve);

      // the simulator's account agrees: every leg closed at expiry, the credit less four commissions in cash
      expect([...sim.account.ledger.qty].every((q) => q === 0)).toBe(true);
      const pnl = backtest.engine.trades.reduce((s, t) => s + t.pnl, 0);
      expect(sim.account.ledger.cash).toBeCloseTo(cfg.cash + pnl, 6);

      // order_legs: the live run's journal rows equal the backtest's
      const instance = await DuckDBInstance.create(path.join(temp.dir, 'journal.duckdb'));
      const conn = await instance.connect();
      try {
        const run = (runId: string, kind: 'backtest' | 'live') => ({ runId, kind, strategy: 'iron-condor', config: {}, bars: 0, finalEquity: 0 });
        await writeJournal(conn, run('bt', 'backtest'), backtest.journal, backtest.engine.orders, backtest.engine.portfolio);
        await writeJournal(conn, run('live', 'live'), result.journal, result.engine.orders, result.engine.portfolio);
        const legs = async (runId: string) =>
          (
            await conn.runAndReadAll(
              `SELECT order_id, leg, symbol, side, ratio, filled_qty, avg_fill_price FROM order_legs WHERE run_id = '${runId}' ORDER BY order_id, leg`,
            )
          ).getRowObjectsJson();
        const live = await legs('live');
        expect(live).toHaveLength(4);
        expect(live).toEqual(await legs('bt'));
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    } finally {
      await journal.close();
    }
  }, 180_000);
});
