import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Each file starts real service processes; on a 2-core machine they run one file at a time.
    fileParallelism: false,
    pool: "forks",
    // One worker process for every file: vitest 4 sometimes loses a newly forked worker's start
    // message (vitest-dev/vitest#8968), and each file starts its own services anyway.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
