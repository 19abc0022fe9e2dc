// A first look at the sweeps' Redis before any queue object is made: BullMQ's connections retry for ever (right
// once a sweep runs: a Redis restart is waited out), so a wrong password, host or port would otherwise wait
// silently for ever instead of saying what is wrong.
import { Redis } from 'ioredis';
import { redactError, serverOptions, type RedisTarget } from './redis-url.ts';

/** Connects once, without retrying, and PINGs; an error names the redacted URL and what to check. */
export async function reachRedis(t: RedisTarget, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...serverOptions(t),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // the cause arrives as an event (the rejection then only says 'Connection is closed'); handled here, or node
  // would print it as unhandled
  let cause: Error | undefined;
  client.on('error', (e: Error) => {
    cause ??= e;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const m = redactError(cause ?? e, t).message.replace(/\.$/, '');
    const hint = /WRONGPASS|NOAUTH|NOPERM|invalid password|AUTH/i.test(m)
      ? 'check the user and password (in the URL, or TB_REDIS_PASSWORD)'
      : 'check the host and port, that redis-server runs there, and (rediss://) that it speaks TLS';
    throw new Error(`cannot reach Redis at ${t.redacted}: ${m}; ${hint}`);
  } finally {
    client.disconnect();
  }
}
