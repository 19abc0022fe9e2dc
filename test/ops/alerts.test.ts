// The built-in alerts, with real parts: a local HTTP receiver for the webhooks, a real SMTP server (smtp-server) for
// the e-mails, an in-memory OpsSource the test moves by hand.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type AlertEventData, AlertManager } from '../../engine/ops/alerts.ts';
import { type AlertsConfig, defaultAlertsConfig, loadAlertsConfig, parseAlertsConfig } from '../../engine/ops/alerts-config.ts';
import type { OpsEvent, OpsOrder, OpsPage, OpsPosition, OpsSnapshot, OpsSource } from '../../engine/ops/types.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Wednesday 2024-05-15, 14:00 in New York (EDT, UTC-4)
const T0 = Date.UTC(2024, 4, 15, 18, 0, 0);
const MIN = 60_000;

function healthy(over: Partial<OpsSnapshot> = {}): OpsSnapshot {
  return {
    runId: 'run-42',
    mode: 'live',
    strategy: 'sma-cross',
    symbols: ['AAPL', 'MSFT'],
    now: T0,
    account: null,
    equity: 100_000,
    cash: 96_000,
    dayStartEquity: 100_000,
    dailyPnl: -500,
    peakEquity: 101_000,
    drawdown: -0.01,
    exposure: { gross: 0.04, net: 0.04, sectors: [] },
    positions: [position('AAPL', 0.04)],
    openOrders: [],
    fillsToday: [],
    equityCurve: [],
    performance: { totalReturn: 0, sharpe: null, maxDrawdown: 0, winRate: null, profitFactor: null, trades: 0 },
    risk: { limits: [], breaker: { tripped: false, check: null, reason: null } },
    connection: { connected: true, lastHeartbeatAt: T0, reconnects: 0, messagesPerSecond: 0, maxMessagesPerSecond: 50, reconciled: true },
    latency: { barToOrder: { p50: null, p99: null, count: 0 } },
    errors: { total: 0, byCode: {} },
    strategies: [],
    readiness: { ready: true, reasons: [] },
    ...over,
  };
}

function position(symbol: string, weight: number, equity = 100_000): OpsPosition {
  const mv = weight * equity;
  return { symbol, quantity: Math.round(mv / 100), avgCost: 100, lastPrice: 100, marketValue: mv, unrealizedPnl: 0, sector: '', weight };
}

function order(id: number, submittedAt: number, status: string): OpsOrder {
  return {
    id,
    strategy: 's',
    symbol: 'AAPL',
    side: 'BUY',
    type: 'MKT',
    quantity: 10,
    limit: null,
    stop: null,
    status,
    submittedAt,
    filledQty: 0,
    avgFillPrice: null,
  };
}

/** An OpsSource the test moves by hand. */
class MemorySource implements OpsSource {
  state = healthy();
  orderList: OpsOrder[] = [];
  private listeners = new Set<(e: Omit<OpsEvent, 'seq'>) => void>();
  snapshot(): OpsSnapshot {
    return this.state;
  }
  subscribe(listener: (e: Omit<OpsEvent, 'seq'>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: Omit<OpsEvent, 'seq'>): void {
    for (const l of this.listeners) l(e);
  }
  /** a new state, announced as an event (what a live session does on each change) */
  set(over: Partial<OpsSnapshot>): void {
    this.state = { ...this.state, ...over };
    this.emit({ type: 'equity', ts: this.state.now, data: {} });
  }
  orders(offset: number, limit: number): OpsPage<OpsOrder> {
    return { total: this.orderList.length, offset, items: this.orderList.slice(offset, offset + limit) };
  }
  fills(offset: number): OpsPage<never> {
    return { total: 0, offset, items: [] };
  }
  riskEvents(offset: number): OpsPage<never> {
    return { total: 0, offset, items: [] };
  }
  logs(offset: number): OpsPage<never> {
    return { total: 0, offset, items: [] };
  }
}

/** A local HTTP receiver: answers each POST with `answer(n)` (the status), or never when it returns null. */
async function receiver(answer: (n: number) => number | null = () => 200) {
  const bodies: any[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body: JSON.parse(data) });
      const status = answer(bodies.length);
      if (status === null) hanging.push(res);
      else res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'server error');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const managers: AlertManager[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close({ waitMs: 0 });
  for (const c of closers.splice(0)) await c();
});

