// The model card's semantic fields are sealed into its ONNX file (metadata_props), so an edited card
// (reordered features, another horizon or output column, a new field) is refused wherever a model is
// loaded, naming the card and the field; names, prose and the evaluation may change freely.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPaths } from '../../engine/data/import.ts';
import { SAMPLE_DIR } from '../../engine/data/sample.ts';
import { openStore } from '../../engine/data/store.ts';
import { FEATURE_NAMES } from '../../engine/ml/features.ts';
import { FREE_FIELDS, loadModel, readModelCard, SEAL_KEY, sealModel, semanticFields, writeModel, type ModelCard } from '../../engine/ml/model-card.ts';
import { readMetadataProps, withMetadataProps } from '../../engine/ml/onnx-export.ts';
import { OnnxModel } from '../../engine/ml/onnx-model.ts';
import { repoRoot } from '../../engine/paths.ts';
import { runCli } from '../cli/run-cli.ts';
import { mulberry32 } from './random.ts';

const { onnx } = onnxProto;
const BUNDLED = path.join(repoRoot(), 'models/gbt-daily');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tradebench-card-seal-'));
const db = path.join(tmp, 'market.duckdb');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const readCard = (dir: string): ModelCard => JSON.parse(readFileSync(path.join(dir, 'card.json'), 'utf8'));
const writeCard = (dir: string, card: unknown) => writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2));

/** A copy of the bundled model folder, changed by `edit` (its card is written back as edited). */
function variant(name: string, edit: (card: ModelCard, dir: string) => void): string {
  const dir = path.join(tmp, name);
  cpSync(BUNDLED, dir, { recursive: true });
  const card = readCard(dir);
  edit(card, dir);
  writeCard(dir, card);
  return dir;
}

