// The Prometheus metrics of a live session (engine/ops/metrics.ts) on an in-memory OpsSource: the exposition's
// values against the snapshot's, counters against the events, the histograms, no secret in a label. Then a real
// Prometheus (Debian's `prometheus` package) scrapes them from a loopback HTTP server with ops/prometheus.yml and
// evaluates ops/alerts.yml; promtool checks both files and unit-tests the alert rules.
// The Prometheus part is skipped (with a message) when prometheus/promtool are absent, unless CI=true, where it fails.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createOpsMetrics, LATENCY_BUCKETS, type OpsMetrics } from '../../engine/ops/metrics.ts';
import type { OpsEvent, OpsPage, OpsSnapshot, OpsSource } from '../../engine/ops/types.ts';
import { ROOT } from '../cli/run-cli.ts';

const ACCOUNT = 'DU7654321';
const TOKEN = 'sk_live_9fQz7XkT2bWc4RmN8pLs';

/** A session's state, with an account number and a token-like string where a careless exporter might put them. */
function fixture(): OpsSnapshot {
  const now = Date.UTC(2024, 5, 3, 15, 30);
  return {
    runId: `${ACCOUNT}-20240603-sma`,
    mode: 'live',
    strategy: `sma-cross ${TOKEN}`,
    symbols: ['AAPL', 'MSFT', 'BRK B'],
    now,
    account: { netLiquidation: 101_250.5, cash: 40_000, availableFunds: 39_000, dailyPnl: -2_500 },
    equity: 101_250.5,
    cash: 40_000.25,
    dayStartEquity: 103_750.5,
    dailyPnl: -2_500,
    peakEquity: 105_000,
    drawdown: 101_250.5 / 105_000 - 1,
    exposure: { gross: 0.62, net: 0.41, sectors: [{ sector: 'Technology', weight: 0.5 }] },
    positions: [
      { symbol: 'AAPL', quantity: 100, avgCost: 180, lastPrice: 190, marketValue: 19_000, unrealizedPnl: 1_000, sector: 'Technology', weight: 0.19 },
      { symbol: 'MSFT', quantity: -10, avgCost: 410, lastPrice: 400, marketValue: -4_000, unrealizedPnl: 100, sector: 'Technology', weight: 0.04 },
      { symbol: 'BRK B', quantity: 5, avgCost: 400, lastPrice: 410, marketValue: 2_050, unrealizedPnl: 50, sector: 'Financials', weight: 0.02 },
    ],
    openOrders: [
      order(7, 'SUBMITTED'),
      order(8, 'SUBMITTED'),
      order(9, 'PARTIALLY_FILLED'),
      // a status that is not one: never a label value
      order(10, `pending ${TOKEN}`),
    ],
    fillsToday: [],
    equityCurve: [{ ts: now, equity: 101_250.5 }],
    performance: { totalReturn: 0.0125, sharpe: 1.1, maxDrawdown: -0.04, winRate: 0.5, profitFactor: 1.3, trades: 12 },
    risk: {
      limits: [{ name: 'maxPositionPct', value: 0.19, limit: 0.05, utilisation: 3.8 }],
      breaker: { tripped: true, check: 'dailyLossPct', reason: `daily loss 2.4% (account ${ACCOUNT}, token ${TOKEN})` },
    },
    connection: { connected: false, lastHeartbeatAt: now - 12_500, reconnects: 3, messagesPerSecond: 7, maxMessagesPerSecond: 50, reconciled: true },
    latency: { barToOrder: { p50: 1.2, p99: 4.5, count: 40 } },
    errors: { total: 6, byCode: { '1100': 2, '201': 3, [TOKEN]: 1 } },
    strategies: [{ name: `sma ${ACCOUNT}`, pnl: 1_250.5, allocation: 1, paused: false }],
    readiness: { ready: false, reasons: ['gateway disconnected', `breaker tripped (${ACCOUNT})`] },
  };
}

function order(id: number, status: string) {
  return {
    id,
    strategy: 'sma',
    symbol: 'AAPL',
    side: 'BUY' as const,
    type: 'LMT',
    quantity: 10,
    limit: 189,
    stop: null,
    status,
    submittedAt: 0,
    filledQty: 0,
    avgFillPrice: null,
  };
}

const empty = <T>(offset: number): OpsPage<T> => ({ total: 0, offset, items: [] });

