// What the live tests share: comparable rows of orders, fills and trades, and a lockstep session
// of the live runner against the simulator.
import { EventName } from '@stoqey/ib';
import type { SlotSpec } from '../../engine/core/strategy.ts';
import type { BarSeries, Fill, Order, Trade } from '../../engine/core/types.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveRunner, type LiveOptions } from '../../engine/live/runner.ts';
import type { BacktestConfig } from '../../engine/run/backtest.ts';

export const orderRow = (o: Order) => [o.submittedAt, o.symbol, o.side, o.qty.kind === 'shares' ? o.qty.shares : 'all-in', o.type, o.status];
export const fillRow = (f: Fill) => [f.ts, f.symbol, f.qty, f.price, f.commission];
export const tradeRow = (t: Trade) => [t.symbol, t.entryTime, t.exitTime, t.entryPrice, t.exitPrice, t.quantity, t.pnl, t.commission];

/**
 * A live session over `series`: the runner in lockstep with a simulator replaying it, until the replay
 * ends. Fails on any message the client could not decode. A journal passed in stays open (for restarts
 * and journal checks); otherwise one in memory is used and closed.
 */
export async function liveRun(series: BarSeries[], cfg: BacktestConfig, slots: SlotSpec[], o: { journal?: Store; runId?: string; signals?: LiveOptions['signals'] } = {}) {
  const sim = await IbGatewaySimulator.start({ series, speed: 'max', commission: { model: 'ibkr-fixed' }, cash: cfg.cash });
  const journal = o.journal ?? (await openStore(':memory:'));
  const runner = new LiveRunner(cfg, slots, { host: '127.0.0.1', port: sim.port, clientId: 1, account: 'DU1234567', lockstep: true, journal: journal.conn, runId: o.runId ?? 'live-test', maxReqPerSec: 1_000_000, signals: o.signals });
  const decodeErrors: string[] = [];
  runner.conn.api.on(EventName.error, (err: Error, code: number) => {
    if (code === 505) decodeErrors.push(err.message);
  });
  try {
    await runner.start();
    await sim.finished;
    const result = await runner.stop();
    if (decodeErrors.length > 0) throw new Error(`the client could not decode: ${decodeErrors.join('; ')}`);
    return { result, logs: runner.journal.logs };
  } finally {
    await sim.close();
    if (!o.journal) journal.close();
  }
}
