// The model a run trades on (the one its strategy's definition declares, e.g. ml-signal's `model` param),
// loaded from its folder relative to the repository. The strategies are not engine code: `modelSignals` takes
// the lookup of a strategy's model (strategies/index.ts's modelOf for the CLIs, a definition's `model` for the API).
import path from 'node:path';
import type { SignalSource } from '../core/signals.ts';
import type { BarSeries } from '../core/types.ts';
import { repoRoot } from '../paths.ts';
import { inSampleOf, type InSample, type TimedSeries } from './in-sample.ts';
import { loadModel, readModelCard, type LoadedModel, type ModelCard } from './model-card.ts';
import { predictHistory } from './predictions.ts';

/** The model folder a strategy trades on with these params (relative to the repository), if any. */
export type ModelOf = (strategy: string, params: Record<string, unknown>) => string | undefined;

/** A model location (relative to the repository, or absolute) as a folder. */
export const modelDir = (location: string): string => path.resolve(repoRoot(), location);

/** The run-level model helpers for one way of finding a strategy's model. */
export interface ModelSignals {
  /** the folder of the model a run trades on, if any */
  runModelDir(strategy: string, params: Record<string, unknown>): string | undefined;
  /** the run's model, or undefined when its strategy trades on none; close it when the run ends */
  runModel(strategy: string, params: Record<string, unknown>): Promise<LoadedModel | undefined>;
  /**
   * How much of a run lies in the training window of the model it trades on (card: the loaded model's);
   * undefined when its strategy trades on no model or no bar of the run is one the model trained on.
   */
  runInSample(
    strategy: string,
    params: Record<string, unknown>,
    card: Pick<ModelCard, 'training' | 'label'>,
    series: readonly TimedSeries[],
  ): InSample | undefined;
  /**
   * The same for a sweep, over all its bars: one per model its combinations trade on that was trained on
   * some of them (a grid normally names one model, or none), so a sweep warns once, not once per run.
   */
  sweepInSample(strategy: string, combinations: readonly Record<string, unknown>[], series: readonly TimedSeries[]): InSample[];
  /** batched predictions for a run's bars, each model loaded once per process (a sweep worker runs many tasks) */
  signalsFor(config: { strategy: string; params: Record<string, unknown> }, series: BarSeries[]): Promise<SignalSource | undefined>;
}

export function modelSignals(modelOf: ModelOf): ModelSignals {
  const runModelDir = (strategy: string, params: Record<string, unknown>) => {
    const location = modelOf(strategy, params);
    return location === undefined ? undefined : modelDir(location);
  };
  const cache = new Map<string, Promise<LoadedModel>>();
  return {
    runModelDir,
    async runModel(strategy, params) {
      const dir = runModelDir(strategy, params);
      return dir === undefined ? undefined : loadModel(dir);
    },
    runInSample(strategy, params, card, series) {
      const model = modelOf(strategy, params);
      return model === undefined ? undefined : inSampleOf({ strategy, model, card, series, scope: 'run' });
    },
    sweepInSample(strategy, combinations, series) {
      const models = new Map<string, string>();
      for (const params of combinations) {
        const model = modelOf(strategy, params);
        if (model !== undefined) models.set(modelDir(model), model);
      }
      return [...models].flatMap(([dir, model]) => inSampleOf({ strategy, model, card: readModelCard(dir), series, scope: 'sweep' }) ?? []);
    },
    async signalsFor(config, series) {
      const dir = runModelDir(config.strategy, config.params);
      if (dir === undefined) return undefined;
      if (!cache.has(dir)) cache.set(dir, loadModel(dir));
      return predictHistory(await cache.get(dir)!, series);
    },
  };
}
