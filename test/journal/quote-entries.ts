// Journal entries of an options session (a stock, a call, a pair): fills with and without a reason and bars with and
// without quotes, shared by test/journal/quotes-and-reasons.test.ts and its crashing child.
import type { Bar, Fill } from '../../engine/core/types.ts';
import type { JournalEntry } from '../../engine/journal/live-journal.ts';

export const SYMBOLS = ['GOOG', 'GOOG151224C00750000', 'GBP.USD'];
export const T0 = Date.UTC(2015, 11, 23, 14, 30);

export const fill = (i: number, over: Partial<Fill> = {}): Fill => ({
  orderId: i + 1,
  strategy: 'covered-call',
  symbol: SYMBOLS[i % 3],
  sid: i % 3,
  ts: T0 + i * 60_000,
  qty: i % 2 ? -1 : 100,
  price: 10 + i,
  commission: 1,
  execId: `0001.${i}`,
  ...over,
});

/** The settlement of the written call at its expiry: no order made it (order id 0). */
export const SETTLED: Fill = fill(9, { orderId: 0, symbol: SYMBOLS[1], sid: 1, qty: 1, price: 0, commission: 0, execId: 'expiry.1', reason: 'expiry' });
export const ASSIGNED: Fill = fill(10, {
  orderId: 0,
  symbol: SYMBOLS[0],
  sid: 0,
  qty: -100,
  price: 750,
  commission: 0,
  execId: 'assign.1',
  reason: 'assignment',
});

/** A stock's bar (no quotes), an option's (both sides), a pair's with no ask that minute (NaN: no quote on that side). */
export const BARS: Bar[] = [
  { symbol: 'GOOG', sid: 0, ts: T0, open: 750, high: 751, low: 749, close: 750.5, volume: 1_000 },
  { symbol: SYMBOLS[1], sid: 1, ts: T0, open: 5.1, high: 5.2, low: 5, close: 5.15, volume: 0, bid: 5.1, ask: 5.2 },
  { symbol: SYMBOLS[2], sid: 2, ts: T0, open: 1.49, high: 1.5, low: 1.48, close: 1.495, volume: 0, bid: 1.4949, ask: Number.NaN },
];

export const barEntries = (runId: string): JournalEntry[] => BARS.map((b, seq) => ({ t: 'bar', runId, seq, b }));
export const fillEntries = (runId: string, fills: readonly Fill[]): JournalEntry[] => fills.map((f, seq) => ({ t: 'fill', runId, seq, f }));
