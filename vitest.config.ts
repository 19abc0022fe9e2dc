import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // tests live in test/ and beside the code they test (engine/core/indicators/sma.test.ts)
    include: ['test/**/*.test.ts', 'engine/**/*.test.ts'],
    // FC_SEED / FC_NUM_RUNS for every fast-check property (see the file)
    setupFiles: ['./test/setup-fast-check.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
