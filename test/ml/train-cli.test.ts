import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { loadBars } from '../../engine/data/load.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { FEATURE_NAMES } from '../../engine/ml/features.ts';
import { loadModel, SEAL_KEY, semanticFields, type ModelCard } from '../../engine/ml/model-card.ts';
import { readMetadataProps } from '../../engine/ml/onnx-export.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-train-cli-'));
const db = path.join(tmp, 'market.duckdb');
const out = path.join(tmp, 'gbt');
const HORIZON = 3;
const TEST_FROM = '2015-01-01';
let trained: ReturnType<typeof runCli>;

beforeAll(async () => {
  const store = await openStore(db);
  try {
    await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
  } finally {
    store.close();
  }
  trained = runCli('train.ts', ['--data', db, '--out', out, '--horizon', String(HORIZON), '--test-from', TEST_FROM, '--folds', '3']);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const readCard = (dir: string): ModelCard => JSON.parse(readFileSync(path.join(dir, 'card.json'), 'utf8'));

/** A copy of the trained model folder, its card changed by `edit`. */
function variant(name: string, edit: (card: ModelCard, dir: string) => void): string {
  const dir = path.join(tmp, name);
  cpSync(out, dir, { recursive: true });
  const card = readCard(dir);
  edit(card, dir);
  writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2));
  return dir;
}

describe('npm run train', () => {
  it('trains on the bundled sample and writes model.onnx with a card that describes it', async () => {
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/out of sample: accuracy/);
    const card = readCard(out);
    expect(card.features).toEqual([...FEATURE_NAMES]);
    expect(card.label).toMatchObject({ kind: 'forward-return-sign', horizon: HORIZON });
    expect(card.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(path.join(out, card.file)))
        .digest('hex'),
    );

    const training = card.training as { symbols: string[]; from: string; to: string; rows: number; scores: Record<string, number> };
    const evaluation = card.evaluation as {
      outOfSample: Record<string, number | string>;
      walkForward: Record<string, number | string>[];
      onnxMaxAbsDiff: number;
      backtest: { sharpe: unknown; from: string };
    };
    expect(training.symbols).toEqual(['AAPL', 'IBM', 'SPY']);
    // the training window ends before the test window, which starts at --test-from
    expect(training.to < evaluation.outOfSample.from).toBe(true);
    expect(evaluation.outOfSample.from >= TEST_FROM).toBe(true);
    // purged: the last training row is the last bar whose label (HORIZON bars on) is decided before --test-from
    const store = await openStore(db);
    const spy = (await loadBars(store, { symbols: ['SPY'], interval: '1d' }))[0];
    store.close();
    const firstTest = spy.ts.findIndex((t) => t >= Date.parse(`${TEST_FROM}T00:00:00Z`));
    const day = (i: number) => new Date(spy.ts[i]).toISOString().slice(0, 10);
    expect(training.to).toBe(day(firstTest - 1 - HORIZON));
    expect(evaluation.outOfSample.from).toBe(day(firstTest));

    for (const s of [training.scores, evaluation.outOfSample, ...evaluation.walkForward]) {
      for (const k of ['accuracy', 'auc', 'baseRate']) {
        expect(s[k], k).toBeGreaterThanOrEqual(0);
        expect(s[k], k).toBeLessThanOrEqual(1);
      }
      expect(s.rows).toBeGreaterThan(0);
    }
    expect(evaluation.walkForward).toHaveLength(3);
    expect(evaluation.onnxMaxAbsDiff).toBeGreaterThanOrEqual(0);
    expect(evaluation.onnxMaxAbsDiff).toBeLessThanOrEqual(1e-6);
    expect(typeof evaluation.backtest.sharpe).toBe('number');
    expect(Number.isFinite(evaluation.backtest.sharpe)).toBe(true);
    expect(evaluation.backtest.from).toBe(TEST_FROM);

    // the file carries the card's semantic fields (what it was trained with), not the evaluation written after
    const seal = readMetadataProps(readFileSync(path.join(out, card.file))).find((e) => e.key === SEAL_KEY);
    expect(JSON.parse(seal!.value)).toEqual(semanticFields(card));
    expect(JSON.parse(seal!.value)).toMatchObject({ features: [...FEATURE_NAMES], label: { horizon: HORIZON }, training: { to: training.to } });

    const loaded = await loadModel(out);
    try {
      expect(loaded.columns).toEqual(FEATURE_NAMES.map((_, i) => i));
    } finally {
      await loaded.model.close();
    }
  });

  it('refuses an unknown model kind and a test period with no data, writing nothing', () => {
    const forest = path.join(tmp, 'forest');
    const a = runCli('train.ts', ['--data', db, '--out', forest, '--model', 'forest']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--model must be gbt or logistic, got 'forest'/);
    expect(existsSync(forest)).toBe(false);

    const late = path.join(tmp, 'late');
    const b = runCli('train.ts', ['--data', db, '--out', late, '--test-from', '2030-01-01']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/only 0 test rows from 2030-01-01: move --test-from earlier/);
    expect(existsSync(late)).toBe(false);
  });
});

