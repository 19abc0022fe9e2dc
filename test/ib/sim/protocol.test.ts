// The protocol codec against @stoqey/ib's own encoder (what a client sends) and decoder (the judge
// of what the server sends), without sockets.
import { ConjunctionConnection, OrderAction, OrderType, PriceCondition, SecType, TriggerMethod, type Contract, type Order } from '@stoqey/ib';
import { Decoder } from '@stoqey/ib/dist/core/io/decoder.js';
import { Encoder } from '@stoqey/ib/dist/core/io/encoder.js';
import { describe, expect, it } from 'vitest';
import { formatField, type Field } from '../../../engine/ib/protocol/fields.ts';
import { encodeFrame, encodeHandshake, FrameError, FrameReader, parseVersionRange, splitFields, API_PREFIX } from '../../../engine/ib/protocol/framing.ts';
import * as msg from '../../../engine/ib/protocol/messages.ts';
import { parsePlaceOrder } from '../../../engine/ib/protocol/place-order.ts';
import { parseRequest } from '../../../engine/ib/protocol/requests.ts';
import { ParseError } from '../../../engine/ib/protocol/fields.ts';

/** The fields @stoqey/ib puts on the wire for one encoder call (flattened, booleans 1/0, unset ''). */
function clientFields(call: (e: Encoder) => void): string[] {
  let sent: unknown[] | undefined;
  const errors: string[] = [];
  const enc = new Encoder({ serverVersion: 193, sendMsg: (tokens: unknown[]) => (sent = tokens), emitError: (m: string) => errors.push(m) } as never);
  call(enc);
  if (errors.length) throw new Error(errors.join('; '));
  const flat: unknown[] = [];
  const walk = (xs: unknown[]) => xs.forEach((x) => (Array.isArray(x) ? walk(x) : flat.push(x)));
  walk(sent!);
  return flat.map((x) => (x === true ? '1' : x === false ? '0' : x === undefined || x === null ? '' : String(x)));
}

/** Runs one server message through @stoqey/ib's decoder at server version 193. */
function decode(fields: Field[]): { events: { name: string; args: unknown[] }[]; errors: string[] } {
  const events: { name: string; args: unknown[] }[] = [];
  const errors: string[] = [];
  const d = new Decoder({
    serverVersion: 193,
    emitEvent: (name: string, ...args: unknown[]) => events.push({ name, args }),
    emitError: (m: string, code: number) => errors.push(`${code} ${m}`),
    emitInfo: (m: string, code: number) => events.push({ name: 'info', args: [m, code] }),
  } as never);
  d.enqueueMessage(fields.map(formatField));
  d.process();
  return { events, errors };
}

const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };

describe('framing', () => {
  const frames = [encodeFrame([49, 1]), encodeFrame([3, 'é', true, undefined, 1.5]), encodeFrame([])];
  const all = Buffer.concat(frames);

  it('reassembles frames split into 1-byte chunks and merged several per chunk', () => {
    for (const chunk of [1, 2, 3, 7, all.length]) {
      const r = new FrameReader();
      const out: string[][] = [];
      for (let i = 0; i < all.length; i += chunk) for (const p of r.push(all.subarray(i, i + chunk))) out.push(splitFields(p));
      expect(out).toEqual([['49', '1'], ['3', 'é', '1', '', '1.5'], []]);
      expect(r.pending).toBe(0);
    }
  });

  it('terminates every field with NUL, the last one too', () => {
    expect(encodeFrame([15, 1, 'DU1'])).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from('15\u00001\u0000DU1\u0000')]));
  });

  it('expects API\\0 before the first frame on the server side, and refuses oversized frames', () => {
    const r = new FrameReader(API_PREFIX);
    const hs = encodeHandshake('v100..193');
    expect(hs.subarray(0, 8)).toEqual(Buffer.from([65, 80, 73, 0, 0, 0, 0, 9]));
    const got = [...hs].flatMap((b) => r.push(Buffer.from([b])));
    expect(got.map((p) => p.toString())).toEqual(['v100..193']);
    expect(() => new FrameReader(API_PREFIX).push(Buffer.from('GET / HTTP/1.1'))).toThrow(FrameError);
    expect(() => new FrameReader().push(Buffer.from([0x01, 0, 0, 0]))).toThrow(FrameError);
  });

  it('reads the version range up to the first space', () => {
    expect(parseVersionRange('v100..193')).toEqual({ min: 100, max: 193 });
    expect(parseVersionRange('v193 +PACEAPI')).toEqual({ min: 193, max: 193 });
    expect(parseVersionRange('v100..176')).toEqual({ min: 100, max: 176 });
    expect(parseVersionRange('hello')).toBeNull();
  });
});

