// The stack's floor under W1 (issue 14): a bare node process that loads @duckdb/node-api, opens the imported
// .duckdb read-only with a run's DuckDB settings and reads the bars of the given symbols into typed arrays, with
// one unsorted query and nothing else (no engine, no journal, no reports). Run as a child by whole-process.ts.
// usage: node scripts/bench/read-floor.mjs DB SYMBOL,SYMBOL,...
import { createRequire } from 'node:module';

const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api');
const [db, symbols] = process.argv.slice(2);
const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
const conn = await instance.connect();
await conn.run(`SET memory_limit = '32MB'`);
const list = symbols
  .split(',')
  .map((s) => `'${s}'`)
  .join(',');
const counted = await conn.runAndReadAll(`SELECT count(*)::DOUBLE FROM bars WHERE "interval" = '1d' AND symbol IN (${list})`);
const rows = Number(counted.getColumnsJS()[0][0]);
const columns = Array.from({ length: 6 }, () => new Float64Array(rows));
const result = await conn.stream(`SELECT ts::DOUBLE, open, high, low, close, volume FROM bars WHERE "interval" = '1d' AND symbol IN (${list})`);
let at = 0;
for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
  // a DOUBLE column's vector holds its values in a Float64Array (as engine/data/load.ts reads them)
  for (let c = 0; c < 6; c++) columns[c].set(chunk.getColumnVector(c).items.subarray(0, chunk.rowCount), at);
  at += chunk.rowCount;
}
conn.closeSync();
instance.closeSync();
console.log(`read ${at} bars`);
