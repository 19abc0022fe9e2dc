// The notebook API's sweep worker (a piscina thread): one sweep run with the built-in strategy registry.
import { runSweepTask } from '../research/sweep-run.ts';
import type { SweepTask } from '../research/sweep.ts';
import { buildSlots } from '../../strategies/index.ts';

export default (task: SweepTask) => runSweepTask(task, buildSlots);
