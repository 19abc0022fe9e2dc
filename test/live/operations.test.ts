// The live runner as an operator meets it: pacing under IB's limit, one id space per client, the
// account's capital, a complete journal, the lines printed while it runs.
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { LiveRunner } from '../../engine/live/runner.ts';
import { loadSession } from '../../engine/journal/session-store.ts';
import { runBacktest } from '../../engine/run/backtest.ts';
import { liveSession, minuteConfig, numberedSymbols, until, zigzagMinutes } from './live-harness.ts';

describe('live operations', () => {
  it.each([
    { mode: 'real time (60x)', speed: 60 as const },
    { mode: 'lockstep', speed: 'lockstep' as const },
  ])(
    'pacing, $mode: 60 subscriptions and a burst of 60 orders stay under 50 messages/s, none lost, none held longer than pacing needs',
    async ({ speed }) => {
      const series = zigzagMinutes(numberedSymbols(60), 20);
      // at the close of its fifth bar every symbol gets a resting limit buy well under the market
      const burst: Strategy = {
        onBar: (ctx, bar) => void (ctx.count(bar.sid) === 5 && ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'LMT', qty: 10, limit: 1, tif: 'GTC' })),
      };
      let decided = NaN;
      let arrived = NaN;
      const { result, sim } = await liveSession(series, minuteConfig(series), [{ name: 'burst', strategy: burst, weight: 1 }], {
        speed,
        // the simulator enforces IB's limit in both modes; in lockstep each step's reqCurrentTime counts too
        sim: { cash: 1_000_000, maxMsgPerSec: 50 },
        runner: { maxReqPerSec: 40 },
        during: async (s, runner) => {
          await until(() => runner.engine.orders.length === 60, 60_000, 'the burst');
          decided = performance.now();
          await until(() => s.account.liveOrders().length === 60, 10_000, 'every order at the broker');
          arrived = performance.now();
        },
      });
      expect(sim.stats.pacing.violations).toBe(0); // the gateway never had to say error 100
      expect(sim.stats.pacing.disconnects).toBe(0);
      expect(result.engine.orders.every((o) => o.status === 'SUBMITTED')).toBe(true);
      expect(sim.account.liveOrders()).toHaveLength(60);
      // 60 placeOrders at 40/s take about 1.5 s; they are not held longer than that (plus a margin for a loaded machine)
      expect(arrived - decided).toBeLessThan(3_000);
    },
    120_000,
  );

  it('two runners with their own client ids trade side by side: order ids are per client, as at IB', async () => {
    const series = zigzagMinutes(numberedSymbols(1), 12);
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', cash: 1_000_000 });
    const trader = (): Strategy => ({ onBar: (ctx, bar) => void (ctx.position(bar.sid) > 0 ? ctx.closePosition(bar.sid) : ctx.buy(bar.sid)) });
    const journals = [await LiveJournal.open(':memory:'), await LiveJournal.open(':memory:')];
    const lines: string[] = [];
    const runners = [1, 2].map(
      (clientId, i) =>
        new LiveRunner(minuteConfig(series, { cash: 100_000 }), [{ name: 'flip', strategy: trader(), weight: 1 }], {
          host: '127.0.0.1',
          port: sim.port,
          clientId,
          account: 'DU1234567',
          lockstep: true,
          journal: journals[i],
          runId: `client-${clientId}`,
          maxReqPerSec: 1_000_000,
          statusEveryMs: 0,
          onMismatch: 'warn',
          print: (l) => lines.push(l),
        }),
    );
    try {
      await Promise.all(runners.map((r) => r.start()));
      await sim.finished;
      const results = await Promise.all(runners.map((r) => r.stop()));
      for (const r of results) {
        expect(r.engine.orders.length).toBeGreaterThan(5);
        expect(r.engine.orders.filter((o) => o.status === 'REJECTED')).toEqual([]);
      }
      expect(lines.filter((l) => /103|Duplicate order id/.test(l))).toEqual([]);
    } finally {
      await sim.close();
      for (const j of journals) await j.close();
    }
  }, 60_000);

  it('capital comes from the account: more than its net liquidation is refused at start, naming both figures', async () => {
    const series = zigzagMinutes(numberedSymbols(1), 3);
    const sim = await IbGatewaySimulator.start({ series, speed: 'max', cash: 50_000 });
    const journal = await LiveJournal.open(':memory:');
    const runner = new LiveRunner(minuteConfig(series, { cash: 100_000 }), [{ name: 'idle', strategy: { onBar() {} }, weight: 1 }], {
      host: '127.0.0.1',
      port: sim.port,
      clientId: 1,
      account: 'DU1234567',
      lockstep: true,
      journal,
      runId: 'capital',
      statusEveryMs: 0,
    });
    try {
      await expect(runner.start()).rejects.toThrow(/cannot cover the capital allotted: --cash 100000 is more than its net liquidation 50,000 USD/);
      expect(sim.account.orders.size).toBe(0);
    } finally {
      runner.conn.stop();
      await sim.close();
      await journal.close();
    }
  }, 30_000);

  it('the journal is complete: modifications with before and after, strategy logs, connection and reconciliation lines; every reject printed', async () => {
    const series = zigzagMinutes(numberedSymbols(1), 10);
    const plan: Strategy = {
      onBar(ctx, bar) {
        const n = ctx.count(bar.sid);
        if (n === 2) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'LMT', qty: 10, limit: 40, tif: 'GTC', tag: 'resting' });
        if (n === 4) {
          const o = ctx.openOrders(bar.sid)[0];
          ctx.modify(o.id, { limit: 41.5 });
          ctx.log(`moved order ${o.id} up`);
        }
        if (n === 6) ctx.buy(bar.sid);
      },
    };
    const journal = await LiveJournal.open(':memory:');
    const printed: string[] = [];
    try {
      const { result } = await liveSession(series, minuteConfig(series), [{ name: 'plan', strategy: plan, weight: 1 }], {
        journal,
        runId: 'complete',
        runner: { print: (l) => printed.push(l) },
        during: async (s, runner) => {
          await until(() => s.account.liveOrders().length === 1, 30_000, 'the resting order at the broker');
          s.rejectNextOrder('test: no permission for this order');
          expect(runner.status()).toMatch(
            /status: equity 1,000,000\.00, P&L today \+0\.00( \(account at IB \+0\.00\))?, positions none, open orders 1, gateway connected$/,
          );
        },
      });
      expect(result.engine.orders[0].limit).toBe(41.5);
      const q = (sql: string) => journal.use(async (conn) => (await conn.runAndReadAll(sql)).getRowObjectsJS());
      const session = await journal.use((conn) => loadSession(conn, 'complete', ['S00']));
      expect(session.orders[0].limit).toBe(41.5); // the latest spec, not the one at creation
      const logs = (await q("SELECT kind, message FROM live_logs WHERE run_id = 'complete' ORDER BY seq")).map((r) => `${r.kind}: ${r.message}`);
      expect(logs).toContain('order: modify order 1 BUY S00: limit 40 -> 41.5');
      expect(logs).toContain('strategy: plan: moved order 1 up');
      expect(logs.some((l) => /^connection: connected to the gateway/.test(l))).toBe(true);
      expect(logs.some((l) => /^reconcile: reconciled \(start\)/.test(l))).toBe(true);
      // the second order was rejected by the broker: journaled and printed with the reason
      const rejected = result.engine.orders.find((o) => o.status === 'REJECTED')!;
      expect(rejected.reason).toMatch(/IB error 201: .*no permission/);
      expect(printed.some((l) => new RegExp(`order ${rejected.id} .*REJECTED \\(IB error 201`).test(l))).toBe(true);
      expect(printed.some((l) => /fill S00 \+10 @/.test(l)) || result.journal.fills.length === 0).toBe(true);
    } finally {
      await journal.close();
    }
  }, 60_000);

  it('closePosition counts a close already on its way: asked twice before the fill, it sends one order', () => {
    const series = zigzagMinutes(numberedSymbols(1), 6);
    const twice: Strategy = {
      onBar(ctx, bar) {
        const n = ctx.count(bar.sid);
        if (n === 1) ctx.buy(bar.sid);
        if (n === 3) {
          expect(ctx.closePosition(bar.sid)).not.toBeNull();
          expect(ctx.pending(bar.sid)).toBe(-10);
          expect(ctx.closePosition(bar.sid)).toBeNull(); // the first is still working
        }
      },
    };
    const r = runBacktest(series, minuteConfig(series), [{ name: 'twice', strategy: twice, weight: 1 }]);
    expect(r.engine.orders.map((o) => o.side)).toEqual(['BUY', 'SELL']);
    expect(r.engine.portfolio.position(0)).toBe(0);
  });

  it('bars that go back in time are refused loudly: a restarted run never acts on a bar older than its journal', async () => {
    const series = zigzagMinutes(numberedSymbols(1), 12);
    const flip: Strategy = { onBar: (ctx, bar) => void (ctx.position(bar.sid) > 0 ? ctx.closePosition(bar.sid) : ctx.buy(bar.sid)) };
    const journal = await LiveJournal.open(':memory:');
    try {
      const first = await liveSession(series, minuteConfig(series), [{ name: 'flip', strategy: flip, weight: 1 }], { journal, runId: 'rewind' });
      const acted = first.result.bars;
      expect(first.result.engine.orders.length).toBeGreaterThan(5);
      // the same run again, against a gateway that replays the same day from its start
      const second = await liveSession(series, minuteConfig(series), [{ name: 'flip', strategy: flip, weight: 1 }], {
        journal,
        runId: 'rewind',
        runner: { onMismatch: 'warn' },
      });
      const refused = second.logs.filter((l) => /^bars refused: S00 .* is not after the last bar acted on \(2013-10-07T13:41:00Z\)$/.test(l.message));
      expect(refused).toHaveLength(series[0].ts.length);
      expect(second.result.bars).toBe(acted); // none of them joined the session
      expect(second.result.engine.orders.length).toBe(first.result.engine.orders.length); // nothing decided on them
    } finally {
      await journal.close();
    }
  }, 60_000);
});
