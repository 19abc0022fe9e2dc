import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as gbt from '../../engine/ml/gbt.ts';
import * as logistic from '../../engine/ml/logistic.ts';
import { gbtToOnnx, logisticToOnnx } from '../../engine/ml/onnx-export.ts';
import { OnnxModel } from '../../engine/ml/onnx-model.ts';
import { mulberry32 } from './random.ts';

const F = 11;
const CARD = { inputName: 'features', outputName: 'probability', nFeatures: F };

/** Features in [-1, 1) (feature 3 on a raw 0..100 scale); y mixes a threshold rule with a linear term. */
function problem(n: number, seed: number, nFeatures = F) {
  const rnd = mulberry32(seed);
  const x = new Float64Array(n * nFeatures);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  for (let i = 0; i < n; i++) x[i * nFeatures + 3] = 50 + 50 * x[i * nFeatures + 3];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = (x[i * nFeatures] > 0.3 ? 2 : -1) + 1.5 * x[i * nFeatures + 1] + 0.02 * (x[i * nFeatures + 3] - 50);
    y[i] = rnd() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
  }
  return { x, y, n };
}

const nextFloat32 = (x: number, dir: 1 | -1): number => {
  if (x === 0) return dir * 2 ** -149;
  const f = new Float32Array([x]);
  new Int32Array(f.buffer)[0] += x > 0 === dir > 0 ? 1 : -1;
  return f[0];
};

/**
 * For every split of the ensemble, rows that differ from a test row only in the split's feature, set to the
 * threshold, one float32 ulp either side, and doubles a quarter ulp either side (which round to the threshold).
 */
function boundaryRows(model: gbt.GbtModel, base: Float64Array): Float64Array {
  const rows: number[] = [];
  let k = 0;
  for (const t of model.trees) {
    for (let node = 0; node < t.feature.length; node++) {
      const f = t.feature[node];
      if (f < 0) continue;
      const th = t.threshold[node];
      const up = nextFloat32(th, 1);
      const down = nextFloat32(th, -1);
      for (const v of [th, up, down, th + (up - th) / 4, th - (th - down) / 4]) {
        const row = Array.from(base.subarray((k % (base.length / F)) * F, (k % (base.length / F)) * F + F));
        row[f] = v;
        rows.push(...row);
        k++;
      }
    }
  }
  return Float64Array.from(rows);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const dir = mkdtempSync(path.join(tmpdir(), 'tradebench-onnx-'));
const train = problem(20_000, 11);
const test = problem(5_000, 12);
// 100 trees: above onnxruntime's threshold (80) for summing trees on several threads when predicting one row
const gbtModel = gbt.train(train.x, train.y, F, { nTrees: 100, maxDepth: 4, learningRate: 0.3, minSamplesLeaf: 10 });
const logisticModel = logistic.train(train.x, train.y, F);
const files = { gbt: path.join(dir, 'gbt.onnx'), logistic: path.join(dir, 'logistic.onnx') };
const meta = { features: Array.from({ length: F }, (_, j) => `f${j}`).join(','), version: '1' };
const opened: OnnxModel[] = [];
const load = async (file: string, card = CARD, options?: { chunkRows?: number }) => {
  const m = await OnnxModel.load(file, card, options);
  opened.push(m);
  return m;
};

beforeAll(() => {
  writeFileSync(files.gbt, gbtToOnnx(gbtModel, meta));
  writeFileSync(files.logistic, logisticToOnnx(logisticModel, meta));
});

afterAll(async () => {
  for (const m of opened) await m.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ONNX export', () => {
  it('writes the graph contract and the metadata', () => {
    for (const [file, domains] of [
      [files.gbt, ['', 'ai.onnx.ml']],
      [files.logistic, ['']],
    ] as const) {
      const model = onnxProto.onnx.ModelProto.decode(readFileSync(file));
      expect(model.producerName).toBe('tradebench');
      expect(Number(model.irVersion)).toBe(8);
      expect(model.opsetImport.map((o) => o.domain ?? '')).toEqual(domains);
      expect(Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]))).toEqual(meta);
      const g = model.graph!;
      expect((g.input ?? []).map((i) => i.name)).toEqual(['features']);
      expect((g.output ?? []).map((o) => o.name)).toEqual(['probability']);
    }
  });
});

