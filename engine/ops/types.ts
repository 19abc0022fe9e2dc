// The live-operations contract: what the HTTP/WebSocket API, the dashboard, the Prometheus metrics and the alerts
// read from a live session (or from a finished session's journal), and what its control endpoints may ask of it.
// Times are epoch milliseconds; money is in the account's currency; percentages are fractions (0.05 = 5%).

/** A position with its P&L, marked at the last bar's close. */
export interface OpsPosition {
  symbol: string;
  /** signed: negative is short */
  quantity: number;
  avgCost: number;
  lastPrice: number;
  marketValue: number;
  unrealizedPnl: number;
  /** sector from the instrument master ('' when unknown) */
  sector: string;
  /** |market value| / equity */
  weight: number;
}

/** An order that is not final yet (or, in `orders` pages, any order). */
export interface OpsOrder {
  id: number;
  strategy: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  /** shares (NaN for all-in) */
  quantity: number;
  limit: number | null;
  stop: number | null;
  status: string;
  submittedAt: number;
  filledQty: number;
  avgFillPrice: number | null;
}

export interface OpsFill {
  orderId: number;
  execId: string;
  strategy: string;
  symbol: string;
  ts: number;
  /** signed: negative sells */
  quantity: number;
  price: number;
  commission: number;
}

export interface OpsRiskEvent {
  ts: number;
  orderId: number;
  check: string;
  value: number;
  limit: number;
  message: string;
}

export interface OpsLog {
  ts: number;
  kind: string;
  message: string;
}

/** One pre-trade limit: the value it sees now against its limit (utilisation = value / limit, 0..1+). */
export interface OpsLimit {
  name: string;
  value: number;
  limit: number;
  utilisation: number;
}

export interface OpsStrategy {
  name: string;
  /** equity of its slot minus its starting cash */
  pnl: number;
  /** share of the capital (its slot's weight) */
  allocation: number;
  paused: boolean;
  /** the latest model probability per symbol, for strategies that trade on a model */
  signals?: Record<string, number>;
}

/** Why the session is not ready to trade (empty when it is): gateway disconnected, not reconciled, breaker tripped. */
export interface OpsReadiness {
  ready: boolean;
  reasons: string[];
}

/** The whole state of a session at one moment: GET /api/v1/state, and the WebSocket's first message. */
export interface OpsSnapshot {
  runId: string;
  /** a running session, or a finished one read from its journal (control disabled) */
  mode: 'live' | 'replay';
  strategy: string;
  symbols: string[];
  /** the session's clock (the gateway's time of the last bar) */
  now: number;
  account: { netLiquidation: number; cash: number; availableFunds: number; dailyPnl: number } | null;
  equity: number;
  cash: number;
  dayStartEquity: number;
  dailyPnl: number;
  peakEquity: number;
  /** equity / peak - 1 (<= 0) */
  drawdown: number;
  exposure: { gross: number; net: number; sectors: { sector: string; weight: number }[] };
  positions: OpsPosition[];
  openOrders: OpsOrder[];
  fillsToday: OpsFill[];
  /** the equity curve, one point per bar acted on (decimated to at most 2,000 points) */
  equityCurve: { ts: number; equity: number }[];
  performance: { totalReturn: number; sharpe: number | null; maxDrawdown: number; winRate: number | null; profitFactor: number | null; trades: number };
  risk: {
    limits: OpsLimit[];
    breaker: { tripped: boolean; check: string | null; reason: string | null };
  };
  connection: {
    connected: boolean;
    /** the gateway's last answer to a heartbeat (or any message), epoch ms; null before the first */
    lastHeartbeatAt: number | null;
    reconnects: number;
    /** messages sent in the last second, against the pacing limit */
    messagesPerSecond: number;
    maxMessagesPerSecond: number;
    reconciled: boolean;
  };
  /** bar-to-order latency over the session, milliseconds */
  latency: { barToOrder: { p50: number | null; p99: number | null; count: number } };
  errors: { total: number; byCode: Record<string, number> };
  strategies: OpsStrategy[];
  readiness: OpsReadiness;
}

/** What a WebSocket delta is about. */
export type OpsEventType = 'bar' | 'order' | 'fill' | 'position' | 'equity' | 'risk' | 'connection' | 'log' | 'control' | 'alert';

/** One change, numbered: the WebSocket sends these after the snapshot, in `seq` order without gaps. */
export interface OpsEvent {
  seq: number;
  type: OpsEventType;
  ts: number;
  data: unknown;
}

/** Who asked for a control action: journaled with it. */
export interface ControlSource {
  /** 'http' (with the client's address), 'signal', 'cli' */
  via: string;
  remote?: string;
}

/** The control endpoints' actions on a running session; each is journaled with its source by the session. */
export interface OpsControl {
  kill(o: { flatten: boolean; reason?: string }, source: ControlSource): Promise<void>;
  resetBreaker(source: ControlSource): Promise<void>;
  pause(strategy: string, source: ControlSource): Promise<void>;
  resume(strategy: string, source: ControlSource): Promise<void>;
  /** refuses an order that is unknown or already final (the error's message says which) */
  cancel(orderId: number, source: ControlSource): Promise<void>;
}

/** A page of a long list: GET /api/v1/orders?offset=&limit= and the like. */
export interface OpsPage<T> {
  total: number;
  offset: number;
  items: T[];
}

/** What the server, the metrics and the alerts read: a running session, or a journal replayed read-only. */
export interface OpsSource {
  snapshot(): OpsSnapshot;
  /** calls `listener` with every event from now on; returns the unsubscribe */
  subscribe(listener: (e: Omit<OpsEvent, 'seq'>) => void): () => void;
  orders(offset: number, limit: number): OpsPage<OpsOrder>;
  fills(offset: number, limit: number): OpsPage<OpsFill>;
  riskEvents(offset: number, limit: number): OpsPage<OpsRiskEvent>;
  logs(offset: number, limit: number): OpsPage<OpsLog>;
  /** undefined for a replay: control endpoints answer 405 */
  control?: OpsControl;
}
