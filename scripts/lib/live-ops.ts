// What a live session serves and sends while it runs: the operations API and dashboard (engine/ops/server.ts),
// Prometheus metrics, the built-in alerts and the structured log, all read from one LiveOpsSource.
import path from 'node:path';
import type { LiveRunner } from '../../engine/live/runner.ts';
import { AlertManager } from '../../engine/ops/alerts.ts';
import { type AlertsConfig, defaultAlertsConfig, loadAlertsConfig } from '../../engine/ops/alerts-config.ts';
import { LiveOpsSource } from '../../engine/ops/live-source.ts';
import { createSessionLogger, LOG_FORMATS, type LogFormat, logEntry } from '../../engine/ops/log.ts';
import { createOpsMetrics } from '../../engine/ops/metrics.ts';
import { type OpsServer, startOpsServer } from '../../engine/ops/server.ts';
import { loadOrCreateToken } from '../../engine/ops/token.ts';
import { repoRoot } from '../../engine/paths.ts';
import type { JournalEntry } from '../../engine/journal/live-journal.ts';
import { FlagError, parseNumber } from './flags.ts';

/** Where `npm run build` puts the dashboard page. */
export const DASHBOARD_DIR = path.join(repoRoot(), 'build/dashboard');

export const OPS_FLAGS = {
  http: {
    kind: 'string',
    default: '127.0.0.1:8080',
    arg: 'HOST:PORT',
    help: 'serve the dashboard, the REST + WebSocket API and /metrics there (default 127.0.0.1:8080,\nloopback only; port 0: any free port; off: no server)',
  },
  'token-file': {
    kind: 'string',
    arg: 'FILE',
    help: 'the control token, read from FILE (keep it 0600); default: a new one, written to\nOUT/ops-token (0600) and printed once with the dashboard URL',
  },
  alerts: {
    kind: 'string',
    arg: 'FILE',
    help: 'alert rules and channels, YAML or JSON (see ops/alerts.example.yml); default: the\nbuilt-in rules, journaled but not sent',
  },
  'log-format': {
    kind: 'choice',
    choices: [...LOG_FORMATS],
    default: 'pretty',
    help: 'pretty: a line per event; json: a JSON object per line with runId, and orderId on order lines',
  },
} as const;

/** --http HOST:PORT (or off), checked: the message names the flag. */
export function parseHttp(raw: string): { host: string; port: number } | undefined {
  if (raw === 'off') return undefined;
  const m = /^(.+):(\d+)$/.exec(raw);
  if (!m || m[1].includes(' ')) throw new FlagError(`--http must be HOST:PORT (port 0..65535) or off, got '${raw.slice(0, 60)}'`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: parseNumber('--http port', m[2], { integer: true, min: 0, max: 65_535 }) };
}

/** --alerts FILE read and checked before anything starts (the error names the file, the field and the rule). */
export const alertsFlag = (file: string | undefined): AlertsConfig => (file === undefined ? defaultAlertsConfig() : loadAlertsConfig(file));

/** The print callback of a session: today's lines, or JSON lines (pino) with the run id and order ids. */
export function sessionPrinter(format: LogFormat, runId: string): (line: string, entry?: JournalEntry) => void {
  if (format === 'pretty') return (line) => console.log(line);
  const logger = createSessionLogger({ format, runId });
  return (line, entry) => (entry ? logEntry(logger, entry, line) : logger.info({ kind: 'status' }, line));
}

export interface LiveOps {
  source: LiveOpsSource;
  /** the server's URL (without the token), undefined with --http off */
  url?: string;
  close(): Promise<void>;
}

/**
 * Starts the session's operations around a runner that has not started yet (so the source hears its first
 * commit): the source, the metrics (bar-to-order and journal-write latencies from each commit), the alerts (journaled,
 * published as events, sent to their channels) and, unless `http` is undefined, the server with its control token.
 */
export async function startLiveOps(
  runner: LiveRunner,
  o: { http?: { host: string; port: number }; tokenFile?: string; out: string; alerts: AlertsConfig; say: (line: string) => void },
): Promise<LiveOps> {
  const source = new LiveOpsSource(runner);
  const metrics = createOpsMetrics(source);
  let latencies = runner.barToOrderCount;
  const unobserve = runner.observe((e) => {
    if (e.kind !== 'committed') return;
    metrics.observeJournalWrite(e.journalWriteMs);
    const fresh = Math.min(runner.barToOrderCount - latencies, runner.barToOrderMs.length);
    for (const ms of runner.barToOrderMs.slice(runner.barToOrderMs.length - fresh)) metrics.observeBarToOrder(ms);
    latencies = runner.barToOrderCount;
  });
  const alerts = new AlertManager({
    source,
    config: o.alerts,
    journal: (line) => runner.journal.log(runner.now(), line, 'info'),
    onEvent: (e) => source.publish(e),
  }).start();
  let server: OpsServer | undefined;
  if (o.http) {
    const token = loadOrCreateToken({ tokenFile: o.tokenFile, defaultPath: path.join(o.out, 'ops-token') });
    if (token.looseMode) o.say(`warning: ${token.path} is readable by others (mode ${token.looseMode}): chmod 600 it`);
    try {
      server = await startOpsServer({
        source,
        host: o.http.host,
        port: o.http.port,
        token: token.token,
        dashboardDir: DASHBOARD_DIR,
        metrics,
        audit: (line) => runner.journal.log(runner.now(), line, 'control'),
      });
    } catch (e) {
      await alerts.close();
      throw new Error(`${(e as Error).message} (another session's dashboard? choose another with --http HOST:PORT, or --http off)`);
    }
    // a new token is shown this once (the page keeps it and drops it from the address bar); one from a file never
    o.say(
      token.created
        ? `dashboard: ${server.url}/#token=${token.token} (control token written to ${token.path}, mode 0600)`
        : `dashboard: ${server.url} (control token in ${token.path}: open ${server.url}/#token=<token>)`,
    );
  }
  return {
    source,
    url: server?.url,
    async close() {
      await server?.close();
      await alerts.close({ waitMs: 5_000 });
      unobserve();
      metrics.close();
      source.close();
    },
  };
}
