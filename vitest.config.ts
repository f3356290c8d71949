import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', '.data/**'],
    // Embedded Postgres (PGlite) takes a few seconds to boot from scratch.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel, but not so many that timing-sensitive voice tests starve.
    maxWorkers: 2,
  },
});
