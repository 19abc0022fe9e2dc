// A queued sweep over TLS (rediss://) end to end: a real redis-server that speaks only TLS, with a certificate from
// a throwaway CA and a password, the real worker and submitter processes trusting that CA through
// NODE_EXTRA_CA_CERTS and taking the password from TB_REDIS_PASSWORD. The rows stored are a local sweep's; the
// password is printed nowhere; a client that does not speak TLS, or does not trust the CA, is refused at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Proc, startWorker, sweepCli, sweepRows } from './processes.ts';
import { opensslInstalled, pingOnce, redisAvailable, type RedisServer, startRedis } from './redis-server.ts';

/** Whether TLS can be tested: the certificates are made with `openssl` (skip without it, fail under CI=true). */
function tlsAvailable(): boolean {
  if (!redisAvailable()) return false;
  if (opensslInstalled()) return true;
  const what = 'openssl is not installed: the TLS queue test makes its certificates with it (apt-get install openssl)';
  if (process.env.CI === 'true') throw new Error(`${what}; CI must run the TLS queue test`);
  console.warn(`skipping: ${what}`);
  return false;
}

const PASSWORD = 'Tls-sw33p-Qv7s3cret';
const SWEEP = ['--strategy', 'sma-cross', '--grid', '{"fast":[5,20],"slow":[50,100]}', '--symbols', 'SPY,AAPL'];

/** The process's exit code, or a failure naming what hung: a refused connection must end the process, not wait. */
async function exitsWithin(p: Proc, what: string, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`${what} still running after ${ms} ms instead of failing:\n${p.stdout()}\n${p.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe.runIf(tlsAvailable())('a sweep through a TLS Redis (rediss://) with a private CA', () => {
  let redis: RedisServer;
  /** rediss://127.0.0.1:PORT: the password is in TB_REDIS_PASSWORD, on no command line */
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-tls-'));
  const db = (name: string) => path.join(dir, `${name}.duckdb`);
  beforeAll(async () => {
    redis = await startRedis({ tls: true, requirePass: PASSWORD });
    url = redis.url.replace(`:${encodeURIComponent(PASSWORD)}@`, '');
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the rows a local sweep stores, and prints the password nowhere', async () => {
    expect(url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    expect(redis.caFile).toBeDefined();
    const env = { TB_REDIS_PASSWORD: PASSWORD, NODE_EXTRA_CA_CERTS: redis.caFile! };
    const [local, worker] = await Promise.all([sweepCli([...SWEEP, '--workers', '2', '--db', db('local')]), startWorker(url, ['--concurrency', '2'], env)]);
    let queued;
    try {
      queued = await sweepCli([...SWEEP, '--queue', url, '--batch', '2', '--db', db('tls')], env);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
    expect(local.code, local.stderr).toBe(0);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toContain(`queue ${url}, 2 runs per job`);
    expect(worker.stderr()).toContain(`on ${url}`);
    // 2 x 2 combinations on one portfolio of two symbols: 4 rows, the local sweep's
    const rows = await sweepRows(db('tls'));
    expect(rows).toHaveLength(4);
    expect(rows).toEqual(await sweepRows(db('local')));
    for (const out of [queued.stdout, queued.stderr, worker.stdout(), worker.stderr()]) expect(out).not.toContain(PASSWORD);
    // the worker ran every job (4 runs, 2 a job) over TLS
    expect(queued.stderr).toMatch(/4 runs in 2 jobs/);
    for (let i = 0; i < 100 && worker.jobsDone() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(worker.jobsDone()).toBe(2);
  }, 90_000);

  it('refuses plain redis:// to the TLS port, and rediss:// without the CA, at once and saying why', async () => {
    const plain = url.replace(/^rediss:/, 'redis:');
    const withCa = { TB_REDIS_PASSWORD: PASSWORD, NODE_EXTRA_CA_CERTS: redis.caFile! };
    const noCa = { TB_REDIS_PASSWORD: PASSWORD };
    const tries = [
      { what: 'a submitter on redis://', p: launch('sweep', [...SWEEP, '--queue', plain, '--db', db('plain')], withCa) },
      { what: 'a worker on redis://', p: launch('worker', ['--queue', plain], withCa) },
      { what: 'a submitter without the CA', p: launch('sweep', [...SWEEP, '--queue', url, '--db', db('no-ca')], noCa) },
      { what: 'a worker without the CA', p: launch('worker', ['--queue', url], noCa) },
    ];
    const codes = await Promise.all(tries.map((t) => exitsWithin(t.p, t.what)));
    for (const [i, t] of tries.entries()) {
      expect(codes[i], `${t.what}: ${t.p.stderr()}`).toBe(1);
      for (const out of [t.p.stdout(), t.p.stderr()]) expect(out).not.toContain(PASSWORD);
    }
    const stderr = (i: number) => tries[i].p.stderr();
    const port = String(redis.port);
    // plain text to a TLS port: redis drops the connection; the hint names TLS
    for (const i of [0, 1]) {
      expect(stderr(i), tries[i].what).toContain(`error: cannot reach Redis at redis://127.0.0.1:${port}: `);
      expect(stderr(i), tries[i].what).toMatch(/ECONNRESET|Connection is closed/);
      expect(stderr(i), tries[i].what).toContain('the server closed the connection: if it speaks TLS, write rediss://');
    }
    // TLS without the CA: node does not trust the server's certificate, and says so
    for (const i of [2, 3]) {
      expect(stderr(i), tries[i].what).toContain(`error: cannot reach Redis at rediss://127.0.0.1:${port}: self-signed certificate in certificate chain`);
      expect(stderr(i), tries[i].what).toContain('start node with NODE_EXTRA_CA_CERTS=');
      // an IP host gets no SNI (RFC 6066), so node prints no deprecation warning
      expect(stderr(i), tries[i].what).not.toContain('DEP0123');
    }
  }, 90_000);

  it('the TLS server speaks only TLS, and restart() brings it back on the same port, certificate and data', async () => {
    const ca = readFileSync(redis.caFile!);
    expect(await pingOnce(redis.port, PASSWORD, { ca })).toBe('PONG');
    // plain RESP to the TLS port is dropped (there is no plain port: --port 0)
    await expect(pingOnce(redis.port, PASSWORD)).rejects.toThrow();
    const r = await startRedis({ tls: true, appendonly: true });
    try {
      expect(r.url).toBe(`rediss://127.0.0.1:${r.port}`);
      const c = new Redis(r.url, { tls: { ca: readFileSync(r.caFile!) }, maxRetriesPerRequest: null, lazyConnect: true });
      c.on('error', () => {}); // the restart drops the connection; ioredis reconnects
      await c.connect();
      await c.set('tb:tls-survives', 'yes');
      await r.restart();
      expect(await c.get('tb:tls-survives')).toBe('yes');
      c.disconnect();
    } finally {
      await r.stop();
    }
  }, 30_000);
});
