// npm run dashboard -- --journal out/live/journal.duckdb [--run ID] [--http HOST:PORT]
// Serves a finished live session, read back from its journal (read-only), through the operations API and
// the dashboard: the same pages as a running session's, with the control endpoints refused (405).
import { randomBytes } from 'node:crypto';
import { openJournalSource } from '../engine/ops/journal-source.ts';
import { startOpsServer } from '../engine/ops/server.ts';
import { defineFlags, FlagError, flagHelp, parseFlags } from './lib/flags.ts';
import { DASHBOARD_DIR, parseHttp } from './lib/live-ops.ts';
import { isMain } from './lib/main.ts';

export const FLAGS = defineFlags({
  journal: { kind: 'string', arg: 'FILE', nonEmpty: true, help: "a live session's journal, e.g. out/live/journal.duckdb (opened read-only)" },
  run: { kind: 'string', arg: 'ID', nonEmpty: true, help: 'the run to show (default: the latest run in the file)' },
  http: { kind: 'string', arg: 'HOST:PORT', default: '127.0.0.1:8080', help: 'where to serve the API and the dashboard (port 0: any free port)' },
});

const USAGE = `usage: npm run dashboard -- --journal FILE [--run ID] [--http HOST:PORT]
Serves a finished live session from its journal: the REST API (/api/v1/...), its WebSocket and the dashboard.
A replay changes nothing: the control endpoints (kill, reset, pause, cancel) answer 405.
${flagHelp(FLAGS, { width: 11 })}`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(USAGE);
  if (v.journal === undefined) throw new FlagError('--journal is required: the journal.duckdb of a live session (see --help)');
  const http = parseHttp(v.http);
  if (http === undefined) throw new FlagError('--http off would serve nothing: give HOST:PORT');
  const { host, port } = http;
  const source = await openJournalSource(v.journal, v.run);
  const server = await startOpsServer({
    source,
    host,
    port,
    // control is disabled for a replay: the token guards nothing, but the server wants one
    token: randomBytes(24).toString('hex'),
    dashboardDir: DASHBOARD_DIR,
  });
  const s = source.snapshot();
  console.error(
    `run ${source.runId} of ${v.journal} (replay, read-only): ${s.symbols.join(',') || 'no symbols'}, ${source.fills(0, 0).total} fills, equity ${s.equity.toFixed(2)}${source.runs.length > 1 && v.run === undefined ? ` — the latest of ${source.runs.length} runs (--run ID for another)` : ''}`,
  );
  console.log(`dashboard: ${server.url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping`);
    server.close().then(
      () => process.exit(0),
      (e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    if (e instanceof FlagError) console.error(USAGE);
    process.exit(1);
  });
