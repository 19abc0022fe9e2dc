// Server → client messages at server version 193, field for field as @stoqey/ib's decoder reads them
// (tws-protocol.md section 4). Each builder returns the fields of one frame; encodeFrame sends it.
// Unset values are sent as "" (the decoders read "" as 0 or undefined, as noted per field).
import type { Field } from './fields.ts';
import { OUT, SERVER_VERSION, UNSET_DOUBLE } from './ids.ts';

export type Fields = Field[];

/** The contract as the server describes it (stocks: no expiry, strike, right or multiplier). */
export interface ContractOut {
  conId: number;
  symbol: string;
  secType: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

/** lastTradeDateOrContractMonth, strike, right, multiplier of a contract: empty for a stock or a pair. */
function derivativeFields(k: ContractOut | DerivativeContractOut): [string, number, string, string] {
  if (!('lastTradeDateOrContractMonth' in k)) return ['', 0, '', ''];
  return [k.lastTradeDateOrContractMonth, k.strike, k.right, k.multiplier];
}

export const serverVersion = (connectionTime: string): Fields => [SERVER_VERSION, connectionTime];
export const managedAccounts = (accounts: string): Fields => [OUT.MANAGED_ACCTS, 1, accounts];
export const nextValidId = (orderId: number): Fields => [OUT.NEXT_VALID_ID, 1, orderId];
export const currentTime = (epochSec: number): Fields => [OUT.CURRENT_TIME, 1, epochSec];

/** With id -1 the client emits `info` (notices such as 1100, 2104), otherwise `error`. */
export const error = (id: number, code: number, message: string, advancedOrderRejectJson = ''): Fields => [
  OUT.ERR_MSG,
  2,
  id,
  code,
  message,
  advancedOrderRejectJson,
];

export const tickPrice = (reqId: number, tickType: number, price: number, size: number, attrMask = 0): Fields => [
  OUT.TICK_PRICE,
  6,
  reqId,
  tickType,
  price,
  size,
  attrMask,
];
export const tickSize = (reqId: number, tickType: number, size: number): Fields => [OUT.TICK_SIZE, 6, reqId, tickType, size];
export const tickString = (reqId: number, tickType: number, value: string): Fields => [OUT.TICK_STRING, 6, reqId, tickType, value];
export const tickGeneric = (reqId: number, tickType: number, value: number): Fields => [OUT.TICK_GENERIC, 6, reqId, tickType, value];
/** the client reads minTick as an integer (a known client bug): it sees 0 for 0.01 */
export const tickReqParams = (reqId: number, minTick: number, bboExchange: string, snapshotPermissions: number): Fields => [
  OUT.TICK_REQ_PARAMS,
  reqId,
  minTick,
  bboExchange,
  snapshotPermissions,
];
export const tickSnapshotEnd = (reqId: number): Fields => [OUT.TICK_SNAPSHOT_END, 1, reqId];
export const marketDataType = (reqId: number, type: number): Fields => [OUT.MARKET_DATA_TYPE, 1, reqId, type];

export interface BarOut {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

export const realtimeBar = (reqId: number, barStartEpochSec: number, b: BarOut): Fields => [
  OUT.REAL_TIME_BARS,
  3,
  reqId,
  barStartEpochSec,
  b.open,
  b.high,
  b.low,
  b.close,
  b.volume,
  b.wap,
  b.count,
];

export interface HistoricalBarOut extends BarOut {
  date: string;
}

/** The client emits one event per bar, then one whose date is `finished-<start>-<end>`. */
export function historicalData(reqId: number, start: string, end: string, bars: readonly HistoricalBarOut[]): Fields {
  const f: Fields = [OUT.HISTORICAL_DATA, reqId, start, end, bars.length];
  for (const b of bars) f.push(b.date, b.open, b.high, b.low, b.close, b.volume, b.wap, b.count);
  return f;
}

/** Note the order: open, close, high, low, wap, volume. */
export const historicalDataUpdate = (reqId: number, barCount: number, b: HistoricalBarOut): Fields => [
  OUT.HISTORICAL_DATA_UPDATE,
  reqId,
  barCount,
  b.date,
  b.open,
  b.close,
  b.high,
  b.low,
  b.wap,
  b.volume,
];

export interface ContractDetailsOut {
  contract: ContractOut;
  marketName: string;
  minTick: number;
  orderTypes: string;
  validExchanges: string;
  longName: string;
  timeZoneId: string;
  tradingHours: string;
  liquidHours: string;
  stockType: string;
  marketRuleIds: string;
}

export function contractDetails(reqId: number, d: ContractDetailsOut): Fields {
  const k = d.contract;
  return [
    OUT.CONTRACT_DATA,
    reqId,
    k.symbol,
    k.secType,
    '',
    '',
    0,
    '',
    k.exchange,
    k.currency,
    k.localSymbol,
    d.marketName,
    k.tradingClass,
    k.conId,
    d.minTick,
    '',
    d.orderTypes,
    d.validExchanges,
    1,
    0,
    d.longName,
    k.primaryExch,
    '',
    '',
    '',
    '',
    d.timeZoneId,
    d.tradingHours,
    d.liquidHours, // contractMonth, industry, category, subcategory, tz, hours
    '',
    '', // evRule, evMultiplier
    0, // secIdList count
    1,
    '',
    '',
    d.marketRuleIds,
    '',
    d.stockType, // aggGroup, underSymbol, underSecType, marketRuleIds, realExpirationDate, stockType
    1,
    1,
    100, // minSize, sizeIncrement, suggestedSizeIncrement
    0, // ineligibility reasons count (no fund fields: not a FUND)
  ];
}

export const contractDetailsEnd = (reqId: number): Fields => [OUT.CONTRACT_DATA_END, 1, reqId];

export interface OrderStatusOut {
  orderId: number;
  status: string;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  permId: number;
  parentId: number;
  lastFillPrice: number;
  clientId: number;
  whyHeld: string;
}

export const orderStatus = (s: OrderStatusOut): Fields => [
  OUT.ORDER_STATUS,
  s.orderId,
  s.status,
  s.filled,
  s.remaining,
  s.avgFillPrice,
  s.permId,
  s.parentId,
  s.lastFillPrice,
  s.clientId,
  s.whyHeld,
  0,
];

export interface OpenOrderOut {
  orderId: number;
  contract: ContractOut;
  action: string;
  totalQuantity: number;
  orderType: string;
  lmtPrice?: number;
  auxPrice?: number;
  tif: string;
  ocaGroup: string;
  account: string;
  openClose: string;
  origin: number;
  orderRef: string;
  clientId: number;
  permId: number;
  outsideRth: boolean;
  hidden: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  ocaType: number;
  parentId: number;
  trailStopPrice?: number;
  trailingPercent?: number;
  status: string;
  /** a combo's (BAG) legs, in the order placed; none for a single contract */
  comboLegs?: readonly ComboLegOut[];
}

/** One leg of a BAG order as openOrder echoes it (IB's ComboLeg; retail: openClose 0, no short-sale slot). */
export interface ComboLegOut {
  conId: number;
  ratio: number;
  action: string;
  exchange: string;
}

/**
 * comboLegsDescrip, then comboLegs (8 fields each: conId, ratio, action, exchange, openClose 0 'same as the
 * parent', shortSaleSlot 0, designatedLocation '', exemptCode -1), then orderComboLegs (no per-leg prices: 0).
 * The description is for people (conId|ratio, negative for a SELL leg, comma-separated); clients read the legs.
 */
function comboLegFields(legs: readonly ComboLegOut[]): Fields {
  const description = legs.map((l) => `${l.conId}|${l.action === 'SELL' ? -l.ratio : l.ratio}`).join(',');
  return [description, legs.length, ...legs.flatMap((l) => [l.conId, l.ratio, l.action, l.exchange, 0, 0, '', -1]), 0];
}

/**
 * openOrder: 133 fields for a plain order (no delta-neutral, scale, algo or conditions); a combo's adds 8 a leg
 * and its description (comboLegFields).
 */
export function openOrder(o: OpenOrderOut): Fields {
  const k = o.contract;
  return [
    OUT.OPEN_ORDER,
    o.orderId,
    k.conId,
    k.symbol,
    k.secType,
    ...derivativeFields(k),
    k.exchange,
    k.currency,
    k.localSymbol,
    k.tradingClass,
    o.action,
    o.totalQuantity,
    o.orderType,
    o.lmtPrice,
    o.auxPrice,
    o.tif,
    o.ocaGroup,
    o.account,
    o.openClose,
    o.origin,
    o.orderRef,
    o.clientId,
    o.permId,
    o.outsideRth,
    o.hidden,
    0,
    o.goodAfterTime,
    '', // deprecated sharesAllocation
    '',
    '',
    '', // faGroup, faMethod, faPercentage
    '',
    o.goodTillDate,
    '',
    '',
    '', // modelCode, goodTillDate, rule80A, percentOffset, settlingFirm
    0,
    '',
    -1, // shortSaleSlot, designatedLocation, exemptCode
    0,
    '',
    '',
    '',
    '',
    '',
    '', // auctionStrategy, startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper, displaySize
    false,
    false,
    false,
    '',
    o.ocaType,
    false,
    false,
    '', // blockOrder, sweepToFill, allOrNone, minQty, ocaType, eTradeOnly, firmQuoteOnly, nbboPriceCap
    o.parentId,
    0, // parentId, triggerMethod
    '',
    0,
    '',
    '',
    0,
    0, // volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice, continuousUpdate, referencePriceType
    o.trailStopPrice,
    o.trailingPercent,
    '',
    '', // basisPoints, basisPointsType
    ...(o.comboLegs !== undefined && o.comboLegs.length > 0 ? comboLegFields(o.comboLegs) : ['', 0, 0]), // comboLegsDescription, comboLegs, orderComboLegs
    0, // smartComboRoutingParams count
    '',
    '',
    '', // scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
    '',
    false,
    '',
    '',
    false, // hedgeType, optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    false,
    '',
    false, // deltaNeutralContract flag, algoStrategy, solicited
    false,
    o.status, // whatIf, orderState.status
    '',
    '',
    '',
    '',
    '',
    '', // margin before/change
    '',
    '',
    '', // margin after
    '',
    '',
    '',
    '',
    '', // commission, minCommission, maxCommission, commissionCurrency, warningText
    false,
    false, // randomizeSize, randomizePrice
    0, // conditions count
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    0, // adjustedOrderType, triggerPrice, trailStopPrice, lmtPriceOffset, adjusted stop / stop limit / trailing amount, trailing unit
    '',
    '',
    '', // softDollarTier name, value, displayName
    '', // cashQty
    false,
    false,
    false,
    false, // dontUseAutoPriceForHedge, isOmsContainer, discretionaryUpToLimitPrice, usePriceMgmtAlgo
    '',
    '',
    false, // duration, postToAts, autoCancelParent
    '',
    '',
    '',
    '',
    '', // minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf
    '',
    false,
    '',
    false, // customerAccount, professionalCustomer, bondAccruedInterest, includeOvernight
    '',
    '', // extOperator, manualOrderIndicator
  ];
}

export const openOrderEnd = (): Fields => [OUT.OPEN_ORDER_END, 1];

export interface ExecutionOut {
  orderId: number;
  execId: string;
  /** "YYYYMMDD HH:MM:SS <tz>" */
  time: string;
  account: string;
  exchange: string;
  /** BOT or SLD */
  side: string;
  shares: number;
  price: number;
  permId: number;
  clientId: number;
  cumQty: number;
  avgPrice: number;
  orderRef: string;
  /** 1 added, 2 removed liquidity */
  lastLiquidity: number;
}

export function execDetails(reqId: number, k: ContractOut, e: ExecutionOut): Fields {
  return [
    OUT.EXECUTION_DATA,
    reqId,
    e.orderId,
    k.conId,
    k.symbol,
    k.secType,
    ...derivativeFields(k),
    k.exchange,
    k.currency,
    k.localSymbol,
    k.tradingClass,
    e.execId,
    e.time,
    e.account,
    e.exchange,
    e.side,
    e.shares,
    e.price,
    e.permId,
    e.clientId,
    0,
    e.cumQty,
    e.avgPrice,
    e.orderRef,
    '',
    '',
    '',
    e.lastLiquidity,
    false, // evRule, evMultiplier, modelCode, lastLiquidity, pendingPriceRevision
  ];
}

export const execDetailsEnd = (reqId: number): Fields => [OUT.EXECUTION_DATA_END, 1, reqId];

/** realizedPNL undefined (an opening fill) is sent as Double.MAX_VALUE, which the client reads as undefined. */
export const commissionReport = (execId: string, commission: number, currency: string, realizedPNL?: number): Fields => [
  OUT.COMMISSION_REPORT,
  1,
  execId,
  commission,
  currency,
  realizedPNL ?? UNSET_DOUBLE,
  UNSET_DOUBLE,
  0,
];

export const position = (account: string, k: ContractOut, pos: number, avgCost: number): Fields => [
  OUT.POSITION,
  3,
  account,
  k.conId,
  k.symbol,
  k.secType,
  ...derivativeFields(k),
  k.exchange,
  k.currency,
  k.localSymbol,
  k.tradingClass,
  pos,
  avgCost,
];
export const positionEnd = (): Fields => [OUT.POSITION_END, 1];

export const accountSummary = (reqId: number, account: string, tag: string, value: string, currency: string): Fields => [
  OUT.ACCOUNT_SUMMARY,
  1,
  reqId,
  account,
  tag,
  value,
  currency,
];
export const accountSummaryEnd = (reqId: number): Fields => [OUT.ACCOUNT_SUMMARY_END, 1, reqId];

export const pnl = (reqId: number, daily: number, unrealized: number, realized: number): Fields => [OUT.PNL, reqId, daily, unrealized, realized];

// ---- options, futures and FX (issue 15) ----------------------------------------------------------

/** A contract with IB's derivative fields: expiry (YYYYMMDD), strike, right ('C'/'P', '' unless OPT), multiplier ('' for none). */
export interface DerivativeContractOut extends ContractOut {
  lastTradeDateOrContractMonth: string;
  strike: number;
  right: string;
  multiplier: string;
}

/** contractDetails of an option, future or FX pair: the stock fields plus those the stock encoder leaves empty. */
export interface DerivativeDetailsOut extends Omit<ContractDetailsOut, 'contract'> {
  contract: DerivativeContractOut;
  /** YYYYMMDD, '' for a pair */
  lastTradeDate: string;
  /** YYYYMM, '' for a pair */
  contractMonth: string;
  underConId: number;
  underSymbol: string;
  underSecType: string;
  /** YYYYMMDD: an option's OCC expiration date (a Saturday for monthlies before 2015), a future's last day */
  realExpirationDate: string;
  minSize: number;
  sizeIncrement: number;
  suggestedSizeIncrement: number;
}

/** contractDetails with every field set: the layout of `contractDetails` (tws-protocol.md section 4). */
export function derivativeContractDetails(reqId: number, d: DerivativeDetailsOut): Fields {
  const k = d.contract;
  return [
    OUT.CONTRACT_DATA,
    reqId,
    k.symbol,
    k.secType,
    k.lastTradeDateOrContractMonth,
    d.lastTradeDate,
    k.strike,
    k.right,
    k.exchange,
    k.currency,
    k.localSymbol,
    d.marketName,
    k.tradingClass,
    k.conId,
    d.minTick,
    k.multiplier,
    d.orderTypes,
    d.validExchanges,
    1, // priceMagnifier
    d.underConId,
    d.longName,
    k.primaryExch,
    d.contractMonth,
    '',
    '',
    '', // industry, category, subcategory
    d.timeZoneId,
    d.tradingHours,
    d.liquidHours,
    '',
    '', // evRule, evMultiplier
    0, // secIdList count
    1, // aggGroup
    d.underSymbol,
    d.underSecType,
    d.marketRuleIds,
    d.realExpirationDate,
    d.stockType,
    d.minSize,
    d.sizeIncrement,
    d.suggestedSizeIncrement,
    0, // ineligibility reasons count (no fund fields: not a FUND)
  ];
}

/** One exchange's option chain parameters (no version field). The client reads the multiplier as a number. */
export function securityDefinitionOptionParameter(
  reqId: number,
  exchange: string,
  underlyingConId: number,
  tradingClass: string,
  multiplier: string,
  expirations: readonly string[],
  strikes: readonly number[],
): Fields {
  return [
    OUT.SECURITY_DEFINITION_OPTION_PARAMETER,
    reqId,
    exchange,
    underlyingConId,
    tradingClass,
    multiplier,
    expirations.length,
    ...expirations,
    strikes.length,
    ...strikes,
  ];
}

export const securityDefinitionOptionParameterEnd = (reqId: number): Fields => [OUT.SECURITY_DEFINITION_OPTION_PARAMETER_END, reqId];

/**
 * An option computation in IB's units: impliedVol as a fraction (0.25 = 25%), vega per 1 volatility point
 * (0.01), theta per calendar day. IB's "not computed" markers: -1 for impliedVol, optPrice, pvDividend and
 * undPrice, -2 for delta, gamma, vega and theta.
 */
export interface OptionComputationOut {
  impliedVol: number;
  delta: number;
  optPrice: number;
  pvDividend: number;
  gamma: number;
  vega: number;
  theta: number;
  undPrice: number;
}

/** tickOptionComputation at server version >= 156: no version field, tickAttrib 0 (return-based volatility). */
export const tickOptionComputation = (reqId: number, tickType: number, c: OptionComputationOut): Fields => [
  OUT.TICK_OPTION_COMPUTATION,
  reqId,
  tickType,
  0,
  c.impliedVol,
  c.delta,
  c.optPrice,
  c.pvDividend,
  c.gamma,
  c.vega,
  c.theta,
  c.undPrice,
];
