// The model a run trades on (the one its strategy's definition declares, e.g. ml-signal's `model` param),
// loaded from its folder relative to the repository.
import path from 'node:path';
import { inSampleOf, type InSample, type TimedSeries } from '../../engine/ml/in-sample.ts';
import { loadModel, readModelCard, type LoadedModel, type ModelCard } from '../../engine/ml/model-card.ts';
import { predictHistory } from '../../engine/ml/predictions.ts';
import { repoRoot } from '../../engine/paths.ts';
import type { SignalsFor } from '../../engine/research/sweep-run.ts';
import { modelOf } from '../../strategies/index.ts';

/** The folder of the model a run trades on (its definition's `model`, relative to the repository), if any. */
export function runModelDir(strategy: string, params: Record<string, unknown>): string | undefined {
  const location = modelOf(strategy, params);
  return location === undefined ? undefined : path.resolve(repoRoot(), location);
}

/** The run's model, or undefined when its strategy trades on none. Close it when the run ends. */
export async function runModel(strategy: string, params: Record<string, unknown>): Promise<LoadedModel | undefined> {
  const dir = runModelDir(strategy, params);
  return dir === undefined ? undefined : loadModel(dir);
}

/**
 * How much of a run lies in the training window of the model it trades on (card: the loaded model's);
 * undefined when its strategy trades on no model or no bar of the run is one the model trained on.
 */
export function runInSample(
  strategy: string,
  params: Record<string, unknown>,
  card: Pick<ModelCard, 'training' | 'label'>,
  series: readonly TimedSeries[],
): InSample | undefined {
  const model = modelOf(strategy, params);
  return model === undefined ? undefined : inSampleOf({ strategy, model, card, series, scope: 'run' });
}

/**
 * The same for a sweep, over all its bars: one per model its combinations trade on that was trained on
 * some of them (a grid normally names one model, or none), so a sweep warns once, not once per run.
 */
export function sweepInSample(strategy: string, combinations: readonly Record<string, unknown>[], series: readonly TimedSeries[]): InSample[] {
  const models = new Map<string, string>();
  for (const params of combinations) {
    const model = modelOf(strategy, params);
    if (model !== undefined) models.set(path.resolve(repoRoot(), model), model);
  }
  return [...models].flatMap(([dir, model]) => inSampleOf({ strategy, model, card: readModelCard(dir), series, scope: 'sweep' }) ?? []);
}

const cache = new Map<string, Promise<LoadedModel>>();

/** Batched predictions for a run's bars, each model loaded once per process (a sweep worker runs many tasks). */
export const signalsFor: SignalsFor = async (config, series) => {
  const dir = runModelDir(config.strategy, config.params);
  if (dir === undefined) return undefined;
  if (!cache.has(dir)) cache.set(dir, loadModel(dir));
  return predictHistory(await cache.get(dir)!, series);
};
