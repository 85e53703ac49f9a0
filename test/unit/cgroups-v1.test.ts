// The cgroup v1 driver against a temporary directory that behaves like
// cgroupfs v1: mkdir makes control files, rmdir refuses a cgroup with
// processes, and "processes" are pids listed in cgroup.procs that die when
// killed. Real cgroups are covered by test/sandbox.launcher.test.ts and
// test/sandbox.cgroups-v1.test.ts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, detectCgroups, TMPFS_MAGIC, type V1Hierarchy } from "../../sandbox/cgroups/detect.ts";
import { nodeCgroupFs, type CgroupFs } from "../../sandbox/cgroups/fs.ts";
import { V1CgroupDriver } from "../../sandbox/cgroups/v1.ts";

const UNLIMITED = "9223372036854771712";

/** Control files a new cgroup gets, by the controllers of its hierarchy. */
const CONTROL_FILES: Record<string, Record<string, string>> = {
  memory: {
    "memory.limit_in_bytes": UNLIMITED,
    "memory.memsw.limit_in_bytes": UNLIMITED,
    "memory.kmem.tcp.limit_in_bytes": UNLIMITED,
    "memory.usage_in_bytes": "1048576",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "memory.failcnt": "0",
  },
  cpu: { "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1" },
  cpuacct: { "cpuacct.usage": "2500000" },
  pids: { "pids.max": "max", "pids.events": "max 0\n" },
  freezer: { "freezer.state": "THAWED" },
};

class FakeCgroupFs implements CgroupFs {
  readonly root: string;
  /** Hierarchy directory name (e.g. "cpu,cpuacct") -> its controllers. */
  readonly hierarchies: Map<string, string[]>;
  readonly writes: Array<[string, string]> = [];
  readonly killed: number[] = [];
  /** A pid that, killed, is replaced by this one (a fork racing the kill). */
  readonly respawn = new Map<number, number>();
  withoutSwapAccounting = false;
  busyRmdirs = 0;

  constructor(root: string, hierarchies: Map<string, string[]>) {
    this.root = root;
    this.hierarchies = hierarchies;
  }

  readFile = (p: string) => readFile(p, "utf8");
  // Regular files re-read at offset 0 behave as control files do.
  open = nodeCgroupFs.open;

