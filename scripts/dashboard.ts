// npm run dashboard -- --journal out/live/journal.duckdb [--run ID] [--http HOST:PORT]
// Serves a finished live session, read back from its journal (read-only), through the operations API and
// the dashboard: the same pages as a running session's, with the control endpoints refused (405).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { openJournalSource } from '../engine/ops/journal-source.ts';
import { startOpsServer } from '../engine/ops/server.ts';
import { defineFlags, FlagError, flagHelp, parseFlags, parseNumber } from './lib/flags.ts';
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

/** --http HOST:PORT, checked: the message names the flag. */
export function parseHttp(raw: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(raw);
  if (!m || m[1].includes(' ')) throw new FlagError(`--http must be HOST:PORT with a port 0..65535, got '${raw.slice(0, 60)}'`);
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port: parseNumber('--http port', m[2], { integer: true, min: 0, max: 65_535 }) };
}

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help) return void console.log(USAGE);
  if (v.journal === undefined) throw new FlagError('--journal is required: the journal.duckdb of a live session (see --help)');
  const { host, port } = parseHttp(v.http);
  const source = await openJournalSource(v.journal, v.run);
  const server = await startOpsServer({
    source,
    host,
    port,
    // control is disabled for a replay: the token guards nothing, but the server wants one
    token: randomBytes(24).toString('hex'),
    dashboardDir: path.resolve('build/dashboard'),
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
