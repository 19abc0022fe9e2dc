// The readers' row rules as properties, on generated files (no database: a sink that collects): every well-shaped
// FX row gives a quote bar as written and a well-shaped mid bar; a side whose high is below its open or close is
// refused naming that row and that side's field; option contracts get one instrument and their OCC key.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../engine/data/errors.ts';
import type { InstrumentRow } from '../../engine/data/instruments.ts';
import { type ForexFile, leanFileOf, type OptionFile } from '../../engine/data/lean-files.ts';
import { readForexFile } from '../../engine/data/lean-forex.ts';
import { readOptionFile } from '../../engine/data/lean-options.ts';
import type { LeanSink, QuoteSide } from '../../engine/data/lean-rows.ts';
import { parseOccSymbol } from '../../engine/instruments/local-symbol.ts';
import { tempDir, writeText } from './helpers.ts';

const tmp = tempDir('tradebench-lean-rows-');
afterAll(() => tmp.cleanup());

interface Collected {
  bars: { row: number; symbol: string; ts: number; o: number; h: number; l: number; c: number; v: number }[];
  quotes: { row: number; symbol: string; ts: number; bid: QuoteSide; ask: QuoteSide }[];
  instruments: InstrumentRow[];
}

function collector(): LeanSink & Collected {
  const c: Collected = { bars: [], quotes: [], instruments: [] };
  return {
    ...c,
    bar: (row, symbol, ts, o, h, l, cl, v) => void c.bars.push({ row, symbol, ts, o, h, l, c: cl, v }),
    quote: (row, symbol, ts, bid, ask) => void c.quotes.push({ row, symbol, ts, bid, ask }),
    openInterest: () => undefined,
    instrument: (r) => void c.instruments.push(r),
  };
}

/** A well-shaped side in 5-decimal prices: low <= open, close <= high. */
const side = fc.tuple(fc.integer({ min: 50_000, max: 250_000 }), fc.nat(2000), fc.nat(2000), fc.nat(1000)).map(([low, a, b, up]) => {
  const open = low + a;
  const close = low + b;
  return [open, Math.max(open, close) + up, low, close].map((x) => (x / 100_000).toFixed(5));
});

describe('readForexFile (properties)', () => {
  let n = 0;
  const fxFile = (lines: string[]) => {
    const dir = path.join(tmp.dir, `fx${n++}`, 'forex', 'gbpusd', 'daily');
    writeText(dir, 'oanda.csv', '');
    const file = path.join(dir, 'oanda.csv');
    writeFileSync(file, ['date,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close', ...lines].join('\n'));
    return leanFileOf(file) as ForexFile;
  };

  it('each well-shaped row: the quote bar as written, a mid bar (bid + ask) / 2 per field that is well shaped, volume 0', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(side, side), { minLength: 1, maxLength: 20 }), (rows) => {
        const lines = rows.map(([b, a], i) => `${new Date(Date.UTC(2010, 0, 1 + i)).toISOString().slice(0, 10)},${b.join(',')},${a.join(',')}`);
        const sink = collector();
        expect(readForexFile(fxFile(lines), sink)).toBe(rows.length);
        expect(sink.instruments).toHaveLength(1);
        expect(sink.quotes).toHaveLength(rows.length);
        for (let i = 0; i < rows.length; i++) {
          const [b, a] = rows[i]!.map((s) => s.map(Number));
          const q = sink.quotes[i]!;
          expect([q.bid.open, q.bid.high, q.bid.low, q.bid.close, q.ask.open, q.ask.high, q.ask.low, q.ask.close]).toEqual([...b!, ...a!]);
          expect(q.ts).toBe(Date.UTC(2010, 0, 1 + i));
          const m = sink.bars[i]!;
          expect([m.o, m.h, m.l, m.c]).toEqual(b!.map((x, k) => (x + a![k]!) / 2));
          expect(m.h).toBeGreaterThanOrEqual(Math.max(m.o, m.c));
          expect(m.l).toBeLessThanOrEqual(Math.min(m.o, m.c));
          expect(m.v).toBe(0);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('a side with its high below its open or close is refused: that row, that side', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(side, side), { minLength: 1, maxLength: 8 }), fc.nat(), fc.boolean(), (rows, pick, onAsk) => {
        const bad = pick % rows.length;
        const lines = rows.map(([b, a], i) => {
          const s = [...(onAsk ? a : b)];
          // high one pip below max(open, close)
          if (i === bad) s[1] = ((Math.max(Number(s[0]), Number(s[3])) * 100_000 - 1) / 100_000).toFixed(5);
          return `${new Date(Date.UTC(2010, 0, 1 + i)).toISOString().slice(0, 10)},${(onAsk ? b : s).join(',')},${(onAsk ? s : a).join(',')}`;
        });
        try {
          readForexFile(fxFile(lines), collector());
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(DataError);
          expect(e).toMatchObject({ rule: 'high-below-max', row: bad + 1, line: bad + 2, field: onAsk ? 'ask_high' : 'bid_high' });
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('readOptionFile', () => {
  it('one instrument per contract with its OCC key, and the times in UTC (EDT and EST)', () => {
    const dir = path.join(tmp.dir, 'opt', 'option', 'spy');
    const file = writeText(
      dir,
      '20140606_trade.csv',
      `
      time_et,right,strike,expiry,open,high,low,close,volume
      2014-06-06 09:30:00,C,192.5,2014-06-21,1.1000,1.2000,1.0000,1.1500,10
      2014-06-06 09:30:00,P,192.5,2014-06-21,0.5000,0.5000,0.5000,0.5000,3
      2014-06-06 09:31:00,C,192.5,2014-06-21,1.1500,1.1500,1.1500,1.1500,1`,
    );
    const sink = collector();
    expect(readOptionFile(leanFileOf(file) as OptionFile, sink)).toBe(3);
    expect(sink.instruments.map((r) => r.symbol)).toEqual(['SPY140621C00192500', 'SPY140621P00192500']);
    expect(parseOccSymbol(sink.instruments[0]!.localSymbol)).toEqual({ root: 'SPY', expiry: '2014-06-21', right: 'C', strike: 192.5 });
    // the Saturday OCC date: last trading day the Friday before
    expect(sink.instruments[0]).toMatchObject({ expiry: '2014-06-20', strike: 192.5, right: 'C', multiplier: 100, underlying: 'SPY' });
    // 09:30 EDT = 13:30 UTC
    expect(sink.bars.map((b) => [b.symbol, b.ts])).toEqual([
      ['SPY140621C00192500', Date.UTC(2014, 5, 6, 13, 30)],
      ['SPY140621P00192500', Date.UTC(2014, 5, 6, 13, 30)],
      ['SPY140621C00192500', Date.UTC(2014, 5, 6, 13, 31)],
    ]);
  });
});
