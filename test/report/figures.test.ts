import { describe, expect, it } from 'vitest';
import { candlesFigure, figureHtml } from '../../engine/report/index.ts';

describe('notebook figures (one plotting module with the report)', () => {
  it('is a standalone, offline fragment: plotly inlined once per page, data escaped, unique ids', () => {
    const a = figureHtml([{ type: 'scatter', y: [1, 2], name: '</script><b>x</b>' }], { title: { text: 't' } });
    const b = figureHtml([{ type: 'scatter', y: [3] }]);
    expect(a).toMatch(/if \(typeof Plotly === 'undefined'\)/);
    expect(a).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(a).not.toContain('</script><b>x</b>');
    expect(a.match(/id="([^"]+)"/)![1]).not.toBe(b.match(/id="([^"]+)"/)![1]);
  });
  it('draws candles with volume from columnar bars', () => {
    const t = Date.UTC(2020, 0, 2);
    const html = candlesFigure('X', { ts: [t, t + 864e5], open: [1, 2], high: [2, 3], low: [0.5, 1.5], close: [1.5, 2.5], volume: [10, 20] });
    expect(html).toContain('"candlestick"');
    expect(html).toContain('"2020-01-03"');
    expect(html).toContain('"yaxis2"');
  });
});
