// `npm run live` with its operations, as a person runs it: the embedded simulator in real time at high speed, the
// server on a free loopback port, --log-format json, and --alerts with a webhook to a local HTTP receiver. The
// token is printed once and written 0600; a kill over HTTP with it trips the breaker, flattens, is journaled with its
// source and fires the breaker_tripped alert at the receiver; a request without it is refused. Bad --alerts and
// --http values, and a taken port, stop the start with the reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../cli/run-cli.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'tb-live-cli-'));
  dirs.push(d);
  return d;
};

/** A webhook receiver: the JSON bodies it was posted. */
async function receiver(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm run live with its operations', () => {
  it('serves, logs JSON, alerts through a webhook, and takes a kill over HTTP with the printed token', { timeout: 120_000 }, async () => {
    const out = tmp();
    const hook = await receiver();
    const alerts = path.join(out, 'alerts.yml');
    writeFileSync(alerts, `channels:\n  hook:\n    type: webhook\n    url: ${hook.url}\ndelivery:\n  backoff: 0.05\n`);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'scripts/live.ts'),
        '--paper',
        '--speed',
        '120',
        // the sample's day starts at 04:00: trade from its first bar, not from 09:30
        '--session',
        'extended',
        '--http',
        '127.0.0.1:0',
        '--log-format',
        'json',
        '--alerts',
        alerts,
        '--symbols',
        'SPY',
        '--params',
        '{"fast":2,"slow":5}',
        '--sizing',
        'fixed',
        '--quantity',
        '10',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    const m = await until(
      () => /dashboard: (http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+) \(control token written to (.+), mode 0600\)/.exec(stderr) ?? undefined,
      60_000,
      'the dashboard line',
    );
    const [, url, token, tokenFile] = m;
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(stderr.split(token).length).toBe(2); // printed once

    // wait for a position, then kill with flatten: refused without the token, done with it
    const state = async () => (await (await fetch(`${url}/api/v1/state`)).json()) as { positions: unknown[]; risk: { breaker: { tripped: boolean } } };
    const deadline = Date.now() + 60_000;
    while ((await state()).positions.length === 0) {
      if (Date.now() > deadline) throw new Error(`no position after 60 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const kill = (headers: Record<string, string>) =>
      fetch(`${url}/api/v1/kill`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"flatten":true}' });
    expect((await kill({})).status).toBe(401);
    expect((await kill({ authorization: `Bearer ${token}` })).status).toBe(200);
    const tripped = await state();
    expect(tripped.risk.breaker.tripped).toBe(true);
    const flat = Date.now() + 30_000;
    while ((await state()).positions.length > 0) {
      if (Date.now() > flat) throw new Error('the kill did not flatten');
      await new Promise((r) => setTimeout(r, 100));
    }
    // the webhook hears the breaker trip
    const fired = await until(() => hook.bodies.find((b) => b.alert === 'breaker_tripped' && b.state === 'fired'), 20_000, 'the breaker_tripped webhook');
    expect(fired.severity).toBe('critical');
    expect(typeof fired.text).toBe('string');

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // every stdout line is a JSON record of this run; order lines carry their order id
    const records = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { runId: string; orderId?: number; msg: string });
    expect(records.length).toBeGreaterThan(5);
    expect(new Set(records.map((r) => r.runId)).size).toBe(1);
    expect(records.some((r) => typeof r.orderId === 'number' && /fill|order/.test(r.msg))).toBe(true);
    expect(stdout).not.toContain(token);
    // the journal has the refused request, the kill with its source, and the alert with its delivery
    const logs = records.map((r) => r.msg).join('\n');
    expect(logs).toMatch(/refused POST \/api\/v1\/kill from 127\.0\.0\.1: missing bearer token/);
    expect(logs).toMatch(/kill.*http \(127\.0\.0\.1\)/);
    expect(logs).toMatch(/alert fired: CRITICAL breaker_tripped/);
    expect(logs).toMatch(/alert delivery: breaker_tripped fired via webhook hook: ok/);
  });

  it('refuses a bad --alerts file, a bad --http, and a taken port, before trading', async () => {
    const out = tmp();
    const bad = path.join(out, 'bad.yml');
    writeFileSync(bad, 'rules:\n  daily_loss_limit: { threshold: x }\n');
    const a = runCli('live.ts', ['--paper', '--lockstep', '--alerts', bad, '--out', out]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/bad\.yml: rules\.daily_loss_limit\.threshold must be a number/);
    const b = runCli('live.ts', ['--paper', '--lockstep', '--http', 'localhost', '--out', out]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--http must be HOST:PORT \(port 0\.\.65535\) or off/);
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const c = runCli('live.ts', ['--paper', '--lockstep', '--http', `127.0.0.1:${port}`, '--out', out]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}.*--http HOST:PORT, or --http off`));
    expect(c.stderr).not.toMatch(/connecting to the gateway/);
  }, 120_000);
});
