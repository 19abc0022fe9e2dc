// The run's data for the CLIs: engine/run/run-data.ts (moved there so the notebook API, engine/index.ts, shares it).
export * from '../../engine/run/run-data.ts';
