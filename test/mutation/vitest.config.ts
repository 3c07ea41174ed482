// The unit tests Stryker runs against each mutant. Left out: fuzz (random inputs and a time limit
// make a mutant's verdict depend on luck and load) and the openssl cross-check (one openssl
// process per certificate of the system bundle: minutes per mutant under instrumentation).
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: resolve(import.meta.dirname, '../..'),
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/**/fuzz.test.ts', 'test/unit/**/openssl-crosscheck.test.ts'],
    testTimeout: 60_000,
  },
});
