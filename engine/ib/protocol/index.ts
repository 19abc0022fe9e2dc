// The TWS API socket protocol at server version 193: framing, fields, ids, server messages, client requests.
export { CODE, IN, MAX_FRAME, OPTION_TICK, OUT, SERVER_VERSION, TEXT, TICK, UNSET_DOUBLE, UNSET_INT } from './ids.ts';
export { FieldCursor, formatField, ParseError, type Field } from './fields.ts';
export { API_PREFIX, encodeFrame, encodeHandshake, FrameError, FrameReader, parseVersionRange, splitFields } from './framing.ts';
export { readContract, type ComboLegRef, type IbContract } from './contract.ts';
export { parsePlaceOrder, type IbOrder, type PlaceOrder } from './place-order.ts';
export { messageId, parseRequest, type ClientRequest } from './requests.ts';
export * as msg from './messages.ts';
export type {
  BarOut,
  ContractDetailsOut,
  ContractOut,
  DerivativeContractOut,
  DerivativeDetailsOut,
  ExecutionOut,
  HistoricalBarOut,
  OpenOrderOut,
  OptionComputationOut,
  OrderStatusOut,
} from './messages.ts';
export { RawClient } from './raw-client.ts';
