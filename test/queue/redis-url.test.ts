// Redis URLs: what they connect to, and that their password never reaches a message, whether the URL parses or
// not, and through the real CLIs against a real redis-server that requires it.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeResult, encodeResult, type WireResult } from '../../engine/queue/jobs.ts';
import { connectionOptions, parseRedisUrl, redactError, redactRedisUrl } from '../../engine/queue/redis-url.ts';
import type { SweepResult } from '../../engine/research/sweep.ts';
import { startWorker, sweepCli, sweepRows } from './processes.ts';
import { redisAvailable, startRedis } from './redis-server.ts';

describe('parseRedisUrl', () => {
  it('reads host, port, db, user, password and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2, tls: false, redacted: 'redis://127.0.0.1:6380/2' });
    // no port: Redis's 6379; no path: db 0
    expect(parseRedisUrl('redis://cache.internal')).toMatchObject({ host: 'cache.internal', port: 6379, db: 0 });
    expect(parseRedisUrl('rediss://ops:p%40ss%3Aw0rd@redis.example.com:6390/1')).toEqual({
      host: 'redis.example.com',
      port: 6390,
      db: 1,
      username: 'ops',
      password: 'p@ss:w0rd',
      tls: true,
      redacted: 'rediss://ops:***@redis.example.com:6390/1',
    });
    expect(parseRedisUrl('redis://:hunter2@[::1]:7000')).toMatchObject({ host: '::1', port: 7000, password: 'hunter2', redacted: 'redis://:***@[::1]:7000' });
    // the password from the environment when the URL has none; the URL's own wins
    expect(parseRedisUrl('redis://h:7000', 'from-env')).toMatchObject({ password: 'from-env', redacted: 'redis://h:7000' });
    expect(parseRedisUrl('redis://:in-url@h:7000', 'from-env')).toMatchObject({ password: 'in-url' });
    expect(parseRedisUrl('redis://h:7000', '')).not.toHaveProperty('password');
    // TLS checks the certificate against the host name
    expect(connectionOptions(parseRedisUrl('rediss://:pw@redis.example.com'))).toMatchObject({ tls: { servername: 'redis.example.com' }, password: 'pw' });
    expect(connectionOptions(parseRedisUrl('rediss://:pw@127.0.0.1:6380'))).toMatchObject({ tls: {} });
    expect(connectionOptions(parseRedisUrl('rediss://:pw@127.0.0.1:6380'))).not.toHaveProperty('tls.servername');
    expect(connectionOptions(parseRedisUrl('redis://h'))).not.toHaveProperty('tls');
  });

  it('refuses what it cannot read, naming the rule, with the URL redacted', () => {
    const bad: [string, RegExp][] = [
      ['http://:pw123456@h:1', /--queue http:\/\/:\*\*\*@h:1: the scheme must be redis:\/\/ or rediss:\/\/, got http:\/\//],
      ['redis://:pw123456@h:1/x', /--queue redis:\/\/:\*\*\*@h:1\/x: the path must be a database number/],
      ['redis://:pw123456@h:1/0?tls=1', /no query/],
      ['redis://pw123456@h:1', /--queue redis:\/\/\*\*\*@h:1: a user with no password/],
      ['not a url :pw123456@', /--queue \*\*\*@: not a URL/],
      ['redis://:pw123456@h:99999', /--queue redis:\/\/:\*\*\*@h:99999: not a URL/],
    ];
    for (const [url, message] of bad) {
      expect(() => parseRedisUrl(url), url).toThrow(message);
      try {
        parseRedisUrl(url);
      } catch (e) {
        expect((e as Error).message).not.toContain('pw123456');
      }
    }
  });

  it('never lets a password into the redacted URL or an error, whatever it holds (property)', () => {
    // passwords of printable characters, some of URL syntax; the marker keeps them from occurring elsewhere in the URL
    const password = fc.string({ minLength: 1, maxLength: 24, unit: fc.constantFrom(...'abcXYZ019:@/?#%!$&*+=-_.~ '.split('')) }).map((s) => `Qz${s}Qz`);
    fc.assert(
      fc.property(
        fc.constantFrom('redis', 'rediss', 'http', 'redis:'),
        fc.option(fc.constantFrom('ops', 'admin'), { nil: undefined }),
        password,
        fc.boolean(),
        fc.constantFrom('127.0.0.1:6380', 'h', 'h:1/3', '[::1]:7000/0', 'h:bad'),
        (scheme, user, pw, encode, rest) => {
          const secret = encode ? encodeURIComponent(pw) : pw;
          const url = `${scheme}://${user ?? ''}:${secret}@${rest}`;
          const shown: string[] = [redactRedisUrl(url)];
          try {
            const t = parseRedisUrl(url);
            shown.push(t.redacted, redactError(new Error(`AUTH ${t.password} failed`), t).message);
            expect(t.password).toBe(decodeURIComponent(secret));
          } catch (e) {
            shown.push((e as Error).message);
          }
          for (const s of shown) {
            expect(s).not.toContain(secret);
            expect(s).not.toContain(pw);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('results cross the queue unchanged', () => {
  it('keeps NaN, infinities and -0, which JSON would turn into null and 0 (property)', () => {
    const num = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0));
    fc.assert(
      fc.property(num, fc.option(num, { nil: null }), fc.integer(), (x, maybe, i) => {
        const r: SweepResult = {
          index: i,
          params: { fast: 5 },
          window: -1,
          phase: 'full',
          from: 0,
          to: 1,
          bars: 10,
          finalEquity: x,
          periods: 3,
          shortRun: true,
          sharpe: maybe,
          sortino: null,
          cagr: x,
          maxDrawdown: -0,
          trades: 2,
        };
        const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(r))) as WireResult);
        expect(back).toEqual(r);
        expect(Object.is(back.finalEquity, x) && Object.is(back.maxDrawdown, -0)).toBe(true);
      }),
    );
  });
});

describe.runIf(redisAvailable())('a Redis with a password, through the CLIs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-queue-password-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const PASSWORD = 'Sw33p-s3cret-Hx9';

  it('runs a sweep, and neither the worker nor the submitter prints the password; a wrong one fails at once, redacted', async () => {
    const redis = await startRedis({ requirePass: PASSWORD });
    try {
      expect(redis.url).toContain(PASSWORD);
      const worker = await startWorker(redis.url);
      let ok;
      try {
        ok = await sweepCli([
          '--strategy',
          'sma-cross',
          '--grid',
          '{"fast":[5,10],"slow":[50]}',
          '--symbols',
          'SPY',
          '--queue',
          redis.url,
          '--db',
          path.join(dir, 'pw.duckdb'),
        ]);
      } finally {
        await worker.stop();
      }
      expect(ok.code, ok.stderr).toBe(0);
      expect(await sweepRows(path.join(dir, 'pw.duckdb'))).toHaveLength(2);
      const redacted = redis.url.replace(PASSWORD, '***');
      expect(ok.stdout).toContain(`queue ${redacted}`);
      expect(worker.stderr()).toContain(`on ${redacted}`);
      for (const out of [ok.stdout, ok.stderr, worker.stdout(), worker.stderr()]) expect(out).not.toContain(PASSWORD);

      const wrong = redis.url.replace(PASSWORD, 'not-the-Pa55word');
      const bad = await sweepCli([
        '--strategy',
        'sma-cross',
        '--grid',
        '{"fast":[5],"slow":[50]}',
        '--symbols',
        'SPY',
        '--queue',
        wrong,
        '--db',
        path.join(dir, 'bad.duckdb'),
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(
        /error: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS .*; check the user and password \(in the URL, or TB_REDIS_PASSWORD\)/,
      );
      const cancel = await sweepCli(['--cancel', 'x', '--queue', wrong]);
      expect(cancel.code).toBe(1);
      for (const out of [bad.stdout, bad.stderr, cancel.stdout, cancel.stderr]) expect(out).not.toContain('not-the-Pa55word');
    } finally {
      await redis.stop();
    }
  }, 60_000);

  it('takes the password from TB_REDIS_PASSWORD, so it is on no command line', async () => {
    const redis = await startRedis({ requirePass: PASSWORD });
    const bare = redis.url.replace(`:${encodeURIComponent(PASSWORD)}@`, '');
    const env = { TB_REDIS_PASSWORD: PASSWORD };
    try {
      expect(bare).toMatch(/^redis:\/\/127\.0\.0\.1:\d+/);
      const worker = await startWorker(bare, [], env);
      let ok;
      try {
        ok = await sweepCli(
          ['--strategy', 'sma-cross', '--grid', '{"fast":[5,10],"slow":[50]}', '--symbols', 'SPY', '--queue', bare, '--db', path.join(dir, 'env.duckdb')],
          env,
        );
      } finally {
        await worker.stop();
      }
      expect(ok.code, ok.stderr).toBe(0);
      expect(await sweepRows(path.join(dir, 'env.duckdb'))).toHaveLength(2);
      for (const out of [ok.stdout, ok.stderr, worker.stdout(), worker.stderr()]) expect(out).not.toContain(PASSWORD);
      // without it, the same URL is refused at once by the password-protected server
      const none = await sweepCli(['--cancel', 'x', '--queue', bare]);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/NOAUTH|WRONGPASS|Authentication required/i);
    } finally {
      await redis.stop();
    }
  }, 60_000);
});