describe('npm run train never replaces a model unless --out names it', () => {
  const committed = path.join(ROOT, 'models/gbt-daily');
  const hashes = () =>
    Object.fromEntries(
      ['card.json', 'model.onnx'].map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(path.join(committed, f)))
          .digest('hex'),
      ]),
    );

  it('without --out it refuses the default folder that holds the committed models/gbt-daily, at once, leaving it byte-identical', () => {
    const before = hashes();
    const t0 = Date.now();
    const r = runCli('train.ts', []);
    expect(Date.now() - t0).toBeLessThan(30_000); // refused before reading any data
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: models\/gbt-daily already holds a model, and npm run train without --out never replaces one/);
    expect(r.stderr).toContain('pass --out models/gbt-daily to retrain it in place');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(hashes()).toEqual(before);
    expect(readdirSync(path.join(ROOT, 'models')).filter((f) => f.includes('.staging-'))).toEqual([]);
  });
});

describe('loadModel refuses a card that does not describe its file', () => {
  it('a model.onnx changed after its card was written (sha256)', async () => {
    const dir = variant('changed', (_card, d) => appendFileSync(path.join(d, 'model.onnx'), Buffer.from([0])));
    const cardPath = path.join(dir, 'card.json');
    await expect(loadModel(dir)).rejects.toThrow(`model card ${cardPath}: model.onnx has sha256`);
    await expect(loadModel(dir)).rejects.toThrow(/the file changed after the card was written/);
  });

  it('a feature name the pipeline does not compute', async () => {
    const dir = variant('unknown-feature', (card) => void (card.features[3] = 'rsi_15'));
    await expect(loadModel(dir)).rejects.toThrow(`model card ${path.join(dir, 'card.json')}: features[3] 'rsi_15' is not a feature the pipeline computes`);
  });

  it('a features list whose length is not the ONNX input width', async () => {
    const dir = variant('short', (card) => void card.features.pop());
    await expect(loadModel(dir)).rejects.toThrow(
      `model card ${path.join(dir, 'card.json')}: 'features' differs from what model.onnx was written with: features[${FEATURE_NAMES.length - 1}] is absent in the card, "${FEATURE_NAMES.at(-1)}" in the model`,
    );
  });

  it('a card edited after training (features reordered, another horizon), naming the fields', async () => {
    const dir = variant('edited', (card) => {
      [card.features[2], card.features[3]] = [card.features[3], card.features[2]];
      card.label.horizon = HORIZON + 1;
    });
    const error = await loadModel(dir).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(error).toContain(`model card ${path.join(dir, 'card.json')}: 'features', 'label' differ from what model.onnx was written with`);
    expect(error).toContain(`label.horizon is ${HORIZON + 1} in the card, ${HORIZON} in the model`);
    expect(error).toMatch(/retrain with npm run train/);
  });
});

describe('npm run backtest with ml-signal', () => {
  it('exits 1 naming the missing model card', () => {
    const report = path.join(tmp, 'bad-model-run');
    const r = runCli('backtest.ts', ['--data', db, '--strategy', 'ml-signal', '--params', '{"model":"models/no-such-model"}', '--out', report]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`model card ${path.join(ROOT, 'models/no-such-model/card.json')} not found`);
    expect(existsSync(path.join(report, 'report.json'))).toBe(false);
  });
});
