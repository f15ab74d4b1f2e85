// Unit tests live next to their source as *.test.ts and run in plain Node (no Electron, no DOM).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    // The JSON report feeds .ci/summary.mjs; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
})
