// The standard normal distribution to near machine precision, for option pricing: the fixture's greeks are
// checked to 1e-9 relative, and a deep out-of-the-money option's value is a tail probability, so a textbook
// approximation (Abramowitz-Stegun 26.2.17, absolute error 7.5e-8) is not good enough.
//
// erfc is W. J. Cody's rational Chebyshev approximation ("Rational Chebyshev approximations for the error
// function", Math. Comp. 23 (1969) 631-637; the coefficients of his CALERF routine in SPECFUN, ACM TOMS
// algorithm 715). Checked against 40-digit values: relative error below 1e-15 (test/options/normal.test.ts).

const A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const C = [
  0.5641884969886701, 8.883149794388375, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707, 2051.0783778260716, 1230.3393547979972,
  2.1531153547440383e-8,
];
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247, 3439.3676741437216, 1230.3393548037493,
];
const P = [0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.01608378514874228, 0.0006587491615298378, 0.016315387137302097];
const Q = [2.568520192289822, 1.8729528499234673, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918];
/** 1/sqrt(pi) */
const ONE_OVER_SQRT_PI = 0.5641895835477563;
/** erfc(x) underflows to 0 past this */
const ERFC_ZERO = 26.543;
const SQRT1_2 = Math.SQRT1_2;
const ONE_OVER_SQRT_2PI = 0.3989422804014327;

/** exp(-y^2) without the cancellation of squaring a large y in one step (Cody's split at 1/16). */
function expMinusSquare(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  return Math.exp(-head * head) * Math.exp(-(y - head) * (y + head));
}

/** The complementary error function, 1 - erf(x), with relative accuracy ~1e-15 wherever it is not 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const ysq = y * y;
    let num = A[4] * ysq;
    let den = ysq;
    for (let i = 0; i < 3; i++) {
      num = (num + A[i]) * ysq;
      den = (den + B[i]) * ysq;
    }
    return 1 - (x * (num + A[3])) / (den + B[3]);
  }
  let r: number;
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    r = ((num + C[7]) / (den + D[7])) * expMinusSquare(y);
  } else if (y >= ERFC_ZERO) {
    r = 0;
  } else {
    const z = 1 / (y * y);
    let num = P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]) * z;
      den = (den + Q[i]) * z;
    }
    r = ((ONE_OVER_SQRT_PI - (z * (num + P[4])) / (den + Q[4])) / y) * expMinusSquare(y);
  }
  return x < 0 ? 2 - r : r;
}

/** P(Z <= x) for a standard normal Z; accurate relative to its value in both tails (down to ~1e-300). */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** The standard normal density. */
export function normPdf(x: number): number {
  return ONE_OVER_SQRT_2PI * Math.exp(-0.5 * x * x);
}
