/**
 * L2-regularised logistic regression, fitted by Newton's method (IRLS) on standardised features.
 * The model keeps the standardisation, so it (and its ONNX export) takes raw feature rows.
 *
 * Feature contract shared by every model in engine/ml: rows are row-major (row i, feature j at
 * i * nFeatures + j), and each feature is used as a float32 value, as the ONNX input is float32.
 * A feature that is NaN or not finite as float32 is an error naming the row and the feature.
 */
import { assertFeatures } from './feature-rows.ts';

export interface LogisticModel {
  kind: 'logistic';
  nFeatures: number;
  /** Per feature: standardised x = (x - mean) / scale. */
  mean: number[];
  scale: number[];
  /** Coefficients on the standardised features, and the intercept (all float32 values). */
  weights: number[];
  intercept: number;
}

export interface LogisticOptions {
  /** Penalty l2 / 2 * |w|^2 added to the mean log-loss (the intercept is not penalised). Default 1e-4. */
  l2?: number;
  /** Newton iterations at most. Default 50. */
  maxIter?: number;
  /** Stop when no parameter moves more than this. Default 1e-10. */
  tol?: number;
}

function assertLabels(labels: ArrayLike<number>, n: number): void {
  if (labels.length !== n) throw new Error(`logistic.train: ${labels.length} labels for ${n} rows`);
  for (let i = 0; i < n; i++) if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`logistic.train: label of row ${i} is ${labels[i]}, expected 0 or 1`);
}

export function train(rows: Float64Array, labels: ArrayLike<number>, nFeatures: number, options: LogisticOptions = {}): LogisticModel {
  const { l2 = 1e-4, maxIter = 50, tol = 1e-10 } = options;
  assertFeatures(rows, nFeatures, 'logistic.train');
  const n = rows.length / nFeatures;
  if (n === 0) throw new Error('logistic.train: no rows');
  assertLabels(labels, n);
  const f = nFeatures;
  const p = f + 1; // parameter f is the intercept

  const mean = new Array<number>(f).fill(0);
  const scale = new Array<number>(f).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += Math.fround(rows[i * f + j]);
  for (let j = 0; j < f; j++) mean[j] = Math.fround(mean[j] / n);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) scale[j] += (Math.fround(rows[i * f + j]) - mean[j]) ** 2;
  // A constant feature keeps scale 1: its standardised column is all zero and its weight stays 0.
  for (let j = 0; j < f; j++) scale[j] = Math.fround(Math.sqrt(scale[j] / n) || 1);

  // Standardised design matrix with a trailing 1 for the intercept.
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) z[i * p + j] = (Math.fround(rows[i * f + j]) - mean[j]) / scale[j];
    z[i * p + f] = 1;
  }

  const objective = (beta: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += z[i * p + j] * beta[j];
      // log(1 + e^s) - y s, computed without overflow
      loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - labels[i] * s;
    }
    let pen = 0;
    for (let j = 0; j < f; j++) pen += beta[j] * beta[j];
    return loss / n + (l2 / 2) * pen;
  };

  let beta = new Float64Array(p);
  let current = objective(beta);
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  for (let iter = 0; iter < maxIter; iter++) {
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * p;
      let s = 0;
      for (let j = 0; j < p; j++) s += z[row + j] * beta[j];
      const mu = 1 / (1 + Math.exp(-s));
      const r = mu - labels[i];
      const w = mu * (1 - mu);
      for (let a = 0; a < p; a++) {
        const za = z[row + a];
        grad[a] += r * za;
        const wa = w * za;
        for (let b = 0; b <= a; b++) hess[a * p + b] += wa * z[row + b];
      }
    }
    for (let a = 0; a < p; a++) {
      grad[a] /= n;
      for (let b = 0; b <= a; b++) hess[a * p + b] /= n;
      if (a < f) {
        grad[a] += l2 * beta[a];
        hess[a * p + a] += l2;
      }
    }
    const step = choleskySolve(hess, grad, p);
    // Step halving keeps every iteration a descent step (Newton can overshoot on near-separable data).
    let t = 1;
    let next = beta;
    let value = current;
    for (let halvings = 0; halvings < 30; halvings++, t /= 2) {
      const cand = beta.map((b, j) => b - t * step[j]);
      const v = objective(cand);
      if (v <= current) {
        next = cand;
        value = v;
        break;
      }
    }
    let moved = 0;
    for (let j = 0; j < p; j++) moved = Math.max(moved, Math.abs(next[j] - beta[j]));
    beta = next;
    current = value;
    if (moved <= tol) break;
  }

  return {
    kind: 'logistic',
    nFeatures: f,
    mean,
    scale,
    weights: Array.from(beta.subarray(0, f), (b) => Math.fround(b)),
    intercept: Math.fround(beta[f]),
  };
}

/** Solves H x = g for a symmetric positive definite H given by its lower triangle (row-major p x p). */
function choleskySolve(h: Float64Array, g: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = h[i * p + j];
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('logistic.train: Hessian is not positive definite (use l2 > 0)');
        l[i * p + i] = Math.sqrt(s);
      } else l[i * p + j] = s / l[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = g[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}

/** Coefficients on raw features: logit = sum(coef[j] * x[j]) + intercept. */
export function rawCoefficients(model: LogisticModel): { coef: number[]; intercept: number } {
  const coef = model.weights.map((w, j) => w / model.scale[j]);
  const intercept = model.intercept - model.weights.reduce((s, w, j) => s + (w * model.mean[j]) / model.scale[j], 0);
  return { coef, intercept };
}

/** P(class 1) for each row. */
export function predict(model: LogisticModel, rows: Float64Array, nFeatures: number): Float64Array {
  if (nFeatures !== model.nFeatures) throw new Error(`logistic.predict: model has ${model.nFeatures} features, rows have ${nFeatures}`);
  assertFeatures(rows, nFeatures, 'logistic.predict');
  const n = rows.length / nFeatures;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = model.intercept;
    for (let j = 0; j < nFeatures; j++) s += ((Math.fround(rows[i * nFeatures + j]) - model.mean[j]) / model.scale[j]) * model.weights[j];
    out[i] = 1 / (1 + Math.exp(-s));
  }
  return out;
}