describe('placeOrder from @stoqey/ib', () => {
  const place = (order: Order, contract: Contract = SPY) => clientFields((e) => e.placeOrder(7, contract, order));

  it('a plain order is 118 fields and parses field for field', () => {
    const f = place({
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      totalQuantity: 100,
      lmtPrice: 167.25,
      tif: 'GTC',
      orderRef: 'sma-cross#1',
      transmit: true,
    });
    expect(f).toHaveLength(118);
    const p = parsePlaceOrder(f);
    expect(p.orderId).toBe(7);
    expect(p.contract.symbol).toBe('SPY');
    expect(p.order).toMatchObject({
      action: 'BUY',
      totalQuantity: 100,
      orderType: 'LMT',
      lmtPrice: 167.25,
      auxPrice: undefined,
      tif: 'GTC',
      orderRef: 'sma-cross#1',
      transmit: true,
      parentId: 0,
    });
    expect(p.order.raw.orderMiscOptions).toBe('');
  });

  it('reads an omitted transmit as true and keeps bracket links', () => {
    const f = place({ action: OrderAction.SELL, orderType: OrderType.STP, totalQuantity: 100, auxPrice: 160, parentId: 6, transmit: false });
    expect(parsePlaceOrder(f).order).toMatchObject({ orderType: 'STP', auxPrice: 160, parentId: 6, transmit: false });
    expect(parsePlaceOrder(place({ action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1 })).order.transmit).toBe(true);
  });

  it('walks every conditional part of the layout', () => {
    const cases: [string, Order, Contract?][] = [
      ['trailing percent', { action: OrderAction.SELL, orderType: OrderType.TRAIL, totalQuantity: 10, trailingPercent: 2, trailStopPrice: 150 }],
      [
        'algo with params',
        {
          action: OrderAction.BUY,
          orderType: OrderType.LMT,
          totalQuantity: 10,
          lmtPrice: 1,
          algoStrategy: 'Adaptive',
          algoParams: [{ tag: 'adaptivePriority', value: 'Normal' }],
        },
      ],
      [
        'delta neutral',
        { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 10, lmtPrice: 1, deltaNeutralOrderType: 'LMT', deltaNeutralAuxPrice: 1 },
      ],
      [
        'scale',
        {
          action: OrderAction.BUY,
          orderType: OrderType.LMT,
          totalQuantity: 10,
          lmtPrice: 1,
          scaleInitLevelSize: 5,
          scaleSubsLevelSize: 5,
          scalePriceIncrement: 0.1,
        },
      ],
      ['hedge', { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 10, lmtPrice: 1, hedgeType: 'D', hedgeParam: '0.5' }],
      [
        'conditions',
        {
          action: OrderAction.BUY,
          orderType: OrderType.LMT,
          totalQuantity: 10,
          lmtPrice: 1,
          conditions: [new PriceCondition(170, TriggerMethod.Default, 756733, 'SMART', true, ConjunctionConnection.AND)],
          conditionsIgnoreRth: true,
        },
      ],
      [
        'PEG BENCH',
        {
          action: OrderAction.BUY,
          orderType: OrderType.PEG_BENCH,
          totalQuantity: 10,
          referenceContractId: 1,
          peggedChangeAmount: 1,
          referenceChangeAmount: 1,
          referenceExchangeId: 'SMART',
        },
      ],
      [
        'PEG BEST up to mid',
        {
          action: OrderAction.BUY,
          orderType: OrderType.PEG_BEST,
          totalQuantity: 10,
          minCompeteSize: 1,
          competeAgainstBestOffset: Infinity,
          midOffsetAtWhole: 0.01,
          midOffsetAtHalf: 0.005,
        },
      ],
      ['PEG MID', { action: OrderAction.BUY, orderType: OrderType.PEG_MID, totalQuantity: 10, midOffsetAtWhole: 0.01, midOffsetAtHalf: 0.005 }],
      ['IBKRATS', { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 10, lmtPrice: 1, minTradeQty: 5 }, { ...SPY, exchange: 'IBKRATS' }],
      ['orderMiscOptions []', { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1, orderMiscOptions: [] }],
      [
        'orderMiscOptions x2',
        {
          action: OrderAction.BUY,
          orderType: OrderType.MKT,
          totalQuantity: 1,
          orderMiscOptions: [
            { tag: 'a', value: '1' },
            { tag: 'b', value: '2' },
          ],
        },
      ],
      [
        'combo',
        {
          action: OrderAction.BUY,
          orderType: OrderType.LMT,
          totalQuantity: 1,
          lmtPrice: 1,
          orderComboLegs: [{ price: 1 }],
          smartComboRoutingParams: [{ tag: 'NonGuaranteed', value: '1' }],
        },
        {
          symbol: 'SPY',
          secType: SecType.BAG,
          exchange: 'SMART',
          currency: 'USD',
          comboLegs: [
            { conId: 1, ratio: 1, action: OrderAction.BUY, exchange: 'SMART' },
            { conId: 2, ratio: 1, action: OrderAction.SELL, exchange: 'SMART' },
          ],
        },
      ],
    ];
    for (const [name, order, contract] of cases) {
      const f = place(order, contract);
      let p;
      try {
        p = parsePlaceOrder(f);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
      expect(p.orderId, name).toBe(7);
      expect(p.order.totalQuantity, name).toBe(order.totalQuantity);
    }
  });

  it('refuses what does not parse: too short, too long, malformed fields', () => {
    const f = place({ action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1 });
    expect(() => parsePlaceOrder(f.slice(0, 60))).toThrow(ParseError);
    expect(() => parsePlaceOrder([...f, 'x', 'y', 'z', 'w', 'v', 'u', 't', 's', 'r', 'q'])).toThrow(ParseError);
    expect(() => parsePlaceOrder(f.map((x, i) => (i === 1 ? 'seven' : x)))).toThrow(/orderId/);
    expect(() => parsePlaceOrder(f.map((x, i) => (i === 17 ? '1O0' : x)))).toThrow(/totalQuantity/);
    expect(() => parseRequest(['3', 'garbage'])).toThrow(ParseError);
  });
});

describe('requests from @stoqey/ib', () => {
  it('parses every modelled request', () => {
    const r = (call: (e: Encoder) => void) => parseRequest(clientFields(call));
    expect(r((e) => e.reqIds(1))).toEqual({ type: 'reqIds', numIds: 1 });
    expect(r((e) => e.reqCurrentTime())).toEqual({ type: 'reqCurrentTime' });
    expect(r((e) => e.reqMarketDataType(3))).toEqual({ type: 'reqMarketDataType', marketDataType: 3 });
    expect(r((e) => e.reqMktData(4, SPY, '', false, false))).toMatchObject({ type: 'reqMktData', reqId: 4, contract: { symbol: 'SPY' }, snapshot: false });
    expect(r((e) => e.cancelMktData(4))).toEqual({ type: 'cancelMktData', reqId: 4 });
    expect(r((e) => e.reqRealTimeBars(5, SPY, 5, 'TRADES' as never, true, []))).toMatchObject({
      type: 'reqRealTimeBars',
      reqId: 5,
      barSize: 5,
      whatToShow: 'TRADES',
      useRTH: true,
    });
    expect(r((e) => e.cancelRealTimeBars(5))).toEqual({ type: 'cancelRealTimeBars', reqId: 5 });
    expect(r((e) => e.reqHistoricalData(6, SPY, '20131008 16:00:00 US/Eastern', '2 D', '5 mins' as never, 'TRADES' as never, 1, 1, false, []))).toMatchObject({
      type: 'reqHistoricalData',
      reqId: 6,
      endDateTime: '20131008 16:00:00 US/Eastern',
      duration: '2 D',
      barSize: '5 mins',
      useRTH: true,
      formatDate: 1,
      keepUpToDate: false,
    });
    expect(r((e) => e.cancelHistoricalData(6))).toEqual({ type: 'cancelHistoricalData', reqId: 6 });
    expect(r((e) => e.reqContractDetails(8, SPY))).toMatchObject({ type: 'reqContractDetails', reqId: 8, contract: { symbol: 'SPY', secType: 'STK' } });
    expect(r((e) => e.cancelOrder(9, { manualOrderCancelTime: '', extOperator: '', manualOrderIndicator: undefined } as never))).toMatchObject({
      type: 'cancelOrder',
      orderId: 9,
    });
    expect(r((e) => e.reqGlobalCancel({ manualOrderCancelTime: '', extOperator: '', manualOrderIndicator: undefined } as never))).toMatchObject({
      type: 'reqGlobalCancel',
    });
    expect(r((e) => e.reqOpenOrders())).toEqual({ type: 'reqOpenOrders' });
    expect(r((e) => e.reqAllOpenOrders())).toEqual({ type: 'reqAllOpenOrders' });
    expect(r((e) => e.reqAutoOpenOrders(true))).toEqual({ type: 'reqAutoOpenOrders', autoBind: true });
    expect(r((e) => e.reqPositions())).toEqual({ type: 'reqPositions' });
    expect(r((e) => e.cancelPositions())).toEqual({ type: 'cancelPositions' });
    expect(r((e) => e.reqAccountSummary(10, 'All', 'NetLiquidation,BuyingPower'))).toEqual({
      type: 'reqAccountSummary',
      reqId: 10,
      group: 'All',
      tags: 'NetLiquidation,BuyingPower',
    });
    expect(r((e) => e.cancelAccountSummary(10))).toEqual({ type: 'cancelAccountSummary', reqId: 10 });
    expect(r((e) => e.reqPnL(11, 'DU1234567', ''))).toEqual({ type: 'reqPnL', reqId: 11, account: 'DU1234567', modelCode: '' });
    expect(r((e) => e.cancelPnL(11))).toEqual({ type: 'cancelPnL', reqId: 11 });
    expect(r((e) => e.reqExecutions(12, { clientId: 1, symbol: 'SPY' } as never))).toMatchObject({
      type: 'reqExecutions',
      reqId: 12,
      filter: { clientId: 1, symbol: 'SPY' },
    });
    expect(r((e) => e.reqManagedAccts())).toEqual({ type: 'reqManagedAccts' });
    expect(parseRequest(['71', '2', '3', ''])).toEqual({ type: 'startApi', clientId: 3, optionalCapabilities: '' });
    expect(r((e) => e.reqNewsBulletins(true))).toEqual({ type: 'unsupported', msgId: 12 });
  });
});

describe('server messages through @stoqey/ib decoder', () => {
  const k: msg.ContractOut = {
    conId: 756733,
    symbol: 'SPY',
    secType: 'STK',
    exchange: 'SMART',
    primaryExch: 'ARCA',
    currency: 'USD',
    localSymbol: 'SPY',
    tradingClass: 'SPY',
  };
  const order: msg.OpenOrderOut = {
    orderId: 7,
    contract: k,
    action: 'BUY',
    totalQuantity: 100,
    orderType: 'LMT',
    lmtPrice: 167.25,
    auxPrice: undefined,
    tif: 'DAY',
    ocaGroup: '',
    account: 'DU1234567',
    openClose: '',
    origin: 0,
    orderRef: 'ref',
    clientId: 1,
    permId: 1000001,
    outsideRth: false,
    hidden: false,
    goodAfterTime: '',
    goodTillDate: '',
    ocaType: 0,
    parentId: 0,
    trailStopPrice: undefined,
    trailingPercent: undefined,
    status: 'Submitted',
  };
  const exec: msg.ExecutionOut = {
    orderId: 7,
    execId: '0001.0002.01.01',
    time: '20131007 09:31:00 US/Eastern',
    account: 'DU1234567',
    exchange: 'SIM',
    side: 'BOT',
    shares: 100,
    price: 167.25,
    permId: 1000001,
    clientId: 1,
    cumQty: 100,
    avgPrice: 167.25,
    orderRef: 'ref',
    lastLiquidity: 1,
  };
  const cases: [string, Field[], string][] = [
    ['managedAccounts', msg.managedAccounts('DU1234567'), 'managedAccounts'],
    ['nextValidId', msg.nextValidId(5), 'nextValidId'],
    ['currentTime', msg.currentTime(1381152600), 'currentTime'],
    ['error', msg.error(7, 201, 'Order rejected - reason:x'), 'error'],
    ['tickPrice', msg.tickPrice(3, 4, 167.25, 300), 'tickPrice'],
    ['tickSize', msg.tickSize(3, 8, 12345), 'tickSize'],
    ['tickString', msg.tickString(3, 45, '1381152600'), 'tickString'],
    ['tickGeneric', msg.tickGeneric(3, 49, 0), 'tickGeneric'],
    ['tickReqParams', msg.tickReqParams(3, 0.01, '9c0001', 3), 'tickReqParams'],
    ['tickSnapshotEnd', msg.tickSnapshotEnd(3), 'tickSnapshotEnd'],
    ['marketDataType', msg.marketDataType(3, 3), 'marketDataType'],
    ['realtimeBar', msg.realtimeBar(2, 1381152600, { open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, wap: 1.3, count: -1 }), 'realtimeBar'],
    [
      'historicalData',
      msg.historicalData(4, '20131007 09:30:00', '20131007 16:00:00', [
        { date: '20131007 09:30:00 US/Eastern', open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, wap: 1.2, count: -1 },
      ]),
      'historicalData',
    ],
    [
      'historicalDataUpdate',
      msg.historicalDataUpdate(4, -1, { date: '20131007 09:30:00 US/Eastern', open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, wap: 1.2, count: -1 }),
      'historicalDataUpdate',
    ],
    [
      'contractDetails',
      msg.contractDetails(8, {
        contract: k,
        marketName: 'SPY',
        minTick: 0.01,
        orderTypes: 'LMT,MKT',
        validExchanges: 'SMART',
        longName: 'SPDR',
        timeZoneId: 'US/Eastern',
        tradingHours: '',
        liquidHours: '',
        stockType: 'ETF',
        marketRuleIds: '26',
      }),
      'contractDetails',
    ],
    ['contractDetailsEnd', msg.contractDetailsEnd(8), 'contractDetailsEnd'],
    [
      'orderStatus',
      msg.orderStatus({
        orderId: 7,
        status: 'Filled',
        filled: 100,
        remaining: 0,
        avgFillPrice: 167.25,
        permId: 1000001,
        parentId: 0,
        lastFillPrice: 167.25,
        clientId: 1,
        whyHeld: '',
      }),
      'orderStatus',
    ],
    ['openOrder', msg.openOrder(order), 'openOrder'],
    ['openOrderEnd', msg.openOrderEnd(), 'openOrderEnd'],
    ['execDetails', msg.execDetails(-1, k, exec), 'execDetails'],
    ['execDetailsEnd', msg.execDetailsEnd(12), 'execDetailsEnd'],
    ['commissionReport', msg.commissionReport('0001.0002.01.01', 1, 'USD'), 'commissionReport'],
    ['position', msg.position('DU1234567', k, 100, 167.26), 'position'],
    ['positionEnd', msg.positionEnd(), 'positionEnd'],
    ['accountSummary', msg.accountSummary(10, 'DU1234567', 'NetLiquidation', '100000.00', 'USD'), 'accountSummary'],
    ['accountSummaryEnd', msg.accountSummaryEnd(10), 'accountSummaryEnd'],
    ['pnl', msg.pnl(11, 10, 5, 5), 'pnl'],
  ];
  for (const [name, fields, event] of cases) {
    it(`${name} decodes with nothing left over`, () => {
      const { events, errors } = decode(fields);
      expect(errors).toEqual(name === 'error' ? ['201 Order rejected - reason:x'] : []);
      if (name !== 'error') expect(events.map((e) => e.name)).toContain(event);
    });
  }

  it('openOrder is 133 fields and echoes the order', () => {
    expect(msg.openOrder(order)).toHaveLength(133);
    const { events } = decode(msg.openOrder(order));
    const [orderId, contract, o, state] = events[0].args as [number, Contract, Order, { status: string }];
    expect(orderId).toBe(7);
    expect(contract).toMatchObject({ conId: 756733, symbol: 'SPY', secType: 'STK' });
    expect(o).toMatchObject({ action: 'BUY', totalQuantity: 100, orderType: 'LMT', lmtPrice: 167.25, orderRef: 'ref', permId: 1000001, clientId: 1 });
    expect(state.status).toBe('Submitted');
  });

  it('execDetails and commissionReport carry what a client reconciles with', () => {
    const [reqId, , e] = decode(msg.execDetails(-1, k, exec)).events[0].args as [number, Contract, Record<string, unknown>];
    expect(reqId).toBe(-1);
    expect(e).toMatchObject({ orderId: 7, execId: '0001.0002.01.01', side: 'BOT', shares: 100, price: 167.25, cumQty: 100, avgPrice: 167.25, orderRef: 'ref' });
    const [report] = decode(msg.commissionReport('x', 1.25, 'USD')).events[0].args as [Record<string, unknown>];
    expect(report).toMatchObject({ execId: 'x', commission: 1.25, currency: 'USD', realizedPNL: undefined });
  });
});
