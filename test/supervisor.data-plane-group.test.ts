// dataPlane.group: only root and the group's members may connect to the
// plugins' stable addresses. Without it any local user may connect (the
// certificate decides who may call), and so may hold a plugin's connection
// slots and handshakes; with it, the directories the addresses lead into
// are 0710, root and the group's.
import { execa } from "execa";
import { existsSync } from "node:fs";
import { copyFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableAddressPath } from "../supervisor/dataplane/stable-address.ts";
import { plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

/** A gid and uids no account of this host has (numbers: /etc/group is not the test's to change). */
const GROUP = 2_051_000;
const MEMBER = 2_051_001;
const OUTSIDER = 2_051_002;

let supervisor: TestSupervisor;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }],
    config: { dataPlane: { group: GROUP } },
  });
});

afterAll(async () => {
  await supervisor?.cleanup();
});

/**
 * What connect(2) to `socket` gives, as uid `uid` with the supplementary
 * groups `groups`: the probe test plugin, copied where any uid may run it
 * (the checkout may not be).
 */
async function connectAs(uid: number, groups: number[], socket: string): Promise<string> {
  const probe = path.join(supervisor.dir, "probe");
  if (!existsSync(probe)) await copyFile(path.join(repoRoot, "build/test-plugins/probe"), probe);
  const ids = ["--reuid", String(uid), "--regid", String(uid), ...(groups.length ? ["--groups", groups.join(",")] : ["--clear-groups"])];
  return (await execa("setpriv", [...ids, "--", probe, "dial-unix", socket])).stdout.trim();
}

describe("dataPlane.group", () => {
  it("makes the directories the stable addresses lead into root's and the group's, 0710", async () => {
    for (const dir of ["instances", "refusals"]) {
      const info = await stat(path.join(supervisor.runtimeDir, dir));
      expect({ dir, mode: (info.mode & 0o7777).toString(8), uid: info.uid, gid: info.gid }).toEqual({ dir, mode: "710", uid: 0, gid: GROUP });
    }
  });

  it("lets the group's members connect to a plugin's stable address, and refuses everyone else", async () => {
    const address = stableAddressPath(supervisor.runtimeDir, "greeter");
    expect((await supervisor.plugin("greeter")).state).toBe("ready");
    expect(await connectAs(MEMBER, [GROUP], address)).toBe("dial-unix: connected");
    expect(await connectAs(OUTSIDER, [], address)).toMatch(/^dial-unix: dial unix \S+: connect: permission denied$/);
  });
});
