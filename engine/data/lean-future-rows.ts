// The LEAN sample futures files into a LeanSink: the rows as engine/data/lean-futures.ts reads and checks them
// (ts from time_utc, daily rows at 00:00 UTC of LEAN's date), one instrument per contract month built from the
// root's spec in engine/instruments (futureContract: exchange, multiplier, tick, expiry rule), keyed 'ESZ13'.
// The file's expiry column must be the spec's last trading day, and an E-mini S&P (ES) minute trade bar must fall
// in the CME Globex session of its time (engine/futures/globex-session.ts: the data has none outside it).
import { barsOutsideSession } from '../futures/globex-session.ts';
import { InstrumentError } from '../instruments/instrument.ts';
import { monthCode, parseFuturesLocalSymbol } from '../instruments/local-symbol.ts';
import { futureContract } from '../instruments/specs.ts';
import type { FutureFile } from './lean-files.ts';
import { readFuturesOpenInterest, readFuturesQuotes, readFuturesTrades } from './lean-futures.ts';
import { type LeanSink, rowFail } from './lean-rows.ts';
import { instrumentRow } from './instruments.ts';

/** The store key of a contract: root, month code, two-digit year ('ESZ13'; IB's local symbol 'ESZ3' names a year per decade). */
export function futureKey(root: string, contractMonth: string): string {
  const key = `${root}${monthCode(+contractMonth.slice(4, 6))}${contractMonth.slice(2, 4)}`;
  if (parseFuturesLocalSymbol(key).contractMonth !== contractMonth) throw new Error(`futureKey: ${key} does not name ${root} ${contractMonth}`);
  return key;
}

/** Reads one futures file into `sink`; returns its data rows. */
export function readFutureFile(file: FutureFile, sink: LeanSink): number {
  const rows =
    file.content === 'trade' ? readFuturesTrades(file.path) : file.content === 'quote' ? readFuturesQuotes(file.path) : readFuturesOpenInterest(file.path);
  const symbols = new Map<string, string>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const row = i + 1; // lean-futures reads every line in order: the i-th row is data row i + 1
    let symbol = symbols.get(r.contractMonth);
    if (symbol === undefined) {
      const fail = rowFail(file, row);
      let inst: ReturnType<typeof futureContract>;
      try {
        inst = futureContract(file.root, r.contractMonth);
      } catch (e) {
        const field = e instanceof InstrumentError && e.field === 'symbol' ? undefined : 'contract_month';
        return fail('unknown-symbol', field, `${(e as Error).message}${field ? '' : ` (the root comes from the folder ${file.root.toLowerCase()}/)`}`);
      }
      if (inst.expiry !== r.expiry) {
        fail('out-of-range', 'expiry', `${r.expiry} for ${file.root} ${r.contractMonth}, whose last trading day by its rule (${inst.expiry}) differs`);
      }
      symbol = futureKey(file.root, r.contractMonth);
      symbols.set(r.contractMonth, symbol);
      sink.instrument(instrumentRow(symbol, inst, 'America/New_York'));
    }
    if ('openInterest' in r) sink.openInterest(row, symbol, r.ts, r.openInterest);
    else if ('bid' in r) sink.quote(row, symbol, r.ts, r.bid, r.ask);
    else {
      // quotes are left alone: the book is quoted before the open and in the halts (DERIVATIVES.md)
      if (file.root === 'ES' && file.interval === '1m' && barsOutsideSession([r.ts]).length > 0) {
        rowFail(file, row)(
          'outside-session',
          'time_utc',
          `a trade at ${new Date(r.ts).toISOString()}, outside the CME Globex session of ES then (engine/futures/globex-session.ts)`,
        );
      }
      sink.bar(row, symbol, r.ts, r.open, r.high, r.low, r.close, r.volume);
    }
  }
  return rows.length;
}
