/**
 * Runs an ONNX model with onnxruntime-node: batched over history (backtests) and one row per bar (live).
 * Loading checks the model against its card (input/output names, float32 [N, nFeatures] input) so a wrong
 * file fails at load, not with a shape error mid-run. Features follow the contract in logistic.ts
 * (NaN or non-finite float32 is an error naming the row and feature; ONNX itself would silently branch on NaN).
 */
import type * as Ort from 'onnxruntime-node';
import { assertFeatures } from './feature-rows.ts';

export interface ModelExpectation {
  inputName: string;
  outputName: string;
  nFeatures: number;
  /** which column of a [N, k] output is P(class 1): 0 for this project's [N, 1] models, 1 for a scikit-learn [N, 2] `probabilities` */
  outputColumn?: number;
}

const DEFAULT_CHUNK_ROWS = 65_536;

/** onnxruntime-node, loaded by the first model load: a CLI that runs no model never pays its start-up. */
let runtime: Promise<typeof Ort> | undefined;
const onnxRuntime = () => (runtime ??= import('onnxruntime-node'));

type Meta = Ort.InferenceSession.ValueMetadata;
const describeValue = (m: Meta | undefined): string =>
  m === undefined ? 'nothing' : m.isTensor ? `'${m.name}' ${m.type} [${m.shape.join(', ')}]` : `'${m.name}' (not a tensor)`;

export class OnnxModel {
  readonly path: string;
  readonly expected: ModelExpectation;
  private readonly ort: typeof Ort;
  private readonly session: Ort.InferenceSession;
  private readonly chunkRows: number;
  private readonly one: Float32Array;
  private readonly oneTensor: Ort.Tensor;
  private pending = false;

  private constructor(ort: typeof Ort, session: Ort.InferenceSession, path: string, expected: ModelExpectation, chunkRows: number) {
    this.ort = ort;
    this.session = session;
    this.path = path;
    this.expected = expected;
    this.chunkRows = chunkRows;
    this.one = new Float32Array(expected.nFeatures);
    this.oneTensor = new ort.Tensor('float32', this.one, [1, expected.nFeatures]);
  }

  /**
   * `chunkRows` bounds the rows per session.run in predictBatch (memory), default 65536. `bytes`: the file's
   * contents, already read (and checked against its card): the session is built from them, so a file replaced
   * after the check is never run. `path` then only names the model in messages.
   */
  static async load(path: string, expected: ModelExpectation, options: { chunkRows?: number; bytes?: Uint8Array } = {}): Promise<OnnxModel> {
    const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isInteger(chunkRows) || chunkRows <= 0) throw new Error(`model ${path}: chunkRows must be a positive integer, got ${chunkRows}`);
    const ort = await onnxRuntime();
    const session = options.bytes === undefined ? await ort.InferenceSession.create(path) : await ort.InferenceSession.create(options.bytes);
    try {
      checkAgainstCard(session, path, expected);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new OnnxModel(ort, session, path, expected, chunkRows);
  }

  /** P(class 1) for n row-major rows, in chunks of chunkRows per session.run. */
  async predictBatch(rows: Float64Array, n: number): Promise<Float64Array> {
    const f = this.expected.nFeatures;
    if (rows.length !== n * f) throw new Error(`model ${this.path}: ${rows.length} values for ${n} rows of ${f} features`);
    assertFeatures(rows, f, `model ${this.path}`);
    const out = new Float64Array(n);
    const buffer = new Float32Array(Math.min(n, this.chunkRows) * f);
    for (let start = 0; start < n; start += this.chunkRows) {
      const m = Math.min(this.chunkRows, n - start);
      const input = buffer.subarray(0, m * f);
      input.set(rows.subarray(start * f, (start + m) * f));
      out.set(await this.run(new this.ort.Tensor('float32', input, [m, f])), start);
    }
    return out;
  }

  /**
   * P(class 1) for one row, reusing one input buffer. onnxruntime-node reads the buffer when the run
   * starts (after this returns), so calls must not overlap: await each before the next.
   */
  async predictOne(row: Float64Array): Promise<number> {
    if (this.pending) throw new Error(`model ${this.path}: predictOne called while a previous call is still running; await it first`);
    if (row.length !== this.expected.nFeatures) throw new Error(`model ${this.path}: row has ${row.length} features, the card says ${this.expected.nFeatures}`);
    assertFeatures(row, row.length, `model ${this.path}`);
    this.one.set(row);
    this.pending = true;
    try {
      return (await this.run(this.oneTensor))[0];
    } finally {
      this.pending = false;
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async run(input: Ort.Tensor): Promise<Float32Array> {
    const result = (await this.session.run({ [this.expected.inputName]: input }))[this.expected.outputName];
    const data = result.data as Float32Array;
    const width = result.dims[1];
    if (width === 1) return data;
    const col = this.expected.outputColumn ?? 0;
    return Float32Array.from({ length: data.length / width }, (_, i) => data[i * width + col]);
  }
}

function checkAgainstCard(session: Ort.InferenceSession, path: string, expected: ModelExpectation): void {
  const { inputName, outputName, nFeatures } = expected;
  const input = session.inputMetadata[0];
  const inputOk =
    session.inputNames.length === 1 &&
    input.name === inputName &&
    input.isTensor &&
    input.type === 'float32' &&
    input.shape.length === 2 &&
    typeof input.shape[0] === 'string' && // a symbolic batch dimension: any number of rows
    input.shape[1] === nFeatures;
  if (!inputOk) {
    const actual = session.inputNames.length === 1 ? describeValue(input) : `${session.inputNames.length} inputs (${session.inputNames.join(', ')})`;
    throw new Error(`model ${path}: input ${actual} does not match its card: card says '${inputName}' float32 [N, ${nFeatures}]`);
  }
  const outputs = session.outputMetadata;
  const output = outputs.find((m) => m.name === outputName) ?? (outputs.length === 1 ? outputs[0] : undefined);
  const col = expected.outputColumn ?? 0;
  const width = output?.isTensor ? output.shape[1] : undefined;
  // a symbolic width is checked when the model runs
  const outputOk =
    output?.name === outputName &&
    output.isTensor &&
    output.type === 'float32' &&
    output.shape.length === 2 &&
    (typeof width === 'string' || (typeof width === 'number' && col < width));
  if (!outputOk) {
    const actual = output === undefined ? `(none of ${session.outputNames.map((o) => `'${o}'`).join(', ')})` : describeValue(output);
    throw new Error(
      `model ${path}: output ${actual} does not match its card: card says '${outputName}' float32 [N, ${col === 0 ? 1 : `>${col}`}] with P(class 1) in column ${col}`,
    );
  }
}