  async writeFile(p: string, data: string): Promise<void> {
    if (!existsSync(p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    this.writes.push([path.relative(this.root, p), data]);
    await writeFile(p, data);
  }

  exists = async (p: string) => existsSync(p);

  async mkdir(p: string): Promise<void> {
    await mkdir(p);
    const hierarchy = path.relative(this.root, p).split(path.sep)[0]!;
    const files: Record<string, string> = { "cgroup.procs": "" };
    for (const controller of this.hierarchies.get(hierarchy) ?? []) Object.assign(files, CONTROL_FILES[controller]);
    if (this.withoutSwapAccounting) delete files["memory.memsw.limit_in_bytes"];
    for (const [name, value] of Object.entries(files)) await writeFile(path.join(p, name), value);
  }

  async rmdir(p: string): Promise<void> {
    if (!existsSync(p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    const busy = (await this.subdirs(p)).length > 0 || (await readFile(path.join(p, "cgroup.procs"), "utf8").catch(() => "")).trim() !== "";
    if (busy || this.busyRmdirs-- > 0) throw Object.assign(new Error(`EBUSY: ${p}`), { code: "EBUSY" });
    await rm(p, { recursive: true });
  }

  subdirs = async (p: string) => (await readdir(p, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);

  kill(pid: number): boolean {
    this.killed.push(pid);
    const replacement = this.respawn.get(pid);
    this.respawn.delete(pid);
    this.#replaceEverywhere(pid, replacement); // synchronously, as if SIGKILL were instant
    return true;
  }

  /** Sets the processes of a cgroup in every hierarchy. */
  async setProcs(relDirs: string[], pids: number[]): Promise<void> {
    for (const dir of relDirs) await writeFile(path.join(this.root, dir, "cgroup.procs"), pids.map((p) => `${p}\n`).join(""));
  }

  #replaceEverywhere(pid: number, replacement: number | undefined): void {
    for (const file of this.#procsFiles(this.root)) {
      const pids = readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
      if (!pids.includes(pid)) continue;
      const next = pids.filter((p) => p !== pid);
      if (replacement !== undefined) next.push(replacement);
      writeFileSync(file, next.map((p) => `${p}\n`).join(""));
    }
  }

  #procsFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return this.#procsFiles(p);
      return e.name === "cgroup.procs" ? [p] : [];
    });
  }
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "corral-cgroupfs-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Lays out hierarchies like /sys/fs/cgroup and the process's own cgroup in each. */
async function layout(hierarchies: Record<string, string>, own = "/") {
  const fs = new FakeCgroupFs(root, new Map(Object.keys(hierarchies).map((h) => [h, hierarchies[h]!.split(",")])));
  const controllers: Record<string, V1Hierarchy> = {};
  for (const [dir, list] of Object.entries(hierarchies)) {
    const mount = path.join(root, dir);
    await mkdir(path.join(mount, own), { recursive: true });
    for (const c of list.split(",")) controllers[c] = { mount, own: path.join(mount, own) };
  }
  return { fs, controllers };
}

const SEPARATE = { memory: "memory", cpu: "cpu", cpuacct: "cpuacct", pids: "pids", freezer: "freezer" };
const LIMITS = { memoryBytes: 256 * 1024 * 1024, swapBytes: 0, pids: 64, cpu: 1.5 };

describe("cgroup v1 driver", () => {
  it("creates the instance beneath the parent in every hierarchy and writes the limits", async () => {
    const { fs, controllers } = await layout(SEPARATE, "/process_api/abc");
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("greeter-1a2b3c", LIMITS);

    const dir = (h: string) => `${h}/process_api/abc/corral/greeter-1a2b3c`;
    expect(cgroup.procsFiles).toEqual(["memory", "cpu", "cpuacct", "pids", "freezer"].map((h) => path.join(root, dir(h), "cgroup.procs")));
    // Hierarchies are written concurrently; within one, the order matters
    // (memory before memsw, period before quota).
    const inOrder = (h: string) => fs.writes.filter(([file]) => file.startsWith(`${dir(h)}/`));
    expect(inOrder("memory")).toEqual([
      [`${dir("memory")}/memory.limit_in_bytes`, String(256 * 1024 * 1024)],
      [`${dir("memory")}/memory.memsw.limit_in_bytes`, String(256 * 1024 * 1024)],
      // TCP buffers, which v1 charges only under a limit of their own.
      [`${dir("memory")}/memory.kmem.tcp.limit_in_bytes`, String(256 * 1024 * 1024)],
    ]);
    expect(inOrder("pids")).toEqual([[`${dir("pids")}/pids.max`, "64"]]);
    expect(inOrder("cpu")).toEqual([
      [`${dir("cpu")}/cpu.cfs_period_us`, "100000"],
      [`${dir("cpu")}/cpu.cfs_quota_us`, "150000"],
    ]);
    expect(fs.writes).toHaveLength(6);
    expect(await cgroup.readLimits()).toEqual({ ...LIMITS, swapBytes: 0 });
    expect(await cgroup.usage()).toEqual({ memoryBytes: 1048576, cpuMicros: 2500, oomKills: 0 });
    // Nanoseconds pass 2^53 after 104 CPU-days (52 days of a plugin on two
    // cores): still counted to the microsecond, never Infinity.
    await writeFile(path.join(root, dir("cpuacct"), "cpuacct.usage"), "9007201000000123\n");
    expect(await cgroup.usage()).toEqual({ memoryBytes: 1048576, cpuMicros: 9007201000000, oomKills: 0 });
    expect(await driver.list()).toEqual(["greeter-1a2b3c"]);
  });

  it("uses one directory for controllers that share a hierarchy, and works without freezer", async () => {
    const { fs, controllers } = await layout({ memory: "memory", "cpu,cpuacct": "cpu,cpuacct", pids: "pids" });
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("one", LIMITS);
    expect(cgroup.procsFiles.map((f) => path.relative(root, f))).toEqual([
      "memory/corral/one/cgroup.procs",
      "cpu,cpuacct/corral/one/cgroup.procs",
      "pids/corral/one/cgroup.procs",
    ]);
    await fs.setProcs(["memory/corral/one", "cpu,cpuacct/corral/one", "pids/corral/one"], [101]);
    await cgroup.killAll();
    expect(fs.killed).toEqual([101]);
  });

  it("says whether the kernel accounts swap, so that a limit holds swap too", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    expect(await new V1CgroupDriver({ controllers, parent: "corral", fs }).limitsSwap()).toBe(true);
    fs.withoutSwapAccounting = true;
    expect(await new V1CgroupDriver({ controllers, parent: "other", fs }).limitsSwap()).toBe(false);
  });

  it("writes unlimited values and skips swap where the kernel has no swap accounting", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    fs.withoutSwapAccounting = true;
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("free", { memoryBytes: Infinity, swapBytes: 0, pids: Infinity, cpu: Infinity });
    expect(fs.writes.map(([file, value]) => [path.basename(file), value]).sort()).toEqual([
      ["cpu.cfs_period_us", "100000"],
      ["cpu.cfs_quota_us", "-1"],
      ["memory.kmem.tcp.limit_in_bytes", "-1"],
      ["memory.limit_in_bytes", "-1"],
      ["pids.max", "max"],
    ]);
    await writeFile(path.join(root, "memory/corral/free/memory.limit_in_bytes"), UNLIMITED);
    expect(await cgroup.readLimits()).toEqual({ memoryBytes: Infinity, swapBytes: null, pids: Infinity, cpu: Infinity });
  });

  it("sets the CPU limit alone, lifted and put back", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("spinner", LIMITS);
    fs.writes.length = 0;
    await cgroup.setCpu(Infinity);
    expect((await cgroup.readLimits()).cpu).toBe(Infinity);
    await cgroup.setCpu(0.5);
    expect(await cgroup.readLimits()).toEqual({ ...LIMITS, swapBytes: 0, cpu: 0.5 });
    expect(fs.writes.map(([file, value]) => [path.basename(file), value])).toEqual([
      ["cpu.cfs_period_us", "100000"],
      ["cpu.cfs_quota_us", "-1"],
      ["cpu.cfs_period_us", "100000"],
      ["cpu.cfs_quota_us", "50000"],
    ]);
    await expect(cgroup.setCpu(0)).rejects.toThrow("invalid cpu limit 0");
  });

