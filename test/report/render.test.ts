// Renders a report to PNG with headless Chromium and checks the picture is not blank.
// Skipped (with a message) when Chromium is absent, unless CI=true, where its absence fails.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../engine/report/index.ts';
import { sampleReport } from './sample-report.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`render.test: ${CHROMIUM} not found, skipping the PNG render (apt-get install chromium, or set CHROMIUM_PATH)`);
}

const WIDTH = 1400;
const HEIGHT = 2400;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Runs Chromium on a page; resolves with its stdout. */
function chromium(htmlPath: string, profile: string, extra: string[]): Promise<string> {
  const args = [...FLAGS, `--user-data-dir=${profile}`, ...extra, pathToFileURL(htmlPath).href];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // Chromium exits 0 even when the page fails to load: the caller checks the output
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function screenshot(htmlPath: string, png: string, profile: string): Promise<void> {
  await chromium(htmlPath, profile, [`--screenshot=${png}`, `--window-size=${WIDTH},${HEIGHT}`]);
}

/** width and height from a PNG's IHDR chunk */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('report rendered by headless Chromium', () => {
  let root = '';
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('gives a PNG that is not blank', { timeout: 180_000 }, async () => {
    expect(HAVE_CHROMIUM, `CI=true but no Chromium at ${CHROMIUM}`).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'tb-render-'));
    const { html } = await writeReport(join(root, 'run'), sampleReport());
    const blankHtml = join(root, 'blank.html');
    await writeFile(blankHtml, '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>\n');

    const png = join(root, 'report.png');
    const blankPng = join(root, 'blank.png');
    await screenshot(html, png, await mkdtemp(join(root, 'profile-')));
    await screenshot(blankHtml, blankPng, await mkdtemp(join(root, 'profile-')));

    expect(existsSync(png), 'chromium wrote no screenshot').toBe(true);
    const shot = await readFile(png);
    const blank = await readFile(blankPng);
    expect(pngSize(shot)).toEqual({ width: WIDTH, height: HEIGHT });
    expect((await stat(png)).size).toBeGreaterThan(20 * 1024);
    // a page of charts and tables compresses far worse than an empty page
    expect(shot.length).toBeGreaterThan(5 * blank.length);
    expect(shot.equals(blank)).toBe(false);
  });

  it('runs the chart script: plotly draws all six charts', { timeout: 180_000 }, async () => {
    expect(HAVE_CHROMIUM, `CI=true but no Chromium at ${CHROMIUM}`).toBe(true);
    if (!root) root = await mkdtemp(join(tmpdir(), 'tb-render-'));
    const { html } = await writeReport(join(root, 'dom'), sampleReport({ days: 200 }));
    const dom = await chromium(html, await mkdtemp(join(root, 'profile-')), ['--dump-dom']);
    for (const id of ['chart-equity', 'chart-drawdown', 'chart-rolling', 'chart-exposure', 'chart-monthly', 'chart-trades']) {
      expect(dom, id).toMatch(new RegExp(`<div id="${id}" class="[^"]*js-plotly-plot`));
    }
    expect(dom.match(/class="main-svg"/g)?.length ?? 0).toBeGreaterThanOrEqual(6);
    // the trades chart's symbol selector (a plotly dropdown)
    expect(dom).toMatch(/class="updatemenu-container"/);
  });
});
