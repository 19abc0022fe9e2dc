// What the live tests share: comparable rows of orders, fills and trades, and a session of the live
// runner against the simulator, in lockstep or in real time at N x speed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventName } from '@stoqey/ib';
import { afterAll, beforeAll } from 'vitest';
import type { SlotSpec } from '../../engine/core/strategy.ts';
import type { BarSeries, Fill, Order, Trade } from '../../engine/core/types.ts';
import { IbGatewaySimulator, type SimulatorOptions } from '../../engine/ib/sim/simulator.ts';
import { LiveJournal } from '../../engine/journal/live-journal.ts';
import { LiveRunner, type LiveOptions } from '../../engine/live/runner.ts';
import { RESEARCH_RISK } from '../../engine/risk/limits.ts';
import type { BacktestConfig } from '../../engine/run/backtest.ts';
import { config } from '../engine/harness.ts';

export const orderRow = (o: Order) => [o.submittedAt, o.symbol, o.side, o.qty.kind === 'shares' ? o.qty.shares : 'all-in', o.type, o.status];
export const fillRow = (f: Fill) => [f.ts, f.symbol, f.qty, f.price, f.commission];
export const tradeRow = (t: Trade) => [t.symbol, t.entryTime, t.exitTime, t.entryPrice, t.exitPrice, t.quantity, t.pnl, t.commission];

export interface SessionOptions {
  /** 'lockstep' (default) or N x real time */
  speed?: 'lockstep' | number;
  /** a journal kept open by the caller (restarts, journal checks); otherwise one in memory, closed at the end */
  journal?: LiveJournal;
  runId?: string;
  sim?: Partial<SimulatorOptions>;
  runner?: Partial<LiveOptions>;
  /** called once the runner is built, before it starts (listeners that must hear the whole session) */
  created?: (sim: IbGatewaySimulator, runner: LiveRunner) => void;
  /** called once the runner has started (inject faults, press buttons) */
  during?: (sim: IbGatewaySimulator, runner: LiveRunner) => void | Promise<void>;
}

/** 2013-10-07 09:30 New York: where the synthetic minute sessions of the live tests start. */
export const SESSION_OPEN = Date.parse('2013-10-07T09:30:00-04:00');

/** S00, S01, ... */
export const numberedSymbols = (n: number): string[] => Array.from({ length: n }, (_, k) => `S${String(k).padStart(2, '0')}`);

/**
 * Minute bars of `symbols` from SESSION_OPEN: the close of bar i of symbol k is `px(i, k)` (by default a
 * deterministic zig-zag around 50 + k), open at the close, high and low 0.05 around it, `volume` each.
 */
export function zigzagMinutes(
  symbols: readonly string[],
  count: number,
  px: (i: number, k: number) => number = (i, k) => 50 + k + ((i * 7 + k) % 5) * 0.1,
  volume = 1_000,
): BarSeries[] {
  return symbols.map((symbol, k) => {
    const col = (f: (i: number) => number) => Float64Array.from({ length: count }, (_, i) => f(i));
    return {
      symbol,
      interval: '1m' as const,
      ts: col((i) => SESSION_OPEN + i * 60_000),
      open: col((i) => px(i, k)),
      high: col((i) => px(i, k) + 0.05),
      low: col((i) => px(i, k) - 0.05),
      close: col((i) => px(i, k)),
      volume: col(() => volume),
    };
  });
}

/** The config of a session over `series` of minute bars: 10 shares an order, IBKR fixed commission, research risk, 1M cash. */
export const minuteConfig = (series: readonly BarSeries[], over: Partial<BacktestConfig> = {}): BacktestConfig =>
  config({
    strategy: 'scripted',
    symbols: series.map((s) => s.symbol),
    interval: '1m',
    sizing: { kind: 'fixed', quantity: 10 },
    commission: { model: 'ibkr-fixed' },
    risk: RESEARCH_RISK,
    cash: 1_000_000,
    ...over,
  });

/** Polls `cond` every few ms until it holds (or fails after `ms`, naming `what`). */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A live session over `series`: the runner against a simulator replaying it, until the replay ends.
 * Fails on any message the client could not decode.
 */
export async function liveSession(series: BarSeries[], cfg: BacktestConfig, slots: SlotSpec[], o: SessionOptions = {}) {
  const speed = o.speed ?? 'lockstep';
  const lockstep = speed === 'lockstep';
  // in real time the market starts once the runner has subscribed every symbol, so it sees the first bar of each
  const sim = await IbGatewaySimulator.start({
    series,
    speed: lockstep ? 'max' : speed,
    commission: { model: 'ibkr-fixed' },
    cash: cfg.cash,
    autoStart: lockstep,
    ...o.sim,
  });
  const journal = o.journal ?? (await LiveJournal.open(':memory:'));
  const runner = new LiveRunner(cfg, slots, {
    host: '127.0.0.1',
    port: sim.port,
    clientId: 1,
    account: 'DU1234567',
    lockstep,
    journal,
    runId: o.runId ?? 'live-test',
    maxReqPerSec: lockstep ? 1_000_000 : 40,
    statusEveryMs: 0,
    ...o.runner,
  });
  o.created?.(sim, runner);
  const decodeErrors: string[] = [];
  runner.conn.api.on(EventName.error, (err: Error, code: number) => {
    if (code === 505) decodeErrors.push(err.message);
  });
  try {
    await runner.start();
    if (!lockstep) {
      await until(() => sim.realTimeBarSubscriptions >= series.length, 30_000, 'every symbol to be subscribed');
      sim.begin();
    }
    await o.during?.(sim, runner);
    await Promise.race([sim.finished, runner.fatal]);
    // in real time the replay ends as its last batch goes out: let the runner hear it before stopping
    if (!lockstep) await until(() => runner.gatewayTime >= sim.now() || !runner.conn.ready, 10_000, 'the runner to receive the last batch');
    const result = await runner.stop();
    if (decodeErrors.length > 0) throw new Error(`the client could not decode: ${decodeErrors.join('; ')}`);
    return { result, runner, sim, logs: runner.journal.logs };
  } finally {
    await sim.close();
    if (!o.journal) await journal.close();
  }
}

/** The old name, for the lockstep parity tests. */
export async function liveRun(
  series: BarSeries[],
  cfg: BacktestConfig,
  slots: SlotSpec[],
  o: { journal?: LiveJournal; runId?: string; signals?: LiveOptions['signals'] } = {},
) {
  return liveSession(series, cfg, slots, { journal: o.journal, runId: o.runId, runner: { signals: o.signals } });
}

/** A temp folder for the file's journals: made in a beforeAll (when `available`), deleted in an afterAll. */
export function useTempDir(prefix: string, available = true): { readonly dir: string } {
  const temp = { dir: '' };
  beforeAll(() => {
    if (available) temp.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (temp.dir) rmSync(temp.dir, { recursive: true, force: true });
  });
  return temp;
}
