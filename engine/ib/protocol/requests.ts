// Client → server requests at server version 193 (tws-protocol.md section 3), parsed strictly:
// a request with missing, malformed or extra fields throws ParseError (the server answers 320).
import { FieldCursor, ParseError } from './fields.ts';
import { IN } from './ids.ts';
import { readContract, type ComboLegRef, type IbContract } from './contract.ts';
import { parsePlaceOrder, type PlaceOrder } from './place-order.ts';

export type ClientRequest =
  | { type: 'startApi'; clientId: number; optionalCapabilities: string }
  | { type: 'reqIds'; numIds: number }
  | { type: 'reqCurrentTime' }
  | { type: 'reqMarketDataType'; marketDataType: number }
  | { type: 'reqMktData'; reqId: number; contract: IbContract; comboLegs: ComboLegRef[]; genericTicks: string; snapshot: boolean; regulatorySnapshot: boolean }
  | { type: 'cancelMktData'; reqId: number }
  | { type: 'reqRealTimeBars'; reqId: number; contract: IbContract; barSize: number; whatToShow: string; useRTH: boolean; options: string }
  | { type: 'cancelRealTimeBars'; reqId: number }
  | {
      type: 'reqHistoricalData';
      reqId: number;
      contract: IbContract;
      includeExpired: boolean;
      endDateTime: string;
      barSize: string;
      duration: string;
      useRTH: boolean;
      whatToShow: string;
      formatDate: number;
      comboLegs: ComboLegRef[];
      keepUpToDate: boolean;
      chartOptions: string;
    }
  | { type: 'cancelHistoricalData'; reqId: number }
  | { type: 'reqContractDetails'; reqId: number; contract: IbContract; includeExpired: boolean; secIdType: string; secId: string; issuerId: string }
  | { type: 'reqSecDefOptParams'; reqId: number; underlyingSymbol: string; futFopExchange: string; underlyingSecType: string; underlyingConId: number }
  | { type: 'placeOrder'; order: PlaceOrder }
  | { type: 'cancelOrder'; orderId: number; manualOrderCancelTime: string; extOperator: string; manualOrderIndicator?: number }
  | { type: 'reqGlobalCancel'; extOperator: string; manualOrderIndicator?: number }
  | { type: 'reqOpenOrders' }
  | { type: 'reqAllOpenOrders' }
  | { type: 'reqAutoOpenOrders'; autoBind: boolean }
  | { type: 'reqManagedAccts' }
  | { type: 'reqPositions' }
  | { type: 'cancelPositions' }
  | { type: 'reqAccountSummary'; reqId: number; group: string; tags: string }
  | { type: 'cancelAccountSummary'; reqId: number }
  | { type: 'reqPnL'; reqId: number; account: string; modelCode: string }
  | { type: 'cancelPnL'; reqId: number }
  | {
      type: 'reqExecutions';
      reqId: number;
      filter: { clientId: number; account: string; time: string; symbol: string; secType: string; exchange: string; side: string };
    }
  /** a well-formed message id the simulator does not model */
  | { type: 'unsupported'; msgId: number };

const isBag = (k: IbContract) => k.secType.toUpperCase() === 'BAG';

function readLegs(c: FieldCursor, contract: IbContract): ComboLegRef[] {
  if (!isBag(contract)) return [];
  const n = c.int('comboLegsCount');
  if (n < 0 || n > c.remaining) throw new ParseError(`comboLegsCount: ${n} is not a valid count`);
  const legs: ComboLegRef[] = [];
  for (let i = 0; i < n; i++) legs.push({ conId: c.int('leg.conId'), ratio: c.int('leg.ratio'), action: c.str('leg.action'), exchange: c.str('leg.exchange') });
  return legs;
}

/** The message id of a frame's fields, or throws. */
export function messageId(fields: readonly string[]): number {
  const c = new FieldCursor(fields);
  const id = c.int('message id');
  if (fields.length === 0 || fields[0] === '') throw new ParseError('empty message');
  return id;
}

