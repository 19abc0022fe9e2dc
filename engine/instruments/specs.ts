// The contracts of the sample data (../shared/data/lean-sample): their exchange, currency, multiplier, tick
// and expiry rule, and the futures margins the margin model reads. Specifications are the exchanges'; the
// margins are configurable data (see FUTURES_MARGINS), not facts the engine may rely on.

import { thirdFriday, thirdLastBusinessDay, usExchangeHolidays } from './expiry-rules.ts';
import { type CashInstrument, cash, type FutureInstrument, future, InstrumentError, type OptionInstrument, option, type Right } from './instrument.ts';
import { addDays, type IsoDate, isIsoDate, weekday } from './iso-date.ts';
import { parseCashLocalSymbol } from './local-symbol.ts';

export interface FutureSpec {
  root: string;
  description: string;
  /** IB's exchange (ES was 'GLOBEX' in IB's contract details until IB renamed it 'CME') */
  exchange: string;
  currency: string;
  multiplier: number;
  tickSize: number;
  /** contract months of the cycle that carries the volume (1-12): ES quarterly, GC the even months */
  cycle: readonly number[];
  /** last trading day of a contract month */
  expiry: (year: number, month: number) => IsoDate;
  expiryRule: string;
}

export const FUTURE_SPECS = {
  ES: {
    root: 'ES',
    description: 'CME E-mini S&P 500',
    exchange: 'CME',
    currency: 'USD',
    multiplier: 50,
    tickSize: 0.25,
    cycle: [3, 6, 9, 12],
    expiry: thirdFriday,
    expiryRule: '3rd Friday of the contract month',
  },
  GC: {
    root: 'GC',
    description: 'COMEX gold, 100 troy oz',
    exchange: 'COMEX',
    currency: 'USD',
    multiplier: 100,
    tickSize: 0.1,
    cycle: [2, 4, 6, 8, 10, 12],
    expiry: (y: number, m: number) => thirdLastBusinessDay(y, m),
    expiryRule: '3rd-last business day of the contract month (weekends and US exchange holidays skipped)',
  },
} as const satisfies Record<string, FutureSpec>;

export type FutureRoot = keyof typeof FUTURE_SPECS;

export function futureSpec(root: string): FutureSpec {
  const spec = (FUTURE_SPECS as Record<string, FutureSpec>)[root];
  if (!spec) throw new InstrumentError('symbol', `'${root}' has no futures spec (known: ${Object.keys(FUTURE_SPECS).join(', ')})`);
  return spec;
}

/** The future of a root and contract month ('YYYYMM'), its expiry from the root's rule. */
export function futureContract(root: string, contractMonth: string): FutureInstrument {
  const spec = futureSpec(root);
  const m = /^(\d{4})(0[1-9]|1[0-2])$/.exec(contractMonth);
  if (!m) throw new InstrumentError('contractMonth', `must be YYYYMM (month 01-12), got '${contractMonth}'`, `FUT ${root}`);
  return future({
    symbol: spec.root,
    exchange: spec.exchange,
    currency: spec.currency,
    multiplier: spec.multiplier,
    tickSize: spec.tickSize,
    contractMonth,
    expiry: spec.expiry(+m[1]!, +m[2]!),
  });
}

/**
 * US equity options (AAPL, GOOG, SPY, TWX, NWSA, FOXA): 100 shares per contract, SMART, USD. Simplification:
 * the tick is 0.01 at every price. Really the penny pilot classes trade in 0.01 below $3 and 0.05 from $3
 * (SPY, QQQ, IWM in 0.01 throughout), other classes 0.05 / 0.10; a fill model that must reject off-tick limits
 * needs that table.
 */
export const US_EQUITY_OPTION = { exchange: 'SMART', currency: 'USD', multiplier: 100, tickSize: 0.01 } as const;

/**
 * An option as the sample data writes it: `expiry` is the OCC expiration date, a Saturday for standard
 * monthlies before February 2015. The instrument's expiry is the last trading day: the weekday before a
 * Saturday, stepping back over US exchange holidays (April 2014: Saturday the 19th, Good Friday the 18th,
 * last trading day Thursday 2014-04-17).
 */
