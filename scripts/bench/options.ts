// Option pricing figures (issue 15): how many contracts a second the pricing behind ctx.chain, readChain and
// the simulator's option computations can value. A fixed grid of contracts (spots around 100, strikes 80-120,
// 1 to 180 days, volatilities 10-60%), timed after a warm-up; each figure is the median of `runs` passes.
import { bsmGreeks, bsmPrice } from '../../engine/options/black-scholes.ts';
import { crrGreeks, crrPrice } from '../../engine/options/binomial.ts';
import { impliedVol } from '../../engine/options/implied-vol.ts';
import type { PricingInputs } from '../../engine/options/inputs.ts';

export interface OptionFigures {
  contracts: number;
  /** Black-Scholes price and greeks, contracts/s */
  bsmGreeksPerSec: number;
  /** European implied volatility from a price (Newton on vega), contracts/s */
  bsmImpliedVolPerSec: number;
  /** American CRR tree of 100 steps: price, contracts/s */
  crr100PricePerSec: number;
  /** American CRR tree of 100 steps: greeks (vega and rho by repricing), contracts/s */
  crr100GreeksPerSec: number;
  /** American implied volatility on a 100-step tree (Brent), contracts/s */
  crr100ImpliedVolPerSec: number;
}

function grid(): PricingInputs[] {
  const out: PricingInputs[] = [];
  for (const strike of [80, 90, 95, 100, 105, 110, 120])
    for (const days of [1, 7, 30, 90, 180])
      for (const vol of [0.1, 0.25, 0.6]) out.push({ spot: 100, strike, years: days / 365, rate: 0.02, dividendYield: 0.01, vol });
  return out;
}

function perSec(items: number, runs: number, pass: () => void): number {
  pass(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    pass();
    rates.push(items / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[rates.length >> 1]!;
}

export function benchOptions(runs = 5): OptionFigures {
  const inputs = grid();
  const n = inputs.length;
  const american = { right: 'P' as const, style: 'american' as const, steps: 100 };
  const bsmPrices = inputs.map((p) => bsmPrice('C', p));
  const crrPrices = inputs.map((p) => crrPrice(american, p));
  const market = (p: PricingInputs) => ({ spot: p.spot, strike: p.strike, years: p.years, rate: p.rate, dividendYield: p.dividendYield });
  let sink = 0;
  const figures: OptionFigures = {
    contracts: n,
    bsmGreeksPerSec: perSec(n * 20, runs, () => {
      for (let k = 0; k < 20; k++) for (const p of inputs) sink += bsmGreeks('C', p).delta;
    }),
    bsmImpliedVolPerSec: perSec(n * 5, runs, () => {
      for (let k = 0; k < 5; k++) inputs.forEach((p, i) => (sink += Number(impliedVol({ right: 'C', style: 'european' }, bsmPrices[i]!, market(p)).ok)));
    }),
    crr100PricePerSec: perSec(n, runs, () => {
      for (const p of inputs) sink += crrPrice(american, p);
    }),
    crr100GreeksPerSec: perSec(n, runs, () => {
      for (const p of inputs) sink += crrGreeks(american, p).delta;
    }),
    crr100ImpliedVolPerSec: perSec(n, runs, () => {
      inputs.forEach((p, i) => (sink += Number(impliedVol({ right: 'P', style: 'american', steps: 100 }, crrPrices[i]!, market(p)).ok)));
    }),
  };
  if (Number.isNaN(sink)) throw new Error('a price was NaN');
  return figures;
}
