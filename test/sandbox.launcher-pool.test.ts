// The launcher pool keeps one launcher warm and hands it out; closing it
// leaves nothing running. Real launchers, real namespaces.
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CgroupDriver } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { LauncherPool, type SandboxIds } from "../sandbox/launcher-pool.ts";
import type { SandboxSpec } from "../sandbox/spec.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const LAUNCHER = path.join(REPO, "build/bin/corral-sandbox");
const PROBE = path.join(REPO, "build/test-plugins/probe");
const BASE_UID = 210_000 + (process.pid % 1000) * 10;

let driver: CgroupDriver;
let dir: string;
let pools: LauncherPool[];
let released: SandboxIds[];

beforeEach(async () => {
  driver = await openCgroupDriver({ parent: `corral-test-${process.pid}-${randomBytes(3).toString("hex")}` });
  dir = await mkdtemp(path.join(tmpdir(), "corral-pool-"));
  await chmod(dir, 0o711);
  pools = [];
  released = [];
});

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await driver.removeParent();
  await rm(dir, { recursive: true, force: true });
});

function pool(warm = true, withCgroups = false): LauncherPool {
  let next = BASE_UID;
  const p = new LauncherPool({
    launcherPath: LAUNCHER,
    allocateIds: () => ({ uid: next, gid: next++ }),
    releaseIds: (ids) => released.push(ids),
    warm,
    ...(withCgroups && { cgroups: driver }),
  });
  p.warm();
  pools.push(p);
  return p;
}

async function spec(ids: SandboxIds, name: string, args: string[]): Promise<SandboxSpec> {
  const instanceDir = path.join(dir, name);
  await mkdir(instanceDir);
  await chown(instanceDir, ids.uid, ids.gid);
  const cgroup = await driver.create(name, { memoryBytes: 64 * 1024 * 1024, swapBytes: 0, pids: 64, cpu: 1 });
  return {
    binary: PROBE,
    args,
    env: {},
    instanceDir,
    hostname: name,
    uid: ids.uid,
    gid: ids.gid,
    workspaceBytes: 1024 * 1024,
    cgroupProcs: cgroup.procsFiles,
    network: "none",
    readOnlyPaths: [],
    stdin: "null",
    rlimits: { nofile: 256, nproc: 64, fsizeBytes: 16 * 1024 * 1024 },
  };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("launcher pool", () => {
  it("hands out the warm spare, which runs the spec it is given", async () => {
    const launchers = pool();
    await until(() => launchers.sparePid !== undefined);
    const spare = launchers.sparePid!;
    const slot = launchers.acquire();
    expect(slot.ids).toEqual({ uid: BASE_UID, gid: BASE_UID });
    const sandbox = slot.launch(spec(slot.ids, "one", ["exit", "3"]));
    expect(sandbox.pid).toBe(spare);
    expect(await sandbox.exited).toEqual({ code: 3 });
    // A new spare follows, with new ids.
    await until(() => launchers.sparePid !== undefined && launchers.sparePid !== spare);
  });

  it("places a spare's init in a cgroup of its own before any spec, which the taker adopts", async () => {
    const launchers = pool(true, true);
    await until(() => launchers.sparePid !== undefined);
    const spareNames = await driver.list();
    expect(spareNames).toHaveLength(1);
    expect(spareNames[0]).toMatch(/^spare-[0-9a-f]{8}$/);
    const placed = driver.open(spareNames[0]!);
    // Its init settles there alone (the launcher's thread passes through
    // while it clones, and moves back), before any spec exists.
    let pids: number[] = [];
    const deadline = Date.now() + 3000;
    const settled = (p: number[]) => p.length === 1 && !p.includes(launchers.sparePid!);
    while (!settled((pids = await placed.pids())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(pids).toHaveLength(1);
    expect(pids).not.toContain(launchers.sparePid);

    const slot = launchers.acquire();
    expect(slot.cgroup?.name).toBe(spareNames[0]);
    await slot.cgroup!.setLimits({ memoryBytes: 48 * 1024 * 1024, swapBytes: 0, pids: 20, cpu: 0.5 });
    const base = await spec(slot.ids, "adopted", ["exit", "4"]);
    const sandbox = slot.launch(Promise.resolve({ ...base, cgroupProcs: slot.cgroup!.procsFiles }));
    expect(await sandbox.exited).toEqual({ code: 4 });
    expect((await slot.cgroup!.readLimits()).pids).toBe(20);
  });

  it("a spare's cgroup goes when the pool closes", async () => {
    const launchers = pool(true, true);
    await until(() => launchers.sparePid !== undefined);
    expect(await driver.list()).toHaveLength(1);
    await launchers.close();
    expect(await driver.list()).toEqual([]);
  });

  it("starts cold when no spare is ready, or when told not to keep one", async () => {
    const launchers = pool(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(launchers.sparePid).toBeUndefined();
    const slot = launchers.acquire();
    const sandbox = slot.launch(spec(slot.ids, "cold", ["exit", "0"]));
    expect((await sandbox.started).pid).toBeGreaterThan(0);
    expect(await sandbox.exited).toEqual({ code: 0 });
  });

  it("a spare whose spec fails to be prepared reports it and ends", async () => {
    const launchers = pool();
    await until(() => launchers.sparePid !== undefined);
    const slot = launchers.acquire();
    const sandbox = slot.launch(Promise.reject(new Error("no certificate")));
    expect(await sandbox.exited).toMatchObject({ error: { stage: "prepare", message: "no certificate" } });
    await expect(sandbox.started).rejects.toThrow("sandbox setup failed at prepare: no certificate");
  });

  it("close kills the spare and gives its ids back", async () => {
    const launchers = pool();
    await until(() => launchers.sparePid !== undefined);
    const spare = launchers.sparePid!;
    expect(alive(spare)).toBe(true);
    await launchers.close();
    expect(alive(spare)).toBe(false);
    expect(released).toEqual([{ uid: BASE_UID, gid: BASE_UID }]);
    expect(() => launchers.acquire()).toThrow("launcher pool is closed");
  });
});
