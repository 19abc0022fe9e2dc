/**
 * Gradient-boosted regression trees for binary classification (logistic loss, Newton leaf values,
 * histogram splits on feature quantiles). Fully deterministic: no sampling, ties go to the lowest
 * feature index and then the lowest threshold.
 *
 * Exactness with ONNX (TreeEnsembleRegressor, float32):
 * - a split sends a row left when Math.fround(x) <= threshold (BRANCH_LEQ); thresholds are float32 values;
 * - leaf values and the base score sit on a grid of 2^-q, with q chosen so every partial sum of them fits
 *   float32's 24-bit significand: the runtime's float32 sums (in whatever order its threads use) are exact
 *   and equal the float64 sum here, leaving only the final sigmoid's float32 rounding.
 * Features follow the contract in logistic.ts: NaN (or non-finite as float32) is an error naming the row and
 * feature, in training and in predict.
 */
import { assertFeatures } from './feature-rows.ts';

/** One tree as parallel arrays; node 0 is the root. Leaves have feature -1 and use `value`. */
export interface GbtTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface GbtModel {
  kind: 'gbt';
  nFeatures: number;
  /** Initial log-odds, added to the sum of the trees' leaves. */
  baseScore: number;
  trees: GbtTree[];
}

export interface GbtOptions {
  nTrees?: number; // default 100
  learningRate?: number; // default 0.1
  maxDepth?: number; // default 3
  minSamplesLeaf?: number; // default 20
  /** Split candidates per feature come from this many quantiles (at most 256). Default 64. */
  nBins?: number;
  /** L2 penalty on leaf values (XGBoost's lambda). Default 1. */
  l2?: number;
}

export function train(rows: Float64Array, labels: ArrayLike<number>, nFeatures: number, options: GbtOptions = {}): GbtModel {
  const { nTrees = 100, learningRate = 0.1, maxDepth = 3, minSamplesLeaf = 20, nBins = 64, l2 = 1 } = options;
  if (!(nBins >= 2 && nBins <= 256)) throw new Error(`gbt.train: nBins must be in [2, 256], got ${nBins}`);
  if (!(minSamplesLeaf >= 1)) throw new Error(`gbt.train: minSamplesLeaf must be >= 1, got ${minSamplesLeaf}`);
  assertFeatures(rows, nFeatures, 'gbt.train');
  const n = rows.length / nFeatures;
  if (n === 0) throw new Error('gbt.train: no rows');
  if (labels.length !== n) throw new Error(`gbt.train: ${labels.length} labels for ${n} rows`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`gbt.train: label of row ${i} is ${labels[i]}, expected 0 or 1`);
    positives += labels[i];
  }

  const { thresholds, bins } = binFeatures(rows, n, nFeatures, nBins);
  const prior = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const baseScore = Math.log(prior / (1 - prior));
  const score = new Float64Array(n).fill(baseScore);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const order = new Uint32Array(n);
  const trees: GbtTree[] = [];
  const ctx = { n, nFeatures, thresholds, bins, grad, hess, order, maxDepth, minSamplesLeaf, l2, learningRate };

  for (let t = 0; t < nTrees; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-score[i]));
      grad[i] = p - labels[i];
      hess[i] = Math.max(p * (1 - p), 1e-16);
      order[i] = i;
    }
    trees.push(growTree(ctx, score));
  }
  return quantize({ kind: 'gbt', nFeatures, baseScore, trees });
}

/**
 * Per feature: sorted distinct float32 thresholds at the quantiles, and for every row the bin index
 * (number of thresholds below fround(x)), so `bin <= k` is exactly `fround(x) <= thresholds[k]`.
 * Bins are stored row-major like the features: bins[i * nFeatures + f].
 */
function binFeatures(rows: Float64Array, n: number, nFeatures: number, nBins: number): { thresholds: Float64Array[]; bins: Uint8Array } {
  const thresholds: Float64Array[] = [];
  const bins = new Uint8Array(n * nFeatures);
  const col = new Float64Array(n);
  for (let f = 0; f < nFeatures; f++) {
    for (let i = 0; i < n; i++) col[i] = Math.fround(rows[i * nFeatures + f]);
    const sorted = col.slice().sort();
    const cand: number[] = [];
    for (let q = 1; q < nBins; q++) {
      const v = sorted[Math.floor((q * n) / nBins)];
      // the largest value would put every row on the left: never a useful split
      if (v < sorted[n - 1] && (cand.length === 0 || v > cand[cand.length - 1])) cand.push(v);
    }
    const th = Float64Array.from(cand);
    thresholds.push(th);
    for (let i = 0; i < n; i++) {
      let lo = 0;
      let hi = th.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (th[mid] < col[i]) lo = mid + 1;
        else hi = mid;
      }
      bins[i * nFeatures + f] = lo;
    }
  }
  return { thresholds, bins };
}

interface GrowContext {
  n: number;
  nFeatures: number;
  thresholds: Float64Array[];
  bins: Uint8Array;
  grad: Float64Array;
  hess: Float64Array;
  /** Row indices, partitioned in place so every node owns a contiguous range. */
  order: Uint32Array;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  learningRate: number;
}

/** Per feature f, bin b at (f << 8) | b: sums of gradients, hessians and row counts. */
interface Histogram {
  g: Float64Array;
  h: Float64Array;
  c: Uint32Array;
}

function histogram(ctx: GrowContext, start: number, end: number): Histogram {
  const { nFeatures: nf, order, grad, hess, bins } = ctx;
  const hist = { g: new Float64Array(nf << 8), h: new Float64Array(nf << 8), c: new Uint32Array(nf << 8) };
  const { g: hg, h: hh, c: hc } = hist;
  for (let k = start; k < end; k++) {
    const r = order[k];
    const g = grad[r];
    const h = hess[r];
    const row = r * nf;
    for (let f = 0; f < nf; f++) {
      const b = (f << 8) | bins[row + f];
      hg[b] += g;
      hh[b] += h;
      hc[b]++;
    }
  }
  return hist;
}

