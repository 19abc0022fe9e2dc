// The flags every run-shaped CLI shares (backtest, sweep, promote), and how they become config parts.
import { existsSync } from 'node:fs';
import { INTERVAL_MS, type Interval } from '../../engine/core/types.ts';
import { DEFAULT_DB_PATH, SAMPLE_DB_PATH } from '../../engine/data/store-paths.ts';
import { parseCommission, parseSlippage } from '../../engine/exec/costs.ts';
import { parseSizing, type Sizing } from '../../engine/portfolio/sizing.ts';
import { parseRiskConfig, RISK_PROFILES, type RiskConfig } from '../../engine/risk/limits.ts';
import { runSettings } from '../../engine/report/run-settings.ts';
import { RUN_DEFAULTS, type RunSettings } from '../../engine/run/defaults.ts';
import type { ChainSelection } from '../../engine/run/run-data.ts';
import { defineFlags, FlagError, fromFlag, readJsonFile, withoutFileValues } from './flags.ts';

export { RUN_DEFAULTS };

export const INTERVALS = Object.keys(INTERVAL_MS) as Interval[];

/** The most starting cash a run takes (a trillion): far above any real account, and well inside the range where a double keeps cents exact (about 9e13). */
export const MAX_CASH = 1e12;
/** The most shares one fixed-size order may ask for (a billion: more than any listed company's float traded in a bar). */
export const MAX_QUANTITY = 1e9;

/** Flags of the cash a run starts with and how its entries are sized (live uses them too). */
export const SIZING_FLAGS = defineFlags({
  cash: { kind: 'number', default: 100_000, min: 0, minExclusive: true, max: MAX_CASH, help: 'starting cash' },
  sizing: {
    kind: 'choice',
    choices: ['equal-weight', 'all-in', 'fixed', 'percent', 'vol-target'],
    default: RUN_DEFAULTS.sizing,
    arg: 'S',
    help: `equal-weight (default: 1/N of equity per entry, N = the run's symbols, within the cash) | all-in |\nfixed --quantity N | percent --percent P | vol-target [--target-vol 0.1] [--lookback 20]`,
  },
  quantity: { kind: 'integer', min: 1, max: MAX_QUANTITY, help: 'shares per entry for --sizing fixed' },
  percent: { kind: 'number', min: 0, minExclusive: true, max: 100, arg: 'P', help: "percent of the book's equity per entry for --sizing percent (5 = 5%)" },
  'target-vol': {
    kind: 'number',
    min: 0,
    minExclusive: true,
    max: 5,
    arg: 'F',
    help: "--sizing vol-target: the position's annual volatility as a fraction (0.1 = 10%; default 0.1)",
  },
  lookback: { kind: 'integer', min: 2, max: 10_000, help: '--sizing vol-target: bars of the rolling volatility (default 20)' },
});

/** Options of an underlying added to a run's symbols (`--chain`), the same in backtest, live and the simulator. */
export const CHAIN_FLAGS = defineFlags({
  chain: {
    kind: 'string',
    arg: 'UNDERLYING',
    help: "adds the underlying's options to the symbols (from --data's instruments, with quote bars\nin the dates; live with --gateway, from the gateway), for a strategy's ctx.chain; see --chain-days,\n--chain-strikes, --chain-right",
  },
  'chain-days': { kind: 'integer', default: 30, min: 0, max: 3650, arg: 'N', help: '--chain: options expiring within N days of the first day (default 30)' },
  'chain-strikes': {
    kind: 'integer',
    default: 10,
    min: 1,
    max: 1000,
    arg: 'N',
    help: "--chain: the N strikes nearest the underlying's first close (default 10)",
  },
  'chain-right': { kind: 'choice', choices: ['C', 'P', 'both'], default: 'both', arg: 'R', help: '--chain: calls (C), puts (P) or both (default)' },
});

/** The chain selection the CHAIN_FLAGS ask for (undefined without --chain). */
export function chainSelection(v: { chain?: string; 'chain-days': number; 'chain-strikes': number; 'chain-right': string }): ChainSelection | undefined {
  if (!v.chain) return undefined;
  const right = v['chain-right'];
  return { underlying: v.chain, days: v['chain-days'], strikes: v['chain-strikes'], ...(right === 'C' || right === 'P' ? { right } : {}) };
}

