// writeJournal's tables read back exactly as the journal holds them: every table, several data chunks, text that
// repeats (sent once per chunk) and text that does not, NaN/±Infinity/-0, the extremes of each integer type,
// empty, NUL and non-ASCII strings; and a value a column cannot hold fails the whole write, leaving the previous run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fill, Order, OrderEvent, OrderStatus, RiskEvent } from '../../engine/core/types.ts';
import { type RunRecord, writeJournal } from '../../engine/journal/journal-store.ts';
import { type EquitySample, MemoryJournal } from '../../engine/journal/journal.ts';
import { Portfolio } from '../../engine/portfolio/portfolio.ts';

const STATUSES: OrderStatus[] = ['NEW', 'RISK_CHECK', 'APPROVED', 'SUBMITTED', 'FILLED', 'CANCELLED'];
const SYMBOLS = ['AAPL', 'BRK.B', 'ÄÖÜ€', '株式', '😀X', '', '\u00e9', 'e\u0301'];
const ODD_NUMBERS = [0, -0, NaN, Infinity, -Infinity, 1e308, -1e-308, 5e-324, -(2 ** 53) + 1, 0.1 + 0.2];
/** text the journal must keep as it is (a lone surrogate is the exception: UTF-8 has none, so it becomes U+FFFD) */
const ODD_TEXT = ['', ' ', 'a\u0000b', 'it\'s "quoted"', 'é😀\n\t', 'x'.repeat(300), '\ud800'];
const stored = (s: string) => s.replace(/\p{Cs}/gu, '\ufffd');

function order(i: number): Order {
  const odd = ODD_NUMBERS[i % ODD_NUMBERS.length];
  return {
    id: i === 0 ? 2147483647 : i === 1 ? -2147483648 : i + 1,
    strategy: i % 2 ? 'sma-cross' : 'ÿ-strat',
    symbol: SYMBOLS[i % SYMBOLS.length],
    sid: 0,
    side: i % 3 ? 'BUY' : 'SELL',
    type: i % 4 ? 'MKT' : 'STP LMT',
    qty: i % 5 ? { kind: 'shares', shares: i % 7 ? i : odd } : { kind: 'all-in' },
    limit: i % 4 ? NaN : odd,
    stop: i % 4 ? Infinity : -odd,
    trailingPercent: NaN,
    trailingAmount: NaN,
    tif: i % 2 ? 'DAY' : 'GTC',
    goodTill: NaN,
    ocaGroup: i % 9 ? '' : `oca-${i % 20}`,
    parentId: i % 6 ? 0 : i - 1,
    tag: ODD_TEXT[i % ODD_TEXT.length],
    status: STATUSES[i % STATUSES.length],
    submittedAt: i === 2 ? -8_640_000_000_000_000 : i === 3 ? 2 ** 53 - 1 : 1_700_000_000_000 + i,
    eligibleFrom: 0,
    filledQty: odd,
    avgFillPrice: -odd,
    commission: i * 0.01,
    triggered: false,
    firstBarDay: NaN,
    pendingChildren: [],
    reason: i % 50 ? '' : `order ${i % 150} rejected by maxLeverage: gross leverage ${odd} exceeds the limit 1`,
  };
}

/** a journal with every table non-empty and the long ones over several data chunks (2048 rows each) */
function journal(): { journal: MemoryJournal; orders: Order[]; portfolio: Portfolio } {
  const orders = Array.from({ length: 2100 }, (_, i) => order(i));
  const j = new MemoryJournal();
  for (let i = 0; i < 5000; i++) {
    const e: OrderEvent = {
      ts: -1_000_000_000_000 + i * 86_400_000,
      orderId: i % 700,
      from: i % 5 ? STATUSES[(i - 1) % STATUSES.length] : '',
      to: STATUSES[i % STATUSES.length],
      // the first chunk repeats a few reasons, the second has a different one on every row, the third holds odd text
      reason: i < 2048 ? ['', 'cancelled by the strategy'][i % 2] : i < 4096 ? `reason ${i}` : ODD_TEXT[i % ODD_TEXT.length],
    };
    j.orderEvent(e);
  }
  for (let i = 0; i < 2500; i++) {
    const f: Fill = {
      orderId: i,
      strategy: 'sma-cross',
      symbol: SYMBOLS[i % SYMBOLS.length],
      sid: 0,
      ts: 1_000 * i,
      qty: i % 2 ? -i : i,
      price: ODD_NUMBERS[i % ODD_NUMBERS.length],
      commission: -0,
      execId: `sim.${i}`,
      // an option's settlement now and then (a fill no order made); the rest are trades, their reason NULL
      ...(i % 97 === 5 ? { orderId: 0, reason: (['exercise', 'assignment', 'expiry'] as const)[i % 3] } : {}),
    };
    j.fill(f);
  }
  for (let i = 0; i < 30; i++) {
    const r: RiskEvent = {
      ts: i,
      orderId: i,
      check: i % 2 ? 'maxLeverage' : 'circuitBreaker',
      value: ODD_NUMBERS[i % ODD_NUMBERS.length],
      limit: ODD_NUMBERS[(i + 3) % ODD_NUMBERS.length],
      message: ODD_TEXT[i % ODD_TEXT.length],
    };
    j.riskEvent(r);
  }
  for (let i = 0; i < 2100; i++) {
    const p: EquitySample = { ts: 86_400_000 * i, equity: 100_000 + i / 3, cash: ODD_NUMBERS[i % ODD_NUMBERS.length], gross: -i };
    j.equity(p);
  }
  const portfolio = new Portfolio(SYMBOLS, [
    { name: 'a', cash: 1 },
    { name: 'b ü', cash: 2 },
  ]);
  SYMBOLS.forEach((_, s) => {
    portfolio.books[0].qty[s] = s % 2 ? 0 : s - 2.5;
    portfolio.books[0].avgCost[s] = ODD_NUMBERS[s];
    portfolio.books[1].qty[s] = 1e15;
    portfolio.marks[s] = s === 1 ? NaN : -s;
  });
  return { journal: j, orders, portfolio };
}

