// reqAccountSummary values of the simulated account: a margin account with a plain Reg T model
// (initial margin 50% and maintenance 25% of the gross position value, buying power 4x available funds); futures
// at their contract terms' initial and maintenance margin per contract (Account.margins), with no position value.
//
// In several currencies as IB reports them (issue 15): the account tags (NetLiquidation, TotalCashValue,
// AvailableFunds, ...) in the base currency, every currency converted at the simulator's rates (currency-rates.ts);
// the ledger tags per currency: '$LEDGER' the BASE block (every currency summed in the base, under IB's
// pseudo-currency BASE), '$LEDGER:GBP' one currency's block in that currency, '$LEDGER:ALL' the BASE block then
// every currency's. TotalCashValue and TotalCashBalance count futures P&L not yet settled, CashBalance only what
// the daily settlements swept into cash (IB's TotalCashValue: cash recognized at the time of trade + futures PNL).
// A currency held without a known rate: its own block is reported (no ExchangeRate row), and the base-currency
// figures that would need its rate are left out, never computed at a rate of 1 (missingRates names it).
import type { Account } from './account.ts';
import { netLiquidationOf, sumInBase, type CurrencyFigures } from './ledger.ts';

export const SUMMARY_TAGS = [
  'AccountType',
  'NetLiquidation',
  'TotalCashValue',
  'SettledCash',
  'AccruedCash',
  'BuyingPower',
  'EquityWithLoanValue',
  'PreviousDayEquityWithLoanValue',
  'GrossPositionValue',
  'RegTEquity',
  'RegTMargin',
  'SMA',
  'InitMarginReq',
  'MaintMarginReq',
  'AvailableFunds',
  'ExcessLiquidity',
  'Cushion',
  'FullInitMarginReq',
  'FullMaintMarginReq',
  'FullAvailableFunds',
  'FullExcessLiquidity',
  'LookAheadNextChange',
  'LookAheadInitMarginReq',
  'LookAheadMaintMarginReq',
  'LookAheadAvailableFunds',
  'LookAheadExcessLiquidity',
  'HighestSeverity',
  'DayTradesRemaining',
  'Leverage',
] as const;

/** IB's $LEDGER tags, in the order a block of them comes (one block per currency, and BASE). */
export const LEDGER_TAGS = [
  'Currency',
  'CashBalance',
  'TotalCashBalance',
  'AccruedCash',
  'StockMarketValue',
  'OptionMarketValue',
  'FuturesPNL',
  'NetLiquidationByCurrency',
  'UnrealizedPnL',
  'RealizedPnL',
  'ExchangeRate',
  'NetDividend',
] as const;

/** IB's pseudo-currency of the ledger block that sums every currency in the base currency. */
export const BASE_BLOCK = 'BASE';

export interface SummaryRow {
  tag: string;
  value: string;
  currency: string;
}

const money = (x: number) => x.toFixed(2);
const rateText = (x: number) => (x === 1 ? '1.00' : String(Number(x.toFixed(8))));

/** One ledger block's values (in `currency`, or summed in the base for BASE); undefined: not reported. */
function ledgerBlock(label: string, f: Omit<CurrencyFigures, 'currency'>): Record<string, string | undefined> {
  const m = (x: number) => (Number.isFinite(x) ? money(x) : undefined);
  return {
    Currency: label,
    CashBalance: m(f.cash),
    TotalCashBalance: m(f.cash + f.futuresPnl),
    AccruedCash: money(0),
    StockMarketValue: m(f.stockValue),
    OptionMarketValue: m(f.optionValue),
    FuturesPNL: m(f.futuresPnl),
    NetLiquidationByCurrency: m(netLiquidationOf({ currency: label, ...f })),
    UnrealizedPnL: m(f.unrealized),
    RealizedPnL: m(f.realized),
    ExchangeRate: Number.isFinite(f.rate) ? rateText(f.rate) : undefined,
    NetDividend: money(0),
  };
}

/** The BASE block's figures: every currency's summed at its rate. */
function baseFigures(figs: readonly CurrencyFigures[]): Omit<CurrencyFigures, 'currency'> {
  const sum = (get: (f: CurrencyFigures) => number) => sumInBase(figs, get);
  return {
    cash: sum((f) => f.cash),
    futuresPnl: sum((f) => f.futuresPnl),
    stockValue: sum((f) => f.stockValue),
    optionValue: sum((f) => f.optionValue),
    unrealized: sum((f) => f.unrealized),
    realized: sum((f) => f.realized),
    rate: 1,
  };
}

