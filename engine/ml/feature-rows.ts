// Feature rows as every model in engine/ml takes them: row-major, each value finite as float32.

/** Throws on a row/feature that is NaN or outside float32's finite range. */
export function assertFeatures(rows: Float64Array, nFeatures: number, what = 'features'): void {
  if (!Number.isInteger(nFeatures) || nFeatures <= 0) throw new Error(`${what}: nFeatures must be a positive integer, got ${nFeatures}`);
  if (rows.length % nFeatures !== 0) throw new Error(`${what}: ${rows.length} values is not a whole number of rows of ${nFeatures} features`);
  for (let k = 0; k < rows.length; k++) {
    if (!Number.isFinite(Math.fround(rows[k]))) {
      throw new Error(
        `${what}: row ${Math.floor(k / nFeatures)}, feature ${k % nFeatures} is ${rows[k]} (NaN and values that are not finite as float32 are not allowed)`,
      );
    }
  }
}
