import { describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../engine/core/types.ts';
import type { RiskConfig, RiskLimits } from '../../engine/risk/limits.ts';
import { RiskEngine, type OrderCheck } from '../../engine/risk/risk-engine.ts';
import { dailySeries, runScripted } from './harness.ts';

const flat = (n: number, price = 100) => Array.from({ length: n }, () => [price, price + 1, price - 1, price, 1_000_000]);

function rejectOne(limits: RiskLimits, req: Partial<OrderRequest>, opts: { cash?: number; sectors?: string[] } = {}) {
  const r = runScripted(
    [dailySeries('AAA', flat(5))],
    [{ afterBar: 1, req: { symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 100, ...req } }],
    { cash: opts.cash ?? 100_000 },
    { limits, breaker: {} },
  );
  return { order: r.engine.orders[0], events: r.journal.riskEvents };
}

describe('pre-trade risk checks reject with the check name, the value and the limit', () => {
  const cases: [string, RiskLimits, Partial<OrderRequest>, number, number][] = [
    ['maxOrderValue', { maxOrderValue: 5_000 }, { qty: 100 }, 10_000, 5_000],
    ['maxOrderQty', { maxOrderQty: 50 }, { qty: 100 }, 100, 50],
    ['maxPositionPct', { maxPositionPct: 5 }, { qty: 100 }, 10, 5],
    ['maxLeverage', { maxLeverage: 1 }, { qty: 1_500 }, 1.5, 1],
    ['longOnly', { longOnly: true }, { side: 'SELL', qty: 10 }, -10, 0],
  ];
  for (const [check, limits, req, value, limit] of cases) {
    it(check, () => {
      const { order, events } = rejectOne(limits, req);
      expect(order.status).toBe('REJECTED');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ check, orderId: order.id });
      expect(events[0].value).toBeCloseTo(value, 9);
      expect(events[0].limit).toBe(limit);
      expect(order.reason).toContain(check);
      expect(order.reason).toContain(String(limit));
    });
  }

  it('allowedSymbols', () => {
    const { order, events } = rejectOne({ allowedSymbols: ['SPY'] }, {});
    expect(order.status).toBe('REJECTED');
    expect(events[0].check).toBe('allowedSymbols');
    expect(order.reason).toContain('AAA');
  });

  it('an order that only reduces a position passes the size limits', () => {
    const plan = [
      { afterBar: 0, req: { symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 100 } as OrderRequest },
      { afterBar: 2, req: { symbol: 'AAA', side: 'SELL', type: 'MKT', qty: 100 } as OrderRequest },
    ];
    const r = runScripted([dailySeries('AAA', flat(5))], plan, {}, { limits: { maxOrderValue: 20_000 }, breaker: {} });
    expect(r.engine.orders.map((o) => o.status)).toEqual(['FILLED', 'FILLED']);
    const strict = runScripted([dailySeries('AAA', flat(5))], plan.slice(0, 1), {}, { limits: { maxOrderValue: 5_000 }, breaker: {} });
    expect(strict.engine.orders[0].status).toBe('REJECTED');
  });

  it('orders per minute and per day (unit)', () => {
    const base: OrderCheck = { orderId: 1, symbol: 'A', sector: '', side: 'BUY', qty: 1, price: 10, position: 0, equity: 1e6, gross: 0, sectorGross: 0 };
    const risk = new RiskEngine({ maxOrdersPerMinute: 2, maxOrdersPerDay: 3 }, {});
    risk.onEquity(1, 1e6);
    expect(risk.check(base, 0)).toBeNull();
    expect(risk.check(base, 1_000)).toBeNull();
    expect(risk.check(base, 2_000)).toMatchObject({ check: 'maxOrdersPerMinute', value: 3, limit: 2 });
    expect(risk.check(base, 61_000)).toBeNull();
    expect(risk.check(base, 200_000)).toMatchObject({ check: 'maxOrdersPerDay', value: 4, limit: 3 });
    risk.onEquity(2, 1e6);
    expect(risk.check(base, 300_000)).toBeNull();
  });

  it('sector concentration and daily loss (unit)', () => {
    const base: OrderCheck = {
      orderId: 7,
      symbol: 'JPM',
      sector: 'Financials',
      side: 'BUY',
      qty: 100,
      price: 100,
      position: 0,
      equity: 100_000,
      gross: 30_000,
      sectorGross: 25_000,
    };
    const risk = new RiskEngine({ maxSectorPct: 30, maxDailyLossPct: 2 }, {});
    risk.onEquity(1, 100_000);
    expect(risk.check(base, 0)).toMatchObject({ check: 'maxSectorPct', value: 35, limit: 30 });
    expect(risk.check({ ...base, sectorGross: 0 }, 0)).toBeNull();
    expect(risk.check({ ...base, sectorGross: 0, equity: 97_000 }, 0)).toMatchObject({ check: 'maxDailyLossPct', value: 3, limit: 2 });
  });
});

