// The notebook API's sweep worker (a piscina thread): one sweep run with the built-in strategy registry and its models' predictions.
import { runSweepTask } from '../research/sweep-run.ts';
import type { SweepTask } from '../research/sweep.ts';
import { buildSlots } from '../../strategies/index.ts';
import { REGISTRY_MODELS } from './options.ts';

export default (task: SweepTask) => runSweepTask(task, buildSlots, REGISTRY_MODELS.signalsFor);
