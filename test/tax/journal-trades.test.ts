// The trades of a journal (engine/tax/journal-trades.ts): fills written into journal files with the journal's own
// tables (openJournalDb creates them), read back as dated buys and sells.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournalDb } from '../../engine/journal/filler.ts';
import { readJournalTrades, tradeDate } from '../../engine/tax/journal-trades.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cgt-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type FillRow = [run: string, seq: number, symbol: string, ts: number, qty: number, price: number, commission: number | null];

async function journal(name: string, runs: [id: string, kind: string, config: unknown][], fills: FillRow[]): Promise<string> {
  const file = path.join(dir, name);
  const s = await openJournalDb(file);
  try {
    for (const [id, kind, config] of runs) await s.conn.run(`INSERT INTO runs VALUES ($1, $2, 'sma-cross', $3, 0, 0)`, [id, kind, JSON.stringify(config)]);
    for (const [run, seq, symbol, ts, qty, price, commission] of fills)
      await s.conn.run(
        `INSERT INTO fills (run_id, seq, exec_id, order_id, strategy, symbol, ts, qty, price, commission) VALUES ($1, $2, $3, $4, 'sma-cross', $5, $6, $7, $8, ${commission === null ? 'NULL' : '$9'})`,
        [run, seq, `e${seq}`, seq, symbol, ts, qty, price, ...(commission === null ? [] : [commission])],
      );
  } finally {
    await s.close();
  }
  return file;
}

describe('journal trades', () => {
  it('dates a daily backtest fill by its bar (00:00 UTC of the trading date), any other fill in New York', () => {
    const t = Date.UTC(2020, 2, 2); // 2020-03-02 00:00 UTC = 2020-03-01 19:00 in New York
    expect(tradeDate(t, true)).toBe('2020-03-02');
    expect(tradeDate(t, false)).toBe('2020-03-01');
    expect(tradeDate(Date.UTC(2020, 2, 2, 15, 30), false)).toBe('2020-03-02'); // 10:30 ET
  });

  it("reads a backtest's fills as buys and sells: signed qty, NULL commission as none", async () => {
    const file = await journal(
      'backtest.duckdb',
      [['r1', 'backtest', { interval: '1d', prices: 'raw', data: 'data/sample.duckdb' }]],
      [
        ['r1', 0, 'AAPL', Date.UTC(2014, 3, 29), 54, 593.77, 1],
        ['r1', 1, 'AAPL', Date.UTC(2014, 9, 2), -378, 99.36, null],
      ],
    );
    const j = await readJournalTrades(file);
    expect(j.run).toEqual({ runId: 'r1', kind: 'backtest', interval: '1d', prices: 'raw', data: 'data/sample.duckdb', contracts: {} });
    expect(j.pending).toBe(0);
    expect(j.trades.map((t) => [t.symbol, t.date, t.side, t.qty, t.price, t.commission])).toEqual([
      ['AAPL', '2014-04-29', 'BUY', 54, 593.77, 1],
      ['AAPL', '2014-10-02', 'SELL', 378, 99.36, 0],
    ]);
  });

  it('asks which run when the file holds several, and names an unknown one', async () => {
    const file = await journal(
      'two-runs.duckdb',
      [
        ['a', 'backtest', { interval: '1d' }],
        ['b', 'backtest', { interval: '1m' }],
      ],
      [
        ['a', 0, 'IBM', Date.UTC(2020, 0, 2), 10, 100, 1],
        ['b', 0, 'IBM', Date.UTC(2020, 0, 2, 15), 20, 100, 1],
      ],
    );
    await expect(readJournalTrades(file)).rejects.toThrow(/holds 2 runs \(a, b\): give the one to report with --run ID/);
    await expect(readJournalTrades(file, 'c')).rejects.toThrow(/has no run 'c'; its runs: a, b/);
    // an intraday run's fills are dated in New York
    const b = await readJournalTrades(file, 'b');
    expect(b.trades.map((t) => [t.date, t.qty])).toEqual([['2020-01-02', 20]]);
  });

  it('reads a live run without a runs row (a session still going) in the exchange zone', async () => {
    const file = await journal('live.duckdb', [], [['live1', 0, 'SPY', Date.UTC(2020, 2, 3, 1), -5, 300, 1]]);
    const j = await readJournalTrades(file);
    expect(j.run).toEqual({ runId: 'live1', kind: 'live', contracts: {} });
    expect(j.trades.map((t) => [t.date, t.side, t.qty])).toEqual([['2020-03-02', 'SELL', 5]]); // 01:00 UTC = 20:00 ET the day before
  });

  it('refuses a fill that cannot be a trade, naming the file, the fill and the field', async () => {
    const file = await journal('bad.duckdb', [['r', 'backtest', { interval: '1d' }]], [['r', 7, 'IBM', Date.UTC(2020, 0, 2), 0, 100, 1]]);
    await expect(readJournalTrades(file)).rejects.toThrow(/bad\.duckdb fill seq 7 \(IBM\): qty must be a non-zero number/);
  });
});
