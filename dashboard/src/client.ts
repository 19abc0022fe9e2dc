// The connection to the ops API: the control token, the WebSocket stream (with resync after a drop), the periodic
// refetch of /api/v1/state, and the control calls. One store; the view re-renders when it changes.
import type { OpsEvent, OpsLog, OpsPage, OpsRiskEvent, OpsSnapshot } from '../../engine/ops/types.ts';
import { type ActivityItem, applyEvent, MAX_ACTIVITY, riskActivity } from './state.ts';

const TOKEN_KEY = 'tradebench.ops.token';
const REFETCH_MS = 15_000;
const PING_MS = 20_000;

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

export interface Toast {
  id: number;
  ok: boolean;
  text: string;
}

export interface ClientState {
  snapshot: OpsSnapshot | null;
  status: StreamStatus;
  /** the seq of the last event applied (the snapshot's seq before any) */
  lastSeq: number | null;
  activity: ActivityItem[];
  token: string | null;
  /** control calls in flight, by key (e.g. 'cancel:12') */
  pending: Record<string, boolean>;
  toasts: Toast[];
  error: string | null;
}

/**
 * The token arrives in the URL fragment (#token=…), which browsers never send to the server. It is kept in
 * sessionStorage (this tab only) and removed from the address bar so it does not end up in history or screenshots.
 */
