import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStrategyDefinition, ParamSpec, SlotSpec } from '../engine/core/strategy.ts';
import coveredCall from './covered-call.ts';
import ironCondor from './iron-condor.ts';
import donchianBreakout from './donchian-breakout.ts';
import futuresTrend from './futures-trend.ts';
import mlSignal from './ml-signal.ts';
import rsiReversion from './rsi-reversion.ts';
import smaCross from './sma-cross.ts';

/** The built-in strategies by name: add yours here. */
export const STRATEGIES: Record<string, AnyStrategyDefinition> = Object.fromEntries(
  [smaCross, rsiReversion, donchianBreakout, mlSignal, futuresTrend, coveredCall, ironCondor].map((def) => [def.name, def]),
);

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

function lookup(name: string): AnyStrategyDefinition {
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
    return [{ name: def.name, strategy: def.create(raw, symbols), weight: 1 }];
  }
  for (const k of Object.keys(raw)) if (k !== 'members') throw new Error(`portfolio: unknown param '${k}'; its params are members`);
  const members = (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[];
  if (!Array.isArray(members) || members.length === 0) throw new Error(`portfolio: param 'members' must be a non-empty list of {strategy, params, weight}`);
  return members.map((m, i) => {
    if (typeof m !== 'object' || m === null) throw new Error(`portfolio: members[${i}] must be an object {strategy, params, weight}`);
    if (!(typeof m.weight === 'number' && m.weight > 0))
      throw new Error(`portfolio: members[${i}].weight must be a number > 0, got ${JSON.stringify(m.weight)}`);
    const def = lookup(m.strategy);
    return { name: `${def.name}#${i + 1}`, strategy: def.create(m.params ?? {}, symbols), weight: m.weight };
  });
}

/**
 * The repository's source file of a module URL (a definition's `source`): compiled into build/ (for
 * notebooks), a module's source is still the repository's .ts file.
 */
function sourceFile(url: string): string {
  const file = fileURLToPath(url);
  const m = /^(.*)[\\/]build[\\/](.+)\.js$/.exec(file);
  return m ? path.join(m[1], `${m[2]}.ts`) : file;
}

/** The repository root (the parent of strategies/). */
const ROOT = path.dirname(path.dirname(sourceFile(import.meta.url)));

/** The source files a run of `name` depends on (a promotion record is tied to their hash): each definition's `source`. */
export function strategySources(name: string, raw: Record<string, unknown>): string[] {
  // a model is part of what was promoted: its card (which holds the ONNX file's hash)
  const model = modelOf(name, raw);
  const card = model === undefined ? [] : [path.join(ROOT, model.replace(/\/$/, ''), 'card.json')];
  if (name !== PORTFOLIO) return [sourceFile(lookup(name).source), ...card];
  const members = (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[];
  return [sourceFile(import.meta.url), ...members.map((m) => sourceFile(lookup(m.strategy).source)), ...card];
}

/** Params with their defaults filled in (so '{}' and the spelled-out defaults are the same run). */
export function resolvedParams(name: string, raw: Record<string, unknown>): Record<string, unknown> {
  return name === PORTFOLIO ? { members: raw.members ?? DEFAULT_PORTFOLIO } : lookup(name).parse(raw);
}

/**
 * The model a run trades on, if any: the one its strategy's definition declares (`model`), or its portfolio
 * members'. A run has one model (one signal per symbol), so two members naming different models are refused.
 */
export function modelOf(name: string, raw: Record<string, unknown>): string | undefined {
  const models = new Set<string>();
  const add = (strategy: string, params: Record<string, unknown>) => {
    const model = lookup(strategy).model(params);
    if (model !== undefined) models.add(model);
  };
  if (name === PORTFOLIO) for (const m of (raw.members ?? DEFAULT_PORTFOLIO) as PortfolioMember[]) add(m.strategy, m.params ?? {});
  else add(name, raw);
  if (models.size > 1) throw new Error(`portfolio: members trade on different models (${[...models].join(', ')}); a run has one model`);
  return [...models][0];
}

/** One param for the help: `name  type and bounds or choices, default D: description`. */
function paramHelp(name: string, spec: ParamSpec): string {
  let rule: string = spec.type;
  if (spec.type === 'int' || spec.type === 'number') {
    if (spec.min !== undefined && spec.max !== undefined) rule += ` ${spec.min}..${spec.max}`;
    else if (spec.min !== undefined) rule += ` >= ${spec.min}`;
    else if (spec.max !== undefined) rule += ` <= ${spec.max}`;
  }
  if (spec.type === 'string' && spec.choices) rule += ` (${spec.choices.join(' | ')})`;
  return `${name.padEnd(12)} ${rule}, default ${JSON.stringify(spec.default)}: ${spec.description}`;
}

/**
 * Every strategy with its params, from the definitions (for --help): name and description, then each
 * param with its type, default and bounds or choices; `portfolio` last.
 */
export function strategyHelp(indent = 2): string {
  const pad = ' '.repeat(indent);
  const lines = ['strategies (--strategy NAME) and their params (each: type and bounds, default):'];
  for (const def of Object.values(STRATEGIES)) {
    lines.push(`${pad}${def.name.padEnd(20)} ${def.description}`);
    for (const [k, spec] of Object.entries(def.params)) lines.push(`${pad}  ${paramHelp(k, spec)}`);
  }
  lines.push(`${pad}${PORTFOLIO.padEnd(20)} several strategies, each trading its own sleeve of the capital`);
  const members = DEFAULT_PORTFOLIO.map((m) => `${m.strategy} ${m.weight}`).join(', ');
  lines.push(`${pad}  ${'members'.padEnd(12)} json, default ${members}: [{"strategy": NAME, "params": {...}, "weight": W}, ...]`);
  return lines.join('\n');
}
