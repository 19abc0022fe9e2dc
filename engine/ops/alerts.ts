// Built-in alerts of a live session: rules evaluated on every event of an OpsSource and on a timer, each alert
// notified once while it fires (deduplicated by its key), at most once per rule per `minInterval` (rate limit), and
// again when it clears (resolved). Sending is in the background, one queue per channel, retried with backoff a
// bounded number of times: evaluation is synchronous, never waits on a receiver and never throws into the caller.
// Every alert and every delivery result is journaled through the caller's `journal(line)` (passwords and values
// taken from the environment replaced by ***) and emitted as an 'alert' event.
import { ExchangeCalendar, US_CLOSE_MIN, US_OPEN_MIN } from '../core/calendar.ts';
import { type AlertChannel, type AlertNotice, createChannel, headline } from './alert-channels.ts';
import { type AlertsConfig, defaultAlertsConfig, type RuleConfig, type RuleName, type Severity } from './alerts-config.ts';
import type { OpsEvent, OpsOrder, OpsSnapshot, OpsSource } from './types.ts';

export type { AlertNotice } from './alert-channels.ts';

/** A firing alert, for the dashboard (`AlertManager.active()`). */
export interface ActiveAlert {
  key: string;
  rule: RuleName;
  severity: Severity;
  message: string;
  /** when it started firing (the manager's clock), epoch ms */
  since: number;
  /** the session's clock then */
  sessionTs: number;
  /** whether its notification went out (false while held back by the rule's rate limit) */
  notified: boolean;
  details: Record<string, unknown>;
}

/** The `data` of the 'alert' events the manager emits. */
export type AlertEventData =
  | { kind: 'alert'; notice: AlertNotice; notified: boolean; suppressed: string | null }
  | {
      kind: 'delivery';
      key: string;
      rule: string;
      state: 'fired' | 'resolved';
      channel: string;
      channelType: 'webhook' | 'email';
      ok: boolean;
      attempt: number;
      attempts: number;
      error: string | null;
      /** ms until the next attempt, null when none follows */
      retryInMs: number | null;
    };

export interface AlertManagerOptions {
  source: OpsSource;
  /** the rules and channels (`loadAlertsConfig`); the defaults (journaled only) when absent */
  config?: AlertsConfig;
  /** every alert and delivery result, one line each (the live runner journals them as logs) */
  journal: (line: string) => void;
  /** the same as 'alert' events (for the WebSocket) */
  onEvent?: (e: Omit<OpsEvent, 'seq'>) => void;
  /** epoch ms now (rate limits, disconnection times, delivery backoff); Date.now by default */
  clock?: () => number;
  /** channels by name instead of those the config describes (tests, custom senders) */
  channels?: Record<string, AlertChannel>;
}

/** A condition that holds now. */
interface Condition {
  key: string;
  rule: RuleConfig;
  message: string;
  details: Record<string, unknown>;
}

interface Firing extends ActiveAlert {
  /** the notice that fired it (sent, or to be sent when the rate limit lets it) */
  notice: AlertNotice;
}

interface Job {
  notice: AlertNotice;
  attempt: number;
}

interface ChannelQueue {
  channel: AlertChannel;
  jobs: Job[];
  busy: boolean;
}

const NY = 'America/New_York';
const RETRY_LIMIT_MS = 2_147_000_000;