export function takeToken(): string | null {
  const hash = window.location.hash.replace(/^#/, '');
  const params = new URLSearchParams(hash);
  const fromHash = params.get('token');
  if (fromHash) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
    } catch {
      // storage disabled: the token lives in memory for this page only
    }
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`);
    return fromHash;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export class OpsClient {
  state: ClientState;
  private listeners = new Set<() => void>();
  private ws: WebSocket | null = null;
  private retryMs = 500;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private refetchTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private periodic: ReturnType<typeof setInterval> | undefined;
  private fetching = false;
  private refetchAgain = false;
  /** the events received while GET /api/v1/state is in flight: applied again on top of its answer */
  private duringFetch: OpsEvent[] | null = null;
  private toastId = 0;
  private stopped = false;

  constructor(private readonly base: string = '') {
    this.state = { snapshot: null, status: 'connecting', lastSeq: null, activity: [], token: null, pending: {}, toasts: [], error: null };
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<ClientState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn();
  }

  start(): void {
    this.set({ token: takeToken() });
    this.connect();
    void this.loadActivity();
    this.periodic = setInterval(() => void this.refetch(), REFETCH_MS);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.periodic);
    clearInterval(this.pingTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.refetchTimer);
    this.ws?.close();
  }

  // ---- the stream ----

  private connect(): void {
    if (this.stopped) return;
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.state.lastSeq;
    const url = `${proto}//${window.location.host}${this.base}/api/v1/stream${since === null ? '' : `?since=${since}`}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = 500;
      // after ?since= the server sends only the missed events (none when up to date): open means in sync
      if (this.state.snapshot) this.set({ status: 'live' });
      // and a fresh state besides, in case the server restarted and numbers its events anew
      if (since !== null) this.scheduleRefetch();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'ping' })), PING_MS);
    };
    ws.onmessage = (m) => this.onMessage(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      this.ws = null;
      if (this.stopped) return;
      this.set({ status: 'reconnecting' });
      // back off while the server is down; retry at once after a drop of a working stream
      const wait = opened ? 250 : this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 5_000);
      this.retryTimer = setTimeout(() => this.connect(), wait);
    };
  }

  private onMessage(raw: unknown): void {
    let msg: { type?: string; seq?: number; data?: OpsSnapshot; events?: OpsEvent[] };
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (msg.type === 'snapshot' && msg.data) {
      this.set({ snapshot: msg.data, lastSeq: typeof msg.seq === 'number' ? msg.seq : null, status: 'live', error: null });
    } else if (msg.type === 'events' && Array.isArray(msg.events)) {
      if (this.state.status !== 'live') this.set({ status: 'live' });
      for (const e of msg.events) this.onEvent(e);
    }
  }

  private onEvent(e: OpsEvent): void {
    const { lastSeq, snapshot } = this.state;
    if (lastSeq !== null && e.seq <= lastSeq) return; // already applied (a replayed event after ?since=)
    if (!snapshot) {
      this.set({ lastSeq: e.seq });
      void this.refetch();
      return;
    }
    this.duringFetch?.push(e);
    const gap = lastSeq !== null && e.seq !== lastSeq + 1;
    const extra = e.type === 'risk' ? riskActivity(e) : undefined;
    const r = applyEvent(snapshot, e);
    const activity = [r === 'refetch' ? extra : r.activity].filter((a): a is ActivityItem => a !== undefined);
    this.set({
      snapshot: r === 'refetch' ? snapshot : r.state,
      lastSeq: e.seq,
      activity: activity.length ? [...activity, ...this.state.activity].slice(0, MAX_ACTIVITY) : this.state.activity,
    });
    if (r === 'refetch' || gap) this.scheduleRefetch();
  }

  /** several events in a row that need the snapshot make one request */
  private scheduleRefetch(): void {
    if (this.refetchTimer !== undefined) return;
    this.refetchTimer = setTimeout(() => {
      this.refetchTimer = undefined;
      void this.refetch();
    }, 150);
  }

  /**
   * Replaces the state with GET /api/v1/state, then applies again the events that arrived meanwhile (the answer may
   * predate some of them; applying an event twice changes nothing, as every change is an upsert).
   */
  async refetch(): Promise<void> {
    if (this.fetching) {
      this.refetchAgain = true;
      return;
    }
    this.fetching = true;
    this.duringFetch = [];
    try {
      const res = await fetch(`${this.base}/api/v1/state`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`GET /api/v1/state: ${res.status}`);
      let snapshot = (await res.json()) as OpsSnapshot;
      for (const e of this.duringFetch) {
        const r = applyEvent(snapshot, e);
        if (r !== 'refetch') snapshot = r.state;
      }
      this.set({ snapshot, error: null });
    } catch (err) {
      if (this.state.status === 'live') this.set({ error: (err as Error).message });
    } finally {
      this.fetching = false;
      this.duringFetch = null;
      if (this.refetchAgain) {
        this.refetchAgain = false;
        void this.refetch();
      }
    }
  }

  /** the last few log lines and risk refusals, before the stream's own */
  private async loadActivity(): Promise<void> {
    try {
      const [logs, risks] = await Promise.all([this.lastPage<OpsLog>('logs'), this.lastPage<OpsRiskEvent>('risk-events')]);
      const items: ActivityItem[] = [
        ...logs.map((l) => ({ ts: l.ts, kind: l.kind, message: l.message, risk: false })),
        ...risks.map((r) => ({ ts: r.ts, kind: `risk:${r.check}`, message: r.message, risk: true })),
      ];
      const seen = new Set(this.state.activity.map((a) => `${a.ts}|${a.message}`));
      const merged = [...this.state.activity, ...items.filter((a) => !seen.has(`${a.ts}|${a.message}`))];
      merged.sort((a, b) => b.ts - a.ts);
      this.set({ activity: merged.slice(0, MAX_ACTIVITY) });
    } catch {
      // the lists are a convenience: the stream fills the panel anyway
    }
  }

  private async lastPage<T>(what: string, n = 25): Promise<T[]> {
    const get = async (offset: number, limit: number) => {
      const res = await fetch(`${this.base}/api/v1/${what}?offset=${offset}&limit=${limit}`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`${what}: ${res.status}`);
      return (await res.json()) as OpsPage<T>;
    };
    const first = await get(0, n);
    if (first.total <= n) return first.items;
    return (await get(first.total - n, n)).items;
  }

  // ---- control ----

  get canControl(): boolean {
    return this.state.token !== null && this.state.snapshot?.mode === 'live';
  }

  /** POST a control endpoint with the bearer token; the outcome shows as a toast */
  async control(key: string, path: string, body: unknown, label: string): Promise<boolean> {
    const token = this.state.token;
    if (!token) return false;
    this.set({ pending: { ...this.state.pending, [key]: true } });
    let ok = false;
    let text = label;
    try {
      const res = await fetch(`${this.base}/api/v1/${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      ok = res.ok;
      if (!ok) {
        let detail = `${res.status} ${res.statusText}`;
        try {
          const j = (await res.json()) as { message?: string; error?: string };
          detail = j.message ?? j.error ?? detail;
        } catch {
          // not JSON
        }
        text = res.status === 401 ? `${label}: the token was refused (open the URL the runner printed)` : `${label}: ${detail}`;
      }
    } catch (err) {
      text = `${label}: ${(err as Error).message}`;
    }
    const pending = { ...this.state.pending };
    delete pending[key];
    this.set({ pending });
    this.toast(ok, ok ? `${label}: done` : text);
    if (ok) this.scheduleRefetch();
    return ok;
  }

  private toast(ok: boolean, text: string): void {
    const id = ++this.toastId;
    this.set({ toasts: [...this.state.toasts, { id, ok, text }].slice(-4) });
    setTimeout(() => this.set({ toasts: this.state.toasts.filter((t) => t.id !== id) }), ok ? 4_000 : 8_000);
  }
}