  it("rejects bad names and limits, and needs memory, cpu, cpuacct and pids", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    await expect(driver.create("../escape", LIMITS)).rejects.toThrow(/invalid cgroup name/);
    await expect(driver.create("a/b", LIMITS)).rejects.toThrow(/invalid cgroup name/);
    await expect(driver.create("ok", { ...LIMITS, pids: 0 })).rejects.toThrow(/pids/);
    await expect(driver.create("ok", { ...LIMITS, cpu: 0 })).rejects.toThrow(/cpu/);
    const { pids: _, ...withoutPids } = controllers;
    expect(() => new V1CgroupDriver({ controllers: withoutPids, parent: "corral", fs })).toThrow(/pids/);
  });

  it("removes what it created when setting a limit fails", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const write = fs.writeFile.bind(fs);
    fs.writeFile = async (p, data) => {
      if (p.endsWith("pids.max")) throw Object.assign(new Error("EINVAL"), { code: "EINVAL" });
      return write(p, data);
    };
    await expect(driver.create("broken", LIMITS)).rejects.toThrow(/EINVAL/);
    expect(await driver.list()).toEqual([]);
    for (const h of Object.keys(SEPARATE)) expect(await fs.subdirs(path.join(root, h, "corral"))).toEqual([]);
  });

  it("kills until the cgroup is empty, frozen while it kills", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("busy", LIMITS);
    const dirs = Object.keys(SEPARATE).map((h) => `${h}/corral/busy`);
    await fs.setProcs(dirs, [10, 11]);
    fs.respawn.set(11, 12); // 11 forked 12 before it died
    await cgroup.killAll();
    expect(fs.killed).toEqual([10, 11, 12]);
    expect(await cgroup.pids()).toEqual([]);
    const freezerWrites = fs.writes.filter(([file]) => file.endsWith("freezer.state")).map(([, v]) => v);
    expect(freezerWrites).toEqual(["FROZEN", "THAWED", "FROZEN", "THAWED"]);
  });

  it("gives up killing after the timeout", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs, timeoutMs: 100 });
    const cgroup = await driver.create("stuck", LIMITS);
    fs.kill = () => true; // nothing dies
    await fs.setProcs(["memory/corral/stuck"], [42]);
    await expect(cgroup.killAll()).rejects.toThrow(/still has processes 42/);
    await fs.setProcs(["memory/corral/stuck"], []);
  });

  it("removes an empty cgroup with one rmdir per hierarchy, reading no pids and killing nothing", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("ended", LIMITS);
    const reads: string[] = [];
    const readFile = fs.readFile.bind(fs);
    fs.readFile = (p: string) => (reads.push(p), readFile(p));
    await cgroup.remove();
    expect(reads.filter((p) => p.endsWith("cgroup.procs"))).toEqual([]);
    expect(fs.killed).toEqual([]);
    expect(await driver.list()).toEqual([]);
    await cgroup.remove(); // idempotent
  });

  it("remove kills what still runs in the cgroup before it removes it", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("running", LIMITS);
    await fs.setProcs(Object.keys(SEPARATE).map((h) => `${h}/corral/running`), [20, 21]);
    await cgroup.remove();
    expect(fs.killed).toEqual([20, 21]);
    expect(await driver.list()).toEqual([]);
  });

  it("retries rmdir while the cgroup is busy", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("slow", LIMITS);
    fs.busyRmdirs = 3;
    await cgroup.destroy();
    await cgroup.destroy(); // idempotent
    expect(await driver.list()).toEqual([]);
  });

  it("sweeps leftover instances, killing their processes first, then removes the parent", async () => {
    const { fs, controllers } = await layout(SEPARATE, "/self");
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    await driver.create("left-1", LIMITS);
    await driver.create("left-2", LIMITS);
    await fs.setProcs(Object.keys(SEPARATE).map((h) => `${h}/self/corral/left-2`), [77, 78]);

    const restarted = new V1CgroupDriver({ controllers, parent: "corral", fs });
    expect(await restarted.sweep()).toEqual(["left-1", "left-2"]);
    expect(fs.killed).toEqual([77, 78]);
    expect(await restarted.list()).toEqual([]);
    expect(existsSync(path.join(root, "memory/self/corral"))).toBe(true);
    await restarted.removeParent();
    for (const h of Object.keys(SEPARATE)) expect(await readdir(path.join(root, h, "self"))).toEqual([]);
  });
});

