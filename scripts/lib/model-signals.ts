// The CLIs' model helpers: engine/ml/model-signals.ts with the built-in strategy registry's models.
import { modelSignals } from '../../engine/ml/model-signals.ts';
import { modelOf } from '../../strategies/index.ts';

export const { runModelDir, runModel, runInSample, sweepInSample, signalsFor } = modelSignals(modelOf);
