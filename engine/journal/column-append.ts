import type { DuckDBConnection, DuckDBType, DuckDBVector } from '@duckdb/node-api';
import { BOOLEAN, DuckDBDataChunk, DOUBLE, ENUM, INTEGER, VARCHAR } from '../duckdb.ts';

/**
 * How a value travels to its journal column:
 * - int: INTEGER; bigint: BIGINT (from an integral number);
 * - double: DOUBLE as it is (NaN stays NaN); finite: DOUBLE, NULL when not finite (NaN, ±Infinity);
 * - bool: BOOLEAN; text: VARCHAR; optionalText: VARCHAR, NULL for undefined (a field most rows lack).
 */
export type ColumnKind = 'int' | 'bigint' | 'double' | 'finite' | 'bool' | 'text' | 'optionalText';

const isText = (k: ColumnKind) => k === 'text' || k === 'optionalText';

/** A journal table's columns in its order, by name. */
export type Columns = Readonly<Record<string, ColumnKind>>;

/*
 * Why not the appender's row calls (appendVarchar, ...): each is a call into the native side, and appendVarchar
 * converts its string there, while a backtest's journal repeats a few strings (the run id, symbols, statuses)
 * over 100k+ rows. Here the rows go in data chunks of DuckDB's vector size, and the appender casts each chunk
 * column to its table column:
 * - a text column whose chunk has few distinct strings goes as an ENUM of them (so each string crosses once
 *   per chunk, not once per row), cast to VARCHAR; other text goes as VARCHAR;
 * - a bigint goes as a DOUBLE (exact for an integer below 2^63), cast to BIGINT, so no BigInt per row.
 */

/** Rows per data chunk: DuckDB's vector size, the most a chunk holds. */
const CHUNK = 2048;

/** Chunks between appender flushes: the appender's own buffer stays small however long the run. */
const FLUSH_EVERY = 24;

/**
 * Most distinct strings a text column sends as an ENUM: its strings cross whenever a chunk is made with it (and
 * its vector read), so a column with more (say an id per row) goes as VARCHAR.
 */
const ENUM_MAX = 256;

/** An ENUM of the strings would not give them back: NUL ends an ENUM member, a lone surrogate changes. */
const NOT_ENUM = /[\0\p{Cs}]/u;

/** Collects one chunk's rows, column by column, in the table's column order. */
export class ColumnWriter {
  private readonly numbers: (Float64Array | null)[];
  private readonly ints: (Int32Array | null)[];
  private readonly bools: (Uint8Array | null)[];
  private readonly texts: (TextColumn | null)[];
  /** optionalText columns: 1 where the row's value is NULL */
  private readonly nulls: (Uint8Array | null)[];
  private row = 0;
  private col = 0;
  private chunk: DuckDBDataChunk | null = null;
  private chunkVersion = 0;

  constructor(
    private readonly table: string,
    private readonly names: readonly string[],
    private readonly kinds: readonly ColumnKind[],
  ) {
    this.numbers = kinds.map((k) => (k === 'bigint' || k === 'double' || k === 'finite' ? new Float64Array(CHUNK) : null));
    this.ints = kinds.map((k) => (k === 'int' ? new Int32Array(CHUNK) : null));
    this.bools = kinds.map((k) => (k === 'bool' ? new Uint8Array(CHUNK) : null));
    this.texts = kinds.map((k) => (isText(k) ? new TextColumn() : null));
    this.nulls = kinds.map((k) => (k === 'optionalText' ? new Uint8Array(CHUNK) : null));
  }

  int(x: number): void {
    const c = this.next('int');
    if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) throw this.bad(c, x, 'a 32-bit integer');
    this.ints[c]![this.row] = x;
  }

  bigint(x: number): void {
    const c = this.next('bigint');
    if (!Number.isInteger(x) || x < -(2 ** 63) || x >= 2 ** 63) throw this.bad(c, x, 'a 64-bit integer');
    this.numbers[c]![this.row] = x;
  }

  double(x: number): void {
    const c = this.next('double');
    if (typeof x !== 'number') throw this.bad(c, x, 'a number');
    this.numbers[c]![this.row] = x;
  }

  finite(x: number): void {
    const c = this.next('finite');
    if (typeof x !== 'number') throw this.bad(c, x, 'a number');
    this.numbers[c]![this.row] = x;
  }

  bool(x: boolean): void {
    const c = this.next('bool');
    if (typeof x !== 'boolean') throw this.bad(c, x, 'a boolean');
    this.bools[c]![this.row] = x ? 1 : 0;
  }

  text(s: string): void {
    const c = this.next('text');
    if (typeof s !== 'string') throw this.bad(c, s, 'a string');
    this.texts[c]!.add(this.row, s);
  }

  /** text, or NULL for undefined */
  optionalText(s: string | undefined): void {
    const c = this.next('optionalText');
    if (s !== undefined && typeof s !== 'string') throw this.bad(c, s, 'a string or undefined');
    this.nulls[c]![this.row] = s === undefined ? 1 : 0;
    this.texts[c]!.add(this.row, s ?? '');
  }

  /** @internal ends a row: every column must have had its value */
  endRow(): void {
    if (this.col !== this.kinds.length) throw new Error(`journal ${this.table}: a row has ${this.col} of ${this.kinds.length} values`);
    this.row++;
    this.col = 0;
  }

  /** @internal the rows so far as a data chunk, and starts the next one */
  take(): DuckDBDataChunk {
    const n = this.row;
    let version = 0;
    for (const t of this.texts) version += t?.version ?? 0;
    // the last chunk again when its types are the same (it has been appended: the appender copied its rows)
    let chunk = this.chunk;
    if (chunk && version === this.chunkVersion) {
      chunk.reset();
      chunk.rowCount = n;
    } else {
      const types = this.kinds.map((k, c) => (isText(k) ? this.texts[c]!.type() : k === 'int' ? INTEGER : k === 'bool' ? BOOLEAN : DOUBLE));
      chunk = this.chunk = DuckDBDataChunk.create(types, n);
      this.chunkVersion = version;
    }
    for (let c = 0; c < this.kinds.length; c++) {
      const v = chunk.getColumnVector(c);
      const k = this.kinds[c];
      if (isText(k)) {
        this.texts[c]!.fill(v, n);
        const nulls = this.nulls[c];
        if (nulls) for (let i = 0; i < n; i++) if (nulls[i] === 1) v.setItem(i, null);
      } else if (k === 'int') {
        const xs = this.ints[c]!;
        if (!copy(v, xs, n)) for (let i = 0; i < n; i++) v.setItem(i, xs[i]);
      } else if (k === 'bool') {
        const xs = this.bools[c]!;
        for (let i = 0; i < n; i++) v.setItem(i, xs[i] === 1);
      } else {
        const xs = this.numbers[c]!;
        if (!copy(v, xs, n)) for (let i = 0; i < n; i++) v.setItem(i, xs[i]);
        if (k === 'finite') for (let i = 0; i < n; i++) if (!Number.isFinite(xs[i])) v.setItem(i, null);
      }
      v.flush();
    }
    this.row = 0;
    return chunk;
  }

  private next(kind: ColumnKind): number {
    const c = this.col++;
    if (this.kinds[c] !== kind) {
      throw new Error(`journal ${this.table}: column ${c + 1} (${this.names[c] ?? 'none'}) is ${this.kinds[c] ?? 'past the end'}, written as ${kind}`);
    }
    return c;
  }

  private bad(c: number, x: unknown, what: string): Error {
    return new Error(`journal ${this.table}.${this.names[c]}: ${String(x)} is not ${what}`);
  }
}

