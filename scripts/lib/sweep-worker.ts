// The sweep's worker-thread entry: a sweep run with the built-in strategy registry and model predictions.
import { runSweepTask } from '../../engine/research/sweep-run.ts';
import type { SweepTask } from '../../engine/research/sweep.ts';
import { buildSlots } from '../../strategies/index.ts';
import { signalsFor } from './model-signals.ts';

export default (task: SweepTask) => runSweepTask(task, buildSlots, signalsFor);

/** This module's URL: the worker file the sweep pool loads. */
export const SWEEP_WORKER = import.meta.url;
