import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests start real sandboxes, plugins and cgroups: give them
    // room, and keep each file in its own process so a leak in one cannot hide
    // behind another's cleanup.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
