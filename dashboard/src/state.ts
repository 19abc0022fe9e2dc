// Applying the WebSocket's events to the last snapshot, incrementally and idempotently (a fresh snapshot may
// already contain an event that arrives after it, so every change is an upsert keyed by its identity).
// An event this file cannot apply returns 'refetch': the caller then replaces the state with GET /api/v1/state.
import type { OpsEvent, OpsFill, OpsLog, OpsOrder, OpsPosition, OpsRiskEvent, OpsSnapshot } from '../../engine/ops/types.ts';

/** the most recent activity shown in the log panel */
export interface ActivityItem {
  ts: number;
  kind: string;
  message: string;
  risk: boolean;
}

export const MAX_ACTIVITY = 100;
export const MAX_FILLS = 200;
export const MAX_CURVE = 5000;

const FINAL = new Set(['FILLED', 'CANCELLED', 'APICANCELLED', 'REJECTED', 'EXPIRED', 'INACTIVE']);

export function isFinalStatus(status: string): boolean {
  return FINAL.has(status.toUpperCase().replace(/[^A-Z]/g, ''));
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number';
const isStr = (x: unknown): x is string => typeof x === 'string';

function isOrder(x: unknown): x is OpsOrder {
  return isObj(x) && isNum(x.id) && isStr(x.symbol) && isStr(x.status);
}
function isFill(x: unknown): x is OpsFill {
  return isObj(x) && isStr(x.execId) && isStr(x.symbol) && isNum(x.quantity) && isNum(x.price);
}
function isPosition(x: unknown): x is OpsPosition {
  return isObj(x) && isStr(x.symbol) && isNum(x.quantity);
}
function isLog(x: unknown): x is OpsLog {
  return isObj(x) && isStr(x.message);
}
function isRiskEvent(x: unknown): x is OpsRiskEvent {
  return isObj(x) && isStr(x.check) && isStr(x.message);
}

export type ApplyResult = { state: OpsSnapshot; activity?: ActivityItem } | 'refetch';

/** the snapshot after one event, or 'refetch' when the event cannot be applied from its data alone */
export function applyEvent(s: OpsSnapshot, e: Pick<OpsEvent, 'type' | 'ts' | 'data'>): ApplyResult {
  const d = e.data;
  switch (e.type) {
    case 'order': {
      if (!isOrder(d)) return 'refetch';
      const rest = s.openOrders.filter((o) => o.id !== d.id);
      const openOrders = isFinalStatus(d.status) ? rest : upsert(s.openOrders, d, (o) => o.id === d.id);
      return { state: { ...s, openOrders } };
    }
    case 'fill': {
      if (!isFill(d)) return 'refetch';
      if (s.fillsToday.some((f) => f.execId === d.execId)) return { state: s };
      const fillsToday = [...s.fillsToday, d].slice(-MAX_FILLS);
      return { state: { ...s, fillsToday } };
    }
    case 'position': {
      if (!isPosition(d)) return 'refetch';
      const rest = s.positions.filter((p) => p.symbol !== d.symbol);
      const positions = d.quantity === 0 ? rest : upsert(s.positions, { ...blankPosition(d.symbol), ...d }, (p) => p.symbol === d.symbol);
      return { state: { ...s, positions } };
    }
    case 'equity': {
      if (!isObj(d) || !isNum(d.equity)) return 'refetch';
      const ts = isNum(d.ts) ? d.ts : e.ts;
      const equity = d.equity;
      const last = s.equityCurve[s.equityCurve.length - 1];
      let equityCurve: OpsSnapshot['equityCurve'];
      if (last && ts < last.ts)
        equityCurve = s.equityCurve; // older than what the snapshot holds
      else if (last && ts === last.ts) equityCurve = [...s.equityCurve.slice(0, -1), { ts, equity }];
      else equityCurve = [...s.equityCurve, { ts, equity }].slice(-MAX_CURVE);
      const peakEquity = Math.max(s.peakEquity, equity);
      const next: OpsSnapshot = {
        ...s,
        equity,
        cash: isNum(d.cash) ? d.cash : s.cash,
        peakEquity,
        drawdown: peakEquity > 0 ? Math.min(0, equity / peakEquity - 1) : 0,
        dailyPnl: isNum(d.dailyPnl) ? d.dailyPnl : equity - s.dayStartEquity,
        now: Math.max(s.now, ts),
        equityCurve,
      };
      return { state: next };
    }
    case 'connection': {
      if (!isObj(d)) return 'refetch';
      const c = { ...s.connection };
      if (typeof d.connected === 'boolean') c.connected = d.connected;
      if (isNum(d.lastHeartbeatAt) || d.lastHeartbeatAt === null) c.lastHeartbeatAt = d.lastHeartbeatAt as number | null;
      if (isNum(d.reconnects)) c.reconnects = d.reconnects;
      if (isNum(d.messagesPerSecond)) c.messagesPerSecond = d.messagesPerSecond;
      if (isNum(d.maxMessagesPerSecond)) c.maxMessagesPerSecond = d.maxMessagesPerSecond;
      if (typeof d.reconciled === 'boolean') c.reconciled = d.reconciled;
      return { state: { ...s, connection: c } };
    }
    case 'log': {
      if (!isLog(d)) return 'refetch';
      return { state: s, activity: { ts: isNum(d.ts) ? d.ts : e.ts, kind: isStr(d.kind) ? d.kind : 'log', message: d.message, risk: false } };
    }
    case 'risk': {
      // the limits' values and the breaker come with the next snapshot (the caller shows the refusal at once)
      return 'refetch';
    }
    default:
      // bar, control, alert: the snapshot's derived figures (performance, limits, strategies) change with them
      return 'refetch';
  }
}

/** the activity line of a risk event (shown before the refetch lands) */
export function riskActivity(e: Pick<OpsEvent, 'ts' | 'data'>): ActivityItem | undefined {
  const d = e.data;
  if (!isRiskEvent(d)) return undefined;
  return { ts: isNum(d.ts) ? d.ts : e.ts, kind: `risk:${d.check}`, message: d.message, risk: true };
}

function upsert<T>(list: T[], item: T, same: (x: T) => boolean): T[] {
  const i = list.findIndex(same);
  if (i < 0) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

function blankPosition(symbol: string): OpsPosition {
  return { symbol, quantity: 0, avgCost: 0, lastPrice: 0, marketValue: 0, unrealizedPnl: 0, sector: '', weight: 0 };
}
