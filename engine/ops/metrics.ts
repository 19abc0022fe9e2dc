// The Prometheus metrics of a live session (GET /metrics): gauges read the session's snapshot when Prometheus
// scrapes (one snapshot per scrape, shared by every gauge), counters move with the session's events, and the two
// latency histograms are fed by the runner. Own registry (not prom-client's global one), so that two sessions or
// two tests never share a metric.
//
// Label values are only symbols, order statuses, risk check names and IB error codes, each checked against a
// narrow pattern: no account number, run id, free text or secret can reach the exposition.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OpsEvent, OpsSnapshot, OpsSource } from './types.ts';

export interface OpsMetrics {
  /** the metrics' own registry (not prom-client's global one) */
  registry: Registry;
  /** the exposition's content type, for the HTTP answer */
  contentType: string;
  /** the exposition text (Prometheus text format 0.0.4) */
  metrics(): Promise<string>;
  /** the time from a bar's arrival to the order it caused, milliseconds */
  observeBarToOrder(ms: number): void;
  /** the time a journal write took, milliseconds */
  observeJournalWrite(ms: number): void;
  /** stops listening to the source's events */
  close(): void;
}

export interface OpsMetricsOptions {
  /** the process metrics (CPU, memory, event loop lag, GC) as tradebench_process_* and tradebench_nodejs_*; default true */
  processMetrics?: boolean;
  /** the wall clock for the heartbeat's age (tests); default Date.now */
  now?: () => number;
}

export const METRIC_PREFIX = 'tradebench_';

/** The risk check a position mismatch at reconciliation is journaled with (engine/live/runner.ts). */
export const RECONCILE_MISMATCH_CHECK = 'reconcile.position';

/** 0.1 ms .. 1 s (and above): a bar-to-order path or a journal write, in seconds */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9. /-]{0,31}$/;
const STATUS = /^[A-Za-z_]{1,32}$/;
// check names are words with dots (maxPositionPct, circuitBreaker.dailyLossPct, reconcile.position): no digit, so
// no account number or token can pass for one
const CHECK = /^(?=.{1,64}$)[A-Za-z]+(?:\.[A-Za-z]+)*$/;
const CODE = /^-?\d{1,6}$/;

/** A label value that matches its pattern, else 'other' (never free text). */
const label = (v: unknown, pattern: RegExp): string =>
  typeof v === 'string' && pattern.test(v) ? v : typeof v === 'number' && pattern.test(String(v)) ? String(v) : 'other';

const finite = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);

