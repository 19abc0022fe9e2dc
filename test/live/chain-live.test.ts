// --chain with --gateway (issue 15): the live session's options come from the gateway (liveInstruments with
// chainGateway: reqSecDefOptParams + reqContractDetails against the simulator over TCP), and the session trades as
// the store path's does. covered-call on GOOG 2015-12-23/24 with `--chain GOOG --chain-days 1 --chain-strikes 4
// --chain-right C`, as test/live/option-parity.test.ts runs it from the store: the gateway lists the same
// options with the same terms, and the lockstep session on them has the backtest's orders, fills, trades and equity.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../engine/core/types.ts';
import type { SimDerivatives } from '../../engine/ib/sim/option-data.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { runBacktestChunked } from '../../engine/run/backtest.ts';
import { openRunData } from '../../engine/run/run-data.ts';
import { liveInstruments } from '../../scripts/lib/live-instruments.ts';
import { buildSlots } from '../../strategies/index.ts';
import { GOOG_CALLS, googDerivatives, LEAN, loadGoogRun, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';
import { liveConfig } from './goog-live.ts';
import { fillRow, liveSession, orderRow, tradeRow } from './live-harness.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
const DATES = { interval: '1m' as const, from: '2015-12-23', to: '2015-12-24', tz: 'America/New_York' };
/** 2015-12-23 09:30 New York (EST) */
const OPEN = Date.UTC(2015, 11, 23, 14, 30);

const googStore = useGoogOptionsStore(available);
let derivatives: SimDerivatives | undefined;

beforeAll(async () => {
  if (!available) return;
  // what the gateway knows: every option of the store (contract details, chains)
  derivatives = await googDerivatives(googStore.db, 2 * 86_400_000);
}, 60_000);

describe.runIf(available)('--chain from the gateway: a live session trades as the store path (covered-call, GOOG 2015-12-23/24)', () => {
  it('the gateway lists the store path’s options and terms; the lockstep session has the backtest’s orders, fills, trades and equity', async () => {
    // the store path: openRunData's --chain, and the backtest on it
    const bt = await loadGoogRun(googStore.db, DATES.to);
    const btCfg = liveConfig('covered-call', bt.symbols, bt.contracts, 100);
    const series = bt.symbols.map((s) => bt.series.find((x) => x.symbol === s)!);
    let given = false;
    const chunks = {
      async next() {
        if (given) return null;
        given = true;
        return series;
      },
    };
    const backtest = await runBacktestChunked(chunks, btCfg, buildSlots('covered-call', {}, btCfg.symbols), bt.sectors);

    // the gateway path: a gateway (the simulator over the same data, options included) lists the chain
    const gateway = await IbGatewaySimulator.start({ series, speed: 'max', from: OPEN, autoStart: false, contracts: bt.contracts, derivatives });
    let inst;
    try {
      inst = await liveInstruments({
        data: googStore.db,
        symbols: ['GOOG'],
        ...DATES,
        baseCurrency: 'USD',
        chain: GOOG_CALLS,
        gateway: true,
        chainGateway: { host: '127.0.0.1', port: gateway.port, clientId: 1 },
      });
      // reqSecDefOptParams and the contract details were asked of the gateway (message ids 78 and 9)
      expect(gateway.stats.received[78]).toBe(1);
      expect(gateway.stats.received[9]).toBeGreaterThanOrEqual(2);
    } finally {
      await gateway.close();
    }
    expect(inst.symbols).toEqual(bt.symbols);
    expect(inst.contracts).toEqual(bt.contracts);
    expect(inst.series).toBeUndefined(); // a gateway session replays nothing of its own
    expect(inst.symbols).toHaveLength(1 + 4);

    // the session on the gateway's chain
    const cfg = liveConfig('covered-call', inst.symbols, inst.contracts, 100);
    const { result } = await liveSession(series, cfg, buildSlots('covered-call', {}, cfg.symbols), { runId: 'chain-live', sim: { contracts: cfg.contracts } });
    const fills = backtest.journal.fills;
    // the covered call happened: 100 shares, a call written, settled at expiry
    expect(fills[0]).toMatchObject({ symbol: 'GOOG', qty: 100 });
    expect(fills[1]!.qty).toBe(-1);
    expect(fills.some((f) => f.reason === 'expiry')).toBe(true);
    expect(result.engine.orders.map(orderRow)).toEqual(backtest.engine.orders.map(orderRow));
    expect(result.journal.fills.map(fillRow)).toEqual(fills.map(fillRow));
    expect(result.engine.trades.map(tradeRow)).toEqual(backtest.engine.trades.map(tradeRow));
    expect(result.journal.equityCurve).toEqual(backtest.journal.equityCurve);
  }, 120_000);

  it('an underlying the gateway does not know: the session does not start, and the error names it and the request', async () => {
    // the store has no IBM bars, so its price is asked of the gateway, which knows no IBM (error 200)
    const gateway = await IbGatewaySimulator.start({ series: await goog(), speed: 'max', from: OPEN, autoStart: false, derivatives });
    try {
      const err = await liveInstruments({
        data: googStore.db,
        symbols: ['GOOG'],
        ...DATES,
        baseCurrency: 'USD',
        chain: { underlying: 'IBM' },
        gateway: true,
        chainGateway: { host: '127.0.0.1', port: gateway.port, clientId: 1 },
      }).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe('--chain IBM: reqMktData snapshot STK IBM: IB error 200: No security definition has been found for the request');
    } finally {
      await gateway.close();
    }
  }, 60_000);
});

async function goog(): Promise<BarSeries[]> {
  const d = await openRunData({ data: googStore.db, symbols: ['GOOG'], ...DATES });
  try {
    const c = await d.chunks.next();
    return c!;
  } finally {
    d.close();
  }
}
