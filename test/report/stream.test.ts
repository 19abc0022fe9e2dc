// report.json and report.html are written piece by piece (never one giant string): the pieces must give
// exactly the bytes the one-string renderers gave.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  jsonChunks,
  jsonForScriptChunks,
  plotlyBundle,
  renderReportHtmlChunks,
  reportJson,
  reportJsonChunks,
  stageFile,
  writeReport,
  type Report,
} from '../../engine/report/index.ts';
import { TABLE_EDGE_ROWS } from '../../engine/report/decimate.ts';
import { jsonForScript } from '../../engine/report/format.ts';
import { sampleReport } from './sample-report.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const joined = (it: Iterable<string>) => [...it].join('');
const embedded = (html: string): unknown => JSON.parse(/<script type="application\/json" id="tradebench-report">([\s\S]*?)<\/script>/.exec(html)![1]);
const longest = (pieces: Iterable<string>) => Array.from(pieces).reduce((m, s) => Math.max(m, s.length), 0);

function withoutPlotly(html: string): string {
  const bundle = plotlyBundle();
  const i = html.indexOf(bundle);
  expect(i).toBeGreaterThan(0);
  return html.slice(0, i) + html.slice(i + bundle.length);
}

function evilReport(): Report {
  const r = sampleReport({ symbols: ['<img src=x onerror=alert(1)>', 'MSFT'], days: 120 });
  r.riskEvents[0].message = 'bad </script><script>alert("x")</script> & <!-- done';
  r.attribution.push({ ...r.attribution[0], strategy: 'second' });
  return r;
}

/** A report with many orders, fills and risk events, like a long minute run's. */
function bigReport(n: number): Report {
  const r = sampleReport({ days: 80 });
  const o = r.orders[0];
  const e = r.riskEvents[0];
  const f = r.fills[0];
  return {
    ...r,
    config: { ...r.config, from: undefined, nested: { a: [1, undefined, { b: undefined }], u: '\u2028' } },
    orders: Array.from({ length: n }, (_, i) => ({ ...o, id: i + 1, reason: i % 3 ? undefined : `r<${i}>&` })),
    fills: Array.from({ length: n }, (_, i) => ({ ...f, orderId: i + 1 })),
    riskEvents: Array.from({ length: n }, (_, i) => ({ ...e, orderId: i + 1, message: `m ${i} </script>` })),
  } as Report;
}

describe('jsonChunks', () => {
  it('joins to exactly JSON.stringify(value, null, indent) for any JSON-like value', () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(undefined, NaN, Infinity, -0, '\u2028</script>'),
        fc.array(tie('v'), { maxLength: 5 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('v'), { maxKeys: 5 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.constantFrom(0, 2, 4), (v, indent) => {
        expect(joined(jsonChunks(v, indent))).toBe(JSON.stringify(v, null, indent) ?? '');
      }),
    );
  });

  it('matches JSON.stringify on values with toJSON, boxed primitives, sparse arrays and typed arrays', () => {
    // eslint-disable-next-line no-sparse-arrays
    const v = {
      d: new Date(0),
      n: Object(1),
      s: Object('x'),
      sparse: [1, undefined, 3],
      f: () => 1,
      t: new Float64Array([1.5, 2]),
      deep: { a: { b: { c: [{ d: 1 }] } } },
    };
    for (const indent of [0, 2]) expect(joined(jsonChunks(v, indent))).toBe(JSON.stringify(v, null, indent));
  });

  it('joins exactly for long arrays (written in slices), at the top and nested, with any indent', () => {
    const long = Array.from({ length: 1_000 }, (_, i) =>
      i % 7 === 0 ? undefined : i % 5 === 0 ? { a: i, b: [i, { c: 'x\ny' }], u: undefined } : i % 3 === 0 ? [i, null] : `s${i}`,
    );
    for (const v of [long, { k: long, m: { n: long, e: [] } }, [[long]]])
      for (const indent of [0, 2, 4]) expect(joined(jsonChunks(v, indent))).toBe(JSON.stringify(v, null, indent));
  });

  it('script-safe pieces join to jsonForScript', () => {
    const r = evilReport();
    expect(joined(jsonForScriptChunks(r))).toBe(jsonForScript(r));
  });
});

describe('streamed report.json', () => {
  it('is byte-identical to reportJson(report), and parses to the same value', () => {
    for (const r of [sampleReport({ days: 80 }), evilReport(), bigReport(5_000)]) {
      const text = joined(reportJsonChunks(r));
      expect(text).toBe(reportJson(r));
      expect(JSON.parse(text)).toEqual(JSON.parse(reportJson(r)));
    }
  });

  it('never holds more than a slice of a long array in one piece', () => {
    const r = bigReport(20_000);
    const total = reportJson(r).length;
    const biggest = longest(reportJsonChunks(r));
    expect(total).toBeGreaterThan(10_000_000);
    expect(biggest).toBeLessThan(200_000);
  });
});

