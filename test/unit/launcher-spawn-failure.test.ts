// A launcher that cannot even be spawned (the supervisor out of fds) ends
// its launch with a setup failure naming why, instead of throwing: the
// warm spare's refill, which launches in the background, threw once and
// took the supervisor with every plugin down.
import { execa } from "execa";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeBin, repoRoot } from "../helpers/supervisor.ts";

describe("a launcher spawn that fails", () => {
  it("ends the launch with a setup failure at stage spawn, naming the error", async () => {
    const script = path.join(repoRoot, "test/helpers/launch-without-fds.ts");
    const r = await execa("prlimit", ["--nofile=200:200", nodeBin, script], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      code: 125,
      error: { stage: "spawn", message: expect.stringMatching(/^the launcher could not be started: spawn .* EMFILE$/) },
    });
  });
});
