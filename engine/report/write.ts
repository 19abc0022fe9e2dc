// Writes report.json and report.html atomically (temp file in the same directory, then rename).
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReportHtml } from './html.ts';
import type { Report } from './report-types.ts';

let tempCounter = 0;

/** Write `text` to `path` so a reader sees either the old file or the whole new one. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The report as report.json text: 2-space indent, keys in the order the report was built, trailing newline. */
export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Writes `dir/report.json` and `dir/report.html` (creating `dir`); returns their paths. */
export async function writeReport(dir: string, report: Report): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  await writeFileAtomic(json, reportJson(report));
  await writeFileAtomic(html, renderReportHtml(report));
  return { json, html };
}
