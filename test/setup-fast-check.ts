// Vitest setup file (vitest.config.ts setupFiles): makes every fast-check property reproducible.
//
// A failing property throws "Property failed after N tests\n{ seed: S, path: "P", endOnFailure: true }
// \nCounterexample: ..." (vitest prints the assertion that failed below it, as its cause). The same
// seed replays the same runs, so the same failure and the same shrinking:
//
//   FC_SEED=S npx vitest run test/ib/sim/split.test.ts -t 'name of the test'
//
// FC_SEED is the default seed of every fc.assert/fc.check that does not pin its own. FC_NUM_RUNS
// sets the number of runs of properties that do not set their own, and of those that pass theirs
// through `numRuns(n)` below (e.g. FC_NUM_RUNS=200000 to search harder locally). fast-check takes no
// global path (a path belongs to one property); to replay only the shrunk counterexample, pass
// `{ seed: S, path: "P" }` to that one fc.assert while debugging.

import fc from 'fast-check';

export interface FastCheckEnvConfig {
  seed?: number;
  numRuns?: number;
}

function int(env: Readonly<Record<string, string | undefined>>, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
  return v;
}

/** The fast-check settings the environment asks for (FC_SEED, FC_NUM_RUNS); invalid values throw. */
export function fastCheckConfigFromEnv(env: Readonly<Record<string, string | undefined>>): FastCheckEnvConfig {
  const out: FastCheckEnvConfig = {};
  // fast-check prints its seeds as signed 32-bit integers
  const seed = int(env, 'FC_SEED', -(2 ** 31), 2 ** 31 - 1);
  if (seed !== undefined) out.seed = seed;
  const numRuns = int(env, 'FC_NUM_RUNS', 1, 100_000_000);
  if (numRuns !== undefined) out.numRuns = numRuns;
  return out;
}

const fromEnv = fastCheckConfigFromEnv(process.env);

/**
 * The number of runs for a property that sets its own: FC_NUM_RUNS when given, else `n`. (A numRuns
 * passed to fc.assert overrides the global configuration, hence this helper.)
 */
export function numRuns(n: number): number {
  return fromEnv.numRuns ?? n;
}

fc.configureGlobal({ ...fc.readConfigureGlobal(), ...fromEnv });
