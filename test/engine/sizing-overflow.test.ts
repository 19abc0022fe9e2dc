// Sizing over doubles: no loop that steps a share count by one, no quantity past exact integers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibkrFixed, makeCommission } from '../../engine/exec/costs.ts';
import { allInShares } from '../../engine/run/engine.ts';
import { dailySeries, runScripted } from './harness.ts';

/** The definition: the largest q <= cash / price whose cost the cash covers, searched from the top. */
function allInByStepping(cash: number, price: number, commission: (q: number) => number): number {
  let q = Math.floor(cash / price);
  while (q > 0 && q * price + commission(q) > cash) q--;
  return Math.max(q, 0);
}

const bars = [
  [10, 11, 9, 10, 1e6],
  [10, 11, 9, 10, 1e6],
  [10, 11, 9, 10, 1e6],
];

describe('all-in sizing', () => {
  it('equals the step-down definition for every commission model (property)', () => {
    const models = [
      { model: 'none' },
      { model: 'ibkr-fixed' },
      { model: 'ibkr-tiered' },
      { model: 'per-share', perShare: 0.01, min: 2 },
      { model: 'percent', rate: 0.001, min: 5 },
    ] as const;
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        fc.constantFrom(...models),
        (cash, price, spec) => {
          fc.pre(cash / price <= 2e5); // keeps the reference loop short
          const m = makeCommission(spec);
          const c = (q: number) => m.commission(q, price);
          expect(allInShares(cash, price, c)).toBe(allInByStepping(cash, price, c));
        },
      ),
    );
  });

  it('finds a trillion-dollar book its shares at once (the step-down took ~5e9 steps)', () => {
    // ibkr-fixed at $1: 0.005 a share (under the 1% cap), so q * 1.005 <= 1e12
    const q = allInShares(1e12, 1, (n) => ibkrFixed(n, 1));
    expect(q).toBe(995_024_875_621);
    expect(q + ibkrFixed(q, 1)).toBeLessThanOrEqual(1e12);
    expect(q + 1 + ibkrFixed(q + 1, 1)).toBeGreaterThan(1e12);
  });

  it('--cash 1e20: the all-in order is cancelled with the reason, the run ends, equity stays the cash', { timeout: 10_000 }, () => {
    const r = runScripted([dailySeries('TEST', bars)], [{ afterBar: 0, req: { symbol: 'TEST', side: 'BUY', type: 'MKT', qty: 'all-in' } }], { cash: 1e20 });
    const [order] = r.engine.orders;
    expect(order.status).toBe('CANCELLED');
    expect(order.reason).toMatch(/more than 2\^53 - 1 shares/);
    expect(r.engine.portfolio.books[0].cash).toBe(1e20);
  });

  it('a fixed quantity past 2^53 - 1 is rejected naming qty', () => {
    const r = runScripted([dailySeries('TEST', bars)], [{ afterBar: 0, req: { symbol: 'TEST', side: 'BUY', type: 'MKT', qty: 1e20 } }], { cash: 1e6 });
    const [order] = r.engine.orders;
    expect(order.status).toBe('REJECTED');
    expect(order.reason).toMatch(/qty must be a whole number > 0 \(at most 2\^53 - 1/);
  });
});