describe('streamed report.html', () => {
  // sha256 of the page (without the plotly bundle) as the one-string renderer wrote it before streaming
  // (Tradebench at git HEAD of 2026-11-30, then the effective config under the title, then the tearsheet sections
  // engine/report/tearsheet-html.ts: benchmark, distribution, worst drawdowns, then the monthly-returns heatmap
  // figure with the table folded under it and the trades figure one symbol at a time with its selector); a
  // deliberate change of the page's markup changes these.
  it('gives the bytes the one-string renderer gave', () => {
    expect(sha256(withoutPlotly(joined(renderReportHtmlChunks(sampleReport({ days: 80 })))))).toBe(
      '9d80e2b171b934987c878f2b41c74710d7ef30c27882a183485b47f322aab140',
    );
    expect(sha256(withoutPlotly(joined(renderReportHtmlChunks(evilReport()))))).toBe('9bee7cf5c2815f517b341c13b53c39efc84e2042d35dce5198d68ada4ef500f2');
  });

  // report.html used to embed report.json whole, so a long run's page was as big as its report.json plus its
  // tables (57-97 MB for 500 symbols over 20 years, which Chromium could not open in minutes). Now the page
  // embeds report.json whole only when its lists fit (at most 2 x TABLE_EDGE_ROWS rows each); otherwise the
  // long lists are cut to their first and last TABLE_EDGE_ROWS rows and `htmlView` says how many were left
  // out: report.json keeps everything, the page stays within its 8 MB budget (decimate.test.ts).
  it('embeds report.json whole when its lists fit, and a capped view of the long lists otherwise', () => {
    const small = sampleReport({ days: 80 });
    expect(embedded(joined(renderReportHtmlChunks(small)))).toEqual(JSON.parse(reportJson(small)));

    const r = bigReport(20_000);
    const pieces = [...renderReportHtmlChunks(r)];
    const html = pieces.join('');
    const json = JSON.parse(reportJson(r));
    const ends = (rows: unknown[]) => [...rows.slice(0, TABLE_EDGE_ROWS), ...rows.slice(-TABLE_EDGE_ROWS)];
    expect(embedded(html)).toEqual({
      ...json,
      orders: ends(json.orders),
      fills: ends(json.fills),
      riskEvents: ends(json.riskEvents),
      htmlView: {
        note: `report.html embeds the first and last ${TABLE_EDGE_ROWS} rows of its long lists; all rows are in report.json`,
        omitted: { orders: 20_000 - 2 * TABLE_EDGE_ROWS, fills: 20_000 - 2 * TABLE_EDGE_ROWS, riskEvents: 20_000 - 2 * TABLE_EDGE_ROWS },
      },
    });
    // the long tables show their ends and say where the rest is
    expect(html.match(/<tr>/g)!.length).toBeLessThan(1_000);
    expect(html).toContain('all 20,000 rows are in report.json');
    const bundle = plotlyBundle();
    const biggest = longest(pieces.filter((p) => p !== bundle));
    expect(html.length - bundle.length).toBeLessThan(1_000_000);
    expect(biggest).toBeLessThan(200_000);
  });
});

describe('writeReport (streamed)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes the same bytes as the renderers, and no temporary file stays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-stream-'));
    dirs.push(dir);
    const r = bigReport(3_000);
    const out = await writeReport(dir, r);
    expect(await readFile(out.json, 'utf8')).toBe(reportJson(r));
    expect(await readFile(out.html, 'utf8')).toBe(joined(renderReportHtmlChunks(r)));
    expect((await readdir(dir)).sort()).toEqual(['report.html', 'report.json']);
  });

  it('stageFile writes the UTF-8 of the joined pieces: multi-byte characters and pairs split between pieces, at any buffer fill', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-stream-'));
    dirs.push(dir);
    const pair = '\u{1F600}'; // two UTF-16 units, four UTF-8 bytes
    // about 1 MiB of pieces first, so that the buffer fills and flushes near the odd pieces below
    const pieces = [
      ...Array.from({ length: 1040 }, (_, i) => `${'x'.repeat(1000 + (i % 7))}é€`),
      'a\ud83d',
      '\ude00b',
      '\ud83d',
      '\ude00',
      'ü'.repeat(600_000),
      pair,
      '\ud800',
    ];
    const staged = stageFile(join(dir, 'out.txt'), pieces);
    const bytes = await readFile(staged.temp);
    expect(bytes.equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
    expect(bytes.toString('utf8')).toContain(`a${pair}b${pair}`);
    await rm(staged.temp);
  });

  it('removes the temporary files of a run that was killed while writing, not those of a live process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-stream-'));
    dirs.push(dir);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const stale = `.report.html.${dead.stdout}.1.tmp`;
    const live = `.report.json.${process.ppid}.1.tmp`;
    await writeFile(join(dir, stale), 'half a page');
    await writeFile(join(dir, live), 'being written');
    await writeReport(dir, sampleReport({ days: 20 }));
    expect((await readdir(dir)).sort()).toEqual([live, 'report.html', 'report.json']);
  });
});
