// placeOrder [3, ...] at server version 193: a fixed head read by index, then a cursor walk that
// mirrors the conditions of IB's encoder (tws-protocol.md section 3). A plain order is 118 fields.
import { FieldCursor, ParseError } from './fields.ts';
import { IN } from './ids.ts';
import { readContract, type ComboLegRef, type IbContract } from './contract.ts';

/** The order fields the simulator acts on, typed; `raw` keeps every field as received, by name. */
export interface IbOrder {
  action: string;
  totalQuantity?: number;
  orderType: string;
  lmtPrice?: number;
  auxPrice?: number;
  tif: string;
  ocaGroup: string;
  account: string;
  openClose: string;
  origin: number;
  orderRef: string;
  /** "" (omitted by the application) reads true, IB's default */
  transmit: boolean;
  parentId: number;
  outsideRth: boolean;
  hidden: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  ocaType: number;
  trailStopPrice?: number;
  trailingPercent?: number;
  whatIf: boolean;
  cashQty?: number;
  algoStrategy: string;
  conditionCount: number;
  raw: Record<string, string>;
}

export interface PlaceOrder {
  orderId: number;
  contract: IbContract & { secIdType: string; secId: string };
  order: IbOrder;
  /** a BAG contract's legs (conId, ratio, action, exchange), in the message's order; [] for any other contract */
  comboLegs: ComboLegRef[];
  /** fields in the message, id included */
  fieldCount: number;
}

/** A cursor that remembers every field it reads under the field's name. */
class RecordingCursor extends FieldCursor {
  readonly raw: Record<string, string> = {};
  override str(name: string): string {
    const s = super.str(name);
    this.raw[name] = s;
    return s;
  }
}

const isPegBench = (t: string) => t === 'PEG BENCH' || t === 'PEGBENCH';
const isPegBest = (t: string) => t === 'PEG BEST' || t === 'PEGBEST';
const isPegMid = (t: string) => t === 'PEG MID' || t === 'PEGMID';

// fields of each order condition type after (type, conjunction)
const CONDITION_FIELDS: Record<number, string[]> = {
  1: ['isMore', 'value', 'conId', 'exchange', 'triggerMethod'], // price
  3: ['isMore', 'value'], // time
  4: ['isMore', 'value'], // margin
  5: ['secType', 'exchange', 'symbol'], // execution
  6: ['isMore', 'value', 'conId', 'exchange'], // volume
  7: ['isMore', 'value', 'conId', 'exchange'], // percent change
};

/**
 * Parses a placeOrder message (fields with the id first). Throws ParseError when it does not parse:
 * a field missing or malformed, or fields left over.
 */
