// DataFrames of the notebook API (danfojs-node): numbers as numbers (NaN where a value is undefined), times as Dates.
import { inspect } from 'node:util';
import * as dfd from 'danfojs-node';

export type DataFrame = dfd.DataFrame;
export { dfd };

/** A column's values: numbers (NaN for missing), strings, booleans or Dates. */
export type Column = number[] | string[] | boolean[] | Date[];

/**
 * A DataFrame from columns of equal length, in the order given. An empty frame keeps its column names
 * (danfojs cannot build one from empty columns).
 */
export function frame(columns: Record<string, Column>): DataFrame {
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]].length;
  for (const k of names) if (columns[k].length !== n) throw new Error(`frame: column '${k}' has ${columns[k].length} values, expected ${n}`);
  const df = n === 0 ? new dfd.DataFrame([], { columns: names }) : new dfd.DataFrame(columns as Record<string, unknown[]>);
  // a frame that is a cell's last value (tslab, the REPL) prints as its table, not as danfojs's internals
  Object.defineProperty(df, inspect.custom, { value: () => (n === 0 ? `empty DataFrame (${names.join(', ')})` : df.toString()), enumerable: false });
  return df;
}

/** A number for a numeric column: null and undefined become NaN (danfojs's missing value). */
export const num = (x: number | null | undefined): number => (x === null || x === undefined ? Number.NaN : x);

/** An ISO date or instant ('2020-01-02' is UTC midnight) as a Date. */
export const date = (iso: string): Date => new Date(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso);
