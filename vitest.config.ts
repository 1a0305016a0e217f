import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['lamina-src'] },
  ssr: { resolve: { conditions: ['lamina-src'] } },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    typecheck: { enabled: false },
    testTimeout: 120_000,
    reporters: ['default']
  }
})
