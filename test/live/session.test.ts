// --session in live trading: the runner against the simulator in lockstep, on the bundled SPY minute
// sample (04:00-20:00 ET), equals the backtest under the same flags; under rth nothing fills outside
// 09:30-16:00 ET and orders go without outsideRth (the simulator, like IB, holds one sent after the close
// until the open); under extended they go with outsideRth and fill pre-market.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExchangeCalendar } from '../../engine/core/calendar.ts';
import { defineStrategy, type SlotSpec, type Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest, type BacktestConfig } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { config } from '../engine/harness.ts';
import { fillRow, liveSession, orderRow, tradeRow } from './live-harness.ts';

const cal = new ExchangeCalendar('America/New_York');
const OPEN = 570;

/** Buys 10 at the close of 15:59 on the first day (decided at 16:00, after the close), sells them at 10:00 the next day. */
function lateBuyer(): Strategy {
  let day = NaN;
  return {
    onBar(ctx, bar) {
      if (Number.isNaN(day)) day = cal.day(bar.ts);
      const m = cal.minuteOfDay(bar.ts);
      if (cal.day(bar.ts) === day && m === 959) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: 10, tag: 'late' });
      if (cal.day(bar.ts) === day + 1 && m === 600) ctx.submit({ symbol: bar.symbol, side: 'SELL', type: 'MKT', qty: 10 });
    },
  };
}

/** Asks for extended hours: buys 1 on each day's first pre-market bar (the order waits for the session under rth). */
const earlyBird = defineStrategy({
  name: 'early-bird',
  description: 'buys on the first pre-market bar of each day',
  source: import.meta.url,
  params: {},
  extendedHours: true,
  create: () => {
    const days = new Set<number>();
    return {
      onBar(ctx, bar) {
        const d = cal.day(bar.ts);
        if (cal.minuteOfDay(bar.ts) >= OPEN || days.has(d)) return;
        days.add(d);
        ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: 1 });
      },
    };
  },
});

describe('live sessions against the simulator = backtest (SPY 2013-10-07..08, 04:00-20:00 ET bars)', () => {
  let series: BarSeries[];
  beforeAll(async () => {
    const store = await openStore(':memory:');
    try {
      await importPaths(
        store,
        ['20131007', '20131008'].map((d) => path.join(SAMPLE_DIR, 'minute', 'spy', `${d}.csv`)),
        { interval: '1m' },
      );
      series = await loadBars(store, { symbols: ['SPY'], interval: '1m' });
    } finally {
      store.close();
    }
  });

  const cfg = (session: BacktestConfig['session']) =>
    config({
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      symbols: ['SPY'],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
      session,
    });
  const slots = (): SlotSpec[] => [
    ...buildSlots('sma-cross', { fast: 10, slow: 30 }, ['SPY']),
    { name: 'late', strategy: lateBuyer(), weight: 1 },
    { name: 'early', strategy: earlyBird.create({}, ['SPY']), weight: 1 },
  ];

  async function both(session: BacktestConfig['session']) {
    const bt = runBacktest(series, cfg(session), slots());
    const live = await liveSession(series, cfg(session), slots(), { runId: `session-${session}` });
    expect(live.result.engine.orders.map(orderRow)).toEqual(bt.engine.orders.map(orderRow));
    expect(live.result.journal.fills.map(fillRow)).toEqual(bt.journal.fills.map(fillRow));
    expect(live.result.engine.trades.map(tradeRow)).toEqual(bt.engine.trades.map(tradeRow));
    expect(live.result.bars).toBe(bt.bars);
    return { bt, live };
  }

  it('rth: no fill outside 09:30-16:00 ET; the order decided at 16:00 is held by the broker until the open', async () => {
    const { bt, live } = await both('rth');
    const fills = live.result.journal.fills;
    expect(fills.filter((f) => f.strategy === 'sma-cross').length).toBeGreaterThan(10);
    for (const f of fills) expect(cal.inSession(f.ts), new Date(f.ts).toISOString()).toBe(true);
    // the late buy: decided at 16:00 on the 7th, filled at the 09:30 open on the 8th
    const late = live.result.engine.orders.find((o) => o.tag === 'late')!;
    expect(new Date(late.submittedAt).toISOString()).toBe('2013-10-07T20:00:00.000Z');
    expect(fills.filter((f) => f.orderId === late.id).map((f) => new Date(f.ts).toISOString())).toEqual(['2013-10-08T13:30:00.000Z']);
    const logs = live.logs.map((l) => l.message);
    expect(logs.some((m) => /^order \d+ BUY SPY sent at 2013-10-07T20:00:00.000Z, outside regular hours, without outsideRth/.test(m))).toBe(true);
    expect(
      logs.some((m) =>
        /^IB message 399 on order \d+ BUY SPY: Order Message: BUY 10 SPY SMART Warning: your order will not be placed at the exchange until 2013-10-08 09:30:00/.test(
          m,
        ),
      ),
    ).toBe(true);
    // no order went with outsideRth
    expect([...live.sim.account.orders.values()].every((so) => !so.ib.outsideRth)).toBe(true);
    // the extended-hours strategy decided before 09:30 and filled in the session (the first day's was refused: no price yet)
    const early = bt.engine.orders.filter((o) => o.strategy === 'early');
    expect(early.map((o) => o.status)).toEqual(['REJECTED', 'FILLED']);
    expect(cal.minuteOfDay(early[1].submittedAt)).toBeLessThan(OPEN);
  }, 180_000);

  it('extended: orders go with outsideRth and fill pre-market, as in the backtest', async () => {
    const { live } = await both('extended');
    const fills = live.result.journal.fills;
    expect(fills.some((f) => cal.minuteOfDay(f.ts) < OPEN)).toBe(true);
    expect([...live.sim.account.orders.values()].every((so) => so.ib.outsideRth)).toBe(true);
    // the late buy fills at 16:00, after hours
    const late = live.result.engine.orders.find((o) => o.tag === 'late')!;
    expect(fills.filter((f) => f.orderId === late.id).map((f) => new Date(f.ts).toISOString())).toEqual(['2013-10-07T20:00:00.000Z']);
  }, 180_000);
});
