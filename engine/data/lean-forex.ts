// Reader for the LEAN sample FX files (forex/<pair>/<daily|hour|minute>/...; DERIVATIVES.md "Forex"): bid and ask
// O/H/L/C in quote currency per unit of base (GBPUSD = USD per GBP), no sizes (LEAN's are always 0: stored 0).
// Each row gives a quote bar and the mid bar ((bid + ask) / 2 per field, volume 0), so indicators and marks work
// on `bars` as for stocks. The instrument is IB's IDEALPRO pair from engine/instruments (idealproPair).
//
// Times: hour and minute rows carry time_utc (bar start, UTC). Daily rows carry LEAN's date label D and are
// stored, as every daily bar in the store, at 00:00 UTC of D. What D covers depends on the vendor: Oanda's bar is
// the UTC day D (00:00-24:00 UTC); FXCM's is the UTC-05 day D, 05:00 UTC on D to 05:00 UTC on D+1 (so FXCM's
// 2016-06-23 bar holds the Brexit referendum results, Oanda's does not). The stamp is the label, not the start.
import { readFileSync } from 'node:fs';
import { idealproPair } from '../instruments/specs.ts';
import { DataError } from './errors.ts';
import type { ForexFile } from './lean-files.ts';
import { csvLines, type LeanSink, parseDate, parseTime, quoteSide, rowFail } from './lean-rows.ts';
import { instrumentRow } from './instruments.ts';

const SIDES = ['bid_open', 'bid_high', 'bid_low', 'bid_close', 'ask_open', 'ask_high', 'ask_low', 'ask_close'];

/** Reads one FX file into `sink` (a quote bar and a mid bar per row); returns its data rows. */
export function readForexFile(file: ForexFile, sink: LeanSink): number {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (e) {
    throw new DataError(`${file.display}: cannot read (${(e as Error).message})`, { rule: 'unreadable-file', file: file.display });
  }
  const daily = file.interval === '1d';
  const timeCol = daily ? 'date' : 'time_utc';
  const cols = [timeCol, ...SIDES];
  const lines = csvLines(file, text, cols);
  // an Oanda minute file holds one UTC day, the one in its name
  const fileDay = file.interval === '1m' && file.vendor === 'oanda' ? /_(\d{4})(\d{2})(\d{2})\.csv$/.exec(file.path) : null;
  const day = fileDay ? `${fileDay[1]}-${fileDay[2]}-${fileDay[3]}` : undefined;
  sink.instrument(instrumentRow(file.pair, idealproPair(file.pair), 'UTC'));
  for (let i = 0; i < lines.length; i++) {
    const row = i + 1;
    const fail = rowFail(file, row);
    const cells = lines[i]!.replace(/\r$/, '').split(',');
    if (cells.length !== cols.length) fail('missing-value', undefined, `${cells.length} fields, the header has ${cols.length}`);
    const t = cells[0]!;
    const ts = daily ? parseDate(t) : parseTime(t);
    if (Number.isNaN(ts)) fail('bad-time', timeCol, `'${t}' is not a ${daily ? 'date YYYY-MM-DD' : 'time YYYY-MM-DD HH:MM:SS'}`);
    if (day !== undefined && t.slice(0, 10) !== day) fail('bad-time', timeCol, `'${t}' is not on the file's UTC date ${day}`);
    // quoteSide reads open, high, low, close at `at` (no size column here)
    const bid = quoteSide(cells, 1, 'bid', false, fail);
    const ask = quoteSide(cells, 5, 'ask', false, fail);
    if (Number.isNaN(bid.close) || Number.isNaN(ask.close))
      fail('missing-value', Number.isNaN(bid.close) ? 'bid_open' : 'ask_open', 'an FX bar needs both sides');
    sink.quote(row, file.pair, ts, bid, ask);
    sink.bar(row, file.pair, ts, (bid.open + ask.open) / 2, (bid.high + ask.high) / 2, (bid.low + ask.low) / 2, (bid.close + ask.close) / 2, 0);
  }
  return lines.length;
}