/** The currencies the account holds something in (cash, futures P&L or a position) without a rate into its base. */
export function missingRates(account: Account): string[] {
  return account.ledger
    .byCurrency(account.marks)
    .filter((f) => Number.isNaN(f.rate) && (f.cash !== 0 || f.futuresPnl !== 0 || f.stockValue !== 0 || f.optionValue !== 0 || f.unrealized !== 0))
    .map((f) => f.currency);
}

/** The rows for a tags list ('NetLiquidation,BuyingPower', '$LEDGER', '$LEDGER:USD', '$LEDGER:ALL', 'All'), in the order asked. */
export function accountSummary(account: Account, tags: readonly string[]): SummaryRow[] {
  const { ledger, marks } = account;
  const base = ledger.base;
  const figs = ledger.byCurrency(marks);
  const total = baseFigures(figs);
  const netLiq = netLiquidationOf({ currency: base, ...total });
  const totalCash = total.cash + total.futuresPnl;
  const m = account.margins();
  const gross = m.gross;
  const init = 0.5 * gross + m.futuresInitial;
  const maint = 0.25 * gross + m.futuresMaintenance;
  const available = netLiq - init;
  const excess = netLiq - maint;
  const values: Record<string, [number | string, string]> = {
    AccountType: ['INDIVIDUAL', ''],
    NetLiquidation: [netLiq, base],
    TotalCashValue: [totalCash, base],
    SettledCash: [total.cash, base],
    AccruedCash: [0, base],
    BuyingPower: [4 * Math.max(available, 0), base],
    EquityWithLoanValue: [netLiq, base],
    PreviousDayEquityWithLoanValue: [account.dayStartNetLiquidation, base],
    GrossPositionValue: [gross, base],
    RegTEquity: [netLiq, base],
    RegTMargin: [init, base],
    SMA: [Math.max(available, 0), base],
    InitMarginReq: [init, base],
    MaintMarginReq: [maint, base],
    AvailableFunds: [available, base],
    ExcessLiquidity: [excess, base],
    Cushion: [netLiq !== 0 ? (excess / netLiq).toFixed(6) : '0', ''],
    FullInitMarginReq: [init, base],
    FullMaintMarginReq: [maint, base],
    FullAvailableFunds: [available, base],
    FullExcessLiquidity: [excess, base],
    LookAheadNextChange: ['0', ''],
    LookAheadInitMarginReq: [init, base],
    LookAheadMaintMarginReq: [maint, base],
    LookAheadAvailableFunds: [available, base],
    LookAheadExcessLiquidity: [excess, base],
    HighestSeverity: ['0', ''],
    DayTradesRemaining: ['-1', ''],
    Leverage: [netLiq !== 0 ? (gross / netLiq).toFixed(6) : '0', ''],
  };
  const rows: SummaryRow[] = [];
  const seen = new Set<string>();
  const push = (tag: string, value: string | undefined, currency: string) => {
    const key = `${tag}|${currency}`;
    if (value === undefined || seen.has(key)) return;
    seen.add(key);
    rows.push({ tag, value, currency });
  };
  const add = (tag: string) => {
    const v = values[tag];
    if (!v) return;
    const [x, currency] = v;
    // a figure that needs a rate not known (NaN) is not reported
    if (typeof x === 'number') push(tag, Number.isFinite(x) ? money(x) : undefined, currency);
    else if (!x.includes('NaN')) push(tag, x, currency);
  };
  const block = (currency: string) => {
    const upper = currency.toUpperCase();
    const f = upper === BASE_BLOCK ? total : figs.find((x) => x.currency === upper);
    if (!f) return;
    const values = ledgerBlock(upper, f);
    for (const tag of LEDGER_TAGS) push(tag, values[tag], upper);
  };
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag === 'All') SUMMARY_TAGS.forEach(add);
    else if (tag === '$LEDGER') block(BASE_BLOCK);
    else if (tag.toUpperCase() === '$LEDGER:ALL') {
      block(BASE_BLOCK);
      for (const f of figs) block(f.currency);
    } else if (tag.startsWith('$LEDGER:')) block(tag.slice('$LEDGER:'.length).trim());
    else add(tag);
  }
  return rows;
}