export function createOpsMetrics(source: OpsSource, options: OpsMetricsOptions = {}): OpsMetrics {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  const p = METRIC_PREFIX;
  const registers = [registry];

  // One snapshot per scrape: prom-client runs every collect callback in one pass of registry.metrics(), so the
  // snapshot taken by the first is kept until the pass is over (the next macrotask).
  let cached: OpsSnapshot | null = null;
  const snapshot = (): OpsSnapshot => {
    if (!cached) {
      cached = source.snapshot();
      setImmediate(() => {
        cached = null;
      });
    }
    return cached;
  };

  /** a gauge without labels, its value read from the snapshot at scrape time */
  const gauge = (name: string, help: string, read: (s: OpsSnapshot) => number | boolean) =>
    new Gauge({
      name: p + name,
      help,
      registers,
      collect() {
        const v = read(snapshot());
        this.set(typeof v === 'boolean' ? (v ? 1 : 0) : finite(v));
      },
    });

  gauge('equity', 'Equity (net liquidation of the session), account currency', (s) => s.equity);
  gauge('cash', 'Cash, account currency', (s) => s.cash);
  gauge('day_start_equity', 'Equity at the start of the trading day, account currency', (s) => s.dayStartEquity);
  gauge('daily_pnl', "Today's P&L, account currency", (s) => s.dailyPnl);
  gauge('peak_equity', 'Highest equity of the session, account currency', (s) => s.peakEquity);
  gauge('drawdown', 'Drawdown from the peak equity, a fraction (<= 0)', (s) => s.drawdown);
  gauge('gross_exposure', 'Gross exposure (sum of |position value|), as the snapshot gives it', (s) => s.exposure.gross);
  gauge('net_exposure', 'Net exposure (sum of signed position value), as the snapshot gives it', (s) => s.exposure.net);
  gauge('breaker_tripped', 'The circuit breaker is tripped (1) or not (0)', (s) => s.risk.breaker.tripped);
  gauge('gateway_connected', 'Connected to the IB gateway (1) or not (0)', (s) => s.connection.connected);
  gauge('reconciled', 'Orders and positions reconciled with the broker (1) or not (0)', (s) => s.connection.reconciled);
  gauge('messages_per_second', 'Messages sent to the gateway in the last second', (s) => s.connection.messagesPerSecond);
  gauge('max_messages_per_second', 'The pacing limit on messages per second', (s) => s.connection.maxMessagesPerSecond);
  gauge('ready', 'Ready to trade (1) or not (0): connected, reconciled, breaker not tripped', (s) => s.readiness.ready);

  new Gauge({
    name: `${p}heartbeat_age_seconds`,
    help: "Seconds since the gateway's last answer (absent before the first)",
    registers,
    collect() {
      this.reset();
      const s = snapshot();
      const at = s.connection.lastHeartbeatAt;
      if (at === null || !Number.isFinite(at)) return;
      // a replayed journal has no wall clock: its age is against the session's clock
      const t = s.mode === 'live' ? now() : s.now;
      this.set(Math.max(0, (t - at) / 1000));
    },
  });

  new Gauge({
    name: `${p}position`,
    help: 'Position in shares (negative is short)',
    labelNames: ['symbol'],
    registers,
    collect() {
      this.reset();
      for (const pos of snapshot().positions) this.set({ symbol: label(pos.symbol, SYMBOL) }, finite(pos.quantity));
    },
  });
  new Gauge({
    name: `${p}position_value`,
    help: 'Market value of the position at the last close, account currency (negative is short)',
    labelNames: ['symbol'],
    registers,
    collect() {
      this.reset();
      for (const pos of snapshot().positions) this.set({ symbol: label(pos.symbol, SYMBOL) }, finite(pos.marketValue));
    },
  });
  new Gauge({
    name: `${p}orders`,
    help: 'Open orders by status',
    labelNames: ['status'],
    registers,
    collect() {
      this.reset();
      for (const o of snapshot().openOrders) this.inc({ status: label(o.status, STATUS) });
    },
  });

  // session totals the snapshot keeps (they start again at 0 with a new process, as Prometheus expects)
  new Counter({
    name: `${p}reconnects_total`,
    help: 'Reconnections to the IB gateway in the session',
    registers,
    collect() {
      this.reset();
      this.inc(Math.max(0, finite(snapshot().connection.reconnects) || 0));
    },
  });
  new Counter({
    name: `${p}errors_total`,
    help: 'Errors from the IB gateway in the session, by IB error code',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(snapshot().errors.byCode)) {
        if (Number.isFinite(n) && n > 0) this.inc({ code: label(code, CODE) }, n);
      }
    },
  });

  // counters moved by the session's events
  const ordersSubmitted = new Counter({
    name: `${p}orders_submitted_total`,
    help: 'Orders submitted by the strategies (each order once, whatever becomes of it)',
    registers,
  });
  const ordersRejected = new Counter({
    name: `${p}orders_rejected_total`,
    help: 'Orders rejected, by the pre-trade checks or by the broker (each order once)',
    registers,
  });
  const fills = new Counter({ name: `${p}fills_total`, help: 'Fills (executions)', registers });
  const rejects = new Counter({
    name: `${p}rejects_total`,
    help: 'Orders refused by a pre-trade risk check, by check',
    labelNames: ['check'],
    registers,
  });
  const riskEvents = new Counter({
    name: `${p}risk_events_total`,
    help: 'Risk events (rejections, breaker trips and resets, reconciliation findings), by check',
    labelNames: ['check'],
    registers,
  });
  const mismatches = new Counter({
    name: `${p}reconciliation_mismatches_total`,
    help: `Positions that differ between the broker and the journal at a reconciliation (risk check ${RECONCILE_MISMATCH_CHECK})`,
    registers,
  });

  const barToOrder = new Histogram({
    name: `${p}bar_to_order_latency_seconds`,
    help: "Time from a bar's arrival to the order it caused",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const journalWrite = new Histogram({
    name: `${p}journal_write_latency_seconds`,
    help: 'Time a journal write took',
    buckets: LATENCY_BUCKETS,
    registers,
  });

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });

  const seenOrders = new Set<number>();
  const rejectedOrders = new Set<number>();
  const onEvent = (e: Omit<OpsEvent, 'seq'>): void => {
    const d = (e.data ?? {}) as Record<string, unknown>;
    switch (e.type) {
      case 'order': {
        // an order (OpsOrder: id, status) or one of its transitions (the journal's: orderId, to)
        const id = typeof d.id === 'number' ? d.id : typeof d.orderId === 'number' ? d.orderId : null;
        if (id === null) return;
        if (!seenOrders.has(id)) {
          seenOrders.add(id);
          ordersSubmitted.inc();
        }
        const status = typeof d.status === 'string' ? d.status : typeof d.to === 'string' ? d.to : '';
        if (status === 'REJECTED' && !rejectedOrders.has(id)) {
          rejectedOrders.add(id);
          ordersRejected.inc();
        }
        return;
      }
      case 'fill':
        fills.inc();
        return;
      case 'risk': {
        const check = label(d.check, CHECK);
        riskEvents.inc({ check });
        if (typeof d.orderId === 'number' && d.orderId > 0) rejects.inc({ check });
        if (d.check === RECONCILE_MISMATCH_CHECK) mismatches.inc();
        return;
      }
      default:
        return;
    }
  };
  const unsubscribe = source.subscribe(onEvent);

  return {
    registry,
    contentType: registry.contentType,
    metrics: async () => {
      cached = null;
      try {
        return await registry.metrics();
      } finally {
        cached = null;
      }
    },
    observeBarToOrder: (ms) => {
      if (Number.isFinite(ms) && ms >= 0) barToOrder.observe(ms / 1000);
    },
    observeJournalWrite: (ms) => {
      if (Number.isFinite(ms) && ms >= 0) journalWrite.observe(ms / 1000);
    },
    close: unsubscribe,
  };
}