const RUN: RunRecord = { runId: 'run-ü', kind: 'backtest', strategy: 'sma-cross', config: { a: [1, 'é'], b: null }, bars: 2 ** 53 - 1, finalEquity: -0 };

/** A non-finite number where the column keeps only finite ones. */
const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** The rows each table must hold, written out from the journal as its columns are defined (JOURNAL_DDL). */
function expected(run: RunRecord, j: ReturnType<typeof journal>): Record<string, unknown[][]> {
  const id = run.runId;
  return {
    runs: [[id, run.kind, run.strategy, JSON.stringify(run.config), BigInt(run.bars), run.finalEquity]],
    orders: j.orders.map((o) => [
      id,
      o.id,
      o.strategy,
      stored(o.symbol),
      o.side,
      o.type,
      o.qty.kind === 'shares' ? finite(o.qty.shares) : null,
      o.qty.kind === 'all-in',
      finite(o.limit),
      finite(o.stop),
      o.tif,
      o.status,
      BigInt(o.submittedAt),
      o.filledQty,
      o.avgFillPrice,
      o.commission,
      o.parentId,
      o.ocaGroup,
      stored(o.tag),
      o.reason,
    ]),
    order_events: j.journal.orderEvents.map((e, k) => [id, k, BigInt(e.ts), e.orderId, e.from, e.to, stored(e.reason)]),
    fills: j.journal.fills.map((f, k) => [id, k, f.execId, f.orderId, f.strategy, f.symbol, BigInt(f.ts), f.qty, f.price, f.commission, f.reason ?? null]),
    risk_events: j.journal.riskEvents.map((e, k) => [id, k, BigInt(e.ts), e.orderId, e.check, finite(e.value), finite(e.limit), stored(e.message)]),
    equity: j.journal.equityCurve.map((p) => [id, BigInt(p.ts), p.equity, p.cash, p.gross]),
    positions: j.portfolio.books.flatMap((b) =>
      SYMBOLS.flatMap((symbol, s) => (b.qty[s] === 0 ? [] : [[id, b.name, symbol, b.qty[s], b.avgCost[s], j.portfolio.marks[s]]])),
    ),
  };
}

/** Each table's rows for the run, in the order they were written. */
async function read(conn: DuckDBConnection, runId: string): Promise<Record<string, unknown[][]>> {
  const out: Record<string, unknown[][]> = {};
  for (const t of ['runs', 'orders', 'order_events', 'fills', 'risk_events', 'equity', 'positions']) {
    const r = await conn.runAndReadAll(`SELECT * FROM ${t} WHERE run_id = $1 ORDER BY rowid`, [runId]);
    out[t] = r.getRows();
  }
  return out;
}

let dir: string;
let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-journal-store-'));
  instance = await DuckDBInstance.create(path.join(dir, 'journal.duckdb'));
  conn = await instance.connect();
});

afterAll(() => {
  conn.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('writeJournal', () => {
  it('writes every table as the journal holds it, value for value and in order', async () => {
    const j = journal();
    await writeJournal(conn, RUN, j.journal, j.orders, j.portfolio);
    const got = await read(conn, RUN.runId);
    const want = expected(RUN, j);
    for (const t of Object.keys(want)) {
      expect(got[t].length, t).toBe(want[t].length);
      expect(got[t], t).toEqual(want[t]); // toEqual tells -0 from 0 and NaN from null
    }
    // the checks above would pass on empty tables: these are the sizes built
    expect(Object.values(got).map((rows) => rows.length)).toEqual([1, 2100, 5000, 2500, 30, 2100, 12]);
  });

  it('writes the same run again in place of the first (one copy, the same rows)', async () => {
    const j = journal();
    await writeJournal(conn, RUN, j.journal, j.orders, j.portfolio);
    await writeJournal(conn, RUN, j.journal, j.orders, j.portfolio);
    expect(await read(conn, RUN.runId)).toEqual(expected(RUN, j));
  });

  it.each([
    ['a time that is not an integer', (j: ReturnType<typeof journal>) => (j.journal.equityCurve[2099].ts = 1.5), /equity\.ts: 1\.5 is not a 64-bit integer/],
    ['a time past 64 bits', (j: ReturnType<typeof journal>) => (j.journal.fills[5].ts = 2 ** 63), /fills\.ts: 9223372036854776000 is not a 64-bit integer/],
    ['an order id past 32 bits', (j: ReturnType<typeof journal>) => (j.orders[699].id = 2 ** 31), /orders\.order_id: 2147483648 is not a 32-bit integer/],
    [
      'a missing number',
      (j: ReturnType<typeof journal>) => (j.journal.equityCurve[0].gross = undefined as unknown as number),
      /equity\.gross: undefined is not a number/,
    ],
    ['a NaN order id', (j: ReturnType<typeof journal>) => (j.journal.orderEvents[4999].orderId = NaN), /order_events\.order_id: NaN is not a 32-bit integer/],
  ])('%s fails the whole write: the previous run stays as it was', async (_, spoil, message) => {
    const j = journal();
    await writeJournal(conn, RUN, j.journal, j.orders, j.portfolio);
    const bad = journal();
    spoil(bad);
    await expect(writeJournal(conn, RUN, bad.journal, bad.orders, bad.portfolio)).rejects.toThrow(message);
    expect(await read(conn, RUN.runId)).toEqual(expected(RUN, j));
  });
});