describe('circuit breaker', () => {
  // price falls 5% a day from bar 2 on
  const falling = [
    [100, 101, 99, 100, 1e6],
    [100, 101, 99, 100, 1e6],
    ...Array.from({ length: 6 }, (_, i) => {
      const p = 100 * 0.95 ** (i + 1);
      return [p, p, p, p, 1e6];
    }),
  ];

  const run = (breaker: RiskConfig['breaker'], extra: { afterBar: number; req: OrderRequest }[] = []) =>
    runScripted(
      [dailySeries('AAA', falling)],
      [
        { afterBar: 0, req: { symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 500 } },
        { afterBar: 1, req: { symbol: 'AAA', side: 'SELL', type: 'LMT', qty: 500, limit: 150, tif: 'GTC' } },
        ...extra,
      ],
      {},
      { limits: {}, breaker },
    );

  it('trips on drawdown: journals name, value and limit, cancels working orders, blocks new ones', () => {
    const r = run({ drawdownPct: 4 }, [{ afterBar: 5, req: { symbol: 'AAA', side: 'BUY', type: 'MKT', qty: 1 } }]);
    const trip = r.journal.riskEvents.find((e) => e.check === 'circuitBreaker.drawdownPct')!;
    expect(trip).toBeDefined();
    expect(trip.limit).toBe(4);
    expect(trip.value).toBeGreaterThanOrEqual(4);
    expect(trip.message).toContain('circuit breaker tripped');
    expect(r.engine.orders[1].status).toBe('CANCELLED');
    const blocked = r.engine.orders[2];
    expect(blocked.status).toBe('REJECTED');
    expect(blocked.reason).toContain('reset required');
    expect(r.engine.portfolio.position(0)).toBe(500); // not flattened unless configured
  });

  it('flattens when configured', () => {
    const r = run({ dailyLossPct: 1, flattenOnTrip: true });
    expect(r.journal.riskEvents[0].check).toBe('circuitBreaker.dailyLossPct');
    expect(r.engine.portfolio.position(0)).toBe(0);
    const flatten = r.engine.orders.find((o) => o.tag === 'flatten')!;
    expect(flatten.status).toBe('FILLED');
  });

  it('trips on the error rate and on the kill switch; only a reset lets orders through again', () => {
    const risk = new RiskEngine({}, { maxErrors: 3, errorWindowMs: 60_000 });
    expect(risk.recordError(0)).toBeNull();
    expect(risk.recordError(1)).toBeNull();
    expect(risk.recordError(2)).toMatchObject({ check: 'circuitBreaker.errorRate', value: 3, limit: 3 });
    const o: OrderCheck = { orderId: 1, symbol: 'A', sector: '', side: 'BUY', qty: 1, price: 10, position: 0, equity: 1e6, gross: 0, sectorGross: 0 };
    expect(risk.check(o, 3)?.message).toContain('blocked');
    risk.reset();
    expect(risk.check(o, 4)).toBeNull();
    expect(risk.kill('operator pressed the button')).toMatchObject({ check: 'circuitBreaker.kill' });
    expect(risk.check(o, 5)?.message).toContain('operator pressed the button');
  });
});
