// The Redis a sweep queue lives on, from a URL: redis://[USER[:PASSWORD]@]HOST[:PORT][/DB], or rediss:// for TLS.
// The password goes to the connection and nowhere else: every message (progress, errors, the worker's banner)
// shows `redacted`, where it reads ***. A URL that does not parse is redacted by its text (everything between
// '//' and the last '@' but the user name), so not even a malformed URL's password reaches an error.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'bullmq';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** the URL with the password as *** (for every message) */
  redacted: string;
}

const MAX_DB = 1_000_000;

/** The URL with any password replaced by ***: safe to print, even when the URL does not parse. */
export function redactRedisUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  // no scheme: anything before the '@' may be a secret
  if (scheme === undefined || at < scheme.length) return `***${url.slice(at)}`;
  const userinfo = url.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  // USER:PASSWORD keeps the user; a lone word before '@' may be a password written without its ':'
  return `${scheme}${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}${url.slice(at)}`;
}

/**
 * The environment variable a password may come from instead of the URL: a URL on a command line is seen by `ps`
 * and echoed by `npm run`, so a password belongs here (redis://HOST:PORT in the URL, TB_REDIS_PASSWORD=...).
 */
export const PASSWORD_ENV = 'TB_REDIS_PASSWORD';

/**
 * Parses a Redis URL; an error names the rule and shows the URL redacted. `envPassword` (the CLIs pass
 * process.env[PASSWORD_ENV]) is the password when the URL carries none.
 */
export function parseRedisUrl(url: string, envPassword?: string): RedisTarget {
  const redacted = redactRedisUrl(url);
  const fail = (rule: string): never => {
    throw new Error(`--queue ${redacted}: ${rule}; write redis://[USER:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS)`);
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') fail(`the scheme must be redis:// or rediss://, got ${u.protocol}//`);
  if (u.hostname === '') fail('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) fail(`the path must be a database number (/0, /1, ...), got /${dbText}`);
  const db = dbText === '' ? 0 : Number(dbText);
  if (db > MAX_DB) fail(`database ${db} is out of range`);
  if (u.search !== '' || u.hash !== '') fail('no query (?...) or fragment (#...) is read');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return fail('the user or password has a bad %-escape');
    }
  };
  if (u.username !== '' && !url.slice(0, url.lastIndexOf('@')).includes(':', u.protocol.length))
    fail('a user with no password: write redis://:PASSWORD@HOST for a password alone, redis://USER:PASSWORD@HOST with a user');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db,
    ...(u.username !== '' ? { username: decode(u.username) } : {}),
    ...(u.password !== '' ? { password: decode(u.password) } : envPassword ? { password: envPassword } : {}),
    tls: u.protocol === 'rediss:',
    redacted,
  };
}

/**
 * ioredis options for BullMQ. `maxRetriesPerRequest: null` is what BullMQ's workers need (a blocking command must
 * wait out a reconnect, not fail); reconnects are retried every 0.2..2 s, for ever (a Redis restart is waited
 * out, not fatal; BullMQ's default backs off up to 20 s, which would idle workers long after Redis is back).
 */
export function connectionOptions(t: RedisTarget): ConnectionOptions {
  return {
    ...serverOptions(t),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** Where the server is and how to log in to it (ioredis options without any retry policy). */
export function serverOptions(t: RedisTarget) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    // SNI takes a host name only (RFC 6066): an IP host is still checked against the certificate, without it
    ...(t.tls ? { tls: isIP(t.host) ? {} : { servername: t.host } } : {}),
  };
}

/** An error from Redis or the queue with the password removed (ioredis messages name host:port, but be sure). */
export function redactError(e: unknown, t: Pick<RedisTarget, 'password'>): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (t.password === undefined || t.password === '') return e instanceof Error ? e : new Error(message);
  const clean = message.split(t.password).join('***').split(encodeURIComponent(t.password)).join('***');
  return clean === message && e instanceof Error ? e : new Error(clean);
}
