// The trades of a backtest or live journal (engine/journal/journal-store.ts), for the capital gains matching:
// every fill of one run, whole history (the pool depends on earlier years), with the date each is taxed on.
// A live runner's fills not yet flushed to the database are read from its write-ahead file, as npm run journal does.
import type { ContractTerms, Fill } from '../core/types.ts';
import { readInstruments } from '../data/instruments.ts';
import type { Store } from '../data/store.ts';
import { utcToLocal } from '../core/timezone.ts';
import { openJournalDb, retryLocked, type DbSession } from '../journal/filler.ts';
import { readWal, walPathOf } from '../journal/journal-wal.ts';
import { appliedSeq, tableNames } from '../journal/live-tables.ts';
import { readJournalRows } from '../journal/session-store.ts';

/** The exchange zone of the US stocks the journal trades (the trade date is the exchange's date). */
export const EXCHANGE_TZ = 'America/New_York';

export interface JournalTrade {
  symbol: string;
  /** the trade date in the exchange's zone, YYYY-MM-DD */
  date: string;
  ts: number;
  side: 'BUY' | 'SELL';
  /** shares, > 0 */
  qty: number;
  price: number;
  commission: number;
  /**
   * an option fill no order made (engine/run/option-expiry.ts journals it with order id 0 and exec id
   * 'exercise.N', 'assignment.N' or 'expiry.N'), and the share fill of an exercise or assignment
   */
  event?: 'exercise' | 'assignment' | 'expiry';
}

/** What the run's config says about its fills (absent fields: a live run's or an older journal's). */
export interface RunInfo {
  runId: string;
  kind: string;
  interval?: string;
  /** 'raw': shares as traded, the splits applied by the replay as events; 'adjusted': split-adjusted shares */
  prices?: string;
  /** the market-data store the run read */
  data?: string;
  /**
   * the terms of the symbols that are not US stocks in USD: the run config's `contracts`, completed by the
   * journal's own instruments table when it has one (a symbol in neither is a share)
   */
  contracts: Record<string, ContractTerms>;
  /** the account's currency (config.baseCurrency; absent: USD) */
  baseCurrency?: string;
}

export interface JournalTrades {
  run: RunInfo;
  /** in fill order */
  trades: JournalTrade[];
  /** fills read from the write-ahead file (not yet in the database) */
  pending: number;
}

/**
 * The trade date of a fill. A backtest on daily bars stamps its fills with the bar's time, 00:00 UTC of the
 * trading date (so the UTC date is the date); any other fill is at its real instant, dated in the exchange's zone.
 */
export function tradeDate(ts: number, dailyBacktest: boolean, tz = EXCHANGE_TZ): string {
  const t = dailyBacktest ? ts : utcToLocal(tz, ts);
  return new Date(t).toISOString().slice(0, 10);
}