export const RUN_FLAGS = defineFlags({
  strategy: { kind: 'string', default: 'sma-cross', arg: 'NAME', help: 'a strategy listed below, or portfolio (default sma-cross)' },
  symbols: { kind: 'list', upper: true, help: 'symbols in this order (default: every symbol in the data)' },
  data: {
    kind: 'string',
    arg: 'PATH',
    help: `a .duckdb file, a CSV/Parquet file or a folder of them (default ${SAMPLE_DB_PATH},\nthe bundled sample, created on first use; your ${DEFAULT_DB_PATH} only when named)`,
  },
  interval: { kind: 'choice', choices: INTERVALS, default: '1d', help: 'bar interval' },
  from: { kind: 'string', arg: 'DATE', help: 'first day, YYYY-MM-DD (inclusive)' },
  to: { kind: 'string', arg: 'DATE', help: 'last day, YYYY-MM-DD (inclusive)' },
  commission: {
    kind: 'string',
    default: RUN_DEFAULTS.commission,
    arg: 'M',
    help: `ibkr-fixed | ibkr-tiered | none | per-share:RATE[:MIN] | percent:PCT[:MIN] (default ${RUN_DEFAULTS.commission})`,
  },
  slippage: { kind: 'string', default: RUN_DEFAULTS.slippage, arg: 'M', help: `none | bps:N | range:FRACTION (default ${RUN_DEFAULTS.slippage})` },
  risk: {
    kind: 'string',
    default: RUN_DEFAULTS.risk,
    arg: 'R',
    help: `research (default: leverage <= 1, no position limit) | seed (DESIGN section 4 limits) | FILE.json`,
  },
  ...SIZING_FLAGS,
  tz: { kind: 'string', default: 'America/New_York', arg: 'ZONE', help: 'exchange time zone for intraday data' },
  session: {
    kind: 'choice',
    choices: ['rth', 'extended'],
    default: 'rth',
    help: 'intraday: rth trades 09:30-16:00 --tz (13:00 on US half days) only;\nextended trades every bar (pre- and post-market)',
  },
  prices: {
    kind: 'choice',
    choices: ['raw', 'adjusted'],
    help: 'raw: as traded, splits and dividends applied as events (default where the data\nhas them: imported with --factors); adjusted: split- and dividend-adjusted\n(default for model strategies; otherwise the data as stored)',
  },
});

/** The parsed sizing flags as a Sizing (each number already checked against its bounds by the parser). */
export function sizingFlags(v: { sizing: string; quantity?: number; percent?: number; 'target-vol'?: number; lookback?: number }): Sizing {
  if (v.sizing === 'fixed' && v.quantity === undefined) throw new FlagError('--sizing fixed needs --quantity N (a whole number >= 1)');
  if (v.sizing === 'percent' && v.percent === undefined) throw new FlagError('--sizing percent needs --percent P (0 < P <= 100)');
  return fromFlag('--sizing', v.sizing, (kind) =>
    parseSizing(kind, { quantity: v.quantity, percent: v.percent, targetVol: v['target-vol'], lookback: v.lookback }),
  );
}

/**
 * `--risk research|seed|FILE.json`. A file's errors (not JSON, or JSON of the wrong shape) name the flag,
 * the file and the rule, never the file's contents.
 */
export function riskFlag(value: string, flag = '--risk'): RiskConfig {
  if (Object.hasOwn(RISK_PROFILES, value)) return RISK_PROFILES[value];
  if (!existsSync(value) && !/\.json$/i.test(value)) throw new FlagError(`${flag} must be research, seed or a JSON file, got '${value.slice(0, 40)}'`);
  const raw = readJsonFile(flag, value);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FlagError(`${flag} ${value} must hold a JSON object {"limits": {...}, "breaker": {...}}`);
  try {
    return { name: value, ...parseRiskConfig(raw, value) };
  } catch (e) {
    throw new FlagError(`${flag} ${withoutFileValues((e as Error).message)}`);
  }
}

/** The commission, slippage, sizing and risk of a run from its parsed flags (backtest, sweep, promote). */
export function runSettingsFlags(v: {
  commission: string;
  slippage: string;
  risk: string;
  sizing: string;
  quantity?: number;
  percent?: number;
  'target-vol'?: number;
  lookback?: number;
}): RunSettings {
  return {
    commission: fromFlag('--commission', v.commission, parseCommission),
    slippage: fromFlag('--slippage', v.slippage, parseSlippage),
    sizing: sizingFlags(v),
    risk: riskFlag(v.risk),
  };
}

/**
 * Prints a run's effective config (after defaults: the resolved params, sizing in words, costs, risk
 * profile) as the first lines of its output, on stdout like the summary after it.
 */
export function printRunConfig(config: Record<string, unknown>, notes: { slippage?: string; commission?: string } = {}, extra: [string, string][] = []): void {
  const rows = [...runSettings(config, notes), ...extra];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`effective config\n${rows.map(([k, val]) => `  ${k.padEnd(w)}  ${val}`).join('\n')}\n`);
}

/**
 * A sizing that asks for more of the equity per entry than the risk profile lets one position hold: most
 * entries would be rejected. Said before the run starts (equal-weight under --risk seed's 5%, for instance).
 */
export function sizingRiskWarning(sizing: Sizing, symbols: number, risk: RiskConfig): string | undefined {
  const max = risk.limits.maxPositionPct;
  if (max === undefined) return undefined;
  const pct = sizing.kind === 'equal-weight' ? 100 / symbols : sizing.kind === 'percent' ? sizing.percent : sizing.kind === 'all-in' ? 100 : undefined;
  if (pct === undefined || pct <= max) return undefined;
  return `warning: --sizing ${sizing.kind} puts ${+pct.toFixed(2)}% of equity in an entry, above risk profile ${risk.name ?? 'custom'}'s maxPositionPct ${max}%: such entries are rejected; use --sizing percent --percent ${max} (or fewer, smaller entries)`;
}