/** Parses one client message (its fields, id first). Throws ParseError when it does not parse. */
export function parseRequest(fields: readonly string[]): ClientRequest {
  const msgId = messageId(fields);
  const c = new FieldCursor(fields, 1);
  const version = (expected: number, name: string) => {
    const v = c.int(`${name} version`);
    if (v !== expected) throw new ParseError(`${name}: version ${v}, expected ${expected}`);
  };
  let req: ClientRequest;
  switch (msgId) {
    case IN.START_API:
      version(2, 'startApi');
      req = { type: 'startApi', clientId: c.int('clientId'), optionalCapabilities: c.remaining > 0 ? c.str('optionalCapabilities') : '' };
      break;
    case IN.REQ_IDS:
      version(1, 'reqIds');
      req = { type: 'reqIds', numIds: c.int('numIds') };
      break;
    case IN.REQ_CURRENT_TIME:
      version(1, 'reqCurrentTime');
      req = { type: 'reqCurrentTime' };
      break;
    case IN.REQ_MARKET_DATA_TYPE:
      version(1, 'reqMarketDataType');
      req = { type: 'reqMarketDataType', marketDataType: c.int('marketDataType') };
      break;
    case IN.REQ_MKT_DATA: {
      version(11, 'reqMktData');
      const reqId = c.int('reqId');
      const contract = readContract(c);
      const comboLegs = readLegs(c, contract);
      if (c.bool('deltaNeutralContract')) {
        c.int('dn.conId');
        c.numOrUnset('dn.delta');
        c.numOrUnset('dn.price');
      }
      const genericTicks = c.str('genericTicks');
      const snapshot = c.bool('snapshot');
      const regulatorySnapshot = c.bool('regulatorySnapshot');
      c.str('mktDataOptions');
      req = { type: 'reqMktData', reqId, contract, comboLegs, genericTicks, snapshot, regulatorySnapshot };
      break;
    }
    case IN.CANCEL_MKT_DATA:
      version(1, 'cancelMktData');
      req = { type: 'cancelMktData', reqId: c.int('reqId') };
      break;
    case IN.REQ_REAL_TIME_BARS: {
      version(3, 'reqRealTimeBars');
      const reqId = c.int('reqId');
      const contract = readContract(c);
      req = {
        type: 'reqRealTimeBars',
        reqId,
        contract,
        barSize: c.int('barSize'),
        whatToShow: c.str('whatToShow'),
        useRTH: c.bool('useRTH'),
        options: c.str('realTimeBarsOptions'),
      };
      break;
    }
    case IN.CANCEL_REAL_TIME_BARS:
      version(1, 'cancelRealTimeBars');
      req = { type: 'cancelRealTimeBars', reqId: c.int('reqId') };
      break;
    case IN.REQ_HISTORICAL_DATA: {
      const reqId = c.int('reqId');
      const contract = readContract(c);
      const includeExpired = c.bool('includeExpired');
      const endDateTime = c.str('endDateTime');
      const barSize = c.str('barSizeSetting');
      const duration = c.str('durationStr');
      const useRTH = c.bool('useRTH');
      const whatToShow = c.str('whatToShow');
      const formatDate = c.int('formatDate');
      const comboLegs = readLegs(c, contract);
      const keepUpToDate = c.bool('keepUpToDate');
      const chartOptions = c.str('chartOptions');
      req = {
        type: 'reqHistoricalData',
        reqId,
        contract,
        includeExpired,
        endDateTime,
        barSize,
        duration,
        useRTH,
        whatToShow,
        formatDate,
        comboLegs,
        keepUpToDate,
        chartOptions,
      };
      break;
    }
    case IN.CANCEL_HISTORICAL_DATA:
      version(1, 'cancelHistoricalData');
      req = { type: 'cancelHistoricalData', reqId: c.int('reqId') };
      break;
    case IN.REQ_CONTRACT_DATA: {
      version(8, 'reqContractDetails');
      const reqId = c.int('reqId');
      const contract = readContract(c);
      req = {
        type: 'reqContractDetails',
        reqId,
        contract,
        includeExpired: c.bool('includeExpired'),
        secIdType: c.str('secIdType'),
        secId: c.str('secId'),
        issuerId: c.str('issuerId'),
      };
      break;
    }
    case IN.REQ_SEC_DEF_OPT_PARAMS:
      // no version field
      req = {
        type: 'reqSecDefOptParams',
        reqId: c.int('reqId'),
        underlyingSymbol: c.str('underlyingSymbol'),
        futFopExchange: c.str('futFopExchange'),
        underlyingSecType: c.str('underlyingSecType'),
        underlyingConId: c.int('underlyingConId'),
      };
      break;
    case IN.PLACE_ORDER:
      return { type: 'placeOrder', order: parsePlaceOrder(fields) };
    case IN.CANCEL_ORDER:
      req = {
        type: 'cancelOrder',
        orderId: c.int('orderId'),
        manualOrderCancelTime: c.str('manualOrderCancelTime'),
        extOperator: c.str('extOperator'),
        manualOrderIndicator: c.intOrUnset('manualOrderIndicator'),
      };
      break;
    case IN.REQ_GLOBAL_CANCEL:
      req = { type: 'reqGlobalCancel', extOperator: c.str('extOperator'), manualOrderIndicator: c.intOrUnset('manualOrderIndicator') };
      break;
    case IN.REQ_OPEN_ORDERS:
      version(1, 'reqOpenOrders');
      req = { type: 'reqOpenOrders' };
      break;
    case IN.REQ_ALL_OPEN_ORDERS:
      version(1, 'reqAllOpenOrders');
      req = { type: 'reqAllOpenOrders' };
      break;
    case IN.REQ_AUTO_OPEN_ORDERS:
      version(1, 'reqAutoOpenOrders');
      req = { type: 'reqAutoOpenOrders', autoBind: c.bool('autoBind') };
      break;
    case IN.REQ_MANAGED_ACCTS:
      version(1, 'reqManagedAccts');
      req = { type: 'reqManagedAccts' };
      break;
    case IN.REQ_POSITIONS:
      version(1, 'reqPositions');
      req = { type: 'reqPositions' };
      break;
    case IN.CANCEL_POSITIONS:
      version(1, 'cancelPositions');
      req = { type: 'cancelPositions' };
      break;
    case IN.REQ_ACCOUNT_SUMMARY:
      version(1, 'reqAccountSummary');
      req = { type: 'reqAccountSummary', reqId: c.int('reqId'), group: c.str('group'), tags: c.str('tags') };
      break;
    case IN.CANCEL_ACCOUNT_SUMMARY:
      version(1, 'cancelAccountSummary');
      req = { type: 'cancelAccountSummary', reqId: c.int('reqId') };
      break;
    case IN.REQ_PNL:
      req = { type: 'reqPnL', reqId: c.int('reqId'), account: c.str('account'), modelCode: c.str('modelCode') };
      break;
    case IN.CANCEL_PNL:
      req = { type: 'cancelPnL', reqId: c.int('reqId') };
      break;
    case IN.REQ_EXECUTIONS: {
      version(3, 'reqExecutions');
      const reqId = c.int('reqId');
      const filter = {
        clientId: c.int('filter.clientId'),
        account: c.str('filter.acctCode'),
        time: c.str('filter.time'),
        symbol: c.str('filter.symbol'),
        secType: c.str('filter.secType'),
        exchange: c.str('filter.exchange'),
        side: c.str('filter.side'),
      };
      req = { type: 'reqExecutions', reqId, filter };
      break;
    }
    default:
      return { type: 'unsupported', msgId };
  }
  c.end(req.type);
  return req;
}
