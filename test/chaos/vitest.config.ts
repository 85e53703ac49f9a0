// `npm run chaos`: the full form of test/chaos (the root config runs its
// short form with every other test). CHAOS_SECONDS (default 60) is how long
// the chaos under load lasts; CHAOS_CYCLES (default 500) how many times the
// crashing plugin is restarted.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."),
  test: {
    include: ["test/chaos/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
    env: {
      CHAOS_FORM: "full",
      CHAOS_SECONDS: process.env.CHAOS_SECONDS ?? "60",
      CHAOS_CYCLES: process.env.CHAOS_CYCLES ?? "500",
    },
  },
});
