// The ops API under load (issue 13): 100 WebSocket clients on /api/v1/stream while the bench's 50-symbol minute
// session runs against the simulator at full speed (lockstep). Each case runs the same live-latency measurement
// (bar arrival -> placeOrder bytes on the socket), once without the ops server and once with it: a LiveOpsSource
// over the runner, the ops server, and `clients` real `ws` clients connected before the session starts. The
// clients live in this process, so the session, the server and the clients share one event loop (and this
// machine's cores): the figures are an upper bound of what separate client machines would cost the session.
//
// Client lag: for every event, (the time a client's `message` handler runs) - (the time the LiveOpsSource
// published it), the latter recorded by a listener subscribed to the source before the server (so it runs first,
// before the server numbers and sends the event). The server numbers the source's events 1, 2, 3... from its
// start, and so does that listener, so the two meet by seq; each event's type is checked as well.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { LiveOpsSource } from '../../engine/ops/live-source.ts';
import { startOpsServer } from '../../engine/ops/server.ts';

/** What the bench's live-latency measurement returns (the fields used here). */
export interface LatencyFigures {
  orders: number;
  p50: number;
  p99: number;
  max: number;
}

/** Set-up run before `runner.start()`; its result is awaited after `runner.stop()` (before the simulator closes). */
export type AttachOps = (runner: LiveRunner) => Promise<() => Promise<void>>;

/** The bench's live-latency measurement of one session, in `dir`, with an optional set-up around the runner. */
export type MeasureLatency = (dir: string, attach?: AttachOps) => Promise<LatencyFigures>;

export interface ClientLoad {
  clients: number;
  /** events the source published */
  events: number;
  /** the fewest and most events a client received (every client must receive `events`) */
  minDelivered: number;
  maxDelivered: number;
  /** clients that missed an event, saw one out of order, one of another type than published, or no snapshot first */
  clientsWithGaps: number;
  /** milliseconds, over all clients and events */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** WebSocket messages received by all clients per second of the session (first publish to last receipt) */
  messagesPerSec: number;
  /** seconds from the first event published to the last one received */
  seconds: number;
}

export interface OpsLoadRun {
  without: LatencyFigures;
  with: LatencyFigures;
  load: ClientLoad;
  /** wall seconds of the whole session (start to stop), without and with the clients */
  sessionSeconds: { without: number; with: number };
}

export interface OpsLoadFigures {
  runs: OpsLoadRun[];
  clients: number;
  /** medians over the runs */
  median: {
    without: { p50: number; p99: number; orders: number };
    with: { p50: number; p99: number; orders: number };
    /** with / without */
    p50Ratio: number;
    p99Ratio: number;
    lagP50: number;
    lagP99: number;
    lagMax: number;
    messagesPerSec: number;
    events: number;
    sessionSeconds: { without: number; with: number };
  };
  /** the targets */
  maxLagOk: boolean;
  p99Ok: boolean;
  allDelivered: boolean;
}

/** Lag histogram: 10 µs buckets up to 20 s (the max is kept exactly). */
const BUCKET_MS = 0.01;
const BUCKETS = 2_000_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function histQuantile(h: Uint32Array, total: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen >= rank) return (i + 0.5) * BUCKET_MS;
  }
  return Number.NaN;
}

interface ClientState {
  ws: WebSocket;
  snapshot: boolean;
  last: number;
  received: number;
  bad: boolean;
}

