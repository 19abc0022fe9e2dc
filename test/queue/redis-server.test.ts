import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { pingOnce, type RedisServer, redisAvailable, startRedis } from './redis-server.ts';

describe.runIf(redisAvailable())('the tests’ redis-server', () => {
  const started: RedisServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop();
  });

  it('answers PING on a loopback port other than 6379, and stop() kills it and removes its dir', async () => {
    const r = await startRedis();
    started.push(r);
    expect(r.port).not.toBe(6379);
    expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
    expect(await pingOnce(r.port)).toBe('PONG');
    await r.stop();
    expect(existsSync(r.dir)).toBe(false);
    await expect(pingOnce(r.port)).rejects.toThrow();
  });

  it('with appendonly, a key written before restart() is still there after it', async () => {
    const r = await startRedis({ appendonly: true });
    started.push(r);
    const c = new Redis(r.url, { maxRetriesPerRequest: null, lazyConnect: true });
    c.on('error', () => {}); // the restart drops the connection; ioredis reconnects
    await c.connect();
    await c.set('tb:survives', 'yes');
    await r.restart();
    expect(await c.get('tb:survives')).toBe('yes');
    c.disconnect();
  });

  it('with requirePass, the url carries the password and PING without it is refused', async () => {
    const r = await startRedis({ requirePass: 'p@ss word' });
    started.push(r);
    expect(r.url).toBe(`redis://:p%40ss%20word@127.0.0.1:${r.port}`);
    expect(await pingOnce(r.port)).toBe(''); // NOAUTH
    expect(await pingOnce(r.port, 'p@ss word')).toBe('PONG');
    const c = new Redis(r.url, { lazyConnect: true });
    await c.connect();
    expect(await c.ping()).toBe('PONG');
    c.disconnect();
  });
});
