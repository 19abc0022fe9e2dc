import type { CorporateActionEvent } from './corporate-action.ts';
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
  /** no position in `sid` and no working order of this strategy in it (`position(sid) === 0 && openOrders(sid).length === 0`) */
  isFlat(sid: number): boolean;
  /**
   * The run's options on `underlying` (a run symbol; `--chain` adds its options) that pass `query`, with their
   * last quotes and the implied volatility and delta of their mids at the underlying's last close, sorted by
   * expiry, strike, then call before put. Expired contracts are left out.
   */
  chain(underlying: string, query?: ChainQuery): OptionChain;
  log(message: string): void;
}

/** Which options `ctx.chain` returns. */
export interface ChainQuery {
  /** calls or puts only (both when absent) */
  right?: 'C' | 'P';
  /** calendar days from today (New York) to the last trading day, inclusive (0 = expiring today) */
  minDays?: number;
  maxDays?: number;
  /** the N strikes nearest the spot, per expiry */
  strikes?: number;
  /** strikes with lo <= K / spot <= hi */
  moneyness?: readonly [number, number];
  /** the continuously compounded rate the implied volatilities are solved with (default 0) */
  rate?: number;
}

export interface OptionChain {
  /** the underlying's last close (NaN before its first bar) */
  spot: number;
  options: ChainOption[];
}

/** One option of a run, as `ctx.chain` gives it. */
export interface ChainOption {
  sid: number;
  symbol: string;
  right: 'C' | 'P';
  strike: number;
  /** last trading day, YYYY-MM-DD */
  expiry: string;
  /** the last bar's closing quotes (NaN: that side had none) */
  bid: number;
  ask: number;
  /** (bid + ask) / 2 of a two-sided, uncrossed quote; NaN otherwise */
  mid: number;
  /**
   * From the mid at the underlying's last close (an American tree); NaN when no volatility gives the mid. A live
   * session against a gateway takes IB's own model computation (tickOptionComputation) where IB has sent one.
   */
  iv: number;
  delta: number;
}

export interface Strategy {
  /** called for each symbol's bar when it closes, in the run's symbol order */
  onBar(ctx: StrategyContext, bar: Bar): void;
  onFill?(ctx: StrategyContext, fill: Fill): void;
  /**
   * A split or dividend took effect (raw-price runs only), before the first bar of its ex-date: the history is
   * already on the new basis; rebuild indicators of `action.sid` from it (replayHistory in corporate-action.ts).
   */
  onCorporateAction?(ctx: StrategyContext, action: CorporateActionEvent): void;
}

export interface StrategyDefinition<S extends ParamSchema = ParamSchema> {
  name: string;
  description: string;
  /**
   * The file that defines the strategy: write `source: import.meta.url`. A promotion record (npm run
   * promote) is tied to this file's hash, and a live account trades only a promoted source.
   */
  source: string;
  params: S;
  /** rules across params (e.g. fast < slow); returns a message or null */
  check?(p: ParamsOf<S>): string | null;
  /**
   * The model the strategy trades on with these params (a model folder, relative to the repository), if any:
   * the run loads it and fills `ctx.signal(sid)` with its predictions.
   */
  model?(p: ParamsOf<S>): string | undefined;
  create(p: ParamsOf<S>, symbols: readonly string[]): Strategy;
  /**
   * Under `--session rth`, bars outside the regular session still feed this strategy's onBar (indicators)
   * when it asks for them; they never fill orders: what it submits on them waits for the session.
   */
  extendedHours?: boolean;
}

/**
 * A strategy definition with its params type erased: what a registry holds (no casts). Each function
 * takes raw params (JSON), validates them against the schema (parseParams) and calls the typed definition.
 */
export interface AnyStrategyDefinition {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly params: ParamSchema;
  /** the params with defaults filled, validated (the error names the strategy, param and rule) */
  parse(raw: Record<string, unknown>): Record<string, unknown>;
  /** the model a run with these params trades on, if any (see StrategyDefinition.model) */
  model(raw: Record<string, unknown>): string | undefined;
  create(raw: Record<string, unknown>, symbols: readonly string[]): Strategy;
}

/** What defineStrategy returns: the erased definition, and the typed one as written. */
export interface DefinedStrategy<S extends ParamSchema> extends AnyStrategyDefinition {
  readonly params: S;
  readonly definition: StrategyDefinition<S>;
}

/** A strategy instance in a run and its share of the capital (a multi-strategy run has several). */
export interface SlotSpec {
  name: string;
  strategy: Strategy;
  weight: number;
}

/** Declares a strategy: typed params from the schema inside `def`, and an erased definition for the registry. */
export function defineStrategy<S extends ParamSchema>(def: StrategyDefinition<S>): DefinedStrategy<S> {
  return {
    name: def.name,
    description: def.description,
    source: def.source,
    params: def.params,
    definition: def,
    parse: (raw) => parseParams(def, raw),
    model: (raw) => (def.model ? def.model(parseParams(def, raw)) : undefined),
    create: (raw, symbols) => markExtendedHours(def.create(parseParams(def, raw), symbols), def.extendedHours === true),
  };
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

const EXTENDED_HOURS = new WeakSet<Strategy>();
/** Marks an instance whose definition asked for `extendedHours` (defineStrategy's create does it). */
export function markExtendedHours(s: Strategy, asks = true): Strategy {
  if (asks) EXTENDED_HOURS.add(s);
  return s;
}
/** Whether this instance's definition asked for bars outside the regular session (`extendedHours`). */
export function asksForExtendedHours(s: Strategy): boolean {
  return EXTENDED_HOURS.has(s);
}
