import { defineConfig } from 'vitest/config'

// Tests open real sockets on loopback; give slow CI machines room but keep every test bounded.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
})