describe("cgroup v1 events", () => {
  it("reports OOM kills from memory.oom_control, pids-limit hits from pids.events", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("hog", LIMITS);
    expect(await cgroup.events()).toEqual({ oomKills: 0, pidsLimitHits: 0 });
    await writeFile(path.join(root, "memory/corral/hog/memory.oom_control"), "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n");
    await writeFile(path.join(root, "memory/corral/hog/memory.failcnt"), "1234\n"); // not a kill count
    await writeFile(path.join(root, "pids/corral/hog/pids.events"), "max 7\n");
    expect(await cgroup.events()).toEqual({ oomKills: 3, pidsLimitHits: 7 });
  });

  it("counts nothing the kernel does not report (no oom_kill line before 4.13, no pids.events before 4.4)", async () => {
    const { fs, controllers } = await layout({ memory: "memory", "cpu,cpuacct": "cpu,cpuacct", pids: "pids" });
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("old", LIMITS);
    await writeFile(path.join(root, "memory/corral/old/memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n");
    await rm(path.join(root, "pids/corral/old/pids.events"));
    expect(await cgroup.events()).toEqual({ oomKills: 0, pidsLimitHits: 0 });
  });

  it("fails once the cgroup is gone: events are read before destroy", async () => {
    const { fs, controllers } = await layout(SEPARATE);
    const driver = new V1CgroupDriver({ controllers, parent: "corral", fs });
    const cgroup = await driver.create("gone", LIMITS);
    await cgroup.destroy();
    await expect(cgroup.events()).rejects.toThrow(/ENOENT/);
  });
});

