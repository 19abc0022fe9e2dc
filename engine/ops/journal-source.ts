// A finished live session read back from its journal, read-only: what the operations API, the dashboard
// and the metrics show for it (mode 'replay'; no control, so the control endpoints answer 405). The
// database is opened read-only once, everything is read with the journal's own readers (readJournalRows,
// settleOrders), entries still only in the write-ahead file beside it (a runner that was killed) are merged
// in, and the file is let go before this resolves: nothing new happens in a replay.
import { existsSync, statSync } from 'node:fs';
import { zoneOffset } from '../core/calendar.ts';
import type { Fill, OrderStatus, Trade } from '../core/types.ts';
import { openJournalDb, retryLocked, type DbSession } from '../journal/filler.ts';
import { readWal, walPathOf, type JournalEntry } from '../journal/journal-wal.ts';
import { appliedSeq, tableNames } from '../journal/live-tables.ts';
import { readJournalRows, settleOrders, type JournalRows } from '../journal/session-store.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { MAX_CURVE_POINTS, minMaxIndices } from '../report/decimate.ts';
import { opsFill, opsOrder } from './live-source.ts';
import type { OpsLog, OpsPage, OpsPosition, OpsRiskEvent, OpsSnapshot, OpsSource } from './types.ts';

/** A replay: a snapshot of the end of the session and its lists; never any control. */
export interface JournalOpsSource extends OpsSource {
  readonly mode: 'replay';
  readonly file: string;
  readonly runId: string;
  /** every run in the file, latest first */
  readonly runs: readonly string[];
  readonly control?: undefined;
}

/** Why a replay is never ready to trade. */
export const REPLAY_REASON = 'replay of a finished session';

const FINAL = new Set<OrderStatus>(['FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED']);
const DAY = 86_400_000;

interface RunInfo {
  strategy?: string;
  config?: { symbols?: unknown; cash?: unknown; tz?: unknown; strategy?: unknown; strategies?: unknown };
}

/**
 * Opens the journal `file` (a live session's journal.duckdb) read-only and reads run `runId` (default: the
 * latest run in the file). An unknown run id is an error listing the file's runs.
 */
