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

/** `JSON.stringify(value, null, indent)` re-indented to sit `depth` levels deep (its first line not indented). */
function stringifyAt(value: unknown, indent: number, pad: string): string | undefined {
  const s = JSON.stringify(value, null, indent);
  // JSON text has no raw newline inside a string, so every newline starts a line of the layout
  return s === undefined || indent === 0 || pad === '' ? s : s.replace(/\n/g, `\n${pad}`);
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
    // slices of the array, each one JSON.stringify without its brackets: one call per ARRAY_SLICE elements
    for (let i = 0; i < value.length; i += ARRAY_SLICE) {
      const text = JSON.stringify(value.slice(i, i + ARRAY_SLICE), null, indent);
      const body = indent > 0 ? text.slice(2, -2) : text.slice(1, -1);
      yield (i > 0 ? ',' : '') + (indent > 0 ? `\n${pad}${body.replace(/\n/g, `\n${pad}`)}` : body);
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