/**
 * Copies `n` values into the vector's own typed array (flush() hands it to DuckDB) in one go; false when the
 * node-api no longer has it (it keeps the field private; engine/data/load.ts reads chunks the same way).
 */
function copy(v: DuckDBVector, from: Int32Array | Float64Array, n: number): boolean {
  const items = (v as unknown as { items?: unknown }).items;
  const typed =
    items instanceof Int32Array || items instanceof Float64Array || items instanceof Uint8Array || items instanceof Uint16Array || items instanceof Uint32Array;
  if (!typed || items.length !== n) return false;
  items.set(from.subarray(0, n));
  return true;
}

/**
 * A text column: while it has few distinct strings (ENUM_MAX, none that an ENUM cannot hold), each row's
 * string as a code into them; after that, the rows' strings themselves.
 */
class TextColumn {
  /** the distinct strings so far, in code order (null once the column goes as VARCHAR) */
  private index: Map<string, number> | null = new Map();
  private readonly strings: string[] = [];
  readonly codes = new Int32Array(CHUNK);
  readonly rows: string[] = [];
  /** changes when the column's chunk type does (a new string in the ENUM, or VARCHAR from now on) */
  version = 0;

  add(row: number, s: string): void {
    if (this.index === null) {
      this.rows[row] = s;
      return;
    }
    let code = this.index.get(s);
    if (code === undefined) {
      if (this.strings.length === ENUM_MAX || NOT_ENUM.test(s)) {
        for (let i = 0; i < row; i++) this.rows[i] = this.strings[this.codes[i]];
        this.rows[row] = s;
        this.index = null;
        this.version++;
        return;
      }
      code = this.strings.push(s) - 1;
      this.index.set(s, code);
      this.version++;
    }
    this.codes[row] = code;
  }

  type(): DuckDBType {
    return this.index === null ? VARCHAR : ENUM([...this.strings]);
  }

  /** Sets the column's vector for the chunk's first `n` rows. */
  fill(v: DuckDBVector, n: number): void {
    // an ENUM's items are the codes (its strings are in the type, in code order)
    if (this.index !== null && copy(v, this.codes, n)) return;
    if (this.index !== null) for (let i = 0; i < n; i++) v.setItem(i, this.strings[this.codes[i]]);
    else for (let i = 0; i < n; i++) v.setItem(i, this.rows[i]);
  }
}

/**
 * Appends `rows` to `table` (a journal table with `columns`, in its order) in the connection's open
 * transaction: `row` writes each row's values through the writer, one call per column.
 */
export async function appendColumns<T>(
  conn: DuckDBConnection,
  table: string,
  columns: Columns,
  rows: readonly T[],
  row: (w: ColumnWriter, r: T, i: number) => void,
): Promise<void> {
  if (rows.length === 0) return;
  const w = new ColumnWriter(table, Object.keys(columns), Object.values(columns));
  const appender = await conn.createAppender(table);
  let done = false;
  try {
    let chunks = 0;
    for (let at = 0; at < rows.length; at += CHUNK) {
      const end = Math.min(rows.length, at + CHUNK);
      for (let i = at; i < end; i++) {
        row(w, rows[i], i);
        w.endRow();
      }
      appender.appendDataChunk(w.take());
      if (++chunks % FLUSH_EVERY === 0) appender.flushSync();
    }
    appender.flushSync();
    done = true;
  } finally {
    try {
      appender.closeSync();
    } catch (e) {
      // after a failed append, closing fails the same way: the first error is the one to report
      // biome-ignore lint/correctness/noUnsafeFinally: thrown only when the try block succeeded
      if (done) throw e;
    }
  }
}