describe('ONNX models reproduce the TypeScript models', () => {
  it('GBT: on test rows and on rows exactly on and one float32 ulp around every split threshold', async () => {
    const edges = boundaryRows(gbtModel, test.x);
    const model = await load(files.gbt);
    for (const rows of [test.x, edges]) {
      const n = rows.length / F;
      expect(maxAbsDiff(await model.predictBatch(rows, n), gbt.predict(gbtModel, rows, F))).toBeLessThan(1e-6);
    }
    // the edge rows do straddle splits: on the threshold and one ulp above usually predict differently
    const ts = gbt.predict(gbtModel, edges, F);
    let straddled = 0;
    for (let k = 0; k < ts.length; k += 5) if (ts[k] !== ts[k + 1]) straddled++;
    expect(straddled / (ts.length / 5)).toBeGreaterThan(0.9);
  });

  it('logistic: on test rows and on rows far outside the training range', async () => {
    const wide = test.x.map((v, i) => (i % F === 3 ? v * 3 - 100 : v * 5));
    const model = await load(files.logistic);
    for (const rows of [test.x, wide]) {
      const n = rows.length / F;
      expect(maxAbsDiff(await model.predictBatch(rows, n), logistic.predict(logisticModel, rows, F))).toBeLessThan(1e-6);
    }
  });

  for (const kind of ['gbt', 'logistic'] as const) {
    it(`${kind}: predictOne agrees with predictBatch, and chunked batches with one batch`, async () => {
      const model = await load(files[kind]);
      const chunked = await load(files[kind], CARD, { chunkRows: 997 });
      const batch = await model.predictBatch(test.x, test.n);
      expect(maxAbsDiff(await chunked.predictBatch(test.x, test.n), batch)).toBeLessThan(1e-6);
      const one = new Float64Array(400);
      for (let i = 0; i < one.length; i++) one[i] = await model.predictOne(test.x.subarray(i * F, i * F + F));
      expect(maxAbsDiff(one, batch.subarray(0, one.length))).toBeLessThan(1e-6);
    });
  }
});

describe('OnnxModel guards', () => {
  it('rejects a model whose input or output does not match its card, naming the file and both shapes', async () => {
    await expect(OnnxModel.load(files.gbt, { ...CARD, inputName: 'foo' })).rejects.toThrow(
      `model ${files.gbt}: input 'features' float32 [N, 11] does not match its card: card says 'foo' float32 [N, 11]`,
    );
    await expect(OnnxModel.load(files.logistic, { ...CARD, nFeatures: 12 })).rejects.toThrow(
      `model ${files.logistic}: input 'features' float32 [N, 11] does not match its card: card says 'features' float32 [N, 12]`,
    );
    await expect(OnnxModel.load(files.gbt, { ...CARD, outputName: 'score' })).rejects.toThrow(
      `model ${files.gbt}: output 'probability' float32 [N, 1] does not match its card: card says 'score' float32 [N, 1]`,
    );
  });

  it('rejects a model trained on a different number of features', async () => {
    const ten = problem(500, 5, 10);
    const file = path.join(dir, 'ten.onnx');
    writeFileSync(file, logisticToOnnx(logistic.train(ten.x, ten.y, 10)));
    await expect(OnnxModel.load(file, CARD)).rejects.toThrow(
      `model ${file}: input 'features' float32 [N, 10] does not match its card: card says 'features' float32 [N, 11]`,
    );
  });

  it('rejects NaN features naming the row and feature', async () => {
    const model = await load(files.gbt);
    const rows = test.x.slice(0, 20 * F);
    rows[4 * F + 9] = NaN;
    await expect(model.predictBatch(rows, 20)).rejects.toThrow(/row 4, feature 9 is NaN/);
    await expect(model.predictOne(rows.subarray(4 * F, 5 * F))).rejects.toThrow(/row 0, feature 9 is NaN/);
  });

  it('refuses overlapping predictOne calls, which would share the input buffer', async () => {
    const model = await load(files.logistic);
    const row = test.x.subarray(0, F);
    const first = model.predictOne(row);
    await expect(model.predictOne(row)).rejects.toThrow(/still running/);
    expect(await first).toBeCloseTo(logistic.predict(logisticModel, row, F)[0], 6);
    expect(await model.predictOne(row)).toBeCloseTo(await first, 12);
  });
});
