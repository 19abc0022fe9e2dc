// The model a run trades on (ml-signal's `model` param), loaded from its folder relative to the repository.
import path from 'node:path';
import { loadModel, type LoadedModel } from '../../engine/ml/model-card.ts';
import { repoRoot } from '../../engine/paths.ts';
import { modelOf } from '../../strategies/index.ts';

/** The run's model, or undefined when its strategy trades on none. Close it when the run ends. */
export async function runModel(strategy: string, params: Record<string, unknown>): Promise<LoadedModel | undefined> {
  const location = modelOf(strategy, params);
  return location === undefined ? undefined : loadModel(path.resolve(repoRoot(), location));
}