export function parsePlaceOrder(fields: readonly string[]): PlaceOrder {
  const c = new RecordingCursor(fields);
  if (c.int('message id') !== IN.PLACE_ORDER) throw new ParseError('not a placeOrder message');
  const orderId = c.int('orderId');
  const k = readContract(c);
  const contract = { ...k, secIdType: c.str('secIdType'), secId: c.str('secId') };
  const action = c.str('action');
  const totalQuantity = c.numOrUnset('totalQuantity');
  const orderType = c.str('orderType');
  const lmtPrice = c.numOrUnset('lmtPrice');
  const auxPrice = c.numOrUnset('auxPrice');
  const tif = c.str('tif');
  const ocaGroup = c.str('ocaGroup');
  const account = c.str('account');
  const openClose = c.str('openClose');
  const origin = c.int('origin');
  const orderRef = c.str('orderRef');
  const transmit = c.bool('transmit', true);
  const parentId = c.int('parentId');
  c.bool('blockOrder');
  c.bool('sweepToFill');
  c.intOrUnset('displaySize');
  c.intOrUnset('triggerMethod');
  const outsideRth = c.bool('outsideRth');
  const hidden = c.bool('hidden');
  const comboLegs = k.secType.toUpperCase() === 'BAG' ? readBagFields(c) : [];
  c.str('sharesAllocation'); // deprecated, always ""
  c.numOrUnset('discretionaryAmt');
  const goodAfterTime = c.str('goodAfterTime');
  const goodTillDate = c.str('goodTillDate');

  // ---- the cursor walk ----
  for (const f of ['faGroup', 'faMethod', 'faPercentage', 'modelCode']) c.str(f);
  c.intOrUnset('shortSaleSlot');
  c.str('designatedLocation');
  c.intOrUnset('exemptCode');
  const ocaType = c.intOrUnset('ocaType') ?? 0;
  c.str('rule80A');
  c.str('settlingFirm');
  c.bool('allOrNone');
  c.intOrUnset('minQty');
  c.numOrUnset('percentOffset');
  c.bool('eTradeOnly');
  c.bool('firmQuoteOnly');
  c.numOrUnset('nbboPriceCap');
  c.intOrUnset('auctionStrategy');
  for (const f of ['startingPrice', 'stockRefPrice', 'delta', 'stockRangeLower', 'stockRangeUpper']) c.numOrUnset(f);
  c.bool('overridePercentageConstraints');
  c.numOrUnset('volatility');
  c.intOrUnset('volatilityType');
  const dnOrderType = c.str('deltaNeutralOrderType');
  c.numOrUnset('deltaNeutralAuxPrice');
  if (dnOrderType !== '') {
    c.intOrUnset('deltaNeutralConId');
    for (const f of ['deltaNeutralSettlingFirm', 'deltaNeutralClearingAccount', 'deltaNeutralClearingIntent', 'deltaNeutralOpenClose']) c.str(f);
    c.bool('deltaNeutralShortSale');
    c.intOrUnset('deltaNeutralShortSaleSlot');
    c.str('deltaNeutralDesignatedLocation');
  }
  c.intOrUnset('continuousUpdate');
  c.intOrUnset('referencePriceType');
  const trailStopPrice = c.numOrUnset('trailStopPrice');
  const trailingPercent = c.numOrUnset('trailingPercent');
  c.intOrUnset('scaleInitLevelSize');
  c.intOrUnset('scaleSubsLevelSize');
  c.numOrUnset('scalePriceIncrement');
  if (c.raw.scalePriceIncrement !== '') {
    c.numOrUnset('scalePriceAdjustValue');
    c.intOrUnset('scalePriceAdjustInterval');
    c.numOrUnset('scaleProfitOffset');
    c.bool('scaleAutoReset');
    c.intOrUnset('scaleInitPosition');
    c.intOrUnset('scaleInitFillQty');
    c.bool('scaleRandomPercent');
  }
  for (const f of ['scaleTable', 'activeStartTime', 'activeStopTime']) c.str(f);
  if (c.str('hedgeType') !== '') c.str('hedgeParam');
  c.bool('optOutSmartRouting');
  c.str('clearingAccount');
  c.str('clearingIntent');
  c.bool('notHeld');
  if (c.bool('deltaNeutralContract')) {
    c.int('deltaNeutralContract.conId');
    c.numOrUnset('deltaNeutralContract.delta');
    c.numOrUnset('deltaNeutralContract.price');
  }
  const algoStrategy = c.str('algoStrategy');
  if (algoStrategy !== '') {
    const n = c.int('algoParamsCount');
    if (n < 0 || 2 * n > c.remaining) throw new ParseError(`algoParamsCount: ${n} is not a valid count`);
    for (let i = 0; i < n; i++) {
      c.str(`algoParams.${i}.tag`);
      c.str(`algoParams.${i}.value`);
    }
  }
  c.str('algoId');
  const whatIf = c.bool('whatIf');

  // orderMiscOptions is one "" when unset, but @stoqey/ib flattens an array into one token per
  // element (none for []): try the usual single token first, then the other counts.
  const miscStart = c.pos;
  let tail: Tail | null = null;
  let firstError: unknown = null;
  for (const misc of [1, 0, 2, 3, 4, 5, 6, 7, 8]) {
    if (miscStart + misc > fields.length) break;
    const t = new RecordingCursor(fields, miscStart + misc);
    try {
      tail = readTail(t, orderType, k.exchange);
      Object.assign(c.raw, t.raw, { orderMiscOptions: fields.slice(miscStart, miscStart + misc).join(';') });
      break;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      firstError ??= e;
    }
  }
  if (!tail) throw firstError ?? new ParseError('orderMiscOptions: missing');

  return {
    orderId,
    contract,
    comboLegs,
    fieldCount: fields.length,
    order: {
      action,
      totalQuantity,
      orderType,
      lmtPrice,
      auxPrice,
      tif,
      ocaGroup,
      account,
      openClose,
      origin,
      orderRef,
      transmit,
      parentId,
      outsideRth,
      hidden,
      goodAfterTime,
      goodTillDate,
      ocaType,
      trailStopPrice,
      trailingPercent,
      whatIf,
      cashQty: tail.cashQty,
      algoStrategy,
      conditionCount: tail.conditionCount,
      raw: c.raw,
    },
  };
}

