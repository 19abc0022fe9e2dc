// The model a run trades on (ml-signal's `model` param), loaded from its folder relative to the repository.
import path from 'node:path';
import { loadModel, type LoadedModel } from '../../engine/ml/model-card.ts';
import { predictHistory } from '../../engine/ml/predictions.ts';
import { repoRoot } from '../../engine/paths.ts';
import type { SignalsFor } from '../../engine/research/sweep-run.ts';
import { modelOf } from '../../strategies/index.ts';

/** The run's model, or undefined when its strategy trades on none. Close it when the run ends. */
export async function runModel(strategy: string, params: Record<string, unknown>): Promise<LoadedModel | undefined> {
  const location = modelOf(strategy, params);
  return location === undefined ? undefined : loadModel(path.resolve(repoRoot(), location));
}

const cache = new Map<string, Promise<LoadedModel>>();

/** Batched predictions for a run's bars, each model loaded once per process (a sweep worker runs many tasks). */
export const signalsFor: SignalsFor = async (config, series) => {
  const location = modelOf(config.strategy, config.params);
  if (location === undefined) return undefined;
  const file = path.resolve(repoRoot(), location);
  if (!cache.has(file)) cache.set(file, loadModel(file));
  return predictHistory(await cache.get(file)!, series);
};
