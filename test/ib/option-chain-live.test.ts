// An option chain discovered live (engine/ib/option-chain-live.ts) against the simulator over TCP with the real
// @stoqey/ib client, on GOOG 2015-12-23/24: the same symbols, in the same order, with the same contract terms as
// the store path (openRunData's --chain, engine/run/run-data.ts chainSymbols + contractsOf) on the same DuckDB
// file, for several selections; and errors that name the underlying and the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBars } from '../../engine/data/load.ts';
import { openStore } from '../../engine/data/store.ts';
import { IbConnection } from '../../engine/ib/connection.ts';
import { ChainDiscoveryError, discoverChain } from '../../engine/ib/option-chain-live.ts';
import { nearestStrikes } from '../../engine/options/chain.ts';
import { loadSimDerivatives } from '../../engine/ib/sim/option-data.ts';
import { IbGatewaySimulator } from '../../engine/ib/sim/simulator.ts';
import { type ChainSelection, openRunData } from '../../engine/run/run-data.ts';
import { LEAN, useGoogOptionsStore } from '../engine/goog-options.ts';
import { sharedAvailable } from '../shared-data.ts';

const available = sharedAvailable(`${LEAN}/option/goog/20151224_quote.csv`) && sharedAvailable(`${LEAN}/minute/goog`);
/** 2015-12-23 09:30 New York (EST): the session's first bar */
const OPEN = Date.UTC(2015, 11, 23, 14, 30);

const googStore = useGoogOptionsStore(available);
let sim: IbGatewaySimulator | undefined;
let conn: IbConnection | undefined;
/** the close of GOOG's first 1m bar of the run: the price the store path places the strikes around */
let firstClose = NaN;

beforeAll(async () => {
  if (!available) return;
  const store = await openStore(googStore.db, { readOnly: true });
  try {
    const series = await loadBars(store, { symbols: ['GOOG'], interval: '1m', from: OPEN });
    firstClose = series[0]!.close[0]!;
    expect(series[0]!.ts[0]).toBe(OPEN);
    const derivatives = await loadSimDerivatives(store, { interval: '1m', from: OPEN, to: OPEN + 3_600_000 });
    // XGOOG: a stock the gateway knows (GOOG's bars under another name) with no options
    const stocks = [...series, { ...series[0]!, symbol: 'XGOOG' }];
    sim = await IbGatewaySimulator.start({ series: stocks, speed: 'max', from: OPEN, derivatives, autoStart: false });
  } finally {
    store.close();
  }
  conn = new IbConnection({ host: '127.0.0.1', port: sim.port, clientId: 7, maxReqPerSec: 10_000 });
  await conn.start();
}, 60_000);

afterAll(async () => {
  conn?.stop();
  await sim?.close();
});

/** The store path's chain: openRunData's symbols after GOOG, and their contract terms. */
async function storeChain(chain: ChainSelection) {
  const data = await openRunData({
    data: googStore.db,
    symbols: ['GOOG'],
    interval: '1m',
    from: '2015-12-23',
    to: '2015-12-24',
    tz: 'America/New_York',
    chain,
  });
  try {
    const symbols = data.symbols.slice(1);
    return { symbols, contracts: Object.fromEntries(symbols.map((s) => [s, data.contracts![s]])) };
  } finally {
    data.close();
  }
}