/** A BAG's combo legs (kept), per-leg prices and smart-routing parameters (read past). */
function readBagFields(c: FieldCursor): ComboLegRef[] {
  const n = c.int('comboLegsCount');
  if (n < 0 || n > c.remaining) throw new ParseError(`comboLegsCount: ${n} is not a valid count`);
  const legs: ComboLegRef[] = [];
  for (let i = 0; i < n; i++) {
    const conId = c.int('comboLeg.conId');
    const ratio = c.int('comboLeg.ratio');
    const action = c.str('comboLeg.action');
    const exchange = c.str('comboLeg.exchange');
    legs.push({ conId, ratio, action, exchange });
    c.intOrUnset('comboLeg.openClose');
    c.intOrUnset('comboLeg.shortSaleSlot');
    c.str('comboLeg.designatedLocation');
    c.intOrUnset('comboLeg.exemptCode');
  }
  const prices = c.int('orderComboLegsCount');
  if (prices < 0 || prices > c.remaining) throw new ParseError(`orderComboLegsCount: ${prices} is not a valid count`);
  for (let i = 0; i < prices; i++) c.numOrUnset('orderComboLeg.price');
  const params = c.int('smartComboRoutingParamsCount');
  if (params < 0 || 2 * params > c.remaining) throw new ParseError(`smartComboRoutingParamsCount: ${params} is not a valid count`);
  for (let i = 0; i < params; i++) {
    c.str('smartComboRoutingParam.tag');
    c.str('smartComboRoutingParam.value');
  }
  return legs;
}

interface Tail {
  cashQty?: number;
  conditionCount: number;
}

/** Everything after orderMiscOptions, to the end of the message. */
function readTail(c: RecordingCursor, orderType: string, exchange: string): Tail {
  c.bool('solicited');
  c.bool('randomizeSize');
  c.bool('randomizePrice');
  if (isPegBench(orderType)) {
    c.int('referenceContractId');
    c.bool('isPeggedChangeAmountDecrease');
    c.numOrUnset('peggedChangeAmount');
    c.numOrUnset('referenceChangeAmount');
    c.str('referenceExchangeId');
  }
  const n = c.int('conditionsCount');
  if (n < 0 || n > c.remaining) throw new ParseError(`conditionsCount: ${n} is not a valid count`);
  for (let i = 0; i < n; i++) {
    const type = c.int(`conditions.${i}.type`);
    const names = CONDITION_FIELDS[type];
    if (!names) throw new ParseError(`conditions.${i}.type: unknown condition type ${type}`);
    c.str(`conditions.${i}.conjunction`);
    for (const f of names) c.str(`conditions.${i}.${f}`);
  }
  if (n > 0) {
    c.bool('conditionsIgnoreRth');
    c.bool('conditionsCancelOrder');
  }
  c.str('adjustedOrderType');
  for (const f of ['triggerPrice', 'lmtPriceOffset', 'adjustedStopPrice', 'adjustedStopLimitPrice', 'adjustedTrailingAmount']) c.numOrUnset(f);
  c.intOrUnset('adjustableTrailingUnit');
  c.str('extOperator');
  c.str('softDollarTier.name');
  c.str('softDollarTier.value');
  const cashQty = c.numOrUnset('cashQty');
  for (const f of ['mifid2DecisionMaker', 'mifid2DecisionAlgo', 'mifid2ExecutionTrader', 'mifid2ExecutionAlgo']) c.str(f);
  c.bool('dontUseAutoPriceForHedge');
  c.bool('isOmsContainer');
  c.bool('discretionaryUpToLimitPrice');
  c.bool('usePriceMgmtAlgo');
  c.intOrUnset('duration');
  c.intOrUnset('postToAts');
  c.bool('autoCancelParent');
  c.str('advancedErrorOverride');
  c.str('manualOrderTime');
  if (exchange === 'IBKRATS') c.intOrUnset('minTradeQty');
  let midOffsets = isPegMid(orderType);
  if (isPegBest(orderType)) {
    c.intOrUnset('minCompeteSize');
    midOffsets = c.numOrUnset('competeAgainstBestOffset') === Infinity;
  }
  if (midOffsets) {
    c.numOrUnset('midOffsetAtWhole');
    c.numOrUnset('midOffsetAtHalf');
  }
  c.str('customerAccount');
  c.bool('professionalCustomer');
  c.bool('includeOvernight');
  c.intOrUnset('manualOrderIndicator');
  c.end('placeOrder');
  return { cashQty, conditionCount: n };
}