/** Turns `parent` into the histogram of parent minus `child`. */
function subtract(parent: Histogram, child: Histogram): Histogram {
  for (let b = 0; b < parent.g.length; b++) {
    parent.g[b] -= child.g[b];
    parent.h[b] -= child.h[b];
    parent.c[b] -= child.c[b];
  }
  return parent;
}

/** Grows one tree on ctx.grad/hess and adds its leaf values to `score`. */
function growTree(ctx: GrowContext, score: Float64Array): GbtTree {
  const tree: GbtTree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const splittable = (count: number, depth: number) => depth < ctx.maxDepth && count >= 2 * ctx.minSamplesLeaf;

  const build = (start: number, end: number, depth: number, hist: Histogram | null): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(0);

    let G = 0;
    let H = 0;
    for (let k = start; k < end; k++) {
      G += ctx.grad[ctx.order[k]];
      H += ctx.hess[ctx.order[k]];
    }
    const split = hist === null ? null : bestSplit(ctx, hist, end - start, G, H);
    if (split === null) {
      const v = (-ctx.learningRate * G) / (H + ctx.l2);
      tree.value[id] = v;
      for (let k = start; k < end; k++) score[ctx.order[k]] += v;
      return id;
    }
    // stable partition: rows with bin <= split.bin first
    let mid = start;
    const right: number[] = [];
    for (let k = start; k < end; k++) {
      const r = ctx.order[k];
      if (ctx.bins[r * ctx.nFeatures + split.feature] <= split.bin) ctx.order[mid++] = r;
      else right.push(r);
    }
    for (let k = 0; k < right.length; k++) ctx.order[mid + k] = right[k];

    // Histogram of the smaller child from its rows, the larger one's by subtraction from the parent.
    let histLeft: Histogram | null = null;
    let histRight: Histogram | null = null;
    if (splittable(mid - start, depth + 1) || splittable(end - mid, depth + 1)) {
      if (mid - start <= end - mid) {
        histLeft = histogram(ctx, start, mid);
        histRight = subtract(hist!, histLeft);
      } else {
        histRight = histogram(ctx, mid, end);
        histLeft = subtract(hist!, histRight);
      }
    }
    tree.feature[id] = split.feature;
    tree.threshold[id] = ctx.thresholds[split.feature][split.bin];
    tree.left[id] = build(start, mid, depth + 1, splittable(mid - start, depth + 1) ? histLeft : null);
    tree.right[id] = build(mid, end, depth + 1, splittable(end - mid, depth + 1) ? histRight : null);
    return id;
  };
  build(0, ctx.n, 0, splittable(ctx.n, 0) ? histogram(ctx, 0, ctx.n) : null);
  return tree;
}

function bestSplit(ctx: GrowContext, hist: Histogram, count: number, G: number, H: number): { feature: number; bin: number } | null {
  const parent = (G * G) / (H + ctx.l2);
  let bestGain = 1e-12; // a split must improve the loss by more than rounding noise
  let best: { feature: number; bin: number } | null = null;
  for (let f = 0; f < ctx.nFeatures; f++) {
    const nThr = ctx.thresholds[f].length;
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b < nThr; b++) {
      gl += hist.g[(f << 8) | b];
      hl += hist.h[(f << 8) | b];
      cl += hist.c[(f << 8) | b];
      if (cl < ctx.minSamplesLeaf) continue;
      if (count - cl < ctx.minSamplesLeaf) break;
      const gr = G - gl;
      const hr = H - hl;
      const gain = (gl * gl) / (hl + ctx.l2) + (gr * gr) / (hr + ctx.l2) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        best = { feature: f, bin: b };
      }
    }
  }
  return best;
}

/** Rounds the base score and all leaves to the float32-exact grid described at the top of the file. */
function quantize(model: GbtModel): GbtModel {
  let bound = Math.abs(model.baseScore);
  for (const t of model.trees) {
    let m = 0;
    for (let i = 0; i < t.value.length; i++) if (t.feature[i] < 0) m = Math.max(m, Math.abs(t.value[i]));
    bound += m;
  }
  const q = Math.min(40, 23 - Math.ceil(Math.log2(Math.max(bound, 2 ** -17))));
  const snap = (v: number) => Math.round(v * 2 ** q) / 2 ** q;
  return {
    ...model,
    baseScore: snap(model.baseScore),
    trees: model.trees.map((t) => ({ ...t, value: t.value.map((v, i) => (t.feature[i] < 0 ? snap(v) : 0)) })),
  };
}

/** Sum of leaves plus base score (log-odds) of one row at `offset` in `rows`. */
function margin(model: GbtModel, rows: Float64Array, offset: number): number {
  let s = model.baseScore;
  for (const t of model.trees) {
    let node = 0;
    while (t.feature[node] >= 0) node = Math.fround(rows[offset + t.feature[node]]) <= t.threshold[node] ? t.left[node] : t.right[node];
    s += t.value[node];
  }
  return s;
}

/** P(class 1) for each row. */
export function predict(model: GbtModel, rows: Float64Array, nFeatures: number): Float64Array {
  if (nFeatures !== model.nFeatures) throw new Error(`gbt.predict: model has ${model.nFeatures} features, rows have ${nFeatures}`);
  assertFeatures(rows, nFeatures, 'gbt.predict');
  const n = rows.length / nFeatures;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-margin(model, rows, i * nFeatures)));
  return out;
}
