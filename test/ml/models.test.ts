import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as gbt from '../../engine/ml/gbt.ts';
import * as logistic from '../../engine/ml/logistic.ts';
import { mulberry32 } from './random.ts';

const F = 11;

/** Uniform features in [-1, 1), except feature 3, which is on a raw scale (offset 50, spread 100). */
function features(n: number, rnd: () => number): Float64Array {
  const x = new Float64Array(n * F);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  for (let i = 0; i < n; i++) x[i * F + 3] = 50 + 50 * x[i * F + 3];
  return x;
}

/** y ~ Bernoulli(sigmoid(TRUE_COEF . x + TRUE_INTERCEPT)); the Bayes classifier is TRUE_LOGIT > 0. */
const TRUE_COEF = [2, -1.5, 0, 0.02, 0, 0, 0.8, 0, 0, 0, 0];
const TRUE_INTERCEPT = -1;
const trueLogit = (x: Float64Array, i: number) => TRUE_COEF.reduce((s, c, j) => s + c * x[i * F + j], TRUE_INTERCEPT);

function linearProblem(n: number, seed: number) {
  const rnd = mulberry32(seed);
  const x = features(n, rnd);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = rnd() < 1 / (1 + Math.exp(-trueLogit(x, i))) ? 1 : 0;
  return { x, y, n };
}

/** y = (x0 > 0.3 and x1 > -0.2), flipped with probability 5%: Bayes accuracy 0.95. */
function ruleProblem(n: number, seed: number) {
  const rnd = mulberry32(seed);
  const x = features(n, rnd);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rule = x[i * F] > 0.3 && x[i * F + 1] > -0.2 ? 1 : 0;
    y[i] = rnd() < 0.05 ? 1 - rule : rule;
  }
  return { x, y, n };
}