describe.runIf(available)('option chain from a gateway = the store path (GOOG 2015-12-23/24, simulator over TCP)', () => {
  it.each<ChainSelection>([
    // the covered-call parity run's chain
    { underlying: 'GOOG', days: 1, strikes: 4, right: 'C' },
    // the flags' defaults: 30 days, 10 strikes, both rights (several expiries, each with its own strikes)
    { underlying: 'GOOG', days: 30, strikes: 10 },
    { underlying: 'GOOG', days: 8, strikes: 3, right: 'P' },
    // 40 strikes reach past 785, where the expiries' grids part (2.5 apart in January's monthly, 5 in the weeklies):
    // the N nearest of all the window's strikes, not each expiry's own N nearest
    { underlying: 'GOOG', days: 30, strikes: 40 },
  ])('same symbols, order and contract terms: %o', async (sel) => {
    const expected = await storeChain(sel);
    const live = await discoverChain(conn!.api, sel, { firstDay: '2015-12-23', spot: firstClose });
    expect(live.symbols.length).toBeGreaterThan(0);
    expect(live.symbols).toEqual(expected.symbols);
    expect(live.contracts).toEqual(expected.contracts);
    // the keys are compact OCC symbols, and the selection's own rule holds: the strikes are the N nearest the price
    for (const s of live.symbols) expect(s).toMatch(/^GOOG\d{6}[CP]\d{8}$/);
    const strikes = [...new Set(Object.values(live.contracts).map((c) => c.strike!))].sort((a, b) => a - b);
    expect(strikes).toHaveLength(sel.strikes!);
    // every strike kept is nearer the price than (or as near as) every listed strike left out of the window's
    const far = Math.max(...strikes.map((k) => Math.abs(k - firstClose)));
    expect(far).toBeLessThan(Math.abs(firstClose - 600));
    expect(live.underlyingConId).toBeGreaterThan(0);
  });

  it('nearestStrikes: by distance to the price, the lower strike first on a tie, then ascending', () => {
    // 747.5 is 0 away, 745 and 750 2.5, 740 and 755 7.5: n = 3 keeps 745, 747.5 and 750 (750 listed twice counts once)
    expect(nearestStrikes([755, 750, 745, 747.5, 740, 750], 747.5, 3)).toEqual([745, 747.5, 750]);
    // a tie at the edge: 745 and 750 are both 2.5 from 747.5; n = 1 keeps the lower
    expect(nearestStrikes([750, 745, 760], 747.5, 1)).toEqual([745]);
    // fewer strikes than asked: all of them
    expect(nearestStrikes([760, 740], 750, 10)).toEqual([740, 760]);
  });

  it('an unknown underlying fails naming it and the request (IB error 200)', async () => {
    const err = await discoverChain(conn!.api, { underlying: 'IBM' }, { firstDay: '2015-12-23', spot: 130 }).catch((e) => e);
    expect(err).toBeInstanceOf(ChainDiscoveryError);
    expect(err.message).toMatch(/--chain IBM: reqContractDetails STK IBM SMART USD: IB error 200/);
  });

  it('a stock without options fails naming it and reqSecDefOptParams', async () => {
    const err = await discoverChain(conn!.api, { underlying: 'XGOOG' }, { firstDay: '2015-12-23', spot: firstClose }).catch((e) => e);
    expect(err).toBeInstanceOf(ChainDiscoveryError);
    expect(err.message).toMatch(/^--chain XGOOG: reqSecDefOptParams XGOOG \(conId \d+\) lists no option chain on SMART: the gateway has no options of XGOOG/);
  });

  it('a window without expiries fails naming the underlying, the window and what to do', async () => {
    // GOOG's nearest expiry after 2015-12-23 is Christmas Eve: a 0-day window holds none
    const err = await discoverChain(conn!.api, { underlying: 'GOOG', days: 0 }, { firstDay: '2015-12-23', spot: firstClose }).catch((e) => e);
    expect(err).toBeInstanceOf(ChainDiscoveryError);
    expect(err.message).toMatch(/--chain GOOG: the gateway lists no options of GOOG expiring 2015-12-23 \.\. 0 days later .*widen --chain-days/);
  });

  it('a gateway that does not answer in time: an error naming the underlying and the request', async () => {
    // the simulator holds every answer for 1 s (a stalled gateway); each request waits 200 ms
    sim!.stall(1_000);
    const err = await discoverChain(conn!.api, { underlying: 'GOOG' }, { firstDay: '2015-12-23', spot: firstClose, timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(ChainDiscoveryError);
    expect(err.message).toBe(
      "--chain GOOG: reqContractDetails STK GOOG SMART USD: no answer from the gateway within 0.2 s (is it connected to IB's servers, with market data permissions for GOOG?)",
    );
    await new Promise((r) => setTimeout(r, 1_100)); // the held answers go out to listeners long gone
  });
});
