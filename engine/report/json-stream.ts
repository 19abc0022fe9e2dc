// JSON text in pieces, for outputs too big to hold as one string (a long run's report.json and report.html):
// the concatenated pieces are exactly JSON.stringify(value, null, indent), yet no piece is bigger than one
// element of an array or one property of an object below `depth` levels.

/** How deep objects are split into their properties; below it, each value is one JSON.stringify. */
const SPLIT_DEPTH = 3;
/** Elements of an array stringified together (a slice of a long array of orders is about 100 kB of text). */
const ARRAY_SLICE = 256;

function isPlainContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  // boxed primitives and values with toJSON are left to JSON.stringify, which unwraps them
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { toJSON?: unknown }).toJSON !== 'function' &&
    !(v instanceof Number || v instanceof String || v instanceof Boolean)
  );
}

/** `value` inside `levels` arrays: JSON.stringify then lays it out `levels` indents deep. */
function nest(value: unknown, levels: number): unknown {
  let v = value;
  for (let k = 0; k < levels; k++) v = [v];
  return v;
}

interface Shell {
  /** characters of brackets, newlines and indentation before the value */
  head: number;
  /** where the line of the value starts: its newline (head when the text has no newlines) */
  line: number;
  /** characters after the value */
  tail: number;
}

const shells = new Map<string, Shell>();

/** Where a value nested `levels` arrays deep sits in JSON.stringify's text. */
function shell(indent: number, levels: number): Shell {
  const key = `${indent}:${levels}`;
  let s = shells.get(key);
  if (s === undefined) {
    const text = JSON.stringify(nest(0, levels), null, indent);
    const at = text.indexOf('0');
    const nl = text.lastIndexOf('\n', at);
    s = { head: at, line: nl < 0 ? at : nl, tail: text.length - at - 1 };
    shells.set(key, s);
  }
  return s;
}

/**
 * `JSON.stringify(value, null, indent)` re-indented to sit after `pad` (its first line not indented). A
 * container is stringified nested in arrays as deep as `pad`, so JSON.stringify writes the indentation itself
 * (no second pass over the text to re-indent it).
 */
function stringifyAt(value: unknown, indent: number, pad: string): string | undefined {
  if (indent === 0 || pad === '' || !isPlainContainer(value)) return JSON.stringify(value, null, indent);
  const levels = pad.length / indent;
  const text = JSON.stringify(nest(value, levels), null, indent);
  const { head, tail } = shell(indent, levels);
  return text.slice(head, text.length - tail);
}

/**
 * The pieces of `JSON.stringify(value, null, indent)`: arrays and objects in the first levels are written
 * element by element. `undefined`, functions and symbols behave as in JSON.stringify (dropped from
 * objects, null in arrays); a value with toJSON is stringified whole. Yields nothing for a top-level
 * value JSON.stringify would return undefined for.
 */
export function* jsonChunks(value: unknown, indent = 0, pad = '', depth = 0): Generator<string> {
  if (!isPlainContainer(value) || depth >= SPLIT_DEPTH) {
    const s = stringifyAt(value, indent, pad);
    if (s !== undefined) yield s;
    return;
  }
  const inner = indent > 0 ? pad + ' '.repeat(indent) : '';
  const nl = indent > 0 ? `\n${inner}` : '';
  const colon = indent > 0 ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return void (yield '[]');
    yield '[';
    // slices of the array, each one JSON.stringify without its brackets: one call per ARRAY_SLICE elements,
    // nested as deep as `pad` so that JSON.stringify indents it (see stringifyAt)
    const levels = indent > 0 ? pad.length / indent : 0;
    const { line, tail } = shell(indent, levels + 1);
    for (let i = 0; i < value.length; i += ARRAY_SLICE) {
      const text = JSON.stringify(nest(value.slice(i, i + ARRAY_SLICE), levels), null, indent);
      // from the newline before the first element to the end of the last one
      const body = text.slice(line, text.length - tail);
      yield i > 0 ? `,${body}` : body;
    }
    yield indent > 0 ? `\n${pad}]` : ']';
    return;
  }
  let first = true;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield (first ? '{' : ',') + nl + JSON.stringify(key) + colon;
    first = false;
    yield* jsonChunks(v, indent, inner, depth + 1);
  }
  yield first ? '{}' : indent > 0 ? `\n${pad}}` : '}';
}

/** Escapes for JSON inside `<script type="application/json">` (see format.ts jsonForScript): applied per piece. */
export function scriptSafe(s: string): string {
  if (!/[<>&\u2028\u2029]/.test(s)) return s;
  return s
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The pieces of jsonForScript(value). */
export function* jsonForScriptChunks(value: unknown): Generator<string> {
  for (const piece of jsonChunks(value)) yield scriptSafe(piece);
}
