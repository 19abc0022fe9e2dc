import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { openStore, type Store } from '../../engine/data/store.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { journalBars } from '../../engine/journal/journal-replay.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { fillRow, liveRun, orderRow, tradeRow } from './live-harness.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

const DIR = 'data/lean-sample/minute';
const available = sharedAvailable(DIR);
const FROM = Date.parse('2013-10-07T00:00:00-04:00');
const TO = Date.parse('2013-10-11T23:59:59-04:00');

describe.skipIf(!available)('live runner against the simulator = backtest (LEAN minute bars 2013-10-07..11)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(':memory:');
    await importPaths(
      store,
      ['spy', 'ibm'].map((s) => path.join(SHARED, DIR, s)),
      { interval: '1m' },
    );
  });
  afterAll(() => store?.close());

  for (const symbols of [['SPY'], ['SPY', 'IBM']]) {
    it(`same orders, fills and trades: ${symbols.join(' + ')}`, async () => {
      const series = await loadBars(store, { symbols, interval: '1m', from: FROM, to: TO });
      const params = { fast: 10, slow: 30 };
      const cfg = config({
        strategy: 'sma-cross',
        params,
        symbols,
        interval: '1m',
        sizing: { kind: 'fixed', quantity: 100 },
        commission: { model: 'ibkr-fixed' },
        risk: RESEARCH_RISK,
      });
      const bt = runBacktest(series, cfg, buildSlots('sma-cross', params, symbols));

      const journal = await LiveJournal.open(':memory:');
      try {
        const { result: live } = await liveRun(series, cfg, buildSlots('sma-cross', params, symbols), { journal, runId: 'parity' });
        expect(bt.engine.orders.length).toBeGreaterThan(20);
        expect(live.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
        expect(live.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
        expect(live.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
        // the live report gets the same buy-and-hold benchmark as the backtest's
        expect(live.benchmark).toEqual(bt.benchmark);
        expect(live.benchmark!.close.length).toBeGreaterThan(1);
        const persisted = await journal.use((conn) => conn.runAndReadAll('SELECT count(*) AS n FROM fills'));
        expect(Number(persisted.getRowObjectsJS()[0].n)).toBe(live.journal.fills.length);

        // the journal replays through the backtest path to the same decisions
        const replayed = runBacktest(await journal.use((conn) => journalBars(conn, 'parity', symbols, '1m')), cfg, buildSlots('sma-cross', params, symbols));
        expect(replayed.bars).toBe(live.bars);
        expect(replayed.engine.orders.map(orderRow)).toEqual(live.engine.orders.map(orderRow));
        expect(replayed.journal.fills.map(fillRow)).toEqual(live.journal.fills.map(fillRow));
      } finally {
        await journal.close();
      }
    }, 180_000);
  }
});
