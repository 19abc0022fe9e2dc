import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli/run-cli.ts';

/** Every .ts file under a folder of the repo, with the project files it imports (resolved, repo-relative). */
function sources(dir: string): { file: string; text: string; imports: string[] }[] {
  const out: { file: string; text: string; imports: string[] }[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(path.join(ROOT, d))) {
      const rel = path.join(d, f);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (f.endsWith('.ts')) {
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
    expect(violations('engine', (imp) => /^(scripts|notebooks|strategies|test)\//.test(imp))).toEqual([]);
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
