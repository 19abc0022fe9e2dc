// A small reader for the LEAN sample CSVs the real-data option tests need (../shared/data/lean-sample,
// DERIVATIVES.md): option quote bars and the underlying's minute bars. Comma-separated, one header line, no
// quoting, an empty field = no value. Columns are found by name, so a changed layout fails loudly.
import { readFileSync } from 'node:fs';
import type { OptionRight } from '../../engine/options/contract.ts';

export interface OptionQuoteBar {
  /** bar start, 'YYYY-MM-DD HH:MM:SS' America/New_York */
  timeEt: string;
  right: OptionRight;
  strike: number;
  expiry: string;
  /** bid and ask at the bar's close; null when that side had no quote */
  bid: number | null;
  ask: number | null;
}

function table(file: string, needed: string[]): { rows: string[][]; col: Record<string, number> } {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = lines[0].split(',');
  const col: Record<string, number> = {};
  for (const name of needed) {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: header has no column '${name}' (header: ${lines[0]})`);
    col[name] = i;
  }
  return { rows: lines.slice(1).map((l) => l.split(',')), col };
}

function num(file: string, row: number, field: string, raw: string, optional: boolean): number | null {
  if (raw === '' && optional) return null;
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v)) throw new Error(`${file} row ${row}: ${field} = '${raw}': expected a number`);
  return v;
}

/** option/<und>/<yyyymmdd>_quote.csv or _quote_hour.csv: bid_close and ask_close of each bar. */
export function readOptionQuotes(file: string): OptionQuoteBar[] {
  const { rows, col } = table(file, ['time_et', 'right', 'strike', 'expiry', 'bid_close', 'ask_close']);
  return rows.map((r, i) => {
    const row = i + 2; // 1-based, after the header
    const right = r[col.right];
    if (right !== 'C' && right !== 'P') throw new Error(`${file} row ${row}: right = '${right}': expected C or P`);
    return {
      timeEt: r[col.time_et],
      right,
      strike: num(file, row, 'strike', r[col.strike], false)!,
      expiry: r[col.expiry],
      bid: num(file, row, 'bid_close', r[col.bid_close], true),
      ask: num(file, row, 'ask_close', r[col.ask_close], true),
    };
  });
}

/** minute/<sym>/<yyyymmdd>.csv: the close of each minute bar, by its start time ('YYYY-MM-DD HH:MM:SS' ET). */
export function readMinuteCloses(file: string): Map<string, number> {
  const { rows, col } = table(file, ['time_et', 'close']);
  return new Map(rows.map((r, i) => [r[col.time_et], num(file, i + 2, 'close', r[col.close], false)!]));
}
