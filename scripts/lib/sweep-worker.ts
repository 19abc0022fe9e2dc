// The sweep's worker-thread entry for the CLIs: the notebook API's (a run with the built-in strategy registry and its models).
export { default } from '../../engine/api/sweep-worker.ts';

/** This module's URL: the worker file the sweep pool loads. */
export const SWEEP_WORKER = import.meta.url;
