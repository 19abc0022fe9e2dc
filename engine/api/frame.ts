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
  return n === 0 ? new dfd.DataFrame([], { columns: names }) : new dfd.DataFrame(columns as Record<string, unknown[]>);
}

// Any frame or series that is a cell's last value (tslab, the REPL) or is logged prints as its table, not as
// danfojs's internals: those this API builds and those derived from them (head, query, groupby, arithmetic),
// which danfojs builds from its base classes (the prototypes above danfojs-node's own).
function printsAsTable(this: { shape: number[]; columns?: string[]; toString(): string }): string {
  if (this.shape[0] > 0) return this.toString();
  return this.shape.length === 2 ? `empty DataFrame (${(this.columns ?? []).join(', ')})` : 'empty Series';
}
for (const cls of [dfd.DataFrame, dfd.Series])
  for (let proto = cls.prototype as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
    Object.defineProperty(proto, inspect.custom, { value: printsAsTable, enumerable: false, configurable: true });

/** A number for a numeric column: null and undefined become NaN (danfojs's missing value). */
export const num = (x: number | null | undefined): number => (x === null || x === undefined ? Number.NaN : x);

/** An ISO date or instant ('2020-01-02' is UTC midnight) as a Date. */
export const date = (iso: string): Date => new Date(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso);
