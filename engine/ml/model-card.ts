// A model in models/: an ONNX file and its card (JSON). The card says what the model reads (feature names,
// in input order), what it predicts, what it was trained on and how it did out of sample. Any ONNX model
// with a card works the same way, whoever trained it (this project, scikit-learn, PyTorch).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES } from './features.ts';
import { OnnxModel } from './onnx-model.ts';

export interface ModelCard {
  name: string;
  version: string;
  description: string;
  /** the ONNX file, relative to the card, and its sha256 (a changed file no longer matches its card) */
  file: string;
  sha256: string;
  /** the graph's input (float32 [N, features.length]) and output (P(class 1) in `outputColumn`) */
  input: string;
  output: string;
  outputColumn?: number;
  /** names from engine/ml FEATURE_NAMES, in the order of the model's input columns */
  features: string[];
  label: { kind: 'forward-return-sign'; horizon: number; definition: string };
  training?: Record<string, unknown>;
  evaluation?: Record<string, unknown>;
}

/** A loaded model: its card, its session and the feature columns it reads, in input order. */
export interface LoadedModel {
  card: ModelCard;
  dir: string;
  model: OnnxModel;
  columns: number[];
}

const REQUIRED: (keyof ModelCard)[] = ['name', 'version', 'file', 'sha256', 'input', 'output', 'features', 'label'];

/** Reads and checks a card: every field present, every feature one the pipeline computes. */
export function readModelCard(cardPath: string): ModelCard {
  if (!existsSync(cardPath)) throw new Error(`model card ${cardPath} not found (a model is a folder with card.json and its .onnx file; train one with npm run train)`);
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (e) {
    throw new Error(`model card ${cardPath} is not valid JSON: ${(e as Error).message}`);
  }
  for (const k of REQUIRED) if (card[k] === undefined) throw new Error(`model card ${cardPath}: field '${k}' is missing`);
  if (!Array.isArray(card.features) || card.features.length === 0) throw new Error(`model card ${cardPath}: 'features' must be a non-empty list of feature names`);
  for (const [i, f] of card.features.entries()) {
    if (!FEATURE_NAMES.includes(f as (typeof FEATURE_NAMES)[number])) throw new Error(`model card ${cardPath}: features[${i}] '${f}' is not a feature the pipeline computes (${FEATURE_NAMES.join(', ')})`);
  }
  return card;
}

/** The card's folder or file → the card and an ONNX session checked against it. */
export async function loadModel(location: string): Promise<LoadedModel> {
  const cardPath = location.endsWith('.json') ? location : path.join(location, 'card.json');
  const card = readModelCard(cardPath);
  const dir = path.dirname(cardPath);
  const file = path.join(dir, card.file);
  if (!existsSync(file)) throw new Error(`model card ${cardPath}: its file ${file} does not exist`);
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (hash !== card.sha256) throw new Error(`model card ${cardPath}: ${card.file} has sha256 ${hash.slice(0, 12)}…, the card says ${card.sha256.slice(0, 12)}…: the file changed after the card was written`);
  const model = await OnnxModel.load(file, { inputName: card.input, outputName: card.output, nFeatures: card.features.length, outputColumn: card.outputColumn });
  const columns = card.features.map((f) => FEATURE_NAMES.indexOf(f as (typeof FEATURE_NAMES)[number]));
  return { card, dir, model, columns };
}

/** The model's input row from a full feature row: its columns in its order; false when one is not finite (not warm yet). */
export function selectColumns(features: Float64Array, offset: number, columns: readonly number[], out: Float64Array, outOffset: number): boolean {
  for (let j = 0; j < columns.length; j++) {
    const v = features[offset + columns[j]];
    if (!Number.isFinite(v)) return false;
    out[outOffset + j] = v;
  }
  return true;
}

/**
 * Writes a model folder: model.onnx, then card.json (with the file's hash) last, each through a temporary
 * file, so a folder never has a card for a file that is not there.
 */
export function writeModel(dir: string, onnx: Uint8Array, card: Omit<ModelCard, 'file' | 'sha256'>): ModelCard {
  mkdirSync(dir, { recursive: true });
  const full: ModelCard = { ...card, file: 'model.onnx', sha256: createHash('sha256').update(onnx).digest('hex') };
  const put = (name: string, data: string | Uint8Array) => {
    writeFileSync(path.join(dir, `${name}.tmp`), data);
    renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
  };
  put('model.onnx', onnx);
  put('card.json', JSON.stringify(full, null, 2) + '\n');
  return full;
}