export async function openJournalSource(file: string, runId?: string): Promise<JournalOpsSource> {
  if (!existsSync(file)) throw new Error(`no such journal file: ${file} (a live session writes <out>/journal.duckdb; check the path)`);
  if (!statSync(file).isFile()) throw new Error(`${file} is not a file: give the journal database itself, e.g. ${file.replace(/\/$/, '')}/journal.duckdb`);
  let s: DbSession;
  try {
    s = await retryLocked(() => openJournalDb(file, { readOnly: true }), 5_000, { everyMs: 10 });
  } catch (e) {
    throw new Error(`cannot open ${file} read-only as a DuckDB journal: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const tables = await tableNames(s.conn);
    if (!['live_runs', 'live_orders', 'order_events', 'runs'].some((t) => tables.has(t)))
      throw new Error(`${file} is not a journal (it has none of the journal tables): give the journal.duckdb of a live session's --out folder`);
    const applied = await appliedSeq(s.conn, tables);
    const wal = readWal(walPathOf(file), applied, { strict: false });
    const pending: JournalEntry[] = wal.records.map((r) => r.e);
    const runs = await listRuns(s, tables, wal.records);
    if (runs.length === 0) throw new Error(`${file} has no runs yet`);
    const id = runId ?? runs[0];
    if (!runs.includes(id))
      throw new Error(`${file} has no run '${id}'; its runs (latest first): ${runs.slice(0, 10).join(', ')}${runs.length > 10 ? `, … (${runs.length})` : ''}`);
    const rows = await readJournalRows(s.conn, id, [], pending);
    const info = await runInfo(s, tables, id);
    return buildSource(file, id, runs, rows, info);
  } finally {
    await s.close();
  }
}

/** The runs in the file, latest first: live runs by their last record, then finished runs as written (the embedded simulator's '<run>/sim' left out). */
async function listRuns(s: DbSession, tables: Set<string>, wal: readonly { g: number; e: JournalEntry }[]): Promise<string[]> {
  const order = new Map<string, number>();
  const bump = (id: string, at: number) => order.set(id, Math.max(order.get(id) ?? -Infinity, at));
  if (tables.has('runs')) for (const [id, k] of (await s.conn.runAndReadAll(`SELECT run_id, rowid FROM runs`)).getRows()) bump(String(id), -1e15 + Number(k));
  if (tables.has('live_runs'))
    for (const [id, last] of (await s.conn.runAndReadAll(`SELECT run_id, max(last_seq) FROM live_runs GROUP BY run_id`)).getRows())
      bump(String(id), Number(last));
  for (const r of wal) bump(r.e.runId, r.g);
  return [...order]
    .sort((a, b) => b[1] - a[1])
    .map(([id]) => id)
    .filter((id) => !id.endsWith('/sim'));
}

/** The runs table's record of the run (written when a session stops cleanly): its strategy and config. */
async function runInfo(s: DbSession, tables: Set<string>, runId: string): Promise<RunInfo> {
  if (!tables.has('runs')) return {};
  const [r] = (await s.conn.runAndReadAll(`SELECT strategy, config FROM runs WHERE run_id = $1`, [runId])).getRowObjectsJS() as Record<string, unknown>[];
  if (!r) return {};
  let config: RunInfo['config'];
  try {
    config = JSON.parse(String(r.config ?? 'null')) ?? undefined;
  } catch {
    config = undefined;
  }
  return { strategy: r.strategy === null ? undefined : String(r.strategy), config };
}

function page<T>(xs: readonly T[], offset: number, limit: number): OpsPage<T> {
  const o = Number.isFinite(offset) ? Math.max(0, Math.trunc(offset)) : 0;
  const n = Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : xs.length;
  return { total: xs.length, offset: o, items: xs.slice(o, o + n) };
}

function buildSource(file: string, runId: string, runs: string[], j: JournalRows, info: RunInfo): JournalOpsSource {
  const cfg = info.config ?? {};
  // the symbols: the run's config, else in the order they first appear in the journal
  const symbols: string[] = Array.isArray(cfg.symbols) ? cfg.symbols.map(String) : [];
  const see = (sym: string) => {
    if (!symbols.includes(sym)) symbols.push(sym);
  };
  for (const b of j.bars) see(b.symbol);
  for (const o of j.orders) see(o.symbol);
  for (const f of j.fills) see(f.symbol);
  const sid = (sym: string) => symbols.indexOf(sym);

  const orders = settleOrders(j.orders, j.orderEvents, j.fills);
  const fills: Fill[] = j.fills.map(({ seq: _seq, ...f }) => ({ ...f, sid: sid(f.symbol) }));
  const equity = j.equity;
  const first = equity[0];
  const last = equity[equity.length - 1];

  // the strategies' sleeves: the config's, else one per strategy seen, sharing the starting equity
  const names: string[] = [];
  for (const x of [...orders, ...fills]) if (!names.includes(x.strategy)) names.push(x.strategy);
  const startCash = typeof cfg.cash === 'number' ? cfg.cash : (first?.equity ?? 0);
  const sleeves: { name: string; cash: number }[] = Array.isArray(cfg.strategies)
    ? (cfg.strategies as { name?: unknown; cash?: unknown }[]).map((b) => ({ name: String(b.name), cash: Number(b.cash) || 0 }))
    : names.length > 0
      ? names.map((name) => ({ name, cash: startCash / names.length }))
      : [{ name: String(info.strategy ?? cfg.strategy ?? 'strategy'), cash: startCash }];
  for (const n of names) if (!sleeves.some((b) => b.name === n)) sleeves.push({ name: n, cash: 0 });
  const portfolio = new Portfolio(symbols, sleeves);
  const trades: Trade[] = [];
  for (const f of fills) portfolio.books.find((b) => b.name === f.strategy)!.apply(f, trades);
  for (const b of j.bars) portfolio.marks[sid(b.symbol)] = b.close;

  const now = Math.max(j.bars.length ? j.bars[j.bars.length - 1].ts : -Infinity, last?.ts ?? -Infinity);
  const nowTs = Number.isFinite(now) ? now : 0;
  const totalEquity = last?.equity ?? portfolio.equity();
  const cash = last?.cash ?? portfolio.cash;

  // the safety state journaled by the runner (its risk engine's): breaker, day start, peak
  const risk = (j.state as { risk?: { tripped?: { check: string; message: string } | null; dayStartEquity?: number; peak?: number } } | undefined)?.risk;
  let tripped: { check: string; message: string } | null = risk ? (risk.tripped ?? null) : null;
  if (!risk) {
    // no state journaled: the last risk event that tripped the breaker, unless a person reset it after
    const trip = [...j.riskEvents].reverse().find((e) => /circuit breaker tripped/i.test(e.message));
    const reset = trip && j.logs.some((l) => l.kind === 'control' && l.ts >= trip.ts && /circuit breaker reset/.test(l.message));
    if (trip && !reset) tripped = { check: trip.check, message: trip.message };
  }
  let peakEquity = Math.max(Number.isFinite(risk?.peak) ? risk!.peak! : -Infinity, totalEquity);
  for (const p of equity) if (p.equity > peakEquity) peakEquity = p.equity;
  const tz = typeof cfg.tz === 'string' ? cfg.tz : 'America/New_York';
  const dayOf = (ts: number) => Math.floor((ts + zoneOffset(tz, ts)) / DAY);
  const today = dayOf(nowTs);
  const beforeToday = [...equity].reverse().find((p) => dayOf(p.ts) < today);
  const firstToday = equity.find((p) => dayOf(p.ts) === today);
  const dayStartEquity = Number.isFinite(risk?.dayStartEquity) ? risk!.dayStartEquity! : (beforeToday?.equity ?? firstToday?.equity ?? totalEquity);

  const positions: OpsPosition[] = symbols.flatMap((symbol, s) => {
    const quantity = portfolio.position(s);
    if (quantity === 0) return [];
    const held = portfolio.books.filter((b) => b.qty[s] !== 0);
    const cost = held.reduce((x, b) => x + Math.abs(b.qty[s]) * b.avgCost[s], 0);
    const avgCost = cost / held.reduce((x, b) => x + Math.abs(b.qty[s]), 0);
    const lastPrice = portfolio.marks[s];
    const marketValue = quantity * lastPrice;
    return [
      {
        symbol,
        quantity,
        avgCost,
        lastPrice,
        marketValue,
        unrealizedPnl: quantity * (lastPrice - avgCost),
        sector: '',
        weight: totalEquity > 0 ? Math.abs(marketValue) / totalEquity : 0,
      },
    ];
  });
  const gross = positions.reduce((x, p) => x + Math.abs(p.marketValue), 0);
  const net = positions.reduce((x, p) => x + p.marketValue, 0);
  const sectors = new Map<string, number>();
  for (const p of positions) sectors.set(p.sector, (sectors.get(p.sector) ?? 0) + p.weight);

  const m = computeMetrics({ equity, exposure: equity.map((p) => p.gross), trades, fills });
  const strategyName = info.strategy ?? (typeof cfg.strategy === 'string' ? cfg.strategy : sleeves.map((b) => b.name).join('+'));
  const totalStart = sleeves.reduce((x, b) => x + b.cash, 0);
  const reconnects = j.logs.filter((l) => l.kind === 'connection' && /^reconnected/.test(l.message)).length;

  const snap: OpsSnapshot = {
    runId,
    mode: 'replay',
    strategy: strategyName,
    symbols: [...symbols],
    now: nowTs,
    account: null,
    equity: totalEquity,
    cash,
    dayStartEquity,
    dailyPnl: totalEquity - dayStartEquity,
    peakEquity,
    drawdown: peakEquity > 0 ? Math.min(0, totalEquity / peakEquity - 1) : 0,
    exposure: {
      gross: totalEquity > 0 ? gross / totalEquity : 0,
      net: totalEquity > 0 ? net / totalEquity : 0,
      sectors: [...sectors].map(([sector, weight]) => ({ sector, weight })),
    },
    positions,
    openOrders: orders.filter((o) => !FINAL.has(o.status)).map(opsOrder),
    fillsToday: fills.filter((f) => dayOf(f.ts) === today).map(opsFill),
    // min-max decimation (the report's): the first, the last, and each bucket's low and high
    equityCurve: minMaxIndices(
      equity.map((p) => p.equity),
      MAX_CURVE_POINTS,
    ).map((i) => ({ ts: equity[i].ts, equity: equity[i].equity })),
    performance: {
      totalReturn: m.totalReturn ?? 0,
      sharpe: m.sharpe,
      maxDrawdown: m.maxDrawdown,
      winRate: m.winRate,
      profitFactor: m.profitFactor,
      trades: m.tradeCount,
    },
    risk: {
      limits: [],
      breaker: { tripped: tripped !== null, check: tripped?.check ?? null, reason: tripped?.message ?? null },
    },
    connection: {
      connected: false,
      lastHeartbeatAt: null,
      reconnects,
      messagesPerSecond: 0,
      maxMessagesPerSecond: 0,
      reconciled: j.logs.some((l) => l.kind === 'reconcile' && /^reconciled/.test(l.message)),
    },
    latency: { barToOrder: { p50: null, p99: null, count: 0 } },
    errors: { total: 0, byCode: {} },
    strategies: portfolio.books.map((b) => ({
      name: b.name,
      pnl: b.equity(portfolio.marks) - b.startingCash,
      allocation: totalStart > 0 ? b.startingCash / totalStart : 0,
      paused: false,
    })),
    readiness: { ready: false, reasons: [REPLAY_REASON] },
  };

  const opsOrders = orders.map(opsOrder);
  const opsFills = fills.map(opsFill);
  const risks: OpsRiskEvent[] = j.riskEvents.map((e) => ({ ts: e.ts, orderId: e.orderId, check: e.check, value: e.value, limit: e.limit, message: e.message }));
  const logs: OpsLog[] = j.logs.map((l) => ({ ts: l.ts, kind: l.kind, message: l.message }));
  return {
    mode: 'replay',
    file,
    runId,
    runs,
    snapshot: () => structuredClone(snap),
    subscribe: () => () => undefined,
    orders: (offset, limit) => page(opsOrders, offset, limit),
    fills: (offset, limit) => page(opsFills, offset, limit),
    riskEvents: (offset, limit) => page(risks, offset, limit),
    logs: (offset, limit) => page(logs, offset, limit),
  };
}
