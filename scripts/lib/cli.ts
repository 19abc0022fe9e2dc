import { createHash } from 'node:crypto';
import type { Report } from '../../engine/report/index.ts';

/** The largest IB API client id (a signed 32-bit integer in the TWS API). */
export const MAX_CLIENT_ID = 2_147_483_647;
/** The fastest a simulator replays, in times real time (a 5-second batch every 0.5 ms at 1m bars). */
export const MAX_SPEED = 10_000;

/** Throws a usage error from inside an expression. */
export function fail(message: string): never {
  throw new Error(message);
}

/** A run's id: a hash of its config, so the same run always gets (and replaces) the same journal rows. */
export function runId(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
const num = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d));
const money = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** The summary a person reads in the terminal after a run. */
export function printSummary(r: Report, run: { bars: number; seconds: number; files: string[]; removed?: string[]; runId: string }): void {
  const m = r.metrics;
  const cfg = r.config as { strategy: string; symbols: string[]; params: unknown };
  const first = r.equity[0]?.date ?? '—';
  const last = r.equity[r.equity.length - 1]?.date ?? '—';
  const rows: [string, string][] = [
    ['strategy', `${cfg.strategy} ${JSON.stringify(cfg.params)}`],
    ['symbols', cfg.symbols.length > 8 ? `${cfg.symbols.slice(0, 8).join(',')},… (${cfg.symbols.length})` : cfg.symbols.join(',')],
    ['period', `${first} .. ${last} (${r.equity.length} days)`],
    ['final equity', `${money(r.finalEquity)} (from ${money(r.startingCash)})`],
    ['total return', pct(m.totalReturn)],
    ['CAGR', pct(m.cagr)],
    ['Sharpe', num(m.sharpe)],
    ['Sortino', num(m.sortino)],
    ['max drawdown', `${pct(m.maxDrawdown)}${m.maxDrawdownStart ? ` (${m.maxDrawdownStart.slice(0, 10)} .. ${m.maxDrawdownTrough?.slice(0, 10)})` : ''}`],
    ['volatility', pct(m.volatility)],
    ['trades', `${m.tradeCount} closed, win rate ${pct(m.winRate)}, profit factor ${num(m.profitFactor)}`],
    ['exposure', pct(m.exposure)],
    ['commission', money(m.totalCommission)],
    ['open positions', r.openPositions.length ? `${r.openPositions.map((p) => `${p.symbol} ${p.quantity}`).join(', ')} (marked at the last close)` : 'none'],
    ['risk events', String(r.riskEvents.length)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, val] of rows) console.log(`${k.padEnd(w)}  ${val}`);
  console.log(`\n${run.bars.toLocaleString('en-US')} bars in ${run.seconds.toFixed(3)} s; run ${run.runId}`);
  for (const f of run.files) console.log(`wrote ${f}`);
  for (const f of run.removed ?? []) console.log(`removed ${f} (an earlier run's; not asked for by --report)`);
}
