// The live session as the operations API sees it: a snapshot of a running LiveRunner (engine, journal, risk
// engine, connection), its events as they are committed, pages of its long lists, and the control actions an
// operator may ask for. Everything here reads the runner's own state; control goes through the runner, which
// journals each action with its source before anything is sent.
import type { Fill, Order, RiskEvent } from '../core/types.ts';
import type { LogLine } from '../journal/journal.ts';
import type { JournalEntry } from '../journal/live-journal.ts';
import type { LiveRunner, RunnerEvent } from '../live/runner.ts';
import { computeMetrics } from '../metrics/metrics.ts';
import { MAX_CURVE_POINTS, minMaxIndices } from '../report/decimate.ts';
import type {
  ControlSource,
  OpsControl,
  OpsEvent,
  OpsFill,
  OpsLimit,
  OpsLog,
  OpsOrder,
  OpsPage,
  OpsPosition,
  OpsRiskEvent,
  OpsSnapshot,
  OpsSource,
  OpsStrategy,
} from './types.ts';

type Listener = (e: Omit<OpsEvent, 'seq'>) => void;

/** The points kept of the per-bar equity curve before it is thinned (to half, by min/max decimation). */
const CURVE_KEEP = 100_000;

/** A control action's source in words, as the journal says it: `http (127.0.0.1)`, `signal`. */
export const describeSource = (s: ControlSource): string => (s.remote ? `${s.via} (${s.remote})` : s.via);

/**
 * The operations source over a running `LiveRunner`. Build it before `runner.start()` so it hears every
 * commit (it keeps a per-bar equity curve from then on, seeded with the journal's).
 *
 * Event data (the `data` of each `OpsEvent`):
 * - `bar`: `{ symbol, ts, open, high, low, close, volume }`
 * - `order`: `{ order: OpsOrder, from, to, reason }` (an order event), or `{ order, from: '', to: status, reason: 'modified' }`
 * - `fill`: `OpsFill`; `position`: `OpsPosition` (after fills, one per symbol they touched, and after bars, one per held symbol)
 * - `equity`: `{ equity, cash, dailyPnl, drawdown, gross }` (once per commit with bars)
 * - `risk`: `OpsRiskEvent`; `log`: `OpsLog`; `control`: `OpsLog` (the journal's control lines)
 * - `connection`: `{ state: 'connected' | 'disconnected' | 'lost' | 'restored' | 'dataLost', message, connected, reconnects }`
 */
export class LiveOpsSource implements OpsSource {
  readonly control: OpsControl;
  private readonly listeners = new Set<Listener>();
  private curveTs: number[] = [];
  private curveEq: number[] = [];
  private readonly unobserve: () => void;
  /** the events of a runner notification are being told: snapshot() is computed once for all of them */
  private telling = false;
  private batchSnapshot: OpsSnapshot | undefined;
  private readonly batchOrders = new Map<string, OpsPage<OpsOrder>>();

  constructor(private readonly runner: LiveRunner) {
    for (const p of runner.journal.equityCurve) this.addPoint(p.ts, p.equity);
    this.unobserve = runner.observe((e) => this.onRunner(e));
    // a control action changes the state: a snapshot cached for the batch being told is stale after it
    const acting = <T>(f: () => T): T => {
      this.forgetBatch();
      return f();
    };
    this.control = {
      kill: (o, source) => acting(() => runner.kill(o.reason ?? 'kill switch', { flatten: o.flatten, source: describeSource(source) })),
      resetBreaker: async (source) => acting(() => runner.resetBreaker(describeSource(source))),
      pause: (strategy, source) => acting(() => runner.pauseStrategy(strategy, describeSource(source))),
      resume: (strategy, source) => acting(() => runner.resumeStrategy(strategy, describeSource(source))),
      cancel: (orderId, source) => acting(() => runner.cancelOrder(orderId, describeSource(source))),
    };
  }

