// A real redis-server on a loopback port in a fresh temporary directory, for the queue's tests and the queue
// bench (`npm run bench -- --only queue`). Node only, nothing of the engine: the tests import it through
// test/queue/redis-server.ts, the bench directly.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const MISSING = `${REDIS_SERVER} not found on PATH: install Debian's redis-server (apt-get install redis-server; .ci/run does)`;
export const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';

export interface RedisOptions {
  /** `--appendonly yes`: every write reaches the AOF, so a restart keeps it (default: no persistence at all). */
  appendonly?: boolean;
  /** `--requirepass`: the url then carries the password (`redis://:PASSWORD@127.0.0.1:PORT`). */
  requirePass?: string;
  /**
   * TLS only (`--port 0 --tls-port PORT`), with a certificate for 127.0.0.1 and localhost signed by a throwaway CA
   * made with the `openssl` command in the server's dir: the url is then `rediss://...`, and a client trusts the
   * server through `caFile` (NODE_EXTRA_CA_CERTS=caFile for a node process). Clients need no certificate.
   */
  tls?: boolean;
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` with a password; `rediss://` with TLS. */
  url: string;
  /** the port clients connect to: the TLS port with TLS (there is no plain port then) */
  port: number;
  /** With TLS: the PEM file of the CA that signed the server's certificate (inside `dir`); undefined without. */
  caFile?: string;
  /** Redis's working directory (its AOF lives here); removed by `stop()`. */
  dir: string;
  /** Stops the server gracefully (SIGTERM: the AOF is flushed) and starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/** Whether `redis-server` can be started here. */
export function redisServerInstalled(): boolean {
  const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /Redis server v=/.test(r.stdout);
}

/** Whether the `openssl` command that makes the TLS certificates can be run here. */
export function opensslInstalled(): boolean {
  const r = spawnSync(OPENSSL, ['version'], { encoding: 'utf8' });
  return r.status === 0 && /SSL/.test(r.stdout);
}

// Servers still running are killed when this process exits, so a crashed test leaves no redis-server behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Starts a redis-server on 127.0.0.1 (a free port the OS offers, never 6379) and resolves once it answers PING. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  if (!redisServerInstalled()) throw new Error(MISSING);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-redis-'));
  const password = opts.requirePass;
  let certs: TlsFiles | undefined;
  try {
    certs = opts.tls ? makeCertificates(path.join(dir, 'tls')) : undefined;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const ca = certs && readFileSync(certs.ca);
  let port = 0;
  let child: ChildProcess | undefined;
  const args = () => [
    // with TLS the plain port is off (0), so nothing reaches this server unencrypted
    ...(certs
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          certs.cert,
          '--tls-key-file',
          certs.key,
          '--tls-ca-cert-file',
          certs.ca,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)]),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...(password === undefined ? [] : ['--requirepass', password]),
  ];
  const launch = async (): Promise<void> => {
    const c = spawn(REDIS_SERVER, args(), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<string>((resolve) => c.once('exit', (code, sig) => resolve(`exited (${sig ?? code})`)));
    c.once('error', () => {});
    live.add(c);
    c.once('exit', () => live.delete(c));
    const answer = await Promise.race([waitForPong(port, password, ca), exited]);
    if (answer !== 'PONG') {
      c.kill('SIGKILL');
      throw new Error(`redis-server on 127.0.0.1:${port} (dir ${dir}) ${answer} before answering PING:\n${out.trim().split('\n').slice(-15).join('\n')}`);
    }
    child = c;
  };
  // The port the OS offered may be taken again before redis binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (e) {
      if (attempt >= 5 || !/Address already in use|exited/.test((e as Error).message)) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return {
    url: `${certs ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    port,
    ...(certs ? { caFile: certs.ca } : {}),
    dir,
    async restart() {
      if (child) await stopChild(child, 'SIGTERM');
      child = undefined;
      await launch();
    },
    async stop() {
      if (child) await stopChild(child, 'SIGKILL');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(c: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill(signal);
  await gone;
}

/** A TCP port on 127.0.0.1 the OS says is free now (never Redis's default 6379, which a system server may want). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

/** Resolves 'PONG' once the server answers PING (after AUTH with a password), polling while it starts or loads. */
async function waitForPong(port: number, password: string | undefined, ca: Buffer | undefined): Promise<string> {
  for (;;) {
    const answer = await pingOnce(port, password, ca && { ca }).catch((e: NodeJS.ErrnoException) =>
      // a certificate refused will not get better by waiting (a refused connection will, once redis listens)
      ca && e.code !== undefined && !['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code) ? `failed the TLS check (${e.message})` : '',
    );
    if (answer.startsWith('failed')) return answer;
    if (answer === 'PONG') return answer;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * One raw RESP exchange: [AUTH password,] PING; resolves the PING's simple-string answer or '' on any error reply.
 * With `tls`, over TLS, trusting only `tls.ca` (the server's certificate must name 127.0.0.1).
 */
export function pingOnce(port: number, password?: string, tlsOptions?: { ca: Buffer | string }): Promise<string> {
  const cmd = (...parts: string[]) => `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    // (no servername: SNI takes no IP address; the certificate is checked against the host, 127.0.0.1)
    const sock = tlsOptions ? tls.connect({ host: '127.0.0.1', port, ca: tlsOptions.ca }) : net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const expected = password === undefined ? 1 : 2;
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.once('error', reject);
    sock.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n').filter((l) => l !== '');
      if (lines.length < expected) return;
      sock.end();
      const last = lines[expected - 1];
      resolve(lines.every((l) => !l.startsWith('-')) && last.startsWith('+') ? last.slice(1) : '');
    });
    sock.once(tlsOptions ? 'secureConnect' : 'connect', () => sock.write((password === undefined ? '' : cmd('AUTH', password)) + cmd('PING')));
  });
}

interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost (P-256 keys: quick to make), made
 * with the `openssl` command in `dir`. Valid for 2 days: these live as long as a test or a bench.
 */
function makeCertificates(dir: string): TlsFiles {
  if (!opensslInstalled()) throw new Error(`${OPENSSL} not found on PATH: TLS needs it to make the test certificates (apt-get install openssl)`);
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => {
    const r = spawnSync(OPENSSL, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${OPENSSL} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}) in ${dir}:\n${r.stderr.trim()}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=tradebench test CA');
  run('req', ...key, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  // a client checks the name it connects to against subjectAltName, not the CN
  writeFileSync(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    '1',
    '-days',
    '2',
    '-out',
    f('server.crt'),
    '-extfile',
    f('server.ext'),
  );
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}
