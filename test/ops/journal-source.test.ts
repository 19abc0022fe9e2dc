// A finished live session read back from its journal: the snapshot at its end, the lists by page, the runs
// of the file; and `npm run dashboard` serving it read-only.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { BarSeries } from '../../engine/core/types.ts';
import { writeJournal } from '../../engine/journal/journal-store.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { openJournalSource, REPLAY_REASON } from '../../engine/ops/journal-source.ts';
import type { OpsSnapshot } from '../../engine/ops/types.ts';
import type { BacktestResult } from '../../engine/run/backtest.ts';
import { ROOT, startCli } from '../cli/run-cli.ts';
import { liveSession, minuteConfig, until } from '../live/live-harness.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2013-10-07T09:30:00-04:00');

/** `n` symbols of minute bars, a deterministic zig-zag around 50 + k. */
function minutes(n: number, count: number): BarSeries[] {
  return Array.from({ length: n }, (_, k) => {
    const col = (f: (i: number) => number) => Float64Array.from({ length: count }, (_, i) => f(i));
    const px = (i: number) => 50 + k + ((i * 7 + k) % 5) * 0.1;
    return {
      symbol: `S${k}`,
      interval: '1m' as const,
      ts: col((i) => T0 + i * MINUTE),
      open: col(px),
      high: col((i) => px(i) + 0.05),
      low: col((i) => px(i) - 0.05),
      close: col(px),
      volume: col(() => 1_000),
    };
  });
}

const series = minutes(2, 12);
const cfg = minuteConfig(series);

/** buys 30 of S0 and 20 of S1, sells 10 of S0 later, leaves a resting limit order, and logs a line */
const plan: Strategy = {
  onBar(ctx, bar) {
    const n = ctx.count(bar.sid);
    if (n === 2) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: bar.sid === 0 ? 30 : 20 });
    if (n === 5 && bar.sid === 0) {
      ctx.submit({ symbol: bar.symbol, side: 'SELL', type: 'MKT', qty: 10 });
      ctx.log('trimming S0');
    }
    if (n === 7 && bar.sid === 1) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'LMT', qty: 5, limit: 1, tif: 'GTC' });
  },
};

