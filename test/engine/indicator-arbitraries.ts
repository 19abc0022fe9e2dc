// Series for the indicator tests beside the code (engine/core/indicators/*.test.ts, engine/core/exact-sum.test.ts).
import fc from 'fast-check';

export const prices = fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 30, maxLength: 200 });

/** Our streaming values where warm, aligned with a batch result that starts at the first warm bar. */
export function streamed(xs: number[], update: (x: number, i: number) => number): number[] {
  return xs.map(update).filter((v) => !Number.isNaN(v));
}

/**
 * Doubles whose magnitudes span most of the normal range (2^-900 .. 2^996), mixed with adversarial constants
 * that cancel (1e16, 1, -1e16, 2^53, ...). A window of up to 40 of them cannot overflow, and a nonzero sum
 * or mean of them stays a normal number (the BigInt reference refuses subnormal results).
 */
export const wide = fc.oneof(
  fc
    .tuple(fc.double({ min: 1, max: 2, maxExcluded: true, noNaN: true }), fc.integer({ min: -900, max: 996 }), fc.boolean())
    .map(([m, e, neg]) => (neg ? -1 : 1) * m * 2 ** e),
  fc.constantFrom(1e16, -1e16, 1, -1, 0.1, 0.2, 0.3, 2 ** 53, -(2 ** 53), 1e-16, 1e300, -1e300, 0),
  fc.double({ min: 1, max: 500, noNaN: true }),
);
