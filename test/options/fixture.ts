// ../shared/fixtures/option-cases.json, read by path (test/shared-data.ts), with its cases as pricing inputs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PricingInputs } from '../../engine/options/inputs.ts';
import { SHARED, sharedAvailable } from '../shared-data.ts';

export interface EuropeanCase {
  case: string;
  S: number;
  K: number;
  r: number;
  q: number;
  sigma: number;
  T: number;
  expect: Record<'d1' | 'd2' | 'call' | 'put' | 'call_delta' | 'put_delta' | 'gamma' | 'vega' | 'call_theta' | 'put_theta' | 'call_rho' | 'put_rho', number>;
}

export interface CrrCase {
  case: string;
  S: number;
  K: number;
  r: number;
  /** absent in the file: no dividend yield */
  q?: number;
  sigma: number;
  T: number;
  steps: number;
  put: boolean;
  expect: number;
}

const FILE = 'fixtures/option-cases.json';
export const fixtureAvailable = sharedAvailable(FILE);
const data = fixtureAvailable ? JSON.parse(readFileSync(path.join(SHARED, FILE), 'utf8')) : { european: [], american_crr: [] };
export const europeanCases: EuropeanCase[] = data.european;
export const crrCases: CrrCase[] = data.american_crr;

export function inputsOf(c: { S: number; K: number; r: number; q?: number; sigma: number; T: number }): PricingInputs {
  return { spot: c.S, strike: c.K, years: c.T, rate: c.r, dividendYield: c.q ?? 0, vol: c.sigma };
}

/** |got - want| / |want|, or |got| when want is 0 */
export const relErr = (got: number, want: number) => (want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want));
