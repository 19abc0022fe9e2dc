// Reader for the LEAN sample option files (option/<underlying>/<yyyymmdd>_<trade|quote|openinterest>.csv and
// AAPL's _quote_hour.csv; DERIVATIVES.md "Options"). Each contract becomes an instrument built by
// engine/instruments (usEquityOption: multiplier 100, tick 0.01, SMART, USD; expiry = the last trading day, the
// OCC date kept for the symbol), keyed by its compact OCC symbol 'GOOG151224C00750000'. time_et is New York
// wall-clock time; ts is the bar start in UTC.
import { readFileSync } from 'node:fs';
import { localToUtc } from '../core/timezone.ts';
import { InstrumentError, type OptionInstrument } from '../instruments/instrument.ts';
import { optionLocalSymbol } from '../instruments/local-symbol.ts';
import { usEquityOption } from '../instruments/specs.ts';
import { DataError } from './errors.ts';
import type { OptionFile } from './lean-files.ts';
import { checkShape, count, csvLines, type Fail, type LeanSink, parseDate, parseTime, price, quoteSide, rowFail } from './lean-rows.ts';
import { instrumentRow } from './instruments.ts';

const NY = 'America/New_York';
const KEY = ['time_et', 'right', 'strike', 'expiry'];
const COLUMNS = {
  trade: [...KEY, 'open', 'high', 'low', 'close', 'volume'],
  quote: [...KEY, 'bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_size', 'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_size'],
  openinterest: [...KEY, 'open_interest'],
} as const;

interface Contract {
  symbol: string;
  inst: OptionInstrument;
}

/** The compact OCC symbol (the store's key): the padded OCC local symbol without its padding. */
export function optionKey(inst: OptionInstrument): string {
  return optionLocalSymbol(inst).replaceAll(' ', '');
}

/** Reads one option file into `sink`; returns its data rows. Throws a DataError at the first bad row. */
export function readOptionFile(file: OptionFile, sink: LeanSink): number {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (e) {
    throw new DataError(`${file.display}: cannot read (${(e as Error).message})`, { rule: 'unreadable-file', file: file.display });
  }
  const cols = COLUMNS[file.content];
  const lines = csvLines(file, text, cols);
  // the file's date (its name) is the New York date of its rows
  const name = /(\d{4})(\d{2})(\d{2})_[a-z_]+\.csv$/.exec(file.path)!;
  const fileDate = `${name[1]}-${name[2]}-${name[3]}`;
  const contracts = new Map<string, Contract>();
  let prevLocal = -Infinity;
  let prevText = '';
  for (let i = 0; i < lines.length; i++) {
    const row = i + 1;
    const fail = rowFail(file, row);
    const cells = lines[i]!.replace(/\r$/, '').split(',');
    if (cells.length !== cols.length) fail('missing-value', undefined, `${cells.length} fields, the header has ${cols.length}`);
    const timeText = cells[0]!;
    // rows of a minute share their time: convert each time once
    let local = prevLocal;
    if (timeText !== prevText) {
      local = parseTime(timeText);
      if (Number.isNaN(local)) fail('bad-time', 'time_et', `'${timeText}' is not a time YYYY-MM-DD HH:MM:SS`);
      if (timeText.slice(0, 10) !== fileDate) fail('bad-time', 'time_et', `'${timeText}' is not on the file's date ${fileDate}`);
      prevText = timeText;
      prevLocal = local;
    }
    const ts = localToUtc(NY, local);
    if (Number.isNaN(ts)) fail('nonexistent-time', 'time_et', `${timeText} does not exist in ${NY} (a daylight-saving gap)`);
    const c = contract(file, cells, contracts, sink, fail);
    if (file.content === 'openinterest') {
      sink.openInterest(row, c.symbol, ts, count(cells[4]!, 'open_interest', fail));
      continue;
    }
    // a bar after the contract's last trading day is not a bar of this contract (open interest is stamped on
    // the morning after, and AAPL 2014-06-09's lists the contracts that expired on 06-06)
    const date = timeText.slice(0, 10);
    if (date > c.inst.expiry) fail('out-of-range', 'expiry', `a bar on ${date}, after the contract's last trading day ${c.inst.expiry}`);
    if (file.content === 'trade') {
      const open = price(cells[4]!, 'open', fail);
      const high = price(cells[5]!, 'high', fail);
      const low = price(cells[6]!, 'low', fail);
      const close = price(cells[7]!, 'close', fail);
      checkShape(open, high, low, close, '', fail);
      sink.bar(row, c.symbol, ts, open, high, low, close, count(cells[8]!, 'volume', fail));
    } else {
      sink.quote(row, c.symbol, ts, quoteSide(cells, 4, 'bid', true, fail), quoteSide(cells, 9, 'ask', true, fail));
    }
  }
  return lines.length;
}

/**
 * The contract of a row (right, strike, OCC expiry), built once per file and told to the sink (twice when a
 * strike is written two ways, '750' and '750.0': the same symbol and row).
 */
function contract(file: OptionFile, cells: readonly string[], contracts: Map<string, Contract>, sink: LeanSink, fail: Fail): Contract {
  const right = cells[1]!;
  const strikeText = cells[2]!;
  const expiry = cells[3]!;
  const key = `${right},${strikeText},${expiry}`;
  const known = contracts.get(key);
  if (known) return known;
  if (right !== 'C' && right !== 'P') fail(right === '' ? 'missing-value' : 'out-of-range', 'right', `'${right}' is not C or P`);
  if (strikeText === '') fail('missing-value', 'strike', 'is empty');
  const strike = Number(strikeText);
  if (!Number.isFinite(strike) || strike <= 0) fail('non-positive-price', 'strike', `'${strikeText}' is not a strike > 0`);
  // the OCC symbol holds strike x 1000 (occSymbol rounds within a tolerance; a strike it would round is refused here)
  if (Math.abs(strike * 1000 - Math.round(strike * 1000)) > 1e-6) {
    fail('out-of-range', 'strike', `${strikeText} is not a multiple of 0.001 (OCC symbols hold the strike x 1000)`);
  }
  if (Number.isNaN(parseDate(expiry))) fail('bad-time', 'expiry', `'${expiry}' is not a date YYYY-MM-DD`);
  let inst: OptionInstrument;
  let symbol: string;
  try {
    inst = usEquityOption({ underlying: file.underlying, expiry, strike, right: right as 'C' | 'P' });
    symbol = optionKey(inst);
  } catch (e) {
    // the OCC symbol's rules (strike a multiple of 0.001 below 100,000, expiry in 2000-2099) or the instrument's
    const field =
      e instanceof InstrumentError ? (e.field === 'expiry' || e.field === 'occExpiry' ? 'expiry' : e.field) : /expiry/.test(String(e)) ? 'expiry' : 'strike';
    return fail('out-of-range', field, (e as Error).message);
  }
  const c = { symbol, inst };
  contracts.set(key, c);
  sink.instrument(instrumentRow(symbol, inst, NY));
  return c;
}