export function usEquityOption(f: { underlying: string; expiry: IsoDate; strike: number; right: Right }): OptionInstrument {
  if (!isIsoDate(f.expiry)) throw new InstrumentError('expiry', `must be a date YYYY-MM-DD, got '${f.expiry}'`, `OPT ${f.underlying}`);
  const last = lastTradingDayOnOrBefore(f.expiry);
  return option({
    ...US_EQUITY_OPTION,
    underlying: f.underlying,
    strike: f.strike,
    right: f.right,
    expiry: last,
    ...(last !== f.expiry ? { occExpiry: f.expiry } : {}),
  });
}

/** The last US exchange trading day on or before `d` (weekends and exchange holidays skipped). */
export function lastTradingDayOnOrBefore(d: IsoDate): IsoDate {
  for (;;) {
    const wd = weekday(d);
    if (wd !== 0 && wd !== 6 && !usExchangeHolidays(+d.slice(0, 4)).has(d)) return d;
    d = addDays(d, -1);
  }
}

/**
 * IDEALPRO pairs of the sample data. Tick: IB quotes and accepts orders on these pairs in half-pips (its
 * market rule for forex defaults to 1/2 pip; TWS can display 1/10 pip but orders still go in 1/2 pip), so
 * 0.00005 for pairs quoted to 4 decimals. A JPY pair would be 0.005. Multiplier 1: a quantity is units of
 * the base currency.
 */
export const IDEALPRO_PAIRS = ['EUR.USD', 'GBP.USD', 'EUR.GBP', 'NZD.USD'] as const;

export function idealproPair(localSymbol: string): CashInstrument {
  const { baseCurrency, quoteCurrency } = parseCashLocalSymbol(localSymbol);
  return cash({ baseCurrency, quoteCurrency, exchange: 'IDEALPRO', multiplier: 1, tickSize: quoteCurrency === 'JPY' ? 0.005 : 0.00005 });
}

/** Initial and maintenance margin per contract, in the contract's currency, over a range of dates. */
export interface MarginRow {
  root: string;
  /** first and last date (inclusive) the figures are used for */
  from: IsoDate;
  to: IsoDate;
  initial: number;
  maintenance: number;
  currency: string;
  source: string;
}

/**
 * Approximate exchange (CME speculator) margins for the sample data's periods: chosen from public figures
 * of the time, to be replaced by the user's broker's numbers. IBKR charges at least the exchange's figure
 * and often more. A date outside every row is an error, not a guess.
 */
export const FUTURES_MARGINS: readonly MarginRow[] = [
  {
    root: 'ES',
    from: '2013-01-01',
    to: '2013-12-31',
    initial: 5060,
    maintenance: 4600,
    currency: 'USD',
    source: 'approximate CME E-mini S&P 500 speculator margin in 2013 (initial = 110% of maintenance)',
  },
  {
    root: 'GC',
    from: '2013-06-24',
    to: '2013-12-31',
    initial: 8800,
    maintenance: 8000,
    currency: 'USD',
    source: 'approximate: CME raised GC speculator initial margin to $8,800 after the close on 2013-06-21 (Reuters); maintenance = initial / 1.1',
  },
  {
    root: 'ES',
    from: '2019-10-01',
    to: '2020-02-29',
    initial: 6930,
    maintenance: 6300,
    currency: 'USD',
    source: 'approximate CME E-mini S&P 500 maintenance margin around January 2020 (initial = 110% of maintenance)',
  },
  {
    root: 'GC',
    from: '2019-10-01',
    to: '2020-02-29',
    initial: 4950,
    maintenance: 4500,
    currency: 'USD',
    source: 'approximate COMEX gold maintenance margin around January 2020 (initial = 110% of maintenance)',
  },
];

export function futuresMargin(root: string, date: IsoDate, table: readonly MarginRow[] = FUTURES_MARGINS): MarginRow {
  const row = table.find((r) => r.root === root && r.from <= date && date <= r.to);
  if (!row) {
    const have = table.filter((r) => r.root === root).map((r) => `${r.from}..${r.to}`);
    throw new InstrumentError(
      'margin',
      `no row for ${root} on ${date} (rows for ${root}: ${have.length ? have.join(', ') : 'none'}): add one to the margin table`,
      `FUT ${root}`,
    );
  }
  return row;
}

/** Margin of a position of `qty` contracts (long or short): |qty| x the row's per-contract figures (no spread credits). */
export function positionMargin(row: MarginRow, qty: number): { initial: number; maintenance: number; currency: string } {
  const n = Math.abs(qty);
  return { initial: n * row.initial, maintenance: n * row.maintenance, currency: row.currency };
}
