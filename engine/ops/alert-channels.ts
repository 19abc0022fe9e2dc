// Where an alert is sent: a webhook (a JSON POST that Slack's incoming webhooks and generic receivers both accept)
// or an e-mail through SMTP (nodemailer). Each send either resolves or rejects within the configured timeout;
// the AlertManager retries and journals, never the trading loop.
import { createRequire } from 'node:module';
import type Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { ChannelConfig, EmailChannel, Severity, WebhookChannel } from './alerts-config.ts';

/** One notification of an alert: it fired, or it cleared. */
export interface AlertNotice {
  /** what it is about: the rule, and the symbol or day for rules that fire per symbol or per day (`position_size_breach:AAPL`) */
  key: string;
  rule: string;
  severity: Severity;
  state: 'fired' | 'resolved';
  message: string;
  runId: string;
  /** when it fired or resolved (the AlertManager's clock), epoch ms */
  ts: number;
  /** the session's clock (the last bar) then, epoch ms */
  sessionTs: number;
  /** the numbers behind it (value, threshold, symbol, ...) */
  details: Record<string, unknown>;
}

export interface AlertChannel {
  readonly name: string;
  readonly type: 'webhook' | 'email';
  /** resolves when the receiver took it; rejects (within `timeoutMs`) when it did not */
  send(notice: AlertNotice): Promise<void>;
  close(): void;
}

/** "CRITICAL daily_loss_limit: ..." / "RESOLVED daily_loss_limit: ..." */
export function headline(n: AlertNotice): string {
  return `${n.state === 'resolved' ? 'RESOLVED' : n.severity.toUpperCase()} ${n.key}: ${n.message}`;
}

/** The lines of a notification's text: the headline, then the run, the times and the details. */
export function noticeText(n: AlertNotice): string {
  const lines = [
    headline(n),
    '',
    `run: ${n.runId}`,
    `rule: ${n.rule} (${n.severity})`,
    `state: ${n.state}`,
    `at: ${new Date(n.ts).toISOString()} (session time ${Number.isFinite(n.sessionTs) ? new Date(n.sessionTs).toISOString() : 'unknown'})`,
  ];
  for (const [k, v] of Object.entries(n.details)) lines.push(`${k}: ${typeof v === 'number' ? fmtNumber(v) : String(v)}`);
  return lines.join('\n');
}

/** The webhook body: Slack reads `text` and `blocks`, other receivers the structured fields beside them. */
export function webhookBody(n: AlertNotice): Record<string, unknown> {
  const icon =
    n.state === 'resolved'
      ? ':white_check_mark:'
      : n.severity === 'critical'
        ? ':rotating_light:'
        : n.severity === 'warning'
          ? ':warning:'
          : ':information_source:';
  const text = `[tradebench] ${headline(n)}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${escapeMrkdwn(text)}*` } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`run ${n.runId} · ${n.rule} · ${n.severity} · ${n.state} · ${new Date(n.ts).toISOString()}`) }],
      },
    ],
    alert: n.key,
    rule: n.rule,
    severity: n.severity,
    state: n.state,
    message: n.message,
    runId: n.runId,
    ts: n.ts,
    sessionTs: Number.isFinite(n.sessionTs) ? n.sessionTs : null,
    details: n.details,
  };
}

export function createChannel(c: ChannelConfig, timeoutMs: number): AlertChannel {
  return c.type === 'webhook' ? new WebhookSender(c, timeoutMs) : new EmailSender(c, timeoutMs);
}

class WebhookSender implements AlertChannel {
  readonly type = 'webhook' as const;
  readonly name: string;
  constructor(
    private readonly c: WebhookChannel,
    private readonly timeoutMs: number,
  ) {
    this.name = c.name;
  }

  async send(n: AlertNotice): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.c.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.c.headers },
        body: JSON.stringify(webhookBody(n)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new Error(`no answer within ${this.timeoutMs / 1000} s`);
      throw new Error(err.cause ? `${err.message}: ${err.cause.code ?? err.cause.message}` : err.message);
    }
    // the body is read (and dropped) so the connection is released
    const body = await res.text().catch(() => '');
    if (!res.ok) throw new Error(`HTTP ${res.status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }

  close(): void {}
}

class EmailSender implements AlertChannel {
  readonly type = 'email' as const;
  readonly name: string;
  private readonly transport: Transporter;
  constructor(
    private readonly c: EmailChannel,
    private readonly timeoutMs: number,
  ) {
    this.name = c.name;
    // nodemailer only for an e-mail channel: a session without one never loads it
    const nodemailer: typeof Nodemailer = createRequire(import.meta.url)('nodemailer');
    this.transport = nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.secure,
      auth: c.user !== undefined ? { user: c.user, pass: c.pass } : undefined,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      logger: false,
      debug: false,
    });
  }

  async send(n: AlertNotice): Promise<void> {
    // a deadline over the whole exchange, beside nodemailer's per-step timeouts
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs * 3);
      timer.unref();
    });
    try {
      await Promise.race([
        this.transport.sendMail({
          from: this.c.from,
          to: this.c.to,
          subject: `[tradebench] ${headline(n)}`.slice(0, 250),
          text: noticeText(n),
        }),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.transport.close();
  }
}

function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmtNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 4 : 2);
}
