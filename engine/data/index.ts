// The data layer: DuckDB store, importers, validation, loader, bundled sample.
export { DataError, isDataError, type DataErrorInfo, type DataRule } from './errors.ts';
export { adjustedSeries, resolvePrices, type CorporateAction, type PriceBasis, type PriceMode, type RunPrices } from './actions.ts';
export { factorAt, readFactorFile, type FactorRow } from './factors.ts';
export { DEFAULT_TZ, importPaths, type ImportOptions, type ImportPhase, type ImportSummary } from './import.ts';
export { chunkBars, listSymbols, loadBars, readPriceInfo, type LoadRequest } from './load.ts';
export { ensureSampleDb, SAMPLE_DIR } from './sample.ts';
export { DEFAULT_DB_PATH, openStore, type Store } from './store.ts';
export { assertTimeZone, formatInZone, localToUtc, tzOffsetMs, utcToLocal } from '../core/timezone.ts';
