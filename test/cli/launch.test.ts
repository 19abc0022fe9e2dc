import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './run-cli.ts';

// A small tree laid out like the repository, with the real launcher, compile step and isMain: the launcher picks
// build/ or the sources by the stamp and the sources' mtimes, which a test may only move in a tree of its own.
const tree = mkdtempSync(path.join(os.tmpdir(), 'tradebench-launch-'));
const at = (p: string) => path.join(tree, p);

function write(file: string, text: string): void {
  mkdirSync(path.dirname(at(file)), { recursive: true });
  writeFileSync(at(file), text);
}

const node = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, args, { cwd: tree, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const launch = (...args: string[]) => node([at('scripts/launch.mjs'), 'hello', ...args]);
const compile = () => node([at('scripts/compile.mjs')]);
/** Where the hello command ran from, with the arguments it got. */
const ran = (r: { stdout: string }) => JSON.parse(r.stdout) as { from: string; entry: string; args: string[] };
const later = (file: string, seconds: number) => {
  const t = new Date(Date.now() + seconds * 1000);
  utimesSync(at(file), t, t);
};

beforeAll(() => {
  for (const f of ['scripts/launch.mjs', 'scripts/compile.mjs', 'scripts/lib/build-stamp.mjs', 'scripts/lib/main.ts']) {
    mkdirSync(path.dirname(at(f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), at(f));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), at('node_modules'));
  write('package.json', JSON.stringify({ type: 'module' }));
  write(
    'tsconfig.build.json',
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: 'build', rootDir: '.', declaration: false },
      include: ['engine', 'strategies', 'scripts'],
      exclude: ['**/*.test.ts'],
    }),
  );
  write('engine/where.ts', `export const from: string = import.meta.url.endsWith('.ts') ? 'source' : 'build';\n`);
  write('strategies/none.ts', 'export {};\n');
  write(
    'scripts/hello.ts',
    `import { from } from '../engine/where.ts';
import { isMain } from './lib/main.ts';
if (isMain(import.meta.url)) {
  console.log(JSON.stringify({ from, entry: process.argv[1], args: process.argv.slice(2) }));
  process.exitCode = Number(process.argv[2] ?? 0);
}
`,
  );
}, 60_000);

// rm does not follow the links into the repository
afterAll(() => rmSync(tree, { recursive: true, force: true }));

describe('scripts/launch.mjs (what npm run NAME runs)', () => {
  it('runs the sources through tsx until npm run build, then build/, and the sources again once one is newer than the build', () => {
    const before = launch('0', 'a b');
    expect(before.code).toBe(0);
    expect(ran(before)).toEqual({ from: 'source', entry: at('scripts/hello.ts'), args: ['0', 'a b'] });
    // not a TTY: nothing on stderr
    expect(before.stderr).toBe('');

    expect(compile().code).toBe(0);
    expect(existsSync(at('build/.sources-stamp.json'))).toBe(true);
    const built = launch('0', 'a b');
    expect(ran(built)).toEqual({ from: 'build', entry: at('build/scripts/hello.js'), args: ['0', 'a b'] });
    expect(built.stderr).toBe('');

    later('engine/where.ts', 5);
    expect(ran(launch()).from).toBe('source');
    expect(compile().code).toBe(0);
    expect(ran(launch()).from).toBe('build');

    // a new source file (an added strategy) is newer than the build too
    write('strategies/added.ts', 'export const added = 1;\n');
    later('strategies/added.ts', 10);
    expect(ran(launch()).from).toBe('source');
    expect(compile().code).toBe(0);
    expect(ran(launch()).from).toBe('build');
  }, 120_000);

  it("passes the command's exit code through, from build/ and from the sources", () => {
    expect(compile().code).toBe(0);
    expect(launch('3').code).toBe(3);
    later('scripts/hello.ts', 20);
    const r = launch('4');
    expect(ran(r).from).toBe('source');
    expect(r.code).toBe(4);
  }, 120_000);

  it('a failed compile leaves no stamp: the sources run', () => {
    write('engine/broken.ts', 'export const x: number = "not a number";\n');
    later('engine/broken.ts', 30);
    const c = compile();
    expect(c.code).not.toBe(0);
    expect(c.stdout).toMatch(/TS2322/);
    expect(existsSync(at('build/.sources-stamp.json'))).toBe(false);
    expect(ran(launch()).from).toBe('source');
  }, 120_000);

  it('refuses a command that does not exist', () => {
    const missing = node([at('scripts/launch.mjs'), 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: no command nope (scripts/nope.ts)\n');
  }, 60_000);
});

describe('scripts/launch.mjs on a terminal', () => {
  // util-linux script(1) gives the launcher a TTY
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)(
    'says once on stderr that it runs the sources, unless CI=true',
    () => {
      later('engine/where.ts', 40);
      const onTty = (ci: string) =>
        spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(at('scripts/launch.mjs'))} hello`, '/dev/null'], {
          cwd: tree,
          encoding: 'utf8',
          env: { ...process.env, CI: ci },
          timeout: 60_000,
        }).stdout;
      const out = onTty('');
      expect(out.match(/running through tsx/g)).toHaveLength(1);
      expect(out).toMatch(/: running through tsx \(slower start\)/);
      expect(onTty('true')).not.toMatch(/running through tsx/);
    },
    60_000,
  );
});
