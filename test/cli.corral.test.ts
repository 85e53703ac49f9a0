// `corral`'s own command line: what it refuses exits 2 with the usage, as a
// bad config does (1 is a supervisor that failed to start); `corral
// sandbox` refuses with 125, which no command's own status can be taken for.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { corralBin, nodeBin } from "./helpers/supervisor.ts";

const corral = (...args: string[]) => execa(nodeBin, [corralBin, ...args], { reject: false, env: { CORRAL_CONFIG: "/nonexistent/corral.yaml" } });

describe("corral's command line", () => {
  it("refuses an unknown option or command with exit 2 and the usage", async () => {
    for (const args of [["serve", "--bogus"], ["--bogus"], ["bogus"], ["validate", "a.yaml", "b.yaml"]]) {
      const r = await corral(...args);
      expect([args, r.exitCode]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/^error: (unknown option|unknown command|too many arguments)/);
      expect(r.stderr).toContain("Usage: corral");
      expect(r.stdout).toBe("");
    }
  });

  it("exits 0 with help asked for, and 125 for corral sandbox's own refusals", async () => {
    expect((await corral("serve", "--help")).exitCode).toBe(0);
    expect((await corral("--help")).exitCode).toBe(0);
    const sandbox = await corral("sandbox", "--bogus");
    expect(sandbox.exitCode).toBe(125);
    expect(sandbox.stderr).toMatch(/^error: unknown option '--bogus'/);
  });
});
