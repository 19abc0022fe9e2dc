// The dashboard in a real browser against the real ops server: builds dashboard/ with esbuild, serves it with
// startOpsServer over a small in-memory OpsSource, and drives headless Chromium with playwright-core.
// Skipped (with a message) when Chromium is absent, unless CI=true, where its absence fails.
// Screenshots for the README land in build/screenshots/dashboard-*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer } from '../../engine/ops/server.ts';
import type { ControlSource, OpsEvent, OpsFill, OpsOrder, OpsPage, OpsPosition, OpsSnapshot, OpsSource } from '../../engine/ops/types.ts';
import { buildDashboard } from '../../scripts/build-dashboard.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'build/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`dashboard.test: ${CHROMIUM} not found, skipping the browser test (apt-get install chromium, or set CHROMIUM_PATH)`);
}

const TOKEN = 'test-token-0123456789abcdef';
const T0 = Date.UTC(2025, 2, 3, 14, 30);
const MIN = 60_000;

function position(symbol: string, quantity: number, avgCost: number, lastPrice: number, sector: string): OpsPosition {
  const marketValue = quantity * lastPrice;
  return {
    symbol,
    quantity,
    avgCost,
    lastPrice,
    marketValue,
    unrealizedPnl: quantity * (lastPrice - avgCost),
    sector,
    weight: Math.abs(marketValue) / 100_000,
  };
}

function order(id: number, symbol: string, side: 'BUY' | 'SELL', quantity: number, limit: number | null): OpsOrder {
  return {
    id,
    strategy: 'sma-cross',
    symbol,
    side,
    type: limit === null ? 'MKT' : 'LMT',
    quantity,
    limit,
    stop: null,
    status: 'SUBMITTED',
    submittedAt: T0,
    filledQty: 0,
    avgFillPrice: null,
  };
}

function fill(execId: string, orderId: number, symbol: string, quantity: number, price: number, ts: number): OpsFill {
  return { orderId, execId, strategy: 'sma-cross', symbol, ts, quantity, price, commission: 1 };
}

function snapshot(mode: 'live' | 'replay'): OpsSnapshot {
  const equityCurve = Array.from({ length: 60 }, (_, i) => ({ ts: T0 - (60 - i) * MIN, equity: 100_000 + 400 * Math.sin(i / 8) + 20 * i }));
  const equity = equityCurve[equityCurve.length - 1].equity;
  return {
    runId: 'run-dashboard-test',
    mode,
    strategy: 'sma-cross',
    symbols: ['AAPL', 'MSFT', 'XOM'],
    now: T0,
    account: { netLiquidation: equity, cash: 60_000, availableFunds: 55_000, dailyPnl: 812.5 },
    equity,
    cash: 60_000,
    dayStartEquity: equity - 812.5,
    dailyPnl: 812.5,
    peakEquity: 101_600,
    drawdown: equity / 101_600 - 1,
    exposure: {
      gross: 0.42,
      net: 0.3,
      sectors: [
        { sector: 'Technology', weight: 0.36 },
        { sector: 'Energy', weight: 0.06 },
      ],
    },
    positions: [position('AAPL', 150, 180.25, 189.4, 'Technology'), position('XOM', -50, 118.1, 116.2, 'Energy')],
    openOrders: [order(7, 'MSFT', 'BUY', 40, 402.5), order(8, 'AAPL', 'SELL', 50, null)],
    fillsToday: [fill('E-1', 5, 'AAPL', 150, 180.25, T0 - 50 * MIN), fill('E-2', 6, 'XOM', -50, 118.1, T0 - 30 * MIN)],
    equityCurve,
    performance: { totalReturn: 0.0231, sharpe: 1.42, maxDrawdown: 0.051, winRate: 0.56, profitFactor: 1.8, trades: 25 },
    risk: {
      limits: [
        { name: 'gross-exposure', value: 0.42, limit: 1, utilisation: 0.42 },
        { name: 'daily-loss', value: 0, limit: 0.03, utilisation: 0 },
        { name: 'orders-per-minute', value: 9, limit: 10, utilisation: 0.9 },
      ],
      breaker: { tripped: false, check: null, reason: null },
    },
    connection: { connected: true, lastHeartbeatAt: Date.now() - 3_000, reconnects: 1, messagesPerSecond: 12, maxMessagesPerSecond: 50, reconciled: true },
    latency: { barToOrder: { p50: 4.2, p99: 38, count: 120 } },
    errors: { total: 2, byCode: { '2104': 1, '399': 1 } },
    strategies: [
      { name: 'sma-cross', pnl: 1520.4, allocation: 0.6, paused: false },
      { name: 'gbm-model', pnl: -310.2, allocation: 0.4, paused: false, signals: { AAPL: 0.61, MSFT: 0.48, XOM: 0.33 } },
    ],
    readiness: { ready: true, reasons: [] },
  };
}

