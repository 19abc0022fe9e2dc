// ops/docker-compose.yml and ops/Dockerfile.worker, checked without Docker (it does not run here): the compose
// file parses, interpolates the way `docker compose` does with the environment it documents, refuses to start
// without a password or data, never holds a password itself, and the worker image's command, run through a real
// sh, hands `npm run worker` the flags it has with the URL assembled from the environment.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../cli/run-cli.ts';

const OPS = path.join(ROOT, 'ops');
const composeText = readFileSync(path.join(OPS, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(path.join(OPS, 'Dockerfile.worker'), 'utf8');

/**
 * Compose's interpolation (the subset the file uses): `${VAR}`, `${VAR:-default}` (unset or empty: default),
 * `${VAR:?message}` (unset or empty: an error naming VAR), `$$` a literal `$` left for the container's shell.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g, (m, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (m === '$$') return '$';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg!;
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return '';
  });
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}
const compose = (env: Record<string, string>) => parse(interpolate(composeText, env)) as { services: Record<string, Service> };

const ENV = { REDIS_PASSWORD: 's3cret-hex', TB_DATA: '/srv/tradebench/market.duckdb' };

/** The Dockerfile's CMD (exec form) and its ENV defaults. */
function dockerCmd(): { argv: string[]; env: Record<string, string> } {
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error('ops/Dockerfile.worker has no exec-form CMD [...]');
  const env: Record<string, string> = {};
  for (const line of dockerfile.match(/^ENV .*$/gm) ?? []) for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k] = v;
  return { argv: JSON.parse(cmd[1]) as string[], env };
}

describe('ops/docker-compose.yml', () => {
  it('parses to a redis service with appendonly and a password from the environment, and scaled workers', () => {
    const { services } = compose(ENV);
    expect(Object.keys(services).sort()).toEqual(['redis', 'worker']);
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    const redisCmd = redis.command!.join(' ');
    expect(redisCmd).toMatch(/--appendonly yes/);
    // the password reaches redis-server through the container's environment, expanded by its shell
    expect(redisCmd).toMatch(/--requirepass "\$REDIS_PASSWORD"/);
    expect(redis.environment!.REDIS_PASSWORD).toBe(ENV.REDIS_PASSWORD);
    // published on loopback unless REDIS_BIND says otherwise
    expect(redis.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(compose({ ...ENV, REDIS_BIND: '10.0.0.5', REDIS_PORT: '6380' }).services.redis.ports).toEqual(['10.0.0.5:6380:6379']);

    const worker = services.worker;
    expect(worker.deploy!.replicas).toBeGreaterThanOrEqual(2);
    expect(worker.depends_on!.redis.condition).toBe('service_healthy');
    expect(worker.environment).toMatchObject({ REDIS_PASSWORD: ENV.REDIS_PASSWORD, REDIS_HOST: 'redis', REDIS_PORT: '6379', TB_DATA: ENV.TB_DATA });
    // the data, read-only, at the same path as on the host (a job names it; the worker checks its content hash)
    expect(worker.volumes).toEqual([{ type: 'bind', source: ENV.TB_DATA, target: ENV.TB_DATA, read_only: true }]);
    // the build context is the repository root and the Dockerfile is there
    const context = path.resolve(OPS, worker.build!.context);
    expect(context).toBe(ROOT);
    expect(existsSync(path.join(context, worker.build!.dockerfile))).toBe(true);
  });

  it('will not start without a password or without the data, and holds no password of its own', () => {
    expect(() => compose({ TB_DATA: ENV.TB_DATA })).toThrow(/REDIS_PASSWORD/);
    expect(() => compose({ REDIS_PASSWORD: ENV.REDIS_PASSWORD })).toThrow(/TB_DATA/);
    expect(() => compose({ ...ENV, REDIS_PASSWORD: '' })).toThrow(/REDIS_PASSWORD/);
    // every --requirepass takes the container's $REDIS_PASSWORD (`$$` in compose), never a literal
    const given = [...composeText.matchAll(/requirepass\s+(\\?"?\$?\$?[\w-]+)/g)].map((m) => m[1]);
    expect(given).toEqual(['\\"$$REDIS_PASSWORD']);
    expect(composeText).not.toMatch(/redis:\/\/:[^$]/);
  });
});

describe('ops/Dockerfile.worker', () => {
  it('starts node scripts/launch.mjs worker (not npm, which would echo the password) on node 20 after npm ci', () => {
    expect(dockerfile).toMatch(/^FROM node:20\b/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    const { argv } = dockerCmd();
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).toMatch(/; exec node scripts\/launch\.mjs worker /);
    expect(argv[2]).not.toMatch(/npm run/);
    expect(existsSync(path.join(ROOT, 'scripts/worker.ts'))).toBe(true);
  });

  it('its command, run by a real sh with the compose environment, passes --queue without the password (it goes in TB_REDIS_PASSWORD), --concurrency and --data', () => {
    const { argv, env } = dockerCmd();
    // the same shell line with the worker replaced by printf: the argv the worker would get, one per line
    const line = argv[2].replace('exec node scripts/launch.mjs worker', 'printf \'%s\\n\' "pw=$TB_REDIS_PASSWORD"');
    const run = (extra: Record<string, string>) =>
      spawnSync('sh', ['-c', line], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, ...compose(ENV).services.worker.environment, ...extra },
      });
    const r = run({});
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([`pw=${ENV.REDIS_PASSWORD}`, '--queue', 'redis://redis:6379', '--concurrency', '1', '--data', ENV.TB_DATA]);
    expect(argv[2]).not.toMatch(/@\$\{?REDIS_HOST/); // no password in the worker's argv
    expect(run({ REDIS_SCHEME: 'rediss', WORKER_CONCURRENCY: '4' }).stdout.trim().split('\n')).toEqual([
      `pw=${ENV.REDIS_PASSWORD}`,
      '--queue',
      'rediss://redis:6379',
      '--concurrency',
      '4',
      '--data',
      ENV.TB_DATA,
    ]);
    const noData = run({ TB_DATA: '' });
    expect(noData.status).not.toBe(0);
    expect(noData.stderr).toMatch(/TB_DATA/);
  });

  it('the worker takes every flag the command passes', async () => {
    const { FLAGS } = await import('../../scripts/worker.ts');
    const passed = [...dockerCmd().argv[2].matchAll(/ --([a-z-]+) /g)].map((m) => m[1]);
    expect(passed).toEqual(['queue', 'concurrency', 'data']);
    for (const f of passed) expect(Object.keys(FLAGS), `scripts/worker.ts has no --${f}`).toContain(f);
  });

  it('its build context leaves out node_modules, build output and the data', () => {
    const ignore = readFileSync(path.join(OPS, 'Dockerfile.worker.dockerignore'), 'utf8').split('\n');
    for (const p of ['.git', 'node_modules', 'build', 'out', '**/*.duckdb']) expect(ignore).toContain(p);
  });
});
