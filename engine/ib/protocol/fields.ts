// Field encoding (server → client) and strict field decoding (client → server).
import { UNSET_INT } from './ids.ts';

export type Field = string | number | boolean | null | undefined;

/** A field as text: unset (undefined, null, NaN) is "", booleans 1/0, numbers as JS prints them. */
export function formatField(f: Field): string {
  if (f === undefined || f === null) return '';
  if (typeof f === 'boolean') return f ? '1' : '0';
  if (typeof f === 'number') return Number.isNaN(f) ? '' : String(f);
  return f.includes('\0') ? f.replaceAll('\0', '') : f;
}

/** A request that does not parse: the server answers error 320. */
export class ParseError extends Error {}

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MAX_DOUBLE = Number.MAX_VALUE;

/**
 * Reads the fields of one client message in order. Every reader names the field it reads, so a
 * ParseError says which field was missing or malformed.
 */
export class FieldCursor {
  pos: number;

  constructor(
    readonly fields: readonly string[],
    start = 0,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.fields.length - this.pos;
  }

  str(name: string): string {
    if (this.pos >= this.fields.length) throw new ParseError(`${name}: missing (message ends after ${this.fields.length} fields)`);
    return this.fields[this.pos++];
  }

  /** "" reads 0 */
  int(name: string): number {
    const s = this.str(name);
    if (s === '') return 0;
    if (!INT.test(s)) throw new ParseError(`${name}: '${s}' is not an integer`);
    return Number(s);
  }

  /** "" and 2147483647 read undefined */
  intOrUnset(name: string): number | undefined {
    const s = this.str(name);
    if (s === '') return undefined;
    if (!INT.test(s)) throw new ParseError(`${name}: '${s}' is not an integer`);
    const v = Number(s);
    return v === UNSET_INT ? undefined : v;
  }

  /** "", Double.MAX_VALUE and 2147483647 read undefined; Infinity stays (a meaningful value for some fields) */
  numOrUnset(name: string): number | undefined {
    const s = this.str(name).replaceAll(',', '');
    if (s === '') return undefined;
    if (s === 'Infinity' || s === '+Infinity') return Infinity;
    if (s === '-Infinity') return -Infinity;
    if (!NUM.test(s)) throw new ParseError(`${name}: '${s}' is not a number`);
    const v = Number(s);
    return v >= MAX_DOUBLE || v === UNSET_INT ? undefined : v;
  }

  /** 1/0 (also true/false); "" reads `empty` */
  bool(name: string, empty = false): boolean {
    const s = this.str(name);
    if (s === '') return empty;
    if (s === '1' || s === 'true') return true;
    if (s === '0' || s === 'false') return false;
    throw new ParseError(`${name}: '${s}' is not a boolean (1/0)`);
  }

  /** fails when fields are left over: the message did not have the expected layout */
  end(what: string): void {
    if (this.pos !== this.fields.length) {
      throw new ParseError(`${what}: ${this.fields.length - this.pos} unexpected field(s) left after field ${this.pos}`);
    }
  }
}