/** One session with the ops server and `n` clients; `measure` runs it and returns the bar-to-order latency. */
async function loadedRun(measure: MeasureLatency, dir: string, n: number): Promise<{ latency: LatencyFigures; load: ClientLoad }> {
  const published: number[] = [];
  const types: string[] = [];
  const hist = new Uint32Array(BUCKETS);
  let samples = 0;
  let lagMax = 0;
  let messages = 0;
  let lastReceipt = 0;
  const states: ClientState[] = [];
  let load!: ClientLoad;

  const attach: AttachOps = async (runner) => {
    const source = new LiveOpsSource(runner);
    // first listener of the source: runs before the server's, which numbers and sends
    const unsubscribe = source.subscribe((e) => {
      published.push(performance.now());
      types.push(e.type);
    });
    const server = await startOpsServer({ source, host: '127.0.0.1', port: 0, token: 'bench-token-not-secret', log: () => {} });
    const url = `${server.url.replace(/^http/, 'ws')}/api/v1/stream`;
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url);
            const st: ClientState = { ws, snapshot: false, last: 0, received: 0, bad: false };
            states.push(st);
            ws.on('message', (data: Buffer) => {
              const now = performance.now();
              messages++;
              lastReceipt = now;
              const m = JSON.parse(data.toString()) as { type: string; seq?: number; events?: { seq: number; type: string }[] };
              if (m.type === 'snapshot') {
                if (st.snapshot || st.received > 0) st.bad = true;
                st.snapshot = true;
                st.last = m.seq ?? 0;
                resolve();
                return;
              }
              if (m.type !== 'events' || !m.events) return;
              for (const event of m.events) {
                const seq = event.seq;
                if (!st.snapshot || seq !== st.last + 1 || types[seq - 1] !== event.type) st.bad = true;
                st.last = seq;
                st.received++;
                const t = published[seq - 1];
                if (t === undefined) {
                  st.bad = true;
                  continue;
                }
                const lag = now - t;
                if (lag > lagMax) lagMax = lag;
                hist[Math.min(BUCKETS - 1, Math.max(0, Math.floor(lag / BUCKET_MS)))]++;
                samples++;
              }
            });
            ws.once('error', reject);
          }),
      ),
    );
    return async () => {
      // every client should reach the last event: wait for them (bounded), then count what each got
      const deadline = performance.now() + 30_000;
      while (states.some((s) => s.last < published.length && !s.bad) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const events = published.length;
      const delivered = states.map((s) => s.received);
      load = {
        clients: n,
        events,
        minDelivered: Math.min(...delivered),
        maxDelivered: Math.max(...delivered),
        clientsWithGaps: states.filter((s) => s.bad || s.received !== events).length,
        lagP50: histQuantile(hist, samples, 0.5),
        lagP99: histQuantile(hist, samples, 0.99),
        lagMax,
        messagesPerSec: events > 0 ? messages / ((lastReceipt - published[0]) / 1000) : 0,
        seconds: events > 0 ? (lastReceipt - published[0]) / 1000 : 0,
      };
      await Promise.all(
        states.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.ws.readyState === WebSocket.CLOSED) return resolve();
              s.ws.once('close', () => resolve());
              s.ws.close();
            }),
        ),
      );
      await server.close();
      unsubscribe();
      source.close();
    };
  };
  const latency = await measure(dir, attach);
  return { latency, load };
}

/**
 * `runs` pairs of the session (without, then with the ops server and `clients` WebSocket clients), each in its
 * own directory under `dir` (a fresh journal file per session); the medians over the runs and the verdict.
 */
export async function benchOpsLoad(
  measure: MeasureLatency,
  dir: string,
  o: { clients?: number; runs?: number; progress?: (line: string) => void } = {},
): Promise<OpsLoadFigures> {
  const clients = o.clients ?? 100;
  const runs: OpsLoadRun[] = [];
  for (let i = 0; i < (o.runs ?? 3); i++) {
    const a = path.join(dir, `ops-${i}-without`);
    const b = path.join(dir, `ops-${i}-with`);
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    let t0 = performance.now();
    const without = await measure(a);
    const withoutSec = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const loaded = await loadedRun(measure, b, clients);
    const withSec = (performance.now() - t0) / 1000;
    const run = { without, with: loaded.latency, load: loaded.load, sessionSeconds: { without: withoutSec, with: withSec } };
    runs.push(run);
    o.progress?.(
      `  run ${i + 1}: without p50 ${without.p50.toFixed(3)} / p99 ${without.p99.toFixed(3)} ms; with ${clients} clients p50 ${run.with.p50.toFixed(3)} / p99 ${run.with.p99.toFixed(3)} ms; lag p50 ${run.load.lagP50.toFixed(2)} / p99 ${run.load.lagP99.toFixed(2)} / max ${run.load.lagMax.toFixed(2)} ms; ${run.load.events} events, delivered ${run.load.minDelivered}..${run.load.maxDelivered} per client, ${run.load.clientsWithGaps} clients with gaps; ${Math.round(run.load.messagesPerSec)} msg/s over ${run.load.seconds.toFixed(1)} s; session ${withoutSec.toFixed(1)} s without, ${withSec.toFixed(1)} s with`,
    );
  }
  const m = (f: (r: OpsLoadRun) => number) => median(runs.map(f));
  const withoutP99 = m((r) => r.without.p99);
  const withP99 = m((r) => r.with.p99);
  const withoutP50 = m((r) => r.without.p50);
  const withP50 = m((r) => r.with.p50);
  const lagMax = m((r) => r.load.lagMax);
  const p99Ratio = withP99 / withoutP99;
  return {
    runs,
    clients,
    median: {
      without: { p50: withoutP50, p99: withoutP99, orders: m((r) => r.without.orders) },
      with: { p50: withP50, p99: withP99, orders: m((r) => r.with.orders) },
      p50Ratio: withP50 / withoutP50,
      p99Ratio,
      lagP50: m((r) => r.load.lagP50),
      lagP99: m((r) => r.load.lagP99),
      lagMax,
      messagesPerSec: m((r) => r.load.messagesPerSec),
      events: m((r) => r.load.events),
      sessionSeconds: { without: m((r) => r.sessionSeconds.without), with: m((r) => r.sessionSeconds.with) },
    },
    // the max lag of every run, not only the median run's: "no client falls behind by more than a second"
    maxLagOk: runs.every((r) => r.load.lagMax < 1_000),
    p99Ok: p99Ratio <= 1.1,
    allDelivered: runs.every((r) => r.load.clientsWithGaps === 0 && r.load.minDelivered === r.load.events),
  };
}