let dir: string;
let file: string;
/** the first run: stopped cleanly, its run tables written as npm run live does */
let first: BacktestResult;
/** the second (latest) run: stopped without the run tables (as a killed runner leaves it) */
let second: BacktestResult;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-journal-source-'));
  file = path.join(dir, 'journal.duckdb');
  const journal = await LiveJournal.open(file);
  try {
    first = (await liveSession(series, cfg, [{ name: 'plan', strategy: plan, weight: 1 }], { journal, runId: 'first' })).result;
    await journal.use((conn) =>
      writeJournal(
        conn,
        {
          runId: 'first',
          kind: 'live',
          strategy: cfg.strategy,
          config: { ...cfg, strategies: [{ name: 'plan', cash: cfg.cash }] },
          bars: first.bars,
          finalEquity: first.engine.portfolio.equity(),
        },
        first.journal,
        first.engine.orders,
        first.engine.portfolio,
      ),
    );
    second = (await liveSession(series.slice(0, 1), { ...cfg, symbols: ['S0'] }, [{ name: 'plan', strategy: plan, weight: 1 }], { journal, runId: 'second' }))
      .result;
  } finally {
    await journal.close();
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const positionsOf = (r: BacktestResult) =>
  r.config.symbols.flatMap((symbol, sid) => {
    const q = r.engine.portfolio.position(sid);
    return q === 0 ? [] : [{ symbol, quantity: q }];
  });

describe('openJournalSource: a finished session, read-only', () => {
  it('the snapshot is the end of the session: positions, equity, fills, orders; mode replay, never ready, no control', async () => {
    const src = await openJournalSource(file, 'first');
    const s = src.snapshot();
    expect(src.mode).toBe('replay');
    expect(src.control).toBeUndefined();
    expect(s.mode).toBe('replay');
    expect(s.runId).toBe('first');
    expect(s.strategy).toBe('scripted');
    expect(s.symbols).toEqual(['S0', 'S1']);
    expect(positionsOf(first)).toEqual([
      { symbol: 'S0', quantity: 20 },
      { symbol: 'S1', quantity: 20 },
    ]);
    expect(s.positions.map((p) => ({ symbol: p.symbol, quantity: p.quantity }))).toEqual(positionsOf(first));
    for (const p of s.positions) {
      const sid = first.config.symbols.indexOf(p.symbol);
      expect(p.avgCost).toBeCloseTo(first.engine.portfolio.books[0].avgCost[sid], 9);
      expect(p.lastPrice).toBe(first.engine.portfolio.marks[sid]);
      expect(p.marketValue).toBeCloseTo(p.quantity * p.lastPrice, 9);
    }
    const curve = first.journal.equityCurve;
    expect(s.equityCurve).toHaveLength(curve.length);
    expect(s.equityCurve.at(-1)).toEqual({ ts: curve.at(-1)!.ts, equity: curve.at(-1)!.equity });
    expect(s.equity).toBe(curve.at(-1)!.equity);
    expect(s.equity).toBeCloseTo(first.engine.portfolio.equity(), 6);
    expect(s.cash).toBeCloseTo(first.engine.portfolio.cash, 6);
    expect(s.strategies).toEqual([{ name: 'plan', pnl: expect.closeTo(first.engine.portfolio.equity() - cfg.cash, 6), allocation: 1, paused: false }]);
    expect(src.fills(0, 1000).total).toBe(first.journal.fills.length);
    expect(first.journal.fills.length).toBe(3);
    expect(s.fillsToday).toHaveLength(3);
    expect(src.orders(0, 1000).items.map((o) => [o.id, o.status])).toEqual(first.engine.orders.map((o) => [o.id, o.status]));
    // the resting limit order is still working at the end
    expect(s.openOrders.map((o) => [o.symbol, o.side, o.quantity, o.limit])).toEqual([['S1', 'BUY', 5, 1]]);
    expect(s.risk.breaker).toEqual({ tripped: false, check: null, reason: null });
    expect(s.connection.connected).toBe(false);
    expect(s.connection.reconciled).toBe(true);
    expect(s.readiness).toEqual({ ready: false, reasons: [REPLAY_REASON] });
    expect(s.now).toBe(series[0].ts.at(-1));
    expect(s.drawdown).toBeLessThanOrEqual(0);
    expect(s.exposure.gross).toBeCloseTo(s.positions.reduce((x, p) => x + Math.abs(p.marketValue), 0) / s.equity, 12);
    // nothing new happens in a replay; the snapshot is a copy
    const unsubscribe = src.subscribe(() => expect.unreachable('a replay has no events'));
    unsubscribe();
    s.positions.length = 0;
    expect(src.snapshot().positions).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(src.snapshot())).mode).toBe('replay');
  });

  it('pages over orders, fills, risk events and logs', async () => {
    const src = await openJournalSource(file, 'first');
    const all = src.logs(0, 10_000);
    expect(all.total).toBe(first.journal.logs.length);
    expect(all.items.filter((l) => l.kind === 'strategy' && l.message.includes('trimming S0'))).toHaveLength(1);
    const p = src.logs(2, 3);
    expect(p).toEqual({ total: all.total, offset: 2, items: all.items.slice(2, 5) });
    expect(src.logs(all.total + 5, 10)).toEqual({ total: all.total, offset: all.total + 5, items: [] });
    const fills = src.fills(1, 1);
    expect(fills.total).toBe(3);
    expect(fills.items).toEqual([
      {
        orderId: first.journal.fills[1].orderId,
        execId: first.journal.fills[1].execId,
        strategy: 'plan',
        symbol: first.journal.fills[1].symbol,
        ts: first.journal.fills[1].ts,
        quantity: first.journal.fills[1].qty,
        price: first.journal.fills[1].price,
        commission: first.journal.fills[1].commission,
      },
    ]);
    expect(src.orders(0, 2).items).toHaveLength(2);
    expect(src.orders(0, 2).total).toBe(first.engine.orders.length);
    expect(src.riskEvents(0, 10)).toEqual({ total: first.journal.riskEvents.length, offset: 0, items: [] });
  });

  it('the latest run by default, even without its run tables (a runner that was killed); its symbols from the journal', async () => {
    const src = await openJournalSource(file);
    expect(src.runId).toBe('second');
    expect(src.runs).toEqual(['second', 'first']);
    const s = src.snapshot();
    expect(s.symbols).toEqual(['S0']);
    expect(s.positions.map((p) => [p.symbol, p.quantity])).toEqual([['S0', second.engine.portfolio.position(0)]]);
    expect(s.equityCurve.at(-1)!.equity).toBe(second.journal.equityCurve.at(-1)!.equity);
    expect(s.strategies.map((x) => x.name)).toEqual(['plan']);
  });

  it('an unknown run id is an error listing the runs in the file; a missing file names it', async () => {
    await expect(openJournalSource(file, 'nope')).rejects.toThrow(`${file} has no run 'nope'; its runs (latest first): second, first`);
    await expect(openJournalSource(path.join(dir, 'missing.duckdb'))).rejects.toThrow(/no such journal file: .*missing\.duckdb/);
  });
});

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function dashboard(args: string[]) {
  const c = startCli('dashboard.ts', args);
  children.add(c.child);
  return c;
}

describe('npm run dashboard', () => {
  it.skipIf(!existsSync(path.join(ROOT, 'engine/ops/server.ts')))(
    'serves the journal read-only: the state in replay mode, control refused with 405; stops on SIGTERM',
    async () => {
      const d = dashboard(['--journal', file, '--run', 'first', '--http', '127.0.0.1:0']);
      try {
        await until(() => /dashboard: http:\/\/\S+/.test(d.stdout()) || d.child.exitCode !== null, 60_000, 'the dashboard URL');
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${d.stderr()}`);
      }
      const url = /dashboard: (http:\/\/\S+)/.exec(d.stdout())?.[1];
      expect(url, d.stderr()).toBeDefined();
      const base = url!.replace(/\/$/, '');
      const state = await fetch(`${base}/api/v1/state`);
      expect(state.status).toBe(200);
      const s = (await state.json()) as OpsSnapshot;
      expect(s.mode).toBe('replay');
      expect(s.runId).toBe('first');
      expect(s.positions.map((p) => ({ symbol: p.symbol, quantity: p.quantity }))).toEqual(positionsOf(first));
      const kill = await fetch(`${base}/api/v1/kill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(kill.status).toBe(405);
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    },
    90_000,
  );

  it('a missing --journal and a bad --http name the flag', async () => {
    const a = dashboard([]);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toMatch(/--journal is required/);
    const b = dashboard(['--journal', file, '--http', 'localhost']);
    expect(await b.exited).toBe(1);
    expect(b.stderr()).toMatch(/--http must be HOST:PORT/);
    const c = dashboard(['--journal', file, '--run', 'nope', '--http', '127.0.0.1:0']);
    expect(await c.exited).toBe(1);
    expect(c.stderr()).toMatch(/has no run 'nope'; its runs \(latest first\): second, first/);
  }, 90_000);
});