function harness(config: AlertsConfig = defaultAlertsConfig(), source = new MemorySource()) {
  let t = T0;
  const lines: string[] = [];
  const events: Omit<OpsEvent, 'seq'>[] = [];
  const m = new AlertManager({ source, config, journal: (l) => lines.push(l), onEvent: (e) => events.push(e), clock: () => t });
  managers.push(m);
  return {
    m,
    source,
    lines,
    events,
    advance: (ms: number) => (t += ms),
    deliveries: () => events.map((e) => e.data as AlertEventData).filter((d) => d.kind === 'delivery'),
  };
}

/** A config with one webhook channel and the given overrides of its rules and delivery. */
function webhookConfig(url: string, extra: Record<string, unknown> = {}): AlertsConfig {
  return parseAlertsConfig(
    {
      channels: { hook: { type: 'webhook', url, headers: { 'x-token': 'hook-token-123' } } },
      defaults: { minInterval: 0 },
      delivery: { attempts: 3, backoff: 0.05, maxBackoff: 0.2, timeout: 1 },
      ...extra,
    },
    'test.yml',
  );
}

const losing = { dailyPnl: -2_500 };

describe('the default rules', () => {
  const firing = (h: ReturnType<typeof harness>) => h.m.active().map((a) => a.key);

  it('daily_loss_limit fires below -2% of the day-start equity, not above', () => {
    const h = harness();
    h.source.state = healthy({ dailyPnl: -1_999 });
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    h.source.state = healthy({ dailyPnl: -2_001 });
    h.m.evaluate();
    expect(firing(h)).toEqual(['daily_loss_limit']);
    expect(h.m.active()[0].severity).toBe('critical');
    expect(h.lines.join('\n')).toMatch(/alert fired: CRITICAL daily_loss_limit: the day's P&L -2,001.00 is -2.00% of the day-start equity 100,000.00/);
  });

  it('position_size_breach fires per symbol above 5% of the equity', () => {
    const h = harness();
    h.source.state = healthy({ positions: [position('AAPL', 0.049), position('MSFT', -0.03)] });
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    h.source.state = healthy({ positions: [position('AAPL', 0.049), position('MSFT', 0.08)] });
    h.m.evaluate();
    expect(firing(h)).toEqual(['position_size_breach:MSFT']);
    expect(h.m.active()[0].severity).toBe('warning');
  });

  it('api_disconnection fires after more than 30 s disconnected, and resolves on reconnection', () => {
    const h = harness();
    const down = healthy({ connection: { ...healthy().connection, connected: false } });
    h.source.state = down;
    h.m.evaluate();
    h.advance(30_000);
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    h.advance(1_000);
    h.m.evaluate();
    expect(firing(h)).toEqual(['api_disconnection']);
    h.source.state = healthy();
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    expect(h.lines.some((l) => l.startsWith('alert resolved: RESOLVED api_disconnection'))).toBe(true);
  });

  it('high_error_rate fires when more than 5% of the orders of the last 10 min were rejected', () => {
    const h = harness();
    // 20 orders in the window, 1 rejected (5%: not more than the limit), and an old rejected one outside it
    h.source.orderList = [order(1, T0 - 11 * MIN, 'REJECTED'), ...Array.from({ length: 20 }, (_, i) => order(i + 2, T0 - 9 * MIN + i * 1000, 'FILLED'))];
    h.source.orderList[5].status = 'REJECTED';
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    h.source.orderList[6].status = 'REJECTED';
    h.m.evaluate();
    expect(firing(h)).toEqual(['high_error_rate']);
    expect(h.m.active()[0].message).toMatch(/^2 of 20 orders in the last 10 min were rejected or errored \(10.00%/);
  });

  it('breaker_tripped fires while the breaker is tripped', () => {
    const h = harness();
    h.m.evaluate();
    expect(firing(h)).toEqual([]);
    h.source.state = healthy({ risk: { limits: [], breaker: { tripped: true, check: 'circuitBreaker.dailyLoss', reason: 'daily loss 3% over 2%' } } });
    h.m.evaluate();
    expect(firing(h)).toEqual(['breaker_tripped']);
    expect(h.m.active()[0].message).toContain('(circuitBreaker.dailyLoss): daily loss 3% over 2%');
  });

  it('reconciliation_mismatch fires on a reconcile risk event and resolves when a reconciliation finds the positions agree', () => {
    const h = harness();
    h.m.start();
    h.source.emit({ type: 'risk', ts: T0, data: { ts: T0, orderId: 7, check: 'maxPositionPct', value: 0.3, limit: 0.2, message: 'rejected' } });
    expect(firing(h)).toEqual([]);
    h.source.emit({
      type: 'risk',
      ts: T0,
      data: { ts: T0, orderId: 0, check: 'reconcile.position', value: 100, limit: 0, message: 'the broker holds AAPL +100, the journal 0' },
    });
    expect(firing(h)).toEqual(['reconciliation_mismatch']);
    expect(h.m.active()[0].message).toContain('the broker holds AAPL +100, the journal 0');
    h.source.emit({
      type: 'log',
      ts: T0,
      data: { ts: T0, kind: 'reconcile', message: 'reconciled (reconnect): 0 open orders at the broker (0 not ours), positions agree' },
    });
    expect(firing(h)).toEqual([]);
  });

  it('daily_summary is sent once, after the 16:00 New York close, with the equity, P&L, trades and fills', () => {
    const h = harness();
    const fill = (orderId: number) => ({ orderId, execId: `e${orderId}`, strategy: 's', symbol: 'AAPL', ts: T0, quantity: 1, price: 100, commission: 1 });
    h.source.state = healthy({ now: T0 + 119 * MIN, dailyPnl: 1_234.5, equity: 101_234.5, fillsToday: [fill(1), fill(1), fill(2)] });
    h.m.evaluate(); // 15:59
    expect(h.lines.filter((l) => l.includes('daily_summary'))).toEqual([]);
    h.source.state = { ...h.source.state, now: T0 + 120 * MIN }; // 16:00
    h.advance(120 * MIN);
    h.m.evaluate();
    h.m.evaluate();
    const summaries = h.lines.filter((l) => l.includes('daily_summary'));
    expect(summaries).toEqual([
      'alert fired: INFO daily_summary:2024-05-15: 2024-05-15: equity 101,234.50, day P&L +1,234.50 (+1.23%), 2 trades, 3 fills (no channels: journaled only)',
    ]);
    expect(h.m.active()).toEqual([]); // a summary is news, not a condition
  });

  it('a rule turned off does not fire', () => {
    const h = harness(parseAlertsConfig({ rules: { daily_loss_limit: { enabled: false }, breaker_tripped: false } }, 'x.yml'));
    h.source.state = healthy({ ...losing, risk: { limits: [], breaker: { tripped: true, check: 'k', reason: 'r' } } });
    h.m.evaluate();
    expect(h.m.active()).toEqual([]);
  });
});

describe('notifications', () => {
  it('posts a webhook JSON that Slack and generic receivers read, once while firing, and a resolution when it clears', async () => {
    const r = await receiver();
    closers.push(r.close);
    const h = harness(webhookConfig(r.url));
    h.m.start();
    for (let i = 0; i < 25; i++) h.source.set(losing); // the condition holds through many evaluations
    await h.m.idle();
    expect(r.bodies).toHaveLength(1);
    const { headers, body } = r.bodies[0];
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-token']).toBe('hook-token-123');
    expect(body).toMatchObject({ alert: 'daily_loss_limit', rule: 'daily_loss_limit', severity: 'critical', state: 'fired', runId: 'run-42', ts: T0 });
    expect(body.text).toMatch(/^\[tradebench\] CRITICAL daily_loss_limit: the day's P&L -2,500.00 is -2.50% of the day-start equity/);
    expect(body.message).toMatch(/^the day's P&L -2,500.00/);
    expect(body.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(body.details).toMatchObject({ dailyPnl: -2_500, threshold: -0.02 });
    expect(h.lines.filter((l) => l.startsWith('alert fired'))).toHaveLength(1);

    h.advance(90_000);
    h.source.set({ dailyPnl: -100 });
    await h.m.idle();
    expect(r.bodies).toHaveLength(2);
    expect(r.bodies[1].body).toMatchObject({ alert: 'daily_loss_limit', state: 'resolved', severity: 'critical' });
    expect(r.bodies[1].body.text).toMatch(/^\[tradebench\] RESOLVED daily_loss_limit: cleared after 90 s/);
    expect(h.lines.filter((l) => l.startsWith('alert delivery'))).toEqual([
      'alert delivery: daily_loss_limit fired via webhook hook: ok (attempt 1 of 3)',
      'alert delivery: daily_loss_limit resolved via webhook hook: ok (attempt 1 of 3)',
    ]);
    // the header's value is a secret too
    expect(h.lines.join('\n')).not.toContain('hook-token-123');
  });

  it('retries a failed delivery with backoff: two errors, then ok', async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    closers.push(r.close);
    const h = harness(webhookConfig(r.url));
    h.source.state = healthy(losing);
    const started = Date.now();
    h.m.evaluate();
    await h.m.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // 50 ms + 100 ms of backoff
    expect(r.bodies).toHaveLength(3);
    expect(h.lines.filter((l) => l.startsWith('alert delivery'))).toEqual([
      'alert delivery: daily_loss_limit fired via webhook hook: failed: HTTP 500: server error; retry in 0.05 s (attempt 1 of 3)',
      'alert delivery: daily_loss_limit fired via webhook hook: failed: HTTP 500: server error; retry in 0.1 s (attempt 2 of 3)',
      'alert delivery: daily_loss_limit fired via webhook hook: ok (attempt 3 of 3)',
    ]);
    expect(h.deliveries().map((d) => d.kind === 'delivery' && [d.ok, d.attempt])).toEqual([
      [false, 1],
      [false, 2],
      [true, 3],
    ]);
  });

  it('gives up after the bounded attempts', async () => {
    const r = await receiver(() => 503);
    closers.push(r.close);
    const h = harness(webhookConfig(r.url, { delivery: { attempts: 2, backoff: 0.01, timeout: 1 } }));
    h.source.state = healthy(losing);
    h.m.evaluate();
    await h.m.idle();
    expect(r.bodies).toHaveLength(2);
    expect(h.lines.at(-1)).toBe('alert delivery: daily_loss_limit fired via webhook hook: failed: HTTP 503: server error; given up (attempt 2 of 2)');
  });

  it('a receiver that hangs never blocks the evaluation; its delivery times out in the background', async () => {
    const r = await receiver(() => null);
    closers.push(r.close);
    const h = harness(webhookConfig(r.url, { delivery: { attempts: 2, backoff: 0.01, timeout: 0.3 } }));
    h.m.start();
    const started = performance.now();
    h.source.set(losing);
    for (let i = 0; i < 50; i++) {
      h.advance(1000);
      h.source.set({ positions: [position('AAPL', i % 2 ? 0.06 : 0.01)] }); // more alerts, fired and resolved, queued behind
    }
    const took = performance.now() - started;
    expect(took).toBeLessThan(250); // evaluation never waits on the receiver
    expect(h.m.active().map((a) => a.key)).toContain('daily_loss_limit');
    await new Promise((res) => setTimeout(res, 100));
    expect(r.bodies).toHaveLength(1); // the first is still hanging; the queue behind it waits
    // the first is given up after two timeouts (0.3 s each)
    for (let i = 0; i < 100 && !h.lines.some((l) => l.includes('given up')); i++) await new Promise((res) => setTimeout(res, 50));
    const failures = h.lines.filter((l) => l.startsWith('alert delivery: daily_loss_limit fired'));
    expect(failures).toEqual([
      'alert delivery: daily_loss_limit fired via webhook hook: failed: no answer within 0.3 s; retry in 0.01 s (attempt 1 of 2)',
      'alert delivery: daily_loss_limit fired via webhook hook: failed: no answer within 0.3 s; given up (attempt 2 of 2)',
    ]);
  });

  it('never throws into the caller: a failing snapshot is journaled once', () => {
    const source = new MemorySource();
    source.snapshot = () => {
      throw new Error('journal closed');
    };
    const h = harness(defaultAlertsConfig(), source);
    h.m.start();
    expect(() => source.emit({ type: 'bar', ts: T0, data: {} })).not.toThrow();
    h.m.evaluate();
    expect(h.lines).toEqual(['alerts: evaluation failed: journal closed']);
  });

  it('rate-limits a rule: a notification at most every minInterval seconds, the held-back one sent late', async () => {
    const r = await receiver();
    closers.push(r.close);
    const h = harness(webhookConfig(r.url, { rules: { daily_loss_limit: { minInterval: 60 } } }));
    h.m.start();
    h.source.set(losing); // fired: sent
    h.advance(5_000);
    h.source.set({ dailyPnl: 0 }); // resolved: sent
    h.advance(5_000);
    h.source.set(losing); // fired again 10 s after the first: held back
    h.advance(5_000);
    h.source.set({ dailyPnl: 0 }); // resolved: its alert was not sent, neither is this
    h.advance(5_000);
    h.source.set(losing); // held back again
    await h.m.idle();
    expect(r.bodies.map((b) => b.body.state)).toEqual(['fired', 'resolved']);
    expect(h.lines.filter((l) => l.includes('not notified'))).toHaveLength(3);
    expect(h.lines.some((l) => l.includes('not notified: rate limit: one notification of daily_loss_limit per 60 s, the next in 40 s'))).toBe(true);
    expect(h.m.active()).toMatchObject([{ key: 'daily_loss_limit', notified: false }]);
    h.advance(40_000); // the limit lets it go: the alert still firing is sent now
    h.m.evaluate();
    await h.m.idle();
    expect(r.bodies.map((b) => b.body.state)).toEqual(['fired', 'resolved', 'fired']);
    expect(h.m.active()).toMatchObject([{ key: 'daily_loss_limit', notified: true }]);
    expect(h.lines.some((l) => l.startsWith('alert notified late: CRITICAL daily_loss_limit'))).toBe(true);
  });

  describe('e-mail through a real SMTP server', () => {
    const PASSWORD = 's3cret-Pa55word';
    const mails: { from: string; to: string[]; raw: string }[] = [];
    let authFailures = 0;
    let server: SMTPServer;
    let port = 0;
    beforeAll(async () => {
      server = new SMTPServer({
        secure: false,
        disabledCommands: ['STARTTLS'],
        allowInsecureAuth: true,
        authMethods: ['PLAIN', 'LOGIN'],
        onAuth(auth, _session, cb) {
          if (auth.username === 'alerts' && auth.password === PASSWORD && authFailures-- <= 0) return cb(null, { user: 'alerts' });
          // a careless server that echoes the password back: the journal must not carry it
          cb(new Error(`authentication failed for ${auth.username} with ${auth.password}`));
        },
        onData(stream, session, cb) {
          let raw = '';
          stream.on('data', (c) => (raw += c));
          stream.on('end', () => {
            mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((t) => t.address), raw });
            cb();
          });
        },
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const emailConfig = () =>
      parseAlertsConfig(
        {
          channels: {
            oncall: {
              type: 'email',
              host: '127.0.0.1',
              port,
              secure: false,
              user: 'alerts',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${NAME} syntax, not a template
              pass: '${SMTP_PASSWORD}',
              from: 'bot@tradebench.test',
              to: ['oncall@tradebench.test'],
            },
          },
          defaults: { minInterval: 0 },
          delivery: { attempts: 3, backoff: 0.05, timeout: 2 },
        },
        'alerts.yml',
        { SMTP_PASSWORD: PASSWORD },
      );

    it('sends the alert by e-mail: subject and body', async () => {
      const h = harness(emailConfig());
      h.source.state = healthy(losing);
      h.m.evaluate();
      await h.m.idle();
      expect(mails).toHaveLength(1);
      const { headers, body } = parseMail(mails[0].raw);
      expect(mails[0].from).toBe('bot@tradebench.test');
      expect(mails[0].to).toEqual(['oncall@tradebench.test']);
      expect(headers.subject).toMatch(
        /^\[tradebench\] CRITICAL daily_loss_limit: the day's P&L -2,500.00 is -2.50% of the day-start equity 100,000.00, below the limit -2.00%$/,
      );
      expect(body).toContain('run: run-42');
      expect(body).toContain('rule: daily_loss_limit (critical)');
      expect(body).toContain('state: fired');
      expect(body).toContain('dailyPnl: -2500');
      expect(h.lines.at(-1)).toBe('alert delivery: daily_loss_limit fired via email oncall: ok (attempt 1 of 3)');
    });

    it('never journals the SMTP password, even when the server echoes it in an error', async () => {
      mails.length = 0;
      authFailures = 1;
      const h = harness(emailConfig());
      h.source.state = healthy({ risk: { limits: [], breaker: { tripped: true, check: 'circuitBreaker.kill', reason: 'manual kill switch' } } });
      h.m.evaluate();
      await h.m.idle();
      expect(mails).toHaveLength(1);
      expect(parseMail(mails[0].raw).headers.subject).toBe(
        '[tradebench] CRITICAL breaker_tripped: the circuit breaker tripped (circuitBreaker.kill): manual kill switch; trading is halted until a person resets it',
      );
      const deliveries = h.lines.filter((l) => l.startsWith('alert delivery'));
      expect(deliveries).toHaveLength(2);
      expect(deliveries[0]).toMatch(/failed: .*authentication failed for alerts with \*\*\*.*retry in 0.05 s \(attempt 1 of 3\)$/);
      expect(deliveries[1]).toBe('alert delivery: breaker_tripped fired via email oncall: ok (attempt 2 of 3)');
      const everything = `${h.lines.join('\n')}\n${JSON.stringify(h.events)}`;
      expect(everything).not.toContain(PASSWORD);
    });
  });
});

describe('the configuration', () => {
  const err = (raw: unknown, env: NodeJS.ProcessEnv = {}) => {
    try {
      parseAlertsConfig(raw, 'alerts.yml', env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('names the file, the field and the rule in its errors', () => {
    expect(err({ rules: { daily_loss_limit: { threshold: 'x' } } })).toBe(
      "alerts.yml: rules.daily_loss_limit.threshold must be a number below 0 (and above -1), got 'x'",
    );
    expect(err({ rules: { daily_loss_limit: { threshold: 0.02 } } })).toMatch(/^alerts.yml: rules.daily_loss_limit.threshold must be a number below 0/);
    expect(err({ rules: { position_size_breach: { severity: 'loud' } } })).toBe(
      "alerts.yml: rules.position_size_breach.severity must be critical, warning or info, got 'loud'",
    );
    expect(err({ rules: { daily_loss: {} } })).toMatch(/^alerts.yml: rules.daily_loss is not a rule \(the rules: daily_loss_limit, /);
    expect(err({ rules: { breaker_tripped: { threshold: 1 } } })).toBe(
      'alerts.yml: rules.breaker_tripped.threshold is not a setting of breaker_tripped (it has no threshold)',
    );
    expect(err({ rules: { api_disconnection: { channels: ['slack'] } } })).toBe(
      "alerts.yml: rules.api_disconnection.channels names the channel 'slack', which is not in channels",
    );
    expect(err({ channels: { a: { type: 'pager' } } })).toBe("alerts.yml: channels.a.type must be webhook or email, got 'pager'");
    expect(err({ channels: { a: { type: 'webhook', url: 'ftp://x' } } })).toBe(
      "alerts.yml: channels.a.url must be an http:// or https:// address, got 'ftp://x'",
    );
    expect(err({ channels: { m: { type: 'email', host: 'h', from: 'f', to: ['t'] } } })).toBe('alerts.yml: channels.m.port is required');
    expect(err({ channels: { m: { type: 'email', host: 'h', port: 25, from: 'f', to: ['t'], user: 'u', passEnv: 'NOPE' } } })).toBe(
      'alerts.yml: channels.m.passEnv names the environment variable NOPE, which is not set',
    );
    expect(err({ delivery: { attempts: 0 } })).toBe('alerts.yml: delivery.attempts must be a whole number from 1 to 20, got 0');
    expect(err({ rules: { high_error_rate: { window: -1 } } })).toBe('alerts.yml: rules.high_error_rate.window must be a number of seconds above 0, got -1');
    expect(err({ colour: 'red' })).toMatch(/^alerts.yml: colour is not a known field/);
  });

  it('has the defaults without a file', () => {
    const c = defaultAlertsConfig();
    expect(Object.values(c.rules).map((r) => [r.name, r.severity, r.enabled])).toEqual([
      ['daily_loss_limit', 'critical', true],
      ['position_size_breach', 'warning', true],
      ['api_disconnection', 'critical', true],
      ['high_error_rate', 'warning', true],
      ['breaker_tripped', 'critical', true],
      ['reconciliation_mismatch', 'critical', true],
      ['daily_summary', 'info', true],
    ]);
    expect([c.rules.daily_loss_limit.threshold, c.rules.position_size_breach.threshold, c.rules.api_disconnection.threshold]).toEqual([-0.02, 0.05, 30]);
    expect([c.rules.high_error_rate.threshold, c.rules.high_error_rate.window]).toEqual([0.05, 600]);
    expect(c.channels).toEqual({});
  });

  it('reads a YAML file and a JSON file, with the password from the environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alerts-'));
    try {
      const yml = path.join(dir, 'alerts.yml');
      writeFileSync(
        yml,
        [
          'channels:',
          '  slack:',
          '    type: webhook',
          '    url: https://hooks.slack.test/services/T/B/X',
          '  oncall:',
          '    type: email',
          '    host: smtp.test',
          '    port: 587',
          '    user: bot',
          '    passEnv: ALERT_SMTP_PASS',
          '    from: bot@test',
          '    to: [a@test, b@test]',
          'delivery:',
          '  attempts: 4',
          'rules:',
          '  daily_loss_limit:',
          '    threshold: -0.03',
          '    channels: [slack, oncall]',
          '  position_size_breach:',
          '    threshold: 0.1',
          '    severity: critical',
          '    channels: [slack]',
          '    minInterval: 900',
          '  daily_summary: false',
        ].join('\n'),
      );
      const c = loadAlertsConfig(yml, { ALERT_SMTP_PASS: 'hunter22' });
      expect(c.source).toBe(yml);
      expect(c.rules.daily_loss_limit).toMatchObject({ threshold: -0.03, channels: ['slack', 'oncall'], severity: 'critical' });
      expect(c.rules.position_size_breach).toMatchObject({ threshold: 0.1, severity: 'critical', channels: ['slack'], minInterval: 900 });
      expect(c.rules.daily_summary.enabled).toBe(false);
      expect(c.rules.api_disconnection.channels).toEqual(['slack', 'oncall']); // all channels by default
      expect(c.channels.oncall).toMatchObject({ type: 'email', port: 587, secure: false, pass: 'hunter22', to: ['a@test', 'b@test'] });
      expect(c.delivery.attempts).toBe(4);
      expect(c.secrets).toContain('hunter22');

      const json = path.join(dir, 'alerts.json');
      writeFileSync(json, JSON.stringify({ rules: { api_disconnection: { threshold: 'soon' } } }));
      expect(() => loadAlertsConfig(json)).toThrow(`${json}: rules.api_disconnection.threshold must be a number of seconds above 0, got 'soon'`);
      writeFileSync(json, '{ "rules": ');
      expect(() => loadAlertsConfig(json)).toThrow(new RegExp(`^${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not valid JSON`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the example file in ops/ is valid', () => {
    const file = path.join(ROOT, 'ops/alerts.example.yml');
    expect(parseYaml(readFileSync(file, 'utf8'))).toBeTypeOf('object');
    const c = loadAlertsConfig(file, { SMTP_PASSWORD: 'pw', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' });
    expect(Object.keys(c.channels).sort()).toEqual(['oncall', 'slack']);
    expect(c.secrets).toEqual(expect.arrayContaining(['pw', 'https://hooks.slack.com/services/T/B/X']));
  });
});

/** The headers (unfolded, lower-case names) and the text body (quoted-printable decoded) of a raw message. */
function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.slice(split + 4);
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? ''))
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)));
  return { headers, body: body.replace(/\r\n/g, '\n') };
}
