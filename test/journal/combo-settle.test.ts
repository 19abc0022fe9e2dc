// A restarted live session takes its combo orders back from the journal's fills (settleOrders): each fill books
// onto the leg in its symbol, the combo's filled count is its complete combos (the fewest, over the legs, of units
// filled / ratio) and its average price the net per combo of the legs' latest prices (debit positive, credit
// negative), as the brokers book it (engine/exec/combo-book.ts). Hand-computed cases, then SimBroker's own combo
// fills (partial, over several bars) settled back to the order SimBroker left.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BrokerListener } from '../../engine/core/ports.ts';
import type { Fill, Order, OrderEvent, Side } from '../../engine/core/types.ts';
import { makeCommission } from '../../engine/exec/costs.ts';
import { newOrder } from '../../engine/exec/new-order.ts';
import { SimBroker, type SimBar } from '../../engine/exec/sim-broker.ts';
import { settleOrders } from '../../engine/journal/session-store.ts';

/** An iron condor on U as the journal stores its spec: long 740 put, short 745 put, short 760 call, long 765 call. */
function condor(over: Partial<Order> = {}): Order {
  return newOrder(0, {
    id: 7,
    strategy: 's',
    symbol: 'U',
    sid: 0,
    side: 'BUY',
    type: 'LMT',
    qty: { kind: 'shares', shares: 2 },
    limit: -1.9,
    legs: [
      { symbol: 'P740', sid: 1, side: 'BUY', ratio: 1, filledQty: 0, avgFillPrice: 0 },
      { symbol: 'P745', sid: 2, side: 'SELL', ratio: 1, filledQty: 0, avgFillPrice: 0 },
      { symbol: 'C760', sid: 3, side: 'SELL', ratio: 1, filledQty: 0, avgFillPrice: 0 },
      { symbol: 'C765', sid: 4, side: 'BUY', ratio: 1, filledQty: 0, avgFillPrice: 0 },
    ],
    ...over,
  });
}

let execs = 0;
const fill = (orderId: number, symbol: string, qty: number, price: number, commission = 1): Fill => ({
  orderId,
  strategy: 's',
  symbol,
  sid: -1,
  ts: 0,
  qty,
  price,
  commission,
  execId: `e${++execs}`,
});
const event = (orderId: number, to: OrderEvent['to']): OrderEvent => ({ ts: 0, orderId, from: '', to, reason: '' });
const legRows = (o: Order) => o.legs!.map((l) => [l.symbol, l.filledQty, l.avgFillPrice]);

describe('settleOrders: a combo from its journaled leg fills', () => {
  it('an iron condor filled one combo a bar on two bars: 2 combos at the mean net credit, each leg its own units and price', () => {
    // bar 1: 1.10 - 2.05 - 1.95 + 0.90 = -2.00 a condor (a credit); bar 2: 1.20 - 2.00 - 2.10 + 0.80 = -2.10
    // the combo: 2 condors at (-2.00 - 2.10) / 2 = -2.05; the legs: +2 at 1.15, -2 at 2.025, -2 at 2.025, +2 at 0.85
    const fills = [
      fill(7, 'P740', 1, 1.1),
      fill(7, 'P745', -1, 2.05),
      fill(7, 'C760', -1, 1.95),
      fill(7, 'C765', 1, 0.9),
      fill(7, 'P740', 1, 1.2),
      fill(7, 'P745', -1, 2.0),
      fill(7, 'C760', -1, 2.1),
      fill(7, 'C765', 1, 0.8),
      // the legs' settlement at expiry: fills of no order (order id 0), not the combo's
      fill(0, 'P740', -2, 0, 0),
    ];
    // the spec as journaled when the order was placed: nothing filled (a later spec could hold anything: ignored)
    const spec = condor({ filledQty: 9, avgFillPrice: 3, legs: condor().legs!.map((l) => ({ ...l, filledQty: 5, avgFillPrice: 9 })) });
    const [o] = settleOrders([spec], [event(7, 'SUBMITTED'), event(7, 'PARTIALLY_FILLED'), event(7, 'FILLED')], fills);
    expect(o!.status).toBe('FILLED');
    expect(o!.filledQty).toBe(2);
    expect(o!.avgFillPrice).toBeCloseTo(-2.05, 12);
    expect(o!.commission).toBe(8);
    const rows = legRows(o!);
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['P740', 2],
      ['P745', -2],
      ['C760', -2],
      ['C765', 2],
    ]);
    [1.15, 2.025, 2.025, 0.85].forEach((p, k) => expect(rows[k]![2]).toBeCloseTo(p, 12));
    // the journal's spec is not changed
    expect(spec.filledQty).toBe(9);
    expect(spec.legs![0]!.filledQty).toBe(5);
  });

  it('a ratio spread whose legs came in parts: only complete combos count, at the legs’ latest prices', () => {
    // BUY 1 C750, SELL 2 C760 a combo. After C750 +1 @ 3.00 and C760 -1 @ 1.00: min(1/1, floor(1/2)) = 0 combos
    const spread = newOrder(0, {
      id: 3,
      strategy: 's',
      symbol: 'U',
      sid: 0,
      side: 'BUY',
      type: 'LMT',
      qty: { kind: 'shares', shares: 1 },
      limit: 1,
      legs: [
        { symbol: 'C750', sid: 1, side: 'BUY', ratio: 1, filledQty: 0, avgFillPrice: 0 },
        { symbol: 'C760', sid: 2, side: 'SELL', ratio: 2, filledQty: 0, avgFillPrice: 0 },
      ],
    });
    const first = [fill(3, 'C750', 1, 3), fill(3, 'C760', -1, 1)];
    const [part] = settleOrders([spread], [event(3, 'SUBMITTED')], first);
    expect([part!.filledQty, part!.avgFillPrice, part!.status]).toEqual([0, 0, 'SUBMITTED']);
    expect(legRows(part!)).toEqual([
      ['C750', 1, 3],
      ['C760', -1, 1],
    ]);
    // then C760 -1 @ 1.20 completes it: net 3.00 - 2 x 1.20 = 0.60 (the latest price of each leg); C760 at 1.10 on average
    const [done] = settleOrders([spread], [event(3, 'FILLED')], [...first, fill(3, 'C760', -1, 1.2)]);
    expect(done!.filledQty).toBe(1);
    expect(done!.avgFillPrice).toBeCloseTo(0.6, 12);
    expect(done!.legs![1]!.filledQty).toBe(-2);
    expect(done!.legs![1]!.avgFillPrice).toBeCloseTo(1.1, 12);
  });

  it('an order without legs still sums its fills; a combo fill in a symbol none of its legs has is refused, naming both', () => {
    const single = newOrder(0, { id: 1, strategy: 's', symbol: 'SPY', sid: 0, side: 'SELL', type: 'MKT', qty: { kind: 'shares', shares: 30 } });
    // (10 x 100 + 20 x 101) / 30 = 100.666...
    const [o] = settleOrders([single], [], [fill(1, 'SPY', -10, 100), fill(1, 'SPY', -20, 101)]);
    expect(o!.filledQty).toBe(30);
    expect(o!.avgFillPrice).toBeCloseTo(3020 / 30, 12);
    expect(() => settleOrders([condor()], [], [fill(7, 'P740', 1, 1), fill(7, 'SPY', 1, 1)])).toThrow(
      /combo order 7 \(U\) has a fill e\d+ in SPY, which is none of its legs \(P740, P745, C760, C765\)/,
    );
  });
});

