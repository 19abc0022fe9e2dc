// Structured logs of a live session (pino): one JSON object per line, each with the session's runId, and
// `orderId` as the correlation id on every line about an order, so a log pipeline can follow one order from
// its decision to its fills. 'pretty' prints today's human lines instead (the text of describeEntry in
// engine/live/session-lines.ts), one per line, nothing added.
//
// The human line of a journal entry is passed in (`line`) rather than computed here, so engine/ops does not
// import engine/live (the live runner may import engine/ops: the folders must not form a cycle).
import { pino, type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import type { JournalEntry } from '../journal/journal-wal.ts';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface SessionLoggerOptions {
  format: LogFormat;
  runId: string;
  /** where the lines go (default stdout) */
  destination?: DestinationStream;
  /** default 'info' */
  level?: LevelWithSilent;
}

/** Fields that never reach a log line: credentials, whatever object they are in (one or two levels down). */
export const REDACT_PATHS: readonly string[] = [
  'token',
  'password',
  'authorization',
  'apiKey',
  'secret',
  '*.token',
  '*.password',
  '*.authorization',
  '*.apiKey',
  '*.secret',
  '*.*.token',
  '*.*.password',
  '*.*.authorization',
  'headers.cookie',
  'req.headers.cookie',
  'req.headers.authorization',
];
export const REDACTED = '[redacted]';

/** One structured record of a journal entry, as written to a JSON log line (plus pino's `time`). */
export interface SessionLogRecord {
  level: Level;
  msg: string;
  runId: string;
  /** the correlation id: the order the line is about */
  orderId?: number;
  /** 'orderEvent' (an order's state change), 'fill', 'risk', or the log line's kind (strategy, order, reconcile, connection, control, broker, info) */
  kind: string;
  /** the session's time of the event (the bars' clock), epoch ms */
  ts: number;
  [field: string]: unknown;
}

/** Writes only each line's message: the human lines of a session. */
function prettyDestination(out: DestinationStream): DestinationStream {
  return {
    write(s: string) {
      for (const line of s.split('\n')) {
        if (!line) continue;
        let msg: unknown;
        try {
          msg = (JSON.parse(line) as { msg?: unknown }).msg;
        } catch {
          msg = line;
        }
        if (msg !== undefined) out.write(`${String(msg)}\n`);
      }
    },
  };
}

/**
 * The session's logger: JSON lines with `runId` (and `level` as a name, `time` in epoch ms) on every line,
 * credentials redacted; or ('pretty') the messages alone, as a person following the session reads them.
 */
export function createSessionLogger(o: SessionLoggerOptions): Logger {
  if (!LOG_FORMATS.includes(o.format)) throw new Error(`unknown log format '${String(o.format)}': use json or pretty`);
  const out = o.destination ?? (o.format === 'json' ? pino.destination({ dest: 1, sync: true }) : process.stdout);
  return pino(
    {
      level: o.level ?? 'info',
      base: { runId: o.runId },
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    o.format === 'pretty' ? prettyDestination(out) : out,
  );
}

/** A child logger for the lines about one order: each carries its `orderId`. */
export function orderLine(logger: Logger, orderId: number): Logger {
  return logger.child({ orderId });
}

/** The order a free-text line names ("order 12 ...", "with order 12"), if any. */
function orderIn(message: string): number | undefined {
  const m = /\border (\d+)\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * The structured record of a journal entry whose human line is `line` (describeEntry's text, which is
 * `msg`); null when the entry has no line (bars, equity points, order specs, the safety state), as in the
 * human log.
 */
export function entryRecord(x: JournalEntry, line: string | null): SessionLogRecord | null {
  if (line === null) return null;
  const runId = x.runId;
  switch (x.t) {
    case 'orderEvent': {
      const e = x.e;
      return {
        level: e.to === 'REJECTED' ? 'warn' : 'info',
        msg: line,
        runId,
        orderId: e.orderId,
        kind: 'orderEvent',
        ts: e.ts,
        from: e.from,
        to: e.to,
        ...(e.reason ? { reason: e.reason } : {}),
      };
    }
    case 'fill': {
      const f = x.f;
      return {
        level: 'info',
        msg: line,
        runId,
        orderId: f.orderId,
        kind: 'fill',
        ts: f.ts,
        execId: f.execId,
        strategy: f.strategy,
        symbol: f.symbol,
        qty: f.qty,
        price: f.price,
        commission: f.commission,
      };
    }
    case 'risk': {
      const e = x.e;
      return {
        level: 'warn',
        msg: line,
        runId,
        ...(e.orderId > 0 ? { orderId: e.orderId } : {}),
        kind: 'risk',
        ts: e.ts,
        check: e.check,
        value: e.value,
        limit: e.limit,
      };
    }
    case 'log': {
      const orderId = orderIn(x.message);
      const level: Level = x.kind === 'strategy' && /^error while handling/.test(x.message) ? 'error' : 'info';
      return { level, msg: line, runId, ...(orderId !== undefined ? { orderId } : {}), kind: x.kind, ts: x.ts };
    }
    default:
      return { level: 'info', msg: line, runId, kind: x.t, ts: 'ts' in x ? x.ts : NaN };
  }
}

/** Logs a journal entry (with its human line from describeEntry); an entry without a line is not logged. */
export function logEntry(logger: Logger, x: JournalEntry, line: string | null): void {
  const r = entryRecord(x, line);
  if (!r) return;
  const { level, msg, runId: _runId, ...fields } = r;
  logger[level](fields, msg);
}
