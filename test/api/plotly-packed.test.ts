// Notebook figures carry plotly packed (LZMA, base64) in the first figure of a kernel: the pack decodes to
// plotly.min.js byte for byte, and headless Chromium draws every figure of a page from it with no network.
// The browser part is skipped (with a message) when Chromium is absent, unless CI=true, where its absence fails.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { figureFragment, setHtmlSink } from '../../engine/api/display.ts';
import { ensureSampleDb } from '../../engine/data/sample.ts';
import { SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import * as tb from '../../engine/index.ts';
import { curvesFigure, plotlyBundle } from '../../engine/report/figures.ts';
import { packedPlotly } from '../../engine/report/plotly-packed.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
if (!HAVE_CHROMIUM && !IN_CI) console.warn(`plotly-packed.test: ${CHROMIUM} not found, skipping the browser check (apt-get install chromium)`);

const figure = (name: string) => curvesFigure(name, [{ name, dates: ['2020-01-02', '2020-01-03', '2020-01-06'], values: [1, 2, 1.5] }]);
/** 5,000 points: its data travels gzipped */
const big = () => {
  const dates = Array.from({ length: 5000 }, (_, i) => new Date(Date.UTC(2000, 0, 1) + i * 864e5).toISOString().slice(0, 10));
  return curvesFigure('big', [{ name: 'big', dates, values: dates.map((_, i) => 100_000 * Math.exp(Math.sin(i / 50) / 3) + i / 7) }]);
};

describe('packed plotly', () => {
  let root = '';
  afterAll(async () => {
    setHtmlSink(undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('decodes to plotly.min.js exactly, at under a third of its size', { timeout: 120_000 }, () => {
    const b64 = packedPlotly();
    const bundle = plotlyBundle();
    expect(b64.length).toBeLessThan(bundle.length / 3);
    const { decompress } = createRequire(import.meta.url)('lzma') as { decompress(b: Uint8Array): string };
    expect(decompress(Buffer.from(b64, 'base64')) === bundle).toBe(true);
  });

  it('the first figure of a kernel carries it, the others only wait for it', { timeout: 120_000 }, () => {
    setHtmlSink(null); // resets the once-per-kernel flag
    const first = figureFragment(figure('a'));
    const second = figureFragment(figure('b'));
    expect(first).toContain(packedPlotly());
    expect(first.length).toBeLessThan(1_600_000);
    expect(second.length).toBeLessThan(2_000);
    const large = figureFragment(big());
    expect(large).toContain("DecompressionStream('gzip')");
    // 5,000 dates and values are about 150 kB of JSON
    expect(large.length).toBeLessThan(60_000);
  });

  it('ten charts of the bundled sample run (23 years, three symbols), as notebook outputs, stay under 2 MB', { timeout: 120_000 }, async () => {
    await ensureSampleDb(SAMPLE_DB_PATH);
    setHtmlSink(null);
    const r = await tb.backtest({ strategy: 'sma-cross' });
    const rsi = await tb.backtest({ strategy: 'rsi-reversion' });
    const figures = [
      ...(['equity', 'drawdown', 'rolling', 'exposure', 'trades', 'monthly'] as const).map((k) => r.figure(k)),
      await r.candles('SPY'),
      tb.compare([r, rsi]).figure,
      rsi.figure('equity'),
      rsi.figure('trades'),
    ];
    // an ipynb holds each output as a JSON string
    const bytes = figures.reduce((sum, f) => sum + Buffer.byteLength(JSON.stringify(figureFragment(f))), 0);
    expect(r.report.equity.length).toBeGreaterThan(5000);
    expect(bytes).toBeLessThan(2_000_000);
  });

  it.skipIf(!HAVE_CHROMIUM && !IN_CI)('Chromium draws every figure of a page from it, offline', { timeout: 120_000 }, async () => {
    expect(HAVE_CHROMIUM, `CI=true but no Chromium at ${CHROMIUM}`).toBe(true);
    setHtmlSink(null);
    const page = [...['a', 'b', 'c'].map((n) => figureFragment(figure(n))), figureFragment(big())].join('\n');
    root = await mkdtemp(join(tmpdir(), 'tb-packed-'));
    const html = join(root, 'page.html');
    await writeFile(html, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${page}</body></html>`);
    const dom = await new Promise<string>((resolve, reject) =>
      execFile(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          `--user-data-dir=${join(root, 'profile')}`,
          '--virtual-time-budget=20000',
          '--dump-dom',
          pathToFileURL(html).href,
        ],
        { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => (err ? reject(new Error(`chromium failed: ${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    // plotly marks each div it drew and writes each figure's title into its SVG
    expect(dom.match(/class="[^"]*js-plotly-plot/g)).toHaveLength(4);
    for (const n of ['a', 'b', 'c', 'big']) expect(dom).toContain(`data-unformatted="${n}"`);
  });
});
