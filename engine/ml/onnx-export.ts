/**
 * ONNX export of the models in engine/ml. Every graph takes `features` float32 [N, F] (raw feature rows)
 * and returns `probability` float32 [N, 1] = P(class 1); `meta` goes into metadata_props.
 */
import onnxProto from 'onnx-proto';
import type { GbtModel } from './gbt.ts';
import type { LogisticModel } from './logistic.ts';

const { onnx } = onnxProto;
type Attr = InstanceType<typeof onnx.AttributeProto>;

export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'probability';
const IR_VERSION = 8;
const OPSET = 17;
const ML_OPSET = 3;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const A = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

const floatTensor = (name: string, dims: number[], values: number[]) => onnx.TensorProto.create({ name, dims, dataType: FLOAT, floatData: values });

const floatIO = (name: string, dims: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });

const attr = {
  ints: (name: string, ints: number[]): Attr => onnx.AttributeProto.create({ name, type: A.INTS, ints }),
  int: (name: string, i: number): Attr => onnx.AttributeProto.create({ name, type: A.INT, i }),
  floats: (name: string, floats: number[]): Attr => onnx.AttributeProto.create({ name, type: A.FLOATS, floats }),
  string: (name: string, s: string): Attr => onnx.AttributeProto.create({ name, type: A.STRING, s: utf8.encode(s) }),
  strings: (name: string, strings: string[]): Attr => onnx.AttributeProto.create({ name, type: A.STRINGS, strings: strings.map((s) => utf8.encode(s)) }),
};

function encodeModel(
  graph: { nodes: InstanceType<typeof onnx.NodeProto>[]; initializers: InstanceType<typeof onnx.TensorProto>[]; name: string },
  nFeatures: number,
  opsets: { domain: string; version: number }[],
  meta: Record<string, string>,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'tradebench',
    opsetImport: opsets.map((o) => onnx.OperatorSetIdProto.create(o)),
    metadataProps: Object.entries(meta).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    graph: onnx.GraphProto.create({
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [floatIO(INPUT_NAME, ['N', nFeatures])],
      output: [floatIO(OUTPUT_NAME, ['N', 1])],
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** sigmoid(((features - mean) / scale) @ weights + intercept) */
export function logisticToOnnx(model: LogisticModel, meta: Record<string, string> = {}): Uint8Array {
  const f = model.nFeatures;
  const node = (opType: string, input: string[], output: string) => onnx.NodeProto.create({ opType, input, output: [output], name: output });
  return encodeModel(
    {
      name: 'logistic',
      initializers: [
        floatTensor('mean', [f], model.mean),
        floatTensor('scale', [f], model.scale),
        floatTensor('weights', [f, 1], model.weights),
        floatTensor('intercept', [1], [model.intercept]),
      ],
      nodes: [
        node('Sub', [INPUT_NAME, 'mean'], 'centred'),
        node('Div', ['centred', 'scale'], 'standardised'),
        node('MatMul', ['standardised', 'weights'], 'product'),
        node('Add', ['product', 'intercept'], 'logit'),
        node('Sigmoid', ['logit'], OUTPUT_NAME),
      ],
    },
    f,
    [{ domain: '', version: OPSET }],
    meta,
  );
}

/** TreeEnsembleRegressor (ai.onnx.ml, BRANCH_LEQ: true branch = left) summing leaves onto the base score, then Sigmoid. */
export function gbtToOnnx(model: GbtModel, meta: Record<string, string> = {}): Uint8Array {
  const nodes = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
  };
  const targets = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };
  model.trees.forEach((t, treeId) => {
    for (let i = 0; i < t.feature.length; i++) {
      const leaf = t.feature[i] < 0;
      nodes.treeIds.push(treeId);
      nodes.nodeIds.push(i);
      nodes.featureIds.push(leaf ? 0 : t.feature[i]);
      nodes.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      nodes.values.push(leaf ? 0 : t.threshold[i]);
      nodes.trueIds.push(leaf ? 0 : t.left[i]);
      nodes.falseIds.push(leaf ? 0 : t.right[i]);
      if (leaf) {
        targets.treeIds.push(treeId);
        targets.nodeIds.push(i);
        targets.ids.push(0);
        targets.weights.push(t.value[i]);
      }
    }
  });
  const ensemble = onnx.NodeProto.create({
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    name: 'ensemble',
    input: [INPUT_NAME],
    output: ['margin'],
    attribute: [
      attr.int('n_targets', 1),
      attr.string('aggregate_function', 'SUM'),
      attr.string('post_transform', 'NONE'),
      attr.floats('base_values', [model.baseScore]),
      attr.ints('nodes_treeids', nodes.treeIds),
      attr.ints('nodes_nodeids', nodes.nodeIds),
      attr.ints('nodes_featureids', nodes.featureIds),
      attr.strings('nodes_modes', nodes.modes),
      attr.floats('nodes_values', nodes.values),
      attr.ints('nodes_truenodeids', nodes.trueIds),
      attr.ints('nodes_falsenodeids', nodes.falseIds),
      attr.ints('target_treeids', targets.treeIds),
      attr.ints('target_nodeids', targets.nodeIds),
      attr.ints('target_ids', targets.ids),
      attr.floats('target_weights', targets.weights),
    ],
  });
  const sigmoid = onnx.NodeProto.create({ opType: 'Sigmoid', input: ['margin'], output: [OUTPUT_NAME], name: 'sigmoid' });
  return encodeModel(
    { name: 'gbt', initializers: [], nodes: [ensemble, sigmoid] },
    model.nFeatures,
    [
      { domain: '', version: OPSET },
      { domain: 'ai.onnx.ml', version: ML_OPSET },
    ],
    meta,
  );
}

// metadata_props of an existing ONNX file, read and set at the protobuf wire level: every other byte of
// the file (graph, opsets, fields of ONNX versions newer than onnx-proto's schema) is kept exactly as it is,
// so a model exported elsewhere (scikit-learn, PyTorch) can carry its card's seal too.

/** ModelProto field 14: repeated StringStringEntryProto metadata_props { key = 1; value = 2 } */
const METADATA_PROPS = 14;
const LEN = 2;
const decoder = new TextDecoder('utf-8', { fatal: true });

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
