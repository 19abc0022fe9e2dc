// A model in models/: an ONNX file and its card (JSON). The card says what the model reads (feature names,
// in input order), what it predicts, what it was trained on and how it did out of sample. Any ONNX model
// with a card works the same way, whoever trained it (this project, scikit-learn, PyTorch).
//
// The card and its file vouch for each other: the card holds the file's sha256, and the file holds the
// card's semantic fields (every field but FREE_FIELDS) in its ONNX metadata_props under SEAL_KEY, written
// with the model. Loading refuses a file that changed (sha256), a card whose semantic fields differ from the
// ones sealed in the file (naming the fields), and a file with no seal. The seal is in the .onnx, not in the
// card, so an edited card cannot be made to pass by editing the card alone (for instance a hash field in it).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES } from './features.ts';
import { readMetadataProps, withMetadataProps } from './onnx-metadata.ts';
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
  /** free text: edit at will */
  notes?: string;
}

/** A loaded model: its card, its session and the feature columns it reads, in input order. */
export interface LoadedModel {
  card: ModelCard;
  dir: string;
  model: OnnxModel;
  columns: number[];
}

const REQUIRED: (keyof ModelCard)[] = ['name', 'version', 'file', 'sha256', 'input', 'output', 'features', 'label'];

/**
 * Card fields that change neither the predictions nor how they are used, so they may be edited without
 * retraining: names and prose, and the out-of-sample evaluation (written after the model). `file` and
 * `sha256` are checked against the file itself. Every other field, including any field a card adds, is
 * semantic and sealed: input, output, outputColumn, features (names and order), label (kind, horizon,
 * definition) and training (its window: promotion reads training.to).
 */
export const FREE_FIELDS: readonly string[] = ['name', 'version', 'description', 'notes', 'evaluation', 'file', 'sha256'];

const FREE = FREE_FIELDS.filter((f) => f !== 'file' && f !== 'sha256');

/** The ONNX metadata_props key that holds the card's semantic fields (canonical JSON). */
export const SEAL_KEY = 'tradebench.card';

