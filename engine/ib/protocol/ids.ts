// Message ids and constants of the TWS API socket protocol at server version 193 (tws-protocol.md).

/** The server version the simulator speaks: below every protobuf layout (201+) and the v194/v196 changes. */
export const SERVER_VERSION = 193;

/** Frames longer than this are refused (the same limit as IB's clients). */
export const MAX_FRAME = 0xffffff;

/** The integer "unset" marker (Java Integer.MAX_VALUE). */
export const UNSET_INT = 2147483647;

/** The double "unset" marker (Java Double.MAX_VALUE) as the clients print it. */
export const UNSET_DOUBLE = '1.7976931348623157e+308';

/** Client → server message ids. */
export const IN = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_ACCOUNT_DATA: 6,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  REQ_AUTO_OPEN_ORDERS: 15,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCTS: 17,
  REQ_HISTORICAL_DATA: 20,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  REQ_REAL_TIME_BARS: 50,
  CANCEL_REAL_TIME_BARS: 51,
  REQ_GLOBAL_CANCEL: 58,
  REQ_MARKET_DATA_TYPE: 59,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  START_API: 71,
  REQ_SEC_DEF_OPT_PARAMS: 78,
  REQ_PNL: 92,
  CANCEL_PNL: 93,
} as const;

/** Server → client message ids. */
export const OUT = {
  TICK_PRICE: 1,
  TICK_SIZE: 2,
  ORDER_STATUS: 3,
  ERR_MSG: 4,
  OPEN_ORDER: 5,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  EXECUTION_DATA: 11,
  MANAGED_ACCTS: 15,
  HISTORICAL_DATA: 17,
  TICK_OPTION_COMPUTATION: 21,
  TICK_GENERIC: 45,
  TICK_STRING: 46,
  CURRENT_TIME: 49,
  REAL_TIME_BARS: 50,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  EXECUTION_DATA_END: 55,
  TICK_SNAPSHOT_END: 57,
  MARKET_DATA_TYPE: 58,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
  SECURITY_DEFINITION_OPTION_PARAMETER: 75,
  SECURITY_DEFINITION_OPTION_PARAMETER_END: 76,
  TICK_REQ_PARAMS: 81,
  HISTORICAL_DATA_UPDATE: 90,
  PNL: 94,
} as const;

/** Tick types the simulator sends (live, and the delayed variants after reqMarketDataType 3/4). */
export const TICK = {
  BID: 1,
  ASK: 2,
  LAST: 4,
  VOLUME: 8,
  LAST_TIMESTAMP: 45,
  DELAYED_BID: 66,
  DELAYED_ASK: 67,
  DELAYED_LAST: 68,
  DELAYED_VOLUME: 74,
  DELAYED_LAST_TIMESTAMP: 88,
} as const;

/**
 * Tick types of quoted instruments (options, futures, FX): the option computations (tickOptionComputation)
 * of the bid, the ask and the model (the mid), and the bid and ask sizes, live and delayed.
 */
export const OPTION_TICK = {
  BID_SIZE: 0,
  ASK_SIZE: 3,
  BID_OPTION: 10,
  ASK_OPTION: 11,
  MODEL_OPTION: 13,
  DELAYED_BID_SIZE: 69,
  DELAYED_ASK_SIZE: 70,
  DELAYED_BID_OPTION: 80,
  DELAYED_ASK_OPTION: 81,
  DELAYED_MODEL_OPTION: 83,
} as const;

/** Error and notice codes with IB's texts (tws-protocol.md section 5). */
export const CODE = {
  DUPLICATE_ORDER_ID: 103,
  HMDS_ERROR: 162,
  NO_SECURITY_DEFINITION: 200,
  ORDER_REJECTED: 201,
  ORDER_CANCELLED: 202,
  BAD_MESSAGE: 320,
  VALIDATION_ERROR: 321,
  CLIENT_ID_IN_USE: 326,
  CONNECTIVITY_LOST: 1100,
  RESTORED_DATA_LOST: 1101,
  RESTORED_DATA_KEPT: 1102,
  MARKET_DATA_FARM_OK: 2104,
  HMDS_FARM_OK: 2106,
  SEC_DEF_FARM_OK: 2158,
  CANCEL_NOT_FOUND: 10147,
  CANCEL_NOT_CANCELLABLE: 10148,
  /** the simulator's own notice (never sent by IB): its replay has ended, no more market data will come; in IB's 2100-2999 warning range, so any client takes it as informational */
  REPLAY_ENDED: 2900,
} as const;

export const TEXT = {
  DUPLICATE_ORDER_ID: 'Duplicate order id',
  PACING: 'Historical Market Data Service error message:Historical data request pacing violation',
  NO_DATA: 'Historical Market Data Service error message:HMDS query returned no data',
  NO_SECURITY_DEFINITION: 'No security definition has been found for the request',
  /** IB's text (code 200 too) when a request's contract matches more than one contract */
  AMBIGUOUS_CONTRACT: 'The contract description specified is ambiguous',
  ORDER_REJECTED: 'Order rejected - reason:',
  ORDER_CANCELLED: 'Order Canceled - reason:',
  BAD_MESSAGE: 'Error reading request. ',
  VALIDATION: 'Error validating request.-',
  CLIENT_ID_IN_USE: 'Unable to connect as the client id is already in use. Retry with a unique client id.',
  CONNECTIVITY_LOST: 'Connectivity between IB and Trader Workstation has been lost.',
  RESTORED_DATA_LOST: 'Connectivity between IB and Trader Workstation has been restored - data lost.',
  RESTORED_DATA_KEPT: 'Connectivity between IB and Trader Workstation has been restored - data maintained.',
  MARKET_DATA_FARM_OK: 'Market data farm connection is OK:usfarm',
  HMDS_FARM_OK: 'HMDS data farm connection is OK:ushmds',
  SEC_DEF_FARM_OK: 'Sec-def data farm connection is OK:secdefnj',
  /** followed by ` at <ISO time>: no more market data will come` */
  REPLAY_ENDED: 'Tradebench simulator: the replay has ended',
} as const;
