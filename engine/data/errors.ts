/** Which check a DataError comes from (stable names: tests and tools may match on them). */
export type DataRule =
  | 'no-files'
  | 'unreadable-file'
  | 'missing-column'
  | 'missing-symbol'
  | 'missing-value'
  | 'not-a-number'
  | 'non-positive-price'
  | 'negative-volume'
  | 'high-below-max'
  | 'low-above-min'
  | 'bad-time'
  | 'nonexistent-time'
  | 'duplicate-timestamp'
  | 'out-of-order'
  | 'unknown-interval'
  | 'interval-mismatch'
  | 'outside-session'
  | 'unknown-timezone'
  | 'bad-factor-file'
  | 'bad-sectors-file'
  | 'unknown-symbol'
  | 'empty-range'
  /** a price, volume or date outside the accepted bounds (after factor adjustment) */
  | 'out-of-range'
  /** a close more than --max-jump times (or less than 1/max-jump of) the previous close */
  | 'price-jump'
  /** a symbol that is not a plausible ticker (and must not become part of a file name) */
  | 'bad-symbol'
  /** an import option with an impossible value */
  | 'bad-option';

export interface DataErrorInfo {
  rule: DataRule;
  /** the file as shown in the message */
  file?: string;
  /** 1-based data row (the header is not a row) */
  row?: number;
  /** 1-based line in the file, when known (CSV) */
  line?: number;
  field?: string;
}

/** Bad input data or a request the data cannot answer. The message says file, row, field and rule. */
export class DataError extends Error {
  readonly rule: DataRule;
  readonly file?: string;
  readonly row?: number;
  readonly line?: number;
  readonly field?: string;

  constructor(message: string, info: DataErrorInfo) {
    super(message);
    this.name = 'DataError';
    this.rule = info.rule;
    this.file = info.file;
    this.row = info.row;
    this.line = info.line;
    this.field = info.field;
  }
}

export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}
