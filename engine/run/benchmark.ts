import type { EpochMs } from '../core/types.ts';

/** One symbol's first close, then one close per day: `ts` is the start of the day's last bar. */
export interface BenchmarkCloses {
  symbol: string;
  ts: number[];
  close: number[];
}

/** The run's buy-and-hold benchmark symbol: `config.benchmark`, else SPY when the run has it, else the first symbol. */
export function benchmarkSid(config: { symbols: readonly string[]; benchmark?: string }): number {
  if (config.benchmark === undefined) return Math.max(0, config.symbols.indexOf('SPY'));
  const sid = config.symbols.indexOf(config.benchmark);
  if (sid < 0) throw new Error(`benchmark ${config.benchmark} is not one of the run's symbols (${config.symbols.join(', ')})`);
  return sid;
}

/**
 * Keeps the benchmark symbol's first close (the buy-and-hold entry, at the run's first equity point)
 * and its last close of each day: a later bar of the same day overwrites, so memory is one entry a day
 * however long an intraday run. Backtests and live runs record it the same way.
 */
export class BenchmarkRecorder {
  readonly closes: BenchmarkCloses;
  private day = NaN;
  constructor(
    symbol: string,
    readonly sid: number,
  ) {
    this.closes = { symbol, ts: [], close: [] };
  }
  record(ts: EpochMs, day: number, close: number): void {
    const b = this.closes;
    if (day === this.day && b.ts.length > 1) {
      b.ts[b.ts.length - 1] = ts;
      b.close[b.close.length - 1] = close;
    } else {
      b.ts.push(ts);
      b.close.push(close);
      this.day = day;
    }
  }
}
