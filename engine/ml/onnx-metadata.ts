/**
 * metadata_props of an existing ONNX file, read and set at the protobuf wire level: every other byte of
 * the file (graph, opsets, fields of ONNX versions newer than onnx-proto's schema) is kept exactly as it is,
 * so a model exported elsewhere (scikit-learn, PyTorch) can carry its card's seal too. Apart from
 * onnx-export.ts, so that reading a model card does not load onnx-proto and protobufjs.
 */

/** ModelProto field 14: repeated StringStringEntryProto metadata_props { key = 1; value = 2 } */
const METADATA_PROPS = 14;
const LEN = 2;
const decoder = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

interface WireField {
  field: number;
  wire: number;
  /** the field's bytes, tag included */
  start: number;
  end: number;
  /** a length-delimited field's payload */
  payload?: [number, number];
}

function varint(b: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  for (let shift = 0, mul = 1; shift < 64; shift += 7, mul *= 128) {
    if (pos >= end) throw new Error('truncated varint');
    const byte = b[pos++];
    value += (byte & 0x7f) * mul;
    if (byte < 0x80) return [value, pos];
  }
  throw new Error('varint longer than 10 bytes');
}

function* wireFields(b: Uint8Array, from = 0, to = b.length): Generator<WireField> {
  let pos = from;
  while (pos < to) {
    const start = pos;
    const [tag, next] = varint(b, pos, to);
    pos = next;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error(`field number 0 at byte ${start}`);
    let payload: [number, number] | undefined;
    if (wire === 0) pos = varint(b, pos, to)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === LEN) {
      const [len, p] = varint(b, pos, to);
      payload = [p, p + len];
      pos = p + len;
    } else throw new Error(`unsupported wire type ${wire} at byte ${start}`);
    if (pos > to) throw new Error(`field ${field} at byte ${start} runs past the end`);
    yield { field, wire, start, end: pos, payload };
  }
}

function readEntry(b: Uint8Array, [from, to]: [number, number]): { key: string; value: string } {
  let key = '';
  let value = '';
  for (const f of wireFields(b, from, to)) {
    if (f.wire !== LEN) continue;
    const s = decoder.decode(b.subarray(f.payload![0], f.payload![1]));
    if (f.field === 1) key = s;
    else if (f.field === 2) value = s;
  }
  return { key, value };
}

/** The metadata_props of an ONNX file's bytes, in file order (a key may repeat), without decoding the graph. */
export function readMetadataProps(onnxBytes: Uint8Array): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  try {
    for (const f of wireFields(onnxBytes)) if (f.field === METADATA_PROPS && f.wire === LEN) out.push(readEntry(onnxBytes, f.payload!));
  } catch (e) {
    throw new Error(`not an ONNX (protobuf) file: ${(e as Error).message}`);
  }
  return out;
}

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...encodeVarint(field * 8 + LEN), ...encodeVarint(payload.length), ...payload]);
}

/**
 * The same ONNX file with `props` in its metadata_props: entries with those keys are replaced, every other
 * byte is kept in place, the new entries go at the end (protobuf fields may come in any order).
 */
export function withMetadataProps(onnxBytes: Uint8Array, props: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  try {
    for (const f of wireFields(onnxBytes)) {
      if (f.field === METADATA_PROPS && f.wire === LEN && Object.hasOwn(props, readEntry(onnxBytes, f.payload!).key)) continue;
      parts.push(onnxBytes.subarray(f.start, f.end));
    }
  } catch (e) {
    throw new Error(`not an ONNX (protobuf) file: ${(e as Error).message}`);
  }
  for (const [key, value] of Object.entries(props)) {
    const entry = new Uint8Array([...lengthDelimited(1, utf8.encode(key)), ...lengthDelimited(2, utf8.encode(value))]);
    parts.push(lengthDelimited(METADATA_PROPS, entry));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
