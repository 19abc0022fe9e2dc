// The ops server over real HTTP and a real WebSocket, on a small in-memory OpsSource.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startOpsServer, type OpsServer } from '../../engine/ops/server.ts';
import { OpsStream } from '../../engine/ops/stream.ts';
import { bearerToken, generateToken, loadOrCreateToken, readTokenFile, tokenEquals, writeTokenFile } from '../../engine/ops/token.ts';
import type { ControlSource, OpsControl, OpsEvent, OpsFill, OpsLog, OpsOrder, OpsPage, OpsRiskEvent, OpsSnapshot, OpsSource } from '../../engine/ops/types.ts';

function page<T>(items: T[], offset: number, limit: number): OpsPage<T> {
  return { total: items.length, offset, items: items.slice(offset, offset + limit) };
}

function order(id: number): OpsOrder {
  return {
    id,
    strategy: 'sma',
    symbol: 'AAPL',
    side: 'BUY',
    type: 'MKT',
    quantity: 10,
    limit: null,
    stop: null,
    status: 'FILLED',
    submittedAt: 1_700_000_000_000 + id,
    filledQty: 10,
    avgFillPrice: 100,
  };
}

function snapshotOf(mode: 'live' | 'replay'): OpsSnapshot {
  return {
    runId: 'run-1',
    mode,
    strategy: 'sma',
    symbols: ['AAPL', 'MSFT'],
    now: 1_700_000_000_000,
    account: { netLiquidation: 100_000, cash: 50_000, availableFunds: 50_000, dailyPnl: 12 },
    equity: 100_000,
    cash: 50_000,
    dayStartEquity: 99_988,
    dailyPnl: 12,
    peakEquity: 101_000,
    drawdown: 100_000 / 101_000 - 1,
    exposure: { gross: 0.5, net: 0.5, sectors: [{ sector: 'Tech', weight: 0.5 }] },
    positions: Array.from({ length: 5 }, (_, i) => ({
      symbol: `S${i}`,
      quantity: 10,
      avgCost: 100,
      lastPrice: 101,
      marketValue: 1010,
      unrealizedPnl: 10,
      sector: 'Tech',
      weight: 0.01,
    })),
    openOrders: [],
    fillsToday: [],
    equityCurve: Array.from({ length: 250 }, (_, i) => ({ ts: 1_700_000_000_000 + i * 60_000, equity: 100_000 + i })),
    performance: { totalReturn: 0, sharpe: null, maxDrawdown: 0, winRate: null, profitFactor: null, trades: 0 },
    risk: { limits: [{ name: 'maxGross', value: 0.5, limit: 1, utilisation: 0.5 }], breaker: { tripped: false, check: null, reason: null } },
    connection: { connected: true, lastHeartbeatAt: 1_700_000_000_000, reconnects: 0, messagesPerSecond: 1, maxMessagesPerSecond: 50, reconciled: true },
    latency: { barToOrder: { p50: 3, p99: 9, count: 10 } },
    errors: { total: 0, byCode: {} },
    strategies: [{ name: 'sma', pnl: 12, allocation: 1, paused: false }],
    readiness: { ready: true, reasons: [] },
  };
}

interface Call {
  action: string;
  args: unknown[];
  source: ControlSource;
}

/** A plain in-memory OpsSource: preset data, emit() for events, control calls recorded. */
class MemorySource implements OpsSource {
  snap: OpsSnapshot;
  readonly orderList = Array.from({ length: 250 }, (_, i) => order(i + 1));
  readonly fillList: OpsFill[] = [{ orderId: 1, execId: 'e1', strategy: 'sma', symbol: 'AAPL', ts: 1, quantity: 10, price: 100, commission: 1 }];
  readonly riskList: OpsRiskEvent[] = [{ ts: 1, orderId: 2, check: 'maxGross', value: 1.2, limit: 1, message: 'too big' }];
  readonly logList: OpsLog[] = Array.from({ length: 3 }, (_, i) => ({ ts: i, kind: 'info', message: `line ${i}` }));
  readonly calls: Call[] = [];
  private readonly listeners = new Set<(e: Omit<OpsEvent, 'seq'>) => void>();
  control?: OpsControl;

