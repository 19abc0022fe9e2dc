// --session rth|extended in backtests: the US regular session (09:30-16:00 New York, 13:00 on half days) on
// real minute bars (the bundled SPY/IBM sample, 04:00-20:00 ET; LEAN's GOOG half day 2015-12-24).
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExchangeCalendar, usHalfDay } from '../../engine/core/calendar.ts';
import { defineStrategy, type SlotSpec, type Strategy } from '../../engine/core/strategy.ts';
import type { Bar, BarSeries, OrderRequest } from '../../engine/core/types.ts';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import { runBacktest, runBacktestChunked, type BacktestConfig } from '../../engine/run/backtest.ts';
import { buildSlots } from '../../strategies/index.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';
import { config } from './harness.ts';

const NY = 'America/New_York';
const cal = new ExchangeCalendar(NY);
const DAY = 86_400_000;
/** minutes after midnight New York of an instant */
const etMinute = (ts: number) => cal.minuteOfDay(ts);
const et = (ts: number) => {
  const m = etMinute(ts);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};
const dayNo = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY;

describe('the US session calendar', () => {
  it('names the half days by rule, on real dates', () => {
    const half = ['2013-07-03', '2013-11-29', '2013-12-24', '2015-11-27', '2015-12-24', '2018-12-24', '2019-07-03', '2020-11-27', '2024-07-03', '2024-12-24'];
    for (const d of half) expect(usHalfDay(dayNo(d)), d).not.toBeNull();
    expect(usHalfDay(dayNo('2015-12-24'))).toBe('Christmas Eve');
    expect(usHalfDay(dayNo('2013-11-29'))).toBe('the day after Thanksgiving');
    // full days: Thanksgiving itself is a holiday (no bars), July 3 on a Friday is the observed holiday, Christmas Eve on a Friday too
    const full = ['2013-11-28', '2013-12-23', '2015-07-03', '2020-07-03', '2021-12-24', '2022-07-01', '2013-10-07', '2015-12-28'];
    for (const d of full) expect(usHalfDay(dayNo(d)), d).toBeNull();
  });

  it('closes at 13:00 on a half day and 16:00 otherwise, across the DST change', () => {
    expect(cal.closeMin(Date.parse('2015-12-24T15:00:00Z'))).toBe(780);
    expect(cal.closeMin(Date.parse('2015-12-23T15:00:00Z'))).toBe(960);
    expect(cal.inSession(Date.parse('2015-12-24T17:59:00Z'))).toBe(true); // 12:59 EST
    expect(cal.inSession(Date.parse('2015-12-24T18:00:00Z'))).toBe(false); // 13:00 EST
    // 2013-11-04 is the first Monday after the change to EST: 09:30 is 14:30 UTC
    expect(cal.inSession(Date.parse('2013-11-04T14:29:00Z'))).toBe(false);
    expect(cal.inSession(Date.parse('2013-11-04T14:30:00Z'))).toBe(true);
    expect(cal.inSession(Date.parse('2013-10-07T13:30:00Z'))).toBe(true); // 09:30 EDT
    expect(cal.inSession(Date.parse('2013-10-07T19:59:00Z'))).toBe(true); // 15:59
    expect(cal.inSession(Date.parse('2013-10-07T20:00:00Z'))).toBe(false); // 16:00
    expect(new ExchangeCalendar('UTC').inSession(Date.parse('2013-10-07T00:00:00Z'))).toBe(true); // a daily bar is a session
  });
});

/** A strategy that records the bars it sees and submits `req(bar)` when that returns one. */
function recorder(req: (bar: Bar, seen: number) => OrderRequest | null): Strategy & { seen: Bar[] } {
  const seen: Bar[] = [];
  return {
    seen,
    onBar(ctx, bar) {
      seen.push({ ...bar });
      const r = req(bar, seen.length);
      if (r) ctx.submit(r);
    },
  };
}

