// The model a run trades on (ml-signal's `model` param), loaded from its folder relative to the repository.
import path from 'node:path';
import { loadModel, type LoadedModel } from '../../engine/ml/model-card.ts';
import { predictHistory } from '../../engine/ml/predictions.ts';
import { repoRoot } from '../../engine/paths.ts';
import type { SignalsFor } from '../../engine/research/sweep-run.ts';
import { modelOf } from '../../strategies/index.ts';

/** The folder of the model a run trades on (ml-signal's `model` param, relative to the repository), if any. */
export function runModelDir(strategy: string, params: Record<string, unknown>): string | undefined {
  const location = modelOf(strategy, params);
  return location === undefined ? undefined : path.resolve(repoRoot(), location);
}

/** The run's model, or undefined when its strategy trades on none. Close it when the run ends. */
export async function runModel(strategy: string, params: Record<string, unknown>): Promise<LoadedModel | undefined> {
  const dir = runModelDir(strategy, params);
  return dir === undefined ? undefined : loadModel(dir);
}

const cache = new Map<string, Promise<LoadedModel>>();

/** Batched predictions for a run's bars, each model loaded once per process (a sweep worker runs many tasks). */
export const signalsFor: SignalsFor = async (config, series) => {
  const dir = runModelDir(config.strategy, config.params);
  if (dir === undefined) return undefined;
  if (!cache.has(dir)) cache.set(dir, loadModel(dir));
  return predictHistory(await cache.get(dir)!, series);
};