interface Call {
  action: string;
  args: unknown;
  source: ControlSource;
}

/** A session in memory: a snapshot the test edits, events it emits, control calls it records. */
class MemorySource implements OpsSource {
  state: OpsSnapshot;
  calls: Call[] = [];
  private listeners = new Set<(e: Omit<OpsEvent, 'seq'>) => void>();
  control?: OpsSource['control'];

  constructor(mode: 'live' | 'replay') {
    this.state = snapshot(mode);
    if (mode === 'live') {
      const record = async (action: string, args: unknown, source: ControlSource) => {
        this.calls.push({ action, args, source });
      };
      this.control = {
        kill: (o, s) => record('kill', o, s),
        resetBreaker: (s) => record('resetBreaker', null, s),
        pause: (name, s) => record('pause', name, s),
        resume: (name, s) => record('resume', name, s),
        cancel: (id, s) => record('cancel', id, s),
      };
    }
  }
  snapshot(): OpsSnapshot {
    return structuredClone(this.state);
  }
  subscribe(listener: (e: Omit<OpsEvent, 'seq'>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(type: OpsEvent['type'], data: unknown): void {
    for (const l of this.listeners) l({ type, ts: this.state.now, data });
  }
  orders(offset: number, limit: number): OpsPage<OpsOrder> {
    return { total: this.state.openOrders.length, offset, items: this.state.openOrders.slice(offset, offset + limit) };
  }
  fills(offset: number, limit: number): OpsPage<OpsFill> {
    return { total: this.state.fillsToday.length, offset, items: this.state.fillsToday.slice(offset, offset + limit) };
  }
  riskEvents(offset: number): OpsPage<never> {
    return { total: 0, offset, items: [] };
  }
  logs(offset: number, limit: number) {
    const items = [{ ts: T0 - 5 * MIN, kind: 'session', message: 'session started (paper account)' }];
    return { total: items.length, offset, items: items.slice(offset, offset + limit) };
  }
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the dashboard in Chromium against the ops server', () => {
  let dir = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const source = new MemorySource('live');
  let server: Awaited<ReturnType<typeof startOpsServer>> | null = null;
  let port = 0;
  /** console errors and page errors; `expectDown` while the test has stopped the server on purpose */
  const errors: string[] = [];
  let expectDown = false;

  const start = async (src: OpsSource, at = 0) => startOpsServer({ source: src, host: '127.0.0.1', port: at, token: TOKEN, dashboardDir: dir });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tradebench-dashboard-'));
    await buildDashboard({ outDir: dir });
    mkdirSync(SHOTS, { recursive: true });
    server = await start(source);
    port = server.port;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // a stopped server refuses the WebSocket and the state refetch: expected only while it is down
      if (expectDown && /ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource|Failed to fetch/.test(m.text())) return;
      errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the snapshot and takes the token out of the address bar', async () => {
    await page.goto(`${server!.url}/#token=${TOKEN}`);
    await page.locator('[data-testid="stream-status"]', { hasText: 'Stream live' }).waitFor();
    // the token left the URL for sessionStorage, and was never sent in a request line
    expect(page.url()).toBe(`${server!.url}/`);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('tradebench.ops.token')")).toBe(TOKEN);
    // positions, orders, fills, equity curve, KPIs
    await expect.poll(() => page.locator('#positions tr[data-symbol]').count()).toBe(2);
    expect(await page.locator('#positions tr[data-symbol="AAPL"]').textContent()).toContain('150');
    expect(await page.locator('#positions tr[data-symbol="AAPL"] td.pos').textContent()).toBe('+1,372.50');
    expect(await page.locator('#positions tr[data-symbol="XOM"] td.pos').textContent()).toBe('+95.00');
    await expect.poll(() => page.locator('#orders tr[data-order-id]').count()).toBe(2);
    expect(await page.locator('#orders tr[data-order-id="7"]').textContent()).toContain('402.50');
    expect(await page.locator('#fills tr[data-exec-id]').count()).toBe(2);
    expect(await page.locator('#equity .chart').getAttribute('data-points')).toBe('60');
    expect(await page.locator('#equity canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="kpi-daily-pnl"] .value').textContent()).toBe('+812.50');
    expect(await page.locator('[data-testid="kpi-daily-pnl"] .value').getAttribute('class')).toContain('pos');
    expect(await page.locator('[data-testid="perf-sharpe"] .value').textContent()).toBe('1.42');
    expect(await page.locator('[data-testid="perf-winrate"] .value').textContent()).toBe('56.0%');
    expect(await page.locator('[data-testid="risk-gross"] .value').textContent()).toBe('42.0%');
    expect(await page.locator('[data-testid="bar-orders-per-minute"] .fill').getAttribute('class')).toContain('hot');
    expect(await page.locator('[data-testid="health-p99"] .value').textContent()).toBe('38 ms');
    expect(await page.locator('#strategies tr[data-strategy="gbm-model"]').textContent()).toContain('0.61');
    expect(await page.locator('[data-testid="token-hint"]').count()).toBe(0);
    expect(await page.locator('[data-testid="cancel-7"]').isEnabled()).toBe(true);
  });