  /** Stops listening to the runner (the source's events end). */
  close(): void {
    this.unobserve();
    this.listeners.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- snapshot ---------------------------------------------------------------------------------

  /**
   * The state now. While the events of one runner notification are being told, the runner's state cannot change
   * (they are told synchronously), so their listeners share one snapshot (and one page of orders): a commit of a
   * 50-symbol session makes about 400 events, and the alerts read both on each: with the alerts on, a 200-bar
   * 50-symbol lockstep session took 38.6 s instead of 3.9 s, and takes 5.8 s with both shared.
   */
  snapshot(): OpsSnapshot {
    if (this.telling) return (this.batchSnapshot ??= this.build());
    return this.build();
  }

  private build(): OpsSnapshot {
    const r = this.runner;
    const { engine, config, kernel } = r;
    const risk = kernel.risk;
    const safety = risk.safetyState();
    const marks = engine.portfolio.marks;
    const equity = engine.portfolio.equity();
    const cash = engine.portfolio.cash;
    const now = r.now();
    const positions = this.positions(equity);
    const gross = engine.portfolio.grossExposure();
    const net = positions.reduce((s, p) => s + p.marketValue, 0);
    const sectorGross = new Map<string, number>();
    for (const p of positions) if (p.sector) sectorGross.set(p.sector, (sectorGross.get(p.sector) ?? 0) + Math.abs(p.marketValue));
    const dayStartEquity = Number.isFinite(safety.dayStartEquity) ? safety.dayStartEquity : equity;
    const peakEquity = Math.max(Number.isFinite(safety.peak) ? safety.peak : equity, equity);
    const tripped = risk.tripped;
    const connected = r.conn.ready;
    const reasons: string[] = [];
    if (!connected) reasons.push('gateway disconnected');
    if (!r.reconciled) reasons.push('not reconciled with the broker');
    if (tripped) reasons.push(tripped.message);
    if (r.failureReason) reasons.push(`trading stopped: ${r.failureReason}`);
    const today = kernel.dayOf(now);
    const a = r.account;
    return {
      runId: r.runId,
      mode: 'live',
      strategy: config.strategy,
      symbols: [...config.symbols],
      now,
      account: a ? { netLiquidation: a.netLiquidation, cash: a.totalCashValue, availableFunds: a.availableFunds, dailyPnl: r.broker.dailyPnl } : null,
      equity,
      cash,
      dayStartEquity,
      dailyPnl: equity - dayStartEquity,
      peakEquity,
      drawdown: peakEquity > 0 ? Math.min(equity / peakEquity - 1, 0) : 0,
      exposure: {
        gross: ratio(gross, equity),
        net: ratio(net, equity),
        sectors: [...sectorGross].map(([sector, g]) => ({ sector, weight: ratio(g, equity) })).sort((x, y) => y.weight - x.weight),
      },
      positions,
      openOrders: engine.openOrders().map(opsOrder),
      fillsToday: r.journal.fills.filter((f) => kernel.dayOf(f.ts) === today).map(opsFill),
      equityCurve: this.curve(now, equity),
      performance: this.performance(now, equity),
      risk: {
        limits: this.limits(equity, gross, dayStartEquity, peakEquity, safety.ordersToday, safety.recent, now, marks),
        breaker: { tripped: tripped !== null, check: tripped?.check ?? null, reason: tripped?.message ?? null },
      },
      connection: {
        connected,
        lastHeartbeatAt: r.conn.lastInboundAt,
        reconnects: r.conn.reconnects,
        messagesPerSecond: r.conn.messagesLastSecond(),
        maxMessagesPerSecond: r.conn.maxReqPerSec,
        reconciled: r.reconciled,
      },
      latency: { barToOrder: { ...percentiles(r.barToOrderMs), count: r.barToOrderCount } },
      errors: {
        total: [...r.conn.errorsByCode.values()].reduce((s, n) => s + n, 0),
        byCode: Object.fromEntries([...r.conn.errorsByCode].map(([code, n]) => [String(code), n])),
      },
      strategies: this.strategies(),
      readiness: { ready: reasons.length === 0, reasons },
    };
  }

  private positions(equity: number): OpsPosition[] {
    const { engine } = this.runner;
    const sectors = this.runner.sectors;
    const marks = engine.portfolio.marks;
    const out: OpsPosition[] = [];
    engine.portfolio.symbols.forEach((symbol, sid) => {
      const quantity = engine.portfolio.position(sid);
      if (quantity === 0) return;
      let cost = 0;
      let unrealizedPnl = 0;
      for (const b of engine.portfolio.books) {
        cost += b.qty[sid] * b.avgCost[sid];
        unrealizedPnl += b.qty[sid] * (marks[sid] - b.avgCost[sid]);
      }
      const marketValue = quantity * marks[sid];
      out.push({
        symbol,
        quantity,
        avgCost: cost / quantity,
        lastPrice: marks[sid],
        marketValue,
        unrealizedPnl,
        sector: sectors[sid] ?? '',
        weight: ratio(Math.abs(marketValue), equity),
      });
    });
    return out;
  }

  /** The pre-trade limits the run has set, each with what it sees now (percent limits as fractions). */
  private limits(
    equity: number,
    gross: number,
    dayStart: number,
    peak: number,
    ordersToday: number,
    recent: readonly number[],
    now: number,
    marks: Float64Array,
  ): OpsLimit[] {
    const L = this.runner.config.risk.limits;
    const out: OpsLimit[] = [];
    const add = (name: string, value: number, limit: number | undefined, scale = 1) => {
      if (limit === undefined) return;
      const lim = limit * scale;
      out.push({ name, value, limit: lim, utilisation: lim > 0 ? value / lim : 0 });
    };
    add('maxLeverage', ratio(gross, equity), L.maxLeverage);
    const loss = Math.max(dayStart - equity, 0);
    add('maxDailyLossPct', ratio(loss, dayStart), L.maxDailyLossPct, 0.01);
    add('maxDailyLossAbs', loss, L.maxDailyLossAbs);
    add('maxDrawdownPct', peak > 0 ? Math.max(1 - equity / peak, 0) : 0, L.maxDrawdownPct, 0.01);
    add('maxOrdersPerDay', ordersToday, L.maxOrdersPerDay);
    add('maxOrdersPerMinute', recent.filter((t) => t > now - 60_000).length, L.maxOrdersPerMinute);
    const { portfolio } = this.runner.engine;
    let largest = 0;
    const bySector = new Map<string, number>();
    const sectors = this.runner.sectors;
    for (let s = 0; s < portfolio.symbols.length; s++) {
      const v = Math.abs(portfolio.position(s) * marks[s]);
      if (!(v > 0)) continue;
      largest = Math.max(largest, v);
      if (sectors[s]) bySector.set(sectors[s], (bySector.get(sectors[s]) ?? 0) + v);
    }
    add('maxPositionPct', ratio(largest, equity), L.maxPositionPct, 0.01);
    add('maxSectorPct', ratio(Math.max(0, ...bySector.values()), equity), L.maxSectorPct, 0.01);
    return out;
  }

  private strategies(): OpsStrategy[] {
    const { engine, config } = this.runner;
    const marks = engine.portfolio.marks;
    // a run on a model (one per run) has its latest probability per symbol on the engine's signal board
    const probs = Object.fromEntries(config.symbols.map((sym, sid) => [sym, engine.signals.get(sid)]).filter(([, p]) => Number.isFinite(p)));
    const signals = Object.keys(probs).length > 0 ? { signals: probs as Record<string, number> } : {};
    return engine.portfolio.books.map((b) => ({
      name: b.name,
      pnl: b.equity(marks) - b.startingCash,
      allocation: ratio(b.startingCash, config.cash),
      paused: engine.isPaused(b.name),
      ...signals,
    }));
  }

  private curve(now: number, equity: number): { ts: number; equity: number }[] {
    const ts = [...this.curveTs];
    const eq = [...this.curveEq];
    if (Number.isFinite(equity) && Number.isFinite(now) && (ts.length === 0 || now > ts[ts.length - 1])) {
      ts.push(now);
      eq.push(equity);
    }
    return minMaxIndices(eq, MAX_CURVE_POINTS).map((i) => ({ ts: ts[i], equity: eq[i] }));
  }

  private performance(now: number, equity: number): OpsSnapshot['performance'] {
    const { engine, journal, config } = this.runner;
    const daily = [...journal.equityCurve.map((p) => ({ ts: p.ts, equity: p.equity, cash: p.cash }))];
    if (Number.isFinite(equity) && (daily.length === 0 || now > daily[daily.length - 1].ts)) daily.push({ ts: now, equity, cash: engine.portfolio.cash });
    const m = computeMetrics({ equity: daily, trades: engine.trades, fills: journal.fills });
    // the drawdown on the per-bar curve (the daily curve misses the intraday lows)
    let peak = -Infinity;
    let maxDrawdown = 0;
    for (const e of [...this.curveEq, equity]) {
      if (!Number.isFinite(e)) continue;
      peak = Math.max(peak, e);
      if (peak > 0) maxDrawdown = Math.min(maxDrawdown, e / peak - 1);
    }
    return {
      totalReturn: config.cash > 0 ? equity / config.cash - 1 : 0,
      sharpe: m.sharpe,
      maxDrawdown: Math.min(maxDrawdown, m.maxDrawdown),
      winRate: m.winRate,
      profitFactor: m.profitFactor,
      trades: engine.trades.length,
    };
  }

  private addPoint(ts: number, equity: number): void {
    if (!Number.isFinite(ts) || !Number.isFinite(equity)) return;
    const n = this.curveTs.length;
    if (n > 0 && ts <= this.curveTs[n - 1]) {
      if (ts === this.curveTs[n - 1]) this.curveEq[n - 1] = equity;
      return;
    }
    this.curveTs.push(ts);
    this.curveEq.push(equity);
    if (this.curveTs.length > CURVE_KEEP) {
      const keep = minMaxIndices(this.curveEq, CURVE_KEEP / 2);
      this.curveTs = keep.map((i) => this.curveTs[i]);
      this.curveEq = keep.map((i) => this.curveEq[i]);
    }
  }

  // ---- pages -----------------------------------------------------------------------------------

  orders(offset: number, limit: number): OpsPage<OpsOrder> {
    if (!this.telling) return page(this.runner.engine.orders, offset, limit, opsOrder);
    // while a notification is told, the orders are frozen too: its events' listeners (the alerts' error rate) share pages
    const key = `${offset}:${limit}`;
    let p = this.batchOrders.get(key);
    if (!p) this.batchOrders.set(key, (p = page(this.runner.engine.orders, offset, limit, opsOrder)));
    return p;
  }
  fills(offset: number, limit: number): OpsPage<OpsFill> {
    return page(this.runner.journal.fills, offset, limit, opsFill);
  }
  riskEvents(offset: number, limit: number): OpsPage<OpsRiskEvent> {
    return page(this.runner.journal.riskEvents, offset, limit, opsRisk);
  }
  logs(offset: number, limit: number): OpsPage<OpsLog> {
    return page(this.runner.journal.logs, offset, limit, opsLog);
  }

  // ---- events ----------------------------------------------------------------------------------

  /** An event from beside the runner (an alert) to every listener, as the runner's own are. */
  publish(e: Omit<OpsEvent, 'seq'>): void {
    this.emit(e.type, e.ts, e.data);
  }

  private emit(type: OpsEvent['type'], ts: number, data: unknown): void {
    for (const f of this.listeners) {
      try {
        f({ type, ts, data });
      } catch {
        // a listener's failure (a closed socket) must not stop the others nor the session
      }
    }
  }

  private onRunner(e: RunnerEvent): void {
    const outer = this.telling;
    this.telling = true;
    this.forgetBatch();
    try {
      this.tell(e);
    } finally {
      this.telling = outer;
      this.forgetBatch();
    }
  }

  private forgetBatch(): void {
    this.batchSnapshot = undefined;
    this.batchOrders.clear();
  }

  private tell(e: RunnerEvent): void {
    const r = this.runner;
    if (e.kind === 'connection') {
      this.emit('connection', r.now(), { state: e.state, message: e.message, connected: r.conn.ready, reconnects: r.conn.reconnects });
      return;
    }
    const created = new Set<number>();
    for (const x of e.entries) if (x.t === 'orderEvent' && x.e.to === 'NEW') created.add(x.e.orderId);
    let bars = false;
    const touched = new Set<number>();
    for (const x of e.entries) this.entryEvent(x, created, touched, () => (bars = true));
    // new bars move the marks of every held position, not only of those a fill touched
    if (bars) for (let sid = 0; sid < r.config.symbols.length; sid++) if (r.engine.portfolio.position(sid) !== 0) touched.add(sid);
    if (touched.size > 0) {
      const equity = r.engine.portfolio.equity();
      const all = this.positions(equity);
      for (const sid of touched) {
        const symbol = r.config.symbols[sid];
        const p = all.find((q) => q.symbol === symbol) ?? flat(symbol, r.engine.portfolio.marks[sid], r.sectors[sid] ?? '');
        this.emit('position', r.now(), p);
      }
    }
    if (bars) {
      const now = r.now();
      const equity = r.engine.portfolio.equity();
      this.addPoint(now, equity);
      const safety = r.kernel.risk.safetyState();
      const dayStart = Number.isFinite(safety.dayStartEquity) ? safety.dayStartEquity : equity;
      const peak = Math.max(Number.isFinite(safety.peak) ? safety.peak : equity, equity);
      this.emit('equity', now, {
        equity,
        cash: r.engine.portfolio.cash,
        dailyPnl: equity - dayStart,
        drawdown: peak > 0 ? Math.min(equity / peak - 1, 0) : 0,
        gross: r.engine.portfolio.grossExposure(),
      });
    }
  }

  private entryEvent(x: JournalEntry, created: Set<number>, touched: Set<number>, sawBar: () => void): void {
    const orders = this.runner.engine.orders;
    switch (x.t) {
      case 'bar': {
        sawBar();
        const b = x.b;
        this.emit('bar', b.ts, { symbol: b.symbol, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });
        return;
      }
      case 'order':
        // a new order is told by its NEW event; this is a modification
        if (!created.has(x.order.id)) this.emit('order', x.order.submittedAt, { order: opsOrder(x.order), from: '', to: x.order.status, reason: 'modified' });
        return;
      case 'orderEvent': {
        const order = orders[x.e.orderId - 1];
        if (order) this.emit('order', x.e.ts, { order: opsOrder(order), from: x.e.from, to: x.e.to, reason: x.e.reason });
        return;
      }
      case 'fill':
        touched.add(x.f.sid);
        this.emit('fill', x.f.ts, opsFill(x.f));
        return;
      case 'risk':
        this.emit('risk', x.e.ts, opsRisk(x.e));
        return;
      case 'log':
        this.emit(x.kind === 'control' ? 'control' : 'log', x.ts, { ts: x.ts, kind: x.kind, message: x.message });
        return;
      default:
        return; // equity samples (daily) and safety state: the equity event above and the snapshot say it
    }
  }
}

const ratio = (x: number, of: number) => (of !== 0 && Number.isFinite(of) ? x / of : 0);

const num = (x: number) => (Number.isFinite(x) ? x : null);

export function opsOrder(o: Order): OpsOrder {
  return {
    id: o.id,
    strategy: o.strategy,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.qty.kind === 'shares' ? o.qty.shares : NaN,
    limit: num(o.limit),
    stop: num(o.stop),
    status: o.status,
    submittedAt: o.submittedAt,
    filledQty: o.filledQty,
    avgFillPrice: o.filledQty > 0 ? num(o.avgFillPrice) : null,
  };
}

export const opsFill = (f: Fill): OpsFill => ({
  orderId: f.orderId,
  execId: f.execId,
  strategy: f.strategy,
  symbol: f.symbol,
  ts: f.ts,
  quantity: f.qty,
  price: f.price,
  commission: f.commission,
});

const opsRisk = (e: RiskEvent): OpsRiskEvent => ({ ts: e.ts, orderId: e.orderId, check: e.check, value: e.value, limit: e.limit, message: e.message });
const opsLog = (l: LogLine): OpsLog => ({ ts: l.ts, kind: l.kind, message: l.message });

const flat = (symbol: string, lastPrice: number, sector: string): OpsPosition => ({
  symbol,
  quantity: 0,
  avgCost: 0,
  lastPrice,
  marketValue: 0,
  unrealizedPnl: 0,
  sector,
  weight: 0,
});

function page<T, U>(xs: readonly T[], offset: number, limit: number, f: (x: T) => U): OpsPage<U> {
  const from = Math.max(0, Math.floor(Number.isFinite(offset) ? offset : 0));
  const n = Math.max(0, Math.floor(Number.isFinite(limit) ? limit : 0));
  return { total: xs.length, offset: from, items: xs.slice(from, from + n).map(f) };
}

/** p50 and p99 of a sample (nearest rank), null when empty. */
export function percentiles(xs: readonly number[]): { p50: number | null; p99: number | null } {
  if (xs.length === 0) return { p50: null, p99: null };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { p50: at(0.5), p99: at(0.99) };
}
