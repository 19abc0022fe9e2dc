// The report's size budget: a synthetic 500-symbol, 20-year report (test/report/sample-report.ts: about
// 110,000 trades and 220,000 orders and fills) written as report.json and report.html, the html's size, and
// how long headless Chromium takes to open it: from navigation start to the end of the chart script (every
// plotly chart drawn), read from a copy of the page that writes performance.now() into its title.
// Standalone: `node --import tsx scripts/bench/report-size.ts [symbols] [days] [--keep]` prints the figures as JSON.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../engine/report/write.ts';
import { sampleReport } from '../../test/report/sample-report.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ReportSizeFigures {
  symbols: number;
  days: number;
  trades: number;
  orders: number;
  /** seconds to write report.json and report.html */
  writeSeconds: number;
  jsonMb: number;
  htmlMb: number;
  /** ms from navigation start to the end of the chart script, per Chromium run (null without Chromium) */
  openMs: number[] | null;
}

/** Milliseconds Chromium takes from navigation start to the end of the page's scripts. */
function openTime(html: string, dir: string): Promise<number> {
  const timed = path.join(dir, 'timed.html');
  const page = readFileSync(html, 'utf8');
  const probe = '<script>document.title = "tb-open-ms:" + Math.round(performance.now());</script>';
  writeFileSync(timed, page.replace(/<\/body>\n<\/html>\n$/, `${probe}</body>\n</html>\n`));
  const profile = mkdtempSync(path.join(dir, 'profile-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--window-size=1400,2400',
    '--dump-dom',
    pathToFileURL(timed).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      const m = /<title>tb-open-ms:(\d+)/.exec(stdout);
      if (err) reject(new Error(`chromium failed: ${err.message}`));
      else if (!m) reject(new Error('chromium did not run the page to its end'));
      else resolve(Number(m[1]));
    });
  });
}

export async function benchReportSize(symbols = 500, days = 5_040, runs = 3, keep = false): Promise<ReportSizeFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tradebench-report-size-'));
  try {
    const names = Array.from({ length: symbols }, (_, i) => `S${String(i).padStart(3, '0')}`);
    const report = sampleReport({ symbols: names, days });
    const t0 = performance.now();
    const out = await writeReport(path.join(dir, 'run'), report);
    const writeSeconds = (performance.now() - t0) / 1000;
    let openMs: number[] | null = null;
    if (existsSync(CHROMIUM)) {
      openMs = [];
      for (let i = 0; i < runs; i++) openMs.push(await openTime(out.html, dir));
    }
    if (keep) console.error(`kept ${dir}`);
    return {
      symbols,
      days,
      trades: report.trades.length,
      orders: report.orders.length,
      writeSeconds,
      jsonMb: statSync(out.json).size / 1e6,
      htmlMb: statSync(out.html).size / 1e6,
      openMs,
    };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [symbols, days] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  benchReportSize(Number(symbols ?? 500), Number(days ?? 5_040), 3, process.argv.includes('--keep')).then((f) => console.log(JSON.stringify(f)));
}