/** Reads `run` (default: the file's only run) of a journal file, read-only. */
export async function readJournalTrades(file: string, run?: string): Promise<JournalTrades> {
  let s: DbSession;
  try {
    s = await retryLocked(() => openJournalDb(file, { readOnly: true }), 5_000, { everyMs: 10 });
  } catch (e) {
    throw new Error(`cannot open ${file} as a DuckDB journal: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const tables = await tableNames(s.conn);
    if (!tables.has('fills') && !tables.has('runs'))
      throw new Error(`${file} is not a journal (it has no fills or runs table): give the journal.duckdb of a run's --out folder`);
    const wal = readWal(walPathOf(file), await appliedSeq(s.conn, tables), { strict: false, warn: (m) => console.error(`warning: ${m}`) });
    const ids = new Set<string>();
    for (const t of ['runs', 'fills'])
      if (tables.has(t)) for (const [id] of (await s.conn.runAndReadAll(`SELECT DISTINCT run_id FROM ${t}`)).getRows()) ids.add(String(id));
    for (const r of wal.records) ids.add(r.e.runId);
    // `<run>/sim` holds only the embedded simulator's state (scripts/lib/embedded-sim.ts)
    const runs = [...ids].filter((id) => !id.endsWith('/sim')).sort();
    if (runs.length === 0) throw new Error(`${file} has no runs`);
    if (run === undefined && runs.length > 1)
      throw new Error(
        `${file} holds ${runs.length} runs (${runs.slice(0, 10).join(', ')}${runs.length > 10 ? ', …' : ''}): give the one to report with --run ID (npm run journal -- ${file} fills --run ID shows a run's fills)`,
      );
    const runId = run ?? runs[0]!;
    if (!runs.includes(runId)) throw new Error(`${file} has no run '${runId}'; its runs: ${runs.slice(0, 10).join(', ')}`);
    const info: RunInfo = { runId, kind: 'live', contracts: {} };
    if (tables.has('runs')) {
      const r = (await s.conn.runAndReadAll(`SELECT kind, config FROM runs WHERE run_id = $1`, [runId])).getRowObjectsJS()[0];
      if (r) {
        info.kind = String(r.kind);
        const c = parseConfig(String(r.config ?? ''));
        if (typeof c.interval === 'string') info.interval = c.interval;
        if (typeof c.prices === 'string') info.prices = c.prices;
        if (typeof c.data === 'string') info.data = c.data;
        if (typeof c.baseCurrency === 'string') info.baseCurrency = c.baseCurrency;
        if (typeof c.contracts === 'object' && c.contracts !== null) info.contracts = { ...(c.contracts as Record<string, ContractTerms>) };
      }
    }
    const pending = wal.records.map((r) => r.e).filter((e) => e.runId === runId);
    const { fills } = await readJournalRows(s.conn, runId, [], pending, ['fills']);
    const daily = info.kind === 'backtest' && info.interval === '1d';
    if (tables.has('instruments')) {
      // readInstruments reads only the connection and the path (for its messages): the journal's table has the store's schema
      const symbols = [...new Set(fills.map((f) => f.symbol))].filter((sym) => info.contracts[sym] === undefined);
      const rows = await readInstruments({ conn: s.conn, path: file } as unknown as Store, symbols);
      for (const [sym, r] of rows) {
        if (!r.stored || r.secType === 'STK') continue;
        info.contracts[sym] = {
          secType: r.secType,
          multiplier: r.multiplier,
          currency: r.currency,
          ...(r.expiry !== null && { expiry: r.expiry }),
          ...(r.strike !== null && { strike: r.strike }),
          ...(r.right !== null && { right: r.right }),
          ...(r.underlying !== null && { underlying: r.underlying }),
        };
      }
    }
    return { run: info, trades: fills.map((f) => toTrade(f, daily, file)), pending: pending.filter((e) => e.t === 'fill').length };
  } finally {
    await s.close();
  }
}

function parseConfig(text: string): Record<string, unknown> {
  try {
    const c = JSON.parse(text) as unknown;
    return typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The exec id engine/run/option-expiry.ts gives a fill without an order (the journal's fills have no reason column). */
const FILL_EVENT = /^(exercise|assignment|expiry)\.\d+$/;

function toTrade(f: Fill & { seq: number }, daily: boolean, file: string): JournalTrade {
  const where = `${file} fill seq ${f.seq} (${f.symbol})`;
  if (!(Number.isFinite(f.qty) && f.qty !== 0)) throw new Error(`${where}: qty must be a non-zero number (negative for a sale), got ${f.qty}`);
  if (!(Number.isFinite(f.price) && f.price >= 0)) throw new Error(`${where}: price must be a number >= 0, got ${f.price}`);
  if (!(Number.isFinite(f.ts) && Math.abs(f.ts) < 8.64e15)) throw new Error(`${where}: ts must be epoch ms, got ${f.ts}`);
  // a fill without a commission (NULL) has none to allow
  const commission = Number.isFinite(f.commission) ? f.commission : 0;
  if (commission < 0) throw new Error(`${where}: commission must be >= 0, got ${commission}`);
  const event = FILL_EVENT.exec(f.execId ?? '')?.[1] as JournalTrade['event'];
  return {
    symbol: f.symbol,
    date: tradeDate(f.ts, daily),
    ts: f.ts,
    side: f.qty > 0 ? 'BUY' : 'SELL',
    qty: Math.abs(f.qty),
    price: f.price,
    commission,
    ...(event !== undefined && { event }),
  };
}
