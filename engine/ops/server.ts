// The ops server of a live session (or of a journal replayed read-only): REST + WebSocket on fastify, the dashboard's
// static files, Prometheus metrics. It reads everything through an OpsSource and acts only through its OpsControl.
//
// Routes (JSON unless said otherwise; errors are {statusCode, error, message}):
//   GET  /health                     liveness: {ok: true, runId, mode}
//   GET  /ready                      200 {ready: true, reasons: []} or 503 {ready: false, reasons}
//   GET  /metrics                    the Prometheus text of `o.metrics` (404 without)
//   GET  /api/v1/state               the OpsSnapshot
//   GET  /api/v1/orders|fills|risk-events|logs|positions|equity?offset=&limit=
//                                    an OpsPage (offset >= 0, default 0; limit 1..1000, default 100; else 400)
//   POST /api/v1/kill                {flatten?: boolean, reason?: string}
//   POST /api/v1/breaker/reset
//   POST /api/v1/strategies/:name/pause, /api/v1/strategies/:name/resume
//   POST /api/v1/orders/:id/cancel
//                                    control: `Authorization: Bearer <token>` (else 401, audited with the client's
//                                    address); 405 on a source without control (a replay); the control's refusal is
//                                    404 (unknown strategy or order) or 409 (any other, e.g. an order already final)
//                                    with its message; 200 {ok: true} when done
//   GET  /api/v1/stream              WebSocket, see below
//   GET  /, GET /assets/*            the dashboard built into `dashboardDir` (a page saying how to build it if not)
//
// Browsers: a request with an Origin header other than the server's own is refused (403) unless it carries the valid
// token, and so is one whose Host header names a host other than an IP address, localhost, this machine's hostname or
// the bound host (DNS rebinding); no CORS headers are ever sent, so a page of another origin cannot read an answer.
//
// WebSocket /api/v1/stream[?since=SEQ], server to client (one JSON text message each):
//   {type: 'snapshot', seq, data: OpsSnapshot}   first, when there is no `since` or it cannot be served; `seq` is the
//                                                seq of the last event the snapshot already includes
//   {type: 'events', events: OpsEvent[]}         every event after that, in seq order without gaps, in batches (the
//                                                events of one turn of the event loop; at most 1,000 a message when
//                                                resending); with `since`, the missed events (seq > since) come
//                                                first, instead of the snapshot
//   {type: 'pong'}                               the answer to a client's {type: 'ping'}
// The server also pings every 15 s (protocol ping frames) and drops a client that has not answered the last one. A
// client whose unsent data exceeds `maxBufferedBytes` (default 8 MiB: a few thousand events, or dozens of snapshots)
// is closed with code 4008: it resyncs by reconnecting with ?since=<its last seq>. Sends never wait, so a slow client
// delays neither the others nor the session.
import { realpath, readFile, stat } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { extname, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { OpsStream } from './stream.ts';
import { bearerToken, tokenEquals } from './token.ts';
import type { ControlSource, OpsEvent, OpsPage, OpsSource } from './types.ts';

/** A client's unsent bytes above which it is closed (4008) to resync by reconnecting. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** How often the server pings WebSocket clients. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;
/** Paging: the default and the largest `limit`. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
/** The WebSocket close code of a client dropped for being too slow. */
export const SLOW_CLIENT_CLOSE_CODE = 4008;

export interface OpsServerOptions {
  source: OpsSource;
  /** default 127.0.0.1 */
  host?: string;
  /** default 8080; 0 = any free port */
  port?: number;
  /** the control token (never logged) */
  token: string;
  /** where the dashboard was built (index.html, assets/) */
  dashboardDir?: string;
  metrics?: { contentType: string; metrics(): Promise<string> };
  /** a refused control attempt, to journal: one line (without the token) and who tried */
  audit?: (line: string, source: ControlSource) => void;
  log?: (line: string) => void;
  /** see DEFAULT_MAX_BUFFERED_BYTES */
  maxBufferedBytes?: number;
  /** see DEFAULT_PING_INTERVAL_MS */
  pingIntervalMs?: number;
  /** events kept for reconnecting clients (default 10,000) */
  streamCapacity?: number;
}

export interface OpsServer {
  /** http://host:port (127.0.0.1 / [::1] for a wildcard host) */
  url: string;
  port: number;
  /** the address the server is bound to, as the socket reports it */
  host: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tradebench: dashboard not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The dashboard was not built</h1>
<p>Build it with <code>npm run build</code>, then reload this page.</p>
<p>The API answers meanwhile: <a href="/api/v1/state">/api/v1/state</a>, <a href="/health">/health</a>, <a href="/ready">/ready</a>.</p>
</body></html>
`;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

function errorBody(statusCode: number, message: string): { statusCode: number; error: string; message: string } {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** A non-negative integer query parameter, or its default; throws a 400 naming the parameter. */
function intParam(q: Record<string, unknown>, name: string, dflt: number, min: number, max: number): number {
  const raw = q[name];
  if (raw === undefined) return dflt;
  const bad = () => new HttpError(400, `${name} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`);
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw bad();
  const n = Number(raw);
  if (n < min || n > max) throw bad();
  return n;
}

function pageParams(req: FastifyRequest): { offset: number; limit: number } {
  const q = (req.query ?? {}) as Record<string, unknown>;
  return {
    offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    limit: intParam(q, 'limit', DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT),
  };
}

function slicePage<T>(items: T[], offset: number, limit: number): OpsPage<T> {
  return { total: items.length, offset, items: items.slice(offset, offset + limit) };
}

/** The status of a control's refusal: its own 4xx statusCode, 404 for an unknown thing, else 409. */
function controlStatus(err: unknown): number {
  const own = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof own === 'number' && Number.isInteger(own) && own >= 400 && own < 500) return own;
  const message = err instanceof Error ? err.message : String(err);
  return /\b(unknown|not found|no such)\b/i.test(message) ? 404 : 409;
}

/** An event as JSON; one whose data cannot be serialised still goes out (no gap in the seqs). */
function eventJson(event: OpsEvent): string {
  try {
    return JSON.stringify(event);
  } catch (err) {
    return JSON.stringify({ ...event, data: { unserialisable: (err as Error).message } });
  }
}

/** Events per WebSocket message at most (a resuming client's missed events go in messages of this many). */
export const MAX_EVENTS_PER_MESSAGE = 1_000;

/** One WebSocket message of consecutive events: `{"type":"events","events":[...]}`. */
function eventsText(events: readonly OpsEvent[]): string {
  return `{"type":"events","events":[${events.map(eventJson).join(',')}]}`;
}

/** The host name of a Host header (lowercase, IPv6 without brackets). */
function hostOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const { source } = o;
  if (typeof o.token !== 'string' || o.token.length < 16) throw new Error('the ops server needs a control token of at least 16 characters');
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8080;
  const log = o.log ?? (() => {});
  const maxBuffered = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const pingInterval = o.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  const stream = new OpsStream(o.streamCapacity);

  const allowedNames = new Set(['localhost', osHostname().toLowerCase(), host.toLowerCase()]);
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (hostHeader === undefined) return true; // HTTP/1.0 without Host: not a browser
    const name = hostOf(hostHeader);
    return isIP(name) !== 0 || allowedNames.has(name) || name.endsWith('.localhost');
  };
  const ownOrigin = (origin: string, hostHeader: string | undefined): boolean =>
    hostHeader !== undefined && hostAllowed(hostHeader) && origin.toLowerCase() === `http://${hostHeader.trim().toLowerCase()}`;

  const remoteOf = (req: FastifyRequest): ControlSource => ({ via: 'http', remote: req.ip });
  const refuse = (req: FastifyRequest, why: string): void => {
    const path = req.url.split('?')[0];
    const line = `ops: refused ${req.method} ${path} from ${req.ip}: ${why}`;
    if (o.audit) o.audit(line, remoteOf(req));
    else log(line);
  };
  const hasToken = (req: FastifyRequest): boolean => tokenEquals(bearerToken(req.headers.authorization), o.token);

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, trustProxy: false });

  // Empty JSON bodies are allowed (POST /api/v1/kill without a body); anything else must parse.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new HttpError(400, 'the body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const code = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code >= 500) log(`ops: internal error: ${err.message ?? String(err)}`);
    void reply.code(code).send(errorBody(code, code >= 500 ? 'internal error' : (err.message ?? 'bad request')));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(404, `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  // Registered before the hook below: its own onRequest hook marks upgrade requests, so that a refused one is closed.
  await app.register(websocket, { options: { maxPayload: 64 * 1024, perMessageDeflate: false } });

  // Browsers: own origin only (or the token), plausible Host headers only; no CORS, no framing, no sniffing.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    const origin = req.headers.origin;
    const badHost = !hostAllowed(req.headers.host);
    const badOrigin = typeof origin === 'string' && !ownOrigin(origin, req.headers.host);
    if ((badHost || badOrigin) && !hasToken(req)) {
      const why = badHost ? 'unexpected Host header' : 'cross-origin request without the token';
      if (req.method === 'POST') refuse(req, why);
      return reply.code(403).send(errorBody(403, `${why} refused`));
    }
  });

  // Health, readiness, metrics.
  app.get('/health', async () => {
    const s = source.snapshot();
    return { ok: true, runId: s.runId, mode: s.mode };
  });
  app.get('/ready', async (_req, reply) => {
    const r = source.snapshot().readiness;
    if (r.ready) return { ready: true, reasons: [] };
    return reply.code(503).send({ ready: false, reasons: r.reasons });
  });
  app.get('/metrics', async (_req, reply) => {
    if (!o.metrics) return reply.code(404).send(errorBody(404, 'no metrics on this server'));
    const text = await o.metrics.metrics();
    return reply.type(o.metrics.contentType).send(text);
  });

  // State and pages.
  app.get('/api/v1/state', async () => source.snapshot());
  const pages: [string, (offset: number, limit: number) => OpsPage<unknown>][] = [
    ['orders', (a, b) => source.orders(a, b)],
    ['fills', (a, b) => source.fills(a, b)],
    ['risk-events', (a, b) => source.riskEvents(a, b)],
    ['logs', (a, b) => source.logs(a, b)],
    ['positions', (a, b) => slicePage(source.snapshot().positions, a, b)],
    ['equity', (a, b) => slicePage(source.snapshot().equityCurve, a, b)],
  ];
  for (const [name, page] of pages) {
    app.get(`/api/v1/${name}`, async (req) => {
      const { offset, limit } = pageParams(req);
      return page(offset, limit);
    });
  }

  // Control.
  const control = (path: string, act: (req: FastifyRequest, who: ControlSource) => Promise<void>): void => {
    app.post(path, async (req, reply: FastifyReply) => {
      if (!source.control) {
        return reply.code(405).send(errorBody(405, 'control is disabled: this server shows a finished session (replay)'));
      }
      if (!hasToken(req)) {
        const why = req.headers.authorization === undefined ? 'missing bearer token' : 'wrong bearer token';
        refuse(req, why);
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer realm="tradebench"')
          .send(errorBody(401, `${why}: send Authorization: Bearer <token> (the token file of the session)`));
      }
      const who = remoteOf(req);
      try {
        await act(req, who);
      } catch (err) {
        if (err instanceof HttpError) throw err;
        const code = controlStatus(err);
        return reply.code(code).send(errorBody(code, err instanceof Error ? err.message : String(err)));
      }
      return { ok: true };
    });
  };
  control('/api/v1/kill', async (req, who) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object {flatten?: boolean, reason?: string}');
    if (body.flatten !== undefined && typeof body.flatten !== 'boolean') throw new HttpError(400, 'flatten must be a boolean');
    if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 500)) {
      throw new HttpError(400, 'reason must be a string of at most 500 characters');
    }
    const args: { flatten: boolean; reason?: string } = { flatten: body.flatten === true };
    if (body.reason !== undefined) args.reason = body.reason as string;
    await source.control!.kill(args, who);
  });
  control('/api/v1/breaker/reset', (_req, who) => source.control!.resetBreaker(who));
  control('/api/v1/strategies/:name/pause', (req, who) => source.control!.pause((req.params as { name: string }).name, who));
  control('/api/v1/strategies/:name/resume', (req, who) => source.control!.resume((req.params as { name: string }).name, who));
  control('/api/v1/orders/:id/cancel', async (req, who) => {
    const id = (req.params as { id: string }).id;
    if (!/^\d{1,15}$/.test(id)) throw new HttpError(400, 'the order id must be a non-negative integer');
    await source.control!.cancel(Number(id), who);
  });

  // WebSocket.
  interface Client {
    socket: WebSocket;
    remote: string;
    alive: boolean;
    /** the last seq this client has (from its snapshot or its missed events): later batches skip up to it */
    seq: number;
  }
  const clients = new Set<Client>();
  const dropSlow = (c: Client): void => {
    clients.delete(c);
    log(`ops: closed a slow WebSocket client ${c.remote}: over ${maxBuffered} bytes unsent (it resyncs by reconnecting)`);
    c.socket.close(SLOW_CLIENT_CLOSE_CODE, 'slow consumer: reconnect with ?since=<last seq>');
    setTimeout(() => c.socket.terminate(), 5_000).unref();
  };
  const sendTo = (c: Client, text: string): void => {
    if (c.socket.readyState !== c.socket.OPEN) return;
    if (c.socket.bufferedAmount > maxBuffered) return dropSlow(c);
    c.socket.send(text);
  };
  // Events go out in batches, one message per client per turn of the event loop: a commit of a 50-symbol session
  // makes hundreds of events, and a message each would cost every client hundreds of sends.
  let pending: OpsEvent[] = [];
  let flushing = false;
  const flush = (): void => {
    flushing = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const last = batch[batch.length - 1].seq;
    let text: string | undefined;
    for (const c of clients) {
      if (c.seq >= last) continue;
      // a client that connected since the batch began has some of it already (its snapshot counted them)
      const fresh = c.seq >= batch[0].seq ? batch.filter((e) => e.seq > c.seq) : batch;
      sendTo(c, fresh === batch ? (text ??= eventsText(batch)) : eventsText(fresh));
      c.seq = last;
    }
  };
  const unsubscribeStream = stream.subscribe((event) => {
    if (clients.size === 0) return;
    pending.push(event);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  });
  const unsubscribeSource = stream.attach(source);

  app.get('/api/v1/stream', { websocket: true }, (socket, req) => {
    const client: Client = { socket, remote: req.ip, alive: true, seq: 0 };
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      if ((msg as { type?: unknown } | null)?.type === 'ping' && socket.readyState === socket.OPEN) socket.send('{"type":"pong"}');
    });
    socket.on('close', () => {
      clients.delete(client);
    });
    // Snapshot (or missed events) and subscription in one synchronous step: nothing falls in between.
    const raw = (req.query as Record<string, unknown> | undefined)?.since;
    const since = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    const missed = since === undefined ? null : stream.since(since);
    try {
      if (missed) for (let i = 0; i < missed.length; i += MAX_EVENTS_PER_MESSAGE) socket.send(eventsText(missed.slice(i, i + MAX_EVENTS_PER_MESSAGE)));
      else socket.send(JSON.stringify({ type: 'snapshot', seq: stream.lastSeq, data: source.snapshot() }));
      client.seq = stream.lastSeq;
    } catch (err) {
      log(`ops: WebSocket snapshot failed: ${(err as Error).message}`);
      socket.close(1011, 'snapshot failed');
      return;
    }
    clients.add(client);
  });
  const pinger = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        clients.delete(c);
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, pingInterval);
  pinger.unref();

  // The dashboard.
  const sendFile = async (reply: FastifyReply, file: string, cache: string): Promise<FastifyReply> => {
    const body = await readFile(file);
    return reply
      .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('Cache-Control', cache)
      .send(body);
  };
  app.get('/', async (_req, reply) => {
    if (o.dashboardDir) {
      const index = resolve(o.dashboardDir, 'index.html');
      const st = await stat(index).catch(() => null);
      if (st?.isFile()) return sendFile(reply, index, 'no-cache');
    }
    return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(NOT_BUILT_PAGE);
  });
  app.get('/assets/*', async (req, reply) => {
    const notFound = () => reply.code(404).send(errorBody(404, 'no such asset'));
    if (!o.dashboardDir) return notFound();
    const rel = (req.params as { '*': string })['*'];
    if (!rel || rel.includes('\0')) return notFound();
    const root = resolve(o.dashboardDir, 'assets');
    const file = resolve(root, rel);
    if (!file.startsWith(root + sep)) return notFound();
    // no symbolic link out of the folder either
    const [realRoot, realFile] = await Promise.all([realpath(root).catch(() => null), realpath(file).catch(() => null)]);
    if (realRoot === null || realFile === null || !realFile.startsWith(realRoot + sep)) return notFound();
    const st = await stat(realFile).catch(() => null);
    if (!st?.isFile()) return notFound();
    return sendFile(reply, realFile, 'public, max-age=3600');
  });

  // Every upgraded (or refused upgrade) socket, destroyed at close: the HTTP server's close would wait for them.
  const upgraded = new Set<Duplex>();
  app.server.on('upgrade', (_req, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  });

  let address: string;
  let boundPort: number;
  try {
    await app.listen({ host, port });
    const a = app.server.address();
    if (a === null || typeof a === 'string') throw new Error(`unexpected server address ${String(a)}`);
    address = a.address;
    boundPort = a.port;
  } catch (err) {
    clearInterval(pinger);
    unsubscribeSource();
    unsubscribeStream();
    await app.close().catch(() => {});
    throw new Error(`the ops server cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const urlHost = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '[::1]' : isIP(address) === 6 ? `[${address}]` : address;
  const url = `http://${urlHost}:${boundPort}`;
  log(`ops: serving ${url} (bound to ${address}:${boundPort}; control needs the session's token)`);

  let closing: Promise<void> | null = null;
  return {
    url,
    port: boundPort,
    host: address,
    close: () => {
      closing ??= (async () => {
        clearInterval(pinger);
        unsubscribeSource();
        unsubscribeStream();
        for (const c of clients) c.socket.terminate();
        clients.clear();
        for (const socket of upgraded) socket.destroy();
        await app.close();
      })();
      return closing;
    },
  };
}
