// Real processes for the queue tests: `node scripts/launch.mjs worker|sweep ...` (what npm run starts), and the
// rows a sweep wrote.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { openStore } from '../../engine/data/store.ts';
import { ROOT } from '../cli/run-cli.ts';

export interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** Starts `npm run NAME -- args` (through scripts/launch.mjs, CI=true: no progress lines). */
export function launch(name: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/launch.mjs'), name, ...args], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Resolves when `test` holds for the process's output; rejects if it exits first or after `ms`. */
export async function waitFor(p: Proc, test: (out: { stdout: string; stderr: string }) => boolean, what: string, ms = 60_000): Promise<void> {
  const start = Date.now();
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (!test({ stdout: p.stdout(), stderr: p.stderr() })) {
    if (exited) throw new Error(`exited before ${what}:\n${p.stdout()}\n${p.stderr()}`);
    if (Date.now() - start > ms) throw new Error(`no ${what} in ${ms} ms:\n${p.stdout()}\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WorkerProc extends Proc {
  /** SIGTERM (graceful), then its exit code */
  stop(): Promise<number | null>;
  /** "job ...: N runs done" lines so far */
  jobsDone(): number;
}

/** `npm run worker -- --queue URL ...args`, resolved once it is connected and taking jobs. */
export async function startWorker(url: string, args: string[] = [], env: Record<string, string> = {}): Promise<WorkerProc> {
  const p = launch('worker', ['--queue', url, ...args], env);
  await waitFor(p, (o) => /^worker \d+: .* \(SIGTERM/m.test(o.stderr), 'worker banner');
  return {
    ...p,
    async stop() {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      return p.exited;
    },
    jobsDone: () => [...p.stderr().matchAll(/ runs done$/gm)].length,
  };
}

/** `npm run sweep -- args` to its end. */
export async function sweepCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = launch('sweep', args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Every row of sweep_results, in (sweep_id, idx) order. */
export async function sweepRows(db: string): Promise<Record<string, unknown>[]> {
  const store = await openStore(db, { readOnly: true });
  try {
    const r = await store.conn.runAndReadAll('SELECT * FROM sweep_results ORDER BY sweep_id, idx');
    return r.getRowObjectsJS();
  } finally {
    store.close();
  }
}
