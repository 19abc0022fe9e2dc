// The simulator driven with hand-built frames over a raw socket: exact server frames, TCP chunks
// that split frames (down to single bytes) or merge several.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../../engine/core/types.ts';
import type { Field } from '../../../engine/ib/protocol/fields.ts';
import { RawClient } from '../../../engine/ib/protocol/raw-client.ts';
import { IbGatewaySimulator } from '../../../engine/ib/sim/simulator.ts';

const T0 = Date.UTC(2013, 9, 7, 13, 30); // 2013-10-07 09:30 New York

function series(symbol: string, bars: [number, number, number, number, number][]): BarSeries {
  const col = (k: number) => Float64Array.from(bars, (b) => b[k]);
  return {
    symbol,
    interval: '1m',
    ts: Float64Array.from(bars, (_, i) => T0 + i * 60_000),
    open: col(0),
    high: col(1),
    low: col(2),
    close: col(3),
    volume: col(4),
  };
}

const SPY = series('SPY', [
  [167.0, 167.5, 166.8, 167.2, 12_000],
  [167.2, 167.3, 167.0, 167.1, 6_000],
  [167.1, 167.6, 167.1, 167.5, 9_000],
]);

const startApi = (clientId: number): Field[] => [71, 2, clientId, ''];

/** A market order built field by field: the 118 fields of a plain placeOrder at server version 193. */
function handBuiltMarketOrder(orderId: number, qty: number, orderRef: string): Field[] {
  return [
    3,
    orderId,
    0,
    'SPY',
    'STK',
    '',
    0,
    '',
    '',
    'SMART',
    '',
    'USD',
    '',
    '', // conId, symbol, secType, expiry, strike, right, multiplier, exchange, primaryExch, currency, localSymbol, tradingClass
    '',
    '', // secIdType, secId
    'BUY',
    qty,
    'MKT',
    '',
    '',
    'DAY',
    '',
    '',
    '',
    0,
    orderRef,
    1,
    0, // action .. orderRef, transmit, parentId
    0,
    0,
    '',
    0,
    0,
    0, // blockOrder, sweepToFill, displaySize, triggerMethod, outsideRth, hidden
    '',
    '',
    '',
    '', // (deprecated), discretionaryAmt, goodAfterTime, goodTillDate
    '',
    '',
    '',
    '', // faGroup, faMethod, faPercentage, modelCode
    0,
    '',
    -1, // shortSaleSlot, designatedLocation, exemptCode
    0,
    '',
    '',
    0,
    '',
    '',
    0,
    0,
    '',
    '', // ocaType, rule80A, settlingFirm, allOrNone, minQty, percentOffset, eTradeOnly, firmQuoteOnly, nbboPriceCap, auctionStrategy
    '',
    '',
    '',
    '',
    '', // startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper
    0, // overridePercentageConstraints
    '',
    '',
    '',
    '',
    0,
    '', // volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice, continuousUpdate, referencePriceType
    '',
    '', // trailStopPrice, trailingPercent
    '',
    '',
    '', // scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
    '',
    '',
    '', // scaleTable, activeStartTime, activeStopTime
    '',
    0,
    '',
    '',
    0, // hedgeType, optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    0,
    '',
    '',
    0,
    '',
    0, // deltaNeutralContract, algoStrategy, algoId, whatIf, orderMiscOptions, solicited
    0,
    0,
    0, // randomizeSize, randomizePrice, conditions count
    '',
    '',
    '',
    '',
    '',
    '',
    0, // adjustedOrderType, triggerPrice, lmtPriceOffset, adjustedStopPrice, adjustedStopLimitPrice, adjustedTrailingAmount, adjustableTrailingUnit
    '',
    '',
    '',
    '', // extOperator, softDollarTier name, value, cashQty
    '',
    '',
    '',
    '', // mifid2DecisionMaker, mifid2DecisionAlgo, mifid2ExecutionTrader, mifid2ExecutionAlgo
    0,
    0,
    0,
    0,
    '',
    '',
    0,
    '',
    '', // dontUseAutoPriceForHedge, isOmsContainer, discretionaryUpToLimitPrice, usePriceMgmtAlgo, duration, postToAts, autoCancelParent, advancedErrorOverride, manualOrderTime
    '',
    0,
    0,
    2147483647, // customerAccount, professionalCustomer, includeOvernight, manualOrderIndicator
  ];
}

