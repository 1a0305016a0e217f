import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['lamina-src'] },
  ssr: { resolve: { conditions: ['lamina-src'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // a user's project's files, run inside the installed package by test/consumer.test.ts
    exclude: ['test/consumer/**', '**/node_modules/**'],
    setupFiles: ['test/setup.ts'],
    typecheck: { enabled: false },
    testTimeout: 120_000,
    reporters: ['default']
  }
})
