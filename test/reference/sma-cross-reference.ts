/**
 * An independent, deliberately plain re-implementation of sma-cross under DESIGN's default conventions
 * (signal at the close of bar t, market fill at the open of t+1, all-in whole shares at the fill price,
 * no costs, an open trade marked at the last close). It shares no code with the engine: the bars come
 * straight from the CSV text, the averages from exact integer (BigInt) window sums: the true mean of
 * each window rounded once (exact.ts; backtrader's math.fsum(window)/n agrees but for a possible last-ulp
 * double rounding), and the book-keeping from three variables. The engine must agree with it trade for trade.
 */
import { exactSma } from './exact.ts';

export interface RefTrade {
  entryDate: string;
  exitDate: string;
  entryPrice: number;
  exitPrice: number;
  quantity: number;
  pnl: number;
}

export interface RefBars {
  date: string[];
  open: number[];
  close: number[];
}

export function parseCsv(text: string): RefBars {
  const lines = text.trim().split('\n');
  const head = lines[0].split(',');
  const [d, o, c] = ['date', 'open', 'close'].map((k) => head.indexOf(k));
  const out: RefBars = { date: [], open: [], close: [] };
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    out.date.push(f[d]);
    out.open.push(Number(f[o]));
    out.close.push(Number(f[c]));
  }
  return out;
}

function sma(close: number[], n: number): number[] {
  return exactSma(close, n);
}

export function referenceSmaCross(bars: RefBars, fast: number, slow: number, cash: number) {
  const f = sma(bars.close, fast);
  const s = sma(bars.close, slow);
  const trades: RefTrade[] = [];
  let shares = 0;
  let entry = { date: '', price: 0 };
  let pending: 'buy' | 'sell' | null = null;
  for (let t = 0; t < bars.date.length; t++) {
    if (pending === 'buy') {
      const q = Math.floor(cash / bars.open[t]);
      if (q > 0) {
        shares = q;
        cash -= q * bars.open[t];
        entry = { date: bars.date[t], price: bars.open[t] };
      }
    } else if (pending === 'sell') {
      cash += shares * bars.open[t];
      trades.push({
        entryDate: entry.date,
        exitDate: bars.date[t],
        entryPrice: entry.price,
        exitPrice: bars.open[t],
        quantity: shares,
        pnl: shares * (bars.open[t] - entry.price),
      });
      shares = 0;
    }
    pending = null;
    if (t === 0) continue;
    if (f[t - 1] < s[t - 1] && f[t] > s[t] && shares === 0) pending = 'buy';
    else if (f[t - 1] > s[t - 1] && f[t] < s[t] && shares > 0) pending = 'sell';
  }
  const last = bars.close[bars.close.length - 1];
  return { trades, openShares: shares, finalEquity: cash + shares * last };
}
