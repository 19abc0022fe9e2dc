import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCheckConfigFromEnv, numRuns } from './setup-fast-check.ts';

describe('fast-check setup (FC_SEED, FC_NUM_RUNS)', () => {
  it('is in effect: the global configuration is what the environment asks for', () => {
    const want = fastCheckConfigFromEnv(process.env);
    const got = fc.readConfigureGlobal();
    expect(got.seed).toBe(want.seed);
    expect(got.numRuns).toBe(want.numRuns);
    if (process.env.FC_SEED) expect(got.seed).toBe(Number(process.env.FC_SEED));
    else expect(got.seed).toBeUndefined();
    expect(numRuns(7)).toBe(want.numRuns ?? 7);
  });

  it('reads the environment, and refuses what it cannot use', () => {
    expect(fastCheckConfigFromEnv({})).toEqual({});
    expect(fastCheckConfigFromEnv({ FC_SEED: '', FC_NUM_RUNS: ' ' })).toEqual({});
    expect(fastCheckConfigFromEnv({ FC_SEED: '886941790' })).toEqual({ seed: 886941790 });
    expect(fastCheckConfigFromEnv({ FC_SEED: '-561897905', FC_NUM_RUNS: '200000' })).toEqual({ seed: -561897905, numRuns: 200_000 });
    expect(() => fastCheckConfigFromEnv({ FC_SEED: 'abc' })).toThrow(/FC_SEED/);
    expect(() => fastCheckConfigFromEnv({ FC_SEED: '1.5' })).toThrow(/FC_SEED/);
    expect(() => fastCheckConfigFromEnv({ FC_SEED: String(2 ** 31) })).toThrow(/FC_SEED/);
    expect(() => fastCheckConfigFromEnv({ FC_NUM_RUNS: '0' })).toThrow(/FC_NUM_RUNS/);
  });

  // the repo's usage: fc.assert(fc.property(..., (x) => { expect(...) })) inside a vitest test
  const failing = (params: fc.Parameters<[number]>) => () =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (x) => {
        expect(x).toBeLessThan(1000);
      }),
      params,
    );

  it('puts the seed, the path and the counterexample in the error a failing property throws, with the assertion as its cause', () => {
    let err: unknown;
    try {
      failing({ seed: 123 })();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    const e = err as Error;
    expect(e.message).toMatch(/^Property failed after \d+ tests\n\{ seed: 123, path: "[\d:]+", endOnFailure: true \}\nCounterexample: \[1000\]/);
    expect(String((e as { cause?: unknown }).cause)).toMatch(/expected 1000 to be less than 1000/);
  });

  it('replays a failure from the printed seed (what FC_SEED feeds into), or just its counterexample from seed and path', () => {
    const printed = (params: fc.Parameters<[number]>): { seed: number; path: string; counterexample: string } => {
      try {
        failing(params)();
      } catch (e) {
        const m = /\{ seed: (-?\d+), path: "([\d:]+)".*\}\nCounterexample: (.*)/.exec((e as Error).message);
        if (m) return { seed: Number(m[1]), path: m[2], counterexample: m[3] };
      }
      throw new Error('the property did not fail as expected');
    };
    const first = printed({});
    expect(printed({ seed: first.seed })).toEqual(first);
    const replay = printed({ seed: first.seed, path: first.path });
    expect(replay.counterexample).toBe(first.counterexample);
    // a property that sets no seed takes the global one (this is how FC_SEED reaches every test)
    const before = fc.readConfigureGlobal();
    try {
      fc.configureGlobal({ ...before, seed: first.seed });
      expect(printed({})).toEqual(first);
    } finally {
      fc.configureGlobal(before);
    }
  });
});
