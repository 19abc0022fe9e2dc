/**
 * ONNX export of the models in engine/ml. Every graph takes `features` float32 [N, F] (raw feature rows)
 * and returns `probability` float32 [N, 1] = P(class 1); `meta` goes into metadata_props.
 */
import onnxProto from 'onnx-proto';
import type { GbtModel } from './gbt.ts';
import type { LogisticModel } from './logistic.ts';

export { readMetadataProps, withMetadataProps } from './onnx-metadata.ts';

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
