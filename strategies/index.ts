import { parseParams, type SlotSpec, type StrategyDefinition } from '../engine/core/strategy.ts';
import donchianBreakout from './donchian-breakout.ts';
import mlSignal from './ml-signal.ts';
import rsiReversion from './rsi-reversion.ts';
import smaCross from './sma-cross.ts';

/** The built-in strategies by name. */
export const STRATEGIES: Record<string, StrategyDefinition> = {
  [smaCross.name]: smaCross as unknown as StrategyDefinition,
  [rsiReversion.name]: rsiReversion as unknown as StrategyDefinition,
  [donchianBreakout.name]: donchianBreakout as unknown as StrategyDefinition,
  [mlSignal.name]: mlSignal as unknown as StrategyDefinition,
};

/** `portfolio`: several strategies, each trading its own sleeve of the capital. */
export const PORTFOLIO = 'portfolio';
export interface PortfolioMember {
  strategy: string;
  params?: Record<string, unknown>;
  weight: number;
}
export const DEFAULT_PORTFOLIO: PortfolioMember[] = [
  { strategy: 'sma-cross', params: { fast: 20, slow: 100 }, weight: 0.5 },
  { strategy: 'donchian-breakout', params: { entry: 55, exit: 20 }, weight: 0.3 },
  { strategy: 'rsi-reversion', params: {}, weight: 0.2 },
];

export function strategyNames(): string[] {
  return [...Object.keys(STRATEGIES), PORTFOLIO];
}

function lookup(name: string): StrategyDefinition {
  const def = STRATEGIES[name];
  if (!def) throw new Error(`unknown strategy '${name}'; available: ${strategyNames().join(', ')}`);
  return def;
}

/**
 * Builds the strategy slots of a run from a name and raw params: one slot, or one per member of
 * a `portfolio` (params `{"members": [{"strategy", "params", "weight"}, ...]}`). Params are validated
 * here, so bad ones fail before any data is read.
 */
export function buildSlots(name: string, raw: Record<string, unknown>, symbols: readonly string[]): SlotSpec[] {
  if (name !== PORTFOLIO) {
    const def = lookup(name);
    return [{ name: def.name, strategy: def.create(parseParams(def, raw), symbols), weight: 1 }];
  }
  for (const k of Object.keys(raw)) if (k !== 'members') throw new Error(`portfolio: unknown param '${k}'; its params are members`);
  const members = (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[];
  if (!Array.isArray(members) || members.length === 0) throw new Error(`portfolio: param 'members' must be a non-empty list of {strategy, params, weight}`);
  return members.map((m, i) => {
    if (typeof m !== 'object' || m === null) throw new Error(`portfolio: members[${i}] must be an object {strategy, params, weight}`);
    if (!(typeof m.weight === 'number' && m.weight > 0))
      throw new Error(`portfolio: members[${i}].weight must be a number > 0, got ${JSON.stringify(m.weight)}`);
    const def = lookup(m.strategy);
    return { name: `${def.name}#${i + 1}`, strategy: def.create(parseParams(def, m.params ?? {}), symbols), weight: m.weight };
  });
}

/** The source files a run of `name` depends on (a promotion record is tied to their hash). */
export function strategySources(name: string, raw: Record<string, unknown>): string[] {
  const here = new URL('.', import.meta.url);
  // compiled into build/strategies/ (for notebooks), the sources are still the repository's strategies/
  const dir = here.pathname.endsWith('/build/strategies/') ? new URL('../../strategies/', here) : here;
  const file = (n: string) => new URL(`${n}.ts`, dir).pathname;
  // a model is part of what was promoted: its card (which holds the ONNX file's hash)
  const model = modelOf(name, raw);
  const card = model === undefined ? [] : [new URL(`${model.replace(/\/$/, '')}/card.json`, new URL('../', dir)).pathname];
  if (name !== PORTFOLIO) return [file(lookup(name).name), ...card];
  const members = (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[];
  return [file('index'), ...members.map((m) => file(lookup(m.strategy).name)), ...card];
}

/** Params with their defaults filled in (so '{}' and the spelled-out defaults are the same run). */
export function resolvedParams(name: string, raw: Record<string, unknown>): Record<string, unknown> {
  return name === PORTFOLIO ? { members: raw.members ?? DEFAULT_PORTFOLIO } : (parseParams(lookup(name), raw) as Record<string, unknown>);
}

/**
 * The model a run trades on, if any: the `model` param of an ml-signal run or portfolio member. A run
 * has one model (one signal per symbol), so two members naming different models are refused.
 */
export function modelOf(name: string, raw: Record<string, unknown>): string | undefined {
  const models = new Set<string>();
  const add = (strategy: string, params: Record<string, unknown>) => {
    if (strategy === mlSignal.name) models.add(parseParams(mlSignal, params).model);
  };
  if (name === PORTFOLIO) for (const m of (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[]) add(m.strategy, m.params ?? {});
  else add(name, raw);
  if (models.size > 1) throw new Error(`portfolio: members trade on different models (${[...models].join(', ')}); a run has one model`);
  return [...models][0];
}
