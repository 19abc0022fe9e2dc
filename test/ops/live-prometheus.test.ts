// A real Prometheus scrapes a live session's /metrics: the runner (against the IB Gateway simulator over TCP, in
// lockstep) with its operations started as `npm run live` starts them (scripts/lib/live-ops.ts), and Debian's
// `prometheus` pointed at it with ops/prometheus.yml. The query of tradebench_equity must return the runner's equity.
// Skipped (with a message) when prometheus is absent, unless CI=true, where its absence fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Strategy } from '../../engine/core/strategy.ts';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { defaultAlertsConfig } from '../../engine/ops/alerts-config.ts';
import { type LiveOps, startLiveOps } from '../../scripts/lib/live-ops.ts';
import { ROOT } from '../cli/run-cli.ts';
import { config } from '../engine/harness.ts';
import { liveSession, zigzagMinutes } from '../live/live-harness.ts';

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const HAVE = existsSync(PROMETHEUS);
const IN_CI = process.env.CI === 'true';
if (!HAVE && !IN_CI) console.warn(`live-prometheus.test: ${PROMETHEUS} not found, skipping (apt-get install prometheus, or set PROMETHEUS_PATH)`);

const flip: Strategy = { onBar: (ctx, bar) => void (ctx.position(bar.sid) > 0 ? ctx.closePosition(bar.sid) : ctx.buy(bar.sid)) };

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe.skipIf(!HAVE && !IN_CI)("a real Prometheus scrapes a live session's metrics", () => {
  const dirs: string[] = [];
  let prom: ChildProcess | undefined;
  afterAll(() => {
    prom?.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a query of tradebench_equity returns the runner's equity, and the fills counter its fills", { timeout: 90_000 }, async () => {
    expect(HAVE, `CI=true but no prometheus at ${PROMETHEUS} (apt-get install prometheus)`).toBe(true);
    const out = mkdtempSync(path.join(tmpdir(), 'tb-live-prom-'));
    dirs.push(out);
    const cfg = config({
      strategy: 'flip',
      symbols: ['AAA', 'BBB'],
      interval: '1m',
      sizing: { kind: 'fixed', quantity: 10 },
      commission: { model: 'ibkr-fixed' },
    });
    let starting!: Promise<LiveOps>;
    let runner!: LiveRunner;
    await liveSession(
      zigzagMinutes(['AAA', 'BBB'], 40, (i, k) => 40 + 10 * k + ((i * 7 + k) % 5) * 0.1, 10_000),
      cfg,
      [{ name: 'flip', strategy: flip, weight: 1 }],
      {
        created: (_sim, r) => {
          runner = r;
          // as scripts/live.ts does: before the runner starts (the source is built before the first await)
          starting = startLiveOps(r, { http: { host: '127.0.0.1', port: 0 }, out, alerts: defaultAlertsConfig(), say: () => {} });
        },
      },
    );
    const ops = await starting;
    try {
      const equity = runner.engine.portfolio.equity();
      expect(runner.journal.fills.length).toBeGreaterThan(10);
      const config = parseYaml(readFileSync(path.join(ROOT, 'ops/prometheus.yml'), 'utf8'));
      config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
      config.scrape_configs[0].static_configs[0].targets = [new URL(ops.url!).host];
      config.rule_files = [path.join(ROOT, 'ops/alerts.yml')];
      writeFileSync(path.join(out, 'prometheus.yml'), stringifyYaml(config));
      const port = await freePort();
      let log = '';
      prom = spawn(
        PROMETHEUS,
        [`--config.file=${path.join(out, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(out, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prom.stderr!.on('data', (d) => (log += d));
      const query = async (q: string): Promise<number | undefined> => {
        try {
          const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
            data?: { result: { value: [number, string] }[] };
          };
          const v = r.data?.result[0]?.value[1];
          return v === undefined ? undefined : Number(v);
        } catch {
          return undefined; // not listening yet
        }
      };
      const end = Date.now() + 40_000;
      let seen: number | undefined;
      while ((seen = await query('tradebench_equity')) === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
      expect(seen, `Prometheus never had tradebench_equity:\n${log.slice(-2000)}`).toBeCloseTo(equity, 6);
      expect(await query('tradebench_fills_total')).toBe(runner.journal.fills.length);
      expect(await query('up{job="tradebench"}')).toBe(1);
      // the account number is in no journal line (the dashboard's activity, the JSON log) and not in the metrics
      const account = 'DU1234567';
      expect(runner.journal.logs.some((l) => /^account DU…67: net liquidation/.test(l.message))).toBe(true);
      expect(runner.journal.logs.filter((l) => l.message.includes(account))).toEqual([]);
      expect(await (await fetch(`${ops.url}/metrics`)).text()).not.toContain(account);
    } finally {
      await ops.close();
    }
  });
});