/** A session in memory: a preset snapshot, and emit() to push events to the subscribers. */
class MemorySource implements OpsSource {
  snapshots = 0;
  private listeners = new Set<(e: Omit<OpsEvent, 'seq'>) => void>();
  constructor(public state: OpsSnapshot) {}
  snapshot(): OpsSnapshot {
    this.snapshots++;
    return this.state;
  }
  subscribe(listener: (e: Omit<OpsEvent, 'seq'>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get subscribers(): number {
    return this.listeners.size;
  }
  emit(type: OpsEvent['type'], data: unknown): void {
    for (const l of this.listeners) l({ type, ts: this.state.now, data });
  }
  orders = empty;
  fills = empty;
  riskEvents = empty;
  logs = empty;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (format 0.0.4). */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    expect(m, `not an exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    const v = m![3];
    out.push({ name: m![1], labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined if none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(hits.length, `${name}${JSON.stringify(labels)}: ${hits.length} samples`).toBeLessThanOrEqual(1);
  return hits[0]?.value;
}

const scrape = async (m: OpsMetrics) => {
  const text = await m.metrics();
  return { text, samples: parseExposition(text) };
};

describe('createOpsMetrics', () => {
  const clock = () => fixture().now + 20_000;

  it('gives the snapshot values as gauges, read once per scrape', async () => {
    const src = new MemorySource(fixture());
    const m = createOpsMetrics(src, { now: clock });
    const s = fixture();
    const { samples } = await scrape(m);
    expect(src.snapshots).toBe(1);
    expect(value(samples, 'tradebench_equity')).toBe(s.equity);
    expect(value(samples, 'tradebench_cash')).toBe(s.cash);
    expect(value(samples, 'tradebench_day_start_equity')).toBe(s.dayStartEquity);
    expect(value(samples, 'tradebench_daily_pnl')).toBe(s.dailyPnl);
    expect(value(samples, 'tradebench_peak_equity')).toBe(s.peakEquity);
    expect(value(samples, 'tradebench_drawdown')).toBeCloseTo(s.drawdown, 12);
    expect(value(samples, 'tradebench_gross_exposure')).toBe(0.62);
    expect(value(samples, 'tradebench_net_exposure')).toBe(0.41);
    expect(value(samples, 'tradebench_position', { symbol: 'AAPL' })).toBe(100);
    expect(value(samples, 'tradebench_position', { symbol: 'MSFT' })).toBe(-10);
    expect(value(samples, 'tradebench_position', { symbol: 'BRK B' })).toBe(5);
    expect(value(samples, 'tradebench_position_value', { symbol: 'AAPL' })).toBe(19_000);
    expect(value(samples, 'tradebench_position_value', { symbol: 'MSFT' })).toBe(-4_000);
    expect(value(samples, 'tradebench_orders', { status: 'SUBMITTED' })).toBe(2);
    expect(value(samples, 'tradebench_orders', { status: 'PARTIALLY_FILLED' })).toBe(1);
    expect(value(samples, 'tradebench_orders', { status: 'other' })).toBe(1);
    expect(value(samples, 'tradebench_breaker_tripped')).toBe(1);
    expect(value(samples, 'tradebench_gateway_connected')).toBe(0);
    expect(value(samples, 'tradebench_reconciled')).toBe(1);
    expect(value(samples, 'tradebench_ready')).toBe(0);
    expect(value(samples, 'tradebench_reconnects_total')).toBe(3);
    expect(value(samples, 'tradebench_heartbeat_age_seconds')).toBeCloseTo(32.5, 9);
    expect(value(samples, 'tradebench_messages_per_second')).toBe(7);
    expect(value(samples, 'tradebench_max_messages_per_second')).toBe(50);
    expect(value(samples, 'tradebench_errors_total', { code: '1100' })).toBe(2);
    expect(value(samples, 'tradebench_errors_total', { code: '201' })).toBe(3);
    expect(value(samples, 'tradebench_errors_total', { code: 'other' })).toBe(1);
    // the process metrics, under the prefix
    expect(value(samples, 'tradebench_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    // a later scrape reads the state then: a closed position and an order gone leave no series behind
    src.state = { ...fixture(), positions: fixture().positions.slice(0, 1), openOrders: [], connection: { ...fixture().connection, connected: true } };
    const later = (await scrape(m)).samples;
    expect(src.snapshots).toBe(2);
    expect(value(later, 'tradebench_position', { symbol: 'MSFT' })).toBeUndefined();
    expect(later.filter((x) => x.name === 'tradebench_orders')).toEqual([]);
    expect(value(later, 'tradebench_gateway_connected')).toBe(1);
    m.close();
  });

  it('moves the counters with the events, and stops listening on close()', async () => {
    const src = new MemorySource(fixture());
    const m = createOpsMetrics(src, { processMetrics: false });
    let samples = (await scrape(m)).samples;
    expect(value(samples, 'tradebench_fills_total')).toBe(0);
    expect(value(samples, 'tradebench_orders_submitted_total')).toBe(0);
    expect(value(samples, 'tradebench_reconciliation_mismatches_total')).toBe(0);
    expect(value(samples, 'tradebench_process_cpu_user_seconds_total')).toBeUndefined();

    // orders in either shape the session may send: an order (id, status) or a transition (orderId, to)
    src.emit('order', order(1, 'SUBMITTED'));
    src.emit('order', order(1, 'PARTIALLY_FILLED'));
    src.emit('order', { orderId: 2, from: '', to: 'NEW', reason: '' });
    src.emit('order', { orderId: 2, from: 'RISK_CHECK', to: 'REJECTED', reason: 'maxPositionPct' });
    src.emit('order', { orderId: 2, from: 'RISK_CHECK', to: 'REJECTED', reason: 'again' });
    src.emit('order', order(3, 'REJECTED'));
    const fill = { orderId: 1, execId: 'e1', strategy: 'sma', symbol: 'AAPL', ts: 0, quantity: 5, price: 190, commission: 1 };
    src.emit('fill', fill);
    src.emit('fill', { ...fill, execId: 'e2' });
    const risk = (orderId: number, check: string) => ({ ts: 0, orderId, check, value: 1, limit: 0, message: `${check} (${ACCOUNT})` });
    src.emit('risk', risk(2, 'maxPositionPct'));
    src.emit('risk', risk(3, 'maxPositionPct'));
    src.emit('risk', risk(4, 'maxOrderValue'));
    src.emit('risk', risk(0, 'circuitBreaker.dailyLossPct')); // a breaker trip: not an order's rejection
    src.emit('risk', risk(0, 'reconcile.position'));
    src.emit('risk', risk(0, 'reconcile.position'));
    src.emit('risk', risk(5, `token=${TOKEN}`));
    src.emit('bar', { symbol: 'AAPL' });

    samples = (await scrape(m)).samples;
    expect(value(samples, 'tradebench_orders_submitted_total')).toBe(3);
    expect(value(samples, 'tradebench_orders_rejected_total')).toBe(2);
    expect(value(samples, 'tradebench_fills_total')).toBe(2);
    expect(value(samples, 'tradebench_rejects_total', { check: 'maxPositionPct' })).toBe(2);
    expect(value(samples, 'tradebench_rejects_total', { check: 'maxOrderValue' })).toBe(1);
    expect(value(samples, 'tradebench_rejects_total', { check: 'other' })).toBe(1);
    expect(value(samples, 'tradebench_rejects_total', { check: 'circuitBreaker.dailyLossPct' })).toBeUndefined();
    expect(value(samples, 'tradebench_risk_events_total', { check: 'circuitBreaker.dailyLossPct' })).toBe(1);
    expect(value(samples, 'tradebench_risk_events_total', { check: 'reconcile.position' })).toBe(2);
    expect(value(samples, 'tradebench_reconciliation_mismatches_total')).toBe(2);

    expect(src.subscribers).toBe(1);
    m.close();
    expect(src.subscribers).toBe(0);
    src.emit('fill', fill);
    expect(value((await scrape(m)).samples, 'tradebench_fills_total')).toBe(2);
  });

  it('records the latencies in the histograms, in seconds', async () => {
    const m = createOpsMetrics(new MemorySource(fixture()), { processMetrics: false });
    for (const ms of [0.3, 0.3, 4, 40, 2_000]) m.observeBarToOrder(ms);
    m.observeBarToOrder(Number.NaN); // ignored
    m.observeJournalWrite(0.05);
    const { samples } = await scrape(m);
    const b = (le: string) => value(samples, 'tradebench_bar_to_order_latency_seconds_bucket', { le });
    expect(LATENCY_BUCKETS[0]).toBe(0.0001);
    expect(LATENCY_BUCKETS.at(-1)).toBe(1);
    expect(b('0.0001')).toBe(0);
    expect(b('0.0005')).toBe(2);
    expect(b('0.005')).toBe(3);
    expect(b('0.05')).toBe(4);
    expect(b('1')).toBe(4);
    expect(b('+Inf')).toBe(5);
    expect(value(samples, 'tradebench_bar_to_order_latency_seconds_count')).toBe(5);
    expect(value(samples, 'tradebench_bar_to_order_latency_seconds_sum')).toBeCloseTo(2.0446, 9);
    expect(value(samples, 'tradebench_journal_write_latency_seconds_bucket', { le: '0.0001' })).toBe(1);
    expect(value(samples, 'tradebench_journal_write_latency_seconds_count')).toBe(1);
    m.close();
  });

  it('puts no account number, run id, token or free text in the exposition', async () => {
    const src = new MemorySource(fixture());
    const m = createOpsMetrics(src);
    src.emit('risk', { ts: 0, orderId: 9, check: `token=${TOKEN}`, value: 1, limit: 0, message: ACCOUNT });
    src.emit('risk', { ts: 0, orderId: 9, check: ACCOUNT.toLowerCase(), value: 1, limit: 0, message: TOKEN });
    const { text, samples } = await scrape(m);
    for (const secret of [ACCOUNT, TOKEN, 'sk_live', fixture().runId, 'Technology']) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    // the session's metrics have only these labels; prom-client's process metrics describe the runtime
    // (nodejs_version_info{version,major,minor,patch}, heap spaces, GC kinds, active resource types)
    const runtime = (name: string) => /^tradebench_(process|nodejs)_/.test(name);
    const names = (keep: (name: string) => boolean) => [...new Set(samples.filter((s) => keep(s.name)).flatMap((s) => Object.keys(s.labels)))].sort();
    expect(names((n) => !runtime(n))).toEqual(['check', 'code', 'le', 'status', 'symbol']);
    expect(names(runtime).filter((n) => !['kind', 'le', 'major', 'minor', 'patch', 'space', 'type', 'version'].includes(n))).toEqual([]);
    for (const s of samples) for (const v of Object.values(s.labels)) expect(v).toMatch(/^[A-Za-z0-9_.+ :/-]*$/);
    m.close();
  });
});

// ---- a real Prometheus ----

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const HAVE_PROMETHEUS = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
const IN_CI = process.env.CI === 'true';
if (!HAVE_PROMETHEUS && !IN_CI) {
  console.warn(
    `metrics.test: ${PROMETHEUS} or ${PROMTOOL} not found, skipping the real Prometheus tests (apt-get install prometheus, or set PROMETHEUS_PATH and PROMTOOL_PATH)`,
  );
}

const CONFIG = path.join(ROOT, 'ops', 'prometheus.yml');
const RULES = path.join(ROOT, 'ops', 'alerts.yml');

function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}

describe.skipIf(!HAVE_PROMETHEUS && !IN_CI)('a real Prometheus', () => {
  let root = '';
  let server: Server | undefined;
  let prom: ChildProcess | undefined;
  let promLog = '';
  let metrics: OpsMetrics | undefined;

  beforeAll(() => {
    expect(HAVE_PROMETHEUS, `CI=true but no prometheus/promtool at ${PROMETHEUS}, ${PROMTOOL} (apt-get install prometheus)`).toBe(true);
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      const timer = setTimeout(() => prom!.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (server) await new Promise((r) => server!.close(r));
    metrics?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('promtool accepts ops/prometheus.yml and ops/alerts.yml', async () => {
    const config = await run(PROMTOOL, ['check', 'config', CONFIG]);
    expect(config.code, config.output).toBe(0);
    expect(config.output).toContain('1 rule files found');
    const rules = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output).toContain('6 rules found');
  });

  it('the alert rules fire when they should (promtool test rules)', async () => {
    root ||= await mkdtemp(path.join(tmpdir(), 'tb-prom-'));
    const series = (name: string, labels: Record<string, string>, values: string) => ({
      series: `${name}{${Object.entries({ job: 'tradebench', ...labels })
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`,
      values,
    });
    type Expected = { labels: Record<string, string>; annotations: Record<string, string> };
    const alert = (alertname: string, eval_time: string, expected: Expected[]) => ({
      alertname,
      eval_time,
      exp_alerts: expected.map((e) => ({ exp_labels: { job: 'tradebench', ...e.labels }, exp_annotations: e.annotations })),
    });
    const sev = (alert_id: string, severity: string, instance: string, summary: string, description: string, extra: Record<string, string> = {}) => ({
      labels: { alert_id, severity, instance, ...extra },
      annotations: { summary, description },
    });
    const tests = {
      rule_files: [RULES],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          input_series: [
            series('tradebench_daily_pnl', { instance: 'a' }, '-2500x4'),
            series('tradebench_day_start_equity', { instance: 'a' }, '100000x4'),
            series('tradebench_daily_pnl', { instance: 'b' }, '-1500x4'),
            series('tradebench_day_start_equity', { instance: 'b' }, '100000x4'),
            series('tradebench_equity', { instance: 'a' }, '100000x4'),
            series('tradebench_position_value', { instance: 'a', symbol: 'AAPL' }, '6000x4'),
            series('tradebench_position_value', { instance: 'a', symbol: 'MSFT' }, '-7000x4'),
            series('tradebench_position_value', { instance: 'a', symbol: 'IBM' }, '4000x4'),
            series('tradebench_gateway_connected', { instance: 'a' }, '1 0x8'),
            series('tradebench_gateway_connected', { instance: 'b' }, '1x8'),
            series('tradebench_breaker_tripped', { instance: 'a' }, '0 1x4'),
            series('tradebench_breaker_tripped', { instance: 'b' }, '0x4'),
            series('tradebench_reconciliation_mismatches_total', { instance: 'a' }, '0 0 1x4'),
            series('tradebench_reconciliation_mismatches_total', { instance: 'b' }, '0x4'),
          ],
          alert_rule_test: [
            alert('DailyLossLimit', '30s', [
              sev('daily_loss_limit', 'critical', 'a', 'Daily loss limit breached on a', "Today's P&L is -2500.00, below -2% of the day-start equity."),
            ]),
            alert('PositionSizeBreach', '30s', [
              sev(
                'position_size_breach',
                'warning',
                'a',
                'Position in AAPL above 5% of equity',
                'The position in AAPL is worth 6000.00, more than 5% of the equity.',
                { symbol: 'AAPL' },
              ),
              sev(
                'position_size_breach',
                'warning',
                'a',
                'Position in MSFT above 5% of equity',
                'The position in MSFT is worth 7000.00, more than 5% of the equity.',
                { symbol: 'MSFT' },
              ),
            ]),
            alert('ApiDisconnection', '30s', []), // disconnected 15 s: pending
            alert('ApiDisconnection', '60s', [
              sev(
                'api_disconnection',
                'critical',
                'a',
                'IB gateway disconnected for more than 30 s on a',
                'The session has lost its connection to the IB gateway; it reconnects on its own and sends nothing meanwhile.',
              ),
            ]),
            alert('BreakerTripped', '0s', []),
            alert('BreakerTripped', '15s', [
              sev(
                'breaker_tripped',
                'critical',
                'a',
                'Circuit breaker tripped on a',
                'The circuit breaker has tripped: no new order is sent until a person resets it.',
              ),
            ]),
            alert('ReconciliationMismatch', '15s', []),
            alert('ReconciliationMismatch', '30s', [
              sev(
                'reconciliation_mismatch',
                'critical',
                'a',
                'Positions differ between the broker and the journal on a',
                '1 position mismatches found at reconciliation this session (risk check reconcile.position); see the risk events.',
              ),
            ]),
          ],
        },
        {
          // 10 orders a minute; instance a rejects 1 a minute (10%), instance b 1 in 5 minutes (2%)
          interval: '1m',
          input_series: [
            series('tradebench_orders_submitted_total', { instance: 'a' }, '0+10x20'),
            series('tradebench_orders_rejected_total', { instance: 'a' }, '0+1x20'),
            series('tradebench_orders_submitted_total', { instance: 'b' }, '0+10x20'),
            series('tradebench_orders_rejected_total', { instance: 'b' }, '0+0.2x20'),
            series('tradebench_orders_submitted_total', { instance: 'c' }, '0x20'),
            series('tradebench_orders_rejected_total', { instance: 'c' }, '0x20'),
          ],
          alert_rule_test: [
            alert('HighErrorRate', '15m', [
              sev(
                'high_error_rate',
                'warning',
                'a',
                'More than 5% of orders rejected or errored in 10 min on a',
                '10% of the orders of the last 10 minutes were rejected.',
              ),
            ]),
          ],
        },
      ],
    };
    const file = path.join(root, 'alerts.test.yml');
    await writeFile(file, stringifyYaml(tests));
    const r = await run(PROMTOOL, ['test', 'rules', file]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it('scrapes the metrics with ops/prometheus.yml and fires the alerts of ops/alerts.yml', { timeout: 30_000 }, async () => {
    root ||= await mkdtemp(path.join(tmpdir(), 'tb-prom-'));
    const src = new MemorySource(fixture());
    const m = (metrics = createOpsMetrics(src));
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      m.metrics().then(
        (body) => res.writeHead(200, { 'content-type': m.contentType }).end(body),
        (err) => res.writeHead(500).end(String(err)),
      );
    });
    const target = await listen(server);

    // ops/prometheus.yml, pointed at the test's server, scraping and evaluating every second
    const config = parseYaml(await readFile(CONFIG, 'utf8'));
    expect(config.scrape_configs[0].job_name).toBe('tradebench');
    expect(config.scrape_configs[0].static_configs[0].targets).toEqual(['127.0.0.1:8080']);
    expect(config.rule_files).toEqual(['alerts.yml']);
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    config.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${target}`];
    config.rule_files = [RULES];
    const configFile = path.join(root, 'prometheus.yml');
    await writeFile(configFile, stringifyYaml(config));

    const port = await freePort();
    const api = `http://127.0.0.1:${port}/api/v1`;
    const t0 = Date.now();
    prom = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(root, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.on('error', (err) => (promLog += `${err}\n`));
    prom.stdout!.on('data', (d) => (promLog += d));
    prom.stderr!.on('data', (d) => (promLog += d));

    // poll until Prometheus has scraped the equity (and evaluated the rules on it)
    let equity: number | undefined;
    let firing: string[] = [];
    while (Date.now() - t0 < 25_000) {
      expect(prom.exitCode, `prometheus exited:\n${promLog}`).toBeNull();
      try {
        const q = await getJson(`${api}/query?query=tradebench_equity`);
        if (q.status === 'success' && q.data.result.length > 0) equity = Number(q.data.result[0].value[1]);
        const a = await getJson(`${api}/alerts`);
        firing = (a.data?.alerts ?? []).filter((x: any) => x.state === 'firing').map((x: any) => x.labels.alertname);
        if (equity !== undefined && firing.includes('BreakerTripped') && firing.includes('PositionSizeBreach')) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(equity, `no tradebench_equity in Prometheus after ${Date.now() - t0} ms:\n${promLog}`).toBe(fixture().equity);
    console.info(`metrics.test: Prometheus had the equity and the alerts after ${Date.now() - t0} ms`);

    const one = async (query: string) => {
      const q = await getJson(`${api}/query?query=${encodeURIComponent(query)}`);
      expect(q.status, JSON.stringify(q)).toBe('success');
      return q.data.result as { metric: Record<string, string>; value: [number, string] }[];
    };
    expect(await one('up{job="tradebench"}')).toMatchObject([{ value: [expect.any(Number), '1'] }]);
    const positions = await one('tradebench_position_value');
    expect(Object.fromEntries(positions.map((r) => [r.metric.symbol, Number(r.value[1])]))).toEqual({ AAPL: 19_000, MSFT: -4_000, 'BRK B': 2_050 });
    expect(Number((await one('tradebench_daily_pnl'))[0].value[1])).toBe(-2_500);

    // the fixture trips the breaker, holds AAPL at 19% of the equity and lost 2.4% today; the gateway is down
    // (pending: 30 s) and no reconciliation found a mismatch
    expect(firing).toEqual(expect.arrayContaining(['BreakerTripped', 'PositionSizeBreach', 'DailyLossLimit']));
    expect(firing).not.toContain('ReconciliationMismatch');
    const alerts = (await getJson(`${api}/alerts`)).data.alerts as any[];
    const size = alerts.filter((a) => a.labels.alertname === 'PositionSizeBreach').map((a) => a.labels.symbol);
    expect(size).toEqual(['AAPL']);
    expect(alerts.find((a) => a.labels.alertname === 'BreakerTripped').labels.severity).toBe('critical');
    expect(alerts.find((a) => a.labels.alertname === 'ApiDisconnection')?.state).toBe('pending');

    const rules = (await getJson(`${api}/rules`)).data.groups.flatMap((g: any) => g.rules.map((r: any) => r.name));
    expect(rules.sort()).toEqual(['ApiDisconnection', 'BreakerTripped', 'DailyLossLimit', 'HighErrorRate', 'PositionSizeBreach', 'ReconciliationMismatch']);
  });
});
