import type { Bar, EpochMs, Fill, Order, OrderRequest } from './types.ts';

/** One parameter of a strategy: its type, default and rule. */
export type ParamSpec =
  | { type: 'int'; default: number; min?: number; max?: number; description: string }
  | { type: 'number'; default: number; min?: number; max?: number; description: string }
  | { type: 'boolean'; default: boolean; description: string }
  | { type: 'string'; default: string; choices?: readonly string[]; description: string }
  | { type: 'json'; default: unknown; description: string };

export type ParamSchema = Record<string, ParamSpec>;

/** The typed params a schema describes. */
export type ParamsOf<S extends ParamSchema> = {
  [K in keyof S]: S[K] extends { type: 'int' | 'number' }
    ? number
    : S[K] extends { type: 'boolean' }
      ? boolean
      : S[K] extends { type: 'string' }
        ? string
        : unknown;
};

/** Read-only bar history, newest first: `close(sid, 0)` is the bar just closed. NaN beyond what exists. */
export interface BarHistory {
  count(sid: number): number;
  open(sid: number, ago?: number): number;
  high(sid: number, ago?: number): number;
  low(sid: number, ago?: number): number;
  close(sid: number, ago?: number): number;
  volume(sid: number, ago?: number): number;
}

/** What a strategy can see and do. Time comes from here: never read the wall clock in a strategy. */
export interface StrategyContext extends BarHistory {
  /** the instant the current bars became visible (their end) */
  readonly now: EpochMs;
  readonly symbols: readonly string[];
  /** this strategy's book: its cash, equity and positions */
  readonly cash: number;
  readonly equity: number;
  position(sid: number): number;
  avgCost(sid: number): number;
  /** places an order; it goes through the risk engine (check `status` for REJECTED and `reason`) */
  submit(req: OrderRequest): Order;
  cancel(orderId: number): void;
  modify(orderId: number, changes: { qty?: number; limit?: number; stop?: number }): void;
  openOrders(sid?: number): readonly Order[];
  /** the run's model prediction for `sid`'s newest bar (e.g. P(up) from an ONNX model); NaN when the run has none */
  signal(sid: number): number;
  /** a market buy sized by the run's sizing rule (all-in, fixed, percent, vol-target) */
  buy(sid: number, extra?: Partial<OrderRequest>): Order | null;
  /** a market sell short sized by the run's sizing rule */
  sellShort(sid: number, extra?: Partial<OrderRequest>): Order | null;
  /** signed shares still to fill on this strategy's working market, MOO and MOC orders in `sid` (sent or about to be) */
  pending(sid: number): number;
  /** closes the whole position in `sid`, net of what working orders will already do, with a market order; null when nothing is left to close */
  closePosition(sid: number): Order | null;
  log(message: string): void;
}

export interface Strategy {
  /** called for each symbol's bar when it closes, in the run's symbol order */
  onBar(ctx: StrategyContext, bar: Bar): void;
  onFill?(ctx: StrategyContext, fill: Fill): void;
}

export interface StrategyDefinition<S extends ParamSchema = ParamSchema> {
  name: string;
  description: string;
  params: S;
  /** rules across params (e.g. fast < slow); returns a message or null */
  check?(p: ParamsOf<S>): string | null;
  create(p: ParamsOf<S>, symbols: readonly string[]): Strategy;
}

/** A strategy instance in a run and its share of the capital (a multi-strategy run has several). */
export interface SlotSpec {
  name: string;
  strategy: Strategy;
  weight: number;
}

export function defineStrategy<S extends ParamSchema>(def: StrategyDefinition<S>): StrategyDefinition<S> {
  return def;
}

/** Fills defaults and validates `raw` against the schema; the error names the strategy, param and rule. */
export function parseParams<S extends ParamSchema>(def: StrategyDefinition<S>, raw: Record<string, unknown>): ParamsOf<S> {
  const bad = (k: string, rule: string, v: unknown) => new Error(`${def.name}: param '${k}' ${rule}, got ${JSON.stringify(v)}`);
  for (const k of Object.keys(raw)) {
    if (!(k in def.params)) throw new Error(`${def.name}: unknown param '${k}'; its params are ${Object.keys(def.params).join(', ') || '(none)'}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(def.params)) {
    const v = k in raw ? raw[k] : spec.default;
    switch (spec.type) {
      case 'int':
      case 'number': {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(k, 'must be a number', v);
        if (spec.type === 'int' && !Number.isInteger(v)) throw bad(k, 'must be a whole number', v);
        if (spec.min !== undefined && v < spec.min) throw bad(k, `must be >= ${spec.min}`, v);
        if (spec.max !== undefined && v > spec.max) throw bad(k, `must be <= ${spec.max}`, v);
        break;
      }
      case 'boolean':
        if (typeof v !== 'boolean') throw bad(k, 'must be true or false', v);
        break;
      case 'string':
        if (typeof v !== 'string') throw bad(k, 'must be a string', v);
        if (spec.choices && !spec.choices.includes(v)) throw bad(k, `must be one of ${spec.choices.join(', ')}`, v);
        break;
      case 'json':
        break;
    }
    out[k] = v;
  }
  const p = out as ParamsOf<S>;
  const msg = def.check?.(p);
  if (msg) throw new Error(`${def.name}: invalid params ${JSON.stringify(p)}: ${msg}`);
  return p;
}