const accuracy = (p: Float64Array, y: Uint8Array) => p.reduce((s, pi, i) => s + ((pi > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / y.length;

const nextFloat32 = (x: number, dir: 1 | -1): number => {
  if (x === 0) return dir * 2 ** -149;
  const f = new Float32Array([x]);
  new Int32Array(f.buffer)[0] += x > 0 === dir > 0 ? 1 : -1;
  return f[0];
};

describe('logistic regression', () => {
  const train = linearProblem(40_000, 1);
  const test = linearProblem(20_000, 2);
  const model = logistic.train(train.x, train.y, F);

  it('recovers the generating coefficients on raw features', () => {
    const { coef, intercept } = logistic.rawCoefficients(model);
    TRUE_COEF.forEach((c, j) => {
      // feature 3 spans 100 units, so its coefficient is 100x smaller: compare effects over the range
      const span = j === 3 ? 100 : 2;
      expect(Math.abs(coef[j] - c) * span, `feature ${j}: fitted ${coef[j]}, true ${c}`).toBeLessThan(0.15);
    });
    expect(Math.abs(intercept - TRUE_INTERCEPT)).toBeLessThan(0.15);
  });

  it('predicts out of sample about as well as the true model', () => {
    const bayes = accuracy(
      Float64Array.from({ length: test.n }, (_, i) => (trueLogit(test.x, i) > 0 ? 1 : 0)),
      test.y,
    );
    const acc = accuracy(logistic.predict(model, test.x, F), test.y);
    expect(bayes).toBeGreaterThan(0.7);
    expect(acc).toBeGreaterThan(bayes - 0.01);
  });

  it('is deterministic', () => {
    expect(logistic.train(train.x, train.y, F)).toEqual(model);
  });

  it('a stronger L2 penalty shrinks the coefficients', () => {
    const shrunk = logistic.train(train.x, train.y, F, { l2: 1 });
    const norm = (m: logistic.LogisticModel) => Math.hypot(...m.weights);
    expect(norm(shrunk)).toBeLessThan(0.7 * norm(model));
  });

  it('rejects NaN features naming the row and feature, in training and prediction', () => {
    const x = train.x.slice(0, 10 * F);
    x[3 * F + 2] = NaN;
    expect(() => logistic.train(x, train.y.slice(0, 10), F)).toThrow(/row 3, feature 2 is NaN/);
    expect(() => logistic.predict(model, x, F)).toThrow(/row 3, feature 2 is NaN/);
    x[3 * F + 2] = 1e39; // finite as a double, Infinity as float32
    expect(() => logistic.predict(model, x, F)).toThrow(/row 3, feature 2 is 1e\+39/);
  });
});

describe('gradient-boosted trees', () => {
  const train = ruleProblem(30_000, 3);
  const test = ruleProblem(20_000, 4);
  const options = { nTrees: 60, maxDepth: 3, learningRate: 0.2 };
  const model = gbt.train(train.x, train.y, F, options);

  it('learns the rule close to the Bayes accuracy, where a linear model cannot', () => {
    const acc = accuracy(gbt.predict(model, test.x, F), test.y);
    expect(acc).toBeGreaterThan(0.935);
    const linear = accuracy(logistic.predict(logistic.train(train.x, train.y, F), test.x, F), test.y);
    expect(acc).toBeGreaterThan(linear + 0.02);
  });

  it('finds the generating split first: x0 near 0.3', () => {
    const t = model.trees[0];
    expect(t.feature[0]).toBe(0);
    expect(Math.abs(t.threshold[0] - 0.3)).toBeLessThan(0.04);
  });

  it('relies on features 0 and 1 only: scrambling one of them costs accuracy, scrambling noise does not', () => {
    const base = accuracy(gbt.predict(model, test.x, F), test.y);
    const drop = (j: number) => {
      const x = test.x.slice();
      // each row takes feature j from the next row
      for (let i = 0; i < test.n; i++) x[i * F + j] = test.x[((i + 1) % test.n) * F + j];
      return base - accuracy(gbt.predict(model, x, F), test.y);
    };
    expect(drop(0)).toBeGreaterThan(0.1);
    expect(drop(1)).toBeGreaterThan(0.05);
    for (let j = 2; j < F; j++) expect(drop(j), `feature ${j}`).toBeLessThan(0.01);
  });

  it('is deterministic', () => {
    expect(gbt.train(train.x, train.y, F, options)).toEqual(model);
  });

  it('respects depth and minimum leaf size', () => {
    const small = gbt.train(train.x.subarray(0, 2000 * F), train.y.subarray(0, 2000), F, { nTrees: 5, maxDepth: 2, minSamplesLeaf: 300 });
    const rows = train.x.subarray(0, 2000 * F);
    for (const t of small.trees) {
      const depth = (node: number): number => (t.feature[node] < 0 ? 0 : 1 + Math.max(depth(t.left[node]), depth(t.right[node])));
      expect(depth(0)).toBeLessThanOrEqual(2);
      // count training rows reaching each leaf by the predict rule
      const counts = new Map<number, number>();
      for (let i = 0; i < 2000; i++) {
        let node = 0;
        while (t.feature[node] >= 0) node = Math.fround(rows[i * F + t.feature[node]]) <= t.threshold[node] ? t.left[node] : t.right[node];
        counts.set(node, (counts.get(node) ?? 0) + 1);
      }
      for (const c of counts.values()) expect(c).toBeGreaterThanOrEqual(300);
    }
  });

  it('thresholds are float32 values and leaves sit on a grid whose sums are exact in float32', () => {
    const values = [model.baseScore, ...model.trees.flatMap((t) => t.value)];
    const thresholds = model.trees.flatMap((t) => t.threshold.filter((_, i) => t.feature[i] >= 0));
    for (const v of thresholds) expect(Math.fround(v)).toBe(v);
    // every value is a multiple of 2^-q (the smallest such q) ...
    let q = 0;
    while (q < 60 && !values.every((v) => Number.isInteger(v * 2 ** q))) q++;
    expect(q).toBeLessThan(60);
    // ... and a row's partial sums (base + one leaf per tree) stay below 2^24 steps of 2^-q
    const bound = model.trees.reduce((s, t) => s + Math.max(...t.value.map(Math.abs)), Math.abs(model.baseScore));
    expect(bound * 2 ** q).toBeLessThan(2 ** 24);
  });

  it('goes left exactly when fround(x) <= threshold (ONNX BRANCH_LEQ on float32)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: Math.fround(-3e38), max: Math.fround(3e38) }), fc.double({ noNaN: true, min: -3e38, max: 3e38 }), (t, x) => {
        const stump: gbt.GbtModel = {
          kind: 'gbt',
          nFeatures: 1,
          baseScore: 0,
          trees: [{ feature: [0, -1, -1], threshold: [t, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, -1, 1] }],
        };
        const p = gbt.predict(stump, Float64Array.of(x, t, nextFloat32(t, 1), nextFloat32(t, -1)), 1);
        const left = 1 / (1 + Math.exp(1));
        const right = 1 / (1 + Math.exp(-1));
        expect(p[0]).toBe(Math.fround(x) <= t ? left : right);
        expect([p[1], p[2], p[3]]).toEqual([left, right, left]);
      }),
    );
  });

  it('rejects NaN features naming the row and feature, in training and prediction', () => {
    const x = train.x.slice(0, 100 * F);
    x[7 * F + 5] = NaN;
    expect(() => gbt.train(x, train.y.slice(0, 100), F)).toThrow(/row 7, feature 5 is NaN/);
    expect(() => gbt.predict(model, x, F)).toThrow(/row 7, feature 5 is NaN/);
  });
});
