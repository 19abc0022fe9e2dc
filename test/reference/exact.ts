/**
 * Exactly rounded sums for the tests, independent of the engine's code (engine/core/exact-sum.ts uses
 * Shewchuk's floating-point partials; this uses integers): every finite double is m * 2^e with integer m,
 * so times 2^1074 it is a BigInt, and a sum of BigInts is exact. The exact sum (or exact sum / n, a
 * rational) is then rounded once to the nearest double, ties to even (Number(bigint) rounds that way; a
 * sticky bit keeps the discarded bits and the remainder).
 */

const view = new DataView(new ArrayBuffer(8));

/** x * 2^1074 as a BigInt (exact) for a finite double x. */
export function toScaled(x: number): bigint {
  if (!Number.isFinite(x)) throw new Error(`toScaled: ${x} is not finite`);
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  // normal: (2^52 + frac) * 2^(exp - 1075); subnormal: frac * 2^-1074
  const m = exp === 0 ? frac : (frac | (1n << 52n)) << BigInt(exp - 1);
  return neg ? -m : m;
}

/** The double nearest to S / den * 2^-1074 (ties to even), den > 0; the result must be normal or 0. */
export function fromScaled(S: bigint, den = 1n): number {
  if (S === 0n) return 0;
  const neg = S < 0n;
  let num = neg ? -S : S;
  // scale the numerator so that the integer quotient has at least 64 bits
  let k = 64 + den.toString(2).length - num.toString(2).length;
  if (k < 0) k = 0;
  num <<= BigInt(k);
  let a = num / den;
  const inexact = num % den !== 0n;
  const len = a.toString(2).length;
  let shift = 0;
  let sticky = inexact;
  if (len > 64) {
    shift = len - 64;
    sticky ||= (a & ((1n << BigInt(shift)) - 1n)) !== 0n;
    a >>= BigInt(shift);
  }
  if (sticky) a |= 1n;
  // a < 2^64 with 11 bits below the 53 kept and a sticky bit: Number rounds it once, correctly
  let r = Number(a);
  // scale by 2^(shift - k - 1074) in exact power-of-two steps
  let e = shift - k - 1074;
  while (e < -1000) {
    r *= 2 ** -1000;
    e += 1000;
  }
  while (e > 1000) {
    r *= 2 ** 1000;
    e -= 1000;
  }
  r *= 2 ** e;
  if (Math.abs(r) < 2 ** -1022) throw new Error('fromScaled: subnormal result, double rounding possible');
  return neg ? -r : r;
}

/** math.fsum: the exactly rounded sum of finite doubles. */
export function exactSum(xs: readonly number[]): number {
  let S = 0n;
  for (const x of xs) S += toScaled(x);
  return fromScaled(S);
}

/** The true mean of finite doubles, rounded once (ties to even). */
export function exactMean(xs: readonly number[]): number {
  let S = 0n;
  for (const x of xs) S += toScaled(x);
  return fromScaled(S, BigInt(xs.length));
}

/** The exact moving average of each window: its true mean (exact sum / n) rounded once. NaN until warm. */
export function exactSma(xs: readonly number[], n: number): number[] {
  const scaled = xs.map(toScaled);
  const out: number[] = [];
  let S = 0n;
  for (let t = 0; t < xs.length; t++) {
    S += scaled[t];
    if (t >= n) S -= scaled[t - n]; // integer arithmetic: an exact running sum, no drift
    out.push(t + 1 < n ? NaN : fromScaled(S, BigInt(n)));
  }
  return out;
}
