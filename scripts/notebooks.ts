// npm run notebooks [-- a.ipynb b.ipynb ...]
// Executes the notebooks headless with Jupyter (Debian's nbconvert/nbclient) on the committed tslab
// kernelspec, saves executed copies under build/notebooks, and fails on any cell error: an error
// output, anything on stderr (tslab prints compile and runtime errors there), or an
// `UncaughtException:` (an error thrown after a cell ended), or an executed copy over its 2 MB budget. Ends with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../engine/paths.ts';
import { defineFlags, FlagError, flagHelp, parseFlags } from './lib/flags.ts';

const ROOT = repoRoot();
const PYTHON = '/usr/bin/python3'; // Debian's, with nbconvert; the python3 on PATH may be another install
const OUT = path.join(ROOT, 'build/notebooks');
/** An executed notebook's size budget: plotly once (1.5 MB packed) and its figures' data. */
const SIZE_BUDGET = 2_000_000;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string }[];
}

const text = (x: string | string[] | undefined) => (Array.isArray(x) ? x.join('') : (x ?? ''));

/** The first failing cell of an executed notebook: its index, source and error text. */
function firstFailure(cells: Cell[]): { index: number; source: string; error: string } | undefined {
  for (const [index, c] of cells.entries()) {
    for (const o of c.outputs ?? []) {
      const t = o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : o.name === 'stderr' ? text(o.text) : '';
      const uncaught = o.output_type === 'stream' && /UncaughtException:/.test(text(o.text));
      if (t || uncaught) return { index, source: text(c.source), error: t || text(o.text) };
    }
  }
  return undefined;
}

const FLAGS = defineFlags({});
const HELP = `usage: npm run notebooks [-- notebooks/03-sweep.ipynb ...]     (default: every notebook in notebooks/)
${flagHelp(FLAGS)}
Builds the engine, executes the notebooks headless with Debian's Jupyter, saves executed copies under build/notebooks
and fails on any cell error or an executed copy over 2 MB; ends with N passed, N failed.`;

function main(): void {
  let given: string[];
  try {
    const { values, positionals } = parseFlags(FLAGS, { positionals: true });
    if (values.help) return void console.log(HELP);
    given = positionals;
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  const missing = given.find((f) => !existsSync(f) || !f.endsWith('.ipynb'));
  if (missing !== undefined) {
    console.error(`error: ${missing} is not a notebook file (.ipynb)`);
    process.exit(1);
  }
  const files = given.length
    ? given.map((f) => path.resolve(f))
    : readdirSync(path.join(ROOT, 'notebooks'))
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
        .map((f) => path.join(ROOT, 'notebooks', f));
  if (spawnSync(PYTHON, ['-c', 'import nbconvert, nbclient'], { stdio: 'ignore' }).status !== 0) {
    console.error(`error: ${PYTHON} has no nbconvert/nbclient: install Debian's Jupyter with apt-get install -y jupyter-nbconvert`);
    process.exit(1);
  }
  // notebooks import the compiled engine (tslab cannot import .ts specifiers); npm run build's compile step
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts/compile.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    console.error(`error: npm run build failed:\n${build.stdout}${build.stderr}`);
    process.exit(1);
  }
  const env = {
    ...process.env,
    JUPYTER_PATH: path.join(ROOT, 'notebooks'),
    PATH: `${path.join(ROOT, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
  };
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const name = path.basename(file);
    const t0 = performance.now();
    const r = spawnSync(
      PYTHON,
      ['-m', 'nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=300', '--output-dir', OUT, file],
      { cwd: path.dirname(file), env, encoding: 'utf8' },
    );
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const executed = path.join(OUT, name);
    const size = existsSync(executed) ? statSync(executed).size : 0;
    const failure =
      r.status !== 0 || !existsSync(executed)
        ? { index: -1, source: '', error: `nbconvert exited with ${r.status}:\n${r.stderr.split('\n').slice(-15).join('\n')}` }
        : (firstFailure((JSON.parse(readFileSync(executed, 'utf8')) as { cells: Cell[] }).cells) ??
          (size > SIZE_BUDGET
            ? {
                index: -1,
                source: '',
                error: `the executed notebook is ${mb(size)}, over the ${mb(SIZE_BUDGET)} budget: fewer or smaller figures, or tb.setPlotlySource(url)`,
              }
            : undefined));
    if (!failure) {
      passed++;
      console.log(`ok    ${name} (${seconds} s, ${mb(size)})`);
      continue;
    }
    failed++;
    console.log(`FAIL  ${name} (${seconds} s)${failure.index >= 0 ? `: cell ${failure.index + 1}` : ''}`);
    if (failure.source) console.log(failure.source.replace(/^/gm, '  | '));
    console.log(failure.error.trimEnd().replace(/^/gm, '  ! '));
  }
  console.log(`executed copies in ${path.relative(process.cwd(), OUT) || OUT}`);
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) process.exit(1);
}

main();
