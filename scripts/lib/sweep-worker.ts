// The sweep's worker-thread entry: a sweep run with the built-in strategy registry.
import { runSweepTask } from '../../engine/research/sweep-run.ts';
import type { SweepTask } from '../../engine/research/sweep.ts';
import { buildSlots } from '../../strategies/index.ts';

export default (task: SweepTask) => runSweepTask(task, buildSlots);

/** This module's URL: the worker file the sweep pool loads. */
export const SWEEP_WORKER = import.meta.url;
