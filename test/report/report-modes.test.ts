// writeRunOutputs with `reports` (npm run backtest --report all|json|html|none): only the files asked for
// are written, a report file not asked for is removed once the run's outputs are committed (not before:
// a failed run leaves everything as it was), and a run without report.html never renders the page.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderReportHtml, reportJson, writeReport, writeRunOutputs, type Report, type ReportMode } from '../../engine/report/index.ts';
import { sampleReport } from './sample-report.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A folder holding an earlier run's report.json, report.html and journal. */
async function earlierRun(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tb-modes-'));
  dirs.push(dir);
  await writeReport(dir, sampleReport({ days: 30, seed: 1 }));
  await writeFile(join(dir, 'journal.duckdb'), 'earlier journal');
  return dir;
}

const journal = (dir: string) => ({ path: join(dir, 'journal.duckdb'), write: () => writeFile(join(dir, 'journal.duckdb'), 'new journal') });

describe('writeRunOutputs: reports on demand', () => {
  const report = sampleReport({ days: 80 });
  const cases: [ReportMode, string[]][] = [
    ['all', ['journal.duckdb', 'report.html', 'report.json']],
    ['json', ['journal.duckdb', 'report.json']],
    ['html', ['journal.duckdb', 'report.html']],
    ['none', ['journal.duckdb']],
  ];
  for (const [mode, files] of cases)
    it(`--report ${mode}: writes ${files.join(', ')}; no other report stays from the earlier run`, async () => {
      const dir = await earlierRun();
      const out = await writeRunOutputs({ dir, report, reports: mode, journal: journal(dir) });
      expect((await readdir(dir)).sort()).toEqual(files);
      expect(await readFile(join(dir, 'journal.duckdb'), 'utf8')).toBe('new journal');
      // the files written are the ones --report all writes, byte for byte
      if (files.includes('report.json')) expect(await readFile(join(dir, 'report.json'), 'utf8')).toBe(reportJson(report));
      if (files.includes('report.html')) expect(await readFile(join(dir, 'report.html'), 'utf8')).toBe(renderReportHtml(report));
      expect(out.json).toBe(files.includes('report.json') ? join(dir, 'report.json') : undefined);
      expect(out.html).toBe(files.includes('report.html') ? join(dir, 'report.html') : undefined);
      expect(out.removed).toEqual(['report.json', 'report.html'].filter((f) => !files.includes(f)).map((f) => join(dir, f)));
    });

  it('--report none into a folder that does not exist creates nothing there but the journal', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tb-modes-'));
    dirs.push(root);
    const dir = join(root, 'new');
    const out = await writeRunOutputs({ dir, report, reports: 'none' });
    expect(out).toEqual({ removed: [] });
    expect(existsSync(dir)).toBe(false);
  });

  it('a failed journal write removes nothing: the earlier reports stay beside the earlier journal', async () => {
    for (const mode of ['json', 'none'] as const) {
      const dir = await earlierRun();
      const before = await Promise.all(['report.json', 'report.html', 'journal.duckdb'].map((f) => readFile(join(dir, f))));
      // a real failure: the journal's path is a folder (EISDIR)
      const bad = { path: join(dir, 'journal.duckdb'), write: () => writeFile(dir, 'x') };
      await expect(writeRunOutputs({ dir, report, reports: mode, journal: bad })).rejects.toThrow(/nothing was replaced/);
      expect((await readdir(dir)).sort()).toEqual(['journal.duckdb', 'report.html', 'report.json']);
      const after = await Promise.all(['report.json', 'report.html', 'journal.duckdb'].map((f) => readFile(join(dir, f))));
      for (let i = 0; i < 3; i++) expect(after[i].equals(before[i])).toBe(true);
    }
  });

  it('--report json never renders the page (no figures are built)', async () => {
    // a report the page cannot be drawn from (no rolling series): the JSON alone is still written
    const partial = { ...report, rolling: undefined } as unknown as Report;
    expect(() => renderReportHtml(partial)).toThrow();
    const dir = await earlierRun();
    const out = await writeRunOutputs({ dir, report: partial, reports: 'json', journal: journal(dir) });
    expect(await readFile(out.json!, 'utf8')).toBe(reportJson(partial));
  });
});
