// Features for ML models: the definitions (table in features-spec.ts), a streaming pipeline for live
// and event-driven runs, a batched path for backtests and training, and labels/datasets.
export { COL, FEATURE_NAMES, FEATURE_WARMUP, NF, WARMUP_BARS, type FeatureName } from './features-spec.ts';
export { FeaturePipeline } from './features-stream.ts';
export { batchFeatures, forEachSlice } from './features-batch.ts';
export { buildDataset, forwardReturnLabels, purge, splitByTime, type Dataset, type DatasetOptions, type SplitOptions } from './features-dataset.ts';