  it('applies fill, position, equity and order events as they come', async () => {
    const f = fill('E-3', 8, 'AAPL', -50, 190.1, T0 + MIN);
    source.state.fillsToday.push(f);
    source.emit('fill', f);
    const p = position('MSFT', 40, 402.5, 405, 'Technology');
    source.state.positions.push(p);
    source.emit('position', p);
    source.state.equityCurve.push({ ts: T0 + MIN, equity: 101_234.56 });
    source.state.equity = 101_234.56;
    source.emit('equity', { ts: T0 + MIN, equity: 101_234.56 });
    source.emit('order', { ...order(8, 'AAPL', 'SELL', 50, null), status: 'FILLED', filledQty: 50, avgFillPrice: 190.1 });
    source.emit('connection', { connected: false });
    await page.locator('#fills tr[data-exec-id="E-3"]').waitFor();
    await page.locator('#positions tr[data-symbol="MSFT"]').waitFor();
    await expect.poll(() => page.locator('#equity .chart').getAttribute('data-points')).toBe('61');
    await expect.poll(() => page.locator('[data-testid="kpi-equity"] .value').textContent()).toBe('101,234.56');
    await expect.poll(() => page.locator('#orders tr[data-order-id="8"]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="health-gateway"] .value').textContent()).toBe('disconnected');
    source.emit('connection', { connected: true });
    await expect.poll(() => page.locator('[data-testid="health-gateway"] .value').textContent()).toBe('connected');
    // an event it cannot apply alone (a bar) makes it refetch the state
    source.state.performance.sharpe = 1.55;
    source.emit('bar', { symbol: 'AAPL', ts: T0 + MIN, close: 190.1 });
    await expect.poll(() => page.locator('[data-testid="perf-sharpe"] .value').textContent()).toBe('1.55');
  });

  it('cancels an order with the bearer token', async () => {
    await page.locator('[data-testid="cancel-7"]').click();
    await expect.poll(() => source.calls.filter((c) => c.action === 'cancel').length).toBe(1);
    expect(source.calls[0]).toMatchObject({ action: 'cancel', args: 7, source: { via: 'http' } });
    await page.locator('[data-testid="toast"]', { hasText: 'Cancel order #7: done' }).waitFor();
  });

