import type { EpochMs, Order } from '../core/types.ts';
import type { JournalEntry } from '../journal/live-journal.ts';
import type { Engine } from '../run/engine.ts';

const iso = (ts: EpochMs) => (Number.isFinite(ts) ? `${new Date(ts).toISOString().slice(0, 19).replace('T', ' ')}Z` : '-');
const signed = (q: number) => (q > 0 ? `+${q}` : String(q));
const money = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * An account number as logs show it: its first two and last two characters (DU…67), enough to tell accounts apart
 * and not the number itself, which logs, the journal's lines and the dashboard must not carry.
 */
export const maskAccount = (account: string): string => (account.length <= 4 ? '…' : `${account.slice(0, 2)}…${account.slice(-2)}`);

/** internal steps every order goes through at once: not worth a line of their own */
const QUIET = new Set(['NEW', 'RISK_CHECK']);

/**
 * The line a person following a live session sees for a journal entry: order events, fills, risk
 * events and the runner's notes (connection, reconciliation, broker, strategy logs); null for the rest.
 */
export function describeEntry(x: JournalEntry, orders: readonly Order[]): string | null {
  switch (x.t) {
    case 'orderEvent': {
      const e = x.e;
      if (QUIET.has(e.to)) return null;
      const o = orders[e.orderId - 1];
      const what = o ? `${o.side} ${o.qty.kind === 'shares' ? o.qty.shares : 'all-in'} ${o.symbol} ${o.type}` : '';
      return `${iso(e.ts)} order ${e.orderId} ${what}: ${e.to}${e.reason ? ` (${e.reason})` : ''}`;
    }
    case 'fill':
      return `${iso(x.f.ts)} fill ${x.f.symbol} ${signed(x.f.qty)} @ ${x.f.price}, commission ${money(x.f.commission)} (order ${x.f.orderId}, exec ${x.f.execId})`;
    case 'risk':
      return `${iso(x.e.ts)} RISK ${x.e.check}: ${x.e.message}`;
    case 'log':
      return `${iso(x.ts)} [${x.kind}] ${x.message}`;
    default:
      return null;
  }
}

/** The periodic status line: equity, P&L today, positions, open orders, the connection and the breaker. */
export function statusLine(s: { engine: Engine; dayStartEquity: number; brokerDailyPnl: number; connected: boolean; tripped: string | null }): string {
  const { engine } = s;
  const equity = engine.portfolio.equity();
  const today = equity - s.dayStartEquity;
  const positions = engine.symbols.flatMap((sym, sid) => {
    const q = engine.portfolio.position(sid);
    return q === 0 ? [] : [`${sym} ${signed(q)}`];
  });
  const parts = [
    `equity ${money(equity)}`,
    `P&L today ${Number.isFinite(today) ? (today >= 0 ? '+' : '') + money(today) : '-'}${Number.isFinite(s.brokerDailyPnl) ? ` (account at IB ${s.brokerDailyPnl >= 0 ? '+' : ''}${money(s.brokerDailyPnl)})` : ''}`,
    `positions ${positions.join(', ') || 'none'}`,
    `open orders ${engine.openOrders().length}`,
    `gateway ${s.connected ? 'connected' : 'DISCONNECTED'}`,
  ];
  if (s.tripped) parts.push(`BREAKER TRIPPED: ${s.tripped}`);
  return `${iso(engine.now())} status: ${parts.join(', ')}`;
}
