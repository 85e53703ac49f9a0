// dataPlane.group: only root and the group's members may connect to the
// plugins' stable addresses. Without it any local user may connect (the
// certificate decides who may call), and so may hold a plugin's connection
// slots and handshakes; with it, the directories the addresses lead into
// are 0710, root and the group's.
import { execa } from "execa";
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableAddressPath } from "../supervisor/dataplane/stable-address.ts";
import { corralBin, corralctl, nodeBin, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

/** A gid and uids no account of this host has (numbers: /etc/group is not the test's to change). */
const GROUP = 2_051_000;
const MEMBER = 2_051_001;
const OUTSIDER = 2_051_002;

let supervisor: TestSupervisor;

beforeAll(async () => {
  supervisor = await TestSupervisor.create({
    plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }],
    config: { dataPlane: { group: GROUP } },
  });
  // Made before, by hand or another tool, for root only: the start gives
  // each its owner and mode whatever it found.
  for (const dir of ["plugins", "instances", "refusals"]) await mkdir(path.join(supervisor.runtimeDir, dir), { recursive: true, mode: 0o700 });
  await supervisor.start();
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

/** The data plane's directories' modes and owners. */
async function dataPlaneDirs() {
  return Promise.all(
    ["plugins", "instances", "refusals"].map(async (dir) => {
      const info = await stat(path.join(supervisor.runtimeDir, dir));
      return { dir, mode: (info.mode & 0o7777).toString(8), uid: info.uid, gid: info.gid };
    }),
  );
}

const WITH_GROUP = [
  { dir: "plugins", mode: "755", uid: 0, gid: 0 },
  { dir: "instances", mode: "710", uid: 0, gid: GROUP },
  { dir: "refusals", mode: "710", uid: 0, gid: GROUP },
];

describe("dataPlane.group", () => {
  it("makes the directories the stable addresses lead into root's and the group's, 0710, and the addresses' own anyone's to read", async () => {
    expect(await dataPlaneDirs()).toEqual(WITH_GROUP);
  });

  it("lets the group's members connect to a plugin's stable address, and refuses everyone else", async () => {
    const address = stableAddressPath(supervisor.runtimeDir, "greeter");
    expect((await supervisor.plugin("greeter")).state).toBe("ready");
    expect(await connectAs(MEMBER, [GROUP], address)).toBe("dial-unix: connected");
    expect(await connectAs(OUTSIDER, [], address)).toMatch(/^dial-unix: dial unix \S+: connect: permission denied$/);
  });

  it("is left alone by a second supervisor of the same config, which the state directory's lock refuses", async () => {
    const second = await execa(nodeBin, [corralBin, "serve", "--config", supervisor.configFile], { reject: false, timeout: 30_000 });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/another Corral supervisor \(pid \d+\) uses the state directory/);
    expect(await dataPlaneDirs()).toEqual(WITH_GROUP);
    expect(await connectAs(OUTSIDER, [], stableAddressPath(supervisor.runtimeDir, "greeter"))).toMatch(/permission denied$/);
  });

  it("keeps to the group when the refusals directory was removed and is made again", async () => {
    const address = stableAddressPath(supervisor.runtimeDir, "greeter");
    await rm(path.join(supervisor.runtimeDir, "refusals"), { recursive: true });
    const again = supervisor.waitForLog((l) => l.msg === "the refusal server's socket was gone: it listens again");
    expect((await corralctl(["--config", supervisor.configFile, "stop", "greeter"])).code).toBe(0);
    await again;
    expect(await dataPlaneDirs()).toEqual(WITH_GROUP);
    expect(await connectAs(MEMBER, [GROUP], address)).toBe("dial-unix: connected");
    expect(await connectAs(OUTSIDER, [], address)).toMatch(/permission denied$/);
    expect((await corralctl(["--config", supervisor.configFile, "start", "greeter"])).code).toBe(0);
  });

  it("makes the stable addresses' directory again when it was removed, and the address leads to the plugin again", async () => {
    const address = stableAddressPath(supervisor.runtimeDir, "greeter");
    await rm(path.join(supervisor.runtimeDir, "plugins"), { recursive: true });
    expect((await corralctl(["--config", supervisor.configFile, "restart", "greeter"])).code).toBe(0);
    for (let i = 0; i < 100 && !existsSync(address); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await dataPlaneDirs()).toEqual(WITH_GROUP);
    expect(await connectAs(MEMBER, [GROUP], address)).toBe("dial-unix: connected");
  });
});
