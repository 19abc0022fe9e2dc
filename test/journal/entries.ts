// Journal entries of a made-up session, shared by the tests and their child processes.
import type { Order } from '../../engine/core/types.ts';
import type { JournalEntry } from '../../engine/journal/live-journal.ts';

export const SYMBOLS = ['SPY', 'IBM'];
const T0 = Date.UTC(2024, 2, 4, 14, 30);

export function order(id: number, over: Partial<Order> = {}): Order {
  return {
    id,
    strategy: 'sma-cross',
    symbol: SYMBOLS[id % 2],
    sid: id % 2,
    side: id % 3 ? 'BUY' : 'SELL',
    type: 'LMT',
    qty: { kind: 'shares', shares: 10 + id },
    limit: 100 + id / 8,
    stop: NaN,
    trailingPercent: NaN,
    trailingAmount: NaN,
    tif: 'DAY',
    goodTill: NaN,
    ocaGroup: '',
    parentId: 0,
    tag: `t${id}`,
    status: 'APPROVED',
    submittedAt: T0 + id * 60_000,
    eligibleFrom: T0 + id * 60_000,
    filledQty: 0,
    avgFillPrice: 0,
    commission: 0,
    triggered: false,
    firstBarDay: NaN,
    pendingChildren: [],
    reason: '',
    ...over,
  };
}

/**
 * The entries of step i of a session of `runId`: a bar, an order and its two events, a fill, an equity
 * point, a log line, every 5th step a risk event (with an infinite value) and a safety-state snapshot.
 */
export function step(runId: string, i: number): JournalEntry[] {
  const ts = T0 + i * 60_000;
  const out: JournalEntry[] = [
    {
      t: 'bar',
      runId,
      seq: i,
      b: { symbol: SYMBOLS[i % 2], sid: i % 2, ts, open: 100 + i, high: 101 + i, low: 99 + i, close: 100.5 + i, volume: i === 3 ? NaN : 1000 * i },
    },
    { t: 'order', runId, order: order(i + 1) },
    { t: 'orderEvent', runId, seq: 2 * i, e: { ts: ts + 60_000, orderId: i + 1, from: 'NEW', to: 'RISK_CHECK', reason: '' } },
    { t: 'orderEvent', runId, seq: 2 * i + 1, e: { ts: ts + 60_000, orderId: i + 1, from: 'RISK_CHECK', to: 'APPROVED', reason: 'within limits' } },
    {
      t: 'fill',
      runId,
      seq: i,
      f: {
        orderId: i + 1,
        strategy: 'sma-cross',
        symbol: SYMBOLS[(i + 1) % 2],
        sid: (i + 1) % 2,
        ts: ts + 65_000,
        qty: 5,
        price: 100.25 + i,
        commission: 1,
        execId: `0001.${i}`,
      },
    },
    { t: 'equity', runId, p: { ts: ts + 60_000, equity: 100_000 + i, cash: 90_000 - i, gross: 10_000 + 2 * i } },
    {
      t: 'log',
      runId,
      seq: i,
      ts: i === 0 ? NaN : ts,
      kind: i % 2 ? 'strategy' : 'connection',
      message: `step ${i}: "quoted", ünïcödé, \u0000nul and a\nnewline`,
    },
  ];
  if (i % 5 === 0) {
    out.push({
      t: 'risk',
      runId,
      seq: i / 5,
      e: { ts, orderId: i + 1, check: 'maxOrderValue', value: Infinity, limit: -Infinity, message: `order ${i + 1} too big` },
    });
    out.push({ t: 'state', runId, ts, state: { step: i, breaker: { tripped: i >= 10, dayStartEquity: NaN, peak: -0 } } });
  }
  return out;
}

export function steps(runId: string, from: number, to: number): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (let i = from; i < to; i++) out.push(...step(runId, i));
  return out;
}