  constructor(mode: 'live' | 'replay' = 'live') {
    this.snap = snapshotOf(mode);
    if (mode === 'live') {
      const record = (action: string, args: unknown[], source: ControlSource) => this.calls.push({ action, args, source });
      this.control = {
        kill: async (o, source) => void record('kill', [o], source),
        resetBreaker: async (source) => void record('resetBreaker', [], source),
        pause: async (name, source) => {
          if (!this.snap.strategies.some((s) => s.name === name)) throw new Error(`unknown strategy ${name}`);
          record('pause', [name], source);
        },
        resume: async (name, source) => void record('resume', [name], source),
        cancel: async (id, source) => {
          const o = this.orderList.find((x) => x.id === id);
          if (!o) throw new Error(`unknown order ${id}`);
          if (o.status === 'FILLED') throw new Error(`order ${id} is already final (FILLED)`);
          record('cancel', [id], source);
        },
      };
    }
  }
  snapshot(): OpsSnapshot {
    return this.snap;
  }
  subscribe(listener: (e: Omit<OpsEvent, 'seq'>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(type: OpsEvent['type'], data: unknown): void {
    for (const l of this.listeners) l({ type, ts: 1_700_000_000_000, data });
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
  orders(offset: number, limit: number) {
    return page(this.orderList, offset, limit);
  }
  fills(offset: number, limit: number) {
    return page(this.fillList, offset, limit);
  }
  riskEvents(offset: number, limit: number) {
    return page(this.riskList, offset, limit);
  }
  logs(offset: number, limit: number) {
    return page(this.logList, offset, limit);
  }
}

/** A WebSocket client that queues the messages it receives. */
class Client {
  readonly ws: WebSocket;
  readonly messages: any[] = [];
  /** WebSocket messages received (a batch of events is one) */
  frames = 0;
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly opened: Promise<void>;

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
      this.ws.once('unexpected-response', (_req, resp) => rej(new Error(`status ${resp.statusCode}`)));
    });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      this.frames++;
      // a batch of events counts as its events, one message each, as they were sent before batching
      if (msg.type === 'events') for (const event of msg.events) this.messages.push({ type: 'event', event });
      else this.messages.push(msg);
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Waits until `n` messages have arrived (or the socket closed). */
  async count(n: number, ms = 5000): Promise<any[]> {
    const deadline = Date.now() + ms;
    while (this.messages.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out with ${this.messages.length} of ${n} messages`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 50);
      });
    }
    return this.messages.slice(0, n);
  }
  async waitClosed(ms = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('not closed');
      await new Promise((res) => setTimeout(res, 20));
    }
    return this.closed;
  }
  close(): void {
    this.ws.terminate();
  }
}

const TOKEN = generateToken();

describe('the ops server', () => {
  let dir: string;
  let dash: string;
  let source: MemorySource;
  let server: OpsServer;
  const logs: string[] = [];
  const audits: { line: string; source: ControlSource }[] = [];
  const clients: Client[] = [];
  const client = (path: string, headers?: Record<string, string>) => {
    const c = new Client(`${server.url.replace('http', 'ws')}${path}`, headers);
    clients.push(c);
    return c;
  };
  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = (path: string, o: { headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  const get = (path: string, headers?: Record<string, string>) => fetch(`${server.url}${path}`, { headers });
  /** A GET that no client normalised (fetch would neither keep `../` nor let the Host header be set). */
  const raw = (path: string, headers?: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((res, rej) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers }, (resp) => {
        let body = '';
        resp.on('data', (d) => (body += d));
        resp.on('end', () => res({ status: resp.statusCode!, body }));
      });
      req.on('error', rej);
      req.end();
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ops-server-'));
    dash = join(dir, 'dashboard');
    mkdirSync(join(dash, 'assets', 'sub'), { recursive: true });
    writeFileSync(join(dash, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(dash, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dash, 'assets', 'app.css'), 'body{}');
    writeFileSync(join(dash, 'assets', 'sub', 'x.svg'), '<svg/>');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(dash, 'assets', 'link.txt'));
    source = new MemorySource();
    server = await startOpsServer({
      source,
      port: 0,
      token: TOKEN,
      dashboardDir: dash,
      metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'tradebench_equity 100000\n' },
      audit: (line, s) => audits.push({ line, source: s }),
      log: (line) => logs.push(line),
      pingIntervalMs: 200,
    });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    source.snap = snapshotOf('live');
  });
  afterAll(async () => {
    await server.close();
    expect(source.listenerCount).toBe(0);
    // the token never appears in anything the server logged or audited
    expect(logs.length).toBeGreaterThan(0);
    for (const line of [...logs, ...audits.map((a) => a.line)]) expect(line).not.toContain(TOKEN);
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 by default', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('answers /health, /ready and /metrics', async () => {
    let r = await get('/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, runId: 'run-1', mode: 'live' });
    r = await get('/ready');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true, reasons: [] });
    source.snap = { ...snapshotOf('live'), readiness: { ready: false, reasons: ['gateway disconnected', 'breaker tripped'] } };
    r = await get('/ready');
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ready: false, reasons: ['gateway disconnected', 'breaker tripped'] });
    r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await r.text()).toBe('tradebench_equity 100000\n');
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the state and pages', async () => {
    let r = await get('/api/v1/state');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(snapshotOf('live'));

    r = await get('/api/v1/orders');
    let p: any = await r.json();
    expect(p.total).toBe(250);
    expect(p.offset).toBe(0);
    expect(p.items.map((o: OpsOrder) => o.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    r = await get('/api/v1/orders?offset=240&limit=20');
    p = await r.json();
    expect(p).toMatchObject({ total: 250, offset: 240 });
    expect(p.items.map((o: OpsOrder) => o.id)).toEqual([241, 242, 243, 244, 245, 246, 247, 248, 249, 250]);
    expect(((await (await get('/api/v1/orders?limit=1000')).json()) as any).items).toHaveLength(250);

    expect(await (await get('/api/v1/fills')).json()).toEqual({ total: 1, offset: 0, items: source.fillList });
    expect(await (await get('/api/v1/risk-events')).json()).toEqual({ total: 1, offset: 0, items: source.riskList });
    expect(await (await get('/api/v1/logs?offset=1&limit=1')).json()).toEqual({ total: 3, offset: 1, items: [source.logList[1]] });
    expect(await (await get('/api/v1/positions?offset=3')).json()).toEqual({ total: 5, offset: 3, items: source.snap.positions.slice(3) });
    p = await (await get('/api/v1/equity?offset=200&limit=2')).json();
    expect(p).toEqual({ total: 250, offset: 200, items: source.snap.equityCurve.slice(200, 202) });
  });

  it('refuses bad paging with a 400 naming the parameter', async () => {
    for (const [q, name] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=x', 'offset'],
      ['offset=1&offset=2', 'offset'],
    ]) {
      for (const route of ['orders', 'positions']) {
        const r = await get(`/api/v1/${route}?${q}`);
        expect(r.status, `${route}?${q}`).toBe(400);
        const body: any = await r.json();
        expect(body.message).toMatch(new RegExp(`^${name} `));
      }
    }
  });

  it('answers 404 on an unknown route', async () => {
    const r = await get('/api/v1/nope');
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).message).toBe('no route GET /api/v1/nope');
  });

  it('refuses control without the token or with a wrong one (401), audited with the address', async () => {
    audits.length = 0;
    let r = await post('/api/v1/kill', { body: { flatten: true } });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    r = await post('/api/v1/breaker/reset', { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(r.status).toBe(401);
    const text = await r.text();
    expect(text).not.toContain(TOKEN);
    r = await post('/api/v1/strategies/sma/pause', { headers: { authorization: TOKEN } });
    expect(r.status).toBe(401);
    expect(source.calls).toEqual([]);
    expect(audits.map((a) => a.line)).toEqual([
      'ops: refused POST /api/v1/kill from 127.0.0.1: missing bearer token',
      'ops: refused POST /api/v1/breaker/reset from 127.0.0.1: wrong bearer token',
      'ops: refused POST /api/v1/strategies/sma/pause from 127.0.0.1: wrong bearer token',
    ]);
    for (const a of audits) expect(a.source).toEqual({ via: 'http', remote: '127.0.0.1' });
  });

  it('refuses a cross-origin request without the token (403), and sends no CORS headers', async () => {
    audits.length = 0;
    let r = await post('/api/v1/kill', { headers: { origin: 'http://evil.example' }, body: {} });
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(audits).toHaveLength(1);
    expect(audits[0].line).toBe('ops: refused POST /api/v1/kill from 127.0.0.1: cross-origin request without the token');
    r = await get('/api/v1/state', { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    r = await get('/api/v1/state', { origin: 'null' });
    expect(r.status).toBe(403);
    // DNS rebinding: a name that is not this machine's
    expect((await raw('/api/v1/state', { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await raw('/api/v1/state', { host: `localhost:${server.port}` })).status).toBe(200);
    // the server's own origin passes
    r = await get('/api/v1/state', { origin: server.url });
    expect(r.status).toBe(200);
    expect((await raw('/api/v1/state', { origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` })).status).toBe(200);
    expect((await raw('/api/v1/state', { origin: `http://evil.example:${server.port}`, host: `evil.example:${server.port}` })).status).toBe(403);
    // so does another origin with the valid token
    r = await post('/api/v1/breaker/reset', { headers: { origin: 'http://evil.example', ...auth } });
    expect(r.status).toBe(200);
    expect(source.calls.at(-1)?.action).toBe('resetBreaker');
    source.calls.length = 0;
    // and a WebSocket from another origin is refused
    const c = client('/api/v1/stream', { origin: 'http://evil.example' });
    await expect(c.opened).rejects.toThrow('status 403');
  });

  it('hands control actions to the source with via http and the address', async () => {
    source.calls.length = 0;
    const who = { via: 'http', remote: '127.0.0.1' };
    let r = await post('/api/v1/kill', { headers: auth, body: { flatten: true, reason: 'test' } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    r = await post('/api/v1/kill', { headers: auth });
    expect(r.status).toBe(200);
    r = await post('/api/v1/breaker/reset', { headers: auth });
    expect(r.status).toBe(200);
    r = await post('/api/v1/strategies/sma/pause', { headers: auth });
    expect(r.status).toBe(200);
    r = await post('/api/v1/strategies/sma/resume', { headers: auth });
    expect(r.status).toBe(200);
    source.orderList[4].status = 'SUBMITTED';
    r = await post('/api/v1/orders/5/cancel', { headers: auth });
    expect(r.status).toBe(200);
    expect(source.calls).toEqual([
      { action: 'kill', args: [{ flatten: true, reason: 'test' }], source: who },
      { action: 'kill', args: [{ flatten: false }], source: who },
      { action: 'resetBreaker', args: [], source: who },
      { action: 'pause', args: ['sma'], source: who },
      { action: 'resume', args: ['sma'], source: who },
      { action: 'cancel', args: [5], source: who },
    ]);
  });

  it('answers the control’s refusals with 404 / 409 and its message, and bad input with 400', async () => {
    let r = await post('/api/v1/strategies/nope/pause', { headers: auth });
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).message).toBe('unknown strategy nope');
    r = await post('/api/v1/orders/9999/cancel', { headers: auth });
    expect(r.status).toBe(404);
    r = await post('/api/v1/orders/1/cancel', { headers: auth });
    expect(r.status).toBe(409);
    expect(((await r.json()) as any).message).toBe('order 1 is already final (FILLED)');
    r = await post('/api/v1/orders/x/cancel', { headers: auth });
    expect(r.status).toBe(400);
    r = await post('/api/v1/kill', { headers: auth, body: { flatten: 'yes' } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).message).toBe('flatten must be a boolean');
    r = await fetch(`${server.url}/api/v1/kill`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{nope' });
    expect(r.status).toBe(400);
  });

  it('serves the dashboard and its assets with their content types, without traversal', async () => {
    let r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await r.text()).toBe('<!doctype html><title>dash</title>');
    r = await get('/assets/app.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await r.text()).toBe('console.log(1)');
    r = await get('/assets/app.css');
    expect(r.headers.get('content-type')).toBe('text/css; charset=utf-8');
    r = await get('/assets/sub/x.svg');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/svg+xml');
    expect((await get('/assets/missing.js')).status).toBe(404);
    expect((await get('/assets/sub')).status).toBe(404);
    expect((await get('/assets/link.txt')).status).toBe(404);
    expect((await get('/assets/%2e%2e/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get('/assets/..%2f..%2fsecret.txt')).status).toBe(404);
    // a raw path that no client normalised
    const r2 = await raw('/assets/../../secret.txt');
    expect(r2.status).toBe(404);
    expect(r2.body).not.toContain('secret');
    expect((await raw('/assets/sub/../../../secret.txt')).status).toBe(404);
    expect((await raw('/assets/sub/../app.js')).status).toBe(200);
  });

  it('streams a snapshot, then the events in seq order', async () => {
    const c = client('/api/v1/stream');
    const [first] = await c.count(1);
    expect(first.type).toBe('snapshot');
    expect(first.data).toEqual(snapshotOf('live'));
    const base = first.seq as number;
    source.emit('bar', { n: 1 });
    source.emit('fill', { n: 2 });
    source.emit('log', { n: 3 });
    const msgs = await c.count(4);
    expect(c.frames).toBe(2); // the three events of one turn of the event loop in one message
    expect(msgs.slice(1)).toEqual([
      { type: 'event', event: { seq: base + 1, type: 'bar', ts: 1_700_000_000_000, data: { n: 1 } } },
      { type: 'event', event: { seq: base + 2, type: 'fill', ts: 1_700_000_000_000, data: { n: 2 } } },
      { type: 'event', event: { seq: base + 3, type: 'log', ts: 1_700_000_000_000, data: { n: 3 } } },
    ]);
    // an event whose data cannot be serialised still takes its seq
    source.emit('log', { big: 1n });
    const [, , , , bad] = await c.count(5);
    expect(bad.event).toMatchObject({ seq: base + 4, type: 'log', data: { unserialisable: expect.any(String) } });
    // a second client starts where the first one is
    const d = client('/api/v1/stream');
    const [snap] = await d.count(1);
    expect(snap).toMatchObject({ type: 'snapshot', seq: base + 4 });
  });

  it('gives a reconnecting client exactly the events it missed', async () => {
    const c = client('/api/v1/stream');
    const [first] = await c.count(1);
    source.emit('order', { a: 1 });
    const [, e1] = await c.count(2);
    const last = e1.event.seq as number;
    expect(last).toBe(first.seq + 1);
    c.close();
    source.emit('order', { a: 2 });
    source.emit('equity', { a: 3 });
    const d = client(`/api/v1/stream?since=${last}`);
    const missed = await d.count(2);
    expect(missed.map((m) => m.type)).toEqual(['event', 'event']);
    expect(missed.map((m) => m.event.seq)).toEqual([last + 1, last + 2]);
    expect(missed.map((m) => m.event.data)).toEqual([{ a: 2 }, { a: 3 }]);
    source.emit('risk', { a: 4 });
    const [, , next] = await d.count(3);
    expect(next.event).toMatchObject({ seq: last + 3, data: { a: 4 } });
    await new Promise((res) => setTimeout(res, 100));
    expect(d.messages).toHaveLength(3);
    // up to date: nothing is resent
    const e = client(`/api/v1/stream?since=${last + 3}`);
    await e.opened;
    source.emit('log', { a: 5 });
    const [only] = await e.count(1);
    expect(only.event).toMatchObject({ seq: last + 4, data: { a: 5 } });
  });

  it('sends a snapshot when since is older than the buffer or ahead of it', async () => {
    for (let i = 0; i < 10_050; i++) source.emit('bar', { i });
    const c = client('/api/v1/stream?since=1');
    const [m] = await c.count(1);
    expect(m.type).toBe('snapshot');
    const d = client(`/api/v1/stream?since=${m.seq + 100}`);
    const [n] = await d.count(1);
    expect(n).toMatchObject({ type: 'snapshot', seq: m.seq });
    // the oldest seq still kept is served
    const e = client(`/api/v1/stream?since=${m.seq - 10_000}`);
    const got = await e.count(10_000);
    expect(got[0].event.seq).toBe(m.seq - 9_999);
    expect(got.at(-1).event.seq).toBe(m.seq);
  });

  it('answers an application ping with a pong and pings the client', async () => {
    const c = client('/api/v1/stream');
    await c.count(1);
    let pinged = 0;
    c.ws.on('ping', () => pinged++);
    c.ws.send(JSON.stringify({ type: 'ping' }));
    const [, pong] = await c.count(2);
    expect(pong).toEqual({ type: 'pong' });
    await new Promise((res) => setTimeout(res, 500));
    expect(pinged).toBeGreaterThan(0);
    expect(c.closed).toBeNull(); // it answered (ws answers pings by itself)
  });
});

describe('the ops server on a replay source', () => {
  it('answers 405 to control and serves the state', async () => {
    const source = new MemorySource('replay');
    const audits: string[] = [];
    const server = await startOpsServer({ source, port: 0, token: TOKEN, audit: (l) => audits.push(l) });
    try {
      for (const path of [
        '/api/v1/kill',
        '/api/v1/breaker/reset',
        '/api/v1/strategies/sma/pause',
        '/api/v1/strategies/sma/resume',
        '/api/v1/orders/1/cancel',
      ]) {
        const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        expect(r.status, path).toBe(405);
      }
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true, runId: 'run-1', mode: 'replay' });
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      // no dashboard built: a page saying how to build it
      const r = await fetch(`${server.url}/`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('npm run build');
      expect((await fetch(`${server.url}/assets/app.js`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('a slow WebSocket client', () => {
  it('is closed with 4008 when its unsent data passes the bound, while the others go on', async () => {
    const source = new MemorySource();
    const logs: string[] = [];
    const server = await startOpsServer({ source, port: 0, token: TOKEN, maxBufferedBytes: 256 * 1024, log: (l) => logs.push(l) });
    const slow = new Client(`${server.url.replace('http', 'ws')}/api/v1/stream`);
    const fast = new Client(`${server.url.replace('http', 'ws')}/api/v1/stream`);
    try {
      await slow.count(1);
      await fast.count(1);
      (slow.ws as any)._socket.pause(); // stops reading: the server's send buffer fills up
      const blob = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 400; i++) {
        source.emit('log', { i, blob });
        // a turn of the event loop every two events: batches of 128 kB, half the bound, so only the slow client lags
        if (i % 2 === 1) await new Promise((res) => setTimeout(res, 1));
      }
      expect(logs.some((l) => l.includes('closed a slow WebSocket client'))).toBe(true);
      const got = await fast.count(401, 20_000);
      expect(got.at(-1).event.data.i).toBe(399);
      (slow.ws as any)._socket.resume();
      const closed = await slow.waitClosed(10_000);
      expect(closed.code).toBe(4008);
    } finally {
      slow.close();
      fast.close();
      await server.close();
    }
  });
});

describe('a server bound elsewhere', () => {
  it('reports the bound host in its url', async () => {
    const source = new MemorySource();
    const server = await startOpsServer({ source, host: '::1', port: 0, token: TOKEN }).catch(() => null);
    if (!server) return; // no IPv6 loopback here
    try {
      expect(server.host).toBe('::1');
      expect(server.url).toBe(`http://[::1]:${server.port}`);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('refuses to start on a port in use, without the token in the error', async () => {
    const source = new MemorySource();
    const a = await startOpsServer({ source, port: 0, token: TOKEN });
    try {
      const err = await startOpsServer({ source, port: a.port, token: TOKEN }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
      expect((err as Error).message).not.toContain(TOKEN);
    } finally {
      await a.close();
    }
  });
});

describe('the control token', () => {
  it('is 256 random bits in base64url, written with mode 0600 and read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-token-'));
    try {
      const t = generateToken();
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
      expect(generateToken()).not.toBe(t);
      const loaded = loadOrCreateToken({ defaultPath: join(dir, 'a', 'b', 'token') });
      expect(loaded.created).toBe(true);
      expect(statSync(loaded.path).mode & 0o777).toBe(0o600);
      expect(readFileSync(loaded.path, 'utf8')).toBe(`${loaded.token}\n`);
      const again = loadOrCreateToken({ tokenFile: loaded.path, defaultPath: join(dir, 'unused') });
      expect(again).toEqual({ token: loaded.token, path: loaded.path, created: false });
      // a file readable by others is read, and said so
      const loose = join(dir, 'loose');
      writeFileSync(loose, 'abcdefghijklmnopqrstuvwxyz\n', { mode: 0o644 });
      expect(loadOrCreateToken({ tokenFile: loose, defaultPath: 'x' })).toMatchObject({ token: 'abcdefghijklmnopqrstuvwxyz', looseMode: '0644' });
      // rewriting keeps 0600
      writeTokenFile(loose, 'other-token-value');
      expect(statSync(loose).mode & 0o777).toBe(0o600);
      expect(readTokenFile(loose)).toBe('other-token-value');
      writeFileSync(join(dir, 'empty'), '\n');
      expect(() => readTokenFile(join(dir, 'empty'))).toThrow('is empty');
      expect(() => readTokenFile(join(dir, 'missing'))).toThrow('ENOENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares in constant time and parses bearer headers', () => {
    expect(tokenEquals('abc', 'abc')).toBe(true);
    expect(tokenEquals('abd', 'abc')).toBe(false);
    expect(tokenEquals('abcd', 'abc')).toBe(false);
    expect(tokenEquals(undefined, 'abc')).toBe(false);
    expect(tokenEquals('', '')).toBe(false);
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('OpsStream', () => {
  it('numbers events without gaps and keeps the last N', () => {
    const s = new OpsStream(3);
    const seen: number[] = [];
    s.subscribe((e) => seen.push(e.seq));
    s.subscribe(() => {
      throw new Error('a bad listener');
    });
    expect(s.since(0)).toEqual([]);
    for (let i = 0; i < 5; i++) s.push({ type: 'bar', ts: i, data: i });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(s.lastSeq).toBe(5);
    expect(s.firstSeq).toBe(3);
    expect(s.since(2)!.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(s.since(4)!.map((e) => e.data)).toEqual([4]);
    expect(s.since(5)).toEqual([]);
    expect(s.since(1)).toBeNull();
    expect(s.since(6)).toBeNull();
    expect(s.since(-1)).toBeNull();
  });
});
