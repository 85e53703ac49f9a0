// Whether the supervisor warns that plugins may swap beyond their memory
// limits: only with swap on the host and no swap accounting in cgroups.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { swapUnlimited } from "../../sandbox/cgroups/swap.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-swap-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function meminfo(swapKiB: number): Promise<string> {
  const file = path.join(dir, `meminfo-${swapKiB}`);
  await writeFile(file, `MemTotal:       24000000 kB\nSwapTotal:      ${String(swapKiB).padStart(8)} kB\nSwapFree:       0 kB\n`);
  return file;
}

describe("swapUnlimited", () => {
  it("says so only with swap on the host and no swap accounting", async () => {
    const accounted = { limitsSwap: async () => true };
    const unaccounted = { limitsSwap: async () => false };
    expect(await swapUnlimited(unaccounted, await meminfo(1024))).toEqual({ swapBytes: 1024 * 1024 });
    expect(await swapUnlimited(accounted, await meminfo(1024))).toBeUndefined();
    expect(await swapUnlimited(unaccounted, await meminfo(0))).toBeUndefined();
    expect(await swapUnlimited(unaccounted, path.join(dir, "no-such-file"))).toBeUndefined();
  });
});
