// @duckdb/node-api loaded with require: an ESM import of this CommonJS package makes Node pre-parse each of its
// ~180 files for named exports, about 0.14 s of CPU at every command's start. Import DuckDB's values from here;
// its types still come from '@duckdb/node-api' (`import type`).
import { createRequire } from 'node:module';
import type * as Duck from '@duckdb/node-api';

const duckdb: typeof Duck = createRequire(import.meta.url)('@duckdb/node-api');

export const { DuckDBInstance, DuckDBDataChunk, BOOLEAN, DOUBLE, ENUM, INTEGER, VARCHAR } = duckdb;
export type DuckDBInstance = Duck.DuckDBInstance;
export type DuckDBDataChunk = Duck.DuckDBDataChunk;
