import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites start real daemons and sshd processes; two cores run two files at a time.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
