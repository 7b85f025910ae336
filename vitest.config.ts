import { defineConfig } from "vitest/config";

// Three projects so CI can run the fast ones first and the engine-backed ones last.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Pulumi mocks are process-global: isolate each file in its own fork.
          pool: "forks",
          testTimeout: 30_000,
          // Several files build whole Platforms under mocks in beforeAll: seconds when idle, but a
          // loaded 2-core CI machine passed vitest's 10 s hook default.
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "real",
          include: ["test/real/**/*.test.ts"],
          environment: "node",
          pool: "forks",
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          pool: "forks",
          fileParallelism: false,
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
