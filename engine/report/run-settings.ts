// The effective config of a run in words: what a run prints at its top and report.html shows under its title.
// It reads a run config as written into report.json (a BacktestConfig plus extras), so any report can show it.
import { describeSizing, type Sizing } from '../portfolio/sizing.ts';
import { describeRisk, type RiskConfig } from '../risk/limits.ts';
import { fmtNum } from './format.ts';

/** A commission or slippage spec in the form its flag takes (`ibkr-fixed`, `per-share:0.005:1`, `bps:2`). */
export function costLabel(spec: unknown): string {
  if (typeof spec !== 'object' || spec === null || typeof (spec as { model?: unknown }).model !== 'string') return String(spec ?? '—');
  const { model, ...rest } = spec as { model: string } & Record<string, unknown>;
  // percent commissions are stored as a fraction and written as a percent
  const values = Object.entries(rest).map(([k, v]) => (model === 'percent' && k === 'rate' && typeof v === 'number' ? v * 100 : v));
  // a zero minimum is the flag's default: left out, as it is written
  while (values.length > 1 && values[values.length - 1] === 0) values.pop();
  return [model, ...values].join(':');
}

/** The dates a run asked for (`from .. to`), the data's own ends where it named none. */
export function datesLabel(from: unknown, to: unknown): string {
  return `${typeof from === 'string' ? from : 'first bar'} .. ${typeof to === 'string' ? to : 'last bar'}`;
}

/**
 * The effective config as rows (label, value): strategy with its resolved params, symbols, interval,
 * dates, cash, sizing in words, commission, slippage and risk profile. A field the config lacks is left out.
 */
export function runSettings(config: Record<string, unknown>, notes: { slippage?: string; commission?: string } = {}): [string, string][] {
  const c = config;
  const rows: [string, string][] = [];
  const symbols = Array.isArray(c.symbols) ? (c.symbols as string[]) : [];
  if (typeof c.strategy === 'string') rows.push(['strategy', c.params === undefined ? c.strategy : `${c.strategy} ${JSON.stringify(c.params)}`]);
  if (symbols.length > 0) rows.push(['symbols', symbols.length > 8 ? `${symbols.slice(0, 8).join(',')},… (${symbols.length})` : symbols.join(',')]);
  if (typeof c.interval === 'string') rows.push(['interval', c.interval]);
  // intraday runs only: a daily bar is one session
  if (typeof c.session === 'string' && c.interval !== '1d')
    rows.push(['session', c.session === 'extended' ? 'extended (every bar trades)' : 'rth (09:30-16:00, half days 13:00)']);
  if (typeof c.prices === 'string') rows.push(['prices', PRICES[c.prices] ?? c.prices]);
  rows.push(['dates', datesLabel(c.from, c.to)]);
  if (typeof c.cash === 'number') rows.push(['cash', `${fmtNum(c.cash)}${typeof c.baseCurrency === 'string' ? ` ${c.baseCurrency}` : ''}`]);
  if (typeof c.baseCurrency === 'string') rows.push(['account', `${c.baseCurrency} (other currencies at the data's daily FX rates)`]);
  if (isContracts(c.contracts)) rows.push(['contracts', contractsLabel(c.contracts)]);
  if (isSizing(c.sizing)) rows.push(['sizing', describeSizing(c.sizing, Math.max(symbols.length, 1))]);
  if (c.commission !== undefined) rows.push(['commission', `${costLabel(c.commission)}${notes.commission ? ` (${notes.commission})` : ''}`]);
  if (c.slippage !== undefined) rows.push(['slippage', `${costLabel(c.slippage)}${notes.slippage ? ` (${notes.slippage})` : ''}`]);
  if (isRisk(c.risk)) rows.push(['risk', describeRisk(c.risk)]);
  return rows;
}

const PRICES: Record<string, string> = {
  raw: 'raw (splits and dividends applied as events)',
  adjusted: 'adjusted for splits and dividends',
  'as-stored': 'as stored (basis unknown)',
};

type Terms = Record<string, { secType: string; multiplier: number; currency: string }>;

function isContracts(x: unknown): x is Terms {
  return typeof x === 'object' && x !== null;
}

/** 'ESZ13, ESH14 FUT x50 USD': symbols with the same terms together, in the run's order. */
function contractsLabel(contracts: Terms): string {
  const groups = new Map<string, string[]>();
  for (const [symbol, t] of Object.entries(contracts)) {
    const key = `${t.secType} x${t.multiplier} ${t.currency}`;
    groups.set(key, [...(groups.get(key) ?? []), symbol]);
  }
  return [...groups]
    .map(([key, symbols]) => `${symbols.length > 4 ? `${symbols.slice(0, 4).join(', ')}, … (${symbols.length})` : symbols.join(', ')} ${key}`)
    .join('; ');
}

function isSizing(x: unknown): x is Sizing {
  return typeof x === 'object' && x !== null && typeof (x as { kind?: unknown }).kind === 'string';
}

function isRisk(x: unknown): x is RiskConfig {
  return typeof x === 'object' && x !== null && typeof (x as { limits?: unknown }).limits === 'object';
}