/** The bundled model.onnx with its graph changed by `edit` and re-encoded (metadata, seal included, kept). */
function editedOnnx(edit: (m: InstanceType<typeof onnx.ModelProto>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(readFileSync(path.join(BUNDLED, 'model.onnx')));
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

const ensembleAttr = (m: InstanceType<typeof onnx.ModelProto>, name: string) =>
  m.graph!.node!.find((n) => n.opType === 'TreeEnsembleRegressor')!.attribute!.find((a) => a.name === name)!;

beforeAll(async () => {
  const store = await openStore(db);
  try {
    await importPaths(store, [path.join(SAMPLE_DIR, 'daily')], { interval: '1d', factorsDir: path.join(SAMPLE_DIR, 'factor_files') });
  } finally {
    store.close();
  }
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const REFUSE = /retrain with npm run train/;

/** Every semantic edit: the variant, and what the error must name (the field, and the differing value). */
const SEMANTIC: { name: string; edit: (card: ModelCard) => void; field: string; detail: string }[] = [
  {
    name: 'two features swapped',
    edit: (c) => void ([c.features[0], c.features[1]] = [c.features[1], c.features[0]]),
    field: 'features',
    detail:
      'features[0] is "ret_5" in the card, "ret_1" in the model; features[1] is "ret_1" in the card, "ret_5" in the model (the same features in another order',
  },
  {
    name: 'a feature dropped',
    edit: (c) => void c.features.pop(),
    field: 'features',
    detail: 'features[10] is absent in the card, "xs_rank_ret_5" in the model',
  },
  { name: 'another label horizon', edit: (c) => void (c.label.horizon = 7), field: 'label', detail: 'label.horizon is 7 in the card, 5 in the model' },
  {
    name: 'another label definition',
    edit: (c) => void (c.label.definition = '1 if close[t+5] > close[t] * 1.01'),
    field: 'label',
    detail:
      'label.definition is "1 if close[t+5] > close[t] * 1.01" in the card, "1 if close[t+5] / close[t] - 1 > 0 else 0 (same symbol, 5 bars later)" in the model',
  },
  {
    name: 'another output column',
    edit: (c) => void (c.outputColumn = 1),
    field: 'outputColumn',
    detail: 'outputColumn is 1 in the card, absent in the model',
  },
  {
    name: 'a threshold added to the card',
    edit: (c) => void ((c as unknown as Record<string, unknown>).thresholds = { enter: 0.6 }),
    field: 'thresholds',
    detail: 'thresholds is {"enter":0.6} in the card, absent in the model',
  },
  {
    name: 'a later training end',
    edit: (c) => void (c.training!.to = '2021-03-31'),
    field: 'training',
    detail: 'training.to is "2021-03-31" in the card, "2015-12-23" in the model',
  },
];

describe('the bundled model is sealed with its card', () => {
  it("models/gbt-daily/model.onnx holds the card's semantic fields, and they are the card's", async () => {
    const card = readCard(BUNDLED);
    const bytes = readFileSync(path.join(BUNDLED, 'model.onnx'));
    expect(sha256(bytes)).toBe(card.sha256);
    const seals = readMetadataProps(bytes).filter((e) => e.key === SEAL_KEY);
    expect(seals).toHaveLength(1);
    expect(JSON.parse(seals[0].value)).toEqual(semanticFields(card));
    expect(Object.keys(JSON.parse(seals[0].value)).sort()).toEqual(['features', 'input', 'label', 'output', 'training']);
    const m = await loadModel(BUNDLED);
    await m.model.close();
    expect(m.columns).toEqual(FEATURE_NAMES.map((_, i) => i));
  });
});

describe('loading refuses a card whose semantic fields were edited, naming the card and the field', () => {
  for (const s of SEMANTIC) {
    it(s.name, async () => {
      const dir = variant(`load-${s.name.replaceAll(' ', '-')}`, s.edit);
      const cardPath = path.join(dir, 'card.json');
      const error = await loadModel(dir).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(error).toBeDefined();
      expect(error).toContain(`model card ${cardPath}: '${s.field}' differs from what model.onnx was written with: ${s.detail}`);
      expect(error).toMatch(REFUSE);
      expect(error).toMatch(/restore the card as it was written/);
      // promotion reads the card (training.to) without running the model: the same check
      expect(() => readModelCard(dir)).toThrow(`model card ${cardPath}: '${s.field}' differs`);
    });
  }

  it('several edits: every field is named', async () => {
    const dir = variant('load-several', (c) => {
      c.label.horizon = 3;
      c.features.reverse();
    });
    await expect(loadModel(path.join(dir, 'card.json'))).rejects.toThrow(
      `model card ${path.join(dir, 'card.json')}: 'features', 'label' differ from what model.onnx was written with`,
    );
  });
});

describe('the model file: changed bytes, no seal', () => {
  it('a tree threshold changed in model.onnx (card untouched) fails its sha256', async () => {
    const dir = variant('onnx-threshold', () => {});
    const bytes = editedOnnx((m) => {
      const values = ensembleAttr(m, 'nodes_values');
      values.floats = values.floats!.map((v, i) => (i === 0 ? v + 0.5 : v));
    });
    writeFileSync(path.join(dir, 'model.onnx'), bytes);
    await expect(loadModel(dir)).rejects.toThrow(
      `model card ${path.join(dir, 'card.json')}: model.onnx has sha256 ${sha256(bytes).slice(0, 12)}…, the card says ${readCard(dir).sha256.slice(0, 12)}…: the file changed after the card was written`,
    );
  });

  it('a file without the seal is refused even when the card holds its sha256', async () => {
    const dir = variant('unsealed', (card, d) => {
      const bytes = editedOnnx((m) => void (m.metadataProps = m.metadataProps!.filter((e) => e.key !== SEAL_KEY)));
      writeFileSync(path.join(d, 'model.onnx'), bytes);
      card.sha256 = sha256(bytes);
    });
    await expect(loadModel(dir)).rejects.toThrow(
      `model card ${path.join(dir, 'card.json')}: model.onnx carries no seal of its card (ONNX metadata '${SEAL_KEY}')`,
    );
  });

  it("rewriting the file's seal to match an edited card changes the file: its sha256 no longer matches", async () => {
    const dir = variant('reseal-without-sha', (card, d) => {
      [card.features[0], card.features[1]] = [card.features[1], card.features[0]];
      writeFileSync(
        path.join(d, 'model.onnx'),
        withMetadataProps(readFileSync(path.join(d, 'model.onnx')), { [SEAL_KEY]: JSON.stringify(semanticFields(card)) }),
      );
    });
    await expect(loadModel(dir)).rejects.toThrow(/model\.onnx has sha256 .* the file changed after the card was written/);
  });
});

describe('non-semantic edits load', () => {
  it(`${FREE_FIELDS.filter((f) => f !== 'file' && f !== 'sha256').join(', ')}, and the card's layout and key order`, async () => {
    const dir = variant('free', (c) => {
      c.name = 'renamed';
      c.version = 'v2';
      c.description = 'a better description';
      c.notes = 'reviewed on 2026-11-30';
      c.evaluation = { outOfSample: { auc: 0.5 } };
    });
    // the same semantic fields in another key order and layout
    const card = readCard(dir);
    const reordered = Object.fromEntries(
      Object.entries(card)
        .reverse()
        .map(([k, v]) => [k, k === 'label' ? { horizon: card.label.horizon, definition: card.label.definition, kind: card.label.kind } : v]),
    );
    writeFileSync(path.join(dir, 'card.json'), JSON.stringify(reordered));
    const m = await loadModel(dir);
    try {
      expect(m.card.name).toBe('renamed');
      expect(m.card.notes).toBe('reviewed on 2026-11-30');
      expect(m.columns).toEqual(FEATURE_NAMES.map((_, i) => i));
    } finally {
      await m.model.close();
    }
  });
});

describe('writing and sealing', () => {
  it('writeModel seals the card into the file; the graph bytes stay as given', async () => {
    const unsealed = editedOnnx((m) => void (m.metadataProps = m.metadataProps!.filter((e) => e.key !== SEAL_KEY)));
    const { file: _f, sha256: _s, ...card } = readCard(BUNDLED);
    const dir = path.join(tmp, 'written');
    const written = writeModel(dir, unsealed, card);
    const bytes = readFileSync(path.join(dir, 'model.onnx'));
    expect(written.sha256).toBe(sha256(bytes));
    expect(Buffer.from(bytes.subarray(0, unsealed.length)).equals(Buffer.from(unsealed))).toBe(true);
    // writing again replaces the seal, never adds a second one
    writeModel(dir, bytes, { ...card, label: { ...card.label, horizon: 9 } });
    const again = readFileSync(path.join(dir, 'model.onnx'));
    const seals = readMetadataProps(again).filter((e) => e.key === SEAL_KEY);
    expect(seals).toHaveLength(1);
    expect(JSON.parse(seals[0].value).label.horizon).toBe(9);
    // the other metadata (features, horizon, trainedTo from npm run train) is kept
    expect(readMetadataProps(again).map((e) => e.key)).toEqual(['features', 'horizon', 'trainedTo', SEAL_KEY]);
    const m = await loadModel(dir);
    await m.model.close();
  });

  it('the seal changes no prediction: sealed and unsealed files give the same P(up), bit for bit', async () => {
    const unsealed = editedOnnx((m) => void (m.metadataProps = m.metadataProps!.filter((e) => e.key !== SEAL_KEY)));
    const expectation = { inputName: 'features', outputName: 'probability', nFeatures: FEATURE_NAMES.length };
    const plain = await OnnxModel.load('unsealed', expectation, { bytes: unsealed });
    const sealed = await loadModel(BUNDLED);
    try {
      const rnd = mulberry32(7);
      const n = 2000;
      const rows = Float64Array.from({ length: n * FEATURE_NAMES.length }, () => (rnd() - 0.5) * 4);
      const a = await plain.predictBatch(rows, n);
      const b = await sealed.model.predictBatch(rows, n);
      expect(new Set(a).size).toBeGreaterThan(50);
      expect(b).toEqual(a);
    } finally {
      await plain.close();
      await sealed.model.close();
    }
  });

  it('sealModel seals a model exported elsewhere once, keeping its bytes; a sealed one is refused', async () => {
    const unsealed = editedOnnx((m) => void (m.metadataProps = m.metadataProps!.filter((e) => e.key !== SEAL_KEY)));
    const dir = variant('foreign', (card, d) => {
      writeFileSync(path.join(d, 'model.onnx'), unsealed);
      card.sha256 = sha256(unsealed);
      card.notes = 'exported from scikit-learn';
    });
    await expect(loadModel(dir)).rejects.toThrow(/carries no seal of its card/);
    const sealed = await sealModel(dir);
    const bytes = readFileSync(path.join(dir, 'model.onnx'));
    expect(sealed.sha256).toBe(sha256(bytes));
    expect(Buffer.from(bytes.subarray(0, unsealed.length)).equals(Buffer.from(unsealed))).toBe(true);
    const m = await loadModel(dir);
    await m.model.close();
    expect(m.card.notes).toBe('exported from scikit-learn');
    await expect(sealModel(dir)).rejects.toThrow(`model card ${path.join(dir, 'card.json')}: model.onnx is already sealed`);
  });

  it('npm run seal DIR seals it once; again, it exits 1 saying it is sealed', async () => {
    const unsealed = editedOnnx((m) => void (m.metadataProps = m.metadataProps!.filter((e) => e.key !== SEAL_KEY)));
    const dir = variant('foreign-cli', (card, d) => {
      writeFileSync(path.join(d, 'model.onnx'), unsealed);
      card.sha256 = sha256(unsealed);
    });
    const first = runCli('seal.ts', [dir]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`sealed ${dir}: model.onnx sha256 ${sha256(readFileSync(path.join(dir, 'model.onnx')))}`);
    const m = await loadModel(dir);
    await m.model.close();
    const again = runCli('seal.ts', [dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `error: model card ${path.join(dir, 'card.json')}: model.onnx is already sealed; a sealed model's card is fixed: restore the card, or export the model again and seal the new file\n`,
    );
  });
});

describe('the CLIs refuse an edited card: exit 1, the message on stderr, no stack trace, nothing written', () => {
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

  for (const s of SEMANTIC.filter((x) => ['two features swapped', 'another label horizon', 'a threshold added to the card'].includes(x.name))) {
    it(`npm run backtest: ${s.name}`, () => {
      const dir = variant(`cli-${s.name.replaceAll(' ', '-')}`, s.edit);
      const out = path.join(tmp, `out-${s.name.replaceAll(' ', '-')}`);
      const started = Date.now();
      const r = runCli('backtest.ts', ['--data', db, '--strategy', 'ml-signal', '--params', JSON.stringify({ model: dir }), '--out', out]);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`error: model card ${path.join(dir, 'card.json')}: '${s.field}' differs from what model.onnx was written with: ${s.detail}`);
      expect(r.stderr).toMatch(REFUSE);
      noStack(r.stderr);
      expect(existsSync(out)).toBe(false);
    }, 90_000);
  }

  it('npm run backtest: a changed model.onnx', () => {
    const dir = variant('cli-onnx', (_c, d) =>
      writeFileSync(
        path.join(d, 'model.onnx'),
        editedOnnx((m) => void (ensembleAttr(m, 'base_values').floats = [1])),
      ),
    );
    const out = path.join(tmp, 'out-onnx');
    const r = runCli('backtest.ts', ['--data', db, '--strategy', 'ml-signal', '--params', JSON.stringify({ model: dir }), '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`error: model card ${path.join(dir, 'card.json')}: model\\.onnx has sha256 .* the file changed after the card was written`),
    );
    noStack(r.stderr);
    expect(existsSync(out)).toBe(false);
  }, 90_000);

  it('npm run backtest: a non-semantic edit runs and gives the same final equity as the bundled model', () => {
    const dir = variant('cli-free', (c) => void (c.description = 'edited'));
    const run = (model: string, name: string) => {
      // without commission (the run default is ibkr-fixed), as the figure below was measured
      const r = runCli('backtest.ts', [
        '--data',
        db,
        '--strategy',
        'ml-signal',
        '--params',
        JSON.stringify({ model }),
        '--commission',
        'none',
        '--out',
        path.join(tmp, name),
      ]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(path.join(tmp, name, 'report.json'), 'utf8')).finalEquity as number;
    };
    const edited = run(dir, 'out-free');
    expect(edited).toBe(run(BUNDLED, 'out-bundled'));
    // the bundled model on the bundled sample (npm run backtest -- --strategy ml-signal --commission none), on raw prices,
    // the sample's default since it is stored raw: the same 1,048 trades as on adjusted prices, which give 8,438,600.58
    expect(edited).toBeCloseTo(8_415_276.3, 2);
  }, 120_000);

  // the live runner, sweeps and promotion load models through the same loader
  const swapped = () => variant(`cli-swapped-${Math.random().toString(36).slice(2)}`, SEMANTIC[0].edit);
  const expectRefused = (r: ReturnType<typeof runCli>, dir: string) => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error: model card ${path.join(dir, 'card.json')}: 'features' differs from what model.onnx was written with`);
    noStack(r.stderr);
  };

  it('npm run live (paper, simulator)', () => {
    const dir = swapped();
    const out = path.join(tmp, 'out-live');
    expectRefused(
      runCli('live.ts', [
        '--paper',
        '--lockstep',
        '--http',
        'off',
        '--strategy',
        'ml-signal',
        '--params',
        JSON.stringify({ model: dir, maxWeight: 0.05 }),
        '--sizing',
        'fixed',
        '--quantity',
        '10',
        '--out',
        out,
      ]),
      dir,
    );
    expect(existsSync(out)).toBe(false);
  }, 90_000);

  it('npm run sweep (the model loads in a worker)', () => {
    const dir = swapped();
    const results = path.join(tmp, 'out-sweep', 'sweep.duckdb');
    expectRefused(
      runCli('sweep.ts', ['--data', db, '--strategy', 'ml-signal', '--grid', JSON.stringify({ model: [dir] }), '--workers', '1', '--db', results]),
      dir,
    );
    expect(existsSync(results)).toBe(false);
  }, 90_000);

  it('npm run promote', () => {
    const dir = swapped();
    const out = path.join(tmp, 'out-promote');
    expectRefused(
      runCli('promote.ts', [
        '--data',
        db,
        '--strategy',
        'ml-signal',
        '--params',
        JSON.stringify({ model: dir }),
        '--from',
        '2016-01-04',
        '--walk-forward',
        'train=2y,test=1y',
        '--out-dir',
        out,
      ]),
      dir,
    );
    expect(existsSync(out)).toBe(false);
  }, 90_000);
});
