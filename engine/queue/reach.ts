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
    throw new Error(`cannot reach Redis at ${t.redacted}: ${m}; ${reachHint(m, t.tls)}`);
  } finally {
    client.disconnect();
  }
}

/** What to check, from the error of a first connection. */
function reachHint(m: string, tls: boolean): string {
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|AUTH/i.test(m)) return 'check the user and password (in the URL, or TB_REDIS_PASSWORD)';
  if (tls && /certificate|CERT_|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i.test(m))
    return "the server's TLS certificate is not trusted here: for a private CA start node with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, and check that the certificate names the host in the URL";
  if (!tls && /ECONNRESET|Connection is closed/i.test(m)) return 'the server closed the connection: if it speaks TLS, write rediss://';
  return 'check the host and port, that redis-server runs there, and (rediss://) that it speaks TLS';
}