describe('backtests on the sample minute bars (04:00-20:00 ET)', () => {
  let spy: BarSeries[];
  let both: BarSeries[];
  beforeAll(async () => {
    const store = await openStore(':memory:');
    try {
      await importPaths(
        store,
        ['spy', 'ibm'].map((s) => path.join(SAMPLE_DIR, 'minute', s)),
        { interval: '1m' },
      );
      spy = await loadBars(store, { symbols: ['SPY'], interval: '1m' });
      both = await loadBars(store, { symbols: ['IBM', 'SPY'], interval: '1m' });
    } finally {
      store.close();
    }
  });

  const smaCfg = (session: BacktestConfig['session'], symbols = ['SPY']): BacktestConfig =>
    config({
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      symbols,
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 100 },
      commission: { model: 'ibkr-fixed' },
      risk: RESEARCH_RISK,
      session,
    });
  const sma = (symbols = ['SPY']) => buildSlots('sma-cross', { fast: 10, slow: 30 }, symbols);

  it('rth (the default): no fill outside 09:30-16:00 ET, the first at or after 09:30; extended fills pre-market', () => {
    expect(spy[0].ts.some((t) => etMinute(t) < 570)).toBe(true); // the data has pre-market bars
    const rth = runBacktest(spy, smaCfg(undefined), sma());
    const fills = rth.journal.fills;
    expect(fills.length).toBeGreaterThan(20);
    for (const f of fills) expect(cal.inSession(f.ts), `fill at ${et(f.ts)}`).toBe(true);
    expect(etMinute(fills[0].ts)).toBeGreaterThanOrEqual(570);
    // the strategy saw session bars only: SPY has all 390 a day, 6 days
    expect(rth.bars).toBe(6 * 390);
    expect(runBacktest(spy, smaCfg('rth'), sma()).journal.fills).toEqual(fills);
    // equity is sampled at session closes only
    for (const p of rth.journal.equityCurve) expect(cal.inSession(p.ts)).toBe(true);

    const ext = runBacktest(spy, smaCfg('extended'), sma());
    expect(ext.bars).toBe(spy[0].ts.length);
    expect(ext.journal.fills.some((f) => etMinute(f.ts) < 570)).toBe(true);
    // the README's intraday run trades from 06:56 ET under extended, from 11:27 ET under rth (two symbols)
    expect(et(runBacktest(both, smaCfg('extended', ['IBM', 'SPY']), sma(['IBM', 'SPY'])).journal.fills[0].ts)).toBe('06:56');
    expect(et(runBacktest(both, smaCfg('rth', ['IBM', 'SPY']), sma(['IBM', 'SPY'])).journal.fills[0].ts)).toBe('11:27');
  });

  it('an order decided at the 15:59 close fills at the next session open; a strategy without extendedHours never sees 16:00', () => {
    const s = spy[0];
    const last = s.ts.findIndex((t) => new Date(t).toISOString() === '2013-10-07T19:59:00.000Z'); // 15:59 EDT
    const strat = recorder((b) => (b.ts === s.ts[last] ? { symbol: 'SPY', side: 'BUY', type: 'MKT', qty: 10 } : null));
    const r = runBacktest(spy, smaCfg('rth'), [{ name: 'rec', strategy: strat, weight: 1 }]);
    expect(r.journal.fills.map((f) => new Date(f.ts).toISOString())).toEqual(['2013-10-08T13:30:00.000Z']);
    const open = s.ts.indexOf(Date.parse('2013-10-08T13:30:00Z'));
    expect(r.journal.fills[0].price).toBe(s.open[open]);
    expect(strat.seen.every((b) => cal.inSession(b.ts))).toBe(true);
    // extended: the next bar, 16:00 the same day
    const x = recorder((b) => (b.ts === s.ts[last] ? { symbol: 'SPY', side: 'BUY', type: 'MKT', qty: 10 } : null));
    const e = runBacktest(spy, smaCfg('extended'), [{ name: 'rec', strategy: x, weight: 1 }]);
    expect(e.journal.fills.map((f) => new Date(f.ts).toISOString())).toEqual(['2013-10-07T20:00:00.000Z']);
  });

  it('a strategy with extendedHours sees pre-market bars but fills only in the session', () => {
    const made: (Strategy & { seen: Bar[] })[] = [];
    const early = defineStrategy({
      name: 'early-bird',
      description: 'buys on the first pre-market bar of each day',
      source: import.meta.url,
      params: {},
      extendedHours: true,
      create: () => {
        const days = new Set<number>();
        const s = recorder((b) => {
          const d = cal.day(b.ts);
          if (etMinute(b.ts) >= 570 || days.has(d)) return null;
          days.add(d);
          return { symbol: 'SPY', side: 'BUY', type: 'MKT', qty: 1 };
        });
        made.push(s);
        return s;
      },
    });
    const plain = recorder(() => null);
    const slots: SlotSpec[] = [
      { name: 'early', strategy: early.create({}, ['SPY']), weight: 1 },
      { name: 'plain', strategy: plain, weight: 1 },
    ];
    const r = runBacktest(spy, smaCfg('rth'), slots);
    const seen = made[0].seen;
    expect(seen.some((b) => etMinute(b.ts) < 570)).toBe(true);
    expect(seen.some((b) => etMinute(b.ts) >= 960)).toBe(true);
    expect(seen.length).toBe(spy[0].ts.length);
    expect(plain.seen.length).toBe(6 * 390);
    // one order a day, decided before 09:30, filled at the day's 09:30 open (DAY orders: the same day);
    // the first day's is refused: no session close has priced SPY yet (nothing is marked outside the session)
    const fills = r.journal.fills;
    expect(r.engine.orders.map((o) => o.status)).toEqual(['REJECTED', 'FILLED', 'FILLED', 'FILLED', 'FILLED', 'FILLED']);
    expect(r.engine.orders[0].reason).toMatch(/at NaN is not a positive whole number at a known price/);
    expect(fills.length).toBe(5);
    for (const f of fills) expect(et(f.ts)).toBe('09:30');
    for (const f of fills) expect(f.price).toBe(spy[0].open[spy[0].ts.indexOf(f.ts)]);
    const orders = r.engine.orders;
    for (const o of orders) expect(etMinute(o.submittedAt)).toBeLessThan(570);
    // nothing is marked or sampled outside the session
    for (const p of r.journal.equityCurve) expect(cal.inSession(p.ts)).toBe(true);
    // the same under extended: the orders fill at once, pre-market
    made.length = 0;
    const e = runBacktest(spy, smaCfg('extended'), [{ name: 'early', strategy: early.create({}, ['SPY']), weight: 1 }]);
    expect(e.journal.fills.length).toBe(6);
    expect(e.journal.fills.every((f) => etMinute(f.ts) < 570)).toBe(true);
  });

  it('streams: the same run in chunks of any size (extended-hours strategies included)', async () => {
    const slotsOf = () => [...sma(['IBM', 'SPY']), { name: 'rec', strategy: early(), weight: 1 }];
    function early(): Strategy {
      const d = defineStrategy({
        name: 'early',
        description: '',
        source: import.meta.url,
        params: {},
        extendedHours: true,
        create: () => recorder((b, n) => (etMinute(b.ts) < 570 && n % 97 === 0 ? { symbol: b.symbol, side: 'BUY', type: 'MKT', qty: 1 } : null)),
      });
      return d.create({}, ['IBM', 'SPY']);
    }
    const cfg = smaCfg('rth', ['IBM', 'SPY']);
    const whole = runBacktest(both, cfg, slotsOf());
    const cut = Date.parse('2013-10-08T12:00:00Z'); // 08:00 ET: inside the pre-market
    const part = (from: number, to: number) =>
      both.map((s) => {
        const i = s.ts.findIndex((t) => t >= from);
        const j = s.ts.findIndex((t) => t >= to);
        const a = i < 0 ? s.ts.length : i;
        const b = j < 0 ? s.ts.length : j;
        return {
          ...s,
          ts: s.ts.slice(a, b),
          open: s.open.slice(a, b),
          high: s.high.slice(a, b),
          low: s.low.slice(a, b),
          close: s.close.slice(a, b),
          volume: s.volume.slice(a, b),
        };
      });
    const chunks = [part(-Infinity, cut), part(cut, Infinity)];
    const chunked = await runBacktestChunked({ next: async () => chunks.shift() ?? null }, cfg, slotsOf());
    expect(chunked.bars).toBe(whole.bars);
    expect(chunked.journal.fills).toEqual(whole.journal.fills);
    expect(chunked.journal.equityCurve).toEqual(whole.journal.equityCurve);
    expect(whole.journal.fills.some((f) => f.strategy === 'rec')).toBe(true);
    // without such a strategy the bars outside the session are dropped from each chunk: the same, chunked or not
    const plain = runBacktest(both, cfg, sma(['IBM', 'SPY']));
    const again = [part(-Infinity, cut), part(cut, Infinity)];
    const plainChunked = await runBacktestChunked({ next: async () => again.shift() ?? null }, cfg, sma(['IBM', 'SPY']));
    expect(plainChunked.bars).toBe(plain.bars);
    expect(plainChunked.journal.fills).toEqual(plain.journal.fills);
    expect(plainChunked.journal.equityCurve).toEqual(plain.journal.equityCurve);
  });
});

