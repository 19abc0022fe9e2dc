// npm run worker -- --queue redis://HOST:PORT[/DB] [--concurrency N] [--data PATH] [--lock-ms MS]
// Runs queued sweep jobs (npm run sweep -- ... --queue URL) on this machine, over its own copy of the data
// (engine/queue/worker.ts). SIGTERM or Ctrl-C: finishes the jobs under way, then leaves; a second one leaves at
// once (the jobs it held are run again by another worker once their lock expires).
import os from 'node:os';
import { reachRedis } from '../engine/queue/reach.ts';
import { PASSWORD_ENV, parseRedisUrl } from '../engine/queue/redis-url.ts';
import { startSweepWorker } from '../engine/queue/worker.ts';
import { siblingModule } from '../engine/research/sweep.ts';
import { defineFlags, flagHelp, parseFlags } from './lib/flags.ts';
import { isMain } from './lib/main.ts';

export const FLAGS = defineFlags({
  queue: {
    kind: 'string',
    arg: 'URL',
    help: "the sweeps' Redis: redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS (required); a password\nis better given in TB_REDIS_PASSWORD than in the URL (ps and npm run show command lines)",
  },
  concurrency: {
    kind: 'integer',
    min: 1,
    max: 256,
    help: 'jobs at once, and the threads their runs share (default: cores - 1, at least 1)',
  },
  data: {
    kind: 'string',
    arg: 'PATH',
    help: "this machine's copy of the sweeps' data (default: the path each job names); a copy whose content hash differs is refused",
  },
  'lock-ms': {
    kind: 'integer',
    min: 100,
    max: 3_600_000,
    default: 30_000,
    arg: 'MS',
    help: 'a job whose worker stops renewing its lock for this long (the worker died) is run again by another',
  },
});

const HELP = `usage: npm run worker -- --queue URL [options]
${flagHelp(FLAGS)}`;

async function main(): Promise<void> {
  const { values: v } = parseFlags(FLAGS);
  if (v.help || !v.queue) {
    console.log(HELP);
    if (!v.help) process.exitCode = 2;
    return;
  }
  const target = parseRedisUrl(v.queue, process.env[PASSWORD_ENV]);
  const concurrency = v.concurrency ?? Math.max(1, os.availableParallelism() - 1);
  await reachRedis(target);
  const worker = startSweepWorker({
    target,
    workerModule: siblingModule('./lib/sweep-worker', import.meta.url),
    concurrency,
    data: v.data,
    lockMs: v['lock-ms'],
    log: (line) => console.error(`${new Date().toISOString()} ${line}`),
  });
  await worker.ready();
  // tests and scripts wait for this line: the worker is connected and taking jobs
  console.error(`worker ${process.pid}: ${concurrency} at once on ${target.redacted}${v.data ? `, data ${v.data}` : ''} (SIGTERM or Ctrl-C to stop)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: leaving now (the jobs under way are run again elsewhere)`);
      process.exit(1);
    }
    stopping = true;
    console.error(`${signal}: finishing the jobs under way, then stopping`);
    worker.close().then(
      () => {
        console.error(`stopped: ${worker.counts.completed} jobs done, ${worker.counts.failed} failed`);
        process.exit(0);
      },
      (e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (isMain(import.meta.url))
  main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
