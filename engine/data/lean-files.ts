// Which LEAN sample file a path is (../shared/data/lean-sample, DERIVATIVES.md): the kind comes from where the
// file sits and what it is named, and nothing else is accepted:
//   option/<underlying>/<yyyymmdd>_<trade|quote|openinterest>.csv, option/<underlying>/<yyyymmdd>_quote_hour.csv
//   future/<root>/<daily|hour|yyyymmdd>_<trade|quote|openinterest>.csv
//   forex/<pair>/daily/<oanda|fxcm>.csv, forex/<pair>/hour/<oanda|fxcm>.csv, forex/<pair>/minute/<oanda|fxcm>_<yyyymmdd>.csv
// Each reader then checks the header, so a file named right but laid out otherwise still fails clearly.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Interval } from '../core/types.ts';
import { DataError } from './errors.ts';
import { displayPath } from './sources.ts';

export type LeanKind = 'option' | 'future' | 'forex';
export type LeanContent = 'trade' | 'quote' | 'openinterest';

interface Base {
  /** absolute path */
  path: string;
  /** as shown in messages */
  display: string;
  content: LeanContent;
  interval: Interval;
}

export interface OptionFile extends Base {
  kind: 'option';
  /** upper case, from the folder ('GOOG') */
  underlying: string;
}

export interface FutureFile extends Base {
  kind: 'future';
  /** upper case, from the folder ('ES') */
  root: string;
}

export interface ForexFile extends Base {
  kind: 'forex';
  content: 'quote';
  /** IB's pair symbol from the folder: 'GBP.USD' */
  pair: string;
  base: string;
  quote: string;
  /** Oanda stamps UTC days; FXCM's daily bars are UTC-05 days (see lean-forex.ts) */
  vendor: 'oanda' | 'fxcm';
}

export type LeanFile = OptionFile | FutureFile | ForexFile;

const EXPECTED =
  'option/<underlying>/<yyyymmdd>_<trade|quote|openinterest|quote_hour>.csv, future/<root>/<daily|hour|yyyymmdd>_<trade|quote|openinterest>.csv, ' +
  'forex/<pair>/<daily|hour>/<oanda|fxcm>.csv or forex/<pair>/minute/<oanda|fxcm>_<yyyymmdd>.csv';

/** The LEAN file a path names, or a DataError saying which layouts are accepted. */
export function leanFileOf(file: string): LeanFile {
  const abs = path.resolve(file);
  const display = displayPath(abs);
  const parts = abs.split(path.sep);
  const name = parts.at(-1)!;
  const dir = parts.at(-2) ?? '';
  const up = parts.at(-3) ?? '';
  const base = { path: abs, display };
  if (up === 'option' && /^[a-z0-9.]{1,6}$/i.test(dir)) {
    const m = /^\d{8}_(trade|quote|openinterest|quote_hour)\.csv$/.exec(name);
    if (m) {
      const content = m[1] === 'quote_hour' ? 'quote' : (m[1] as LeanContent);
      return { ...base, kind: 'option', underlying: dir.toUpperCase(), content, interval: m[1] === 'quote_hour' ? '1h' : '1m' };
    }
  }
  if (up === 'future' && /^[a-z0-9]{1,5}$/i.test(dir)) {
    const m = /^(daily|hour|\d{8})_(trade|quote|openinterest)\.csv$/.exec(name);
    if (m) {
      const interval: Interval = m[1] === 'daily' ? '1d' : m[1] === 'hour' ? '1h' : '1m';
      return { ...base, kind: 'future', root: dir.toUpperCase(), content: m[2] as LeanContent, interval };
    }
  }
  const pairDir = parts.at(-3) ?? '';
  if ((parts.at(-4) ?? '') === 'forex' && /^[a-z]{6}$/i.test(pairDir)) {
    const m = dir === 'minute' ? /^(oanda|fxcm)_\d{8}\.csv$/.exec(name) : dir === 'daily' || dir === 'hour' ? /^(oanda|fxcm)\.csv$/.exec(name) : null;
    if (m) {
      const pair = pairDir.toUpperCase();
      const interval: Interval = dir === 'daily' ? '1d' : dir === 'hour' ? '1h' : '1m';
      return {
        ...base,
        kind: 'forex',
        content: 'quote',
        interval,
        base: pair.slice(0, 3),
        quote: pair.slice(3),
        pair: `${pair.slice(0, 3)}.${pair.slice(3)}`,
        vendor: m[1] as 'oanda' | 'fxcm',
      };
    }
  }
  throw new DataError(`${display}: not a LEAN sample derivatives file: expected ${EXPECTED}`, { rule: 'unreadable-file', file: display });
}

/**
 * The LEAN files of some paths: a file is itself, a folder every file under it (sorted, hidden ones left out).
 * Any file that is not a LEAN derivatives file is refused (nothing is skipped unseen). Two files giving the same
 * pair and interval from different vendors are refused too: Oanda's and FXCM's days are different bars.
 */
export function listLeanFiles(paths: readonly string[]): LeanFile[] {
  if (paths.length === 0) throw new DataError('no LEAN files given', { rule: 'no-files' });
  const files: string[] = [];
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new DataError(`${p}: no such file or folder`, { rule: 'no-files', file: p });
    }
    if (st.isDirectory()) {
      const before = files.length;
      walk(p, files);
      if (files.length === before) throw new DataError(`${p}: an empty folder (no LEAN files in it)`, { rule: 'no-files', file: p });
    } else files.push(p);
  }
  const seen = new Set<string>();
  const out: LeanFile[] = [];
  for (const f of files) {
    const lf = leanFileOf(f);
    if (seen.has(lf.path)) continue;
    seen.add(lf.path);
    out.push(lf);
  }
  const vendorOf = new Map<string, ForexFile>();
  for (const f of out) {
    if (f.kind !== 'forex') continue;
    const key = `${f.pair} ${f.interval}`;
    const other = vendorOf.get(key);
    if (other && other.vendor !== f.vendor) {
      throw new DataError(
        `${other.display} and ${f.display} both give ${f.pair} ${f.interval} bars, from different vendors (Oanda's days are UTC days, FXCM's UTC-05 days): import one of them`,
        { rule: 'bad-option', file: f.display },
      );
    }
    vendorOf.set(key, f);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}
