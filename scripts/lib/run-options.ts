// The flags every run-shaped CLI shares (backtest, sweep, promote), and how they become config parts.
import { parseSizing, type Sizing } from '../../engine/portfolio/sizing.ts';

export const RUN_OPTIONS = {
  strategy: { type: 'string', default: 'sma-cross' },
  symbols: { type: 'string' },
  data: { type: 'string' },
  interval: { type: 'string', default: '1d' },
  from: { type: 'string' },
  to: { type: 'string' },
  cash: { type: 'string', default: '100000' },
  commission: { type: 'string', default: 'none' },
  slippage: { type: 'string', default: 'none' },
  sizing: { type: 'string', default: 'all-in' },
  quantity: { type: 'string' },
  percent: { type: 'string' },
  'target-vol': { type: 'string' },
  lookback: { type: 'string' },
  tz: { type: 'string', default: 'America/New_York' },
} as const;

/** A flag's number, or undefined when absent; a clear error when not a number. */
export function numberFlag(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (!Number.isFinite(x)) throw new Error(`--${flag} must be a number, got '${s}'`);
  return x;
}

/** `--symbols A,b` as upper-case symbols, or undefined for "every symbol in the data". */
export function symbolsFlag(s: string | undefined): string[] | undefined {
  return s?.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
}

export function sizingFlags(v: { sizing?: string; quantity?: string; percent?: string; 'target-vol'?: string; lookback?: string }): Sizing {
  return parseSizing(v.sizing!, {
    quantity: numberFlag('quantity', v.quantity),
    percent: numberFlag('percent', v.percent),
    targetVol: numberFlag('target-vol', v['target-vol']),
    lookback: numberFlag('lookback', v.lookback),
  });
}