const GOOG = 'data/lean-sample/minute/goog';
describe.skipIf(!sharedAvailable(GOOG))('a half day on real bars: GOOG 2015-12-24 closes at 13:00', () => {
  it('trades until 12:59, fills MOC at the 12:59 close, and sees nothing after 13:00', async () => {
    const store = await openStore(':memory:');
    let goog: BarSeries[];
    try {
      await importPaths(store, [path.join(SHARED, GOOG)], { interval: '1m' });
      goog = await loadBars(store, { symbols: ['GOOG'], interval: '1m' });
    } finally {
      store.close();
    }
    const s = goog[0];
    const at = (iso: string) => s.ts.indexOf(Date.parse(iso));
    const morning = Date.parse('2015-12-24T15:00:00Z'); // 10:00 EST
    expect(s.ts.some((t) => t > Date.parse('2015-12-24T18:00:00Z') && t < Date.parse('2015-12-25T00:00:00Z'))).toBe(true); // bars after 13:00 exist
    const strat = recorder((b) =>
      b.ts === morning
        ? { symbol: 'GOOG', side: 'BUY', type: 'MOC', qty: 10 }
        : b.ts === Date.parse('2015-12-24T17:58:00Z')
          ? { symbol: 'GOOG', side: 'BUY', type: 'MKT', qty: 1 }
          : null,
    );
    const cfg = config({ symbols: ['GOOG'], interval: '1m', sizing: { kind: 'fixed', quantity: 1 }, session: 'rth' });
    const r = runBacktest(goog, cfg, [{ name: 'rec', strategy: strat, weight: 1 }]);
    const onHalfDay = strat.seen.filter((b) => cal.day(b.ts) === cal.day(morning));
    expect(et(onHalfDay.at(-1)!.ts)).toBe('12:59');
    const fills = r.journal.fills.map((f) => [new Date(f.ts).toISOString(), f.qty, f.price]);
    // the MOC fills at the close of the bar ending 13:00; the market order of 12:58's close at the 12:59 open
    // (one bar's orders are matched in id order)
    expect(fills).toEqual([
      ['2015-12-24T17:59:00.000Z', 10, s.close[at('2015-12-24T17:59:00Z')]],
      ['2015-12-24T17:59:00.000Z', 1, s.open[at('2015-12-24T17:59:00Z')]],
    ]);
  });
});