  it('kills only after the confirmation, with flatten', async () => {
    await page.locator('[data-testid="kill"]').click();
    await page.locator('[data-testid="kill-confirm"]').waitFor();
    expect(source.calls.some((c) => c.action === 'kill')).toBe(false);
    expect(await page.locator('[data-testid="kill-flatten"]').isChecked()).toBe(true);
    await page.locator('[data-testid="kill-confirm"] input.reason').fill('test kill');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-kill-confirm.png'), fullPage: true });
    await page.locator('[data-testid="kill-confirm-button"]').click();
    await expect.poll(() => source.calls.filter((c) => c.action === 'kill').length).toBe(1);
    expect(source.calls.find((c) => c.action === 'kill')!.args).toEqual({ flatten: true, reason: 'test kill' });
    await page.locator('[data-testid="kill-confirm"]').waitFor({ state: 'detached' });
    await page.locator('[data-testid="pause-sma-cross"]').click();
    await expect.poll(() => source.calls.filter((c) => c.action === 'pause').map((c) => c.args)).toEqual(['sma-cross']);
    // a risk event (the breaker tripped) is shown at once and refetches the state: the reset becomes possible
    expect(await page.locator('[data-testid="breaker-reset"]').isDisabled()).toBe(true);
    source.state.risk.breaker = { tripped: true, check: 'daily-loss', reason: 'daily loss 3.1% over 3%' };
    source.emit('risk', { ts: T0 + MIN, orderId: 0, check: 'daily-loss', value: 0.031, limit: 0.03, message: 'breaker tripped: daily loss 3.1% over 3%' });
    await page.locator('#activity li.risk', { hasText: 'breaker tripped' }).waitFor();
    await page.locator('[data-testid="breaker"]', { hasText: 'TRIPPED' }).waitFor();
    await page.locator('[data-testid="breaker-reset"]:not([disabled])').click();
    await expect.poll(() => source.calls.filter((c) => c.action === 'resetBreaker').length).toBe(1);
    source.state.risk.breaker = { tripped: false, check: null, reason: null };
    source.emit('control', { action: 'breaker-reset' });
    await page.locator('[data-testid="breaker"]', { hasText: 'armed' }).waitFor();
    await page.locator('[data-testid="toast"]').first().waitFor({ state: 'detached', timeout: 10_000 });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-overview.png'), fullPage: true });
  });

  it('shows the reconnecting banner when the server goes away and re-syncs when it is back', async () => {
    expectDown = true;
    await server!.close();
    server = null;
    await page.locator('[data-testid="reconnecting"]').waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-reconnecting.png') });
    // the session moved on meanwhile: a position closed, a new order
    source.state.positions = source.state.positions.filter((p) => p.symbol !== 'XOM');
    source.state.openOrders.push(order(9, 'XOM', 'BUY', 10, 115));
    server = await start(source, port);
    await page.locator('[data-testid="reconnecting"]').waitFor({ state: 'detached', timeout: 15_000 });
    expectDown = false;
    await expect.poll(() => page.locator('#positions tr[data-symbol="XOM"]').count()).toBe(0);
    await page.locator('#orders tr[data-order-id="9"]').waitFor();
    // the new server's stream: events flow again
    source.state.equityCurve.push({ ts: T0 + 2 * MIN, equity: 101_500.25 });
    source.state.equity = 101_500.25;
    source.emit('equity', { ts: T0 + 2 * MIN, equity: 101_500.25 });
    await expect.poll(() => page.locator('[data-testid="kpi-equity"] .value').textContent()).toBe('101,500.25');
  });

  it('disables control without the token', async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const p = await other.newPage();
      p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await p.goto(`${server!.url}/`);
      await p.locator('[data-testid="token-hint"]').waitFor();
      expect(await p.locator('[data-testid="cancel-7"]').isDisabled()).toBe(true);
      expect(await p.locator('[data-testid="kill"]').isDisabled()).toBe(true);
      expect(await p.locator('[data-testid="pause-gbm-model"]').isDisabled()).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('hides control for a replay', async () => {
    const replay = new MemorySource('replay');
    const s = await start(replay);
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const p = await other.newPage();
      p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await p.goto(`${s.url}/#token=${TOKEN}`);
      await p.locator('#positions tr[data-symbol="AAPL"]').waitFor();
      expect(await p.locator('.badge.replay').textContent()).toBe('REPLAY');
      expect(await p.locator('[data-testid="kill"]').count()).toBe(0);
      expect(await p.locator('[data-testid^="cancel-"]').count()).toBe(0);
      expect(await p.locator('[data-testid^="pause-"]').count()).toBe(0);
    } finally {
      await other.close();
      await s.close();
    }
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
