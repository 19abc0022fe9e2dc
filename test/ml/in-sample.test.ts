// A backtest or sweep of a model strategy over the bars its model was trained on says so: a warning on
// stderr, report.json's `inSample` and a banner in report.html. Over later bars, none of the three.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inSampleOf } from '../../engine/ml/in-sample.ts';
import { renderReportHtml } from '../../engine/report/html.ts';
import { runCli } from '../cli/run-cli.ts';
import { sampleReport } from '../report/sample-report.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
/** Weekday dates from `from` (inclusive), n of them. */
function weekdays(from: string, n: number): number[] {
  const out: number[] = [];
  for (let t = day(from); out.length < n; t += 86_400_000) if (![0, 6].includes(new Date(t).getUTCDay())) out.push(t);
  return out;
}
const card = (training: Record<string, unknown> | undefined, horizon = 5) => ({
  training,
  label: { kind: 'forward-return-sign' as const, horizon, definition: '' },
});

describe('inSampleOf', () => {
  // 2015-12-14 .. 2016-01-15 on weekdays (no holidays): training to 2015-12-23 is the 8th bar
  const ts = weekdays('2015-12-14', 25);
  const series = [{ ts }, { ts: ts.slice(3) }];

  it('counts the bars of every symbol in the training window and names the first bar after the label horizon', () => {
    const s = inSampleOf({ strategy: 'ml-signal', model: 'models/m', card: card({ from: '2015-12-15', to: '2015-12-23' }), series })!;
    // symbol 1: 12-15 .. 12-23 = 7 bars; symbol 2 starts 12-17: 5 bars
    expect(s).toMatchObject({
      model: 'models/m',
      trainedFrom: '2015-12-15',
      trainedTo: '2015-12-23',
      bars: 12,
      totalBars: 47,
      from: '2015-12-15',
      to: '2015-12-23',
      horizon: 5,
    });
    // after 12-23: 24, 25, 28, 29, 30 are the 5 bars whose closes decide the last training labels; 31 is the first unseen
    expect(s.outOfSampleFrom).toBe('2015-12-31');
    expect(s.message).toBe(
      "ml-signal's model models/m was trained on bars 2015-12-15 .. 2015-12-23; 12 of the 47 bars of this run (2015-12-15 .. 2015-12-23) are in its training window: results there are in-sample. Use --from 2015-12-31 for an out-of-sample run.",
    );
    expect(inSampleOf({ strategy: 'ml-signal', model: 'models/m', card: card({ to: '2015-12-23' }, 1), series, scope: 'sweep' })).toMatchObject({
      trainedFrom: null,
      bars: 8 + 5,
      from: '2015-12-14',
      outOfSampleFrom: '2015-12-25',
      message: expect.stringMatching(
        /trained on bars up to 2015-12-23; 13 of the 47 bars of this sweep .* Use --from 2015-12-25 for an out-of-sample sweep\.$/,
      ),
    });
  });

  it('is undefined for a run after the training window, or a card without training.to', () => {
    expect(inSampleOf({ strategy: 'ml-signal', model: 'm', card: card({ to: '2015-12-11' }), series })).toBeUndefined();
    expect(inSampleOf({ strategy: 'ml-signal', model: 'm', card: card({ from: '2016-02-01', to: '2016-03-01' }), series })).toBeUndefined();
    expect(inSampleOf({ strategy: 'ml-signal', model: 'm', card: card(undefined), series })).toBeUndefined();
    expect(inSampleOf({ strategy: 'ml-signal', model: 'm', card: card({ to: 'yesterday' }), series })).toBeUndefined();
  });

  it('says so when the data has no bar past the training window and its label horizon', () => {
    const s = inSampleOf({ strategy: 'ml-signal', model: 'm', card: card({ to: '2016-01-12' }), series })!;
    expect(s.outOfSampleFrom).toBeNull();
    expect(s.message).toMatch(/no bar after the training window and its 5-bar label horizon/);
  });
});

describe('report.html', () => {
  it('shows the in-sample banner only for a flagged report, and is otherwise unchanged', () => {
    const plain = sampleReport({ days: 40 });
    const before = renderReportHtml(plain);
    expect(before).not.toContain('in-sample-warning');
    const s = inSampleOf({ strategy: 'ml-signal', model: 'models/<m>', card: card({ to: '2015-12-23' }), series: [{ ts: weekdays('2015-12-14', 25) }] })!;
    // key order as buildReport writes it
    const { tradebench, ...rest } = plain;
    const withFlag = { tradebench, inSample: s, ...rest };
    const html = renderReportHtml(withFlag);
    expect(html).toContain('<div class="in-sample-warning" role="alert"');
    expect(html).toContain('<strong>In-sample results.</strong> ml-signal&#39;s model models/&lt;m&gt; was trained on bars up to 2015-12-23');
    // the report without the flag renders as before
    expect(renderReportHtml(plain)).toBe(before);
  });
});

describe('the CLIs on the bundled model', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-in-sample-'));

  it('a backtest over the default range warns once, naming the model and its training end, and flags the report', () => {
    const out = path.join(tmp, 'all');
    // no commission: ml-signal trades adjusted prices, on which the per-share default (ibkr-fixed) warns too
    const r = runCli('backtest.ts', ['--strategy', 'ml-signal', '--commission', 'none', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: ml-signal's model models\/gbt-daily was trained on bars 1998-03-16 \.\. 2015-12-23; [\d,]+ of the [\d,]+ bars of this run \(1998-03-16 \.\. 2015-12-23\) are in its training window: results there are in-sample\. Use --from 2016-01-04 for an out-of-sample run\.$/,
    );
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.inSample).toMatchObject({ model: 'models/gbt-daily', trainedTo: '2015-12-23', outOfSampleFrom: '2016-01-04', horizon: 5 });
    expect(report.inSample.bars).toBeGreaterThan(10_000);
    expect(report.inSample.bars).toBeLessThan(report.inSample.totalBars);
    expect(`warning: ${report.inSample.message}`).toBe(warnings[0]);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('in-sample-warning');
  }, 120_000);

  it('a backtest from the first out-of-sample bar neither warns nor flags', () => {
    const out = path.join(tmp, 'oos');
    const r = runCli('backtest.ts', ['--strategy', 'ml-signal', '--commission', 'none', '--from', '2016-01-04', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report).not.toHaveProperty('inSample');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).not.toContain('in-sample-warning');
  }, 120_000);

  it('a sweep warns once for all its runs; a strategy without a model never warns', () => {
    const r = runCli('sweep.ts', [
      '--strategy',
      'ml-signal',
      '--grid',
      '{"enter":[0.55,0.6],"exit":[0.45,0.5]}',
      '--commission',
      'none',
      '--workers',
      '1',
      '--db',
      path.join(tmp, 's.duckdb'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: ml-signal's model models\/gbt-daily was trained on bars 1998-03-16 \.\. 2015-12-23; .* bars of this sweep .* Use --from 2016-01-04 for an out-of-sample sweep\.$/,
    );
    const sma = runCli('sweep.ts', ['--grid', '{"fast":[10],"slow":[30]}', '--symbols', 'SPY', '--workers', '1', '--db', path.join(tmp, 't.duckdb')]);
    expect(sma.code, sma.stderr).toBe(0);
    expect(sma.stderr).not.toMatch(/warning/);
  }, 120_000);
});
