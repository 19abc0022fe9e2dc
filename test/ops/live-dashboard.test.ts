// The dashboard of a running live session, in real Chromium: a LiveRunner trading in real time (120x) against the
// IB Gateway simulator over TCP, its LiveOpsSource served by the ops server, the page driven by playwright-core.
// The page must follow the session (positions, orders, equity), its kill button must trip the switch with the
// broker agreeing (flattened at the simulator), and it must say it is reconnecting when the server drops its
// sockets, then re-sync. Its screenshots (build/screenshots/dashboard-*.png) are the README's docs/img ones.
// Skipped (with a message) when Chromium is absent, unless CI=true, where its absence fails.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { LiveOpsSource } from '../../engine/ops/live-source.ts';
import { type OpsServer, startOpsServer } from '../../engine/ops/server.ts';
import { buildDashboard } from '../../scripts/build-dashboard.ts';
import { config } from '../engine/harness.ts';
import { liveSession, until, zigzagMinutes } from '../live/live-harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'build/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`live-dashboard.test: ${CHROMIUM} not found, skipping (apt-get install chromium, or set CHROMIUM_PATH)`);

const TOKEN = 'live-dashboard-test-token-0123456789';

/** Holds AAA from the first bar, rests a far limit order on BBB, and flips BBB every few bars: always something to show. */
const trader: Strategy = {
  onBar(ctx, bar) {
    if (bar.sid === 0 && ctx.isFlat(0) && ctx.openOrders(0).length === 0) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: 100 });
    if (bar.sid !== 1) return;
    if (ctx.count(1) === 1) ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'LMT', qty: 10, limit: 1, tif: 'GTC' });
    if (ctx.count(1) % 3 === 0) {
      if (ctx.position(1) > 0) ctx.closePosition(1);
      else ctx.submit({ symbol: bar.symbol, side: 'BUY', type: 'MKT', qty: 50 });
    }
  },
};

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the dashboard of a live session in Chromium', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('follows the session, kills it with the broker agreeing, and re-syncs after the server drops its sockets', { timeout: 240_000 }, async () => {
    expect(HAVE_CHROMIUM, `CI=true but no Chromium at ${CHROMIUM}`).toBe(true);
    const dashboardDir = mkdtempSync(path.join(tmpdir(), 'tb-live-dashboard-'));
    dirs.push(dashboardDir);
    await buildDashboard({ outDir: dashboardDir, typecheck: false });
    mkdirSync(SHOTS, { recursive: true });
    const cfg = config({
      strategy: 'trader',
      symbols: ['AAA', 'BBB'],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 10 },
      commission: { model: 'ibkr-fixed' },
      cash: 100_000,
    });
    let source!: LiveOpsSource;
    let server: OpsServer | undefined;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    const errors: string[] = [];
    let serverDown = false;
    // 180 minutes at 120x: 90 s of replay. The page's checks before the kill take 20-50 s on a loaded machine, and
    // the flatten needs bars after the kill to fill on (with 90 minutes a loaded CI run once killed after the last)
    const series = zigzagMinutes(['AAA', 'BBB'], 180, (i, k) => 40 + 10 * k + i * 0.02 + ((i * 7 + k) % 5) * 0.1, 10_000);
    const lastBar = Math.max(...series.map((x) => x.ts[x.ts.length - 1]!));
    try {
      await liveSession(series, cfg, [{ name: 'trader', strategy: trader, weight: 1 }], {
        speed: 120,
        created: (_sim, runner) => {
          source = new LiveOpsSource(runner);
        },
        during: async (sim: IbGatewaySimulator, runner: LiveRunner) => {
          server = await startOpsServer({ source, port: 0, token: TOKEN, dashboardDir });
          const port = server.port;
          const page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
          page.on('console', (m) => {
            if (m.type() !== 'error') return;
            if (serverDown && /ERR_CONNECTION_REFUSED|WebSocket connection|Failed to load resource|Failed to fetch/.test(m.text())) return;
            errors.push(m.text());
          });
          page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
          await page.goto(`${server.url}/#token=${TOKEN}`);
          await page.locator('[data-testid="stream-status"]', { hasText: 'Stream live' }).waitFor();

          // the page follows the session: AAA held, the resting limit order listed, the equity curve growing
          await page.locator('#positions tr[data-symbol="AAA"]').waitFor({ timeout: 30_000 });
          const rest = runner.engine.orders.find((o) => o.type === 'LMT')!;
          await page.locator(`#orders tr[data-order-id="${rest.id}"]`).waitFor({ timeout: 30_000 });
          const points = async () => Number(await page.locator('#equity .chart').getAttribute('data-points'));
          const before = await points();
          await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(before + 2);
          expect(await page.locator('#positions tr[data-symbol="AAA"]').textContent()).toContain('100');
          await page.screenshot({ path: path.join(SHOTS, 'dashboard-live.png'), fullPage: true });

          // the kill switch, confirmed with flatten: the breaker trips and the simulator ends flat
          expect(sim.now(), 'the replay must have bars left for the flatten to fill on').toBeLessThan(lastBar - 10 * 60_000);
          await page.locator('[data-testid="kill"]').click();
          await page.locator('[data-testid="kill-confirm"]').waitFor();
          if (!(await page.locator('[data-testid="kill-flatten"]').isChecked())) await page.locator('[data-testid="kill-flatten"]').check();
          await page.screenshot({ path: path.join(SHOTS, 'dashboard-kill.png'), fullPage: true });
          await page.locator('[data-testid="kill-confirm-button"]').click();
          await page.locator('[data-testid="breaker"]', { hasText: 'TRIPPED' }).waitFor({ timeout: 20_000 });
          await until(() => runner.kernel.risk.tripped !== null, 10_000, 'the breaker to trip');
          await until(() => sim.account.ledger.qty.every((q) => q === 0), 30_000, 'the simulator to be flat');
          expect((await runner.broker.positions()).filter((p) => p.qty !== 0)).toEqual([]);
          await expect.poll(() => page.locator('#positions tr[data-symbol]').count(), { timeout: 20_000 }).toBe(0);
          expect(runner.journal.logs.some((l) => l.kind === 'control' && /kill/i.test(l.message) && /http \(127\.0\.0\.1\)/.test(l.message))).toBe(true);

          // the server drops its sockets: the page says it is reconnecting, then re-syncs with the session
          serverDown = true;
          await server.close();
          await page.locator('[data-testid="reconnecting"]').waitFor({ timeout: 15_000 });
          await page.screenshot({ path: path.join(SHOTS, 'dashboard-reconnecting.png'), fullPage: true });
          server = await startOpsServer({ source, port, token: TOKEN, dashboardDir });
          await page.locator('[data-testid="reconnecting"]').waitFor({ state: 'detached', timeout: 20_000 });
          serverDown = false;
          const now = source.snapshot().equity;
          const shown = Number((await page.locator('[data-testid="kpi-equity"] .value').textContent())!.replace(/,/g, ''));
          expect(Math.abs(shown - now)).toBeLessThan(1);
          await page.locator('[data-testid="breaker"]', { hasText: 'TRIPPED' }).waitFor();
        },
      });
    } finally {
      await server?.close();
      source?.close();
      await browser.close();
    }
    expect(errors).toEqual([]);
  });
});