describe('raw socket', () => {
  let sim: IbGatewaySimulator;
  const clients: RawClient[] = [];
  const open = async () => {
    const c = await RawClient.connect(sim.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    sim = await IbGatewaySimulator.start({ series: [SPY], speed: 'max' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim.close();
  });

  it('answers a handshake sent one byte at a time with the exact frames', async () => {
    const c = await open();
    await c.write(Buffer.concat([RawClient.handshake('v100..193'), RawClient.frame(startApi(0))]), 1);
    expect(await c.next()).toEqual(['193', '20131007 09:30:00 US/Eastern']);
    expect(await c.next()).toEqual(['15', '1', 'DU1234567']);
    expect(await c.next()).toEqual(['9', '1', '1']);
    expect(await c.next()).toEqual(['4', '2', '-1', '2104', 'Market data farm connection is OK:usfarm', '']);
    expect(await c.next()).toEqual(['4', '2', '-1', '2106', 'HMDS data farm connection is OK:ushmds', '']);
    expect(await c.next()).toEqual(['4', '2', '-1', '2158', 'Sec-def data farm connection is OK:secdefnj', '']);
    expect(sim.stats.received).toEqual({ 71: 1 });
  });

  it('reads several frames merged in one write, and frames split across odd chunks', async () => {
    const c = await open();
    c.socket.write(Buffer.concat([RawClient.handshake(), RawClient.frame(startApi(3))]));
    await c.nextMatching((f) => f[0] === '4' && f[3] === '2158');
    const burst = Buffer.concat([RawClient.frame([49, 1]), RawClient.frame([8, 1, 1]), RawClient.frame([49, 1]), RawClient.frame([17, 1])]);
    c.socket.write(burst);
    expect(await c.next()).toEqual(['49', '1', String(T0 / 1000)]);
    expect(await c.next()).toEqual(['9', '1', '1']);
    expect(await c.next()).toEqual(['49', '1', String(T0 / 1000)]);
    expect(await c.next()).toEqual(['15', '1', 'DU1234567']);
    await c.write(Buffer.concat([burst, burst]), 3);
    for (let i = 0; i < 2; i++) {
      expect((await c.next())[0]).toBe('49');
      expect(await c.next()).toEqual(['9', '1', '1']);
      expect((await c.next())[0]).toBe('49');
      expect((await c.next())[0]).toBe('15');
    }
    expect(sim.stats.parseErrors).toBe(0);
  });

  it('takes a hand-built 118-field placeOrder: openOrder, PreSubmitted, Submitted, then the fill', async () => {
    const order = handBuiltMarketOrder(1, 100, 'raw-1');
    expect(order).toHaveLength(118);
    const c = await open();
    c.socket.write(Buffer.concat([RawClient.handshake(), RawClient.frame(startApi(0))]));
    await c.nextMatching((f) => f[0] === '4' && f[3] === '2158');
    await c.write(RawClient.frame(order), 5);
    const openOrder = await c.next();
    expect(openOrder).toHaveLength(133);
    expect(openOrder.slice(0, 5)).toEqual(['5', '1', String(sim.contracts.conIds[0]), 'SPY', 'STK']);
    expect(openOrder.slice(13, 16)).toEqual(['BUY', '100', 'MKT']);
    expect(openOrder[23]).toBe('raw-1'); // orderRef
    const permId = openOrder[25];
    expect(await c.next()).toEqual(['3', '1', 'PreSubmitted', '0', '100', '0', permId, '0', '0', '0', '', '0']);
    expect(await c.next()).toEqual(['3', '1', 'Submitted', '0', '100', '0', permId, '0', '0', '0', '', '0']);
    // a lockstep client: subscribe to 5-second bars, then signal with reqCurrentTime
    c.send([50, 3, 9, 0, 'SPY', 'STK', '', 0, '', '', 'SMART', '', 'USD', '', '', 5, 'TRADES', 0, '']);
    c.send([49, 1]);
    const exec = await c.next();
    expect(exec.slice(0, 5)).toEqual(['11', '-1', '1', String(sim.contracts.conIds[0]), 'SPY']);
    expect(exec.slice(15, 22)).toEqual(['20131007 09:30:00 US/Eastern', 'DU1234567', 'SIM', 'BOT', '100', '167', permId]);
    expect(await c.next()).toEqual(['3', '1', 'Filled', '100', '0', '167', permId, '0', '167', '0', '', '0']);
    const commission = await c.next();
    expect(commission.slice(0, 5)).toEqual(['59', '1', exec[14], '1', 'USD']);
    expect((await c.next())[0]).toBe('5'); // openOrder Filled
    expect((await c.next()).slice(0, 3)).toEqual(['3', '1', 'Filled']);
    const bar = await c.next();
    expect(bar.slice(0, 5)).toEqual(['50', '3', '9', String(T0 / 1000), '167']);
    expect(await c.next()).toEqual(['49', '1', String(T0 / 1000 + 5)]);
  });

  it('answers a placeOrder that does not parse with 320, and a duplicate order id with 103', async () => {
    const c = await open();
    c.socket.write(Buffer.concat([RawClient.handshake(), RawClient.frame(startApi(0))]));
    await c.nextMatching((f) => f[0] === '4' && f[3] === '2158');
    c.send([3, 5, 'garbage']);
    const err = await c.next();
    expect(err.slice(0, 4)).toEqual(['4', '2', '5', '320']);
    expect(err[4]).toMatch(/^Error reading request\. /);
    c.send(handBuiltMarketOrder(1, 10, 'a').slice(0, 100));
    expect((await c.next()).slice(0, 4)).toEqual(['4', '2', '1', '320']);
    c.send(handBuiltMarketOrder(2, 10, 'b'));
    await c.nextMatching((f) => f[0] === '3' && f[2] === 'Submitted');
    c.send(handBuiltMarketOrder(2, 10, 'b').map((x, i) => (i === 2 ? 999 : x))); // the id of a working order, another contract
    expect((await c.next()).slice(0, 4)).toEqual(['4', '2', '2', '201']);
    c.send(handBuiltMarketOrder(1, 10, 'c')); // below the last id used
    expect(await c.next()).toEqual(['4', '2', '1', '103', 'Duplicate order id', '']);
    expect(sim.stats.parseErrors).toBe(2);
  });

  it('closes a client that offers less than version 193', async () => {
    const c = await open();
    c.socket.write(RawClient.handshake('v100..176'));
    await c.closed;
    expect(c.frames).toEqual([]);
  });

  it('refuses a second connection with a client id in use: 326, then close', async () => {
    const a = await open();
    a.socket.write(Buffer.concat([RawClient.handshake(), RawClient.frame(startApi(7))]));
    await a.nextMatching((f) => f[0] === '4' && f[3] === '2158');
    const b = await open();
    b.socket.write(Buffer.concat([RawClient.handshake(), RawClient.frame(startApi(7))]));
    expect((await b.next())[0]).toBe('193');
    expect(await b.next()).toEqual(['4', '2', '-1', '326', 'Unable to connect as the client id is already in use. Retry with a unique client id.', '']);
    await b.closed;
    a.send([49, 1]);
    expect((await a.next())[0]).toBe('49');
  });
});
