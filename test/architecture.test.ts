import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli/run-cli.ts';

/**
 * Every .ts file under a folder of the repo, with the project files it imports (resolved, repo-relative).
 * Tests beside the code (engine/core/indicators/sma.test.ts) are not part of the layers (they may import
 * test/ helpers and are not compiled into build/): `tests` lists them instead.
 */
function sources(dir: string, tests = false): { file: string; text: string; imports: string[] }[] {
  const out: { file: string; text: string; imports: string[] }[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(path.join(ROOT, d))) {
      const rel = path.join(d, f);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (f.endsWith('.ts') && f.endsWith('.test.ts') === tests) {
        const text = readFileSync(path.join(ROOT, rel), 'utf8');
        const imports = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) =>
          path.normalize(path.join(path.dirname(rel), m[1])),
        );
        out.push({ file: rel, text, imports });
      }
    }
  };
  walk(dir);
  return out;
}

const violations = (dir: string, forbidden: (imp: string) => boolean) =>
  sources(dir).flatMap((s) => s.imports.filter(forbidden).map((imp) => `${s.file} imports ${imp}`));

describe('dependency rules (DESIGN section 2)', () => {
  it('reads the imports it checks', () => {
    const engine = sources('engine/run').find((s) => s.file.endsWith('engine.ts'))!;
    expect(engine.imports).toContain(path.normalize('engine/core/ports.ts'));
  });
  it('engine/core imports nothing of the project outside engine/core', () => {
    expect(violations('engine/core', (imp) => !imp.startsWith('engine/core/'))).toEqual([]);
  });
  it('strategies import only the strategy API (engine/core) and each other', () => {
    expect(violations('strategies', (imp) => !imp.startsWith('engine/core/') && !imp.startsWith('strategies/'))).toEqual([]);
  });
  it('risk, portfolio and the simulated broker never import engine/ib or engine/live', () => {
    for (const d of ['engine/risk', 'engine/portfolio', 'engine/exec']) expect(violations(d, (imp) => /^engine\/(ib|live)\//.test(imp))).toEqual([]);
  });
  it('the ML code never reaches the broker, the live runner or the run loop: it only computes features and predictions', () => {
    expect(violations('engine/ml', (imp) => /^engine\/(ib|live|exec|risk|portfolio|run)\//.test(imp))).toEqual([]);
  });
  it('nothing under engine/ imports scripts/, notebooks/, strategies/ or tests', () => {
    // the one exception: the public API (engine/index.ts and engine/api/, `import * as tb from 'tradebench'`)
    // runs the built-in strategies by name, so it may import their registry, strategies/index.ts, and nothing else
    const api = (file: string) => file === path.normalize('engine/index.ts') || file.startsWith(path.normalize('engine/api/'));
    const bad = sources('engine').flatMap((s) =>
      s.imports
        .filter((imp) => /^(scripts|notebooks|strategies|test)\//.test(imp))
        .filter((imp) => !(api(s.file) && imp === path.normalize('strategies/index.ts')))
        .map((imp) => `${s.file} imports ${imp}`),
    );
    expect(bad).toEqual([]);
  });
  it('tests beside the engine code import nothing of the project that the code itself may not, but test/ helpers', () => {
    const tests = sources('engine', true);
    expect(tests.length).toBeGreaterThan(0);
    const own = (file: string) => file.split(path.sep).slice(0, 2).join('/');
    const bad = tests.flatMap((s) =>
      s.imports
        .filter((imp) => !imp.startsWith('test/') && !(own(s.file) === 'engine/core' ? imp.startsWith('engine/core/') : imp.startsWith('engine/')))
        .map((imp) => `${s.file} imports ${imp}`),
    );
    expect(bad).toEqual([]);
  });
  it('npm run build leaves those tests out of build/', () => {
    expect(JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).exclude).toContain('**/*.test.ts');
  });
  it('the folders of engine/ import each other without a cycle (the layers stay layers)', () => {
    expect(folderCycles(sources('engine'))).toEqual([]);
  });
  it('finds a folder cycle when there is one', () => {
    const fake = [
      { file: 'engine/ib/ib-feed.ts', text: '', imports: ['engine/live/aggregator.ts'] },
      { file: 'engine/live/runner.ts', text: '', imports: ['engine/ib/ib-broker.ts'] },
      { file: 'engine/core/types.ts', text: '', imports: [] },
    ];
    expect(folderCycles(fake)).toEqual([
      'engine/ib -> engine/live (engine/ib/ib-feed.ts imports engine/live/aggregator.ts) -> engine/ib (engine/live/runner.ts imports engine/ib/ib-broker.ts)',
    ]);
  });
});

/** The cycles among engine's folders, each as a path with one import that makes each step. */
function folderCycles(files: { file: string; imports: string[] }[]): string[] {
  const folder = (f: string) => f.split(path.sep).slice(0, 2).join('/');
  const edges = new Map<string, Map<string, string>>(); // folder -> folder -> an import that makes the edge
  for (const s of files) {
    const from = folder(s.file);
    for (const imp of s.imports) {
      const to = folder(imp);
      if (to === from || !to.startsWith('engine/') || to.split('/').length < 2) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, `${s.file} imports ${imp}`);
    }
  }
  const cycles: string[] = [];
  const seen = new Set<string>();
  const walk = (node: string, trail: string[]): void => {
    for (const next of (edges.get(node) ?? new Map<string, string>()).keys()) {
      const at = trail.indexOf(next);
      if (at >= 0) {
        const loop = [...trail.slice(at), next];
        const key = [...loop.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(loop.map((f, i) => (i === 0 ? f : `${f} (${edges.get(loop[i - 1])!.get(f)})`)).join(' -> '));
        }
      } else walk(next, [...trail, next]);
    }
  };
  for (const start of [...edges.keys()].sort()) walk(start, [start]);
  return cycles;
}

describe('no wall clock and no unseeded randomness in strategy, risk, order, portfolio and model code', () => {
  for (const dir of ['strategies', 'engine/core', 'engine/exec', 'engine/risk', 'engine/portfolio', 'engine/run', 'engine/ml']) {
    it(dir, () => {
      const bad = sources(dir)
        .filter((s) => /Date\.now\(|new Date\(\)|Math\.random\(|performance\.now\(/.test(s.text))
        .map((s) => s.file);
      expect(bad).toEqual([]);
    });
  }
});

/**
 * The repository paths written in backticks in a markdown text: spans that are one path under a top-level
 * folder of the repo (`engine/run/kernel.ts`, `engine/core/indicators/`). A placeholder segment
 * (`strategies/<name>.ts`) stands for a file to be written: the folder before it is what must exist.
 */
function docPaths(markdown: string): string[] {
  const spans = [...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1].trim());
  return [...new Set(spans.filter((p) => /^(engine|scripts|strategies|test|notebooks|models|docs)\/[\w.<>/-]*$/.test(p)))].map((p) =>
    p.includes('<') ? p.slice(0, p.lastIndexOf('/', p.indexOf('<')) + 1) : p,
  );
}

describe('docs/ARCHITECTURE.md', () => {
  it('names only files and folders that exist (a path in backticks that is renamed or removed fails here)', () => {
    const paths = docPaths(readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8'));
    expect(paths.length).toBeGreaterThan(50); // the doc names the real files; an empty list would mean the pattern broke
    expect(paths.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
  });
  it('reads the paths it checks, placeholders as their folder', () => {
    const md = 'see `engine/core/indicators/` and `engine/core/indicators/sma.ts`, add `strategies/<name>.ts`; not `npm run x` nor `ctx.buy`';
    expect(docPaths(md)).toEqual(['engine/core/indicators/', 'engine/core/indicators/sma.ts', 'strategies/']);
  });
});
