// reqAccountSummary values of the simulated account: a margin account with a plain Reg T model
// (initial margin 50% and maintenance 25% of the gross position value, buying power 4x available funds); futures
// at their contract terms' initial and maintenance margin per contract (Account.margins), with no position value.
import type { Account } from './account.ts';

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

const LEDGER_TAGS = ['CashBalance', 'TotalCashBalance', 'NetLiquidationByCurrency', 'StockMarketValue', 'RealizedPnL', 'UnrealizedPnL', 'ExchangeRate'];

export interface SummaryRow {
  tag: string;
  value: string;
  currency: string;
}

const money = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '0.00');

/** The rows for a tags list ('NetLiquidation,BuyingPower', '$LEDGER', '$LEDGER:USD', 'All'), in the order asked. */
export function accountSummary(account: Account, tags: readonly string[]): SummaryRow[] {
  const { ledger, marks } = account;
  const netLiq = ledger.netLiquidation(marks);
  const m = account.margins();
  const gross = m.gross;
  const init = 0.5 * gross + m.futuresInitial;
  const maint = 0.25 * gross + m.futuresMaintenance;
  const available = netLiq - init;
  const excess = netLiq - maint;
  const values: Record<string, [string, string]> = {
    AccountType: ['INDIVIDUAL', ''],
    NetLiquidation: [money(netLiq), 'USD'],
    TotalCashValue: [money(ledger.cash), 'USD'],
    SettledCash: [money(ledger.cash), 'USD'],
    AccruedCash: [money(0), 'USD'],
    BuyingPower: [money(4 * Math.max(available, 0)), 'USD'],
    EquityWithLoanValue: [money(netLiq), 'USD'],
    PreviousDayEquityWithLoanValue: [money(account.dayStartNetLiquidation), 'USD'],
    GrossPositionValue: [money(gross), 'USD'],
    RegTEquity: [money(netLiq), 'USD'],
    RegTMargin: [money(init), 'USD'],
    SMA: [money(Math.max(available, 0)), 'USD'],
    InitMarginReq: [money(init), 'USD'],
    MaintMarginReq: [money(maint), 'USD'],
    AvailableFunds: [money(available), 'USD'],
    ExcessLiquidity: [money(excess), 'USD'],
    Cushion: [netLiq !== 0 ? (excess / netLiq).toFixed(6) : '0', ''],
    FullInitMarginReq: [money(init), 'USD'],
    FullMaintMarginReq: [money(maint), 'USD'],
    FullAvailableFunds: [money(available), 'USD'],
    FullExcessLiquidity: [money(excess), 'USD'],
    LookAheadNextChange: ['0', ''],
    LookAheadInitMarginReq: [money(init), 'USD'],
    LookAheadMaintMarginReq: [money(maint), 'USD'],
    LookAheadAvailableFunds: [money(available), 'USD'],
    LookAheadExcessLiquidity: [money(excess), 'USD'],
    HighestSeverity: ['0', ''],
    DayTradesRemaining: ['-1', ''],
    Leverage: [netLiq !== 0 ? (gross / netLiq).toFixed(6) : '0', ''],
    CashBalance: [money(ledger.cash), 'USD'],
    TotalCashBalance: [money(ledger.cash), 'USD'],
    NetLiquidationByCurrency: [money(netLiq), 'USD'],
    StockMarketValue: [money(ledger.marketValue(marks)), 'USD'],
    RealizedPnL: [money(ledger.realized), 'USD'],
    UnrealizedPnL: [money(ledger.unrealized(marks)), 'USD'],
    ExchangeRate: ['1.00', 'USD'],
  };
  const rows: SummaryRow[] = [];
  const seen = new Set<string>();
  const add = (tag: string) => {
    if (seen.has(tag) || !values[tag]) return;
    seen.add(tag);
    rows.push({ tag, value: values[tag][0], currency: values[tag][1] });
  };
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag === 'All') SUMMARY_TAGS.forEach(add);
    else if (tag.startsWith('$LEDGER')) LEDGER_TAGS.forEach(add);
    else add(tag);
  }
  return rows;
}
