// The cgroup v2 driver and the supervisor's delegation against a temporary
// directory that behaves like cgroupfs v2: mkdir makes the control files of
// the controllers the parent enables, subtree_control enforces "no internal
// processes", writing a pid to cgroup.procs moves it (and is recorded),
// cgroup.kill and cgroup.freeze act on the fake's "processes".
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareV2Delegation } from "../../sandbox/cgroups/delegation.ts";
import { CGROUP2_SUPER_MAGIC, detectCgroups } from "../../sandbox/cgroups/detect.ts";
import { nodeCgroupFs, type CgroupFs } from "../../sandbox/cgroups/fs.ts";
import { openCgroupDriver } from "../../sandbox/cgroups/open.ts";
import { V2CgroupDriver } from "../../sandbox/cgroups/v2.ts";

const ALL_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc";

function errno(code: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${p}`), { code });
}

/** Control files a new cgroup gets, by the controllers its parent enables. */
function controlFiles(controller: string, withoutSwap: boolean): Record<string, string> {
  switch (controller) {
    case "memory":
      return {
        "memory.max": "max",
        ...(withoutSwap ? {} : { "memory.swap.max": "max" }),
        "memory.current": "0",
        "memory.oom.group": "0",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
      };
    case "pids":
      return { "pids.max": "max", "pids.current": "0", "pids.events": "max 0\n" };
    case "cpu":
      return { "cpu.max": "max 100000", "cpu.weight": "100" };
    default:
      return {};
  }
}

class FakeV2Fs implements CgroupFs {
  readonly root: string;
  readonly writes: Array<[string, string]> = [];
  /** [pid, cgroup it was moved to (relative to root)]. */
  readonly moves: Array<[number, string]> = [];
  readonly killed: number[] = [];
  /** A pid that, killed, is replaced by this one (a fork racing the kill). */
  readonly respawn = new Map<number, number>();
  withoutKillFile = false;
  withoutSwap = false;
  busyRmdirs = 0;

  constructor(root: string) {
    this.root = root;
  }

  /** The root cgroup: every controller available, no cgroup.type. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const files = { "cgroup.controllers": ALL_CONTROLLERS, "cgroup.subtree_control": "", "cgroup.procs": "", "cpu.stat": "usage_usec 0\n" };
    for (const [name, value] of Object.entries(files)) await writeFile(path.join(this.root, name), value);
  }

  readFile = (p: string) => readFile(p, "utf8");
  // Regular files re-read at offset 0 behave as control files do.
  open = nodeCgroupFs.open;
  exists = async (p: string) => existsSync(p);
  subdirs = async (p: string) => (await readdir(p, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);

  async mkdir(p: string): Promise<void> {
    await mkdir(p);
    const enabled = this.#words(path.join(path.dirname(p), "cgroup.subtree_control"));
    const files: Record<string, string> = {
      "cgroup.procs": "",
      "cgroup.type": "domain",
      "cgroup.controllers": enabled.join(" "),
      "cgroup.subtree_control": "",
      "cgroup.events": "populated 0\nfrozen 0\n",
      "cgroup.freeze": "0",
      ...(this.withoutKillFile ? {} : { "cgroup.kill": "" }),
      "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    };
    for (const c of enabled) Object.assign(files, controlFiles(c, this.withoutSwap));
    for (const [name, value] of Object.entries(files)) await writeFile(path.join(p, name), value);
  }

  async writeFile(p: string, data: string): Promise<void> {
    if (!existsSync(p)) throw errno("ENOENT", p);
    const dir = path.dirname(p);
    this.writes.push([this.rel(p), data]);
    switch (path.basename(p)) {
      case "cgroup.procs":
        return this.#move(Number(data), dir);
      case "cgroup.subtree_control":
        return this.#subtreeControl(dir, data);
      case "cgroup.kill":
        for (const file of this.#procsFiles(dir)) {
          this.killed.push(...this.#procs(file));
          writeFileSync(file, "");
        }
        return;
      case "cgroup.freeze":
        writeFileSync(p, data);
        writeFileSync(path.join(dir, "cgroup.events"), `populated 1\nfrozen ${data}\n`);
        return;
      default:
        writeFileSync(p, data);
    }
  }

  async rmdir(p: string): Promise<void> {
    if (!existsSync(p)) throw errno("ENOENT", p);
    const busy = (await this.subdirs(p)).length > 0 || this.#procs(path.join(p, "cgroup.procs")).length > 0;
    if (busy || this.busyRmdirs-- > 0) throw errno("EBUSY", p);
    await rm(p, { recursive: true });
  }

  kill(pid: number): boolean {
    this.killed.push(pid);
    const replacement = this.respawn.get(pid);
    this.respawn.delete(pid);
    for (const file of this.#procsFiles(this.root)) {
      const pids = this.#procs(file);
      if (!pids.includes(pid)) continue;
      const next = pids.filter((p) => p !== pid);
      if (replacement !== undefined) next.push(replacement);
      writeFileSync(file, next.map((p) => `${p}\n`).join(""));
    }
    return true;
  }

  /** Makes a cgroup (relative to the root) with processes in it, as the host would have it. */
  async cgroup(rel: string, pids: number[] = []): Promise<string> {
    const dir = path.join(this.root, rel);
    if (!existsSync(dir)) await this.mkdir(dir);
    writeFileSync(path.join(dir, "cgroup.procs"), pids.map((p) => `${p}\n`).join(""));
    return dir;
  }

  rel(p: string): string {
    return path.relative(this.root, p);
  }

  pidsIn(rel: string): number[] {
    return this.#procs(path.join(this.root, rel, "cgroup.procs"));
  }

  #isRoot(dir: string): boolean {
    return !existsSync(path.join(dir, "cgroup.type"));
  }

  #move(pid: number, dir: string): void {
    // No internal processes: a (non-root) cgroup that enables controllers takes none.
    if (!this.#isRoot(dir) && this.#words(path.join(dir, "cgroup.subtree_control")).length > 0) throw errno("EBUSY", dir);
    for (const file of this.#procsFiles(this.root)) {
      const pids = this.#procs(file).filter((p) => p !== pid);
      if (path.dirname(file) === dir) pids.push(pid);
      writeFileSync(file, pids.map((p) => `${p}\n`).join(""));
    }
    this.moves.push([pid, this.rel(dir)]);
  }

  #subtreeControl(dir: string, data: string): void {
    const available = this.#words(path.join(dir, "cgroup.controllers"));
    const enabled = new Set(this.#words(path.join(dir, "cgroup.subtree_control")));
    for (const word of data.split(/\s+/).filter(Boolean)) {
      const controller = word.slice(1);
      if (!available.includes(controller)) throw errno("ENOENT", `${dir}: ${controller}`);
      if (word.startsWith("+")) enabled.add(controller);
      else enabled.delete(controller);
    }
    if (!this.#isRoot(dir) && enabled.size > 0 && this.#procs(path.join(dir, "cgroup.procs")).length > 0) throw errno("EBUSY", dir);
    writeFileSync(path.join(dir, "cgroup.subtree_control"), [...enabled].join(" "));
    for (const child of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const childDir = path.join(dir, child.name);
      writeFileSync(path.join(childDir, "cgroup.controllers"), [...enabled].join(" "));
      for (const c of enabled) {
        for (const [name, value] of Object.entries(controlFiles(c, this.withoutSwap))) {
          if (!existsSync(path.join(childDir, name))) writeFileSync(path.join(childDir, name), value);
        }
      }
    }
  }

  #words(file: string): string[] {
    return readFileSync(file, "utf8").split(/\s+/).filter(Boolean);
  }

  #procs(file: string): number[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
  }

  #procsFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return this.#procsFiles(p);
      return e.name === "cgroup.procs" ? [p] : [];
    });
  }
}

let tmp: string;
let fs: FakeV2Fs;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "corral-cgroupfs-v2-"));
  fs = new FakeV2Fs(path.join(tmp, "cgroup"));
  await fs.init();
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const LIMITS = { memoryBytes: 256 * 1024 * 1024, swapBytes: 0, pids: 64, cpu: 1.5 };
const SUPERVISOR_PID = 4242;

/**
 * The supervisor's delegated cgroup, as systemd makes one with Delegate=yes:
 * the controllers available, the supervisor in it, and (once delegated) in
 * its leaf.
 */
async function delegated(): Promise<string> {
  await fs.writeFile(path.join(fs.root, "cgroup.subtree_control"), "+memory +pids +cpu +io");
  await fs.cgroup("system.slice");
  await fs.writeFile(path.join(fs.root, "system.slice/cgroup.subtree_control"), "+memory +pids +cpu");
  const own = await fs.cgroup("system.slice/corral.service", [SUPERVISOR_PID]);
  await prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID });
  fs.writes.length = 0;
  fs.moves.length = 0;
  return own;
}

describe("cgroup v2 driver", () => {
  it("creates the instance beneath the parent, enabling the controllers there, and writes the limits", async () => {
    const base = await delegated();
    const driver = new V2CgroupDriver({ base, parent: "corral", fs });
    const cgroup = await driver.create("greeter-1a2b3c", LIMITS);

    const dir = "system.slice/corral.service/corral/greeter-1a2b3c";
    expect(cgroup.procsFiles).toEqual([path.join(fs.root, dir, "cgroup.procs")]);
    expect(fs.writes.sort()).toEqual(
      [
        ["system.slice/corral.service/corral/cgroup.subtree_control", "+memory +pids +cpu"],
        [`${dir}/memory.max`, String(256 * 1024 * 1024)],
        [`${dir}/memory.swap.max`, "0"],
        // An OOM kill ends the whole instance.
        [`${dir}/memory.oom.group`, "1"],
        [`${dir}/pids.max`, "64"],
        [`${dir}/cpu.max`, "150000 100000"],
      ].sort(),
    );
    expect(await cgroup.readLimits()).toEqual(LIMITS);
    expect(await driver.list()).toEqual(["greeter-1a2b3c"]);

    // A second instance: the parent is ready already.
    fs.writes.length = 0;
    await driver.create("greeter-2", { ...LIMITS, cpu: 0.001 });
    expect(fs.writes.map(([f]) => path.basename(f)).sort()).toEqual(["cpu.max", "memory.max", "memory.oom.group", "memory.swap.max", "pids.max"]);
    expect(fs.writes.find(([f]) => f.endsWith("cpu.max"))?.[1]).toBe("1000 100000"); // the kernel's minimum quota
  });

  it("creates instances concurrently, enabling the controllers once", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    await Promise.all(["a", "b", "c"].map((n) => driver.create(n, LIMITS)));
    expect(await driver.list()).toEqual(["a", "b", "c"]);
    expect(fs.writes.filter(([f]) => f.endsWith("subtree_control"))).toHaveLength(1);
  });

  it("says whether the kernel accounts swap, so that a limit holds swap too", async () => {
    expect(await new V2CgroupDriver({ base: await delegated(), parent: "corral", fs }).limitsSwap()).toBe(true);
    fs.withoutSwap = true;
    expect(await new V2CgroupDriver({ base: await delegated(), parent: "other", fs }).limitsSwap()).toBe(false);
  });

  it("writes unlimited values, and reports no swap limit where the kernel has no swap accounting", async () => {
    fs.withoutSwap = true;
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("free", { memoryBytes: Infinity, swapBytes: Infinity, pids: Infinity, cpu: Infinity });
    expect(fs.writes.filter(([f]) => f.includes("/free/")).map(([f, v]) => [path.basename(f), v]).sort()).toEqual([
      ["cpu.max", "max 100000"],
      ["memory.max", "max"],
      ["memory.oom.group", "1"],
      ["pids.max", "max"],
    ]);
    expect(await cgroup.readLimits()).toEqual({ memoryBytes: Infinity, swapBytes: null, pids: Infinity, cpu: Infinity });
  });

  it("sets the CPU limit alone, lifted and put back", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("spinner", LIMITS);
    fs.writes.length = 0;
    await cgroup.setCpu(Infinity);
    expect((await cgroup.readLimits()).cpu).toBe(Infinity);
    await cgroup.setCpu(0.5);
    expect(await cgroup.readLimits()).toEqual({ ...LIMITS, cpu: 0.5 });
    expect(fs.writes.map(([f, v]) => [path.basename(f), v])).toEqual([
      ["cpu.max", "max 100000"],
      ["cpu.max", "50000 100000"],
    ]);
    await expect(cgroup.setCpu(-1)).rejects.toThrow("invalid cpu limit -1");
  });

  it("reads usage from memory.current and cpu.stat", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("used", LIMITS);
    await writeFile(path.join(cgroup.dir, "memory.current"), "1048576\n");
    await writeFile(path.join(cgroup.dir, "cpu.stat"), "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 3\n");
    expect(await cgroup.usage()).toEqual({ memoryBytes: 1048576, cpuMicros: 2500, oomKills: 0 });
    // The files stay open between samples: each sample reads them as they are now.
    const fdsOpen = readdirSync("/proc/self/fd").length;
    await writeFile(path.join(cgroup.dir, "memory.current"), "2097152\n");
    await writeFile(path.join(cgroup.dir, "cpu.stat"), "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\nnr_periods 30\n");
    expect(await cgroup.usage()).toEqual({ memoryBytes: 2097152, cpuMicros: 1234567, oomKills: 0 });
    expect(readdirSync("/proc/self/fd").length).toBe(fdsOpen);
    await cgroup.destroy();
    expect(readdirSync("/proc/self/fd").length).toBe(fdsOpen - 3);
    await expect(cgroup.usage()).rejects.toThrow(/being destroyed/);
  });

  it("reports OOM kills and pids-limit hits from memory.events and pids.events", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("hog", LIMITS);
    expect(await cgroup.events()).toEqual({ oomKills: 0, pidsLimitHits: 0 });
    await writeFile(path.join(cgroup.dir, "memory.events"), "low 0\nhigh 0\nmax 17\noom 2\noom_kill 2\noom_group_kill 0\n");
    await writeFile(path.join(cgroup.dir, "pids.events"), "max 5\n");
    expect(await cgroup.events()).toEqual({ oomKills: 2, pidsLimitHits: 5 });
    // Newer kernels add lines (pids.events "max.imposed"); only the known ones count.
    await writeFile(path.join(cgroup.dir, "pids.events"), "max 6\nmax.imposed 9\n");
    expect((await cgroup.events()).pidsLimitHits).toBe(6);
  });

  it("refuses with a clear error when the controllers are not delegated, leaving nothing behind", async () => {
    await fs.cgroup("user.slice");
    const own = await fs.cgroup("user.slice/session", []);
    const driver = new V2CgroupDriver({ base: own, parent: "corral", fs });
    await expect(driver.create("x", LIMITS)).rejects.toThrow(/controllers memory, pids, cpu are not available in .*corral/);
    expect(await readdir(own, { withFileTypes: true }).then((e) => e.filter((d) => d.isDirectory()))).toEqual([]);
  });

  it("rejects bad names and limits, and removes the instance when a limit cannot be written", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    await expect(driver.create("../escape", LIMITS)).rejects.toThrow(/invalid cgroup name/);
    await expect(driver.create("ok", { ...LIMITS, memoryBytes: 0 })).rejects.toThrow(/memory/);
    const write = fs.writeFile.bind(fs);
    fs.writeFile = async (p, data) => {
      if (p.endsWith("pids.max")) throw errno("EINVAL", p);
      return write(p, data);
    };
    await expect(driver.create("broken", LIMITS)).rejects.toThrow(/EINVAL/);
    expect(await driver.list()).toEqual([]);
  });

  it("kills with cgroup.kill and waits until the cgroup is empty", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("busy", LIMITS);
    await fs.cgroup("system.slice/corral.service/corral/busy", [10, 11]);
    await cgroup.killAll();
    expect(fs.writes.filter(([f]) => f.endsWith("cgroup.kill"))).toEqual([["system.slice/corral.service/corral/busy/cgroup.kill", "1"]]);
    expect(fs.killed).toEqual([10, 11]);
    expect(await cgroup.pids()).toEqual([]);
    await cgroup.killAll(); // nothing left: no write
    expect(fs.writes.filter(([f]) => f.endsWith("cgroup.kill"))).toHaveLength(1);
  });

  it("without cgroup.kill, signals each process while the cgroup is frozen", async () => {
    fs.withoutKillFile = true;
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("old-kernel", LIMITS);
    await fs.cgroup("system.slice/corral.service/corral/old-kernel", [10, 11]);
    fs.respawn.set(11, 12); // 11 forked 12 before it died
    await cgroup.killAll();
    expect(fs.killed).toEqual([10, 11, 12]);
    expect(fs.writes.filter(([f]) => f.endsWith("cgroup.freeze")).map(([, v]) => v)).toEqual(["1", "0", "1", "0"]);
  });

  it("gives up killing after the timeout", async () => {
    fs.withoutKillFile = true;
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs, timeoutMs: 100 });
    const cgroup = await driver.create("stuck", LIMITS);
    fs.kill = () => true; // nothing dies
    await fs.cgroup("system.slice/corral.service/corral/stuck", [42]);
    await expect(cgroup.killAll()).rejects.toThrow(/still has processes 42/);
    await fs.cgroup("system.slice/corral.service/corral/stuck", []);
  });

  it("removes an empty cgroup with one rmdir, killing nothing; a busy one is killed first", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const ended = await driver.create("ended", LIMITS);
    await ended.remove();
    expect(fs.writes.filter(([f]) => f.endsWith("cgroup.kill"))).toEqual([]);
    await ended.remove(); // idempotent
    const running = await driver.create("running", LIMITS);
    await fs.cgroup("system.slice/corral.service/corral/running", [30]);
    await running.remove();
    expect(fs.writes.filter(([f]) => f.endsWith("cgroup.kill"))).toEqual([["system.slice/corral.service/corral/running/cgroup.kill", "1"]]);
    expect(fs.killed).toEqual([30]);
    expect(await driver.list()).toEqual([]);
  });

  it("retries rmdir while the cgroup is busy; destroy is idempotent", async () => {
    const driver = new V2CgroupDriver({ base: await delegated(), parent: "corral", fs });
    const cgroup = await driver.create("slow", LIMITS);
    fs.busyRmdirs = 3;
    await cgroup.destroy();
    await cgroup.destroy();
    expect(await driver.list()).toEqual([]);
  });

  it("sweeps leftover instances, killing their processes first, then removes the parent", async () => {
    const base = await delegated();
    const driver = new V2CgroupDriver({ base, parent: "corral", fs });
    await driver.create("left-1", LIMITS);
    await driver.create("left-2", LIMITS);
    await fs.cgroup("system.slice/corral.service/corral/left-2", [77, 78]);

    const restarted = new V2CgroupDriver({ base, parent: "corral", fs });
    expect(await restarted.sweep()).toEqual(["left-1", "left-2"]);
    expect(fs.killed).toEqual([77, 78]);
    expect(await restarted.list()).toEqual([]);
    expect(existsSync(restarted.parentDir)).toBe(true);
    await restarted.removeParent();
    expect(await fs.subdirs(base)).toEqual(["supervisor"]);
    await restarted.removeParent(); // idempotent
    // And usable again after.
    await restarted.create("again", LIMITS);
    expect(await restarted.list()).toEqual(["again"]);
  });
});

describe("cgroup v2 delegation", () => {
  async function service(pids: number[]): Promise<string> {
    await fs.writeFile(path.join(fs.root, "cgroup.subtree_control"), "+memory +pids +cpu");
    return fs.cgroup("corral.service", pids);
  }

  it("moves the supervisor into a leaf and enables the controllers in its former cgroup", async () => {
    const own = await service([SUPERVISOR_PID]);
    const delegation = await prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID });
    expect(delegation).toEqual({ base: own, leaf: path.join(own, "supervisor"), moved: true });
    expect(fs.moves).toEqual([[SUPERVISOR_PID, "corral.service/supervisor"]]);
    expect(fs.pidsIn("corral.service")).toEqual([]);
    expect(fs.pidsIn("corral.service/supervisor")).toEqual([SUPERVISOR_PID]);
    expect((await readFile(path.join(own, "cgroup.subtree_control"), "utf8")).split(" ").sort()).toEqual(["cpu", "memory", "pids"]);

    // Opened again (the same process, or one it started): /proc/self/cgroup
    // now names the leaf, whose parent is the base; nothing moves.
    const again = await prepareV2Delegation({ own: delegation.leaf, fs, pid: SUPERVISOR_PID });
    expect(again).toEqual({ base: own, leaf: delegation.leaf, moved: false });
    expect(fs.moves).toHaveLength(1);
  });

  it("is what openCgroupDriver does on a v2 host: instances become the supervisor's siblings", async () => {
    const own = await service([SUPERVISOR_PID]);
    const layout = { mode: "v2" as const, mount: fs.root, own };
    const driver = await openCgroupDriver({ parent: "corral", layout, fs, pid: SUPERVISOR_PID });
    expect(driver.version).toBe("v2");
    const cgroup = await driver.create("one", LIMITS);
    expect(cgroup.procsFiles).toEqual([path.join(own, "corral/one/cgroup.procs")]);
    expect((await fs.subdirs(own)).sort()).toEqual(["corral", "supervisor"]);
    // The launcher writes the init's pid there: allowed, the instance is a leaf.
    await fs.writeFile(cgroup.procsFiles[0]!, "5000");
    expect(await cgroup.pids()).toEqual([5000]);
    await driver.removeParent();
    expect(await fs.subdirs(own)).toEqual(["supervisor"]);
  });

  it("refuses, changing nothing, when the cgroup holds other processes", async () => {
    const own = await service([SUPERVISOR_PID, 99, 100]);
    await expect(prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID })).rejects.toThrow(/holds processes 99 100 besides the supervisor \(4242\)/);
    expect(fs.moves).toEqual([]);
    expect(await fs.subdirs(own)).toEqual([]);
    expect(await readFile(path.join(own, "cgroup.subtree_control"), "utf8")).toBe("");
  });

  it("refuses before moving when the controllers are not delegated", async () => {
    await fs.writeFile(path.join(fs.root, "cgroup.subtree_control"), "+memory");
    const own = await fs.cgroup("corral.service", [SUPERVISOR_PID]);
    await expect(prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID })).rejects.toThrow(/pids, cpu are not available/);
    expect(fs.moves).toEqual([]);
    expect(await fs.subdirs(own)).toEqual([]);
  });

  it("moves the supervisor back when enabling the controllers fails", async () => {
    const own = await service([SUPERVISOR_PID]);
    const write = fs.writeFile.bind(fs);
    fs.writeFile = async (p, data) => {
      if (p.endsWith("subtree_control")) throw errno("EOPNOTSUPP", p);
      return write(p, data);
    };
    await expect(prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID })).rejects.toThrow(/EOPNOTSUPP/);
    expect(fs.moves).toEqual([
      [SUPERVISOR_PID, "corral.service/supervisor"],
      [SUPERVISOR_PID, "corral.service"],
    ]);
    expect(fs.pidsIn("corral.service")).toEqual([SUPERVISOR_PID]);
    expect(await fs.subdirs(own)).toEqual([]);
  });

  it("moves nothing in the root cgroup, which may hold processes and children at once, and enables the controllers there, which nothing did without systemd", async () => {
    await fs.cgroup("", [1, SUPERVISOR_PID]);
    expect(await prepareV2Delegation({ own: fs.root, fs, pid: SUPERVISOR_PID })).toEqual({ base: fs.root, leaf: fs.root, moved: false });
    expect(fs.moves).toEqual([]);
    expect(fs.writes).toEqual([["cgroup.subtree_control", "+memory +pids +cpu"]]);
    // And so an instance's cgroup can be made beneath it.
    const cgroup = await new V2CgroupDriver({ base: fs.root, parent: "corral", fs }).create("greeter-1", LIMITS);
    expect(await cgroup.readLimits()).toEqual(LIMITS);
  });

  it("reuses a leaf an earlier supervisor left", async () => {
    const own = await service([SUPERVISOR_PID]);
    await fs.cgroup("corral.service/supervisor", []);
    expect((await prepareV2Delegation({ own, fs, pid: SUPERVISOR_PID })).moved).toBe(true);
    expect(fs.pidsIn("corral.service/supervisor")).toEqual([SUPERVISOR_PID]);
  });
});

describe("cgroup v2 detection", () => {
  it("detects v2 from statfs and finds the process's own cgroup, also in a subtree mount", async () => {
    const mountinfo = "31 25 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
    expect(await detectCgroups({ mountinfo, selfCgroup: "0::/system.slice/corral.service\n", fsType: CGROUP2_SUPER_MAGIC })).toEqual({
      mode: "v2",
      mount: "/sys/fs/cgroup",
      own: "/sys/fs/cgroup/system.slice/corral.service",
    });
    // A container that sees its own subtree at /sys/fs/cgroup (no cgroup namespace).
    const container = "31 25 0:28 /docker/abc /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
    expect(await detectCgroups({ mountinfo: container, selfCgroup: "0::/docker/abc/app\n", fsType: CGROUP2_SUPER_MAGIC })).toMatchObject({
      own: "/sys/fs/cgroup/app",
    });
    await expect(detectCgroups({ mountinfo, selfCgroup: "1:memory:/\n", fsType: CGROUP2_SUPER_MAGIC })).rejects.toThrow(/no cgroup v2 entry/);
  });
});