/** JSON with object keys sorted at every level: the same fields give the same text, however the card is laid out. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => [k, canonical(o[k])]),
  );
}

/** The card's semantic fields (all but FREE_FIELDS), canonical: what the model file is sealed with. */
export function semanticFields(card: Partial<ModelCard> | Record<string, unknown>): Record<string, unknown> {
  const c = card as Record<string, unknown>;
  return canonical(
    Object.fromEntries(
      Object.keys(c)
        .filter((k) => !FREE_FIELDS.includes(k))
        .map((k) => [k, c[k]]),
    ),
  ) as Record<string, unknown>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const locate = (location: string) => (location.endsWith('.json') ? location : path.join(location, 'card.json'));

/** Reads a card and checks its shape: every field present, every feature one the pipeline computes. */
function parseModelCard(cardPath: string): ModelCard {
  if (!existsSync(cardPath))
    throw new Error(`model card ${cardPath} not found (a model is a folder with card.json and its .onnx file; train one with npm run train)`);
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (e) {
    throw new Error(`model card ${cardPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (card === null || typeof card !== 'object' || Array.isArray(card)) throw new Error(`model card ${cardPath} must be a JSON object`);
  for (const k of REQUIRED) if (card[k] === undefined) throw new Error(`model card ${cardPath}: field '${k}' is missing`);
  if (!Array.isArray(card.features) || card.features.length === 0)
    throw new Error(`model card ${cardPath}: 'features' must be a non-empty list of feature names`);
  for (const [i, f] of card.features.entries()) {
    if (!FEATURE_NAMES.includes(f as (typeof FEATURE_NAMES)[number]))
      throw new Error(`model card ${cardPath}: features[${i}] '${f}' is not a feature the pipeline computes (${FEATURE_NAMES.join(', ')})`);
  }
  return card;
}

/** The model file's bytes, read once: they are hashed, their seal is checked and the session is built from them. */
function readModelFile(cardPath: string, card: ModelCard): { file: string; bytes: Uint8Array } {
  const file = path.join(path.dirname(cardPath), card.file);
  if (!existsSync(file)) throw new Error(`model card ${cardPath}: its file ${file} does not exist`);
  const bytes = readFileSync(file);
  const hash = sha256(bytes);
  if (hash !== card.sha256)
    throw new Error(
      `model card ${cardPath}: ${card.file} has sha256 ${hash.slice(0, 12)}…, the card says ${String(card.sha256).slice(0, 12)}…: the file changed after the card was written; restore the model folder as it was written, or retrain with npm run train`,
    );
  return { file, bytes };
}

/** What the file was sealed with: its SEAL_KEY entry, parsed; undefined when it has none. */
function readSeal(cardPath: string, card: ModelCard, bytes: Uint8Array): Record<string, unknown> | undefined {
  let entries;
  try {
    entries = readMetadataProps(bytes).filter((e) => e.key === SEAL_KEY);
  } catch (e) {
    throw new Error(`model card ${cardPath}: ${card.file} is ${(e as Error).message}`);
  }
  if (entries.length === 0) return undefined;
  if (entries.length > 1)
    throw new Error(`model card ${cardPath}: ${card.file} has ${entries.length} '${SEAL_KEY}' metadata entries, a model has one: retrain with npm run train`);
  try {
    const sealed = JSON.parse(entries[0].value);
    if (sealed === null || typeof sealed !== 'object' || Array.isArray(sealed)) throw new Error('not a JSON object');
    return sealed;
  } catch (e) {
    throw new Error(
      `model card ${cardPath}: ${card.file}'s '${SEAL_KEY}' metadata is not a card's fields (${(e as Error).message}): retrain with npm run train`,
    );
  }
}

const show = (v: unknown) => {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

/** Where two JSON values differ: one line per differing leaf (array item, object field or value). */
function differences(inCard: unknown, inModel: unknown, at: string, out: { at: string; card: unknown; model: unknown }[]): void {
  if (JSON.stringify(inCard) === JSON.stringify(inModel)) return;
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(inCard) && Array.isArray(inModel)) {
    for (let i = 0; i < Math.max(inCard.length, inModel.length); i++) differences(inCard[i], inModel[i], `${at}[${i}]`, out);
  } else if (isObject(inCard) && isObject(inModel)) {
    const a = inCard as Record<string, unknown>;
    const b = inModel as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) differences(a[k], b[k], at === '' ? k : `${at}.${k}`, out);
  } else out.push({ at, card: inCard, model: inModel });
}

/** The card's semantic fields must be the ones its file was sealed with. */
function checkSeal(cardPath: string, card: ModelCard, bytes: Uint8Array): void {
  const sealed = readSeal(cardPath, card, bytes);
  if (sealed === undefined) {
    throw new Error(
      `model card ${cardPath}: ${card.file} carries no seal of its card (ONNX metadata '${SEAL_KEY}'), so an edit to the card's features, label or training could not be detected: ` +
        `retrain with npm run train; for a model exported elsewhere, check its card and seal it once: npx tsx -e "import('./engine/ml/model-card.ts').then((m) => m.sealModel('${path.dirname(cardPath)}'))"`,
    );
  }
  const diffs: { at: string; card: unknown; model: unknown }[] = [];
  differences(semanticFields(card), sealed, '', diffs);
  if (diffs.length === 0) return;
  const fields = [...new Set(diffs.map((d) => d.at.split(/[.[]/)[0]))];
  const shown = diffs.slice(0, 6).map((d) => `${d.at} is ${show(d.card)} in the card, ${show(d.model)} in the model`);
  if (diffs.length > shown.length) shown.push(`and ${diffs.length - shown.length} more`);
  const reordered =
    Array.isArray(card.features) &&
    Array.isArray(sealed.features) &&
    JSON.stringify(card.features) !== JSON.stringify(sealed.features) &&
    JSON.stringify([...card.features].sort()) === JSON.stringify([...(sealed.features as string[])].sort())
      ? ` (the same features in another order: the model reads its input columns in the order ${(sealed.features as string[]).join(', ')})`
      : '';
  throw new Error(
    `model card ${cardPath}: ${fields.map((f) => `'${f}'`).join(', ')} ${fields.length === 1 ? 'differs' : 'differ'} from what ${card.file} was written with: ${shown.join('; ')}${reordered}. ` +
      `The card was edited after the model was written, and these fields decide what the model is fed and how its output is read: ` +
      `restore the card as it was written (git checkout, or the copy that came with the model) or retrain with npm run train. Only ${FREE.join(', ').replace(/, (?=[^,]*$)/, ' and ')} may change freely.`,
  );
}

/** Reads a card and checks it against its file: shape, the file's sha256 and the card's seal in the file. */
function readVerified(location: string): { cardPath: string; card: ModelCard; file: string; bytes: Uint8Array } {
  const cardPath = locate(location);
  const card = parseModelCard(cardPath);
  const { file, bytes } = readModelFile(cardPath, card);
  checkSeal(cardPath, card, bytes);
  return { cardPath, card, file, bytes };
}

/**
 * Reads a card (a model folder or its card.json) and checks it against its model file: every field present,
 * every feature one the pipeline computes, the file's sha256, and the card's semantic fields against the
 * ones sealed in the file. Anything that reads a card (promotion reads training.to) gets a checked one.
 */
export function readModelCard(location: string): ModelCard {
  return readVerified(location).card;
}

/** The card's folder or file → the card and an ONNX session checked against it (built from the very bytes checked). */
export async function loadModel(location: string): Promise<LoadedModel> {
  const { cardPath, card, file, bytes } = readVerified(location);
  const model = await OnnxModel.load(
    file,
    { inputName: card.input, outputName: card.output, nFeatures: card.features.length, outputColumn: card.outputColumn },
    { bytes },
  );
  const columns = card.features.map((f) => FEATURE_NAMES.indexOf(f as (typeof FEATURE_NAMES)[number]));
  return { card, dir: path.dirname(cardPath), model, columns };
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

function writeSealed(dir: string, fileName: string, onnx: Uint8Array, card: Omit<ModelCard, 'file' | 'sha256'>): ModelCard {
  const sealed = withMetadataProps(onnx, { [SEAL_KEY]: JSON.stringify(semanticFields(card)) });
  const full: ModelCard = { ...card, file: fileName, sha256: sha256(sealed) };
  mkdirSync(dir, { recursive: true });
  const put = (name: string, data: string | Uint8Array) => {
    writeFileSync(path.join(dir, `${name}.tmp`), data);
    renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
  };
  put(fileName, sealed);
  put('card.json', `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/**
 * Writes a model folder: model.onnx, sealed with the card's semantic fields (ONNX metadata SEAL_KEY), then
 * card.json (with the sealed file's hash) last, each through a temporary file, so a folder never has a card
 * for a file that is not there. The graph is written as given: the seal changes no prediction.
 */
export function writeModel(dir: string, onnx: Uint8Array, card: Omit<ModelCard, 'file' | 'sha256'>): ModelCard {
  return writeSealed(dir, 'model.onnx', onnx, card);
}

/**
 * Seals a model exported elsewhere (scikit-learn, PyTorch): its card must be complete, hold the file's
 * sha256, and describe the graph's input and output; the card's semantic fields then go into the file's
 * metadata and the card gets the sealed file's sha256. A file that is already sealed is refused: a sealed
 * model's card is fixed (export the model again to describe it differently).
 */
export async function sealModel(location: string): Promise<ModelCard> {
  const cardPath = locate(location);
  const card = parseModelCard(cardPath);
  const { file, bytes } = readModelFile(cardPath, card);
  if (readSeal(cardPath, card, bytes) !== undefined)
    throw new Error(
      `model card ${cardPath}: ${card.file} is already sealed; a sealed model's card is fixed: restore the card, or export the model again and seal the new file`,
    );
  const model = await OnnxModel.load(
    file,
    { inputName: card.input, outputName: card.output, nFeatures: card.features.length, outputColumn: card.outputColumn },
    { bytes },
  );
  await model.close();
  const { file: _file, sha256: _sha, ...rest } = card;
  return writeSealed(path.dirname(cardPath), card.file, bytes, rest);
}
