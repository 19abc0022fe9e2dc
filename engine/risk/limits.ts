/** Pre-trade limits (DESIGN section 4). A limit left out is not checked. Percentages are percent (5 = 5%). */
export interface RiskLimits {
  maxOrderValue?: number;
  maxOrderQty?: number;
  /** position value after the order, as % of equity */
  maxPositionPct?: number;
  /** gross exposure after the order / equity */
  maxLeverage?: number;
  /** gross exposure of one sector after the order, as % of equity (sector from the instrument master) */
  maxSectorPct?: number;
  maxOrdersPerMinute?: number;
  maxOrdersPerDay?: number;
  /** today's loss from the day's opening equity, % and absolute: no new risk once reached */
  maxDailyLossPct?: number;
  maxDailyLossAbs?: number;
  /** drawdown from the equity peak, %: no new risk once reached */
  maxDrawdownPct?: number;
  allowedSymbols?: string[];
  /** no order may leave a short position */
  longOnly?: boolean;
}

export interface BreakerConfig {
  dailyLossPct?: number;
  dailyLossAbs?: number;
  drawdownPct?: number;
  /** trips when this many orders are rejected or errored within `errorWindowMs` */
  maxErrors?: number;
  errorWindowMs?: number;
  /** close every position with market orders when it trips */
  flattenOnTrip?: boolean;
}

export interface RiskConfig {
  /** the profile's name, shown in a run's effective config and report: research, seed, or the JSON file it came from */
  name?: string;
  limits: RiskLimits;
  breaker: BreakerConfig;
}

/** The seed defaults of DESIGN section 4, for live trading and for backtests that ask for them (`--risk seed`). */
export const SEED_RISK: RiskConfig = {
  name: 'seed',
  limits: {
    maxDailyLossPct: 2,
    maxDrawdownPct: 10,
    maxPositionPct: 5,
    maxLeverage: 1,
    maxOrderValue: 50_000,
    maxOrdersPerDay: 100,
    maxOrdersPerMinute: 10,
  },
  breaker: { dailyLossPct: 2, drawdownPct: 10, maxErrors: 5, errorWindowMs: 60_000, flattenOnTrip: false },
};

/**
 * The default profile of every run (backtest, sweep, promote, paper live): no position-size limits (so
 * equal-weight and all-in sizing run unrejected, and all-in can be compared with other engines) but still
 * cash-account discipline: leverage at most 1 on new risk. It has no loss limits, so a live account must
 * name its profile (`--risk`).
 */
export const RESEARCH_RISK: RiskConfig = { name: 'research', limits: { maxLeverage: 1 }, breaker: {} };

/** The named profiles `--risk` takes besides a JSON file. */
export const RISK_PROFILES: Readonly<Record<string, RiskConfig>> = { research: RESEARCH_RISK, seed: SEED_RISK };

/** A profile in words: its name, then its limits and breaker (`research (maxLeverage 1)`). */
export function describeRisk(r: RiskConfig): string {
  const parts = (o: object) =>
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : v}`);
  const limits = parts(r.limits);
  const breaker = parts(r.breaker);
  const what = [...limits, ...(breaker.length > 0 ? [`breaker: ${breaker.join(', ')}`] : [])];
  return `${r.name ?? 'custom'} (${what.length > 0 ? what.join(', ') : 'no limits'})`;
}

const LIMIT_KEYS: (keyof RiskLimits)[] = [
  'maxOrderValue',
  'maxOrderQty',
  'maxPositionPct',
  'maxLeverage',
  'maxSectorPct',
  'maxOrdersPerMinute',
  'maxOrdersPerDay',
  'maxDailyLossPct',
  'maxDailyLossAbs',
  'maxDrawdownPct',
  'allowedSymbols',
  'longOnly',
];
const BREAKER_KEYS: (keyof BreakerConfig)[] = ['dailyLossPct', 'dailyLossAbs', 'drawdownPct', 'maxErrors', 'errorWindowMs', 'flattenOnTrip'];

/** Validates a risk config read from JSON, naming the offending field. */
export function parseRiskConfig(raw: unknown, source: string): RiskConfig {
  const obj = (raw ?? {}) as Record<string, unknown>;
  const limits = (obj.limits ?? {}) as Record<string, unknown>;
  const breaker = (obj.breaker ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (k !== 'limits' && k !== 'breaker') throw new Error(`${source}: unknown key '${k}' (expected limits, breaker)`);
  const check = (o: Record<string, unknown>, keys: string[], where: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (!keys.includes(k)) throw new Error(`${source}: unknown ${where} '${k}'; known: ${keys.join(', ')}`);
      if (k === 'allowedSymbols') {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${source}: ${where}.${k} must be a list of symbols`);
      } else if (k === 'longOnly' || k === 'flattenOnTrip') {
        if (typeof v !== 'boolean') throw new Error(`${source}: ${where}.${k} must be true or false`);
      } else if (typeof v !== 'number' || !(v > 0)) throw new Error(`${source}: ${where}.${k} must be a number > 0, got ${JSON.stringify(v)}`);
    }
  };
  check(limits, LIMIT_KEYS, 'limits');
  check(breaker, BREAKER_KEYS, 'breaker');
  return { limits: limits as RiskLimits, breaker: breaker as BreakerConfig };
}