describe('settleOrders = SimBroker: a combo filled in parts by the volume cap, settled from its fills alone', () => {
  const side = fc.constantFrom<Side>('BUY', 'SELL');
  const legsArb = fc.uniqueArray(fc.record({ sid: fc.integer({ min: 1, max: 9 }), side, ratio: fc.integer({ min: 1, max: 4 }) }), {
    minLength: 2,
    maxLength: 4,
    selector: (l) => l.sid,
  });

  it('the same filled combos, average net, legs and commission after every bar', () => {
    let partial = 0;
    fc.assert(
      fc.property(
        legsArb,
        side,
        fc.integer({ min: 1, max: 30 }),
        // per bar and leg: the leg's price in cents and the size at its touch (the cap lets ratio x room through)
        fc.array(fc.array(fc.record({ cents: fc.integer({ min: 1, max: 5000 }), size: fc.integer({ min: 0, max: 40 }) }), { minLength: 4, maxLength: 4 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (legs, orderSide, combos, bars) => {
          const order = newOrder(0, {
            id: 1,
            strategy: 's',
            symbol: 'U',
            sid: 0,
            side: orderSide,
            type: 'MKT',
            qty: { kind: 'shares', shares: combos },
            tif: 'GTC',
            legs: legs.map((l) => ({ symbol: `O${l.sid}`, sid: l.sid, side: l.side, ratio: l.ratio, filledQty: 0, avgFillPrice: 0 })),
          });
          const spec: Order = structuredClone(order);
          const broker = new SimBroker({ commission: makeCommission({ model: 'ibkr-fixed' }), slippage: { model: 'none' }, intervalMs: 60_000, volumeCap: 1 });
          const fills: Fill[] = [];
          const listener: BrokerListener = { onStatus: () => {}, onFill: (_o, f) => fills.push(f), resolveAllIn: () => 0, onParentFilled: () => {} };
          broker.setListener(listener);
          broker.place(order);
          bars.forEach((legBars, i) => {
            for (const [k, l] of [...order.legs!.entries()].sort((a, b) => a[1].sid - b[1].sid)) {
              const { cents, size } = legBars[k]!;
              const p = cents / 100;
              const quote = { bidOpen: p, bidHigh: p, bidLow: p, bidClose: p, bidSize: size, askOpen: p, askHigh: p, askLow: p, askClose: p, askSize: size };
              const bar: SimBar = {
                ...{ sid: l.sid, ts: i * 60_000, open: p, high: p, low: p, close: p, volume: size, day: 0, month: 0 },
                ...{ sessionOpen: i === 0, sessionClose: false, beforeClose: true, quote },
              };
              broker.onBar(bar);
            }
            const [got] = settleOrders([spec], [], fills);
            expect(got!.filledQty).toBe(order.filledQty);
            expect(got!.avgFillPrice).toBe(order.avgFillPrice);
            expect(got!.commission).toBeCloseTo(order.commission, 9);
            expect(legRows(got!)).toEqual(legRows(order));
            if (order.filledQty > 0 && order.filledQty < combos) partial++;
          });
        },
      ),
      { numRuns: 200 },
    );
    expect(partial).toBeGreaterThan(20); // the cap did split combos over bars
  });
});