export class AlertManager {
  readonly config: AlertsConfig;
  private readonly source: OpsSource;
  private readonly clock: () => number;
  private readonly journalFn: (line: string) => void;
  private readonly onEvent?: (e: Omit<OpsEvent, 'seq'>) => void;
  private readonly queues = new Map<string, ChannelQueue>();
  private readonly firing = new Map<string, Firing>();
  /** the last notification of each rule (its rate limit) */
  private readonly lastNotified = new Map<RuleName, number>();
  private readonly summarized = new Set<number>();
  private readonly calendar = new ExchangeCalendar(NY, US_OPEN_MIN, US_CLOSE_MIN);
  /**
   * The same calendar for the wall clock: a calendar caches the day it last read, and the session's clock (a
   * replay of 2013) and the wall clock alternating on one would reload it on every evaluation.
   */
  private readonly wallCalendar = new ExchangeCalendar(NY, US_OPEN_MIN, US_CLOSE_MIN);
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];
  private disconnectedSince: number | null = null;
  /** the last reconciliation mismatch seen, until a reconciliation finds the positions agree */
  private mismatch: { check: string; message: string; value: number; limit: number } | null = null;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastFailure = '';
  private evaluating = false;

  constructor(o: AlertManagerOptions) {
    this.source = o.source;
    this.config = o.config ?? defaultAlertsConfig();
    this.clock = o.clock ?? Date.now;
    this.journalFn = o.journal;
    this.onEvent = o.onEvent;
    const timeoutMs = this.config.delivery.timeout * 1000;
    const channels = o.channels ?? Object.fromEntries(Object.values(this.config.channels).map((c) => [c.name, createChannel(c, timeoutMs)]));
    for (const [name, channel] of Object.entries(channels)) this.queues.set(name, { channel, jobs: [], busy: false });
  }

  /** Evaluates on every event of the source from now on and every `evaluateEvery` seconds. */
  start(): this {
    if (this.closed || this.unsubscribe) return this;
    this.unsubscribe = this.source.subscribe((e) => {
      if (e.type !== 'alert') this.evaluate(e); // its own events, forwarded by the source, are not news
    });
    this.timer = setInterval(() => this.evaluate(), this.config.evaluateEvery * 1000);
    this.timer.unref();
    this.evaluate();
    return this;
  }

  /**
   * Evaluates every rule against the source's snapshot now (and `event`, when one came): fires the alerts whose
   * condition holds, resolves those whose condition cleared, and queues their notifications. Synchronous; never throws.
   */
  evaluate(event?: Omit<OpsEvent, 'seq'>): void {
    if (this.closed || this.evaluating) return;
    this.evaluating = true;
    try {
      if (event) this.observe(event);
      const snap = this.source.snapshot();
      const now = this.clock();
      const holding = this.conditions(snap, now);
      const seen = new Set<string>();
      for (const c of holding) {
        seen.add(c.key);
        const f = this.firing.get(c.key);
        if (f) {
          f.message = c.message;
          f.details = c.details;
        } else this.fire(c, snap, now);
      }
      for (const [key, f] of this.firing) if (!seen.has(key)) this.resolve(f, snap, now);
      // alerts still firing whose notification the rate limit held back go out once it lets them
      for (const f of this.firing.values()) if (!f.notified && this.allowed(f.rule, now)) this.notifyFired(f, now, true);
      this.dailySummary(snap, now);
      this.lastFailure = '';
    } catch (e) {
      const why = `alerts: evaluation failed: ${(e as Error).message}`;
      if (why !== this.lastFailure) this.say(why);
      this.lastFailure = why;
    } finally {
      this.evaluating = false;
    }
  }

  /** The alerts firing now, the oldest first. */
  active(): ActiveAlert[] {
    return [...this.firing.values()].map(({ notice: _, ...a }) => ({ ...a, details: { ...a.details } }));
  }

  /** Resolves once every queued notification was delivered or given up (retries included). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops evaluating; waits up to `waitMs` for the deliveries under way, then drops the rest and closes the channels. */
  async close(o: { waitMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    const waitMs = o.waitMs ?? 5_000;
    if (waitMs > 0 && !this.isIdle()) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (t = setTimeout(r, waitMs)))]);
      clearTimeout(t);
    }
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    let dropped = 0;
    for (const q of this.queues.values()) {
      dropped += q.jobs.length;
      q.jobs = [];
      try {
        q.channel.close();
      } catch {
        // closing is best effort
      }
    }
    if (dropped > 0) this.say(`alerts: closed with ${dropped} notification${dropped === 1 ? '' : 's'} not delivered`);
    this.wakeIdle(true);
  }

  // ---- the rules ----

  /** What an event says that the snapshot does not: reconciliation mismatches and their clearing. */
  private observe(e: Omit<OpsEvent, 'seq'>): void {
    const d = e.data as Record<string, unknown> | null;
    if (!d || typeof d !== 'object') return;
    if (e.type === 'risk' && typeof d.check === 'string' && d.check.startsWith('reconcile.'))
      this.mismatch = { check: d.check, message: String(d.message ?? ''), value: Number(d.value), limit: Number(d.limit) };
    else if (e.type === 'log' && d.kind === 'reconcile' && typeof d.message === 'string' && /positions agree/.test(d.message)) this.mismatch = null;
  }

  private conditions(s: OpsSnapshot, now: number): Condition[] {
    const r = this.config.rules;
    const out: Condition[] = [];
    const on = (name: RuleName) => r[name].enabled;

    if (on('daily_loss_limit') && s.dayStartEquity > 0 && Number.isFinite(s.dailyPnl)) {
      const frac = s.dailyPnl / s.dayStartEquity;
      const rule = r.daily_loss_limit;
      if (frac < rule.threshold)
        out.push({
          key: rule.name,
          rule,
          message: `the day's P&L ${money(s.dailyPnl)} is ${pct(frac)} of the day-start equity ${money(s.dayStartEquity)}, below the limit ${pct(rule.threshold)}`,
          details: { dailyPnl: s.dailyPnl, dayStartEquity: s.dayStartEquity, fraction: frac, threshold: rule.threshold, equity: s.equity },
        });
    }

    if (on('position_size_breach')) {
      const rule = r.position_size_breach;
      for (const p of s.positions) {
        const w = Number.isFinite(p.weight) ? p.weight : s.equity > 0 ? Math.abs(p.marketValue) / s.equity : Number.NaN;
        if (w > rule.threshold)
          out.push({
            key: `${rule.name}:${p.symbol}`,
            rule,
            message: `${p.symbol} ${p.quantity} shares (${money(p.marketValue)}) is ${pct(w)} of the equity, above the limit ${pct(rule.threshold)}`,
            details: { symbol: p.symbol, quantity: p.quantity, marketValue: p.marketValue, weight: w, threshold: rule.threshold, equity: s.equity },
          });
      }
    }

    if (s.connection.connected) this.disconnectedSince = null;
    else this.disconnectedSince ??= now;
    if (on('api_disconnection') && this.disconnectedSince !== null) {
      const rule = r.api_disconnection;
      const secs = (now - this.disconnectedSince) / 1000;
      if (secs > rule.threshold)
        out.push({
          key: rule.name,
          rule,
          message: `the gateway has been disconnected for ${Math.round(secs)} s (the limit is ${rule.threshold} s; ${s.connection.reconnects} reconnects so far)`,
          details: {
            disconnectedSince: this.disconnectedSince,
            seconds: Math.round(secs),
            threshold: rule.threshold,
            lastHeartbeatAt: s.connection.lastHeartbeatAt,
            reconnects: s.connection.reconnects,
          },
        });
    }

    if (on('high_error_rate') && Number.isFinite(s.now)) {
      const rule = r.high_error_rate;
      const recent = this.recentOrders(s.now - rule.window * 1000);
      const bad = recent.filter((o) => o.status === 'REJECTED' || /error|inactive/i.test(o.status)).length;
      const rate = recent.length > 0 ? bad / recent.length : 0;
      if (recent.length >= rule.minOrders && rate > rule.threshold)
        out.push({
          key: rule.name,
          rule,
          message: `${bad} of ${recent.length} orders in the last ${rule.window / 60} min were rejected or errored (${pct(rate)}, the limit is ${pct(rule.threshold)})`,
          details: { orders: recent.length, failed: bad, rate, threshold: rule.threshold, windowSeconds: rule.window, errorsTotal: s.errors.total },
        });
    }

    if (on('breaker_tripped') && s.risk.breaker.tripped) {
      const rule = r.breaker_tripped;
      out.push({
        key: rule.name,
        rule,
        message: `the circuit breaker tripped${s.risk.breaker.check ? ` (${s.risk.breaker.check})` : ''}: ${s.risk.breaker.reason ?? 'no reason given'}; trading is halted until a person resets it`,
        details: { check: s.risk.breaker.check, reason: s.risk.breaker.reason },
      });
    }

    if (on('reconciliation_mismatch') && this.mismatch) {
      const rule = r.reconciliation_mismatch;
      out.push({
        key: rule.name,
        rule,
        message: `reconciliation found a difference with the broker (${this.mismatch.check}): ${this.mismatch.message}`,
        details: { ...this.mismatch },
      });
    }
    return out;
  }

  /** The orders submitted at or after `from` (session time), read from the newest back. */
  private recentOrders(from: number): OpsOrder[] {
    const out: OpsOrder[] = [];
    const page = 500;
    let end = this.source.orders(0, 0).total;
    for (let pages = 0; end > 0 && pages < 20; pages++) {
      const offset = Math.max(0, end - page);
      const items = this.source.orders(offset, end - offset).items;
      let older = false;
      for (let i = items.length - 1; i >= 0; i--) {
        if (items[i].submittedAt >= from) out.push(items[i]);
        else older = true;
      }
      if (older || items.length === 0) break;
      end = offset;
    }
    return out;
  }

  /** The day's summary, once per New York day, once the session's clock is past the close. */
  private dailySummary(s: OpsSnapshot, now: number): void {
    const rule = this.config.rules.daily_summary;
    if (!rule.enabled || !Number.isFinite(s.now)) return;
    const cal = this.calendar;
    const day = cal.day(s.now);
    if (this.summarized.has(day)) return;
    // bars are stamped at their start, so the session's clock may stop short of 16:00: a live session's wall clock
    // past the close of the same day counts too
    const wall = this.wallCalendar;
    const afterClose =
      cal.minuteOfDay(s.now) >= cal.closeMin(s.now) || (s.mode === 'live' && wall.day(now) === day && wall.minuteOfDay(now) >= wall.closeMin(now));
    if (!afterClose) return;
    this.summarized.add(day);
    const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const trades = new Set(s.fillsToday.map((f) => f.orderId)).size;
    const frac = s.dayStartEquity > 0 ? s.dailyPnl / s.dayStartEquity : Number.NaN;
    const notice: AlertNotice = {
      key: `${rule.name}:${date}`,
      rule: rule.name,
      severity: rule.severity,
      state: 'fired',
      message: `${date}: equity ${money(s.equity)}, day P&L ${signedMoney(s.dailyPnl)}${Number.isFinite(frac) ? ` (${pct(frac, true)})` : ''}, ${trades} trade${trades === 1 ? '' : 's'}, ${s.fillsToday.length} fill${s.fillsToday.length === 1 ? '' : 's'}`,
      runId: s.runId,
      ts: now,
      sessionTs: s.now,
      details: {
        date,
        equity: s.equity,
        dailyPnl: s.dailyPnl,
        dailyReturn: frac,
        trades,
        fills: s.fillsToday.length,
        positions: s.positions.length,
        openOrders: s.openOrders.length,
        drawdown: s.drawdown,
      },
    };
    this.announce(notice, rule.channels.length > 0, null, rule);
  }

  // ---- firing, resolving, rate limits ----

  private fire(c: Condition, s: OpsSnapshot, now: number): void {
    const notice: AlertNotice = {
      key: c.key,
      rule: c.rule.name,
      severity: c.rule.severity,
      state: 'fired',
      message: c.message,
      runId: s.runId,
      ts: now,
      sessionTs: s.now,
      details: c.details,
    };
    const f: Firing = {
      key: c.key,
      rule: c.rule.name,
      severity: c.rule.severity,
      message: c.message,
      since: now,
      sessionTs: s.now,
      notified: false,
      details: c.details,
      notice,
    };
    this.firing.set(c.key, f);
    if (this.allowed(f.rule, now)) this.notifyFired(f, now, false);
    else {
      const rule = this.config.rules[f.rule];
      const wait = Math.ceil((rule.minInterval * 1000 - (now - (this.lastNotified.get(f.rule) ?? 0))) / 1000);
      this.announce(notice, false, `rate limit: one notification of ${f.rule} per ${rule.minInterval} s, the next in ${wait} s`, rule);
    }
  }

  private notifyFired(f: Firing, now: number, late: boolean): void {
    const rule = this.config.rules[f.rule];
    f.notified = true;
    if (rule.channels.length > 0) this.lastNotified.set(f.rule, now);
    // a late notification says what holds now
    const notice = late ? { ...f.notice, message: f.message, details: f.details, ts: now } : f.notice;
    this.announce(notice, rule.channels.length > 0, null, rule, late);
  }

  private resolve(f: Firing, s: OpsSnapshot, now: number): void {
    this.firing.delete(f.key);
    const rule = this.config.rules[f.rule];
    const notice: AlertNotice = {
      key: f.key,
      rule: f.rule,
      severity: f.severity,
      state: 'resolved',
      message: `cleared after ${duration(now - f.since)} (was: ${f.message})`,
      runId: s.runId,
      ts: now,
      sessionTs: s.now,
      details: { ...f.details, firedAt: f.since },
    };
    // a resolution is sent where its alert was sent, and only then
    this.announce(notice, f.notified && rule.channels.length > 0, f.notified ? null : 'its alert was not notified (rate limit)', rule);
  }

  private allowed(name: RuleName, now: number): boolean {
    const last = this.lastNotified.get(name);
    return last === undefined || now - last >= this.config.rules[name].minInterval * 1000;
  }

  /** Journals and emits an alert, and queues its notification on the rule's channels when `send`. */
  private announce(n: AlertNotice, send: boolean, suppressed: string | null, rule: RuleConfig, late = false): void {
    const where = send ? `notified on ${rule.channels.join(', ')}` : suppressed ? `not notified: ${suppressed}` : 'no channels: journaled only';
    this.say(`alert ${late ? 'notified late' : n.state}: ${headline(n)} (${where})`);
    this.emit(n.ts, { kind: 'alert', notice: n, notified: send, suppressed });
    if (!send) return;
    for (const name of rule.channels) {
      const q = this.queues.get(name);
      if (!q) continue;
      if (q.jobs.length >= this.config.delivery.maxQueue) {
        const dropped = q.jobs.shift()!;
        this.say(`alert delivery: ${dropped.notice.key} ${dropped.notice.state} on ${name} dropped: ${this.config.delivery.maxQueue} notifications wait on it`);
      }
      q.jobs.push({ notice: n, attempt: 1 });
      // started on the next turn of the event loop: the evaluation returns first
      if (!q.busy) setImmediate(() => this.pump(q));
    }
  }

  // ---- delivery ----

  /** Sends a channel's queued notifications one at a time, in order; a failed one is retried before the next. */
  private pump(q: ChannelQueue): void {
    if (q.busy || this.closed) return this.wakeIdle();
    const job = q.jobs[0];
    if (!job) return this.wakeIdle();
    q.busy = true;
    const { attempts } = this.config.delivery;
    let sending: Promise<void>;
    try {
      sending = q.channel.send(job.notice);
    } catch (e) {
      sending = Promise.reject(e);
    }
    sending.then(
      () => {
        this.delivered(q, job, true, null, null);
        q.jobs.shift();
        q.busy = false;
        this.pump(q);
      },
      (e: unknown) => {
        const error = (e instanceof Error ? e.message : String(e)) || 'failed';
        if (job.attempt >= attempts || this.closed) {
          this.delivered(q, job, false, error, null);
          q.jobs.shift();
          q.busy = false;
          this.pump(q);
          return;
        }
        const { backoff, maxBackoff } = this.config.delivery;
        const delay = Math.min(maxBackoff * 1000, backoff * 1000 * 2 ** (job.attempt - 1), RETRY_LIMIT_MS);
        this.delivered(q, job, false, error, delay);
        const t = setTimeout(() => {
          this.retryTimers.delete(t);
          job.attempt++;
          q.busy = false;
          this.pump(q);
        }, delay);
        t.unref();
        this.retryTimers.add(t);
      },
    );
  }

  private delivered(q: ChannelQueue, job: Job, ok: boolean, error: string | null, retryInMs: number | null): void {
    const { attempts } = this.config.delivery;
    const n = job.notice;
    const outcome = ok
      ? 'ok'
      : `failed: ${error}${retryInMs !== null ? `; retry in ${retryInMs / 1000} s` : job.attempt >= attempts ? '; given up' : '; dropped (closing)'}`;
    this.say(`alert delivery: ${n.key} ${n.state} via ${q.channel.type} ${q.channel.name}: ${outcome} (attempt ${job.attempt} of ${attempts})`);
    this.emit(this.clock(), {
      kind: 'delivery',
      key: n.key,
      rule: n.rule,
      state: n.state,
      channel: q.channel.name,
      channelType: q.channel.type,
      ok,
      attempt: job.attempt,
      attempts,
      error: error === null ? null : this.redact(error),
      retryInMs,
    });
  }

  private isIdle(): boolean {
    for (const q of this.queues.values()) if (q.busy || q.jobs.length > 0) return false;
    return true;
  }

  private wakeIdle(force = false): void {
    if (!force && !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ---- output ----

  private redact(s: string): string {
    let out = s;
    for (const secret of this.config.secrets) if (secret.length >= 3) out = out.split(secret).join('***');
    return out;
  }

  private say(line: string): void {
    try {
      this.journalFn(this.redact(line));
    } catch {
      // the journal's own failure is its business, never the trading loop's
    }
  }

  private emit(ts: number, data: AlertEventData): void {
    if (!this.onEvent) return;
    try {
      this.onEvent({ type: 'alert', ts, data });
    } catch {
      // a listener's failure is not ours to raise
    }
  }
}

function money(v: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function signedMoney(v: number): string {
  return `${v > 0 ? '+' : ''}${money(v)}`;
}

function pct(v: number, signed = false): string {
  return `${signed && v > 0 ? '+' : ''}${(v * 100).toFixed(2)}%`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
