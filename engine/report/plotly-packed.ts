// plotly for notebooks, packed: plotly.min.js (4.8 MB) LZMA-compressed and base64-encoded is 1.5 MB in a saved
// notebook, decoded in the page by LZMA-JS's 7 KB decoder in about half a second. Browsers decode gzip natively
// (DecompressionStream), but gzip leaves 2.0 MB of base64, over a notebook's 2 MB budget on its own; LZMA-JS is
// the decoder that gets under it. Compressing takes about 8 s, so the result is cached on disk per plotly version.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { plotlyBundle } from './figures.ts';

const require = createRequire(import.meta.url);

/** LZMA-JS's compression level: 5 packs as well as 9 (1.13 vs 1.12 MB) in a sixth of the time. */
const LEVEL = 5;

let packed: string | undefined;

/** Where the packed bundle is cached: node_modules/.cache (the usual place), else the temp folder. */
function cacheFiles(): string[] {
  const pkg = path.dirname(require.resolve('plotly.js-dist-min/package.json'));
  const { version } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string };
  const name = `plotly-${version}-lzma${LEVEL}.b64`;
  return [path.join(pkg, '..', '.cache', 'tradebench', name), path.join(os.tmpdir(), 'tradebench-cache', name)];
}

/** plotly.min.js LZMA-compressed, base64: read from the cache, else compressed (about 8 s) and cached. */
export function packedPlotly(): string {
  if (packed !== undefined) return packed;
  const files = cacheFiles();
  for (const f of files) {
    try {
      packed = readFileSync(f, 'utf8');
      return packed;
    } catch {
      // not cached there
    }
  }
  const { compress } = require('lzma') as { compress(input: Buffer, level: number): number[] };
  const bytes = compress(Buffer.from(plotlyBundle(), 'utf8'), LEVEL);
  packed = Buffer.from(Uint8Array.from(bytes, (b) => b & 255)).toString('base64');
  for (const f of files) {
    try {
      mkdirSync(path.dirname(f), { recursive: true });
      const tmp = `${f}.${process.pid}.tmp`;
      writeFileSync(tmp, packed);
      renameSync(tmp, f); // atomic: a concurrent kernel never reads half a file
      break;
    } catch {
      // not writable: try the next place (or recompress next time)
    }
  }
  return packed;
}

/**
 * A script that defines `window.Plotly` from the packed bundle, unless the page already has plotly (or is
 * loading it). Figures wait for `window.Plotly` before they draw.
 */
export function packedPlotlyLoader(): string {
  const decoder = readFileSync(require.resolve('lzma/src/lzma-d-min.js'), 'utf8');
  if (/<\/script/i.test(decoder)) throw new Error('lzma-d-min.js contains </script> and cannot be inlined into a page');
  return `<script>(function () {
if (window.Plotly || window.__tradebenchPlotly) return;
window.__tradebenchPlotly = true;
var lib = {};
(function () {${decoder}}).call(lib);
var s = atob("${packedPlotly()}"), u = new Uint8Array(s.length);
for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
lib.LZMA.decompress(u, function (text, error) {
  if (error || typeof text !== 'string') { window.__tradebenchPlotly = false; console.error('tradebench: plotly did not decode', error); return; }
  var el = document.createElement('script'); el.text = text; document.head.appendChild(el);
});
})();</script>
`;
}
