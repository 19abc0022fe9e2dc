// The sweep's worker-thread entry (a piscina thread) for the notebook API and the CLIs (scripts/lib/sweep-worker.ts):
// one sweep run with the built-in strategy registry and its models' predictions (each model loaded once per thread).
import { modelSignals } from '../ml/model-signals.ts';
import { runSweepTask } from '../research/sweep-run.ts';
import type { SweepTask } from '../research/sweep.ts';
import { buildSlots, modelOf } from '../../strategies/index.ts';

const { signalsFor } = modelSignals(modelOf);

export default (task: SweepTask) => runSweepTask(task, buildSlots, signalsFor);
