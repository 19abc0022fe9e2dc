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
        const imports = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => path.normalize(path.join(path.dirname(rel), m[1])));
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
});

describe('no wall clock and no unseeded randomness in strategy, risk, order, portfolio and model code', () => {
  for (const dir of ['strategies', 'engine/core', 'engine/exec', 'engine/risk', 'engine/portfolio', 'engine/run', 'engine/ml']) {
    it(dir, () => {
      const bad = sources(dir).filter((s) => /Date\.now\(|new Date\(\)|Math\.random\(|performance\.now\(/.test(s.text)).map((s) => s.file);
      expect(bad).toEqual([]);
    });
  }
});
