import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './cli/run-cli.ts';

const jupyter = spawnSync('/usr/bin/python3', ['-c', 'import nbconvert, nbclient'], { stdio: 'ignore' }).status === 0;
if (!jupyter && process.env.CI === 'true') throw new Error("CI needs Debian's Jupyter (apt-get install -y jupyter-nbconvert): .ci/run installs it");
if (!jupyter) console.warn('skipping notebook tests: /usr/bin/python3 has no nbconvert (apt-get install -y jupyter-nbconvert)');

const notebook = (...cells: string[]) =>
  JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });

describe.skipIf(!jupyter)('npm run notebooks (headless Jupyter with the tslab kernel)', () => {
  it('passes a good notebook and fails a deliberately failing cell, showing its source and error, with a non-zero exit', () => {
    mkdirSync(path.join(ROOT, 'build'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, 'build', 'nbtest-')); // inside the repo, so the kernel finds node_modules
    writeFileSync(path.join(dir, 'good.ipynb'), notebook('const x: number = 21;\nconsole.log(x * 2);'));
    writeFileSync(path.join(dir, 'bad.ipynb'), notebook('console.log("first cell runs");', "throw new Error('deliberately failing cell');"));
    writeFileSync(path.join(dir, 'typo.ipynb'), notebook('const y: number = "not a number";'));
    const r = runCli('notebooks.ts', [path.join(dir, 'good.ipynb'), path.join(dir, 'bad.ipynb'), path.join(dir, 'typo.ipynb')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ok {4}good\.ipynb/);
    expect(r.stdout).toMatch(/FAIL {2}bad\.ipynb .*: cell 2\n {2}\| throw new Error\('deliberately failing cell'\);/);
    expect(r.stdout).toMatch(/deliberately failing cell/);
    expect(r.stdout).toMatch(/FAIL {2}typo\.ipynb .*: cell 1/);
    expect(r.stdout).toMatch(/not assignable to type 'number'/);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('1 passed, 2 failed');
  }, 180_000);
});

// keep the committed notebooks honest too (they run on ../shared data)
describe.skipIf(!jupyter)('the committed notebooks', () => {
  it('all run green', () => {
    // seven notebooks take about 70 s on a quiet machine and over 120 s on a loaded one: the test's own budget
    const r = runCli('notebooks.ts', [], {}, 570_000);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^\d+ passed, 0 failed$/);
    expect(r.code).toBe(0);
  }, 600_000);
});
