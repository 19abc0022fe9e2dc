// `npm run test:unit`: the in-process tests (no child process, no socket, no browser, no Jupyter), under a
// minute; `npm test` runs them with every integration suite.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/architecture.test.ts',
      'test/api/api.test.ts',
      'test/setup-fast-check.test.ts',
      'test/engine/**/*.test.ts',
      'engine/**/*.test.ts',
      'test/metrics/**/*.test.ts',
      'test/reference/**/*.test.ts',
      'test/report/{figures,report,stream,decimate}.test.ts',
      'test/ml/{features,models,onnx}.test.ts',
      'test/data/factors.test.ts',
      'test/data/lean-{files,rows,import,instruments}.test.ts',
      'test/ib/aggregator.test.ts',
      'test/journal/combo-settle.test.ts',
      'test/ib/sim/protocol.test.ts',
      'test/ib/sim/multi-asset-secdef.test.ts',
      'test/ib/live-contracts.test.ts',
      'test/ops/log.test.ts',
      'test/options/**/*.test.ts',
      'test/instruments/**/*.test.ts',
      'test/futures/**/*.test.ts',
      'test/tax/{cgt,daily-rates,journal-trades,derivatives}.test.ts',
    ],
  },
});