describe("cgroup detection", () => {
  const V1_MOUNTINFO = [
    "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
    "31 25 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
    "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/with\\040space rw,relatime - cgroup cgroup rw,freezer",
  ].join("\n");
  const V1_SELF = "12:pids:/user.slice\n11:memory:/docker/abc/inner\n4:cpu,cpuacct:/\n3:freezer:/f\n1:name=systemd:/init.scope\n";

  it("finds v1 hierarchies and the process's own cgroup in each", async () => {
    expect(await detectCgroups({ mountinfo: V1_MOUNTINFO, selfCgroup: V1_SELF, fsType: TMPFS_MAGIC })).toEqual({
      mode: "v1",
      controllers: {
        cpu: { mount: "/sys/fs/cgroup/cpu,cpuacct", own: "/sys/fs/cgroup/cpu,cpuacct" },
        cpuacct: { mount: "/sys/fs/cgroup/cpu,cpuacct", own: "/sys/fs/cgroup/cpu,cpuacct" },
        memory: { mount: "/sys/fs/cgroup/memory", own: "/sys/fs/cgroup/memory/inner" },
        pids: { mount: "/sys/fs/cgroup/pids", own: "/sys/fs/cgroup/pids/user.slice" },
        freezer: { mount: "/sys/fs/cgroup/with space", own: "/sys/fs/cgroup/with space/f" },
      },
    });
  });

  it("tells hybrid from v1 and v2 by statfs, and honours another root", async () => {
    const hybrid = `${V1_MOUNTINFO}\n42 31 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
    expect((await detectCgroups({ mountinfo: hybrid, selfCgroup: V1_SELF, fsType: TMPFS_MAGIC })).mode).toBe("hybrid");
    const other = "50 1 0:40 / /tmp/cg rw - tmpfs tmpfs rw\n51 50 0:41 / /tmp/cg/memory rw - cgroup cgroup rw,memory\n";
    expect(await detectCgroups({ root: "/tmp/cg", mountinfo: other, selfCgroup: "2:memory:/x\n", fsType: TMPFS_MAGIC })).toEqual({
      mode: "v1",
      controllers: { memory: { mount: "/tmp/cg/memory", own: "/tmp/cg/memory/x" } },
    });
    await expect(detectCgroups({ root: "/nowhere", mountinfo: other, selfCgroup: "" })).rejects.toThrow(/no cgroup filesystem at \/nowhere \(ENOENT\)/);
    await expect(detectCgroups({ mountinfo: other, selfCgroup: "", fsType: 0xef53 })).rejects.toThrow(/no cgroup filesystem .*type 0xef53/);
    await expect(detectCgroups({ mountinfo: other, selfCgroup: "", fsType: CGROUP_SUPER_MAGIC })).rejects.toThrow(/single cgroup v1 hierarchy/);
  });

  it("detects this host as it is (statfs and /proc/self)", async () => {
    const layout = await detectCgroups();
    const type = (await statfs("/sys/fs/cgroup")).type;
    expect(layout.mode === "v2").toBe(type === CGROUP2_SUPER_MAGIC);
    if (layout.mode !== "v2") expect(layout.controllers.memory?.own).toMatch(/^\/sys\/fs\/cgroup\/memory/);
  });
});
